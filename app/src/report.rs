//! How a transport client tells the page what happened: one typed call per
//! fact, so every transport counts each figure the same way (the figures are
//! defined on [`Metrics`]) and a client never pokes at the page's state.
//! A `Report` is per transport, so several clients can report at once.

use leptos::prelude::*;
use pushlab::{Envelope, ResetNotice, Transport};

use crate::lab::{Lab, Status};
use crate::model::{LogEntry, LogKind, Metrics};

#[derive(Clone, Copy)]
pub struct Report {
    lab: Lab,
    t: Transport,
}

/// One HTTP answer with a body the client read.
pub struct Answer {
    pub status: u16,
    pub payload_bytes: u64,
    /// Headers included, where Resource Timing tells.
    pub wire_bytes: Option<u64>,
    /// The browser opened a TCP connection for it (not a kept-alive one).
    pub new_connection: bool,
    pub events: usize,
}

impl Report {
    pub fn new(lab: Lab, t: Transport) -> Self {
        let r = Report { lab, t };
        lab.begin(t);
        r.count(|_| {});
        r
    }

    pub fn transport(&self) -> Transport {
        self.t
    }

    /// The WebSocket heartbeat the instructor set (`settings.ws_ping_s`), seconds.
    pub fn ws_ping_s(&self) -> u64 {
        self.lab.server.with_untracked(|s| s.as_ref().map_or(pushlab::fault::DEFAULT_PING_S, |s| s.settings.ws_ping_s))
    }

    fn count(&self, f: impl FnOnce(&mut Metrics)) {
        self.lab.metrics_of(self.t, f);
    }

    pub fn status(&self, s: Status) {
        self.lab.set_status(s);
    }

    /// A request went out: a poll, a long poll, or a stream or socket being opened.
    pub fn request(&self) {
        self.count(|m| m.requests += 1);
        self.lab.asked(self.t);
    }

    /// A stream or socket is open (one TCP connection each); `again` after a failure or cut.
    pub fn opened(&self, again: bool) {
        self.count(|m| {
            m.connections += 1;
            m.reconnects += u64::from(again);
        });
    }

    /// A polling answer came back; `again` when it is the first after a failure or cut.
    pub fn answered(&self, a: &Answer, again: bool) {
        self.count(|m| {
            m.payload_bytes += a.payload_bytes;
            m.wire_bytes += a.wire_bytes.unwrap_or(0);
            m.empty += u64::from(a.events == 0);
            m.connections += u64::from(a.new_connection);
            m.reconnects += u64::from(again);
        });
    }

    /// A streamed message's payload.
    pub fn frame(&self, bytes: usize) {
        self.count(|m| m.payload_bytes += bytes as u64);
    }

    pub fn event(&self, env: &Envelope, at_ms: f64) {
        self.lab.on_event(self.t, env, at_ms);
    }

    pub fn reset(&self, notice: &ResetNotice, at_ms: f64) {
        self.lab.on_reset(self.t, notice, at_ms);
    }

    /// A failure whose log line is already there (a held long poll's).
    pub fn count_error(&self) {
        self.count(|m| m.errors += 1);
    }

    /// A request or connection failed; logged as an error line.
    pub fn failed(&self, entry: LogEntry) {
        self.count_error();
        self.log(LogEntry { kind: LogKind::Error, ..entry });
    }

    /// A frame or answer that did not parse: counted and shown, never silently dropped.
    pub fn unparsed(&self, at_ms: f64, bytes: usize, why: impl std::fmt::Display) {
        self.count(|m| m.unparsed += 1);
        self.log(LogEntry::new(self.t, LogKind::Error, at_ms, format!("unreadable: {why}")).bytes(bytes as u64));
    }

    pub fn log(&self, entry: LogEntry) -> u64 {
        self.lab.log_entry(entry)
    }

    /// A log line of this transport, naming the instance that answers it now.
    pub fn line(&self, kind: LogKind, at_ms: f64, note: impl Into<String>) -> LogEntry {
        LogEntry::new(self.t, kind, at_ms, note)
            .by(self.lab.instance.get_untracked())
            .over(self.lab.protocol.get_untracked())
    }

    /// The server instance that answered (a header, an SSE hello, a WebSocket pong).
    /// The HTTP protocol an answer or stream came over, when the browser or the stream said.
    pub fn carried_by(&self, protocol: Option<&str>) {
        let Some(p) = protocol.filter(|p| !p.is_empty()) else { return };
        if self.lab.protocol.with_untracked(|x| x.as_deref() != Some(p)) {
            self.lab.protocol.set(Some(p.to_owned()));
        }
    }

    pub fn answered_by(&self, instance: Option<&str>) {
        let Some(id) = instance else { return };
        if self.lab.instance.with_untracked(|i| i.as_deref() != Some(id)) {
            self.lab.instance.set(Some(id.to_owned()));
            self.lab.use_clock_of_current();
        }
    }

    pub fn update_log(&self, n: u64, f: impl FnOnce(&mut LogEntry)) {
        self.lab.update_log(n, f);
    }

