//! WebSocket: resume on open, an application ping, reconnect with capped
//! exponential backoff plus jitter after every close we did not ask for.
//!
//! The heartbeat: a ping every `settings.ws_ping_s`; with no pong for two of
//! them the socket is presumed dead (a middlebox may drop it silently: no
//! close ever comes), abandoned, and replaced — it resumes from its cursor.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Interval;
use pushlab::{ClientMsg, ServerMsg, paths};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use super::{Handler, Reopen, client_id, now_ms};
use crate::frame::{arrival_ms, work};
use crate::lab::Status;
use crate::model::LogKind;
use crate::report::Report;
/// How often the heartbeat looks at the clock.
const HEARTBEAT_TICK_MS: u32 = 500;

pub struct WsClient(Rc<Conn>);

impl WsClient {
    /// Sends a chat message as a `chat` frame over this client's own socket;
    /// false when it is not open.
    pub fn send_chat(&self, text: &str, from: Option<String>) -> bool {
        let msg = ClientMsg::Chat { text: text.to_owned(), from };
        self.0.socket.borrow().as_ref().is_some_and(|ws| {
            ws.ready_state() == WebSocket::OPEN
                && ws.send_with_str(&serde_json::to_string(&msg).unwrap_or_default()).is_ok()
        })
    }
}

/// The socket's handlers, dropped with it.
struct Handlers {
    _open: Handler<web_sys::Event>,
    _message: Handler<MessageEvent>,
    _close: Handler<CloseEvent>,
}

struct Conn {
    report: Report,
    reopen: Reopen,
    socket: RefCell<Option<WebSocket>>,
    handlers: RefCell<Option<Handlers>>,
    ping: RefCell<Option<Interval>>,
    /// Local ms of the last ping sent and the last pong heard.
    beat: std::cell::Cell<(f64, f64)>,
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
        c.report.status(Status::Closed);
    }
}

pub fn start(report: Report, cut: bool) -> WsClient {
    let conn = Rc::new(Conn {
        report,
        reopen: Reopen::new(cut),
        socket: RefCell::default(),
        handlers: RefCell::default(),
        ping: RefCell::default(),
        beat: Default::default(),
    });
    Conn::open(&conn);
    WsClient(conn)
}

fn ws_url() -> Option<String> {
    let loc = web_sys::window()?.location();
    let scheme = if loc.protocol().ok()? == "https:" { "wss" } else { "ws" };
    Some(format!("{scheme}://{}{}?client={}", loc.host().ok()?, paths::WS, client_id()))
}

impl Conn {
    fn open(this: &Rc<Self>) {
        let report = this.report;
        report.status(this.reopen.opening());
        let Some(ws) = ws_url().and_then(|u| WebSocket::new(&u).ok()) else {
            report.status(Status::Closed);
            return;
        };
        report.request();
        let weak: Weak<Self> = Rc::downgrade(this);

        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new({
            let weak = weak.clone();
            move |_| {
                let Some(c) = weak.upgrade() else { return };
                let Some(ws) = c.socket.borrow().clone() else { return };
                let again = c.reopen.opened();
                let resume = serde_json::to_string(&ClientMsg::Resume { after: report.cursor() }).unwrap_or_default();
                let _ = ws.send_with_str(&resume);
                report.status(Status::Open);
                report.opened(again);
                let note = if again { "reconnected: resume sent" } else { "open: resume sent" };
                report.log(report.line(LogKind::WsOpen, now_ms(), note).status(101).bytes(resume.len() as u64));
                // A first ping at once: its pong names the instance this socket landed on.
                let ping = move || {
                    let ping = ClientMsg::Ping { nonce: serde_json::json!(now_ms()) };
                    let _ = ws.send_with_str(&serde_json::to_string(&ping).unwrap_or_default());
                };
                ping();
                let opened = now_ms();
                c.beat.set((opened, opened));
                let weak = Rc::downgrade(&c);
                *c.ping.borrow_mut() = Some(Interval::new(HEARTBEAT_TICK_MS, move || {
                    if let Some(c) = weak.upgrade() {
                        Conn::heartbeat(&c, &ping);
                    }
                }));
            }
        });
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
            let weak = weak.clone();
            move |e: MessageEvent| {
                work(|| {
                    if on_frame(report, &e)
                        && let Some(c) = weak.upgrade()
                    {
                        c.beat.set((c.beat.get().0, now_ms()));
                    }
                })
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            let Some(c) = weak.upgrade() else { return };
            c.ping.borrow_mut().take();
            let reason = match e.code() {
                1001 => "server shutting down",
                1009 => "message too big",
                1012 => "dropped by the instructor",
                4008 => "too slow to keep up",
                _ => "connection closed",
            };
            let line = report.line(LogKind::Closed, now_ms(), format!("{reason}: reconnecting")).status(e.code());
            report.log(line);
            if c.reopen.alive() {
                report.status(Status::Reconnecting);
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

    /// Pings every `ws_ping_s`; after two without a pong, gives the socket up and opens another.
    fn heartbeat(this: &Rc<Self>, ping: &impl Fn()) {
        let period_ms = this.report.ws_ping_s() as f64 * 1000.0;
        let (sent, heard) = this.beat.get();
        let now = now_ms();
        let silent = now - heard;
        if silent > 2.0 * period_ms {
            let report = this.report;
            let note = format!("no pong for {:.0} s: connection presumed dead", silent / 1000.0);
            report.log(report.line(LogKind::Closed, now, note));
            this.ping.borrow_mut().take();
            // No close handshake: a dead path would never complete it. The old socket is left to die.
            if let Some(ws) = this.socket.borrow_mut().take() {
                ws.set_onclose(None);
                ws.set_onmessage(None);
                let _ = ws.close();
            }
            if this.reopen.alive() {
                report.status(Status::Reconnecting);
                let again = this.clone();
                this.reopen.schedule(move || Conn::open(&again));
            }
        } else if now - sent >= period_ms {
            ping();
            this.beat.set((now, heard));
        }
    }
}

/// Handles one frame; true when it was a pong (the heartbeat's proof of life).
fn on_frame(report: Report, e: &MessageEvent) -> bool {
    let Some(text) = e.data().as_string() else { return false };
    let at = arrival_ms(e);
    let size = text.len() as u64;
    report.frame(text.len());
    match serde_json::from_str::<ServerMsg>(&text) {
        Ok(ServerMsg::Event(env)) => {
            report.log(report.line(LogKind::WsFrame, at, env.event.type_name()).bytes(size));
            report.event(&env, at);
        }
        Ok(ServerMsg::Reset(notice)) => report.reset(&notice, at),
        Ok(ServerMsg::Pong { nonce, instance, protocol }) => {
            report.answered_by(instance.as_deref());
            report.carried_by(protocol.as_deref());
            let line = report.line(LogKind::WsPong, at, "pong (round trip)").bytes(size);
            report.log(match nonce.as_f64() {
                Some(sent) => line.took(at - sent),
                None => line,
            });
            return true;
        }
        Ok(ServerMsg::Error { message }) => report.failed(report.line(LogKind::Error, at, message).bytes(size)),
        // A newer server's frame type: skipped, not an error (see `ServerMsg::Unknown`).
        Ok(ServerMsg::Unknown) => {}
        Err(err) => report.unparsed(at, text.len(), err),
    }
    false
}
