//! The pushlab dashboard: Leptos components, rendered on the server and
//! hydrated in the browser, where the transport clients run.
//!
//! # Layout
//!
//! - [`model`]: what the page knows, as plain data (feed check, metrics, SaaS
//!   state, request log, clock offset, backoff, the shareable link). Tested
//!   natively.
//! - [`lab`]: the reactive state every view and client shares.
//! - [`report`]: the typed calls through which a transport client reports.
//! - [`api`]: every HTTP request a view makes (control, chat), typed.
//! - `frame` (browser only): when the views hear of new events; the page's own load.
//! - [`components`]: the views, one concern each.
//! - `transport` (browser only): the four clients, one module each.
//! - `sync` (browser only): clock offset, server stats, the 1 s tick.

pub mod api;
pub mod components;
#[cfg(feature = "hydrate")]
pub mod frame;
pub mod lab;
pub mod model;
pub mod report;
#[cfg(feature = "hydrate")]
pub mod sync;
#[cfg(feature = "hydrate")]
pub mod tabs;
#[cfg(feature = "hydrate")]
pub mod transport;

use leptos::prelude::*;
use pushlab::Envelope;

use crate::components::announce::{AnnouncementBanner, FaultBanner, TabsWarning};
use crate::components::compare::Comparison;
use crate::components::figures::Figures;
use crate::components::instructor::InstructorPanel;
use crate::components::ledger::RecoveryLedger;
use crate::components::log::RequestLogView;
use crate::components::saas::{ChatBox, Counter, Jobs, Notifications, Presence};
use crate::components::server::ServerView;
use crate::components::seven::SevenStreams;
use crate::components::switch::TransportSwitch;
use crate::components::teach::TeachingPanel;
use crate::lab::Lab;

/// What the server gives the first render so the page is never blank: the
/// events that rebuild the current state, and the stream's head to resume
/// after. Embedded in the page, so hydration starts from the same state.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct InitialEvents {
    pub events: Vec<Envelope>,
    pub cursor: Option<String>,
    /// The instructor's last announcement, so a late joiner reads it too.
    #[serde(default)]
    pub announcement: Option<pushlab::Announced>,
}

const INITIAL_ID: &str = "pushlab-initial";

fn initial_events() -> InitialEvents {
    #[cfg(feature = "ssr")]
    return use_context::<InitialEvents>().unwrap_or_default();
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    return document()
        .get_element_by_id(INITIAL_ID)
        .and_then(|e| e.text_content())
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    InitialEvents::default()
}

/// What every page's head holds.
fn head_common() -> impl IntoView {
    view! {
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>"pushlab — a live lab for server push"</title>
        <link rel="stylesheet" id="leptos" href="/pkg/pushlab.css"/>
        <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
    }
}

/// The document around the dashboard. Only the body is hydrated, so the head
/// is plain server-rendered markup (no router or meta crate in the bundle).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                {head_common()}
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// What any other path shows (with status 404): no dashboard, no WASM.
pub fn not_found_shell(_options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>{head_common()}</head>
            <body>
                <main class="page">
                    <p class="not-found">"Page not found. "<a href="/">"Open the dashboard"</a></p>
                </main>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    let link = model::link::from_query(&query_string());
    view! { <Dashboard link/> }
}

/// The page's query string, from the request being rendered or the address bar.
fn query_string() -> String {
    #[cfg(feature = "ssr")]
    return use_context::<http::request::Parts>()
        .and_then(|parts| parts.uri.query().map(str::to_owned))
        .unwrap_or_default();
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    return window().location().search().unwrap_or_default();
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    String::new()
}

