//! The instructor's controls: `POST /api/control`, guarded by a bearer token.
//!
//! Settings live in a `watch` channel so the simulator and every transport
//! see a change at once; a drop is a per-transport generation number that
//! open connections watch.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use pushlab::control::{BURST_RANGE, DELAY_RANGE, RATE_RANGE};
use pushlab::fault::{KEEPALIVE_S, PING_S};
use pushlab::{Announced, ControlAction, Event, FaultChange, FaultName, PerTransport, Settings, Transport};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::watch;

use crate::AppState;
use crate::body::Capped;
use crate::broker::{Broker, BrokerError};
use crate::error::ApiError;
use crate::hub::now_us;

/// Bursts waiting behind the one going out; more are refused (429): 300
/// pipelined bursts once kept the server publishing long after.
pub const QUEUED_BURSTS: usize = 2;

#[derive(Clone)]
pub struct Control {
    inner: Arc<Inner>,
}

struct Inner {
    token: String,
    settings: watch::Sender<Settings>,
    /// What `reset_lab` returns to: the flags' settings.
    defaults: Settings,
    /// When each fault (by `FaultName as usize`) was last switched on, µs.
    since: [AtomicI64; 5],
    /// Bumped to drop every connection of a transport.
    drops: PerTransport<watch::Sender<u64>>,
    /// Events the simulator owes: bursts are produced by the simulator so they look like its stream.
    bursts: tokio::sync::mpsc::Sender<u32>,
    /// The last announcement, for pages that open later.
    announced: std::sync::Mutex<Option<Announced>>,
}

impl Control {
    pub fn new(token: String, rate: f64) -> (Self, tokio::sync::mpsc::Receiver<u32>) {
        Self::with_settings(token, Settings::new(rate, 15))
    }

    pub fn with_settings(token: String, settings: Settings) -> (Self, tokio::sync::mpsc::Receiver<u32>) {
        let (bursts, rx) = tokio::sync::mpsc::channel(QUEUED_BURSTS);
        let control = Control {
            inner: Arc::new(Inner {
                token,
                defaults: Settings { faults: Vec::new(), ..settings.clone() },
                settings: watch::channel(settings).0,
                since: Default::default(),
                drops: PerTransport::from_fn(|_| watch::channel(0).0),
                bursts,
                announced: Default::default(),
            }),
        };
        (control, rx)
    }

    pub fn token(&self) -> &str {
        &self.inner.token
    }

    pub fn settings(&self) -> Settings {
        self.inner.settings.borrow().clone()
    }

    /// Reads the settings in place: the hot paths read them per batch, and must not clone.
    pub fn with<R>(&self, f: impl FnOnce(&Settings) -> R) -> R {
        f(&self.inner.settings.borrow())
    }

    /// When fault `name` was last switched on (µs; 0 if never).
    pub fn fault_since(&self, name: FaultName) -> i64 {
        self.inner.since[name as usize].load(Ordering::Relaxed)
    }

    fn since(&self) -> [i64; 5] {
        std::array::from_fn(|i| self.inner.since[i].load(Ordering::Relaxed))
    }

    fn set_since(&self, since: [i64; 5]) {
        for (a, v) in self.inner.since.iter().zip(since) {
            a.store(v, Ordering::Relaxed);
        }
    }

    /// What `reset_lab` returns to.
    pub fn defaults(&self) -> &Settings {
        &self.inner.defaults
    }

    pub fn watch_settings(&self) -> watch::Receiver<Settings> {
        self.inner.settings.subscribe()
    }

    /// Resolves when the instructor drops this transport's connections.
    pub fn watch_drops(&self, t: Transport) -> watch::Receiver<u64> {
        self.inner.drops.get(t).subscribe()
    }

    /// The configured delivery delay still owed for an event published at `sent_at_us`.
    /// The instructor's delivery delay, in microseconds.
    pub fn delay_us(&self) -> i64 {
        self.with(|s| s.delay_ms as i64 * 1000)
    }

