//! WebSocket: `GET /api/ws`. JSON text frames tagged by `type`; events flow
//! after the client's first `resume`. The frames sent for events are the ones
//! the hub encoded at publish.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use futures_util::SinkExt;
use pushlab::ws::close;
use pushlab::{ClientMsg, ServerMsg, Transport};
use tokio::time::{Instant, interval_at, timeout};

use super::{BATCH, Stop, due, stop_signal};
use crate::AppState;
use crate::error::ApiError;
use crate::hub::Read;
use crate::messages;
use crate::stats::ConnGuard;

/// tungstenite reserves 128 KiB per connection by default. Clients send a
/// few small messages (resume, ping, chat), so a 1 KiB read buffer is plenty;
/// a larger frame is read in several chunks.
const READ_BUFFER: usize = 1024;
/// Largest message (and frame) a client may send; bigger ones close with 1009.
pub const MAX_MESSAGE: usize = 64 * 1024;
/// Protocol-level ping period; a peer silent for two periods is gone.
pub const PING_EVERY: Duration = Duration::from_secs(20);

pub async fn handle(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    check_origin(&headers, &app.config.allowed_origins)?;
    app.stats.request(Transport::Ws);
    let open = app.stats.open(Transport::Ws)?;
    let tasks = app.tasks.clone();
    Ok(upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |socket| tasks.track_future(session(app, socket, peer, open))))
}

/// Same-origin upgrades and `--allowed-origin` pass; a request without
/// `Origin` is not from a browser and passes too.
pub fn check_origin(headers: &HeaderMap, allowed: &[String]) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else { return Ok(()) };
    let origin = origin.to_str().map_err(|_| ApiError::ForbiddenOrigin)?;
    let host_of = |o: &str| o.split_once("://").map_or(o, |(_, rest)| rest).trim_end_matches('/').to_ascii_lowercase();
    let origin_host = host_of(origin);
    let same_host =
        headers.get(header::HOST).and_then(|h| h.to_str().ok()).is_some_and(|h| h.eq_ignore_ascii_case(&origin_host));
    if same_host || allowed.iter().any(|a| host_of(a) == origin_host) { Ok(()) } else { Err(ApiError::ForbiddenOrigin) }
}