#[component]
fn Dashboard(link: model::link::Link) -> impl IntoView {
    let lab = Lab::new(link.transport, link.interval);
    lab.projector.set(link.projector);
    let initial = initial_events();
    lab.start_from(&initial);
    // `<` escaped so no event text can close the script element. Hydration
    // leaves server-rendered inner HTML alone, so the browser need not (and
    // does not carry the code to) serialize events.
    #[cfg(feature = "ssr")]
    let initial_json = serde_json::to_string(&initial).unwrap_or_default().replace('<', "\\u003c");
    #[cfg(not(feature = "ssr"))]
    let initial_json = String::new();
    provide_context(lab);
    #[cfg(feature = "hydrate")]
    run_in_browser(lab);
    view! {
        <script type="application/json" id=INITIAL_ID inner_html=initial_json></script>
        <main class="page" class:projector=move || lab.projector.get()>
            <header class="top">
                <div class="brand">
                    <h1>"pushlab"</h1>
                    <p class="lede">"One live event stream, pushed four ways. Switch and watch what each costs."</p>
                </div>
                <nav class="controls" aria-label="Transport">
                    <TransportSwitch/>
                    <button type="button" class="ghost" data-testid="projector" aria-pressed=move || lab.projector.get().to_string()
                        title="Large type across the screen, the instructor's controls beside the figures"
                        on:click=move |_| lab.projector.update(|p| *p = !*p)>
                        "Projector"
                    </button>
                </nav>
            </header>
            <AnnouncementBanner/>
            <FaultBanner/>
            <TabsWarning/>
            // In projector mode the instructor's panel moves up beside the figures
            // (CSS order), so a control and its effect share the screen.
            <div class="grid">
                <div class="col-wide slot-figures"><Figures/></div>
                <div class="col-side"><TeachingPanel/></div>
                <div class="col-third"><Jobs/></div>
                <div class="col-third stack"><Counter/><Presence/></div>
                <div class="col-third"><Notifications/></div>
                <div class="col-wide"><RequestLogView/></div>
                <div class="col-side"><ChatBox/></div>
                <div class="col-wide"><RecoveryLedger/></div>
                <div class="col-side"><SevenStreams/></div>
                <div class="col-full"><Comparison/></div>
                <div class="col-half"><ServerView/></div>
                <div class="col-half slot-instructor"><InstructorPanel/></div>
            </div>
        </main>
    }
}

/// The browser side: the active transport, background loops, the URL, and the
/// hydration mark tests wait for (a click before hydration is lost).
#[cfg(feature = "hydrate")]
fn run_in_browser(lab: Lab) {
    use crate::transport::{Alive, Running, start};
    use pushlab::Transport;

    let alive = Alive::new();
    sync::start(lab, alive.clone());
    tabs::start(lab, alive.clone());
    // A switch tears down the old transport before the new one opens from the last cursor.
    let running = Running::new();
    provide_context(running);
    Effect::new(move |prev: Option<(Transport, u64)>| {
        let t = lab.active.get();
        let g = lab.generation.get();
        let interval = if t == Transport::Poll { lab.interval_s.get() } else { 0 };
        let cut = prev.is_some_and(|(pt, pg)| pt == t && pg != g);
        running.replace(|| start(lab, t, interval, cut));
        (t, g)
    });
    Effect::new(move |_| {
        let link = model::link::Link {
            transport: lab.active.get(),
            interval: lab.interval_s.get(),
            projector: lab.projector.get(),
        };
        let url = model::link::to_query(link);
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    });
    // Type scales with the root element's font size (every size is in rem).
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.class_list().toggle_with_force("projector", lab.projector.get());
        }
    });
    // Where the comparison's rows are measured; after hydration, which saw the server's (empty) place.
    Effect::new(move |_| {
        let ua = window().navigator().user_agent().unwrap_or_default();
        let origin = window().location().origin().unwrap_or_default();
        lab.session.update(|s| {
            s.place.browser = model::comparison::browser_name(&ua);
            s.place.user_agent = ua;
            s.place.server = origin;
        });
    });
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    let alive = StoredValue::new_local(alive);
    on_cleanup(move || {
        alive.with_value(Alive::stop);
        running.stop();
    });
}
