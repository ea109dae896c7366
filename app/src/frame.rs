//! When the views hear of new events, and how busy the page itself is.
//!
//! Clients record every event at once into untracked state (see
//! [`Lab::flush`]); the views are told at most every [`FLUSH_MS`]. A page
//! that rendered per event at 1000 events/s spent its main thread on
//! rendering, and its handlers — so its latency — ran late.

use std::cell::Cell;

use gloo_timers::callback::Timeout;
use leptos::task::spawn_local;

use crate::lab::Lab;

/// Ten renders a second: smooth on a projector, cheap at any rate.
pub const FLUSH_MS: u32 = 100;

thread_local! {
    static SCHEDULED: Cell<bool> = const { Cell::new(false) };
    /// Milliseconds spent in handlers and renders since the last `take_work`.
    static WORK_MS: Cell<f64> = const { Cell::new(0.0) };
}

fn perf_now() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

/// Asks for a flush, unless one is already due.
pub fn schedule(lab: Lab) {
    if SCHEDULED.replace(true) {
        return;
    }
    Timeout::new(FLUSH_MS, move || {
        SCHEDULED.set(false);
        let t0 = perf_now();
        lab.flush();
        // Leptos runs the effects the flush woke as tasks queued behind this one:
        // this task's turn comes once they have rendered.
        spawn_local(async move { add_work(perf_now() - t0) });
    })
    .forget();
}

fn add_work(ms: f64) {
    WORK_MS.set(WORK_MS.get() + ms);
}

/// Runs an event handler, counting its time as the page's own work.
pub fn work<R>(f: impl FnOnce() -> R) -> R {
    let t0 = perf_now();
    let r = f();
    add_work(perf_now() - t0);
    r
}

/// The work counted since the last call, and clears it.
pub fn take_work() -> f64 {
    WORK_MS.replace(0.0)
}

/// When a browser event reached the page (local wall clock, ms): its own time
/// stamp, not the moment a handler got round to it.
pub fn arrival_ms(e: &web_sys::Event) -> f64 {
    match web_sys::window().and_then(|w| w.performance()) {
        Some(p) if e.time_stamp() > 0.0 => p.time_origin() + e.time_stamp(),
        _ => crate::transport::now_ms(),
    }
}
