//! The request log: the last 50 requests and frames, like a tiny network tab,
//! so a room can see a long poll hang and return.

use leptos::either::Either;
use leptos::prelude::*;

use crate::components::format;
use crate::lab::Lab;
use crate::model::LogKind;

#[component]
pub fn RequestLogView() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let rows = move || lab.log.with(|l| l.entries.iter().cloned().collect::<Vec<_>>());
    view! {
        <section class="card log" aria-labelledby="log-title">
            <h2 id="log-title">"Requests and frames"</h2>
            <div class="table-wrap">
                <table data-testid="request-log">
                    <thead><tr><th>"time"</th><th>"via"</th><th title="the server instance that answered">"instance"</th><th title="the HTTP protocol that carried it">"proto"</th><th>"kind"</th><th>"status"</th><th class="num">"size"</th><th class="num">"took"</th><th>"note"</th></tr></thead>
                    <tbody>
                        <For each=rows key=|e| (e.n, e.kind as u8, e.status, e.count, e.instance.clone()) let:e>
                            <tr data-kind=e.kind.label() class:pending=e.kind == LogKind::LongPollHeld class:error=e.kind == LogKind::Error>
                                <td class="mono">{format::clock(e.at_ms)}</td>
                                <td>{e.transport.as_str()}</td>
                                <td class="mono" data-testid="log-instance">{e.instance.clone().unwrap_or_default()}</td>
                                <td class="mono" data-testid="log-protocol">{e.protocol.clone().unwrap_or_default()}</td>
                                <td>{e.kind.label()}</td>
                                <td class="mono">{e.status.map_or_else(|| if e.kind == LogKind::LongPollHeld { "…".into() } else { String::new() }, |s| s.to_string())}</td>
                                <td class="num mono">{e.bytes.map_or(String::new(), format::bytes)}</td>
                                <td class="num mono">{match (e.kind, e.duration_ms) {
                                    // A held poll counts up, so the room sees the server holding it.
                                    (LogKind::LongPollHeld, _) => Either::Left(move || format!("held {:.0} s", ((lab.now_ms.get() - e.at_ms) / 1000.0).max(0.0))),
                                    (_, took) => Either::Right(took.map_or(String::new(), format::ms)),
                                }}</td>
                                <td class="note-cell">{e.note}</td>
                            </tr>
                        </For>
                    </tbody>
                </table>
            </div>
        </section>
    }
}
