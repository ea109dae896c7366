//! The accept loop: every connection gets a lifetime, a socket permit and a
//! handle to cut it.
//!
//! `axum::serve` gives hyper no timer, so a request head could take forever
//! and an idle keep-alive connection lived forever. Here hyper has a timer and
//! `header_read_timeout` (in hyper 1.x it also bounds the idle wait between
//! keep-alive requests); accepted sockets are capped as a whole, below the
//! open-file limit; and each connection's task selects on a [`ConnHandle`] a
//! stream fires when its socket has not drained — hyper stops polling a body
//! once the socket is full, so nothing inside the body could end it.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use hyper::server::conn::http1::Builder;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use socket2::{SockRef, TcpKeepalive};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;

use crate::stats::{SocketGuard, Stats};

/// After shutdown starts, connections still open this long are cut: a client
/// that stopped reading must not hold the process past its grace period.
pub const SHUTDOWN_CUT: Duration = Duration::from_secs(2);
/// Files kept free of sockets under the limit: logs, the listener, the binary's own.
pub const RESERVED_FILES: u64 = 256;
/// A peer that stopped acknowledging (unplugged, roamed away) is gone after this.
const USER_TIMEOUT: Duration = Duration::from_secs(30);
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);

/// What every connection is held to.
#[derive(Clone, Debug)]
pub struct Limits {
    pub header_timeout: Duration,
    /// The socket cap, shared by every listener of the process.
    pub sockets: Arc<Semaphore>,
    /// Named in the canned 503 too: every response says which instance wrote it.
    pub instance: String,
}

/// Given to each request (as an extension): cuts its connection at once, and
/// holds the socket's permit for as long as any part of the connection lives
/// (an upgraded WebSocket outlives the HTTP connection that carried it).
#[derive(Clone)]
pub struct ConnHandle {
    cut: CancellationToken,
    _socket: Arc<(OwnedSemaphorePermit, SocketGuard)>,
    /// Turned once the connection is a WebSocket: the faults that act on its socket.
    ws_faults: crate::fault::io::Arm,
    /// HTTP/2: many requests share the connection, so no one of them may cut it.
    h2: bool,
    /// The connection came through TLS.
    tls: bool,
}

impl ConnHandle {
    /// Closes the connection now, whatever hyper is waiting for. Over HTTP/2
    /// it does nothing: the page's other streams share it (a stalled h2
    /// stream holds at most its flow-control window; its body ends on reset).
    pub fn cut(&self) {
        if !self.h2 {
            self.cut.cancel();
        }
    }

    pub fn is_h2(&self) -> bool {
        self.h2
    }

    /// `https` or `http`: what a page on this connection has as its origin's scheme.
    pub fn scheme(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }

    /// The connection became a WebSocket: `ws-dies` and `idle-cut` act on its
    /// socket from now on. Not over HTTP/2, whose socket carries other streams.
    pub fn arm_ws(&self, control: crate::control::Control, shutdown: CancellationToken) {
        if !self.h2 {
            crate::fault::io::arm(&self.ws_faults, control, shutdown);
        }
    }
}

/// The open-file limit (soft), raised to the hard limit first when it is lower.
#[cfg(unix)]
pub fn file_limit() -> Option<u64> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed in.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return None;
        }
        // macOS reports an unlimited hard limit it will not grant: ask for at most 1 << 20.
        let want = lim.rlim_max.min(1 << 20);
        if lim.rlim_cur < want {
            let raised = libc::rlimit { rlim_cur: want, rlim_max: lim.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim = raised;
            }
        }
    }
    #[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux only
    Some(lim.rlim_cur as u64)
}

#[cfg(not(unix))]
pub fn file_limit() -> Option<u64> {
    None
}

/// The socket cap when none is configured: the file limit less what the process needs besides.
pub fn default_max_sockets(file_limit: Option<u64>) -> usize {
    file_limit.map_or(10_000, |l| l.saturating_sub(RESERVED_FILES).max(16)) as usize
}

/// Serves `router` on `listener` until `shutdown`; returns once every connection is closed.
/// With `tls`, each connection is HTTPS, HTTP/2 or HTTP/1.1 as ALPN says.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    stats: Stats,
    shutdown: CancellationToken,
    tls: Option<TlsAcceptor>,
) -> io::Result<()> {
    // The socket cap is the whole process's: every listener takes from one semaphore.
    let sockets = limits.sockets.clone();
    let conns = TaskTracker::new();
    // Plain HTTP is HTTP/1.1 only: hyper-util's auto builder waits for the
    // first bytes (to tell HTTP/2 from 1.1) with no timeout, so a socket that
    // sends nothing was never reaped. HTTP/2 comes with TLS, where ALPN tells.
    let mut builder = Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let mut h2 = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    // RFC 8441: WebSocket over an HTTP/2 stream (extended CONNECT); pings find dead peers.
    h2.timer(TokioTimer::new()).enable_connect_protocol().keep_alive_interval(KEEPALIVE_INTERVAL);
    let protocols = Protocols { h1: builder, h2, tls, handshake_timeout: limits.header_timeout };
    loop {
        let (tcp, peer) = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of files (EMFILE) or a peer gone before accept: keep serving the rest.
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = sockets.clone().try_acquire_owned() else {
            refuse(&tcp, &limits.instance);
            stats.socket_refused();
            continue;
        };
        tune(&tcp);
        let socket = Arc::new((permit, stats.socket()));
        conns.spawn(connection(protocols.clone(), tcp, peer, router.clone(), socket, shutdown.clone()));
    }
    drop(listener);
    conns.close();
    conns.wait().await;
    Ok(())
}

