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
use crate::broker::Broker;
use crate::control::Control;
use crate::stats::ConnGuard;
use crate::stats::Stats;
use crate::{AppState, Hub};
use crate::{fault, messages};
use governor::DefaultKeyedRateLimiter;
use tokio_util::sync::CancellationToken;

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
    /// The epoch `after` belongs to.
    pub epoch: u64,
    /// `None` until a WebSocket's first `resume`: no events before it.
    pub after: Option<u64>,
    pub peer: IpAddr,
    pub open: ConnGuard,
    /// `http/1.1` or `h2`, named in each `pong`.
    pub protocol: &'static str,
}

/// The keep-alive (SSE) or heartbeat (WebSocket) period the instructor set.
fn period(control: &Control, hears: bool) -> Duration {
    Duration::from_secs(control.with(|s| if hears { s.ws_ping_s } else { s.keepalive_s }).max(1))
}

/// After a resume that replays more than a batch, no other for this long.
const RESUME_EVERY: Duration = Duration::from_secs(1);

/// What woke the loop when it was not writing.
enum Woke {
    Said(Said),
    Tick,
}

/// What a stream needs of the server, and no more.
#[derive(Clone)]
pub struct Ctx {
    pub hub: Hub,
    pub broker: Broker,
    pub control: Control,
    pub stats: Stats,
    pub chat: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    pub shutdown: CancellationToken,
    /// The slow-consumer limit: a write not taken within it cuts the stream.
    pub slow: Duration,
}

impl Ctx {
    pub fn of(app: &AppState) -> Self {
        Ctx {
            hub: app.hub.clone(),
            broker: app.broker.clone(),
            control: app.control.clone(),
            stats: app.stats.clone(),
            chat: app.chat_limiter.clone(),
            shutdown: app.shutdown.clone(),
            slow: app.config.slow_client(),
        }
    }
}

