//! The teaching panel: how the active transport works, its pros and cons, when
//! to choose it — next to what it is costing right now.

use leptos::prelude::*;
use pushlab::{FaultName, Transport};

use crate::components::format;
use crate::lab::Lab;

struct Lesson {
    how: &'static str,
    pros: &'static [&'static str],
    cons: &'static [&'static str],
    choose: &'static str,
}

fn lesson(t: Transport) -> Lesson {
    match t {
        Transport::Poll => Lesson {
            how: "The page asks \"anything new after my cursor?\" on a timer. The server answers at once, \
                  usually with nothing. News waits, on average, half an interval before anyone asks.",
            pros: &[
                "Plain request/response: every proxy, cache, load balancer and firewall understands it.",
                "Stateless on the server; trivial to scale and to debug with curl.",
            ],
            cons: &[
                "Latency is the interval, not the network: a 2 s timer means about 1 s late on average.",
                "Every tick is a request, news or not: when events are rarer than ticks, most answers are empty.",
            ],
            choose: "when updates are rare, a little staleness is fine, and nothing but plain HTTP may pass.",
        },
        Transport::LongPoll => Lesson {
            how: "The page asks the same question, but the server holds the request open until there is news \
                  (or a timeout, answered 204), then the page asks again at once.",
            pros: &[
                "Near-real-time over plain HTTP requests that any infrastructure accepts.",
                "Few empty answers: one per timeout, not one per tick.",
            ],
            cons: &[
                "One request per batch of news: headers and a round trip each time; bursts wait for the re-issue.",
                "Held requests meet idle timeouts in proxies: keep the hold under 30 s.",
            ],
            choose: "when you need low latency but must stay plain request/response.",
        },
        Transport::Sse => Lesson {
            how: "One long HTTP response that never ends: the server writes each event as it happens \
                  (id, event, data lines). The browser's EventSource reconnects by itself and sends \
                  Last-Event-ID, so the server resumes exactly where it stopped.",
            pros: &[
                "One connection, one request: events arrive as soon as they are published.",
                "Reconnect and resume are built into the browser; it is still just HTTP.",
            ],
            cons: &[
                "One way only: the page talks back with ordinary requests (the chat here uses POST).",
                "A buffering proxy or a compression layer can hold events back; over HTTP/1.1 each tab spends one of the browser's six connections per origin.",
            ],
            choose: "for a one-way stream to the browser: feeds, dashboards, notifications, progress.",
        },
        Transport::Ws => Lesson {
            how: "One HTTP request upgrades to a socket that stays open both ways; each side sends \
                  small frames whenever it likes. Here the page sends resume, chat and ping frames.",
            pros: &[
                "Two-way, with the smallest framing per message and no request per event.",
                "Both sides can speak at any time: chat, games, collaborative editing.",
            ],
            cons: &[
                "You write what HTTP gave for free: resume, reconnect with backoff, heartbeats.",
                "Some proxies and corporate networks block or cut upgraded connections.",
            ],
            choose: "when the browser must talk back often, or both sides send at any time.",
        },
    }
}

/// What a fault does to the page, and how real deployments avoid it.
fn trap(name: FaultName) -> (&'static str, &'static str) {
    match name {
        FaultName::Buffering => (
            "Server-Sent Events arrive in clumps, seconds late: the latency chart climbs and the log shows              many events at the same instant. Polling and WebSocket are untouched.",
            "A proxy (or a compression layer) holds the streamed response until its buffer fills. Send              X-Accel-Buffering: no (this server does; nginx honours it unless told to ignore it), switch              proxy buffering off for the stream, and never compress text/event-stream.",
        ),
        FaultName::HoldFirst => (
            "A new stream, socket or long poll waits seconds before its first byte; afterwards it flows.",
            "An antivirus or inspecting proxy scans a response before letting it through. Measure the time              to first byte; a fallback rule (\"no event within N s: switch to long polling\") helps only              if N is longer than the hold — otherwise every page falls back.",
        ),
        FaultName::IdleCut => (
            "Connections that stay quiet longer than the cut are closed: with the stream paused,              reconnects climb until the keep-alive (SSE) or heartbeat (WebSocket) is shorter than the cut.",
            "Load balancers close idle connections (often after 60 s). Send heartbeats shorter than every              idle timeout on the path — keep-alive comments for SSE, pings for WebSocket — and hold long              polls for less than the timeout.",
        ),
        FaultName::Latency => (
            "Every answer and frame comes late by the same amount (plus jitter); order is kept.",
            "A slow path is the network's, not the transport's: compare the transports' latency — each pays              it once per event, polling pays it on every request as well.",
        ),
        FaultName::WsDies => (
            "The WebSocket goes silent with no close: no events, no pongs. Only the page's heartbeat notices              — after two intervals without a pong it says the connection is presumed dead, reconnects and              resumes with gaps 0.",
            "NATs, proxies and mobile networks drop idle or long-lived flows without telling either side.              Heartbeat from both ends and give up after a missed pong or two: TCP alone may take minutes.",
        ),
    }
}

