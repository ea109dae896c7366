//! The events as the SaaS dashboard they describe: the live counter, job
//! progress, notifications, who is here, and a chat box.

use leptos::prelude::*;
use pushlab::{JobState, NotificationKind, Transport};

use crate::lab::Lab;

#[component]
pub fn Counter() -> impl IntoView {
    let lab = expect_context::<Lab>();
    view! {
        <section class="card counter" aria-labelledby="counter-title">
            <h2 id="counter-title">"Active users"</h2>
            <p class="big" data-testid="active-users">
                {move || lab.saas.with(|s| s.counter.as_ref().map_or("—".into(), |(_, v)| v.to_string()))}
            </p>
        </section>
    }
}

#[component]
pub fn Jobs() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let jobs = move || lab.saas.with(|s| s.jobs.clone());
    view! {
        <section class="card jobs" aria-labelledby="jobs-title">
            <h2 id="jobs-title">"Background jobs"</h2>
            <ul class="job-list" data-testid="jobs">
                // Keyed by progress too: a row is replaced, never slid from another job's width.
                <For each=jobs key=|j| (j.id.clone(), j.progress, j.state as u8) let:j>
                    <li class="job" data-state=state_name(j.state)>
                        <div class="job-head">
                            <span class="job-name">{j.name.clone()}</span>
                            <span class="job-state">{format!("{} · {}%", state_name(j.state), j.progress)}</span>
                        </div>
                        <div class="bar" role="progressbar" aria-label=j.name.clone() aria-valuemin="0" aria-valuemax="100" aria-valuenow=j.progress.to_string()>
                            <div class="bar-fill" style=format!("transform: scaleX({})", f64::from(j.progress) / 100.0)></div>
                        </div>
                    </li>
                </For>
            </ul>
            {move || lab.saas.with(|s| s.jobs.is_empty()).then(|| view! { <p class="empty">"Waiting for the first job…"</p> })}
        </section>
    }
}

fn state_name(s: JobState) -> &'static str {
    match s {
        JobState::Queued => "queued",
        JobState::Running => "running",
        JobState::Done => "done",
        JobState::Failed => "failed",
    }
}

#[component]
pub fn Notifications() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let items = move || lab.saas.with(|s| s.notifications.iter().cloned().collect::<Vec<_>>());
    view! {
        <section class="card notifications" aria-labelledby="notes-title">
            <h2 id="notes-title">"Notifications"</h2>
            <ul class="note-list" data-testid="notifications">
                {move || items().into_iter().map(|n| view! {
                    <li data-kind=kind_name(n.kind)><span class="kind">{kind_name(n.kind)}</span>{n.text}</li>
                }).collect_view()}
            </ul>
        </section>
    }
}

fn kind_name(k: NotificationKind) -> &'static str {
    match k {
        NotificationKind::Mention => "mention",
        NotificationKind::Approval => "approval",
        NotificationKind::Comment => "comment",
        NotificationKind::Alert => "alert",
        NotificationKind::Invite => "invite",
        NotificationKind::Other => "other",
    }
}

#[component]
pub fn Presence() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let count = move |t: Transport| {
        move || {
            let pushed = lab.saas.with(|s| s.presence.map(|p| *p.get(t)));
            let polled = lab.server.with(|s| s.as_ref().map(|s| *s.presence.get(t)));
            pushed.or(polled).map_or("—".into(), |n| n.to_string())
        }
    };
    view! {
        <section class="card presence" aria-labelledby="presence-title">
            <h2 id="presence-title">"Who is here, and how"</h2>
            <dl class="presence-grid" data-testid="presence">
                {Transport::ALL
                    .into_iter()
                    .map(|t| view! { <div><dt>{t.label()}</dt><dd data-testid=format!("presence-{}", t.as_str())>{count(t)}</dd></div> })
                    .collect_view()}
            </dl>
        </section>
    }
}

#[component]
pub fn ChatBox() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let text = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let feedback = RwSignal::new(String::new());
    #[cfg(feature = "hydrate")]
    let running = use_context::<crate::transport::Running>();
    let messages = move || lab.saas.with(|s| s.chat.iter().rev().cloned().collect::<Vec<_>>());
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = text.get_untracked();
        if body.trim().is_empty() {
            return;
        }
        let from = Some(name.get_untracked()).filter(|n| !n.trim().is_empty());
        #[cfg(feature = "hydrate")]
        {
            // On the WebSocket transport, chat goes as a frame on the running client's own socket.
            if running.is_some_and(|r| r.send_chat(&body, from.clone())) {
                feedback.set("sent over the WebSocket".into());
                text.set(String::new());
                return;
            }
            leptos::task::spawn_local(async move {
                let msg = pushlab::PostMessage { text: body, from };
                let outcome = match crate::api::post_chat(&msg).await {
                    Ok(_) => {
                        text.set(String::new());
                        "sent with POST /api/messages".to_string()
                    }
                    Err(f) => f.message,
                };
                feedback.set(outcome);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (from, feedback);
    };
    view! {
        <section class="card chat" aria-labelledby="chat-title">
            <h2 id="chat-title">"Chat"</h2>
            <ol class="chat-list" data-testid="chat">
                {move || messages().into_iter().map(|c| view! {
                    <li><strong>{c.from}</strong>": "{c.text}</li>
                }).collect_view()}
            </ol>
            <form class="chat-form" on:submit=send>
                <input type="text" class="chat-name" placeholder="name" maxlength="32" aria-label="Your name"
                    bind:value=name/>
                <input type="text" class="chat-text" placeholder="Say something to the room" maxlength="500" aria-label="Message"
                    data-testid="chat-input" bind:value=text/>
                <button type="submit" data-testid="chat-send">"Send"</button>
            </form>
            <p class="note" data-testid="chat-feedback">
                {move || {
                    let f = feedback.get();
                    if f.is_empty() {
                        if lab.active.get() == Transport::Ws { "Goes over the WebSocket.".to_string() } else { "Goes as POST /api/messages: with polling and SSE, the way back is plain HTTP.".to_string() }
                    } else {
                        f
                    }
                }}
            </p>
        </section>
    }
}
