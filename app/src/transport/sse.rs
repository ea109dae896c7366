//! Server-Sent Events through the browser's own `EventSource`: one listener
//! per event type, and the browser's own reconnect with `Last-Event-ID`.
//! When the browser gives up (any non-200 answer), reopen after a backoff.

use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::{Rc, Weak};

use pushlab::{Event, ResetNotice, Transport};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{EventSource, MessageEvent};

use super::{Handler, Reopen, after, now_ms, parse_envelope};
use crate::lab::{Lab, Status};
use crate::model::LogKind;

const T: Transport = Transport::Sse;

pub struct SseClient(Rc<Conn>);

struct Conn {
    lab: Lab,
    reopen: Reopen,
    source: RefCell<Option<EventSource>>,
    listeners: RefCell<Vec<Handler<MessageEvent>>>,
    on_open: RefCell<Option<Handler<web_sys::Event>>>,
    on_error: RefCell<Option<Handler<web_sys::Event>>>,
}

impl Drop for SseClient {
    fn drop(&mut self) {
        self.0.reopen.stop();
        self.0.close();
    }
}

pub fn start(lab: Lab, cut: bool) -> SseClient {
    let conn = Rc::new(Conn {
        lab,
        reopen: Reopen::new(cut),
        source: RefCell::default(),
        listeners: RefCell::default(),
        on_open: RefCell::default(),
        on_error: RefCell::default(),
    });
    Conn::open(&conn);
    SseClient(conn)
}

impl Conn {
    fn close(&self) {
        if let Some(s) = self.source.borrow_mut().take() {
            s.close();
        }
        self.listeners.borrow_mut().clear();
    }

    fn open(this: &Rc<Self>) {
        let lab = this.lab;
        lab.status.set(this.reopen.opening());
        let Ok(source) = EventSource::new(&format!("/api/sse?after={}", after(&lab))) else {
            lab.status.set(Status::Closed);
            return;
        };
        lab.metrics_of(T, |m| m.requests += 1);
        let mut listeners = Vec::new();
        for name in Event::TYPE_NAMES {
            let cb = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                let Some(data) = e.data().as_string() else { return };
                let now = now_ms();
                if let Some(env) = parse_envelope(&data) {
                    lab.metrics_of(T, |m| m.payload_bytes += data.len() as u64);
                    lab.log_entry(
                        T,
                        LogKind::SseEvent,
                        now,
                        None,
                        Some(data.len() as u64),
                        None,
                        env.event.type_name().into(),
                    );
                    lab.on_event(T, &env, now);
                }
            });
            let _ = source.add_event_listener_with_callback(name, cb.as_ref().unchecked_ref());
            listeners.push(cb);
        }
        let reset = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let data = e.data().as_string().unwrap_or_default();
            if let Ok(notice) = serde_json::from_str::<ResetNotice>(&data) {
                lab.on_reset(T, &notice, now_ms());
            }
        });
        let _ = source.add_event_listener_with_callback("reset", reset.as_ref().unchecked_ref());
        listeners.push(reset);

        let weak: Weak<Self> = Rc::downgrade(this);
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new({
            let weak = weak.clone();
            move |_| {
                let Some(c) = weak.upgrade() else { return };
                let again = c.reopen.opened();
                lab.status.set(Status::Open);
                lab.metrics_of(T, |m| {
                    m.connections += 1;
                    m.reconnects += u64::from(again);
                });
                let note = if again { "reconnected (Last-Event-ID)" } else { "stream open" };
                lab.log_entry(T, LogKind::SseOpen, now_ms(), Some(200), None, None, note.into());
            }
        });
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            let Some(c) = weak.upgrade() else { return };
            let closed = c.source.borrow().as_ref().is_none_or(|s| s.ready_state() == EventSource::CLOSED);
            lab.metrics_of(T, |m| m.errors += 1);
            lab.status.set(Status::Reconnecting);
            let note = if closed { "closed by the browser: reopening" } else { "dropped: the browser reconnects" };
            lab.log_entry(T, LogKind::Error, now_ms(), None, None, None, note.into());
            if closed && c.reopen.alive() {
                // EventSource gives up on a non-200 answer; reopen from our own cursor.
                c.close();
                let again = c.clone();
                c.reopen.schedule(move || Conn::open(&again));
            }
        });
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        *this.on_open.borrow_mut() = Some(on_open);
        *this.on_error.borrow_mut() = Some(on_error);
        *this.listeners.borrow_mut() = listeners;
        *this.source.borrow_mut() = Some(source);
    }
}
