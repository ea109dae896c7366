//! The server's view: clients per transport, requests/s, events/s and the
//! instructor's settings, from `GET /api/stats` every few seconds.

use leptos::prelude::*;
use pushlab::Transport;

use crate::components::format;
use crate::lab::Lab;

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
            </dl>
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
