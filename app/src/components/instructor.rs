//! The instructor's panel: unlocked with the token printed at start-up, it
//! drives `POST /api/control` (through [`crate::api`]) — rate, bursts, pause,
//! drops, delay.

use leptos::either::Either;
use leptos::prelude::*;
use pushlab::{ControlAction, Settings, Transport};

use crate::lab::Lab;

#[component]
pub fn InstructorPanel() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let token = RwSignal::new(String::new());
    let unlocked = RwSignal::new(false);
    let settings = RwSignal::new(None::<Settings>);
    let feedback = RwSignal::new(String::new());
    let rate = RwSignal::new("20".to_string());
    let burst = RwSignal::new("100".to_string());
    let delay = RwSignal::new("0".to_string());

    // One request to the control endpoint; `None` only checks the token.
    let send = move |action: Option<ControlAction>| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            match crate::api::control(&token.get_untracked(), action.as_ref()).await {
                Ok(s) => {
                    settings.set(Some(s));
                    rate.set(s.rate_per_s.to_string());
                    delay.set(s.delay_ms.to_string());
                    unlocked.set(true);
                    feedback.set(match action {
                        Some(a) => format!("done: {}", describe(&a)),
                        None => "unlocked".into(),
                    });
                }
                Err(f) => feedback.set(f.message),
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = action;
    };
    let number = |s: RwSignal<String>| s.get_untracked().trim().parse::<f64>().unwrap_or(f64::NAN);
    let unlock = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        send(None);
    };
    let paused = move || {
        settings.get().is_some_and(|s| s.paused) || lab.server.with(|s| s.as_ref().is_some_and(|s| s.settings.paused))
    };
    view! {
        <section class="card instructor" aria-labelledby="instructor-title">
            <h2 id="instructor-title">"Instructor"</h2>
            // Either, not Show: Show's type-erased children would pull a second
            // (async) hydration path for this whole panel into the bundle.
            {move || if unlocked.get() {
                Either::Left(view! {
                    <div class="controls-grid">
                        <label>"events/s"<input type="number" min="0.1" max="1000" step="any" data-testid="rate" bind:value=rate/></label>
                        <button type="button" data-testid="set-rate" on:click=move |_| send(Some(ControlAction::SetRate { per_s: number(rate) }))>"Set rate"</button>
                        <label>"burst of"<input type="number" min="1" max="10000" data-testid="burst" bind:value=burst/></label>
                        <button type="button" data-testid="fire-burst" on:click=move |_| send(Some(ControlAction::Burst { n: number(burst) as u32 }))>"Burst"</button>
                        <label>"delay ms"<input type="number" min="0" max="10000" data-testid="delay" bind:value=delay/></label>
                        <button type="button" data-testid="set-delay" on:click=move |_| send(Some(ControlAction::Delay { ms: number(delay) as u64 }))>"Set delay"</button>
                    </div>
                    <div class="row">
                        <button type="button" data-testid="pause" on:click=move |_| send(Some(if paused() { ControlAction::Resume } else { ControlAction::Pause }))>
                            {move || if paused() { "Resume the stream" } else { "Pause the stream" }}
                        </button>
                        <span class="drop-label">"Drop every:"</span>
                        {Transport::ALL.into_iter().filter(|t| t.is_held()).map(|t| view! {
                            <button type="button" class="ghost" data-testid=format!("drop-{}", t.as_str())
                                on:click=move |_| send(Some(ControlAction::Drop { transport: t }))>{t.as_str()}</button>
                        }).collect_view()}
                    </div>
                })
            } else {
                Either::Right(view! {
                    <form class="row" on:submit=unlock>
                        <input type="password" autocomplete="off" placeholder="token from the server's log" aria-label="Instructor token"
                            data-testid="token" bind:value=token/>
                        <button type="submit" data-testid="unlock">"Unlock"</button>
                    </form>
                })
            }}
            <p class="note" data-testid="instructor-feedback">{move || feedback.get()}</p>
        </section>
    }
}

#[cfg(feature = "hydrate")]
fn describe(a: &ControlAction) -> String {
    match a {
        ControlAction::SetRate { per_s } => format!("rate {per_s} events/s"),
        ControlAction::Burst { n } => format!("burst of {n}"),
        ControlAction::Pause => "paused".into(),
        ControlAction::Resume => "resumed".into(),
        ControlAction::Drop { transport } => format!("dropped every {transport} connection"),
        ControlAction::Delay { ms } => format!("delay {ms} ms"),
    }
}
