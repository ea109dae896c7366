//! The dashboard's reactive state, shared by every component and transport
//! client through context. Only signals: `Lab` is `Copy`.

use leptos::prelude::*;
use pushlab::{ControlAction, Envelope, Event, PerTransport, ResetNotice, ServerStats, Transport};

use crate::model::comparison::Conditions;
use crate::model::{ClockOffset, Clocks, Feed, LogEntry, LogKind, Metrics, RequestLog, Saas, Session};

/// What the active transport is doing, for its badge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Connecting,
    Open,
    /// A long poll is held by the server.
    Waiting,
    Reconnecting,
    Closed,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Connecting => "connecting",
            Status::Open => "open",
            Status::Waiting => "waiting",
            Status::Reconnecting => "reconnecting",
            Status::Closed => "closed",
        }
    }
}

pub const MIN_INTERVAL_S: u32 = 1;
pub const MAX_INTERVAL_S: u32 = 15;
pub const DEFAULT_INTERVAL_S: u32 = 2;

#[derive(Clone, Copy)]
pub struct Lab {
    pub active: RwSignal<Transport>,
    /// Short-polling interval, seconds.
    pub interval_s: RwSignal<u32>,
    /// Bumped by "cut my connection": the transport is torn down and opened again.
    pub generation: RwSignal<u64>,
    pub status: RwSignal<Status>,
    pub feed: RwSignal<Feed>,
    pub metrics: RwSignal<PerTransport<Metrics>>,
    /// The comparison's rows (each transport's figures under one set of
    /// conditions), and the browser and server they are measured with.
    pub session: RwSignal<Session>,
    pub saas: RwSignal<Saas>,
    pub log: RwSignal<RequestLog>,
    /// The offset in use: that of the instance answering the active transport.
    pub clock: RwSignal<ClockOffset>,
    /// Every instance's offset, from `GET /api/time` (see `sync`).
    pub clocks: StoredValue<Clocks>,
    /// The last event's latency, corrected and raw (ms).
    pub last_latency: RwSignal<Option<(f64, f64)>>,
    pub server: RwSignal<Option<ServerStats>>,
    /// Local time (ms) the view last ticked: moves the chart when no events arrive.
    pub now_ms: RwSignal<f64>,
    /// Local time (ms) the active transport was opened: older events are catch-up, not timed.
    pub since_ms: RwSignal<f64>,
    /// Large type and the instructor's panel beside the figures.
    pub projector: RwSignal<bool>,
    /// The other tabs of this origin, and which hold a connection.
    pub tabs: RwSignal<crate::model::tabs::Tabs>,
    /// The instructor's last announcement this page knows of.
    pub announcement: RwSignal<Option<Announcement>>,
    /// Share of the last second the page spent in its own handlers and rendering (0–1).
    pub busy: RwSignal<f64>,
    /// The server instance that answered the active transport last.
    pub instance: RwSignal<Option<String>>,
    /// The HTTP protocol that carried the active transport last (`http/1.1`, `h2`).
    pub protocol: RwSignal<Option<String>>,
    /// Every reconnect and switch, and how it recovered.
    pub ledger: RwSignal<crate::model::recovery::Ledger>,
    /// The room's answer to this page's last report (`sync`), in words.
    pub room: RwSignal<Option<String>>,
    /// What changed since the views last heard (see `flush`).
    dirty: StoredValue<u8>,
}

