//! Every transport used in this session, side by side, one row per set of
//! conditions; reset, export, and what the measured costs project to.

use leptos::prelude::*;

use crate::components::format;
use crate::lab::Lab;
use crate::model::comparison::{self, Row};
use crate::model::projection::project;

fn data_url(mime: &str, body: &str) -> String {
    let mut out = format!("data:{mime};charset=utf-8,");
    for b in body.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~,:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[component]
pub fn Comparison() -> impl IntoView {
    let lab = expect_context::<Lab>();
    // The table and the projection change once a second, not at every 100 ms
    // flush: rebuilt and re-rendered ten times a second at 1000 events/s, they
    // held the main thread long enough to delay the socket's message events.
    let tick = RwSignal::new(0u32);
    #[cfg(feature = "hydrate")]
    gloo_timers::callback::Interval::new(1000, move || tick.update(|n| *n = n.wrapping_add(1))).forget();
    let rows = Memo::new(move |_| {
        tick.track();
        lab.session.with_untracked(|s| {
            lab.metrics
                .with_untracked(|m| s.rows.iter().map(|seg| seg.row(m.get(seg.transport).counts())).collect::<Vec<_>>())
        })
    });
    // Built when clicked: the browser reads href after the click handlers ran.
    let export = move |build: fn(&comparison::Place, &[Row]) -> String| {
        move |ev: leptos::ev::MouseEvent| {
            #[cfg(feature = "hydrate")]
            if let Some(a) =
                ev.current_target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            {
                let _ =
                    a.set_attribute("href", &lab.session.with_untracked(|s| build(&s.place, &rows.get_untracked())));
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = (ev, build);
        }
    };
    let json = |p: &comparison::Place, rows: &[Row]| data_url("application/json", &comparison::to_json(p, rows));
    let csv = |p: &comparison::Place, rows: &[Row]| data_url("text/csv", &comparison::to_csv(p, rows));
    let ms = |v: Option<f64>| v.map_or("—".into(), format::ms);
    let per_event = |v: Option<f64>| v.map_or("—".into(), |b| format!("{b:.0} B"));
    let place = move || {
        lab.session.with(|s| {
            let p = &s.place;
            if p.browser.is_empty() {
                return String::new();
            }
            let run = p.epoch.as_deref().map_or(String::new(), |e| format!(", run {e}"));
            format!("Measured in {} against {}{run} (pushlab {}).", p.browser, p.server, p.version)
        })
    };
    view! {
        <section class="card compare" aria-labelledby="compare-title">
            <header class="card-head">
                <h2 id="compare-title">"Side by side, this session"</h2>
                <button type="button" class="ghost" data-testid="reset-counters" on:click=move |_| lab.reset_counters()>"Reset counters"</button>
                <a class="button ghost" download="pushlab-session.json" href="data:," data-testid="export-json" on:click=export(json)>"Export JSON"</a>
                <a class="button ghost" download="pushlab-session.csv" href="data:," data-testid="export-csv" on:click=export(csv)>"Export CSV"</a>
            </header>
            <div class="table-wrap">
                <table data-testid="comparison">
                    {head(COLUMNS)}
                    // One row per transport and conditions, each changing every second: updated in place.
                    <tbody>{move || lines(COLUMNS, rows.get().iter().map(|r| Line::of(r, vec![
                        r.events.to_string(), r.requests.to_string(), r.empty_responses.to_string(), r.connections.to_string(),
                        r.reconnects.to_string(), per_event(r.bytes_per_event), per_event(r.wire_bytes_per_event),
                        format::ratio(r.events_per_request), ms(r.p50_ms), ms(r.p95_ms), ms(r.p99_ms), ms(r.max_ms),
                    ])).collect())}</tbody>
                </table>
            </div>
            <p class="note" data-testid="compare-place">
                {place}" A row closes (grey) when the rate, the delay, the poll interval or the server run changes; its latency is of the whole row."
            </p>
            <Projection rows/>
        </section>
    }
}

const COLUMNS: &[&str] = &[
    "events",
    "requests",
    "empty",
    "conns",
    "reconn.",
    "payload/event",
    "wire/event",
    "events/req",
    "p50",
    "p95",
    "p99",
    "max",
];
const PROJECTED: &[&str] = &["requests/s", "bytes/s out", "connections", "egress / month"];

/// One line of either table: the row's transport and conditions, then its figures.
struct Line {
    transport: &'static str,
    rate: Option<String>,
    current: bool,
    conditions: String,
    cells: Vec<String>,
}

impl Line {
    fn of(r: &Row, cells: Vec<String>) -> Line {
        let rate = r.rate_per_s.map(|v| v.to_string());
        Line { transport: r.transport, rate, current: r.current, conditions: r.conditions_label(), cells }
    }
}

/// Both tables' header: the row's name, then numeric columns (`data-col` on
/// each cell, for tests and styles).
fn head(cols: &'static [&'static str]) -> impl IntoView {
    view! {
        <thead><tr>
            <th title="events/s · short polling's interval · time measured">"transport · conditions"</th>
            {cols.iter().map(|c| view! { <th class="num">{*c}</th> }).collect_view()}
        </tr></thead>
    }
}

/// Both tables' rows, through one view type (each distinct one costs the WASM several KB).
fn lines(cols: &'static [&'static str], lines: Vec<Line>) -> impl IntoView {
    lines
        .into_iter()
        .map(|l| {
            view! {
                <tr data-row=l.transport data-rate=l.rate data-current=l.current.to_string() class:closed=!l.current>
                    <td class="lead">{l.transport}<span class="cond">{l.conditions}</span></td>
                    {cols.iter().zip(l.cells).map(|(col, c)| view! { <td class="num" data-col=*col>{c}</td> }).collect_view()}
                </tr>
            }
        })
        .collect_view()
}

