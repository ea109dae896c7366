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
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestLog {
    pub entries: VecDeque<LogEntry>,
    next: u64,
}

impl RequestLog {
    /// Adds an entry and returns its number (to update a held long poll when it returns).
    pub fn push(&mut self, mut entry: LogEntry) -> u64 {
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
        LogEntry {
            n: 0,
            at_ms: 0.0,
            transport: Transport::Poll,
            kind: LogKind::Poll,
            status: Some(200),
            bytes: None,
            duration_ms: None,
            note: String::new(),
        }
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
}