impl Lab {
    pub fn new(active: Transport, interval_s: u32) -> Self {
        Lab {
            active: RwSignal::new(active),
            interval_s: RwSignal::new(interval_s.clamp(MIN_INTERVAL_S, MAX_INTERVAL_S)),
            generation: RwSignal::new(0),
            status: RwSignal::new(Status::Connecting),
            feed: RwSignal::new(Feed::default()),
            metrics: RwSignal::new(PerTransport::default()),
            session: RwSignal::new(Session::default()),
            saas: RwSignal::new(Saas::default()),
            log: RwSignal::new(RequestLog::default()),
            clock: RwSignal::new(ClockOffset::default()),
            clocks: StoredValue::new(Clocks::default()),
            last_latency: RwSignal::new(None),
            server: RwSignal::new(None),
            now_ms: RwSignal::new(0.0),
            since_ms: RwSignal::new(0.0),
            projector: RwSignal::new(false),
            tabs: RwSignal::new(Default::default()),
            announcement: RwSignal::new(None),
            busy: RwSignal::new(0.0),
            instance: RwSignal::new(None),
            protocol: RwSignal::new(None),
            ledger: RwSignal::new(Default::default()),
            room: RwSignal::new(None),
            dirty: StoredValue::new(0),
        }
        .with_interval(interval_s)
    }

    fn with_interval(self, interval_s: u32) -> Self {
        self.session_mut(&mut |s| {
            s.now.interval_s = Some(interval_s.clamp(MIN_INTERVAL_S, MAX_INTERVAL_S));
            s.place.version = env!("CARGO_PKG_VERSION");
        });
        self
    }

    /// Takes new clock estimates, and uses the one of the instance answering now.
    pub fn set_clocks(&self, clocks: Clocks) {
        self.clocks.set_value(clocks);
        self.use_clock_of_current();
    }

    /// Uses the offset of the instance that answers the active transport.
    pub fn use_clock_of_current(&self) {
        let c = self.clocks.with_value(|c| self.instance.with_untracked(|i| c.of(i.as_deref())));
        if c.samples > 0 && self.clock.get_untracked() != c {
            self.clock.set(c);
        }
    }

    /// Local wall clock (ms); natively, the last tick (tests set it).
    fn clock_ms(&self) -> f64 {
        #[cfg(feature = "hydrate")]
        return crate::transport::now_ms();
        #[cfg(not(feature = "hydrate"))]
        self.now_ms.get_untracked()
    }

    /// Changes the conditions the comparison's rows are measured under: rows
    /// they no longer fit close, so a row never mixes two rates.
    fn conditions(&self, change: &dyn Fn(&mut Conditions)) {
        let counts = self.metrics.with_untracked(|m| PerTransport::from_fn(|t| m.get(t).counts()));
        self.session_mut(&mut |s| {
            s.set_conditions(change, &counts);
        });
        self.touch(Dirty::METRICS);
    }

    /// One instance of the signal's update for every change of the session
    /// (each closure type would be another copy in the WASM).
    fn session_mut(&self, f: &mut dyn FnMut(&mut Session)) {
        self.session.update_untracked(|s| f(s));
    }

    /// Short polling's interval: its row closes, and the poll restarts at the new pace.
    pub fn set_interval(&self, s: u32) {
        let s = s.clamp(MIN_INTERVAL_S, MAX_INTERVAL_S);
        self.conditions(&|c| c.interval_s = Some(s));
        self.interval_s.set(s);
    }

    /// The server's stats, asked for at local time `asked_ms`; their settings
    /// are the rows' conditions unless the stream announced a change since.
    pub fn on_stats(&self, stats: ServerStats, asked_ms: f64) {
        let fresh = asked_ms >= self.session.with_untracked(|s| s.settings_heard_ms);
        let s = &stats.settings;
        self.conditions(&|c| {
            if fresh {
                (c.rate_per_s, c.delay_ms) = (Some(s.rate_per_s), Some(s.delay_ms));
            }
            c.epoch = Some(stats.epoch.clone());
        });
        self.session_mut(&mut |s| s.place.epoch = Some(stats.epoch.clone()));
        self.server.set(Some(stats));
    }

    /// Transport `t` is being started: its row goes on in a new span (the
    /// time it was off is not measured).
    pub fn begin(&self, t: Transport) {
        self.session_mut(&mut |s| s.begin(t));
        let (now, cursor) = (self.clock_ms(), self.feed.with_untracked(|f| f.cursor.clone()));
        self.ledger.update(|l| l.begin(t, now, cursor));
    }

