//! Clock offset between this machine and the server, NTP-style: of several
//! `GET /api/time` round trips, trust the one with the smallest round trip.

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ClockOffset {
    /// Server clock minus local clock, microseconds.
    pub offset_us: f64,
    /// Round trip of the sample it came from, microseconds.
    pub rtt_us: f64,
    pub samples: u32,
}

impl ClockOffset {
    /// Adds one round trip: sent at `t0`, answered `server_us`, received at `t1` (local µs).
    pub fn add_sample(&mut self, t0: f64, server_us: f64, t1: f64) {
        let rtt = (t1 - t0).max(0.0);
        if self.samples == 0 || rtt < self.rtt_us {
            self.offset_us = server_us - (t0 + t1) / 2.0;
            self.rtt_us = rtt;
        }
        self.samples += 1;
    }

    /// One-way latency of an event stamped `sent_at_us` (server clock), read at `now_local_us`.
    pub fn latency_us(&self, sent_at_us: i64, now_local_us: f64) -> f64 {
        now_local_us + self.offset_us - sent_at_us as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_sample_with_the_smallest_round_trip() {
        let mut c = ClockOffset::default();
        // The server runs 5 s ahead.
        c.add_sample(1_000.0, 5_001_400.0, 2_000.0); // rtt 1000: asymmetric, offset off by 900
        c.add_sample(3_000.0, 5_003_100.0, 3_200.0); // rtt 200: exact
        c.add_sample(4_000.0, 5_004_900.0, 5_000.0); // rtt 1000
        assert_eq!((c.offset_us, c.rtt_us, c.samples), (5_000_000.0, 200.0, 3));
        assert_eq!(c.latency_us(5_010_000, 10_250.0), 250.0);
    }
}