/// What the measured rows would cost N users at R events/s.
#[component]
fn Projection(rows: Memo<Vec<Row>>) -> impl IntoView {
    let lab = expect_context::<Lab>();
    let users = RwSignal::new("1000".to_string());
    // Follows the server's rate until someone types another.
    let rate = RwSignal::new(None::<String>);
    let current_rate = move || lab.session.with(|s| s.now.rate_per_s).map_or(String::new(), |r| r.to_string());
    let rate_text = move || rate.get().unwrap_or_else(current_rate);
    let number = |s: String| s.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0);
    view! {
        <h3 class="projection-title">"What it would cost"</h3>
        <div class="row projection-inputs">
            <label>"users "<input type="number" min="0" step="any" data-testid="proj-users" bind:value=users/></label>
            <label>"events/s "<input type="number" min="0" step="any" data-testid="proj-rate" prop:value=rate_text
                on:input=move |ev| rate.set(Some(event_target_value(&ev)))/></label>
        </div>
        <div class="table-wrap">
            <table data-testid="projection">
                {head(PROJECTED)}
                <tbody>{move || {
                    let (n, r) = (number(users.get()), number(rate_text()));
                    lines(PROJECTED, rows.get().iter().filter_map(|row| {
                        let p = project(row, n?, r?)?;
                        let star = if p.wire { "" } else { " *" };
                        Some(Line::of(row, vec![
                            format::si(p.requests_per_s),
                            format!("{}/s{star}", format::bytes(p.bytes_per_s as u64)),
                            format::grouped(p.connections),
                            format::grouped(p.gb_per_month) + " GB",
                        ]))
                    }).collect())
                }}</tbody>
            </table>
        </div>
        <p class="note">
            "Per user, from each row: short polling one request per interval as measured, long polling R × its requests per event, \
             a stream only its reconnects; bytes = requests × headers per request + R × payload per event (* payload only: no wire \
             bytes measured, e.g. a stream's framing); one connection each; 30 days a month. Server to client only: TLS, proxies and \
             compression are left out, and a row measured at another rate is scaled linearly."
        </p>
        <p class="note">
            "Figures at scale — hundreds of clients, server CPU and memory per connection: the load runner "<code>"pushlab-load"</code>
            " ("<code>"cargo build --release -p pushlab-bench"</code>", then "<code>"pushlab-load scenario wire-cost"</code>
            ") and "<code>"bench/run.sh"</code>", which writes "<code>"docs/PERFORMANCE.md"</code>" in the repository (not served here)."
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_urls() {
        assert_eq!(data_url("text/csv", "a b\n"), "data:text/csv;charset=utf-8,a%20b%0A");
    }
}
