//! Server-Sent Events through the browser's own `EventSource`: one listener
//! per event type, and the browser's reconnect with `Last-Event-ID`.

use leptos::prelude::*;
use pushlab::{Envelope, Event};
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{EventSource, MessageEvent};

use crate::model::Model;

struct Open {
    source: EventSource,
    _listeners: Vec<Closure<dyn FnMut(MessageEvent)>>,
}

impl Drop for Open {
    fn drop(&mut self) {
        self.source.close();
    }
}

/// Opens the stream from the model's cursor; closes it when the owner is cleaned up.
pub fn connect(model: RwSignal<Model>) {
    let after = model.with_untracked(|m| m.feed.cursor.clone()).unwrap_or_default();
    let url = format!("/api/sse?after={}", js_sys::encode_uri_component(&after));
    let Ok(source) = EventSource::new(&url) else { return };
    let listeners = Event::TYPE_NAMES
        .iter()
        .map(|name| {
            let cb = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                let Some(data) = e.data().as_string() else { return };
                if let Ok(env) = serde_json::from_str::<Envelope>(&data) {
                    model.update(|m| m.on_event(&env));
                }
            });
            let _ = source.add_event_listener_with_callback(name, cb.as_ref().unchecked_ref());
            cb
        })
        .collect();
    let open = SendWrapper::new(Open { source, _listeners: listeners });
    on_cleanup(move || drop(open));
}