    pub fn delay_left(&self, sent_at_us: i64) -> Option<Duration> {
        let delay_us = self.delay_us();
        let left = sent_at_us + delay_us - now_us();
        (delay_us > 0 && left > 0).then(|| Duration::from_micros(left as u64))
    }

    /// Refuses an action whose values are out of range; changes nothing.
    pub fn check(&self, action: &ControlAction) -> Result<(), ApiError> {
        match *action {
            ControlAction::SetRate { per_s } if !RATE_RANGE.contains(&per_s) => {
                Err(ApiError::OutOfRange("per_s must be 0.1–1000".into()))
            }
            ControlAction::Burst { n } if !BURST_RANGE.contains(&n) => {
                Err(ApiError::OutOfRange("n must be 1–10000".into()))
            }
            ControlAction::Drop { transport } if !transport.is_held() => {
                let held: Vec<_> = Transport::ALL.into_iter().filter(|t| t.is_held()).map(Transport::as_str).collect();
                Err(ApiError::OutOfRange(format!(
                    "transport must be one of {}: {transport} holds no connection",
                    held.join(", ")
                )))
            }
            ControlAction::Delay { ms } if !DELAY_RANGE.contains(&ms) => {
                Err(ApiError::OutOfRange("ms must be 0–10000".into()))
            }
            ControlAction::Fault(FaultChange::On(f)) => f.check().map_err(ApiError::OutOfRange),
            ControlAction::SetKeepalive { s } if !KEEPALIVE_S.contains(&s) => {
                Err(ApiError::OutOfRange(format!("s must be {}–{}", KEEPALIVE_S.start(), KEEPALIVE_S.end())))
            }
            ControlAction::SetPing { s } if !PING_S.contains(&s) => {
                Err(ApiError::OutOfRange(format!("s must be {}–{}", PING_S.start(), PING_S.end())))
            }
            _ => Ok(()),
        }
    }

    /// Checks and applies an action on this instance.
    pub fn apply(&self, action: ControlAction) -> Result<Settings, ApiError> {
        self.check(&action)?;
        let s = &self.inner.settings;
        match action {
            ControlAction::SetRate { per_s } => s.send_modify(|s| s.rate_per_s = per_s),
            ControlAction::Burst { n } => self.inner.bursts.try_send(n).map_err(|e| match e {
                TrySendError::Full(_) => ApiError::BurstsQueued(QUEUED_BURSTS),
                TrySendError::Closed(_) => ApiError::ShuttingDown,
            })?,
            ControlAction::Pause => s.send_modify(|s| s.paused = true),
            ControlAction::Resume => s.send_modify(|s| s.paused = false),
            ControlAction::Drop { transport } => self.drop_here(transport),
            ControlAction::Delay { ms } => s.send_modify(|s| s.delay_ms = ms),
            ControlAction::Fault(change) => {
                let mut since = self.since();
                s.send_modify(|s| crate::fault::change(&mut s.faults, &mut since, change, now_us()));
                self.set_since(since);
            }
            ControlAction::SetKeepalive { s: secs } => s.send_modify(|s| s.keepalive_s = secs),
            ControlAction::SetPing { s: secs } => s.send_modify(|s| s.ws_ping_s = secs),
            ControlAction::ResetLab => {
                s.send_replace(self.inner.defaults.clone());
            }
        }
        Ok(self.settings())
    }

    /// Takes settings the cluster decided, with when each fault went on; a
    /// value equal to the current one wakes nobody.
    pub fn set(&self, settings: Settings, since: [i64; 5]) {
        self.set_since(since);
        self.inner.settings.send_if_modified(|s| {
            let changed = *s != settings;
            *s = settings;
            changed
        });
    }

    /// Switches off the faults whose 30 minutes are over; true when one went.
    pub fn expire_faults(&self) -> bool {
        let since = self.since();
        self.inner.settings.send_if_modified(|s| crate::fault::expire(&mut s.faults, &since, now_us()))
    }

    /// Cuts this instance's connections of `t`.
    pub fn drop_here(&self, t: Transport) {
        self.inner.drops.get(t).send_modify(|g| *g += 1);
    }

