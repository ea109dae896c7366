//! Latency percentiles without sorting: a log-scale histogram (1 % wide bins)
//! that samples can be added to and taken out of, so the percentiles of a
//! sliding window cost a walk over the bins, not a sort per event.
//!
//! Hand-written rather than `hdrhistogram`: it is 60 lines, and every crate
//! the dashboard pulls in is shipped to each participant's browser.

/// Below this (µs) every sample shares the first bin.
const FLOOR_US: f64 = 10.0;
/// Each bin is this much wider than the one before: quantiles within 0.5 %.
const GROWTH: f64 = 1.01;
/// The last bin holds everything above about 70 minutes.
const MAX_BIN: f64 = 2000.0;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    counts: Vec<u32>,
    len: u64,
}

fn bin(ms: f64) -> usize {
    let us = ms * 1000.0;
    if us.is_nan() || us < FLOOR_US {
        // Also NaN, and negative latencies (a clock estimate off by more than the latency).
        return 0;
    }
    1 + ((us / FLOOR_US).ln() / GROWTH.ln()).floor().min(MAX_BIN) as usize
}

/// The middle of a bin, in ms.
fn value(bin: usize) -> f64 {
    if bin == 0 {
        return FLOOR_US / 2000.0;
    }
    FLOOR_US * GROWTH.powi(bin as i32 - 1) * GROWTH.sqrt() / 1000.0
}

impl Histogram {
    pub fn add(&mut self, ms: f64) {
        let b = bin(ms);
        if b >= self.counts.len() {
            self.counts.resize(b + 1, 0);
        }
        self.counts[b] += 1;
        self.len += 1;
    }

    /// Takes out a sample added before.
    pub fn remove(&mut self, ms: f64) {
        if let Some(c) = self.counts.get_mut(bin(ms))
            && *c > 0
        {
            *c -= 1;
            self.len -= 1;
        }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The nearest-rank quantile `q` (0–1), to within half a bin.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let rank = ((q * self.len as f64).ceil() as u64).clamp(1, self.len.max(1));
        let mut seen = 0;
        for (b, c) in self.counts.iter().enumerate() {
            seen += u64::from(*c);
            if seen >= rank && self.len > 0 {
                return Some(value(b));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn near(a: f64, b: f64) -> bool {
        (a - b).abs() <= b * 0.006
    }

    #[test]
    fn quantiles_within_half_a_percent() {
        let mut h = Histogram::default();
        assert_eq!(h.quantile(0.5), None);
        for i in 1..=1000 {
            h.add(i as f64 * 0.01); // 0.01 … 10 ms
        }
        let (p50, p99) = (h.quantile(0.5).unwrap(), h.quantile(0.99).unwrap());
        assert!(near(p50, 5.0) && near(p99, 9.9), "{p50} {p99}");
        assert!(near(h.quantile(1.0).unwrap(), 10.0));
    }

    #[test]
    fn samples_come_out_again() {
        let mut h = Histogram::default();
        for v in [0.2, 0.3, 400.0, 400.0] {
            h.add(v);
        }
        h.remove(400.0);
        h.remove(400.0);
        h.remove(7.0); // never added: ignored
        assert_eq!(h.len(), 2);
        assert!(near(h.quantile(1.0).unwrap(), 0.3));
    }

    #[test]
    fn odd_values_land_in_the_first_bin() {
        let mut h = Histogram::default();
        for v in [-3.0, f64::NAN, 0.0, f64::INFINITY] {
            h.add(v);
        }
        assert_eq!(h.len(), 4);
        assert_eq!(h.quantile(0.5), Some(0.005));
        assert!(h.quantile(1.0).unwrap() > 1e6, "infinity is the largest bin");
    }
}