    /// The cursor to resume from (none for a new client).
    pub fn cursor(&self) -> Option<String> {
        self.lab.feed.with_untracked(|f| f.cursor.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(seq: u64) -> Envelope {
        serde_json::from_value(serde_json::json!({
            "id": format!("1-{seq}"), "seq": seq, "sent_at_us": 1_000_000,
            "event": {"type": "counter:update", "name": "active_users", "value": 3}
        }))
        .unwrap()
    }

    fn announcement(seq: u64, per_s: f64) -> Envelope {
        serde_json::from_value(serde_json::json!({
            "id": format!("1-{seq}"), "seq": seq, "sent_at_us": 1_000_000,
            "event": {"type": "announcement", "text": "rate", "action": {"action": "set_rate", "per_s": per_s}}
        }))
        .unwrap()
    }

    fn stats(rate: f64) -> pushlab::ServerStats {
        let zero = serde_json::json!({"poll": 0, "long-poll": 0, "sse": 0, "ws": 0});
        let counters = serde_json::json!({"open": 0, "connections": 0, "requests": 0, "empty_responses": 0, "events": 0, "bytes": 0});
        serde_json::from_value(serde_json::json!({
            "epoch": "e1", "uptime_s": 1, "head_seq": 1, "history_len": 1, "history_capacity": 10,
            "events_per_s": rate, "requests_per_s": 0.0,
            "settings": {"rate_per_s": rate, "paused": false, "delay_ms": 0},
            "presence": zero,
            "transports": {"poll": counters, "long-poll": counters, "sse": counters, "ws": counters}
        }))
        .unwrap()
    }

    #[test]
    fn a_rate_announced_on_the_stream_splits_the_rows_and_older_stats_do_not_undo_it() {
        let lab = Lab::new(Transport::Sse, 2);
        let rows = || {
            lab.session
                .with_untracked(|s| s.rows.iter().map(|r| (r.conditions.rate_per_s, r.is_open())).collect::<Vec<_>>())
        };
        let r = Report::new(lab, Transport::Sse);
        lab.now_ms.set(1000.0);
        lab.on_stats(stats(20.0), 900.0);
        r.event(&envelope(1), 1001.0);
        r.event(&announcement(2, 50.0), 1002.0);
        lab.now_ms.set(1003.0);
        r.event(&envelope(3), 1003.0);
        assert_eq!(rows(), [(Some(20.0), false), (Some(50.0), true)]);
        // Asked for before the announcement: it may predate the change.
        lab.on_stats(stats(20.0), 1001.5);
        assert_eq!(rows().len(), 2);
        lab.on_stats(stats(50.0), 1004.0);
        let (old, new) = lab.session.with_untracked(|s| (s.rows[0].row(Default::default()), s.rows[1].clone()));
        assert_eq!((old.events, old.duration_s), (2, 1.0), "the announcement is the last event at the old rate");
        let now = lab.metrics.with_untracked(|m| m.get(Transport::Sse).counts());
        assert_eq!(new.row(now).events, 1);
        lab.reset_counters();
        assert_eq!(rows(), [(Some(50.0), true)], "a reset keeps the conditions");
    }

    #[test]
    fn every_fact_lands_in_its_figure() {
        let lab = Lab::new(Transport::LongPoll, 2);
        let r = Report::new(lab, Transport::LongPoll);
        r.request();
        r.answered(
            &Answer { status: 200, payload_bytes: 300, wire_bytes: Some(500), new_connection: true, events: 2 },
            false,
        );
        r.event(&envelope(1), 1001.0);
        r.event(&envelope(2), 1002.0);
        r.event(&envelope(2), 1002.0);
        r.request();
        r.answered(
            &Answer { status: 204, payload_bytes: 0, wire_bytes: Some(120), new_connection: false, events: 0 },
            true,
        );
        r.unparsed(1003.0, 9, "expected value");
        let m = lab.metrics.with_untracked(|m| m.get(Transport::LongPoll).clone());
        assert_eq!((m.requests, m.empty, m.connections, m.reconnects), (2, 1, 1, 1));
        assert_eq!((m.payload_bytes, m.wire_bytes, m.events, m.unparsed), (300, 620, 2, 1));
        let feed = lab.feed.get_untracked();
        assert_eq!((feed.duplicates, feed.gaps, feed.cursor.as_deref()), (1, 0, Some("1-2")));
        assert_eq!(lab.log.with_untracked(|l| l.entries.len()), 1, "the unreadable answer is logged");
        assert!(lab.metrics.with_untracked(|m| !m.get(Transport::Sse).used), "only its own transport");
    }

    #[test]
    fn each_line_names_the_instance_that_answered() {
        let lab = Lab::new(Transport::Ws, 2);
        let r = Report::new(lab, Transport::Ws);
        r.log(r.line(LogKind::WsFrame, 1.0, "before any answer"));
        r.answered_by(Some("a"));
        r.log(r.line(LogKind::WsFrame, 2.0, "from a"));
        r.answered_by(None); // an answer without the header changes nothing
        r.answered_by(Some("b"));
        r.log(r.line(LogKind::WsFrame, 3.0, "from b"));
        let by: Vec<_> = lab.log.with_untracked(|l| l.entries.iter().map(|e| e.instance.clone()).collect());
        // Newest first; frames from another instance do not merge into one line.
        assert_eq!(by, [Some("b".into()), Some("a".into()), None]);
    }
}
