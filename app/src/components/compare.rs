//! Every transport used in this session, side by side; reset and export.

use leptos::prelude::*;
use pushlab::Transport;
use serde::Serialize;

use crate::components::format;
use crate::lab::Lab;
use crate::model::Metrics;

/// One row of the comparison, as exported.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Row {
    pub transport: &'static str,
    pub events: u64,
    pub requests: u64,
    pub empty_responses: u64,
    pub connections: u64,
    pub reconnects: u64,
    pub payload_bytes: u64,
    pub wire_bytes: u64,
    pub events_per_request: Option<f64>,
    pub bytes_per_event: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

pub fn row(t: Transport, m: &Metrics) -> Row {
    let p = m.percentiles();
    Row {
        transport: t.as_str(),
        events: m.events,
        requests: m.requests,
        empty_responses: m.empty,
        connections: m.connections,
        reconnects: m.reconnects,
        payload_bytes: m.payload_bytes,
        wire_bytes: m.wire_bytes,
        events_per_request: m.events_per_request().filter(|_| !t.is_stream()),
        bytes_per_event: (m.events > 0).then(|| m.payload_bytes as f64 / m.events as f64),
        p50_ms: p.map(|p| p.p50),
        p95_ms: p.map(|p| p.p95),
        p99_ms: p.map(|p| p.p99),
        max_ms: p.map(|p| p.max),
    }
}

pub fn to_csv(rows: &[Row]) -> String {
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.3}"));
    let mut out = String::from(
        "transport,events,requests,empty_responses,connections,reconnects,payload_bytes,wire_bytes,events_per_request,bytes_per_event,p50_ms,p95_ms,p99_ms,max_ms\n",
    );
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            r.transport,
            r.events,
            r.requests,
            r.empty_responses,
            r.connections,
            r.reconnects,
            r.payload_bytes,
            r.wire_bytes,
            opt(r.events_per_request),
            opt(r.bytes_per_event),
            opt(r.p50_ms),
            opt(r.p95_ms),
            opt(r.p99_ms),
            opt(r.max_ms)
        ));
    }
    out
}

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
    let rows = Memo::new(move |_| {
        lab.metrics.with(|m| {
            Transport::ALL.into_iter().filter(|t| m.get(*t).used).map(|t| row(t, m.get(t))).collect::<Vec<_>>()
        })
    });
    // Built when clicked: the browser reads href after the click handlers ran.
    let export = move |build: fn(&[Row]) -> String| {
        move |ev: leptos::ev::MouseEvent| {
            #[cfg(feature = "hydrate")]
            if let Some(a) =
                ev.current_target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            {
                let _ = a.set_attribute("href", &build(&rows.get_untracked()));
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = (ev, build);
        }
    };
    let json = |rows: &[Row]| data_url("application/json", &serde_json::to_string_pretty(rows).unwrap_or_default());
    let csv = |rows: &[Row]| data_url("text/csv", &to_csv(rows));
    let ms = |v: Option<f64>| v.map_or("—".into(), format::ms);
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
                    <thead><tr>
                        <th>"transport"</th><th class="num">"events"</th><th class="num">"requests"</th><th class="num">"empty"</th>
                        <th class="num">"conns"</th><th class="num">"reconnects"</th><th class="num">"payload/event"</th><th class="num">"wire/event"</th><th class="num">"events/req"</th>
                        <th class="num">"p50"</th><th class="num">"p95"</th><th class="num">"p99"</th><th class="num">"max"</th>
                    </tr></thead>
                    <tbody>
                        // One row per transport used so far, each changing every second: updated in place.
                        {move || rows.get().into_iter().map(|r| view! {
                            <tr data-row=r.transport>
                                <td>{r.transport}</td><td class="num">{r.events}</td><td class="num">{r.requests}</td>
                                <td class="num">{r.empty_responses}</td><td class="num">{r.connections}</td><td class="num">{r.reconnects}</td>
                                <td class="num">{r.bytes_per_event.map_or("—".into(), |b| format!("{b:.0} B"))}</td>
                                <td class="num">{if r.wire_bytes > 0 && r.events > 0 { format!("{:.0} B", r.wire_bytes as f64 / r.events as f64) } else { "—".into() }}</td>
                                <td class="num">{format::ratio(r.events_per_request)}</td>
                                <td class="num">{ms(r.p50_ms)}</td><td class="num">{ms(r.p95_ms)}</td><td class="num">{ms(r.p99_ms)}</td><td class="num">{ms(r.max_ms)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_export_as_csv_and_data_urls() {
        let mut m = Metrics::default();
        (m.requests, m.payload_bytes) = (2, 300);
        m.record(0.0, Some(1.5));
        m.record(1.0, Some(2.5));
        let r = row(Transport::LongPoll, &m);
        assert_eq!((r.events, r.events_per_request, r.bytes_per_event), (2, Some(1.0), Some(150.0)));
        let csv = to_csv(&[r]);
        assert_eq!(csv.lines().count(), 2);
        assert!(
            csv.lines().nth(1).unwrap().starts_with("long-poll,2,2,0,0,0,300,0,1.000,150.000,1.49")
                && csv.ends_with(",2.500\n"),
            "{csv}"
        );
        assert_eq!(data_url("text/csv", "a b\n"), "data:text/csv;charset=utf-8,a%20b%0A");
        assert_eq!(row(Transport::Sse, &m).events_per_request, None, "a stream has no meaningful ratio");
    }
}
