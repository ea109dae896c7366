//! What the instructor just did, in words, on every page: a red badge alone
//! does not tell a room why its stream changed.

use leptos::prelude::*;

use crate::components::format;
use crate::lab::Lab;
use crate::model::tabs::{PER_ORIGIN, WARN_AT};

#[component]
pub fn AnnouncementBanner() -> impl IntoView {
    let lab = expect_context::<Lab>();
    view! {
        <div class="announce" role="status" aria-live="polite" data-testid="announcement">
            {move || lab.announcement.get().map(|a| view! {
                <span class="announce-when">"Instructor · "{format::clock(a.at_ms)}</span>
                <span class="announce-text" data-testid="announcement-text" data-live=a.live.to_string()>{a.text}</span>
            })}
        </div>
    }
}

/// Every fault the instructor has on, on every page: what it imitates, and its parameters.
/// One line of text: a list of views per fault would be another copy of the
/// list machinery in the WASM.
#[component]
pub fn FaultBanner() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let faults = move || lab.server.with(|s| s.as_ref().map(|s| s.settings.faults.clone()).unwrap_or_default());
    move || {
        let faults = faults();
        (!faults.is_empty()).then(|| {
            let (mut names, mut text) = (String::new(), String::new());
            for f in &faults {
                let sep = if names.is_empty() { "" } else { " " };
                names.push_str(&format!("{sep}{}", f.name()));
                let sep = if text.is_empty() { "" } else { " · " };
                text.push_str(&format!("{sep}{}: {} — {}", f.name(), f.name().imitates(), f.describe()));
            }
            view! {
                <div class="announce bad fault" role="alert" data-testid="fault-banner" data-faults=names>
                    <span class="announce-when">"Fault on"</span>
                    <span class="announce-text">{text}</span>
                </div>
            }
        })
    }
}

/// Before the browser's per-origin connection limit silently stalls a tab.
#[component]
pub fn TabsWarning() -> impl IntoView {
    let lab = expect_context::<Lab>();
    move || {
        let me = lab.active.get().holds_http_connection();
        let (open, holding) = lab.tabs.with(|t| (t.open(), t.holding(me)));
        (holding >= WARN_AT).then(|| {
            view! {
                <div class="announce bad" role="alert" data-testid="tabs-warning">
                    <span class="announce-when">"Connections"</span>
                    <span class="announce-text">{format!(
                        "{holding} of the {open} tabs of this site each hold an HTTP connection (SSE or a held long poll). Over HTTP/1.1 the browser allows \
                         {PER_ORIGIN} per origin: one more stream and the next tab, or this page's own requests, stall \
                         without an error. Close a tab, switch one to short polling, or serve over HTTP/2."
                    )}</span>
                </div>
            }
        })
    }
}
