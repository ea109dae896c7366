//! What one transport costs, as this page measured it: kept per transport so
//! switching back shows its history.

use std::collections::VecDeque;

use crate::model::histogram::Histogram;

/// Latency figures and the chart cover this much time: old-rate samples leave
/// a minute after a demo slows down, whatever the rate was.
pub const WINDOW_MS: f64 = 60_000.0;
pub const BUCKET_MS: f64 = 500.0;
/// The line breaks where nothing was timed for this long (a pause, another
/// transport): longer than the default 2 s poll interval, whose answers are
/// otherwise points a line apart.
pub const BREAK_MS: f64 = 5_000.0;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics {
    /// Used at all in this session (shown in the comparison table).
    pub used: bool,
    pub events: u64,
    /// HTTP requests: polls, long polls, and each stream or socket opened (the
    /// browser's own SSE retries included).
    pub requests: u64,
    /// Answers with no event in them (empty polls, long polls ended by 204).
    pub empty: u64,
    /// TCP connections opened: a stream or socket each open; for fetches, what
    /// Resource Timing says (a kept-alive socket opens none).
    pub connections: u64,
    /// Opens after a failure or a cut, of any transport.
    pub reconnects: u64,
    pub errors: u64,
    pub resets: u64,
    /// Frames or answers that did not parse (counted, never silently dropped).
    pub unparsed: u64,
    /// Bytes of payload handed to the page (bodies, SSE data, WS frames).
    pub payload_bytes: u64,
    /// Bytes on the wire, headers included, where the browser reports them (HTTP only).
    pub wire_bytes: u64,
    window: VecDeque<Bucket>,
    histogram: Histogram,
}

/// Half a second of latency samples.
#[derive(Clone, Debug, PartialEq)]
struct Bucket {
    start_ms: f64,
    samples: Vec<f32>,
    sum: f64,
    max: f64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
    /// How many samples they are taken from.
    pub samples: u64,
}

/// The counters of a [`Metrics`], which a comparison row takes the difference of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub events: u64,
    pub requests: u64,
    pub empty: u64,
    pub connections: u64,
    pub reconnects: u64,
    pub payload_bytes: u64,
    pub wire_bytes: u64,
}

impl Counts {
    /// What was counted after `base`.
    pub fn since(self, base: Counts) -> Counts {
        Counts {
            events: self.events.saturating_sub(base.events),
            requests: self.requests.saturating_sub(base.requests),
            empty: self.empty.saturating_sub(base.empty),
            connections: self.connections.saturating_sub(base.connections),
            reconnects: self.reconnects.saturating_sub(base.reconnects),
            payload_bytes: self.payload_bytes.saturating_sub(base.payload_bytes),
            wire_bytes: self.wire_bytes.saturating_sub(base.wire_bytes),
        }
    }
}

impl Metrics {
    pub fn counts(&self) -> Counts {
        Counts {
            events: self.events,
            requests: self.requests,
            empty: self.empty,
            connections: self.connections,
            reconnects: self.reconnects,
            payload_bytes: self.payload_bytes,
            wire_bytes: self.wire_bytes,
        }
    }

    /// Records one event that arrived at local time `at_ms`, and its latency (ms) when it
    /// was live: events replayed from before the transport opened are counted, not timed.
    pub fn record(&mut self, at_ms: f64, latency_ms: Option<f64>) {
        self.events += 1;
        let Some(latency_ms) = latency_ms else { return };
        // Stored as kept, so the histogram takes out exactly what it put in.
        let kept = latency_ms as f32;
        self.histogram.add(f64::from(kept));
        let start = (at_ms / BUCKET_MS).floor() * BUCKET_MS;
        match self.window.back_mut() {
            Some(b) if b.start_ms >= start => {
                b.samples.push(kept);
                b.sum += latency_ms;
                b.max = b.max.max(latency_ms);
            }
            _ => {
                self.window.push_back(Bucket { start_ms: start, samples: vec![kept], sum: latency_ms, max: latency_ms })
            }
        }
        self.expire(at_ms);
    }

    /// Forgets the samples older than the window ending at `now_ms`.
    pub fn expire(&mut self, now_ms: f64) {
        while let Some(b) = self.window.front().filter(|b| b.start_ms + BUCKET_MS < now_ms - WINDOW_MS) {
            for v in &b.samples {
                self.histogram.remove(f64::from(*v));
            }
            self.window.pop_front();
        }
    }