#[component]
pub fn TeachingPanel() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let lesson_view = move || {
        let t = lab.active.get();
        let l = lesson(t);
        view! {
            <h2 id="teach-title">{format!("How {} works", t.label())}</h2>
            <p class="how">{l.how}</p>
            <div class="pros-cons">
                <div><h3>"Good at"</h3><ul>{l.pros.iter().map(|p| view! { <li>{*p}</li> }).collect_view()}</ul></div>
                <div><h3>"Costs"</h3><ul>{l.cons.iter().map(|c| view! { <li>{*c}</li> }).collect_view()}</ul></div>
            </div>
            <p class="choose"><strong>"Choose it "</strong>{l.choose}</p>
        }
    };
    let now = move || {
        let t = lab.active.get();
        lab.metrics.with(|m| {
            let m = m.get(t);
            if m.events == 0 {
                return "Right now: waiting for the first events.".to_string();
            }
            let empty = if m.requests > 0 { 100.0 * m.empty as f64 / m.requests as f64 } else { 0.0 };
            // A stream has no answers to be empty; polling's share is the live one.
            let empty = if t.is_stream() { String::new() } else { format!(", {empty:.0}% of answers empty") };
            let p50 = m.percentiles().map_or("—".into(), |p| format::ms(p.p50));
            format!(
                "Right now: {} events over {} requests{}{}, {} per event, median latency {}.",
                m.events,
                m.requests,
                if t.is_stream() {
                    String::new()
                } else {
                    format!(" ({} per request)", format::ratio(m.events_per_request()))
                },
                empty,
                format::bytes(m.payload_bytes / m.events.max(1)),
                p50
            )
        })
    };
    let clustered = move || lab.server.with(|s| s.as_ref().map_or(0, |s| s.instances.len()) > 1);
    let cluster = move || {
        let on = lab.instance.get().unwrap_or_else(|| "one instance".into());
        let n = lab.server.with(|s| s.as_ref().map_or(0, |s| s.instances.len()));
        if lab.active.get().is_stream() {
            format!(
                "{n} instances share one Redis stream. This stream stays on {on} for its whole life: a \
                 connection is sticky by nature. If {on} dies, the page reconnects through the balancer, \
                 lands on another instance, and resumes from its cursor — gaps stay 0."
            )
        } else {
            format!(
                "{n} instances share one Redis stream, behind a balancer without sticky sessions: each \
                 request may land on another instance (the log's instance column; {on} answered last). \
                 It works because the cursor is global — any instance can answer \"after my cursor\". \
                 A design that keeps session state in one process needs sticky sessions instead."
            )
        }
    };
    let faults = move || lab.server.with(|s| s.as_ref().map(|s| s.settings.faults.clone()).unwrap_or_default());
    // The first fault on, explained; the others are named (one at a time reads better on a projector).
    let traps = move || {
        let faults = faults();
        let f = faults.first()?;
        let (see, fix) = trap(f.name());
        let more = match faults.len() {
            1 => String::new(),
            n => format!(" (and {} more on: see the banner)", n - 1),
        };
        Some(view! {
            <div class="trap" data-testid="teach-trap" data-fault=f.name().as_str()>
                <h3>{format!("Trap on: {}{more}", f.name())}</h3>
                <p><strong>"What you see: "</strong>{see}</p>
                <p><strong>"Cause and fix: "</strong>{fix}</p>
            </div>
        })
    };
    view! {
        <section class="card teach" aria-labelledby="teach-title" data-testid="teaching">
            {lesson_view}
            <p class="now" data-testid="teach-now">{now}</p>
            {traps}
            {move || clustered().then(|| view! { <p class="now" data-testid="teach-cluster">{cluster}</p> })}
            <details class="rules">
                <summary>"Rules of thumb, and the traps"</summary>
                <ul>
                    <li>"One-way stream to the browser → SSE. Two-way → WebSocket. Must stay plain request/response → long polling, or short polling when staleness is fine."</li>
                    <li>"A buffering reverse proxy holds SSE back until its buffer fills: send X-Accel-Buffering: no (this server does) and never compress the stream."</li>
                    <li>"Idle timeouts (load balancers, proxies, often 60 s) cut quiet connections: keep-alive comments for SSE, pings for WebSocket, holds under 30 s for long polls."</li>
                    <li>"Over HTTP/1.1 a browser opens at most six connections per origin: SSE in many tabs can starve the rest of the page. HTTP/2 lifts this."</li>
                    <li>"Every transport needs a cursor: reconnects and switches must neither lose nor repeat events. Watch gaps and duplicates stay at 0."</li>
                </ul>
            </details>
        </section>
    }
}
