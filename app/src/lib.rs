//! The pushlab dashboard: Leptos components, rendered on the server and
//! hydrated in the browser, where the transport clients run.
//!
//! # Layout
//!
//! - [`model`]: what the page knows — the feed's continuity check and the SaaS
//!   state the events describe. Pure Rust, tested natively.
//! - `transport` (browser only): the clients, one module each.

pub mod model;
#[cfg(feature = "hydrate")]
pub mod transport;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::StaticSegment;
use leptos_router::components::{Route, Router, Routes};

use crate::model::Model;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/pushlab.css"/>
        <Title text="pushlab — a live lab for server push"/>
        <Router>
            <Routes fallback=|| view! { <p class="not-found">"Page not found."</p> }>
                <Route path=StaticSegment("") view=Dashboard/>
            </Routes>
        </Router>
    }
}

#[component]
fn Dashboard() -> impl IntoView {
    let model = RwSignal::new(Model::default());
    #[cfg(feature = "hydrate")]
    transport::sse::connect(model);
    // Tests wait for this rather than sleep: a click before hydration is lost.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = leptos::prelude::document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    let count = move || model.with(|m| m.received);
    let recent = move || model.with(|m| m.recent.iter().rev().cloned().collect::<Vec<_>>());
    view! {
        <main class="page">
            <h1>"pushlab"</h1>
            <p class="lede">"One event stream, pushed four ways. This page listens over Server-Sent Events."</p>
            <section class="card">
                <h2>"Events received"</h2>
                <p class="big" data-testid="event-count">{count}</p>
                <p>"gaps: " <span data-testid="gaps">{move || model.with(|m| m.feed.gaps)}</span>
                   " · duplicates: " <span data-testid="duplicates">{move || model.with(|m| m.feed.duplicates)}</span></p>
            </section>
            <section class="card">
                <h2>"Latest events"</h2>
                <ol class="events" data-testid="recent-events">
                    <For each=recent key=|e| e.seq let:e>
                        <li><code>{format!("#{}", e.seq)}</code>" "<strong>{e.kind}</strong>" "{e.summary}</li>
                    </For>
                </ol>
            </section>
        </main>
    }
}
