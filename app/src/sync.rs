//! Background loops of the page, apart from the transports (and not counted in
//! their figures): the clock-offset estimate, the server's stats, the room
//! report, a 1 s tick.

use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use pushlab::{ServerStats, TimeResponse, Transport, paths};

use crate::lab::Lab;
use crate::model::Clocks;
use crate::transport::{Alive, client_id, http, now_ms};

const TIME_SAMPLES: u32 = 8;
const TIME_REFRESH_MS: u32 = 60_000;
const TIME_RETRY_MS: u32 = 5_000;
const POOR_RTT_US: f64 = 10_000.0;
const STATS_EVERY_MS: u32 = 3_000;
const REPORT_EVERY_MS: u32 = pushlab::room::REPORT_EVERY_S as u32 * 1000;

/// Starts the loops; they stop when `alive` is cleared.
pub fn start(lab: Lab, alive: Alive) {
    let a = alive.clone();
    spawn_local(async move {
        // The page is busy right after hydration; round trips then are long and lopsided.
        TimeoutFuture::new(300).await;
        while a.get() {
            // A refresh keeps the old estimate until the new round is complete.
            let first = lab.clock.with_untracked(|c| c.samples == 0);
            // Per instance: behind a balancer the round trips land on several.
            let mut fresh = Clocks::default();
            for _ in 0..TIME_SAMPLES {
                let t0 = now_ms();
                if let Ok(r) = http::get(paths::TIME, None).await {
                    let t1 = now_ms();
                    if let Ok(time) = serde_json::from_str::<TimeResponse>(&r.text) {
                        fresh.add_sample(r.instance.as_deref(), t0 * 1000.0, time.now_us as f64, t1 * 1000.0);
                        if first {
                            lab.set_clocks(fresh.clone());
                        }
                    }
                }
                TimeoutFuture::new(150).await;
            }
            if !fresh.is_empty() {
                lab.set_clocks(fresh.clone());
            }
            // The estimate is off by up to half its round trip: a poor round
            // (a busy page or server) is tried again soon, not in a minute.
            let best = fresh.of(None);
            let poor = best.samples == 0 || best.rtt_us > POOR_RTT_US;
            TimeoutFuture::new(if poor { TIME_RETRY_MS } else { TIME_REFRESH_MS }).await;
        }
    });
    let a = alive.clone();
    spawn_local(async move {
        while a.get() {
            let asked = now_ms();
            if let Ok(r) = http::get(paths::STATS, None).await
                && let Ok(stats) = serde_json::from_str::<ServerStats>(&r.text)
            {
                lab.on_stats(stats, asked);
            }
            TimeoutFuture::new(STATS_EVERY_MS).await;
        }
    });
    let a = alive.clone();
    spawn_local(async move {
        loop {
            TimeoutFuture::new(REPORT_EVERY_MS).await;
            if !a.get() {
                break;
            }
            let said = match crate::api::post_report(&lab.room_report(client_id())).await {
                Ok(()) => format!("this page reports every {} s", pushlab::room::REPORT_EVERY_S),
                Err(f) => format!("report refused: {}", f.message),
            };
            lab.room.set(Some(said));
        }
    });
    spawn_local(async move {
        let mut last = now_ms();
        crate::frame::take_work();
        while alive.get() {
            let now = now_ms();
            lab.busy.set((crate::frame::take_work() / (now - last).max(1.0)).clamp(0.0, 1.0));
            last = now;
            // Figures of a transport that went quiet still leave the window.
            lab.metrics.update(|m| Transport::ALL.iter().for_each(|t| m.get_mut(*t).expire(now)));
            lab.now_ms.set(now);
            TimeoutFuture::new(1_000).await;
        }
    });
}
