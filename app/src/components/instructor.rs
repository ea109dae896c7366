//! The instructor's panel: unlocked with the token printed at start-up, it
//! drives `POST /api/control` (through [`crate::api`]) — rate, bursts, pause,
//! drops, delay, the traps (faults) and the keep-alive and heartbeat intervals.

use leptos::either::Either;
use leptos::prelude::*;
use pushlab::fault::FaultName;
use pushlab::{ControlAction, Fault, FaultChange, Settings, Transport};

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
    let keepalive = RwSignal::new("15".to_string());
    let ping = RwSignal::new("20".to_string());

    // One request to the control endpoint; `None` only checks the token.
    let send = move |action: Option<ControlAction>| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            match crate::api::control(&token.get_untracked(), action.as_ref()).await {
                Ok(s) => {
                    rate.set(s.rate_per_s.to_string());
                    delay.set(s.delay_ms.to_string());
                    keepalive.set(s.keepalive_s.to_string());
                    ping.set(s.ws_ping_s.to_string());
                    settings.set(Some(s));
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
        settings.with(|s| s.as_ref().is_some_and(|s| s.paused))
            || lab.server.with(|s| s.as_ref().is_some_and(|s| s.settings.paused))
    };
    // On as the instructor's last answer or the server's stats say, whichever is newer to this page.
    let fault_on = move |name: FaultName| {
        settings
            .with(|s| s.as_ref().map(|s| s.fault(name).is_some()))
            .unwrap_or_else(|| lab.server.with(|s| s.as_ref().is_some_and(|s| s.settings.fault(name).is_some())))
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
                    <div class="row faults-row">
                        <span class="drop-label">"Traps:"</span>
                        {FaultName::ALL.into_iter().map(|name| view! {
                            <button type="button" class="ghost" data-testid=format!("fault-{}", name.as_str())
                                aria-pressed=move || fault_on(name).to_string()
                                title=name.imitates()
                                on:click=move |_| send(Some(ControlAction::Fault(if fault_on(name) {
                                    FaultChange::Off(name)
                                } else {
                                    FaultChange::On(Fault::default_of(name))
                                })))>{name.as_str()}</button>
                        }).collect_view()}
                        <button type="button" class="ghost" data-testid="fault-none"
                            on:click=move |_| send(Some(ControlAction::Fault(FaultChange::Clear)))>"all off"</button>
                    </div>
                    <div class="controls-grid">
                        <label>"SSE keep-alive s"<input type="number" min="1" max="15" data-testid="keepalive" bind:value=keepalive/></label>
                        <button type="button" data-testid="set-keepalive" on:click=move |_| send(Some(ControlAction::SetKeepalive { s: number(keepalive) as u64 }))>"Set keep-alive"</button>
                        <label>"WS heartbeat s"<input type="number" min="5" max="60" data-testid="ping" bind:value=ping/></label>
                        <button type="button" data-testid="set-ping" on:click=move |_| send(Some(ControlAction::SetPing { s: number(ping) as u64 }))>"Set heartbeat"</button>
                        <button type="button" class="ghost" data-testid="reset-lab" on:click=move |_| send(Some(ControlAction::ResetLab))>"Reset the lab"</button>
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
        ControlAction::Fault(FaultChange::On(f)) => format!("{} on ({})", f.name(), f.describe()),
        ControlAction::Fault(FaultChange::Off(name)) => format!("{name} off"),
        ControlAction::Fault(FaultChange::Clear) => "every fault off".into(),
        ControlAction::SetKeepalive { s } => format!("keep-alive every {s} s"),
        ControlAction::SetPing { s } => format!("heartbeat every {s} s"),
        ControlAction::ResetLab => "lab reset".into(),
    }
}
