//! A run's figures: the table people read and the JSON programs read.

use std::fmt::Write as _;

use pushlab::Transport;
use serde::{Deserialize, Serialize};

use crate::procfs::Sample;
use crate::tally::Tally;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub url: String,
    pub transport: Transport,
    pub clients: u32,
    pub connected: u32,
    pub failed: u32,
    /// Clients that received at least one event published after they started.
    pub clients_live: u32,
    /// The first failure, when some clients could not run.
    pub first_error: Option<String>,
    pub duration_s: f64,
    pub events: u64,
    pub events_per_s: f64,
    pub latency_ms: Option<Latency>,
    pub requests_per_event: Option<f64>,
    pub empty_per_event: Option<f64>,
    /// Bytes read from the sockets per delivered event, headers and framing included.
    pub bytes_per_event: Option<f64>,
    /// Streaming transports: payload bytes per delivered event (the SSE
    /// `data:` value, the WebSocket text); the rest of `bytes_per_event` is framing.
    pub payload_per_event: Option<f64>,
    pub bytes_read: u64,
    pub requests: u64,
    pub empty_responses: u64,
    pub reconnects: u64,
    pub gaps: u64,
    pub duplicates: u64,
    pub resets: u64,
    pub server: Option<ServerCost>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct ServerCost {
    pub rss_start_kib: u64,
    pub rss_end_kib: u64,
    pub cpu_s: f64,
    /// Server CPU seconds per million deliveries.
    pub cpu_s_per_million: Option<f64>,
    /// Server write system calls per delivery (below 1: batches share a write).
    #[serde(default)]
    pub writes_per_delivery: Option<f64>,
    /// Server thread wake-ups per delivery.
    #[serde(default)]
    pub wakeups_per_delivery: Option<f64>,
}

impl ServerCost {
    /// What the server spent between two samples on `deliveries` events.
    pub fn between(a: Sample, b: Sample, deliveries: u64) -> ServerCost {
        let cpu_s = b.cpu_s - a.cpu_s;
        let per = |v: f64| (deliveries > 0).then(|| v / deliveries as f64);
        ServerCost {
            rss_start_kib: a.rss_kib,
            rss_end_kib: b.rss_kib,
            cpu_s,
            cpu_s_per_million: per(cpu_s * 1e6),
            writes_per_delivery: per(b.writes.saturating_sub(a.writes) as f64).filter(|_| b.writes > 0),
            wakeups_per_delivery: per(b.wakeups.saturating_sub(a.wakeups) as f64),
        }
    }
}

impl Report {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        url: &str,
        transport: Transport,
        tallies: &[Tally],
        duration_s: f64,
        server: Option<(Sample, Sample)>,
    ) -> Report {
        let mut sum = Tally::default();
        for t in tallies {
            sum.merge(t);
        }
        let connected = tallies.iter().filter(|t| t.connected).count() as u32;
        let per_event = |v: u64| (sum.events > 0).then(|| v as f64 / sum.events as f64);
        let h = &sum.latency_us;
        let ms = |us: u64| us as f64 / 1000.0;
        Report {
            url: url.to_owned(),
            transport,
            clients: tallies.len() as u32,
            connected,
            failed: tallies.len() as u32 - connected,
            clients_live: tallies.iter().filter(|t| !t.latency_us.is_empty()).count() as u32,
            first_error: tallies.iter().find_map(|t| t.error.clone()),
            duration_s,
            events: sum.events,
            events_per_s: if duration_s > 0.0 { sum.events as f64 / duration_s } else { 0.0 },
            latency_ms: (!h.is_empty()).then(|| Latency {
                p50: ms(h.value_at_quantile(0.5)),
                p90: ms(h.value_at_quantile(0.9)),
                p99: ms(h.value_at_quantile(0.99)),
                p999: ms(h.value_at_quantile(0.999)),
                max: ms(h.max()),
            }),
            requests_per_event: per_event(sum.requests),
            empty_per_event: per_event(sum.empty),
            bytes_per_event: per_event(sum.bytes_read),
            payload_per_event: per_event(sum.payload_bytes).filter(|&p| p > 0.0),
            bytes_read: sum.bytes_read,
            requests: sum.requests,
            empty_responses: sum.empty,
            reconnects: sum.reconnects,
            gaps: sum.gaps,
            duplicates: sum.duplicates,
            resets: sum.resets,
            server: server.map(|(a, b)| ServerCost::between(a, b, sum.events)),
        }
    }

    pub fn table(&self) -> String {
        let opt = |v: Option<f64>, digits: usize| v.map_or("n/a".to_string(), |v| format!("{v:.digits$}"));
        let mut out = String::new();
        let mut row = |k: &str, v: String| {
            let _ = writeln!(out, "  {k:<34} {v}");
        };
        row("transport", self.transport.as_str().to_string());
        row("clients connected / failed", format!("{} / {}", self.connected, self.failed));
        row("duration", format!("{:.1} s", self.duration_s));
        row("events delivered", format!("{} ({:.1}/s)", self.events, self.events_per_s));
        row(
            "latency p50 / p90 / p99 / p99.9 / max",
            self.latency_ms.map_or("n/a".into(), |l| {
                format!("{:.3} / {:.3} / {:.3} / {:.3} / {:.3} ms", l.p50, l.p90, l.p99, l.p999, l.max)
            }),
        );
        row("HTTP requests per event", opt(self.requests_per_event, 4));
        row("empty responses per event", opt(self.empty_per_event, 4));
        row("bytes read per event (raw socket)", opt(self.bytes_per_event, 1));
        row("payload bytes per event", opt(self.payload_per_event, 1));
        row("reconnects", self.reconnects.to_string());
        row("gaps / duplicates / resets", format!("{} / {} / {}", self.gaps, self.duplicates, self.resets));
        if let Some(s) = self.server {
            row(
                "server RSS start → end",
                format!("{:.1} → {:.1} MiB", s.rss_start_kib as f64 / 1024.0, s.rss_end_kib as f64 / 1024.0),
            );
            row("server CPU", format!("{:.2} s ({} s per million deliveries)", s.cpu_s, opt(s.cpu_s_per_million, 2)));
        }
        if let Some(e) = &self.first_error {
            row("first error", e.clone());
        }
        out
    }
}