    /// Queues burst events for this instance's simulator (the leader's); false when the queue is full.
    pub fn queue_burst(&self, n: u32) -> bool {
        self.inner.bursts.try_send(n).is_ok()
    }

    /// Room for another queued burst.
    pub fn burst_room(&self) -> bool {
        self.inner.bursts.capacity() > 0
    }

    /// The last announcement published, if any.
    pub fn announced(&self) -> Option<Announced> {
        self.inner.announced.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Tells every page, in words, what an applied action did.
    pub async fn announce(&self, broker: &Broker, action: ControlAction) -> Result<(), BrokerError> {
        let text = describe(&action);
        let appended = broker.publish_one(Event::Announcement { text: text.clone(), action: Some(action) }).await?;
        self.note_announced(Announced { text, sent_at_us: appended.sent_at_us });
        Ok(())
    }

    /// Remembers an announcement seen in the stream (another instance's, in a cluster).
    pub fn note_announced(&self, announced: Announced) {
        *self.inner.announced.lock().unwrap_or_else(|e| e.into_inner()) = Some(announced);
    }

    pub fn check_token(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer)
            .ok_or(ApiError::Unauthorized)?;
        // Compare every byte so the time taken does not tell how much matched.
        let want = self.inner.token.as_bytes();
        let same = given.len() == want.len() && given.bytes().zip(want).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if same { Ok(()) } else { Err(ApiError::Forbidden) }
    }
}

/// Switches off, once a second, the faults whose lifetime is over.
pub async fn expire_faults(control: Control, shutdown: tokio_util::sync::CancellationToken) {
    let mut every = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = every.tick() => {
                if control.expire_faults() {
                    tracing::info!("a fault switched on 30 minutes ago is off");
                }
            }
        }
    }
}

/// The credentials of `Bearer <token>`; the scheme is case-insensitive (RFC 7235).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim_start())
}

/// A request that carried the instructor's token. As an extractor it runs
/// before the body's: a stranger's body is never read.
pub struct Instructor;

impl FromRequestParts<AppState> for Instructor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        app.control.check_token(&parts.headers).map(|()| Instructor)
    }
}

/// A random token, printed at start-up when none is configured.
pub fn random_token() -> String {
    use rand::Rng;
    rand::rng().sample_iter(rand::distr::Alphanumeric).take(20).map(char::from).collect()
}

/// `GET /api/control`: the settings, for the instructor's panel to check its token.
pub async fn current(State(app): State<AppState>, _: Instructor) -> Json<Settings> {
    Json(app.control.settings())
}

pub async fn handle(
    State(app): State<AppState>,
    _: Instructor,
    Capped(action): Capped<ControlAction>,
) -> Result<Json<Settings>, ApiError> {
    tracing::info!(?action, "instructor control");
    let settings = app.broker.control(&app.control, action.clone()).await?;
    if let Err(e) = app.control.announce(&app.broker, action).await {
        tracing::warn!("the action is applied but its announcement is not published: {e}");
    }
    Ok(Json(settings))
}

