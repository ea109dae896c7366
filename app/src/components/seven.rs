//! The "seven streams" demo: the page opens seven more SSE streams and then
//! asks the server the time. Over HTTP/1.1 a browser holds at most six
//! connections per origin, so the seventh stream — and every other request
//! to the origin — waits; over HTTP/2 they all share one connection.

use leptos::prelude::*;

use crate::lab::Lab;

/// Streams the demo opens.
pub const STREAMS: usize = 7;
/// How long the demo keeps them open.
pub const HOLD_MS: u32 = 10_000;
/// A request slower than this is reported as stalled.
pub const STALLED_MS: f64 = 4_000.0;

/// What the demo saw.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Seen {
    pub running: bool,
    pub opened: usize,
    /// The time request's round trip, ms; `None` while it waits.
    pub time_ms: Option<f64>,
}

impl Seen {
    fn text(&self, protocol: Option<&str>) -> String {
        let waiting = STREAMS - self.opened;
        let time = match self.time_ms {
            Some(ms) if ms > STALLED_MS => {
                format!("a request for the time took {:.1} s: it waited for a free connection", ms / 1000.0)
            }
            Some(ms) => format!("a request for the time took {ms:.0} ms"),
            None => "a request for the time is waiting".into(),
        };
        let why = match (waiting, protocol) {
            (0, Some("h2")) => " Over HTTP/2 every stream shares the page's one connection.",
            (0, _) => "",
            (_, _) => " Over HTTP/1.1 the browser opens at most six connections per origin: the rest queue, silently.",
        };
        format!("{} of {STREAMS} streams open, {waiting} waiting; {time}.{why}", self.opened)
    }
}

#[component]
pub fn SevenStreams() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let seen = RwSignal::new(Seen::default());
    let start = move |_| {
        if seen.with_untracked(|s| s.running) {
            return;
        }
        seen.set(Seen { running: true, ..Seen::default() });
        #[cfg(feature = "hydrate")]
        run(seen);
    };
    view! {
        <section class="card seven" aria-labelledby="seven-title">
            <h2 id="seven-title">"Seven streams"</h2>
            <p class="note">"Opens seven more Server-Sent Events streams for 10 s, then asks the server the time. \
                Over HTTP/1.1 the seventh, and every other request to this origin, stall; over HTTP/2 nothing does."</p>
            <button type="button" data-testid="seven-start" on:click=start disabled=move || seen.with(|s| s.running)>
                "Open seven streams"
            </button>
            <p class="now" data-testid="seven-result" data-opened=move || seen.with(|s| s.opened.to_string())
                data-time-ms=move || seen.with(|s| s.time_ms.map_or(String::new(), |t| format!("{t:.0}")))>
                {move || seen.with(|s| (s.running || s.opened > 0).then(|| s.text(lab.protocol.get().as_deref())))}
            </p>
        </section>
    }
}

#[cfg(feature = "hydrate")]
fn run(seen: RwSignal<Seen>) {
    use gloo_timers::future::TimeoutFuture;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::EventSource;

    let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| seen.update(|s| s.opened += 1));
    let sources: Vec<EventSource> = (0..STREAMS)
        .filter_map(|i| {
            // Its own client id: these streams are the demo's, not the page's presence.
            let url = format!("{}?client=seven-{i}-{}", pushlab::paths::SSE, crate::transport::client_id());
            let es = EventSource::new(&url).ok()?;
            es.set_onopen(Some(on_open.as_ref().unchecked_ref()));
            Some(es)
        })
        .collect();
    leptos::task::spawn_local(async move {
        // The streams ask first; the time request queues behind them when connections run out
        // (and completes only once the streams close, if it must wait for one).
        TimeoutFuture::new(500).await;
        let t0 = crate::transport::now_ms();
        if crate::transport::http::get(pushlab::paths::TIME, None).await.is_ok() {
            seen.update(|s| s.time_ms = Some(crate::transport::now_ms() - t0));
        }
    });
    leptos::task::spawn_local(async move {
        TimeoutFuture::new(HOLD_MS).await;
        for es in &sources {
            es.close();
        }
        drop(on_open);
        seen.update(|s| s.running = false);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_result_says_what_waited_and_why() {
        let s = Seen { running: true, opened: 6, time_ms: Some(9_000.0) };
        let t = s.text(Some("http/1.1"));
        assert!(t.starts_with("6 of 7 streams open, 1 waiting"), "{t}");
        assert!(t.contains("9.0 s") && t.contains("six connections per origin"), "{t}");
        let s = Seen { running: true, opened: 7, time_ms: Some(3.0) };
        assert!(s.text(Some("h2")).contains("shares the page's one connection"));
    }
}
