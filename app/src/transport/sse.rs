//! Server-Sent Events through the browser's own `EventSource`: one listener
//! per event type, and the browser's own reconnect with `Last-Event-ID`.
//! When the browser gives up (any non-200 answer), reopen after a backoff.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use pushlab::{Event, Hello, ResetNotice};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{EventSource, MessageEvent};

use super::{Handler, Reopen, after, client_id, now_ms, parse_envelope};
use crate::frame::{arrival_ms, work};
use crate::lab::Status;
use crate::model::LogKind;
use crate::report::Report;

pub struct SseClient(Rc<Conn>);

struct Conn {
    report: Report,
    reopen: Reopen,
    source: RefCell<Option<EventSource>>,
    /// The open that comes next was asked for by `open` (counted there), not
    /// by the browser's own retry (counted when it opens).
    requested: Cell<bool>,
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

pub fn start(report: Report, cut: bool) -> SseClient {
    let conn = Rc::new(Conn {
        report,
        reopen: Reopen::new(cut),
        source: RefCell::default(),
        requested: Cell::new(false),
        listeners: RefCell::default(),
        on_open: RefCell::default(),
        on_error: RefCell::default(),
    });
    Conn::open(&conn);
    SseClient(conn)
}

fn on_data(report: Report, e: &MessageEvent) {
    let Some(data) = e.data().as_string() else { return };
    let at = arrival_ms(e);
    report.frame(data.len());
    match parse_envelope(&data) {
        Ok(env) => {
            report.log(report.line(LogKind::SseEvent, at, env.event.type_name()).bytes(data.len() as u64));
            report.event(&env, at);
        }
        Err(err) => report.unparsed(at, data.len(), err),
    }
}

impl Conn {
    fn close(&self) {
        if let Some(s) = self.source.borrow_mut().take() {
            s.close();
        }
        self.listeners.borrow_mut().clear();
    }

    fn open(this: &Rc<Self>) {
        let report = this.report;
        report.status(this.reopen.opening());
        let Ok(source) =
            EventSource::new(&format!("{}?after={}&client={}", pushlab::paths::SSE, after(&report), client_id()))
        else {
            report.status(Status::Closed);
            return;
        };
        report.request();
        this.requested.set(true);
        // EventSource hands a named event only to a listener of that name: one per type.
        let mut listeners = Vec::new();
        for name in Event::TYPE_NAMES {
            let cb = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| work(|| on_data(report, &e)));
            let _ = source.add_event_listener_with_callback(name, cb.as_ref().unchecked_ref());
            listeners.push(cb);
        }
        let reset = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let data = e.data().as_string().unwrap_or_default();
            match serde_json::from_str::<ResetNotice>(&data) {
                Ok(notice) => report.reset(&notice, arrival_ms(&e)),
                Err(err) => report.unparsed(arrival_ms(&e), data.len(), err),
            }
        });
        let _ = source.add_event_listener_with_callback("reset", reset.as_ref().unchecked_ref());
        listeners.push(reset);
        // Sent once per stream: which instance this stream landed on.
        let hello = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let data = e.data().as_string().unwrap_or_default();
            match serde_json::from_str::<Hello>(&data) {
                Ok(hello) => {
                    report.answered_by(Some(&hello.instance));
                    report.carried_by(Some(&hello.protocol));
                }
                Err(err) => report.unparsed(arrival_ms(&e), data.len(), err),
            }
        });
        let _ = source.add_event_listener_with_callback("hello", hello.as_ref().unchecked_ref());
        listeners.push(hello);

        let weak: Weak<Self> = Rc::downgrade(this);
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new({
            let weak = weak.clone();
            move |_| {
                let Some(c) = weak.upgrade() else { return };
                if !c.requested.replace(false) {
                    report.request();
                }
                let again = c.reopen.opened();
                report.status(Status::Open);
                report.opened(again);
                let note = if again { "reconnected (Last-Event-ID)" } else { "stream open" };
                report.log(report.line(LogKind::SseOpen, now_ms(), note).status(200));
            }
        });
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            let Some(c) = weak.upgrade() else { return };
            let closed = c.source.borrow().as_ref().is_none_or(|s| s.ready_state() == EventSource::CLOSED);
            report.status(Status::Reconnecting);
            let note = if closed { "closed by the browser: reopening" } else { "dropped: the browser reconnects" };
            report.failed(report.line(LogKind::Error, now_ms(), note));
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
