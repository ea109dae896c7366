//! Resource Timing for the page's own fetches, read through a
//! PerformanceObserver: the timeline buffer holds only 250 entries, and
//! clearing it after each fetch (as this page once did) loses the entries of
//! fetches that overlap it — a poll's figures vanished whenever a stats fetch
//! finished first.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{PerformanceObserver, PerformanceObserverEntryList, PerformanceObserverInit, PerformanceResourceTiming};

/// Entries seen but not yet claimed; the oldest go first (assets, EventSource
/// and WebSocket requests are never claimed).
const KEPT: usize = 64;

struct Observer {
    observer: PerformanceObserver,
    seen: Rc<RefCell<VecDeque<PerformanceResourceTiming>>>,
    _callback: Closure<dyn FnMut(PerformanceObserverEntryList)>,
}

thread_local! {
    static OBSERVER: Option<Observer> = start();
}

fn start() -> Option<Observer> {
    let seen: Rc<RefCell<VecDeque<PerformanceResourceTiming>>> = Rc::default();
    let kept = seen.clone();
    let callback =
        Closure::<dyn FnMut(PerformanceObserverEntryList)>::new(move |list: PerformanceObserverEntryList| {
            keep(&kept, list.get_entries());
            // Delivered to us, so the browser's buffer need not keep them (it stops at 250).
            if let Some(perf) = web_sys::window().and_then(|w| w.performance()) {
                perf.clear_resource_timings();
            }
        });
    let observer = PerformanceObserver::new(callback.as_ref().unchecked_ref()).ok()?;
    observer.observe(&PerformanceObserverInit::new(&js_sys::Array::of1(&"resource".into())));
    Some(Observer { observer, seen, _callback: callback })
}

fn keep(seen: &RefCell<VecDeque<PerformanceResourceTiming>>, entries: js_sys::Array) {
    let mut seen = seen.borrow_mut();
    for entry in entries.iter().filter_map(|e| e.dyn_into::<PerformanceResourceTiming>().ok()) {
        if seen.len() == KEPT {
            seen.pop_front();
        }
        seen.push_back(entry);
    }
}

/// Starts observing before the page's first fetch.
pub fn observe() {
    OBSERVER.with(|_| ());
}

/// The newest entry for `url`, taken out of the observer's records (those
/// not yet delivered included), else from the browser's buffer.
pub fn claim(url: &str) -> Option<PerformanceResourceTiming> {
    let taken = OBSERVER.with(|o| {
        let o = o.as_ref()?;
        keep(&o.seen, o.observer.take_records());
        let mut seen = o.seen.borrow_mut();
        let at = seen.iter().rposition(|e| e.name() == url)?;
        seen.remove(at)
    });
    taken.or_else(|| {
        let entries = web_sys::window()?.performance()?.get_entries_by_name(url);
        entries.get(entries.length().checked_sub(1)?).dyn_into().ok()
    })
}