    /// A request of transport `t` went out (the ledger times recoveries from it).
    pub fn asked(&self, t: Transport) {
        let now = self.clock_ms();
        self.ledger.update_untracked(|l| l.asked(t, now));
    }

    /// Shows the state the server rendered the page with, and resumes after its cursor.
    pub fn start_from(&self, initial: &crate::InitialEvents) {
        if let Some(a) = &initial.announcement {
            let at_ms = a.sent_at_us as f64 / 1000.0;
            self.announcement.set(Some(Announcement { text: a.text.clone(), at_ms, live: false }));
        }
        self.saas.update(|s| initial.events.iter().for_each(|e| s.apply(e)));
        if let Some(cursor) = &initial.cursor {
            self.feed.update(|f| {
                f.cursor = Some(cursor.clone());
                f.last_seq = pushlab::Cursor::from_str_opt(cursor).map(|c| c.seq);
            });
        }
    }

    /// The connection's state, shown with the counters of the same flush: a
    /// status of "open" never sits beside a connection count that has not moved yet.
    pub fn set_status(&self, s: Status) {
        if self.status.try_update_untracked(|x| std::mem::replace(x, s)) != Some(s) {
            self.touch(Dirty::STATUS);
            if s == Status::Reconnecting {
                let (now, cursor) = (self.clock_ms(), self.feed.with_untracked(|f| f.cursor.clone()));
                let t = self.active.get_untracked();
                self.ledger.update(|l| l.lost(t, now, cursor));
            }
        }
    }

    /// What this page tells the room (`POST /api/report`): its active transport's figures.
    pub fn room_report(&self, client: &str) -> pushlab::room::ParticipantReport {
        let t = self.active.get_untracked();
        let (gaps, dups) = self.feed.with_untracked(|f| (f.gaps, f.duplicates));
        self.metrics.with_untracked(|m| crate::model::room::report(client, t, m.get(t), gaps, dups))
    }

    pub fn metrics_of(&self, t: Transport, f: impl FnOnce(&mut Metrics)) {
        let before = self.metrics.try_update_untracked(|m| {
            let m = m.get_mut(t);
            m.used = true;
            let before = m.counts();
            f(m);
            before
        });
        let now = self.clock_ms();
        self.session_mut(&mut |s| s.sample(t, before.unwrap_or_default(), now));
        self.touch(Dirty::METRICS);
    }

    /// One event, delivered by transport `t`, that reached the page at local time `at_ms`
    /// (the browser's own arrival stamp, so a busy page does not add to its latency).
    pub fn on_event(&self, t: Transport, env: &Envelope, at_ms: f64) {
        let fresh = self.feed.try_update_untracked(|f| f.accept(env.seq, &env.id)) == Some(crate::model::Accept::New);
        self.touch(Dirty::FEED);
        if !fresh {
            return;
        }
        let clock = self.clock.get_untracked();
        let raw_ms = (at_ms * 1000.0 - env.sent_at_us as f64) / 1000.0;
        let corrected_ms = clock.latency_us(env.sent_at_us, at_ms * 1000.0) / 1000.0;
        let latency = if clock.samples > 0 { corrected_ms } else { raw_ms };
        let live = at_ms - latency >= self.since_ms.get_untracked();
        if self.ledger.with_untracked(|l| l.entries.front().is_some_and(|r| r.done_ms.is_none())) {
            self.ledger.update(|l| l.event(t, env.seq, at_ms - latency, at_ms));
        }
        self.metrics_of(t, |m| m.record(at_ms, live.then_some(latency)));
        if live {
            self.last_latency.update_untracked(|l| *l = Some((latency, raw_ms)));
            self.session_mut(&mut |s| s.latency(t, latency));
        }
        // A page acts on a lab event only live: a replayed one is history, not news.
        if let (true, Event::Announcement { text, action }) = (live, &env.event) {
            let at_ms = at_ms - latency;
            self.announcement.set(Some(Announcement { text: text.clone(), at_ms, live: true }));
            // The stream says when the settings change, before the next stats do:
            // the events after this one are the new rate's.
            match action {
                Some(ControlAction::SetRate { per_s }) => self.conditions(&|c| c.rate_per_s = Some(*per_s)),
                Some(ControlAction::Delay { ms }) => self.conditions(&|c| c.delay_ms = Some(*ms)),
                _ => {}
            }
            if matches!(action, Some(ControlAction::SetRate { .. } | ControlAction::Delay { .. })) {
                let now = self.clock_ms();
                self.session_mut(&mut |s| s.settings_heard_ms = now);
            }
        }
        self.saas.update_untracked(|s| s.apply(env));
        self.touch(Dirty::SAAS);
    }

