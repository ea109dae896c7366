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

/// Text safe inside an HTML element.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A row as HTML: the ledger is rewritten whole on a change (a few times a
/// minute at most), and one string costs the WASM far less than a view type per row.
fn row(r: &Recovery, out: &mut String) {
    let cells = [
        ("mono", format::clock(r.lost_ms)),
        ("", r.t.as_str().to_owned()),
        ("", why(r)),
        ("mono", escape(r.cursor.as_deref().unwrap_or("none"))),
        ("num mono", r.resumed_at.map_or("—".into(), |s| format!("seq {s}"))),
        ("num mono", r.replayed.to_string()),
        ("", escape(r.reset.as_deref().unwrap_or("no"))),
        ("num mono", r.took_ms().map_or("recovering…".into(), format::ms)),
    ];
    out.push_str(&format!("<tr data-testid=\"recovery\" data-done=\"{}\">", r.done_ms.is_some()));
    for (class, text) in cells {
        out.push_str(&format!("<td class=\"{class}\">{text}</td>"));
    }
    out.push_str("</tr>");
}

#[component]
pub fn RecoveryLedger() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let rows = move || {
        lab.ledger.with(|l| {
            let mut html = String::new();
            l.entries.iter().for_each(|r| row(r, &mut html));
            html
        })
    };
    let empty = move || lab.ledger.with(|l| l.entries.is_empty());
    view! {
        <section class="card log" aria-labelledby="ledger-title">
            <h2 id="ledger-title">"Recovery ledger"</h2>
            <p class="note">"Every reconnect and switch: the cursor the page sent, where the server resumed, \
                what it replayed, and how long until events flowed live again. Gaps and duplicates stay 0."</p>
            <div class="table-wrap">
                <table data-testid="recovery-ledger">
                    <thead><tr><th>"time"</th><th>"via"</th><th>"why"</th><th>"cursor sent"</th><th class="num">"resumed at"</th>
                        <th class="num">"replayed"</th><th>"reset"</th><th class="num">"took"</th></tr></thead>
                    <tbody inner_html=rows></tbody>
                </table>
                {move || empty().then(|| view! { <p class="note">"No reconnect or switch yet: cut the connection, switch transports, or wait for a trap."</p> })}
            </div>
        </section>
    }
}
