//! Once a second: publish a `presence` event if the counts changed (a thousand
//! clients joining is one event, and a quiet room stays quiet), and turn the
//! counters into the rates `/api/stats` shows.

use std::collections::VecDeque;
use std::time::Duration;

use pushlab::{Event, PresenceCounts};
use tokio_util::sync::CancellationToken;

use crate::Hub;
use crate::broker::{Broker, Sink};
use crate::stats::{Rates, Stats};

pub const PERIOD: Duration = Duration::from_secs(1);
/// Rates are taken over this many periods: over one, a 2 s poller's
/// requests/s read 0, 1, 0, 1.
pub const RATE_PERIODS: usize = 5;

/// The last few (head, requests) readings, one per period.
#[derive(Default)]
struct RateWindow(VecDeque<(u64, u64)>);

impl RateWindow {
    fn push(&mut self, head: u64, requests: u64) -> Rates {
        self.0.push_back((head, requests));
        if self.0.len() > RATE_PERIODS + 1 {
            self.0.pop_front();
        }
        let (Some(first), Some(last)) = (self.0.front(), self.0.back()) else { return Rates::default() };
        let secs = (self.0.len() - 1).max(1) as f64 * PERIOD.as_secs_f64();
        Rates {
            events_per_s: last.0.saturating_sub(first.0) as f64 / secs,
            requests_per_s: last.1.saturating_sub(first.1) as f64 / secs,
        }
    }
}

/// Only the leader publishes, and the counts are the cluster's.
pub async fn run(hub: Hub, broker: Broker, stats: Stats, publish: bool, shutdown: CancellationToken) {
    let leader = broker.watch_leader();
    let mut tick = tokio::time::interval(PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = PresenceCounts::default();
    let mut window = RateWindow::default();
    window.push(hub.head(), stats.total_requests());
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        stats.set_rates(window.push(hub.head(), stats.total_requests()));
        let counts = broker.presence();
        if publish
            && *leader.borrow()
            && counts != last
            && broker.publish(vec![Event::Presence { counts }], true).await.is_ok()
        {
            last = counts;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_two_second_poller_reads_half_a_request_a_second() {
        let mut w = RateWindow::default();
        w.push(0, 0);
        let mut seen = Vec::new();
        for s in 1..=12u64 {
            // 20 events a second; a request every other second.
            seen.push(w.push(s * 20, s / 2).requests_per_s);
        }
        assert!(seen[5..].iter().all(|r| (0.4..=0.6).contains(r)), "steady, not 0/1: {seen:?}");
        assert_eq!(w.push(13 * 20, 6).events_per_s, 20.0);
    }
}
