//! The recovery ledger: every reconnect and every switch, as the page lived
//! it — the cursor it sent, where the server resumed, how many events were
//! replayed, whether it was reset (and why), and how long until events
//! flowed live again.

use std::collections::VecDeque;

use pushlab::Transport;

/// Entries kept; older ones leave.
pub const KEPT: usize = 20;

#[derive(Clone, Debug, PartialEq)]
pub enum Why {
    /// The connection failed, was cut or presumed dead, and the client reconnected.
    Reconnect,
    /// The page switched to this transport from another.
    Switch { from: Transport },
    /// The same transport opened again (a "cut my connection", or a fault).
    Reopen,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Recovery {
    pub n: u64,
    pub t: Transport,
    pub why: Why,
    /// Local ms the connection was lost (or the switch began).
    pub lost_ms: f64,
    /// The cursor the client resumes from; `None`: from the start.
    pub cursor: Option<String>,
    /// Local ms the first request after the loss went out.
    pub asked_ms: Option<f64>,
    /// The first seq delivered after the loss.
    pub resumed_at: Option<u64>,
    /// Events delivered that were published before the request went out.
    pub replayed: u64,
    /// `Some(reason and missed)` when the server answered with a reset.
    pub reset: Option<String>,
    /// Local ms events flowed live again.
    pub done_ms: Option<f64>,
}

impl Recovery {
    /// Loss to live again, ms.
    pub fn took_ms(&self) -> Option<f64> {
        self.done_ms.map(|d| d - self.lost_ms)
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ledger {
    /// Newest first; the first may still be open (no `done_ms`).
    pub entries: VecDeque<Recovery>,
    last_begun: Option<Transport>,
    next: u64,
}

impl Ledger {
    fn open(&mut self) -> Option<&mut Recovery> {
        self.entries.front_mut().filter(|r| r.done_ms.is_none())
    }

    fn push(&mut self, t: Transport, why: Why, now_ms: f64, cursor: Option<String>) {
        self.next += 1;
        self.entries.push_front(Recovery {
            n: self.next,
            t,
            why,
            lost_ms: now_ms,
            cursor,
            asked_ms: None,
            resumed_at: None,
            replayed: 0,
            reset: None,
            done_ms: None,
        });
        self.entries.truncate(KEPT);
    }

    /// Transport `t` starts; with a cursor, the page was already following the stream.
    pub fn begin(&mut self, t: Transport, now_ms: f64, cursor: Option<String>) {
        let before = self.last_begun.replace(t);
        let Some(from) = before else { return }; // the page's first transport: nothing to recover
        if cursor.is_none() {
            return;
        }
        let why = if from == t { Why::Reopen } else { Why::Switch { from } };
        self.push(t, why, now_ms, cursor);
    }

    /// The connection of `t` was lost: the client is about to reconnect.
    pub fn lost(&mut self, t: Transport, now_ms: f64, cursor: Option<String>) {
        if self.open().is_some_and(|r| r.t == t) {
            return; // still recovering from the last loss
        }
        self.push(t, Why::Reconnect, now_ms, cursor);
    }

    /// A request of `t` went out.
    pub fn asked(&mut self, t: Transport, now_ms: f64) {
        if let Some(r) = self.open().filter(|r| r.t == t && r.asked_ms.is_none()) {
            r.asked_ms = Some(now_ms);
        }
    }

    /// An event of seq `seq`, published at local ms `published_ms`, reached the page at `now_ms`.
    pub fn event(&mut self, t: Transport, seq: u64, published_ms: f64, now_ms: f64) {
        let Some(r) = self.open().filter(|r| r.t == t) else { return };
        let Some(asked) = r.asked_ms else { return };
        r.resumed_at.get_or_insert(seq);
        if published_ms < asked {
            r.replayed += 1;
        } else {
            r.done_ms = Some(now_ms);
        }
    }

    pub fn reset(&mut self, t: Transport, why: String) {
        if let Some(r) = self.open().filter(|r| r.t == t) {
            r.reset = Some(why);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reconnect_is_recorded_from_loss_to_live() {
        let mut l = Ledger::default();
        l.begin(Transport::Ws, 0.0, None);
        assert!(l.entries.is_empty(), "the first transport recovers nothing");
        l.lost(Transport::Ws, 1000.0, Some("e-10".into()));
        l.lost(Transport::Ws, 1500.0, Some("e-10".into()));
        assert_eq!(l.entries.len(), 1, "one loss until it recovers");
        l.asked(Transport::Ws, 2000.0);
        l.event(Transport::Ws, 11, 1200.0, 2050.0);
        l.event(Transport::Ws, 12, 1900.0, 2051.0);
        l.event(Transport::Ws, 13, 2100.0, 2110.0);
        let r = &l.entries[0];
        assert_eq!((r.resumed_at, r.replayed, r.took_ms()), (Some(11), 2, Some(1110.0)));
        assert_eq!(r.why, Why::Reconnect);
    }

    #[test]
    fn a_switch_and_a_reset_are_recorded() {
        let mut l = Ledger::default();
        l.begin(Transport::Poll, 0.0, None);
        l.begin(Transport::Sse, 500.0, Some("e-3".into()));
        l.asked(Transport::Sse, 510.0);
        l.reset(Transport::Sse, "expired: 40 missed".into());
        l.event(Transport::Sse, 44, 600.0, 620.0);
        let r = &l.entries[0];
        assert_eq!(r.why, Why::Switch { from: Transport::Poll });
        assert_eq!((r.reset.as_deref(), r.replayed, r.took_ms()), (Some("expired: 40 missed"), 0, Some(120.0)));
        for i in 0..30 {
            l.lost(Transport::Sse, 1000.0 + i as f64, None);
            l.asked(Transport::Sse, 1000.0 + i as f64);
            l.event(Transport::Sse, 50 + i, 2000.0, 2000.0);
        }
        assert_eq!(l.entries.len(), KEPT);
    }
}
