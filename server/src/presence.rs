//! Once a second: publish a `presence` event if the counts changed (a thousand
//! clients joining is one event, and a quiet room stays quiet), and turn the
//! counters into the rates `/api/stats` shows.

use std::time::Duration;

use pushlab::{Event, PresenceCounts};
use tokio_util::sync::CancellationToken;

use crate::hub::Hub;
use crate::stats::{Rates, Stats};

pub const PERIOD: Duration = Duration::from_secs(1);

pub async fn run(hub: Hub, stats: Stats, publish: bool, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = PresenceCounts::default();
    let (mut last_head, mut last_requests) = (hub.head(), stats.total_requests());
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let (head, requests) = (hub.head(), stats.total_requests());
        stats.set_rates(Rates {
            events_per_s: (head - last_head) as f64 / PERIOD.as_secs_f64(),
            requests_per_s: (requests - last_requests) as f64 / PERIOD.as_secs_f64(),
        });
        (last_head, last_requests) = (head, requests);
        let counts = stats.presence();
        if publish && counts != last {
            last = counts;
            hub.publish(Event::Presence { counts });
        }
    }
}