    /// Percentiles of the last minute's samples (nearest rank, to within 0.5 %).
    pub fn percentiles(&self) -> Option<Percentiles> {
        let q = |p| self.histogram.quantile(p);
        Some(Percentiles {
            p50: q(0.50)?,
            p95: q(0.95)?,
            p99: q(0.99)?,
            max: self.window.iter().map(|b| b.max).fold(f64::MIN, f64::max),
            samples: self.histogram.len(),
        })
    }

    /// Meaningful for request-per-answer transports only: a stream has one request.
    pub fn events_per_request(&self) -> Option<f64> {
        (self.requests > 0).then(|| self.events as f64 / self.requests as f64)
    }

    /// SVG paths of the last minute ending at `now_ms` (mean, then max per half second),
    /// scaled into `w`×`h`, and the latency at the top of the chart. A line is broken
    /// where no event was timed for more than a second: the transport was idle or off.
    pub fn chart(&self, now_ms: f64, w: f64, h: f64) -> (String, String, f64) {
        let recent = || self.window.iter().filter(|b| b.start_ms >= now_ms - WINDOW_MS);
        let top = nice_ceiling(recent().map(|b| b.max).fold(0.0, f64::max));
        let x = |t: f64| (w * (1.0 - (now_ms - t) / WINDOW_MS)).clamp(0.0, w);
        let y = |v: f64| h - (v / top * h).clamp(0.0, h);
        let path = |f: &dyn Fn(&Bucket) -> f64| {
            let mut d = String::new();
            let mut prev = f64::MIN;
            for b in recent() {
                let cmd = if b.start_ms - prev > BREAK_MS { 'M' } else { 'L' };
                prev = b.start_ms;
                d.push_str(&format!("{cmd}{:.1} {:.1} ", x(b.start_ms + BUCKET_MS / 2.0), y(f(b))));
                // A point on its own still shows: a dot (the stroke's round cap on a tiny step).
                if cmd == 'M' {
                    d.push_str("h0.1 ");
                }
            }
            d
        };
        (path(&|b| b.sum / b.samples.len() as f64), path(&|b| b.max), top)
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
        let near = |a: f64, b: f64| (a - b).abs() <= b * 0.006;
        assert!(near(p.p50, 50.0) && near(p.p95, 95.0) && near(p.p99, 99.0), "{p:?}");
        assert_eq!((p.max, p.samples), (100.0, 100));
        assert_eq!(m.events, 100);
        m.record(2000.0, None);
        assert_eq!((m.events, m.percentiles().unwrap().samples), (101, 100), "a replayed event is counted, not timed");
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
    fn percentiles_cover_the_last_minute_whatever_the_rate_was() {
        let mut m = Metrics::default();
        for i in 0..30_000 {
            m.record(i as f64, Some(100.0)); // 30 s at 1000/s, 100 ms each
        }
        for i in 0..62 {
            m.record(30_000.0 + i as f64 * 1000.0, Some(1.0)); // then 62 s at 1/s
        }
        let p = m.percentiles().unwrap();
        assert!(p.p99 < 1.1 && p.max == 1.0, "the fast minute is gone: {p:?}");
        m.expire(200_000.0);
        assert_eq!(m.percentiles(), None, "nothing timed in the last minute");
        assert_eq!(m.events, 30_062);
    }

    #[test]
    fn the_chart_breaks_where_nothing_was_timed() {
        let mut m = Metrics::default();
        m.record(1_000.0, Some(2.0));
        m.record(1_400.0, Some(2.0));
        m.record(9_000.0, Some(2.0));
        let (mean, _, _) = m.chart(10_000.0, 600.0, 100.0);
        assert_eq!((mean.matches('M').count(), mean.matches('L').count()), (2, 0), "{mean}");
        assert_eq!(mean.matches("h0.1").count(), 2, "each lone point is drawn as a dot: {mean}");
        // Short polling every 2 s: one line through its answers, not a row of lone points.
        let mut m = Metrics::default();
        for i in 0..10 {
            m.record(20_000.0 + i as f64 * 2_000.0, Some(900.0));
        }
        let (mean, _, _) = m.chart(40_000.0, 600.0, 100.0);
        assert_eq!((mean.matches('M').count(), mean.matches('L').count()), (1, 9), "{mean}");
    }

    #[test]
    fn the_chart_keeps_one_minute_in_half_second_buckets() {
        let mut m = Metrics::default();
        for i in 0..1300 {
            m.record(i as f64 * 100.0, Some(3.0)); // 130 s at 10/s
        }
        assert_eq!(m.window.len(), 121);
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