/// What an action did, as a participant reads it.
pub fn describe(action: &ControlAction) -> String {
    match action {
        ControlAction::SetRate { per_s } => format!("The instructor set the rate to {per_s} events/s."),
        ControlAction::Burst { n } => format!("The instructor sent a burst of {n} events at once."),
        ControlAction::Pause => "The instructor paused the stream: no new events until it resumes.".into(),
        ControlAction::Resume => "The instructor resumed the stream.".into(),
        ControlAction::Drop { transport } => {
            format!("The instructor cut every {} connection: watch them reconnect and resume.", transport.label())
        }
        ControlAction::Delay { ms: 0 } => "The instructor removed the delivery delay.".into(),
        ControlAction::Delay { ms } => {
            format!("The instructor holds every delivery until {ms} ms after publish: latency rises by that much.")
        }
        ControlAction::Fault(FaultChange::On(f)) => {
            format!("Fault on: {} — {}. ({})", f.name(), f.name().imitates(), f.describe())
        }
        ControlAction::Fault(FaultChange::Off(name)) => format!("Fault off: {name}."),
        ControlAction::Fault(FaultChange::Clear) => "Every fault is off.".into(),
        ControlAction::SetKeepalive { s } => format!("The SSE keep-alive is now every {s} s."),
        ControlAction::SetPing { s } => {
            format!("The WebSocket heartbeat is now every {s} s: a socket silent for {} s is presumed dead.", 2 * s)
        }
        ControlAction::ResetLab => "The instructor reset the lab: default rate, no delay, no fault.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_change_settings_and_ranges_are_enforced() {
        let (c, mut bursts) = Control::new("t".into(), 5.0);
        assert_eq!(c.apply(ControlAction::SetRate { per_s: 50.0 }).unwrap().rate_per_s, 50.0);
        assert!(matches!(c.apply(ControlAction::SetRate { per_s: 5000.0 }), Err(ApiError::OutOfRange(_))));
        assert!(matches!(c.apply(ControlAction::SetRate { per_s: f64::NAN }), Err(ApiError::OutOfRange(_))));
        assert!(c.apply(ControlAction::Pause).unwrap().paused);
        assert!(!c.apply(ControlAction::Resume).unwrap().paused);
        assert_eq!(c.apply(ControlAction::Delay { ms: 300 }).unwrap().delay_ms, 300);
        assert!(c.apply(ControlAction::Delay { ms: 10_001 }).is_err());
        c.apply(ControlAction::Burst { n: 7 }).unwrap();
        assert_eq!(bursts.try_recv().unwrap(), 7);
        assert!(c.apply(ControlAction::Burst { n: 0 }).is_err());
        let drops = c.watch_drops(Transport::Sse);
        c.apply(ControlAction::Drop { transport: Transport::Sse }).unwrap();
        assert!(drops.has_changed().unwrap());
        assert!(c.apply(ControlAction::Drop { transport: Transport::Poll }).is_err());
        assert_eq!(c.settings().rate_per_s, 50.0, "a refused action changed nothing");
    }

    #[test]
    fn faults_and_intervals_are_set_checked_and_reset() {
        use pushlab::Fault;
        let (c, _) = Control::new("t".into(), 5.0);
        let on = |f| ControlAction::Fault(FaultChange::On(f));
        c.apply(on(Fault::IdleCut { after_s: 10 })).unwrap();
        assert!(c.fault_since(FaultName::IdleCut) > 0);
        assert!(
            matches!(c.apply(on(Fault::IdleCut { after_s: 0 })), Err(ApiError::OutOfRange(m)) if m.contains("after_s"))
        );
        assert_eq!(c.apply(ControlAction::SetPing { s: 5 }).unwrap().ws_ping_s, 5);
        assert!(c.apply(ControlAction::SetPing { s: 4 }).is_err());
        assert!(c.apply(ControlAction::SetKeepalive { s: 16 }).is_err());
        c.apply(ControlAction::SetRate { per_s: 100.0 }).unwrap();
        assert_eq!(c.settings().faults, [Fault::IdleCut { after_s: 10 }]);
        assert!(!c.expire_faults(), "not yet");
        let reset = c.apply(ControlAction::ResetLab).unwrap();
        assert_eq!(reset, Settings::new(5.0, 15));
    }

    #[test]
    fn tokens_are_checked() {
        let (c, _) = Control::new("secret".into(), 5.0);
        let mut h = HeaderMap::new();
        assert!(matches!(c.check_token(&h), Err(ApiError::Unauthorized)));
        h.insert(header::AUTHORIZATION, "Bearer nope".parse().unwrap());
        assert!(matches!(c.check_token(&h), Err(ApiError::Forbidden)));
        h.insert(header::AUTHORIZATION, "Bearer secret".parse().unwrap());
        assert!(c.check_token(&h).is_ok());
        h.insert(header::AUTHORIZATION, "bearer  secret".parse().unwrap());
        assert!(c.check_token(&h).is_ok(), "the scheme is case-insensitive");
        h.insert(header::AUTHORIZATION, "Basic secret".parse().unwrap());
        assert!(matches!(c.check_token(&h), Err(ApiError::Unauthorized)));
    }
}
