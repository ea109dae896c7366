//! Browser-side transport clients, one module each. `start` opens one; the
//! returned handle closes everything it holds when dropped, so a switch tears
//! down the old transport before the new one opens.

pub mod http;
pub mod long_poll;
pub mod poll;
pub mod sse;
pub mod timing;
pub mod ws;

use leptos::prelude::*;
use std::cell::Cell;
use std::rc::Rc;

use pushlab::{Cursor, Envelope, PollResponse, ResetNotice, Transport};

use crate::lab::Lab;
use crate::report::Report;

/// Local wall clock in ms, with sub-millisecond precision.
pub fn now_ms() -> f64 {
    match web_sys::window().and_then(|w| w.performance()) {
        Some(p) => p.time_origin() + p.now(),
        None => js_sys::Date::now(),
    }
}

pub fn random() -> f64 {
    js_sys::Math::random()
}

/// This tab's id, so the server's presence counts it while it polls. Kept in
/// `sessionStorage`: a reload is the same participant, another tab is not.
pub fn client_id() -> &'static str {
    const KEY: &str = "pushlab-client";
    thread_local! {
        static ID: &'static str = {
            let store = web_sys::window().and_then(|w| w.session_storage().ok().flatten());
            let kept = store.as_ref().and_then(|s| s.get_item(KEY).ok().flatten()).filter(|id| id.len() <= 16 && id.chars().all(|c| c.is_ascii_alphanumeric()));
            let id = kept.unwrap_or_else(|| {
                let id = format!("p{:08x}", (random() * f64::from(u32::MAX)) as u32);
                if let Some(s) = &store {
                    let _ = s.set_item(KEY, &id);
                }
                id
            });
            Box::leak(id.into_boxed_str())
        };
    }
    ID.with(|id| *id)
}

pub fn encode(s: &str) -> String {
    js_sys::encode_uri_component(s).into()
}

/// The cursor to resume from, URL-encoded (empty for a new client).
pub fn after(report: &Report) -> String {
    encode(&report.cursor().unwrap_or_default())
}

/// A running transport client.
pub enum Handle {
    Poll(PollLoop),
    LongPoll(PollLoop),
    Sse(sse::SseClient),
    Ws(ws::WsClient),
}

impl Handle {
    /// Sends a chat message over this client's own connection, when it has one
    /// that carries chat (an open WebSocket); false means: use `POST /api/messages`.
    pub fn send_chat(&self, text: &str, from: Option<String>) -> bool {
        match self {
            Handle::Ws(ws) => ws.send_chat(text, from),
            Handle::Poll(_) | Handle::LongPoll(_) | Handle::Sse(_) => false,
        }
    }
}

/// The page's running transport client, in context so a view can send through
/// it (the chat box, over the WebSocket's own socket). Each client owns its
/// connection: several running at once never share one.
#[derive(Clone, Copy)]
pub struct Running(StoredValue<Option<Handle>, LocalStorage>);

impl Running {
    pub fn new() -> Self {
        Running(StoredValue::new_local(None))
    }

    /// Closes the running client, then runs the one `start` opens.
    pub fn replace(&self, start: impl FnOnce() -> Handle) {
        self.stop();
        self.0.set_value(Some(start()));
    }

    /// Closes the running client.
    pub fn stop(&self) {
        self.0.set_value(None);
    }

    /// See [`Handle::send_chat`]; false when nothing runs.
    pub fn send_chat(&self, text: &str, from: Option<String>) -> bool {
        self.0.try_with_value(|h| h.as_ref().is_some_and(|h| h.send_chat(text, from))).unwrap_or(false)
    }
}

impl Default for Running {
    fn default() -> Self {
        Self::new()
    }
}

/// Opens transport `t`. `cut` says the previous connection was cut on purpose,
/// so the first open counts as a reconnect.
pub fn start(lab: Lab, t: Transport, interval_s: u32, cut: bool) -> Handle {
    let report = Report::new(lab, t);
    lab.since_ms.set(now_ms());
    match t {
        Transport::Poll => Handle::Poll(poll::start(report, interval_s, cut)),
        Transport::LongPoll => Handle::LongPoll(long_poll::start(report, cut)),
        Transport::Sse => Handle::Sse(sse::start(report, cut)),
        Transport::Ws => Handle::Ws(ws::start(report, cut)),
    }
}

