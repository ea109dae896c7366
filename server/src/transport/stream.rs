//! The one streaming loop behind SSE and WebSocket.
//!
//! Every decision a stream makes — new events, the instructor's delay, drop,
//! shutdown, falling behind the history, keep-alive, a dead peer — is made
//! here, in a task of its own. Made inside a body that hyper polls, it waited
//! for the client: hyper stops polling once the socket is full, so a stalled
//! reader survived drops, expiry and shutdown. Every write here waits at most
//! the slow-consumer limit, and gives way to a stop while it waits.

use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt as _;
use pushlab::{ServerMsg, Transport};
use serde_json::Value;
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep_until, timeout};

use super::{BATCH, Stop, stop_signal};
use super::{Published, Read};
use crate::AppState;
use crate::messages;
use crate::stats::ConnGuard;

/// How a stream ended; its channel turns this into a close code, or a cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Shutdown,
    Dropped,
    /// Its cursor fell out of the history: it resumes with a reset.
    FellBehind,
    /// A write was not taken within the slow-consumer limit.
    TooSlow,
    /// The client went away, or stopped answering pings.
    Gone,
    /// The client sent a close: it is echoed.
    ClientClosed,
    TooBig,
    BadUtf8,
}

impl From<Stop> for End {
    fn from(s: Stop) -> Self {
        match s {
            Stop::Shutdown => End::Shutdown,
            Stop::Dropped => End::Dropped,
        }
    }
}

/// What a client said. An SSE client says nothing; it only goes away.
#[derive(Debug)]
pub enum Said {
    Resume(Option<String>),
    Chat {
        text: String,
        from: Option<String>,
    },
    Ping(Value),
    /// A message that could not be read; answered with an `error`, the stream goes on.
    Bad(String),
    /// A protocol ping or pong: proof of life only.
    Nothing,
    End(End),
}

/// The written bytes on success; `Err` when the client is gone.
pub type Sent = Result<u64, ()>;

/// One transport's side of a stream: how it writes and what it hears.
pub trait Channel: Send + 'static {
    const TRANSPORT: Transport;
    /// Whether silence means a dead peer (a WebSocket answers pings; SSE cannot).
    const HEARS: bool;
    fn frame_len(e: &Published) -> usize;
    fn events(&mut self, events: Vec<Arc<Published>>) -> impl Future<Output = Sent> + Send;
    fn message(&mut self, msg: &ServerMsg) -> impl Future<Output = Sent> + Send;
    fn keep_alive(&mut self) -> impl Future<Output = Sent> + Send;
    fn said(&mut self) -> impl Future<Output = Said> + Send;
    fn close(self, end: End) -> impl Future<Output = ()> + Send;
}

/// Where a stream starts, and who it is for.
pub struct Start {
    /// `None` until a WebSocket's first `resume`: no events before it.
    pub after: Option<u64>,
    pub peer: IpAddr,
    pub keep_alive: Duration,
    pub open: ConnGuard,
}

/// What woke the loop when it was not writing.
enum Woke {
    Said(Said),
    Tick,
}

