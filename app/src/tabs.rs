//! Hears the other tabs of this origin (see [`crate::model::tabs`]) and says
//! what this one holds, every 2 s, on every switch, and when it goes.

use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{BroadcastChannel, MessageEvent};

use crate::lab::Lab;
use crate::model::tabs::message;
use crate::transport::{Alive, client_id, now_ms};

const CHANNEL: &str = "pushlab-tabs";
const BEAT_MS: u32 = 2_000;

fn holds(lab: &Lab) -> bool {
    lab.active.get_untracked().holds_http_connection()
}

pub fn start(lab: Lab, alive: Alive) {
    let Ok(channel) = BroadcastChannel::new(CHANNEL) else { return };
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        if let Some(text) = e.data().as_string() {
            lab.tabs.update(|t| t.heard(&text, now_ms()));
        }
    });
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // Both live as long as the page.
    on_message.forget();
    let say = {
        let channel = channel.clone();
        move |holds: Option<bool>| {
            let _ = channel.post_message(&message(client_id(), holds).into());
        }
    };
    let on_hide = Closure::<dyn FnMut(web_sys::Event)>::new({
        let say = say.clone();
        move |_| say(None)
    });
    if let Some(w) = web_sys::window() {
        let _ = w.add_event_listener_with_callback("pagehide", on_hide.as_ref().unchecked_ref());
    }
    on_hide.forget();
    Effect::new({
        let say = say.clone();
        move |_| say(Some(lab.active.get().holds_http_connection()))
    });
    spawn_local(async move {
        while alive.get() {
            say(Some(holds(&lab)));
            lab.tabs.update(|t| t.expire(now_ms()));
            TimeoutFuture::new(BEAT_MS).await;
        }
        say(None);
    });
}
