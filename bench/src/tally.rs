//! One client's figures, and their sum over all clients.

use hdrhistogram::Histogram;
use pushlab::Cursor;

#[derive(Clone, Debug)]
pub struct Tally {
    pub connected: bool,
    pub error: Option<String>,
    pub events: u64,
    pub requests: u64,
    pub empty: u64,
    pub reconnects: u64,
    pub gaps: u64,
    pub duplicates: u64,
    pub resets: u64,
    /// Publish → receipt, microseconds.
    pub latency_us: Histogram<u64>,
    pub bytes_read: u64,
    /// Streaming transports: the bytes of each message's payload (the SSE
    /// `data:` value, the WebSocket text), to weigh the framing around it.
    pub payload_bytes: u64,
    /// The cursor to resume from.
    pub cursor: Option<String>,
    /// Server time the client started: older events are catch-up, counted but not timed.
    pub since_us: i64,
    /// The storm mark this client has passed (see `Ctx::catch_up_seq`).
    pub caught_up_to: u64,
    last_seq: Option<u64>,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            connected: false,
            error: None,
            events: 0,
            requests: 0,
            empty: 0,
            reconnects: 0,
            gaps: 0,
            duplicates: 0,
            resets: 0,
            latency_us: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds"),
            bytes_read: 0,
            payload_bytes: 0,
            cursor: None,
            since_us: 0,
            caught_up_to: 0,
            last_seq: None,
        }
    }
}

impl Tally {
    /// One event: checks continuity, records its latency if it was published after the client started.
    pub fn event(&mut self, id: &str, seq: u64, sent_at_us: i64, latency_us: i64) {
        match self.last_seq {
            Some(last) if seq <= last => {
                self.duplicates += 1;
                return;
            }
            Some(last) => self.gaps += seq - last - 1,
            None => {}
        }
        self.last_seq = Some(seq);
        self.cursor = Some(id.to_owned());
        self.events += 1;
        if sent_at_us >= self.since_us {
            self.latency_us.saturating_record(latency_us.max(1) as u64);
        }
    }

    /// Starts after `cursor`: the next event should be the one after it.
    pub fn start_at(&mut self, cursor: &str) {
        self.cursor = Some(cursor.to_owned());
        self.last_seq = Cursor::from_str_opt(cursor).map(|c| c.seq);
    }

    /// A reset: the stream continues after `cursor`; its losses are not gaps.
    pub fn reset(&mut self, cursor: &str) {
        self.resets += 1;
        self.cursor = Some(cursor.to_owned());
        self.last_seq = Cursor::from_str_opt(cursor).map(|c| c.seq);
    }

    pub fn merge(&mut self, o: &Tally) {
        self.events += o.events;
        self.requests += o.requests;
        self.empty += o.empty;
        self.reconnects += o.reconnects;
        self.gaps += o.gaps;
        self.duplicates += o.duplicates;
        self.resets += o.resets;
        self.bytes_read += o.bytes_read;
        self.payload_bytes += o.payload_bytes;
        let _ = self.latency_us.add(&o.latency_us);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuity_and_merge() {
        let mut a = Tally::default();
        a.event("e-1", 1, 0, 100);
        a.event("e-2", 2, 0, 200);
        a.event("e-2", 2, 0, 200);
        a.event("e-5", 5, 0, 300);
        assert_eq!((a.events, a.gaps, a.duplicates), (3, 2, 1));
        a.reset("f-10");
        a.event("f-11", 11, 0, 50);
        assert_eq!((a.gaps, a.resets), (2, 1));
        let mut sum = Tally::default();
        sum.merge(&a);
        sum.merge(&a);
        assert_eq!((sum.events, sum.latency_us.len()), (8, 8));
        assert_eq!(sum.latency_us.max(), 300);
        let mut late = Tally { since_us: 1000, ..Tally::default() };
        late.event("g-1", 1, 999, 5000);
        late.event("g-2", 2, 1000, 7);
        assert_eq!((late.events, late.latency_us.len()), (2, 1), "catch-up is counted, not timed");
    }
}