/// Runs a stream until it ends, then closes its channel.
pub async fn run<C: Channel>(app: AppState, mut ch: C, start: Start) {
    let t = C::TRANSPORT;
    let slow = app.config.slow_client();
    let Start { mut after, peer, keep_alive, open: _open } = start;
    let mut head = app.hub.subscribe();
    let mut stop = std::pin::pin!(stop_signal(&app, t));
    let mut tick = interval_at(Instant::now() + keep_alive, keep_alive);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    // Set while the instructor's delay holds the oldest unsent event.
    let mut due_at: Option<Instant> = None;
    // A resume is refused until the socket has caught up to the head it was made at:
    // 200 resumes on one socket once made the server write 175 MB in 6 s.
    let mut catch_up_to = 0u64;
    let end = 'stream: loop {
        // Set when a batch went out: what the client said meanwhile, and a ping
        // that is due, are taken without waiting, so a catch-up or a busy stream
        // neither hides the client's messages nor starves the dead-peer check.
        let mut wrote = false;
        if let (None, Some(cursor)) = (due_at, after) {
            head.borrow_and_update();
            match app.hub.read(cursor, BATCH) {
                Read::Expired(_) => break End::FellBehind,
                Read::Events(mut events) if !events.is_empty() => {
                    // The delay is read once per batch: the events due by now go; the rest
                    // come with a later read.
                    let delay_us = app.control.delay_us();
                    let now = crate::hub::now_us();
                    let due = events.iter().take_while(|e| e.sent_at_us + delay_us <= now).count();
                    if due == 0 {
                        let left = (events[0].sent_at_us + delay_us - now).max(0) as u64;
                        due_at = Some(Instant::now() + Duration::from_micros(left));
                    } else {
                        events.truncate(due);
                        let (n, last) = (events.len() as u64, events.last().map(|e| e.seq));
                        let bytes: u64 = events.iter().map(|e| C::frame_len(e) as u64).sum();
                        match write(stop.as_mut(), slow, ch.events(events)).await {
                            Ok(_) => app.stats.delivered(t, n, bytes),
                            Err(end) => break end,
                        }
                        after = last.or(after);
                        // A keep-alive is owed to silence only; a ping is owed regardless.
                        if !C::HEARS {
                            tick.reset();
                        }
                        wrote = true;
                    }
                }
                Read::Events(_) => {}
            }
        }
        let woke = if wrote {
            match (ch.said().now_or_never(), tick.tick().now_or_never()) {
                (Some(said), _) => Woke::Said(said),
                (None, Some(_)) => Woke::Tick,
                (None, None) => continue,
            }
        } else {
            tokio::select! {
                biased;
                why = stop.as_mut() => break End::from(why),
                said = ch.said() => Woke::Said(said),
                _ = sleep_until(due_at.unwrap_or_else(Instant::now)), if due_at.is_some() => {
                    due_at = None;
                    continue;
                }
                changed = head.changed(), if after.is_some() && due_at.is_none() => {
                    if changed.is_err() {
                        break End::Shutdown;
                    }
                    continue;
                }
                _ = tick.tick() => Woke::Tick,
            }
        };
        let said = match woke {
            Woke::Said(said) => said,
            Woke::Tick => {
                // Pings go out every period, so a live peer is heard from within one.
                if C::HEARS && last_heard.elapsed() > 2 * keep_alive {
                    break End::Gone;
                }
                match write(stop.as_mut(), slow, ch.keep_alive()).await {
                    Ok(bytes) => app.stats.bytes(t, bytes),
                    Err(end) => break end,
                }
                continue;
            }
        };
        last_heard = Instant::now();
        let reply = match said {
            Said::End(end) => break end,
            Said::Nothing => continue,
            Said::Ping(nonce) => ServerMsg::Pong { nonce },
            Said::Bad(message) => ServerMsg::Error { message },
            Said::Chat { text, from } => match messages::publish(&app, peer, &text, from.as_deref()) {
                Ok(_) => continue, // it comes back as a chat:message event
                Err(e) => ServerMsg::Error { message: e.to_string() },
            },
            Said::Resume(_) if after.is_some_and(|a| a < catch_up_to) => ServerMsg::Error {
                message: "a catch-up is still running on this socket: resume once it is done".into(),
            },
            Said::Resume(cursor) => match app.hub.resume(cursor.as_deref()) {
                Ok(start) => {
                    after = Some(start.after);
                    catch_up_to = app.hub.head();
                    due_at = None;
                    match start.reset {
                        Some(notice) => ServerMsg::Reset(notice),
                        None => continue,
                    }
                }
                Err(e) => ServerMsg::Error { message: e.to_string() },
            },
        };
        match write(stop.as_mut(), slow, ch.message(&reply)).await {
            Ok(bytes) => app.stats.bytes(t, bytes),
            Err(end) => break 'stream end,
        }
    };
    if end == End::TooSlow {
        app.stats.cut_off(t);
    }
    ch.close(end).await;
}

/// One write: done, the client gone, too slow, or a stop that came first.
async fn write(
    stop: Pin<&mut impl Future<Output = Stop>>,
    slow: Duration,
    send: impl Future<Output = Sent>,
) -> Result<u64, End> {
    tokio::select! {
        biased;
        why = stop => Err(why.into()),
        sent = timeout(slow, send) => match sent {
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(())) => Err(End::Gone),
            Err(_) => Err(End::TooSlow),
        },
    }
}
