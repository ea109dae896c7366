//! What one transport costs, as this page measured it: kept per transport so
//! switching back shows its history.

use std::collections::VecDeque;

/// Latency samples kept for percentiles.
pub const SAMPLES: usize = 2000;
/// The chart's span and resolution.
pub const CHART_MS: f64 = 60_000.0;
pub const BUCKET_MS: f64 = 500.0;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics {
    /// Used at all in this session (shown in the comparison table).
    pub used: bool,
    pub events: u64,
    /// HTTP requests (polls, long polls, stream and socket opens).
    pub requests: u64,
    pub empty: u64,
    pub connections: u64,
    pub reconnects: u64,
    pub errors: u64,
    pub resets: u64,
    /// Bytes of payload handed to the page (bodies, SSE data, WS frames).
    pub payload_bytes: u64,
    /// Bytes on the wire, headers included, where the browser reports them (HTTP only).
    pub wire_bytes: u64,
    latencies: VecDeque<f64>,
    chart: VecDeque<Bucket>,
    pub max_ms: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Bucket {
    start_ms: f64,
    sum: f64,
    count: u32,
    max: f64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Metrics {
    /// Records one event read at local time `at_ms`, and its latency (ms) when it was
    /// live: events replayed from before the transport opened are counted, not timed.
    pub fn record(&mut self, at_ms: f64, latency_ms: Option<f64>) {
        self.events += 1;
        let Some(latency_ms) = latency_ms else { return };
        self.latencies.push_back(latency_ms);
        if self.latencies.len() > SAMPLES {
            self.latencies.pop_front();
        }
        self.max_ms = self.max_ms.max(latency_ms);
        let start = (at_ms / BUCKET_MS).floor() * BUCKET_MS;
        match self.chart.back_mut() {
            Some(b) if b.start_ms == start => {
                b.sum += latency_ms;
                b.count += 1;
                b.max = b.max.max(latency_ms);
            }
            _ => self.chart.push_back(Bucket { start_ms: start, sum: latency_ms, count: 1, max: latency_ms }),
        }
        while self.chart.front().is_some_and(|b| b.start_ms < at_ms - CHART_MS) {
            self.chart.pop_front();
        }
    }

    /// Percentiles of the recent samples (nearest rank); the max is over the whole session.
    pub fn percentiles(&self) -> Option<Percentiles> {
        if self.latencies.is_empty() {
            return None;
        }
        let mut v: Vec<f64> = self.latencies.iter().copied().collect();
        v.sort_unstable_by(f64::total_cmp);
        let at = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Some(Percentiles { p50: at(0.50), p95: at(0.95), p99: at(0.99), max: self.max_ms })
    }

    pub fn events_per_request(&self) -> Option<f64> {
        (self.requests > 0).then(|| self.events as f64 / self.requests as f64)
    }

    /// SVG paths of the last minute ending at `now_ms` (mean, then max per half second),
    /// scaled into `w`×`h`, and the latency at the top of the chart.
    pub fn chart(&self, now_ms: f64, w: f64, h: f64) -> (String, String, f64) {
        let top = nice_ceiling(self.chart.iter().map(|b| b.max).fold(0.0, f64::max));
        let x = |t: f64| (w * (1.0 - (now_ms - t) / CHART_MS)).clamp(0.0, w);
        let y = |v: f64| h - (v / top * h).clamp(0.0, h);
        let path = |f: &dyn Fn(&Bucket) -> f64| {
            let mut d = String::new();
            for (i, b) in self.chart.iter().filter(|b| b.start_ms >= now_ms - CHART_MS).enumerate() {
                let cmd = if i == 0 { 'M' } else { 'L' };
                d.push_str(&format!("{cmd}{:.1} {:.1} ", x(b.start_ms + BUCKET_MS / 2.0), y(f(b))));
            }
            d
        };
        (path(&|b| b.sum / b.count as f64), path(&|b| b.max), top)
    }
}

/// 1, 2 or 5 × a power of ten, at least `v` (and at least 1 ms).
pub fn nice_ceiling(v: f64) -> f64 {
    let v = v.max(1.0);
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * p).find(|c| *c >= v).unwrap_or(10.0 * p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut m = Metrics::default();
        assert_eq!(m.percentiles(), None);
        for i in 1..=100 {
            m.record(i as f64 * 10.0, Some(i as f64));
        }
        let p = m.percentiles().unwrap();
        assert_eq!((p.p50, p.p95, p.p99, p.max), (50.0, 95.0, 99.0, 100.0));
        assert_eq!(m.events, 100);
        m.record(2000.0, None);
        assert_eq!((m.events, m.percentiles().unwrap().p50), (101, 50.0), "a replayed event is counted, not timed");
    }

    #[test]
    fn events_per_request() {
        let mut m = Metrics { requests: 4, ..Default::default() };
        for _ in 0..10 {
            m.record(0.0, Some(1.0));
        }
        assert_eq!(m.events_per_request(), Some(2.5));
        assert_eq!(Metrics::default().events_per_request(), None);
    }

    #[test]
    fn the_chart_keeps_one_minute_in_half_second_buckets() {
        let mut m = Metrics::default();
        for i in 0..1300 {
            m.record(i as f64 * 100.0, Some(3.0)); // 130 s at 10/s
        }
        assert_eq!(m.chart.len(), 120);
        let (mean, max, top) = m.chart(129_900.0, 600.0, 100.0);
        assert_eq!(top, 5.0);
        assert!(mean.starts_with('M') && mean.matches('L').count() >= 119, "{mean}");
        assert!(max.contains("40.0"), "3 ms of 5 ms sits at y = 40: {max}");
    }

    #[test]
    fn nice_ceilings() {
        assert_eq!(nice_ceiling(0.2), 1.0);
        assert_eq!(nice_ceiling(3.0), 5.0);
        assert_eq!(nice_ceiling(12.0), 20.0);
        assert_eq!(nice_ceiling(500.0), 500.0);
        assert_eq!(nice_ceiling(501.0), 1000.0);
    }
}
