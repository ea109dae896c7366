//! An upgraded WebSocket's socket as a middlebox treats it. Every accepted
//! socket is wrapped; a WebSocket arms its wrapper once upgraded, and only an
//! armed one ever looks at the faults.
//!
//! - `ws-dies`: `after_ms` after the later of the upgrade and the fault's
//!   switch-on, everything is dropped both ways — writes "succeed" and go
//!   nowhere, what the client sends is read and thrown away, no close goes
//!   out. When the server gives up on the socket, it is kept open and silent
//!   until the client leaves (at most [`LIMBO`]), as the middlebox would keep
//!   the client's side: only the client's heartbeat can tell.
//! - `idle-cut`: a socket with no byte either way for `after_s` fails, and
//!   its connection closes.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use pushlab::{Fault, FaultName, Transport};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Sleep, sleep_until};
use tokio_util::sync::CancellationToken;

use super::{idle_deadline, instant_at, on, since};
use crate::control::Control;
use crate::hub::now_us;

/// Longest a dead socket is held open after the server let go of it.
pub const LIMBO: Duration = Duration::from_secs(120);

/// Set once, when the socket became a WebSocket.
pub struct Armed {
    control: Control,
    opened_us: i64,
    shutdown: CancellationToken,
}

/// The switch a WebSocket handler turns (through the connection's handle).
pub type Arm = Arc<OnceLock<Armed>>;

/// Arms `arm`: from now on the WebSocket faults act on its socket.
pub fn arm(arm: &Arm, control: Control, shutdown: CancellationToken) {
    let _ = arm.set(Armed { control, opened_us: now_us(), shutdown });
}

pub struct FaultyIo {
    /// `None` only once handed to the limbo, on drop.
    inner: Option<TcpStream>,
    arm: Arm,
    last_io_us: i64,
    idle: Option<Pin<Box<Sleep>>>,
    /// Once dead, dead for good: a dropped connection does not come back.
    dead: bool,
    /// The client closed its side: nothing to hold open.
    peer_left: bool,
}

impl FaultyIo {
    pub fn new(inner: TcpStream, arm: Arm) -> Self {
        FaultyIo { inner: Some(inner), arm, last_io_us: now_us(), idle: None, dead: false, peer_left: false }
    }

    fn tcp(&mut self) -> Pin<&mut TcpStream> {
        Pin::new(self.inner.as_mut().expect("taken only on drop"))
    }

    /// Whether `ws-dies` has struck this socket, now.
    fn dies(&mut self) -> bool {
        if self.dead {
            return true;
        }
        let Some(a) = self.arm.get() else { return false };
        let now = now_us();
        self.dead = a.control.with(|s| match on(s, FaultName::WsDies, Transport::Ws) {
            Some(Fault::WsDies { after_ms }) => {
                now >= since(a.control.fault_since(FaultName::WsDies), a.opened_us) + after_ms as i64 * 1000
            }
            _ => false,
        });
        if self.dead {
            tracing::debug!("ws-dies: the socket goes silent");
        }
        self.dead
    }

    /// A read found nothing: whether the idle cut is due, or a wake when it will be.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some(a) = self.arm.get() else { return Poll::Pending };
        let Some(at) = idle_deadline(&a.control, Transport::Ws, a.opened_us, self.last_io_us) else {
            self.idle = None;
            return Poll::Pending;
        };
        let cut = || Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "idle-cut: nothing either way")));
        if at <= now_us() {
            return cut();
        }
        let deadline = instant_at(at);
        let sleep = self.idle.get_or_insert_with(|| Box::pin(sleep_until(deadline)));
        sleep.as_mut().reset(deadline);
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => cut(),
            Poll::Pending => Poll::Pending,
        }
    }

    fn wrote(&mut self, n: usize) {
        if n > 0 && self.arm.get().is_some() {
            self.last_io_us = now_us();
        }
    }
}

impl AsyncRead for FaultyIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.arm.get().is_none() {
            return this.tcp().poll_read(cx, buf);
        }
        if this.dies() {
            // Read and thrown away: the client's messages, pings included, go nowhere.
            let mut scratch = [0u8; 2048];
            loop {
                let mut rb = ReadBuf::new(&mut scratch);
                ready!(this.tcp().poll_read(cx, &mut rb))?;
                if rb.filled().is_empty() {
                    this.peer_left = true;
                    return Poll::Ready(Ok(()));
                }
            }
        }
        let before = buf.filled().len();
        match this.tcp().poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    this.last_io_us = now_us();
                } else if r.is_ok() {
                    this.peer_left = true;
                }
                Poll::Ready(r)
            }
            Poll::Pending => this.poll_idle(cx),
        }
    }
}

impl AsyncWrite for FaultyIo {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.arm.get().is_some() && this.dies() {
            return Poll::Ready(Ok(buf.len()));
        }
        let n = ready!(this.tcp().poll_write(cx, buf))?;
        this.wrote(n);
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.arm.get().is_some() && this.dies() {
            return Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum()));
        }
        let n = ready!(this.tcp().poll_write_vectored(cx, bufs))?;
        this.wrote(n);
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.as_ref().is_some_and(|t| t.is_write_vectored())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.dead {
            return Poll::Ready(Ok(()));
        }
        this.tcp().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.dead {
            return Poll::Ready(Ok(())); // no FIN: the middlebox drops it too
        }
        this.tcp().poll_shutdown(cx)
    }
}

impl Drop for FaultyIo {
    fn drop(&mut self) {
        if !self.dead || self.peer_left {
            return;
        }
        let (Some(tcp), Some(a)) = (self.inner.take(), self.arm.get()) else { return };
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(limbo(tcp, a.shutdown.clone()));
        }
    }
}

/// Holds a dead socket open and silent until the client leaves, [`LIMBO`] passes, or the server stops.
async fn limbo(mut tcp: TcpStream, shutdown: CancellationToken) {
    let drain = async {
        let mut buf = [0u8; 1024];
        while let Ok(1..) = tcp.read(&mut buf).await {}
    };
    tokio::select! {
        _ = drain => {}
        _ = tokio::time::sleep(LIMBO) => {}
        _ = shutdown.cancelled() => {}
    }
}
