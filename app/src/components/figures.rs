//! What the active transport costs, live: counters, latency, the chart, and
//! the feed's own check (gaps, duplicates, resets).

use leptos::prelude::*;

use crate::components::chart::LatencyChart;
use crate::components::format;
use crate::lab::Lab;
use crate::model::Metrics;

#[component]
fn Figure(label: &'static str, test_id: &'static str, value: Signal<String>) -> impl IntoView {
    view! {
        <div class="figure">
            <span class="figure-value" data-testid=test_id>{value}</span>
            <span class="figure-label">{label}</span>
        </div>
    }
}

/// Above this share of its main thread, the page's own work shows in its latency.
const BUSY_WARN: f64 = 0.5;

#[component]
pub fn Figures() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let m = move |f: fn(&Metrics) -> String| Signal::derive(move || lab.metrics.with(|m| f(m.get(lab.active.get()))));
    let pct = Memo::new(move |_| lab.metrics.with(|m| m.get(lab.active.get()).percentiles()));
    let lat = move |f: fn(&crate::model::Percentiles) -> f64| {
        Signal::derive(move || pct.get().map_or("—".into(), |p| format::ms(f(&p))))
    };
    let feed = move |f: fn(&crate::model::Feed) -> u64| Signal::derive(move || lab.feed.with(f).to_string());
    let status = move || lab.status.get();
    let cut = move |_| lab.generation.update(|g| *g += 1);
    view! {
        <section class="card figures" aria-labelledby="figures-title">
            <header class="card-head">
                <h2 id="figures-title">{move || lab.active.get().label()}" — what it costs"</h2>
                <span class="badge" data-status=move || status().label() data-testid="status">{move || status().label()}</span>
                <span class="badge proto" data-testid="protocol" title="the HTTP protocol carrying it (Resource Timing, or the stream's hello and pongs)">
                    {move || lab.protocol.get().unwrap_or_else(|| "—".into())}
                </span>
                <button type="button" class="ghost" data-testid="cut" on:click=cut title="Close the connection and watch the client reconnect and resume">
                    "Cut my connection"
                </button>
            </header>
            <div class="figure-grid">
                <Figure label="events received" test_id="fig-events" value=m(|m| m.events.to_string())/>
                <Figure label="HTTP requests" test_id="fig-requests" value=m(|m| m.requests.to_string())/>
                <Figure label="empty responses" test_id="fig-empty" value=m(|m| m.empty.to_string())/>
                <Figure label="TCP connections opened" test_id="fig-connections" value=m(|m| m.connections.to_string())/>
                <Figure label="reconnects" test_id="fig-reconnects" value=m(|m| m.reconnects.to_string())/>
                <Figure label="events per request" test_id="fig-epr" value=Signal::derive(move || {
                    let t = lab.active.get();
                    // A stream is one request for all its events: the ratio would only grow.
                    if t.is_stream() { "— (stream)".into() } else { lab.metrics.with(|m| format::ratio(m.get(t).events_per_request())) }
                })/>
                <Figure label="payload received" test_id="fig-bytes" value=m(|m| format::bytes(m.payload_bytes))/>
                <Figure label="on the wire (HTTP)" test_id="fig-wire" value=m(|m| if m.wire_bytes > 0 { format::bytes(m.wire_bytes) } else { "—".into() })/>
            </div>
            <div class="latency">
                <div class="figure-grid small">
                    <Figure label="latency p50 (last 60 s)" test_id="lat-p50" value=lat(|p| p.p50)/>
                    <Figure label="p95" test_id="lat-p95" value=lat(|p| p.p95)/>
                    <Figure label="p99" test_id="lat-p99" value=lat(|p| p.p99)/>
                    <Figure label="max" test_id="lat-max" value=lat(|p| p.max)/>
                </div>
                <LatencyChart/>
                <p class=move || { if lab.busy.get() >= BUSY_WARN { "note warn" } else { "note" } } data-testid="page-busy">
                    {move || {
                        let busy = (lab.busy.get() * 100.0).round();
                        if lab.busy.get() >= BUSY_WARN {
                            format!("Page busy {busy:.0} %: these figures include this page's own rendering, not only the transport.")
                        } else {
                            format!("Page busy {busy:.0} % (its own handlers and rendering): the figures measure the transport.")
                        }
                    }}
                </p>
                <p class="note" data-testid="clock-note">
                    {move || {
                        let c = lab.clock.get();
                        match lab.last_latency.get() {
                            Some((corrected, raw)) if c.samples > 0 => format!(
                                "Last event: {} after publish, clock-corrected ({} raw; offset {} from a {} round trip).",
                                format::ms(corrected), format::ms(raw), format::ms(c.offset_us / 1000.0), format::ms(c.rtt_us / 1000.0)
                            ),
                            _ => "Latency is one-way: server publish to this page, corrected for clock offset.".into(),
                        }
                    }}
                </p>
            </div>
            <div class="checks" aria-label="The page checks every seq itself">
                <span class="check">"gaps: "<strong data-testid="gaps">{feed(|f| f.gaps)}</strong></span>
                <span class="check">"duplicates: "<strong data-testid="duplicates">{feed(|f| f.duplicates)}</strong></span>
                <span class="check">"resets: "<strong data-testid="resets">{feed(|f| f.resets)}</strong></span>
                <span class="check">"unreadable: "<strong data-testid="unparsed">{move || lab.metrics.with(|m| pushlab::Transport::ALL.iter().map(|t| m.get(*t).unparsed).sum::<u64>())}</strong></span>
                <span class="check">"events in all: "<strong data-testid="event-count">{move || lab.metrics.with(|m| pushlab::Transport::ALL.iter().map(|t| m.get(*t).events).sum::<u64>())}</strong></span>
            </div>
        </section>
    }
}
