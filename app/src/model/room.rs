//! What a page tells the room about itself (`POST /api/report`, docs/PROTOCOL.md §6.7).

use pushlab::Transport;
use pushlab::room::{MAX_COUNTER, MAX_LATENCY_MS, ParticipantReport};

use super::Metrics;

/// The active transport's figures as the page shows them; latencies over its
/// last minute, held to the range the server takes (a clock estimate still
/// settling can make a latency read below zero).
pub fn report(client: &str, t: Transport, m: &Metrics, gaps: u64, dups: u64) -> ParticipantReport {
    let p = m.percentiles();
    let ms = |v: f64| v.clamp(0.0, MAX_LATENCY_MS);
    let n = |v: u64| v.min(MAX_COUNTER);
    ParticipantReport {
        client: client.to_owned(),
        transport: t,
        events: n(m.events),
        requests: n(m.requests),
        empty: n(m.empty),
        bytes: n(m.payload_bytes),
        p50_ms: p.map(|p| ms(p.p50)),
        p99_ms: p.map(|p| ms(p.p99)),
        reconnects: n(m.reconnects),
        gaps: n(gaps),
        dups: n(dups),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_what_the_page_shows_and_always_in_range() {
        let mut m = Metrics::default();
        (m.requests, m.empty, m.payload_bytes, m.reconnects) = (3, 1, 900, 1);
        let r = report("abc", Transport::Poll, &m, 0, 0);
        assert_eq!((r.p50_ms, r.p99_ms, r.requests, r.bytes, r.events), (None, None, 3, 900, 0));
        m.record(1000.0, Some(-3.0));
        m.record(1100.0, Some(12.0));
        let r = report("abc", Transport::Poll, &m, 2, 1);
        assert_eq!((r.events, r.gaps, r.dups), (2, 2, 1));
        assert!(
            r.p50_ms.is_some_and(|p| (0.0..0.5).contains(&p)),
            "a negative reading is never below 0: {:?}",
            r.p50_ms
        );
        assert!(r.p99_ms.is_some_and(|p| (11.9..=12.1).contains(&p)), "{:?}", r.p99_ms);
        assert_eq!(r.check(), Ok(()));
    }
}
