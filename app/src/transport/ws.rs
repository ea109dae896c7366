//! WebSocket: resume on open, an application ping, reconnect with capped
//! exponential backoff plus jitter after every close we did not ask for.

use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Interval;
use pushlab::{ClientMsg, ServerMsg, Transport};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use super::{Handler, Reopen, now_ms};
use crate::lab::{Lab, Status};
use crate::model::LogKind;

const T: Transport = Transport::Ws;
const PING_MS: u32 = 15_000;

thread_local! {
    /// The open socket, for the chat box.
    static OPEN: RefCell<Option<WebSocket>> = const { RefCell::new(None) };
}

/// Sends a chat message over the open WebSocket; false when none is open.
pub fn send_chat(text: &str, from: Option<String>) -> bool {
    let msg = ClientMsg::Chat { text: text.to_owned(), from };
    OPEN.with(|s| {
        s.borrow().as_ref().is_some_and(|ws| {
            ws.ready_state() == WebSocket::OPEN
                && ws.send_with_str(&serde_json::to_string(&msg).unwrap_or_default()).is_ok()
        })
    })
}

pub struct WsClient(Rc<Conn>);

/// The socket's handlers, dropped with it.
struct Handlers {
    _open: Handler<web_sys::Event>,
    _message: Handler<MessageEvent>,
    _close: Handler<CloseEvent>,
}

struct Conn {
    lab: Lab,
    reopen: Reopen,
    socket: RefCell<Option<WebSocket>>,
    handlers: RefCell<Option<Handlers>>,
    ping: RefCell<Option<Interval>>,
}

impl Drop for WsClient {
    fn drop(&mut self) {
        let c = &self.0;
        c.reopen.stop();
        c.ping.borrow_mut().take();
        if let Some(ws) = c.socket.borrow_mut().take() {
            ws.set_onclose(None);
            let _ = ws.close_with_code(1000);
        }
        OPEN.with(|s| s.borrow_mut().take());
        c.lab.status.set(Status::Closed);
    }
}

pub fn start(lab: Lab, cut: bool) -> WsClient {
    let conn = Rc::new(Conn {
        lab,
        reopen: Reopen::new(cut),
        socket: RefCell::default(),
        handlers: RefCell::default(),
        ping: RefCell::default(),
    });
    Conn::open(&conn);
    WsClient(conn)
}

fn ws_url() -> Option<String> {
    let loc = web_sys::window()?.location();
    let scheme = if loc.protocol().ok()? == "https:" { "wss" } else { "ws" };
    Some(format!("{scheme}://{}/api/ws", loc.host().ok()?))
}

impl Conn {
    fn open(this: &Rc<Self>) {
        let lab = this.lab;
        lab.status.set(this.reopen.opening());
        let Some(ws) = ws_url().and_then(|u| WebSocket::new(&u).ok()) else {
            lab.status.set(Status::Closed);
            return;
        };
        lab.metrics_of(T, |m| m.requests += 1);
        let weak: Weak<Self> = Rc::downgrade(this);

        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new({
            let weak = weak.clone();
            move |_| {
                let Some(c) = weak.upgrade() else { return };
                let Some(ws) = c.socket.borrow().clone() else { return };
                let again = c.reopen.opened();
                let after = lab.feed.with_untracked(|f| f.cursor.clone());
                let resume = serde_json::to_string(&ClientMsg::Resume { after }).unwrap_or_default();
                let _ = ws.send_with_str(&resume);
                lab.status.set(Status::Open);
                lab.metrics_of(T, |m| {
                    m.connections += 1;
                    m.reconnects += u64::from(again);
                });
                let note = if again { "reconnected: resume sent" } else { "open: resume sent" };
                lab.log_entry(T, LogKind::WsOpen, now_ms(), Some(101), Some(resume.len() as u64), None, note.into());
                OPEN.with(|s| *s.borrow_mut() = Some(ws.clone()));
                *c.ping.borrow_mut() = Some(Interval::new(PING_MS, move || {
                    let ping = ClientMsg::Ping { nonce: serde_json::json!(now_ms()) };
                    let _ = ws.send_with_str(&serde_json::to_string(&ping).unwrap_or_default());
                }));
            }
        });
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let Some(text) = e.data().as_string() else { return };
            let now = now_ms();
            let size = Some(text.len() as u64);
            lab.metrics_of(T, |m| m.payload_bytes += text.len() as u64);
            match serde_json::from_str::<ServerMsg>(&text) {
                Ok(ServerMsg::Event(env)) => {
                    lab.log_entry(T, LogKind::WsFrame, now, None, size, None, env.event.type_name().into());
                    lab.on_event(T, &env, now);
                }
                Ok(ServerMsg::Reset(notice)) => lab.on_reset(T, &notice, now),
                Ok(ServerMsg::Pong { nonce }) => {
                    let rtt = nonce.as_f64().map(|sent| now - sent);
                    lab.log_entry(T, LogKind::WsFrame, now, None, size, rtt, "pong (round trip)".into());
                }
                Ok(ServerMsg::Error { message }) => {
                    lab.metrics_of(T, |m| m.errors += 1);
                    lab.log_entry(T, LogKind::Error, now, None, size, None, message);
                }
                Err(_) => {}
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            let Some(c) = weak.upgrade() else { return };
            c.ping.borrow_mut().take();
            OPEN.with(|s| s.borrow_mut().take());
            let now = now_ms();
            let reason = match e.code() {
                1001 => "server shutting down",
                1009 => "message too big",
                1012 => "dropped by the instructor",
                4008 => "too slow to keep up",
                _ => "connection closed",
            };
            lab.log_entry(T, LogKind::Closed, now, Some(e.code()), None, None, format!("{reason}: reconnecting"));
            if c.reopen.alive() {
                lab.status.set(Status::Reconnecting);
                let again = c.clone();
                c.reopen.schedule(move || Conn::open(&again));
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        *this.handlers.borrow_mut() = Some(Handlers { _open: on_open, _message: on_message, _close: on_close });
        *this.socket.borrow_mut() = Some(ws);
    }
}
