//! The request log: the last requests and frames, a tiny network tab.

use std::collections::VecDeque;

use pushlab::Transport;

pub const LOG_LEN: usize = 50;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogKind {
    Poll,
    EmptyPoll,
    LongPollHeld,
    LongPollReturned,
    LongPollTimeout,
    SseOpen,
    SseEvent,
    WsOpen,
    WsFrame,
    WsPong,
    /// A held long poll given up by the page (a switch or a cut).
    LongPollCancelled,
    Reset,
    Error,
    Closed,
}

impl LogKind {
    pub fn label(self) -> &'static str {
        match self {
            LogKind::Poll => "poll",
            LogKind::EmptyPoll => "empty poll",
            LogKind::LongPollHeld => "long-poll held",
            LogKind::LongPollReturned => "long-poll returned",
            LogKind::LongPollTimeout => "long-poll timeout",
            LogKind::SseOpen => "SSE open",
            LogKind::SseEvent => "SSE event",
            LogKind::WsOpen => "WS open",
            LogKind::WsFrame => "WS frame",
            LogKind::WsPong => "WS pong",
            LogKind::LongPollCancelled => "long-poll cancelled",
            LogKind::Reset => "reset",
            LogKind::Error => "error",
            LogKind::Closed => "closed",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct LogEntry {
    /// Unique within the page, for keyed rendering.
    pub n: u64,
    /// Local wall clock, ms since the Unix epoch.
    pub at_ms: f64,
    pub transport: Transport,
    pub kind: LogKind,
    /// HTTP status, or a close code.
    pub status: Option<u16>,
    pub bytes: Option<u64>,
    pub duration_ms: Option<f64>,
    pub note: String,
    /// The server instance that answered (its `X-Pushlab-Instance`, or the stream's hello).
    pub instance: Option<String>,
    /// The HTTP protocol that carried it (`http/1.1`, `h2`), when the browser or the stream said.
    pub protocol: Option<String>,
    /// Frames of one kind in a row, within `MERGE_MS`, share a line.
    pub count: u32,
}

/// At 1000 events/s a line per frame is unreadable and costs a render each.
pub const MERGE_MS: f64 = 250.0;

impl LogEntry {
    pub fn new(transport: Transport, kind: LogKind, at_ms: f64, note: impl Into<String>) -> Self {
        LogEntry {
            n: 0,
            at_ms,
            transport,
            kind,
            status: None,
            bytes: None,
            duration_ms: None,
            note: note.into(),
            instance: None,
            protocol: None,
            count: 1,
        }
    }
    pub fn status(self, status: u16) -> Self {
        LogEntry { status: Some(status), ..self }
    }
    pub fn bytes(self, bytes: u64) -> Self {
        LogEntry { bytes: Some(bytes), ..self }
    }
    pub fn by(self, instance: Option<String>) -> Self {
        LogEntry { instance, ..self }
    }
    pub fn over(self, protocol: Option<String>) -> Self {
        LogEntry { protocol, ..self }
    }
    pub fn took(self, ms: f64) -> Self {
        LogEntry { duration_ms: Some(ms), ..self }
    }
    fn merges_into(&self, prev: &LogEntry) -> bool {
        matches!(self.kind, LogKind::SseEvent | LogKind::WsFrame)
            && (prev.kind, prev.transport) == (self.kind, self.transport)
            && prev.instance == self.instance
            && self.at_ms - prev.at_ms < MERGE_MS
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestLog {
    pub entries: VecDeque<LogEntry>,
    next: u64,
}

impl RequestLog {
    /// Adds an entry and returns its number (to update a held long poll when it returns).
    pub fn push(&mut self, mut entry: LogEntry) -> u64 {
        if let Some(prev) = self.entries.front_mut()
            && entry.merges_into(prev)
        {
            prev.count += 1;
            prev.bytes = Some(prev.bytes.unwrap_or(0) + entry.bytes.unwrap_or(0));
            prev.note = format!("{} frames", prev.count);
            return prev.n;
        }
        self.next += 1;
        entry.n = self.next;
        self.entries.push_front(entry);
        self.entries.truncate(LOG_LEN);
        self.next
    }

    pub fn update(&mut self, n: u64, f: impl FnOnce(&mut LogEntry)) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.n == n) {
            f(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> LogEntry {
        LogEntry::new(Transport::Poll, LogKind::Poll, 0.0, "").status(200)
    }

    #[test]
    fn keeps_the_newest_fifty_first() {
        let mut log = RequestLog::default();
        for _ in 0..60 {
            log.push(entry());
        }
        assert_eq!(log.entries.len(), LOG_LEN);
        assert_eq!(log.entries.front().unwrap().n, 60);
        let n = log.push(LogEntry { kind: LogKind::LongPollHeld, ..entry() });
        log.update(n, |e| e.kind = LogKind::LongPollReturned);
        assert_eq!(log.entries[0].kind, LogKind::LongPollReturned);
    }

    #[test]
    fn frames_in_a_row_share_a_line() {
        let mut log = RequestLog::default();
        let frame = |at| LogEntry::new(Transport::Ws, LogKind::WsFrame, at, "job:update").bytes(100);
        let first = log.push(frame(0.0));
        assert_eq!(log.push(frame(100.0)), first);
        assert_eq!(log.push(frame(200.0)), first);
        assert_ne!(log.push(frame(300.0)), first, "a new line after MERGE_MS");
        log.push(LogEntry::new(Transport::Ws, LogKind::WsPong, 301.0, "pong"));
        log.push(frame(302.0));
        assert_eq!(log.entries.len(), 4);
        let merged = &log.entries[3];
        assert_eq!((merged.count, merged.bytes, merged.note.as_str()), (3, Some(300), "3 frames"));
    }
}
