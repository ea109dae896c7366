//! The recovery ledger: each reconnect and switch, the cursor it sent, where
//! the stream resumed, what was replayed, any reset, and how long it took.

use leptos::prelude::*;

use crate::components::format;
use crate::lab::Lab;
use crate::model::recovery::{Recovery, Why};

fn why(r: &Recovery) -> String {
    match &r.why {
        Why::Reconnect => "reconnect".into(),
        Why::Switch { from } => format!("switch from {from}"),
        Why::Reopen => "reopened".into(),
    }
}

#[component]
pub fn RecoveryLedger() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let rows = move || lab.ledger.with(|l| l.entries.iter().cloned().collect::<Vec<_>>());
    view! {
        <section class="card log" aria-labelledby="ledger-title">
            <h2 id="ledger-title">"Recovery ledger"</h2>
            <p class="note">"Every reconnect and switch: the cursor the page sent, where the server resumed, \
                what it replayed, and how long until events flowed live again. Gaps and duplicates stay 0."</p>
            <div class="table-wrap">
                <table data-testid="recovery-ledger">
                    <thead><tr><th>"time"</th><th>"via"</th><th>"why"</th><th>"cursor sent"</th><th class="num">"resumed at"</th>
                        <th class="num">"replayed"</th><th>"reset"</th><th class="num">"took"</th></tr></thead>
                    <tbody>
                        <For each=rows key=|r| (r.n, r.done_ms.is_some(), r.replayed, r.reset.clone()) let:r>
                            <tr data-testid="recovery" data-done=r.done_ms.is_some().to_string()>
                                <td class="mono">{format::clock(r.lost_ms)}</td>
                                <td>{r.t.as_str()}</td>
                                <td>{why(&r)}</td>
                                <td class="mono">{r.cursor.clone().unwrap_or_else(|| "none".into())}</td>
                                <td class="num mono">{r.resumed_at.map_or("—".into(), |s| format!("seq {s}"))}</td>
                                <td class="num mono" data-testid="replayed">{r.replayed}</td>
                                <td>{r.reset.clone().unwrap_or_else(|| "no".into())}</td>
                                <td class="num mono" data-testid="took">{r.took_ms().map_or("recovering…".into(), format::ms)}</td>
                            </tr>
                        </For>
                    </tbody>
                </table>
            </div>
        </section>
    }
}