enum Next {
    Continue,
    Close(u16, &'static str),
    Gone,
}

async fn session(app: AppState, mut socket: WebSocket, peer: SocketAddr, _open: ConnGuard) {
    let mut after: Option<u64> = None;
    let mut head = app.hub.subscribe();
    let mut stop = std::pin::pin!(stop_signal(&app, Transport::Ws));
    let mut ping = interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    let mut last_heard = Instant::now();
    let outcome = loop {
        if let Some(cursor) = after {
            head.borrow_and_update();
            match app.hub.read(cursor, BATCH) {
                // Fell behind the history: too slow. On reconnect, resume says what was missed.
                Read::Expired(_) => break Next::Close(close::TOO_SLOW, "fell behind the history"),
                Read::Events(events) if !events.is_empty() => {
                    let events = due(&app, events).await;
                    let bytes: u64 = events.iter().map(|e| e.ws_frame.len() as u64).sum();
                    let n = events.len() as u64;
                    after = events.last().map(|e| e.seq);
                    let write = async {
                        for e in events {
                            socket.feed(Message::Text(e.ws_frame.clone())).await?;
                        }
                        socket.flush().await
                    };
                    match timeout(app.config.slow_client(), write).await {
                        Ok(Ok(())) => app.stats.delivered(Transport::Ws, n, bytes),
                        Ok(Err(_)) => break Next::Gone,
                        Err(_) => break Next::Close(close::TOO_SLOW, "too slow to keep up"),
                    }
                    continue;
                }
                Read::Events(_) => {}
            }
        }
        let next = tokio::select! {
            biased;
            why = &mut stop => match why {
                Stop::Shutdown => Next::Close(close::GOING_AWAY, "server shutting down"),
                Stop::Dropped => Next::Close(close::DROPPED, "dropped by the instructor"),
            },
            msg = socket.recv() => {
                last_heard = Instant::now();
                match msg {
                    // Boxed, like the other rare paths below: inline, their state would
                    // make every connection's task larger for the whole of its life.
                    Some(Ok(Message::Text(text))) => Box::pin(on_text(&app, &mut socket, peer, &text, &mut after)).await,
                    Some(Ok(Message::Binary(_))) => {
                        Box::pin(send(&app, &mut socket, &error("binary frames are not supported: send JSON text"))).await
                    }
                    Some(Ok(Message::Close(_))) | None => Next::Gone,
                    Some(Ok(_)) => Next::Continue, // ping (answered by tungstenite) or pong
                    Some(Err(e)) => if too_big(e) { Next::Close(close::TOO_BIG, "message too big") } else { Next::Gone },
                }
            }
            changed = head.changed(), if after.is_some() => {
                if changed.is_err() { Next::Gone } else { Next::Continue }
            }
            _ = ping.tick() => {
                let dead = last_heard.elapsed() > 2 * PING_EVERY;
                if dead || Box::pin(socket.send(Message::Ping(Default::default()))).await.is_err() {
                    Next::Gone
                } else {
                    Next::Continue
                }
            }
        };
        match next {
            Next::Continue => {}
            done => break done,
        }
    };
    if let Next::Close(code, reason) = outcome {
        let frame = CloseFrame { code, reason: Utf8Bytes::from_static(reason) };
        // A peer that stopped reading cannot take even this; do not wait for it.
        let _ = timeout(Duration::from_secs(1), Box::pin(socket.send(Message::Close(Some(frame))))).await;
    }
}

async fn on_text(
    app: &AppState,
    socket: &mut WebSocket,
    peer: SocketAddr,
    text: &str,
    after: &mut Option<u64>,
) -> Next {
    let reply = match serde_json::from_str::<ClientMsg>(text) {
        Err(e) => error(&format!("expected a JSON message tagged by type (resume, chat or ping): {e}")),
        Ok(ClientMsg::Ping { nonce }) => ServerMsg::Pong { nonce },
        Ok(ClientMsg::Chat { text, from }) => match messages::publish(app, peer.ip(), &text, from.as_deref()) {
            Ok(_) => return Next::Continue, // it comes back as a chat:message event
            Err(e) => error(&e.to_string()),
        },
        Ok(ClientMsg::Resume { after: cursor }) => match app.hub.resume(cursor.as_deref()) {
            Ok(start) => {
                *after = Some(start.after);
                match start.reset {
                    Some(notice) => ServerMsg::Reset(notice),
                    None => return Next::Continue,
                }
            }
            Err(e) => error(&e.to_string()),
        },
    };
    send(app, socket, &reply).await
}

fn error(message: &str) -> ServerMsg {
    ServerMsg::Error { message: message.to_owned() }
}

async fn send(app: &AppState, socket: &mut WebSocket, msg: &ServerMsg) -> Next {
    let text = serde_json::to_string(msg).expect("a frame always serializes");
    app.stats.bytes(Transport::Ws, text.len() as u64);
    match timeout(app.config.slow_client(), socket.send(Message::Text(text.into()))).await {
        Ok(Ok(())) => Next::Continue,
        Ok(Err(_)) => Next::Gone,
        Err(_) => Next::Close(close::TOO_SLOW, "too slow to keep up"),
    }
}

fn too_big(e: axum::Error) -> bool {
    use tokio_tungstenite::tungstenite::Error;
    matches!(e.into_inner().downcast::<Error>().map(|e| *e), Ok(Error::Capacity(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, host.parse().unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, o.parse().unwrap());
        }
        h
    }

    #[test]
    fn origins_are_checked() {
        let allowed = vec!["https://lab.example:8443".to_string()];
        assert!(check_origin(&headers(None, "127.0.0.1:3000"), &[]).is_ok());
        assert!(check_origin(&headers(Some("http://127.0.0.1:3000"), "127.0.0.1:3000"), &[]).is_ok());
        assert!(check_origin(&headers(Some("http://evil.example"), "127.0.0.1:3000"), &[]).is_err());
        assert!(check_origin(&headers(Some("http://127.0.0.1:3001"), "127.0.0.1:3000"), &[]).is_err());
        assert!(check_origin(&headers(Some("https://lab.example:8443"), "127.0.0.1:3000"), &allowed).is_ok());
        assert!(check_origin(&headers(Some("null"), "127.0.0.1:3000"), &allowed).is_err());
    }
}
