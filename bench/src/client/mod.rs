//! The four clients, one module each. Each runs until told to stop (or until
//! it has seen its share of events), reconnecting and resuming from its cursor
//! after a failure, and fills in its [`Tally`].

pub mod long_poll;
pub mod nchan;
pub mod poll;
pub mod sse;
pub mod stalled;
pub mod ws;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pushlab::{Cursor, Envelope, PollResponse, Transport};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::LoadError;
use crate::http::{self, Conn};
use crate::tally::Tally;
use crate::wire::Target;

/// Pause before reconnecting after a failure.
pub const RETRY: Duration = Duration::from_millis(250);

/// The protocol the server speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// docs/PROTOCOL.md §4: pushlab itself, the Node peers, anyone's implementation of it.
    Pushlab,
    /// nginx + nchan's subscriber and publisher endpoints (`/sub`, `/pub`).
    Nchan,
}

/// What every client shares.
pub struct Ctx {
    /// The server, and how to connect to it.
    pub target: Target,
    pub protocol: Protocol,
    /// Where every client starts: the stream's head when the run began, so
    /// per-event figures count live events, not the last 20 a new client is sent.
    pub start_cursor: Option<String>,
    /// Server clock minus local clock, µs (0 on one machine).
    pub offset_us: i64,
    pub stop: CancellationToken,
    /// Stop after this many events per client.
    pub max_events: Option<u64>,
    /// Events seen by all clients so far (the progress line).
    pub progress: Arc<AtomicU64>,
    pub poll_interval: Duration,
    pub long_poll_timeout_ms: u64,
    /// Reconnect storms: a client counts itself in `caught_up` once it sees a seq past this.
    pub catch_up_seq: AtomicU64,
    pub caught_up: AtomicU64,
}

impl Ctx {
    pub fn latency_us(&self, sent_at_us: i64) -> i64 {
        now_us() + self.offset_us - sent_at_us
    }

    pub fn done(&self, t: &Tally) -> bool {
        self.stop.is_cancelled() || self.max_events.is_some_and(|m| t.events >= m)
    }

    pub fn on_event(&self, t: &mut Tally, env: &Envelope) {
        let mark = self.catch_up_seq.load(Relaxed);
        if mark > 0 && env.seq > mark && t.caught_up_to < mark {
            t.caught_up_to = mark;
            self.caught_up.fetch_add(1, Relaxed);
        }
        let before = t.events;
        t.event(&env.id, env.seq, env.sent_at_us, self.latency_us(env.sent_at_us));
        self.progress.fetch_add(t.events - before, Relaxed);
    }

    /// Applies a polling answer: a reset first, then the events.
    pub fn on_poll(&self, t: &mut Tally, body: &PollResponse) {
        if body.reset {
            let cursor = match body.events.first().and_then(|e| Cursor::from_str_opt(&e.id)) {
                Some(c) => Cursor::new(c.epoch, c.seq.saturating_sub(1)).to_string(),
                None => body.cursor.clone(),
            };
            t.reset(&cursor);
        }
        if body.events.is_empty() {
            t.empty += 1;
            t.cursor = Some(body.cursor.clone());
        }
        for env in &body.events {
            self.on_event(t, env);
        }
    }
}

pub fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64)
}

/// Runs one client of transport `t` to the end; its bytes read are counted in `read`.
pub async fn run(transport: Transport, ctx: &Ctx, read: Arc<AtomicU64>) -> Tally {
    let mut t = Tally::default();
    t.since_us = now_us() + ctx.offset_us;
    if let Some(c) = &ctx.start_cursor {
        t.start_at(c);
    }
    let res = match (ctx.protocol, transport) {
        (Protocol::Nchan, _) => nchan::run(transport, ctx, &mut t, read.clone()).await,
        (Protocol::Pushlab, _) => pushlab(transport, ctx, &mut t, read.clone()).await,
    };
    if let Err(e) = res {
        t.error = Some(e.to_string());
    }
    t.bytes_read = read.load(Relaxed);
    t
}

async fn pushlab(transport: Transport, ctx: &Ctx, t: &mut Tally, read: Arc<AtomicU64>) -> Result<(), LoadError> {
    match transport {
        Transport::Poll => poll::run(ctx, t, read).await,
        Transport::LongPoll => long_poll::run(ctx, t, read).await,
        Transport::Sse => sse::run(ctx, t, read).await,
        Transport::Ws => ws::run(ctx, t, read).await,
    }
}

/// After a failure: give up if the client never connected, else wait and retry.
pub async fn retry(ctx: &Ctx, t: &mut Tally, err: LoadError) -> Result<(), LoadError> {
    if !t.connected {
        return Err(err);
    }
    t.reconnects += 1;
    tokio::select! {
        _ = tokio::time::sleep(RETRY) => Ok(()),
        _ = ctx.stop.cancelled() => Ok(()),
    }
}

/// A streaming client's life: `$once` holds one connection until it ends; an
/// error waits and retries, a stream the server ended counts a reconnect
/// (a drop, or too slow), and either way the client comes back from its cursor.
/// A macro, not a function taking an async closure: that closure's future
/// borrows the tally, and tokio::spawn cannot prove such a future `Send`.
macro_rules! reconnecting {
    ($ctx:expr, $t:expr, $once:expr) => {{
        while !$ctx.done($t) {
            match $once.await {
                Err(e) => $crate::client::retry($ctx, $t, e).await?,
                Ok(()) if !$ctx.done($t) => $t.reconnects += 1,
                Ok(()) => {}
            }
        }
        Ok(())
    }};
}
pub(crate) use reconnecting;

/// The client's HTTP connection, opened (again) when missing; `None` when that
/// failed and the caller should go round its loop after the retry pause.
pub async fn ensure<'a>(
    ctx: &Ctx,
    t: &mut Tally,
    slot: &'a mut Option<Conn>,
    read: &Arc<AtomicU64>,
) -> Result<Option<&'a mut Conn>, LoadError> {
    if slot.is_none() {
        match http::connect(&ctx.target, read.clone()).await {
            Ok(c) => *slot = Some(c),
            Err(e) => {
                retry(ctx, t, e).await?;
                return Ok(None);
            }
        }
    }
    Ok(slot.as_mut())
}

pub fn after(t: &Tally) -> &str {
    t.cursor.as_deref().unwrap_or("")
}
