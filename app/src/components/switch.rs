//! The transport switch: four buttons as a keyboard-reachable radio group
//! (arrow keys move, like any radio group), and the polling interval.

use leptos::prelude::*;
use pushlab::Transport;

use crate::lab::{Lab, MAX_INTERVAL_S, MIN_INTERVAL_S};

#[component]
pub fn TransportSwitch() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let step: isize = match ev.key().as_str() {
            "ArrowRight" | "ArrowDown" => 1,
            "ArrowLeft" | "ArrowUp" => -1,
            _ => return,
        };
        ev.prevent_default();
        let i = lab.active.get_untracked().index() as isize;
        let next = Transport::ALL[(i + step).rem_euclid(Transport::ALL.len() as isize) as usize];
        lab.active.set(next);
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let selector = format!("[data-transport='{}']", next.as_str());
            if let Ok(Some(el)) = document().query_selector(&selector)
                && let Ok(el) = el.dyn_into::<web_sys::HtmlElement>()
            {
                let _ = el.focus();
            }
        }
    };
    let buttons = Transport::ALL
        .into_iter()
        .map(|t| {
            let on = move || lab.active.get() == t;
            view! {
                <button
                    type="button"
                    role="radio"
                    class="switch-btn"
                    data-transport=t.as_str()
                    aria-checked=move || on().to_string()
                    tabindex=move || if on() { "0" } else { "-1" }
                    on:click=move |_| lab.active.set(t)
                >
                    <span class="switch-label">{t.label()}</span>
                    <span class="switch-path">{endpoint(t)}</span>
                </button>
            }
        })
        .collect_view();
    let set_interval = move |ev: leptos::ev::Event| {
        if let Ok(v) = event_target_value(&ev).parse::<u32>() {
            lab.set_interval(v);
        }
    };
    view! {
        <div class="switch" role="radiogroup" aria-label="Transport" on:keydown=on_key>
            {buttons}
        </div>
        <label class="interval" class:hidden=move || lab.active.get() != Transport::Poll>
            "Poll every "
            <select data-testid="interval" on:change=set_interval prop:value=move || lab.interval_s.get().to_string()>
                {(MIN_INTERVAL_S..=MAX_INTERVAL_S)
                    .map(|s| view! { <option value=s.to_string() selected=move || lab.interval_s.get() == s>{s}" s"</option> })
                    .collect_view()}
            </select>
        </label>
    }
}

pub fn endpoint(t: Transport) -> &'static str {
    match t {
        Transport::Poll => "GET /api/poll",
        Transport::LongPoll => "GET /api/long-poll",
        Transport::Sse => "GET /api/sse",
        Transport::Ws => "GET /api/ws",
    }
}