/// A polling loop's handle: dropping it stops the loop and aborts the fetch in flight.
pub struct PollLoop {
    alive: Alive,
    abort: Option<web_sys::AbortController>,
}

impl PollLoop {
    /// The handle, the flag the loop checks, and the signal its fetches carry.
    pub fn new() -> (Self, Alive, Option<web_sys::AbortSignal>) {
        let alive = Alive::new();
        let abort = web_sys::AbortController::new().ok();
        let signal = abort.as_ref().map(|a| a.signal());
        (PollLoop { alive: alive.clone(), abort }, alive, signal)
    }
}

impl Drop for PollLoop {
    fn drop(&mut self) {
        self.alive.stop();
        if let Some(a) = &self.abort {
            a.abort();
        }
    }
}

/// The reconnect state both streaming clients keep: whether to go on, whether
/// the next open is a reconnect, failures in a row, and the pending retry.
pub struct Reopen {
    alive: Cell<bool>,
    reconnecting: Cell<bool>,
    failures: Cell<u32>,
    timer: std::cell::RefCell<Option<gloo_timers::callback::Timeout>>,
}

impl Reopen {
    /// `cut`: the previous connection was cut on purpose, so the first open is a reconnect.
    pub fn new(cut: bool) -> Self {
        Reopen {
            alive: Cell::new(true),
            reconnecting: Cell::new(cut),
            failures: Cell::new(0),
            timer: Default::default(),
        }
    }

    pub fn alive(&self) -> bool {
        self.alive.get()
    }

    /// The status to show while opening.
    pub fn opening(&self) -> crate::lab::Status {
        if self.reconnecting.get() { crate::lab::Status::Reconnecting } else { crate::lab::Status::Connecting }
    }

    /// An open succeeded; returns whether it was a reconnect.
    pub fn opened(&self) -> bool {
        self.failures.set(0);
        self.reconnecting.replace(true)
    }

    /// Calls `reopen` after a capped exponential backoff with jitter, unless stopped first.
    pub fn schedule(&self, reopen: impl FnOnce() + 'static) {
        if !self.alive.get() {
            return;
        }
        self.failures.set(self.failures.get() + 1);
        self.reconnecting.set(true);
        let delay = crate::model::backoff::backoff_ms(self.failures.get(), random()) as u32;
        *self.timer.borrow_mut() = Some(gloo_timers::callback::Timeout::new(delay, reopen));
    }

    pub fn stop(&self) {
        self.alive.set(false);
        self.timer.borrow_mut().take();
    }
}

/// A browser event handler kept alive as long as its connection.
pub type Handler<E> = wasm_bindgen::closure::Closure<dyn FnMut(E)>;

/// Shared by the async loops: cleared when their handle is dropped.
#[derive(Clone, Default)]
pub struct Alive(Rc<Cell<bool>>);

impl Alive {
    pub fn new() -> Self {
        Alive(Rc::new(Cell::new(true)))
    }
    pub fn get(&self) -> bool {
        self.0.get()
    }
    pub fn stop(&self) {
        self.0.set(false)
    }
}

/// Applies a polling answer (short or long): a reset first, then the events.
pub fn apply_poll(report: &Report, body: &PollResponse, now: f64) {
    if let Some(info) = &body.reset_info {
        // The events that follow come right after the reset point.
        let cursor = match body.events.first().and_then(|e| Cursor::from_str_opt(&e.id)) {
            Some(c) => Cursor::new(c.epoch, c.seq.saturating_sub(1)).to_string(),
            None => body.cursor.clone(),
        };
        report.reset(&ResetNotice { reason: info.reason, missed: info.missed, cursor }, now);
    }
    for env in &body.events {
        report.event(env, now);
    }
}

pub fn parse_envelope(data: &str) -> Result<Envelope, serde_json::Error> {
    serde_json::from_str(data)
}
