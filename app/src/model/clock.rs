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

/// One estimate per server instance: behind a balancer, round trips land on
/// several instances, and samples of one clock never mix into another's.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Clocks {
    /// (instance id, or "" when the answer named none; its estimate).
    per: Vec<(String, ClockOffset)>,
}

impl Clocks {
    pub fn add_sample(&mut self, instance: Option<&str>, t0: f64, server_us: f64, t1: f64) {
        let id = instance.unwrap_or_default();
        match self.per.iter_mut().find(|(i, _)| i == id) {
            Some((_, c)) => c.add_sample(t0, server_us, t1),
            None => {
                let mut c = ClockOffset::default();
                c.add_sample(t0, server_us, t1);
                self.per.push((id.to_owned(), c));
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.per.is_empty()
    }

    /// The estimate of `instance`'s clock, else the one with the smallest round trip.
    pub fn of(&self, instance: Option<&str>) -> ClockOffset {
        let mine = instance.and_then(|id| self.per.iter().find(|(i, _)| i == id));
        let best = || self.per.iter().min_by(|a, b| a.1.rtt_us.total_cmp(&b.1.rtt_us));
        mine.or_else(best).map(|(_, c)| *c).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_instance_keeps_its_own_offset() {
        let mut c = Clocks::default();
        assert_eq!(c.of(Some("a")), ClockOffset::default());
        c.add_sample(Some("a"), 1_000.0, 5_001_100.0, 1_200.0); // a runs 5 s ahead
        c.add_sample(Some("b"), 2_000.0, 2_050.0, 2_100.0); // b agrees with us, a shorter round trip
        c.add_sample(Some("a"), 3_000.0, 5_003_500.0, 4_000.0); // a slower round trip of a: ignored
        assert_eq!((c.of(Some("a")).offset_us, c.of(Some("a")).samples), (5_000_000.0, 2));
        assert_eq!(c.of(Some("b")).offset_us, 0.0);
        assert_eq!(c.of(Some("zz")).offset_us, 0.0, "an unknown instance takes the best estimate");
        assert_eq!(c.of(None).rtt_us, 100.0);
    }

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