    pub fn on_reset(&self, t: Transport, notice: &ResetNotice, at_ms: f64) {
        self.feed.update_untracked(|f| f.reset(&notice.cursor, notice.missed));
        self.touch(Dirty::FEED);
        self.metrics_of(t, |m| m.resets += 1);
        let missed = notice.missed.map_or("unknown".to_string(), |n| n.to_string());
        let reason = match notice.reason {
            pushlab::ResetReason::Epoch => "epoch",
            pushlab::ResetReason::Expired => "expired",
        };
        let why = format!("{reason}: {missed} missed");
        self.ledger.update(|l| l.reset(t, why));
        self.log_entry(LogEntry::new(t, LogKind::Reset, at_ms, format!("{:?}: {missed} missed", notice.reason)));
    }

    /// Adds a line to the request log; returns its number, to update it later.
    pub fn log_entry(&self, entry: LogEntry) -> u64 {
        let n = self.log.try_update_untracked(|l| l.push(entry)).unwrap_or(0);
        self.touch(Dirty::LOG);
        n
    }

    pub fn update_log(&self, n: u64, f: impl FnOnce(&mut LogEntry)) {
        self.log.update_untracked(|l| l.update(n, f));
        self.touch(Dirty::LOG);
    }

    /// Marks what changed; the views hear of it at the next flush, so a thousand
    /// events a second cost a few renders a second, not a thousand.
    fn touch(&self, what: u8) {
        self.dirty.update_value(|d| *d |= what);
        #[cfg(feature = "hydrate")]
        crate::frame::schedule(*self);
        #[cfg(not(feature = "hydrate"))]
        self.flush();
    }

    /// Tells the views about everything changed since the last flush.
    pub fn flush(&self) {
        let d = self.dirty.try_update_value(std::mem::take).unwrap_or(0);
        let notify = |bit: u8, s: &dyn Fn()| {
            if d & bit != 0 {
                s()
            }
        };
        notify(Dirty::FEED, &|| self.feed.notify());
        notify(Dirty::METRICS, &|| {
            self.metrics.notify();
            self.session.notify();
            self.last_latency.notify();
        });
        notify(Dirty::SAAS, &|| self.saas.notify());
        notify(Dirty::LOG, &|| self.log.notify());
        notify(Dirty::STATUS, &|| self.status.notify());
    }

    /// Clears every transport's figures and the feed's counters; keeps the cursor.
    pub fn reset_counters(&self) {
        self.metrics.set(PerTransport::default());
        self.session.update(Session::clear);
        self.feed.update(|f| {
            *f = Feed { cursor: f.cursor.take(), last_seq: f.last_seq, ..Feed::default() };
        });
        self.metrics_of(self.active.get_untracked(), |_| {});
    }
}

/// An instructor's announcement as the page shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Announcement {
    pub text: String,
    /// When it was published (local wall clock, ms).
    pub at_ms: f64,
    /// Heard live on the stream, not from the first render.
    pub live: bool,
}

/// Which signals a flush must notify.
struct Dirty;

impl Dirty {
    const FEED: u8 = 1;
    const METRICS: u8 = 2;
    const SAAS: u8 = 4;
    const LOG: u8 = 8;
    const STATUS: u8 = 16;
}