/// How connections are spoken: HTTP/1.1, and with TLS also HTTP/2.
#[derive(Clone)]
struct Protocols {
    h1: Builder,
    h2: hyper::server::conn::http2::Builder<TokioExecutor>,
    tls: Option<TlsAcceptor>,
    handshake_timeout: Duration,
}

/// Drives a hyper connection until it ends, is cut, or shutdown has given it [`SHUTDOWN_CUT`].
macro_rules! drive {
    ($served:expr, $cut:expr, $shutdown:expr) => {{
        let mut served = std::pin::pin!($served);
        tokio::select! {
            _ = served.as_mut() => return,
            _ = $cut.cancelled() => return,
            _ = $shutdown.cancelled() => served.as_mut().graceful_shutdown(),
        }
        // Idle connections close at once; one still answering gets until the cut.
        tokio::select! {
            _ = served => {}
            _ = $cut.cancelled() => {}
            _ = tokio::time::sleep(SHUTDOWN_CUT) => {}
        }
    }};
}

async fn connection(
    p: Protocols,
    tcp: TcpStream,
    peer: SocketAddr,
    router: Router,
    socket: Arc<(OwnedSemaphorePermit, SocketGuard)>,
    shutdown: CancellationToken,
) {
    let arm = crate::fault::io::Arm::default();
    let io = crate::fault::io::FaultyIo::new(tcp, arm.clone());
    let cut = CancellationToken::new();
    let handle_cut = cut.clone();
    let tls = p.tls.is_some();
    let service = move |h2: bool| {
        let conn = ConnHandle { cut: handle_cut.clone(), _socket: socket.clone(), ws_faults: arm.clone(), h2, tls };
        hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            req.extensions_mut().insert(conn.clone());
            router.clone().oneshot(req.map(axum::body::Body::new))
        })
    };
    let Some(acceptor) = p.tls else {
        drive!(p.h1.serve_connection(TokioIo::new(io), service(false)).with_upgrades(), cut, shutdown);
        return;
    };
    // The handshake is held to the header timeout: a socket that says nothing is reaped.
    let tls = tokio::select! {
        done = tokio::time::timeout(p.handshake_timeout, acceptor.accept(io)) => match done {
            Ok(Ok(tls)) => tls,
            Ok(Err(e)) => {
                tracing::debug!("TLS handshake with {peer}: {e}");
                return;
            }
            Err(_) => return,
        },
        _ = shutdown.cancelled() => return,
    };
    if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
        drive!(p.h2.serve_connection(TokioIo::new(tls), service(true)), cut, shutdown);
    } else {
        drive!(p.h1.serve_connection(TokioIo::new(tls), service(false)).with_upgrades(), cut, shutdown);
    }
}

/// Past the socket cap: a canned 503, written only if the socket takes it at
/// once, then closed. No task, no buffer: the point is to hold nothing.
fn refuse(tcp: &TcpStream, instance: &str) {
    const BODY: &str =
        r#"{"error":"too_many_sockets","message":"the server holds as many sockets as it may; try again shortly"}"#;
    let res = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n\
         {}: {instance}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{BODY}",
        pushlab::cluster::INSTANCE_HEADER,
        BODY.len()
    );
    let _ = tcp.try_write(res.as_bytes());
}

/// Small frames go out at once (with Nagle on, a frame written while the
/// previous one is unacknowledged waits for the client's delayed ACK, up to
/// 40 ms); a vanished peer is found by keep-alive probes and the user timeout.
fn tune(tcp: &TcpStream) {
    let _ = tcp.set_nodelay(true);
    let sock = SockRef::from(tcp);
    let _ = sock.set_tcp_keepalive(&TcpKeepalive::new().with_time(KEEPALIVE_IDLE).with_interval(KEEPALIVE_INTERVAL));
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = sock.set_tcp_user_timeout(Some(USER_TIMEOUT));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_socket_cap_leaves_room_under_the_file_limit() {
        assert_eq!(default_max_sockets(Some(20_000)), 19_744);
        assert_eq!(default_max_sockets(Some(100)), 16);
        assert_eq!(default_max_sockets(None), 10_000);
        assert!(file_limit().is_some_and(|l| l > 0));
    }
}