/// Runs a stream until it ends, then closes its channel.
pub async fn run<C: Channel>(app: Ctx, mut ch: C, start: Start) {
    let t = C::TRANSPORT;
    let slow = app.slow;
    let Start { mut epoch, mut after, peer, open: _open, protocol } = start;
    let mut head = app.hub.subscribe();
    let mut stop = std::pin::pin!(stop_signal(&app.shutdown, &app.control, t));
    let mut settings = app.control.watch_settings();
    settings.borrow_and_update();
    let mut keep_alive = period(&app.control, C::HEARS);
    let mut tick = interval_at(Instant::now() + keep_alive, keep_alive);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // The `latency` fault: each frame's own jitter, and the last frame's due time,
    // so a later frame never overtakes an earlier one.
    let salt: u64 = rand::random();
    let mut last_due_us = i64::MIN;
    let mut last_heard = Instant::now();
    // Set while the instructor's delay holds the oldest unsent event.
    let mut due_at: Option<Instant> = None;
    // A resume is refused until the socket has caught up to the head it was made at:
    // 200 resumes on one socket once made the server write 175 MB in 6 s.
    let mut catch_up_to = 0u64;
    // And after a resume that replays more than a batch, none for a second: a
    // socket whose messages are read only once its catch-up is over would
    // otherwise replay the history once per resume.
    let mut last_resume: Option<Instant> = None;
    let end = 'stream: loop {
        // Set when a full batch went out (a catch-up): what the client said
        // meanwhile, and a ping that is due, are taken without waiting, so a
        // catch-up neither hides the client's messages nor starves the dead-peer check.
        let mut wrote = false;
        if let (None, Some(cursor)) = (due_at, after) {
            head.borrow_and_update();
            match app.hub.read(epoch, cursor, BATCH) {
                // The mirror began a new stream (Redis flushed): said in-band, and on.
                Read::Expired(start) if start.epoch != epoch => {
                    (epoch, after) = (start.epoch, Some(start.after));
                    let Some(notice) = start.reset else { continue };
                    match write(stop.as_mut(), slow, ch.message(&ServerMsg::Reset(notice))).await {
                        Ok(bytes) => app.stats.bytes(t, bytes),
                        Err(end) => break end,
                    }
                    continue;
                }
                Read::Expired(_) => break End::FellBehind,
                Read::Events(mut events) if !events.is_empty() => {
                    // The delay is read once per batch: the events due by now go; the rest
                    // come with a later read.
                    // Read once per batch, as is the `latency` fault.
                    let (delay_us, latency) = app.control.with(|s| (s.delay_ms as i64 * 1000, fault::latency(s, t)));
                    let now = crate::hub::now_us();
                    let mut first_due = None;
                    let due = events
                        .iter()
                        .take_while(|e| {
                            let slow = latency.map_or(0, |(ms, j)| ms + fault::jitter_us(salt, e.seq, j));
                            let at = if latency.is_none() {
                                e.sent_at_us + delay_us
                            } else {
                                (e.sent_at_us + delay_us + slow).max(last_due_us)
                            };
                            first_due.get_or_insert(at);
                            let go = at <= now;
                            if go && latency.is_some() {
                                last_due_us = at;
                            }
                            go
                        })
                        .count();
                    if due == 0 {
                        let left = (first_due.unwrap_or(now) - now).max(0) as u64;
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
                        // A full batch: behind, catching up. An up-to-date stream goes to
                        // the select below, which hears the client and the timer anyway
                        // (probing after every write cost the page's WebSocket latency).
                        wrote = n == BATCH as u64;
                    }
                }
                Read::Events(_) => {}
            }
        }
        let woke = if wrote {
            // A catch-up whose writes never block never yields, and the reactor would
            // not see the client's messages arrive until it ended: yield now and then.
            tokio::task::consume_budget().await;
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
                changed = settings.changed() => {
                    if changed.is_err() {
                        break End::Shutdown;
                    }
                    // The instructor changed the keep-alive or heartbeat: the next one comes
                    // one new period after now.
                    let now_period = period(&app.control, C::HEARS);
                    if now_period != keep_alive {
                        keep_alive = now_period;
                        tick = interval_at(Instant::now() + keep_alive, keep_alive);
                        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
                    }
                    continue;
                }
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
            Said::Ping(nonce) => ServerMsg::Pong {
                nonce,
                instance: Some(app.broker.instance().to_owned()),
                protocol: Some(protocol.to_owned()),
            },
            Said::Bad(message) => ServerMsg::Error { message },
            Said::Chat { text, from } => {
                match messages::publish_to(&app.broker, &app.chat, peer, &text, from.as_deref()).await {
                    Ok(_) => continue, // it comes back as a chat:message event
                    Err(e) => ServerMsg::Error { message: e.to_string() },
                }
            }
            Said::Resume(_) if after.is_some_and(|a| a < catch_up_to) => ServerMsg::Error {
                message: "a catch-up is still running on this socket: resume once it is done".into(),
            },
            Said::Resume(_) if last_resume.is_some_and(|at| at.elapsed() < RESUME_EVERY) => {
                ServerMsg::Error { message: "one resume a second on a socket: this one is ignored".into() }
            }
            Said::Resume(cursor) => match resume(&app, cursor.as_deref()).await {
                Ok(start) => {
                    (epoch, after) = (start.epoch, Some(start.after));
                    catch_up_to = app.hub.head();
                    if app.hub.head().saturating_sub(start.after) > BATCH as u64 {
                        last_resume = Some(Instant::now());
                    }
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

/// A resume on a stream: a cursor another instance issued a moment ago is waited for.
async fn resume(app: &Ctx, cursor: Option<&str>) -> Result<crate::hub::Start, pushlab::CursorError> {
    app.broker.settle(&app.hub, cursor, true).await;
    app.hub.resume(cursor)
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

#[cfg(test)]
mod tests {
    //! The loop against a fake channel, on tokio's paused clock: no socket, no waiting.
    use super::*;
    use tokio::sync::mpsc;

    /// What the loop did to its channel.
    #[derive(Debug, PartialEq)]
    enum Did {
        Events(Vec<u64>),
        Msg(String),
        KeepAlive,
        Closed(End),
    }

    /// A channel that records writes; `stalled` never takes a batch of events.
    struct Fake<const HEARS: bool> {
        said: mpsc::UnboundedReceiver<Said>,
        did: mpsc::UnboundedSender<(Duration, Did)>,
        t0: Instant,
        stalled: bool,
    }

    impl<const H: bool> Fake<H> {
        fn note(&self, d: Did) -> Sent {
            self.did.send((self.t0.elapsed(), d)).map(|()| 0).map_err(|_| ())
        }
    }

    impl<const H: bool> Channel for Fake<H> {
        const TRANSPORT: Transport = if H { Transport::Ws } else { Transport::Sse };
        const HEARS: bool = H;
        fn frame_len(_: &Published) -> usize {
            1
        }
        async fn events(&mut self, events: Vec<Arc<Published>>) -> Sent {
            if self.stalled {
                std::future::pending::<()>().await;
            }
            self.note(Did::Events(events.iter().map(|e| e.seq).collect()))
        }
        async fn message(&mut self, msg: &ServerMsg) -> Sent {
            self.note(Did::Msg(serde_json::to_string(msg).unwrap()))
        }
        async fn keep_alive(&mut self) -> Sent {
            self.note(Did::KeepAlive)
        }
        async fn said(&mut self) -> Said {
            match self.said.recv().await {
                Some(s) => s,
                None => std::future::pending().await,
            }
        }
        async fn close(self, end: End) {
            let _ = self.note(Did::Closed(end));
        }
    }

    struct Rig {
        ctx: Ctx,
        said: mpsc::UnboundedSender<Said>,
        did: mpsc::UnboundedReceiver<(Duration, Did)>,
    }

    impl Rig {
        async fn next(&mut self) -> (Duration, Did) {
            self.did.recv().await.expect("the loop is running")
        }

        fn publish(&self, n: usize) {
            for i in 0..n {
                self.ctx.hub.publish(pushlab::Event::CounterUpdate { name: "t".into(), value: i as i64 });
            }
        }
    }

    /// A stream from the head (`after: Some(0)`), or waiting for a resume (`None`).
    fn start<const H: bool>(after: Option<u64>, keep_alive: Duration, slow: Duration, stalled: bool) -> Rig {
        let settings =
            pushlab::Settings { ws_ping_s: keep_alive.as_secs(), ..pushlab::Settings::new(5.0, keep_alive.as_secs()) };
        let (control, _) = Control::with_settings("t".into(), settings);
        let stats = Stats::new(10);
        let hub = Hub::with_epoch(1, 1000, super::super::frames::encode);
        let broker = Broker::Memory(crate::broker::Memory::new("test".into(), hub.clone(), stats.clone()));
        let ctx = Ctx {
            hub,
            broker,
            control,
            stats: stats.clone(),
            chat: crate::messages::limiter(),
            shutdown: CancellationToken::new(),
            slow,
        };
        let (said_tx, said) = mpsc::unbounded_channel();
        let (did, did_rx) = mpsc::unbounded_channel();
        let ch = Fake::<H> { said, did, t0: Instant::now(), stalled };
        let open = stats.open(Fake::<H>::TRANSPORT).unwrap();
        let start = Start { epoch: 1, after, peer: [127, 0, 0, 1].into(), open, protocol: "http/1.1" };
        tokio::spawn(run(ctx.clone(), ch, start));
        Rig { ctx, said: said_tx, did: did_rx }
    }

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[tokio::test(start_paused = true)]
    async fn an_sse_stream_keeps_alive_only_in_silence() {
        let mut r = start::<false>(Some(0), S(15), S(10), false);
        assert_eq!(r.next().await, (S(15), Did::KeepAlive));
        tokio::time::sleep(S(5)).await;
        r.publish(2);
        assert_eq!(r.next().await.1, Did::Events(vec![1, 2]));
        // The keep-alive waits for 15 s of silence after the events, not the old schedule.
        assert_eq!(r.next().await, (S(35), Did::KeepAlive));
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_websocket_peer_is_gone_after_two_pings() {
        let mut r = start::<true>(None, S(20), S(10), false);
        assert_eq!(r.next().await, (S(20), Did::KeepAlive));
        assert_eq!(r.next().await, (S(40), Did::KeepAlive));
        assert_eq!(r.next().await, (S(60), Did::Closed(End::Gone)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_websocket_still_pings_and_its_answers_keep_it() {
        let mut r = start::<true>(Some(0), S(20), S(10), false);
        let hub = r.ctx.hub.clone();
        // An event every 10 ms for 100 s: every read finds something.
        tokio::spawn(async move {
            for i in 0..10_000 {
                hub.publish(pushlab::Event::CounterUpdate { name: "t".into(), value: i });
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        let mut pings = 0;
        while pings < 4 {
            match r.next().await.1 {
                Did::KeepAlive => {
                    pings += 1;
                    r.said.send(Said::Nothing).unwrap(); // the pong
                }
                Did::Events(_) => {}
                other => panic!("{other:?}"),
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_that_takes_no_write_is_cut_and_counted() {
        let mut r = start::<false>(Some(0), S(15), Duration::from_millis(500), true);
        r.publish(1);
        assert_eq!(r.next().await, (Duration::from_millis(500), Did::Closed(End::TooSlow)));
        assert_eq!(r.ctx.stats.counters().sse.cut_off, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_drop_ends_a_stalled_stream_at_once() {
        let mut r = start::<true>(Some(0), S(20), S(600), true);
        r.publish(1);
        tokio::time::sleep(S(3)).await;
        r.ctx.control.apply(pushlab::ControlAction::Drop { transport: Transport::Ws }).unwrap();
        assert_eq!(r.next().await, (S(3), Did::Closed(End::Dropped)));
    }

    #[tokio::test(start_paused = true)]
    async fn messages_are_answered_and_a_resume_during_a_catch_up_is_refused() {
        let mut r = start::<true>(None, S(20), S(10), false);
        r.publish(600);
        r.said.send(Said::Ping(serde_json::json!(7))).unwrap();
        assert_eq!(
            r.next().await.1,
            Did::Msg(r#"{"type":"pong","nonce":7,"instance":"test","protocol":"http/1.1"}"#.into())
        );
        // From the start: 600 events in batches; a second resume arrives during them.
        r.said.send(Said::Resume(Some(r.ctx.hub.cursor(0)))).unwrap();
        r.said.send(Said::Resume(Some(r.ctx.hub.cursor(0)))).unwrap();
        let (mut seqs, mut refused) = (Vec::new(), 0);
        while seqs.len() < 600 {
            match r.next().await.1 {
                Did::Events(s) => seqs.extend(s),
                Did::Msg(m) if m.contains("catch-up") => refused += 1,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(seqs, (1..=600).collect::<Vec<_>>(), "one replay, in order");
        assert_eq!(refused, 1);
        r.said.send(Said::Bad("nope".into())).unwrap();
        assert_eq!(r.next().await.1, Did::Msg(r#"{"type":"error","message":"nope"}"#.into()));
    }
}
