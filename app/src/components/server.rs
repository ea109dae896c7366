//! The server's view: clients per transport, requests/s, events/s and the
//! instructor's settings, from `GET /api/stats` every few seconds.

use leptos::prelude::*;
use pushlab::{BrokerState, Transport};

use crate::components::format;
use crate::lab::Lab;

fn broker(b: BrokerState) -> &'static str {
    match b {
        BrokerState::Memory => "in memory (one instance)",
        BrokerState::Up => "Redis: up",
        BrokerState::Down => "Redis: down — publishing waits",
    }
}

/// The cluster's instances from their heartbeats: the leader marked, the one
/// this page talks to highlighted, open connections per held transport.
#[component]
fn Instances() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let held = || Transport::ALL.into_iter().filter(|t| t.is_held());
    // Redrawn whole on each stats answer (every few seconds): a keyed list
    // would cost the bundle more than it saves.
    move || {
        let instances = lab.server.with(|s| {
            s.as_ref().filter(|s| s.instances.len() > 1 || s.broker != BrokerState::Memory).map(|s| s.instances.clone())
        })?;
        let mine = lab.instance.get();
        let rows = instances
            .into_iter()
            .map(|i| {
                let is_mine = mine.as_deref() == Some(i.id.as_str());
                view! {
                    <tr class:mine=is_mine>
                        <td class="mono">{i.id}{i.leader.then_some(" ★ leader")}</td>
                        {held().map(|t| view! { <td class="num">{*i.connections.get(t)}</td> }).collect_view()}
                        <td class="num mono">{format::ms(i.age_ms as f64)}</td>
                    </tr>
                }
            })
            .collect_view();
        Some(view! {
            <div class="table-wrap"><table class="mini" data-testid="instances">
                <thead><tr>
                    <th>"instance"</th>
                    {held().map(|t| view! { <th class="num">{t.as_str()}</th> }).collect_view()}
                    <th class="num">"heartbeat"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table></div>
        })
    }
}

#[component]
pub fn ServerView() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let stat =
        move |f: fn(&pushlab::ServerStats) -> String| move || lab.server.with(|s| s.as_ref().map_or("—".into(), f));
    view! {
        <section class="card server" aria-labelledby="server-title">
            <h2 id="server-title">"The server's view"</h2>
            <dl class="kv">
                <div><dt>"events/s"</dt><dd data-testid="server-eps">{stat(|s| format!("{:.1}", s.events_per_s))}</dd></div>
                <div><dt>"requests/s"</dt><dd data-testid="server-rps">{stat(|s| format!("{:.1}", s.requests_per_s))}</dd></div>
                <div><dt>"rate"</dt><dd>{stat(|s| format!("{} /s", s.settings.rate_per_s))}</dd></div>
                <div><dt>"paused"</dt><dd>{stat(|s| if s.settings.paused { "yes".into() } else { "no".into() })}</dd></div>
                <div><dt>"delay"</dt><dd>{stat(|s| format::ms(s.settings.delay_ms as f64))}</dd></div>
                <div><dt>"history"</dt><dd>{stat(|s| format!("{} / {}", s.history_len, s.history_capacity))}</dd></div>
                <div><dt>"broker"</dt><dd data-testid="server-broker">{stat(|s| broker(s.broker).into())}</dd></div>
                <div><dt>"room"</dt><dd data-testid="room-status">{move || lab.room.get().unwrap_or_else(|| "—".into())}</dd></div>
            </dl>
            <Instances/>
            <div class="table-wrap"><table class="mini">
                <thead><tr><th>"transport"</th><th class="num">"open"</th><th class="num">"requests"</th><th class="num">"events"</th><th class="num">"bytes"</th></tr></thead>
                <tbody>
                    {Transport::ALL.into_iter().map(|t| {
                        let c = move |f: fn(&pushlab::TransportCounters) -> String| move || lab.server.with(|s| s.as_ref().map_or("—".into(), |s| f(s.transports.get(t))));
                        view! {
                            <tr>
                                <td>{t.as_str()}</td>
                                <td class="num">{c(|c| c.open.to_string())}</td>
                                <td class="num">{c(|c| c.requests.to_string())}</td>
                                <td class="num">{c(|c| c.events.to_string())}</td>
                                <td class="num">{c(|c| format::bytes(c.bytes))}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table></div>
        </section>
    }
}
