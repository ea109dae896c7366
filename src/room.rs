//! The room: what each participant's page reports (`POST /api/report`) and the
//! room-wide figures built from them (`GET /api/room`); docs/PROTOCOL.md §6.7.

use serde::{Deserialize, Serialize};

use crate::stats::PerTransport;
use crate::transport::Transport;

/// A page reports this often.
pub const REPORT_EVERY_S: u64 = 5;
/// A report body's limit, in bytes.
pub const MAX_REPORT_BYTES: usize = 1024;
/// Counters are cumulative; larger is not a page's.
pub const MAX_COUNTER: u64 = 1_000_000_000_000;
/// Latencies, in ms (10 minutes).
pub const MAX_LATENCY_MS: f64 = 600_000.0;
/// A client id's limit, in characters.
pub const MAX_CLIENT: usize = 64;
/// Participants at most; then `room_full`.
pub const MAX_PARTICIPANTS: usize = 1000;
/// A client silent this long has left the room.
pub const SILENT_S: u64 = 30;

/// One page's figures for its active transport, cumulative since it was last
/// opened (what the page shows; `bytes` is payload). Nothing identifies a person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantReport {
    /// The tab's id (`sessionStorage`): a reload is the same participant.
    pub client: String,
    pub transport: Transport,
    pub events: u64,
    pub requests: u64,
    pub empty: u64,
    pub bytes: u64,
    /// Over the last 60 s; `null` without samples.
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub reconnects: u64,
    pub gaps: u64,
    pub dups: u64,
}

impl ParticipantReport {
    /// Every field within its range, or what is wrong, for a 400.
    pub fn check(&self) -> Result<(), String> {
        if self.client.is_empty() || self.client.chars().count() > MAX_CLIENT {
            return Err(format!("client must be 1 to {MAX_CLIENT} characters"));
        }
        if self.client.chars().any(char::is_control) {
            return Err("client must not contain control characters".into());
        }
        for (name, v) in self.counters() {
            if v > MAX_COUNTER {
                return Err(format!("{name} must be 0 to {MAX_COUNTER}"));
            }
        }
        for (name, v) in [("p50_ms", self.p50_ms), ("p99_ms", self.p99_ms)] {
            if v.is_some_and(|v| !(0.0..=MAX_LATENCY_MS).contains(&v)) {
                return Err(format!("{name} must be 0 to {MAX_LATENCY_MS} ms, or null"));
            }
        }
        Ok(())
    }

    pub fn counters(&self) -> [(&'static str, u64); 7] {
        [
            ("events", self.events),
            ("requests", self.requests),
            ("empty", self.empty),
            ("bytes", self.bytes),
            ("reconnects", self.reconnects),
            ("gaps", self.gaps),
            ("dups", self.dups),
        ]
    }
}

/// One transport's figures over the room's participants on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RoomFigures {
    pub participants: u32,
    /// The median of the participants' p50s.
    pub p50_median_ms: Option<f64>,
    /// The worst participant's p99.
    pub p99_worst_ms: Option<f64>,
    /// Summed over participants, from their consecutive reports.
    pub requests_per_s: f64,
    pub bytes_per_s: f64,
    pub reconnects: u64,
    pub gaps: u64,
    pub dups: u64,
}

/// `GET /api/room`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoomResponse {
    /// Pages reporting now (not connections: those are `presence`).
    pub participants: u32,
    /// Where participants join, the likeliest first; empty when the server is
    /// bound to loopback (nobody else can reach it).
    pub join_urls: Vec<String>,
    pub transports: PerTransport<RoomFigures>,
}

/// The median of `values` (sorted in place); `None` when empty.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) { (values[mid - 1] + values[mid]) / 2.0 } else { values[mid] })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report() -> serde_json::Value {
        json!({"client": "a1", "transport": "sse", "events": 10, "requests": 1, "empty": 0, "bytes": 1600,
               "p50_ms": 1.5, "p99_ms": null, "reconnects": 0, "gaps": 0, "dups": 0})
    }

    #[test]
    fn a_report_reads_and_checks() {
        let r: ParticipantReport = serde_json::from_value(report()).unwrap();
        assert_eq!((r.transport, r.p50_ms, r.p99_ms), (Transport::Sse, Some(1.5), None));
        assert_eq!(r.check(), Ok(()));
        assert_eq!(serde_json::to_value(&r).unwrap(), report());
    }

    #[test]
    fn out_of_range_fields_say_which() {
        let bad = |patch: serde_json::Value| {
            let mut v = report();
            v.as_object_mut().unwrap().extend(patch.as_object().unwrap().clone());
            match serde_json::from_value::<ParticipantReport>(v) {
                Ok(r) => r.check().unwrap_err(),
                Err(e) => e.to_string(),
            }
        };
        assert!(bad(json!({"client": ""})).contains("client"));
        assert!(bad(json!({"client": "x".repeat(65)})).contains("client"));
        assert!(bad(json!({"client": "a\u{0007}"})).contains("control"));
        assert!(bad(json!({"events": 1_000_000_000_001u64})).contains("events"));
        assert!(bad(json!({"p99_ms": 600_001.0})).contains("p99_ms"));
        assert!(bad(json!({"p50_ms": -1.0})).contains("p50_ms"));
        assert!(bad(json!({"transport": "carrier-pigeon"})).contains("unknown variant"));
        assert!(bad(json!({"gaps": -1})).contains("invalid value"));
        assert!(bad(json!({"name": "Ana"})).contains("unknown field"), "nothing identifies a person");
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }
}
