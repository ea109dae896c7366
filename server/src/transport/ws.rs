//! WebSocket: `GET /api/ws`. JSON text frames tagged by `type`; events flow
//! after the client's first `resume`. The frames sent for events are the ones
//! the hub encoded at publish.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::rejection::QueryRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::SinkExt;
use pushlab::ws::close;
use pushlab::{ClientMsg, ServerMsg, Transport};
use serde::Deserialize;
use tokio::time::timeout;

use super::Published;
use super::stream::{Channel, Ctx, End, Said, Sent, Start, run};
use crate::AppState;
use crate::accept::ConnHandle;
use crate::error::ApiError;

/// tungstenite reserves 128 KiB per connection by default. Clients send a
/// few small messages (resume, ping, chat), so a 1 KiB read buffer is plenty;
/// a larger frame is read in several chunks.
const READ_BUFFER: usize = 1024;
/// A batch's frames are gathered up to this before a write: one syscall per
/// 16 KiB, not one per event (at 0, each frame was written on its own).
const WRITE_BUFFER: usize = 16 * 1024;
/// Largest message (and frame) a client may send; bigger ones close with 1009.
pub const MAX_MESSAGE: usize = 64 * 1024;
/// A close frame gets this long to go out.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

#[allow(clippy::too_many_arguments)] // one extractor each: what the upgrade needs to know
pub async fn handle(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    conn: Option<Extension<ConnHandle>>,
    version: axum::http::Version,
    uri: axum::http::Uri,
    headers: HeaderMap,
    query: Result<Query<WsQuery>, QueryRejection>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let upgrade = upgrade.map_err(|r| ApiError::BadUpgrade(r.status(), r.body_text()))?;
    let scheme = conn.as_ref().map_or("http", |c| c.0.scheme());
    crate::origin::check_origin(&app.origins, &headers, &uri, scheme)?;
    let Query(q) = query?;
    let client = super::client_id(q.client.as_deref())?;
    let ip = crate::messages::client_ip(&app, peer.ip(), &headers);
    app.stats.request(Transport::Ws);
    let open = app.stats.open(Transport::Ws)?;
    if let Some(c) = client {
        app.stats.left(c, None);
    }
    let tasks = app.tasks.clone();
    Ok(upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |socket| {
            // The heartbeat is the instructor's (`set_ping`); a peer silent for two periods is gone.
            let protocol = super::protocol_name(version);
            let start = Start { epoch: app.hub.epoch(), after: None, peer: ip, open, protocol };
            if let Some(c) = &conn {
                c.arm_ws(app.control.clone(), app.shutdown.clone());
            }
            // The connection's socket permit lives as long as the socket.
            tasks.track_future(async move {
                let _conn = conn;
                hold_first(&app).await;
                run(Ctx::of(&app), WsOut { socket }, start).await
            })
        }))
}

/// `hold-first`: the socket is neither read nor written for `ms` after the
/// upgrade, as a proxy holding a new stream's first bytes would leave it.
async fn hold_first(app: &AppState) {
    let held = app.control.with(|s| match crate::fault::on(s, pushlab::FaultName::HoldFirst, Transport::Ws) {
        Some(pushlab::Fault::HoldFirst { ms }) => Some(Duration::from_millis(ms.into())),
        _ => None,
    });
    if let Some(d) = held {
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = app.shutdown.cancelled() => {}
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct WsQuery {
    /// The page's id: it stops counting as a poller (presence).
    pub client: Option<String>,
}

/// The loop's side of a WebSocket.
struct WsOut {
    socket: WebSocket,
}

impl WsOut {
    async fn text(&mut self, text: Utf8Bytes) -> Sent {
        let n = text.len() as u64;
        self.socket.send(Message::Text(text)).await.map(|()| n).map_err(|_| ())
    }

    /// Sends a close frame, waiting at most a second: a peer that stopped reading cannot take it.
    async fn close_with(&mut self, code: u16, reason: &'static str) {
        let frame = CloseFrame { code, reason: Utf8Bytes::from_static(reason) };
        let _ = timeout(CLOSE_WAIT, self.socket.send(Message::Close(Some(frame)))).await;
    }
}

impl Channel for WsOut {
    const TRANSPORT: Transport = Transport::Ws;
    const HEARS: bool = true;

    fn frame_len(e: &Published) -> usize {
        e.frames.ws.len()
    }

    async fn events(&mut self, events: Vec<Arc<Published>>) -> Sent {
        for e in events {
            self.socket.feed(Message::Text(e.frames.ws.clone())).await.map_err(|_| ())?;
        }
        self.socket.flush().await.map(|()| 0).map_err(|_| ())
    }

    async fn message(&mut self, msg: &ServerMsg) -> Sent {
        let text = serde_json::to_string(msg).expect("a frame always serializes");
        self.text(text.into()).await
    }

    async fn keep_alive(&mut self) -> Sent {
        // Protocol overhead, like HTTP headers: not counted as payload.
        self.socket.send(Message::Ping(Default::default())).await.map(|()| 0).map_err(|_| ())
    }

    async fn said(&mut self) -> Said {
        match self.socket.recv().await {
            Some(Ok(Message::Text(text))) => match serde_json::from_str::<ClientMsg>(&text) {
                Ok(ClientMsg::Resume { after }) => Said::Resume(after),
                Ok(ClientMsg::Chat { text, from }) => Said::Chat { text, from },
                Ok(ClientMsg::Ping { nonce }) => Said::Ping(nonce),
                Err(e) => Said::Bad(format!("expected a JSON message tagged by type (resume, chat or ping): {e}")),
            },
            Some(Ok(Message::Binary(_))) => Said::Bad("binary frames are not supported: send JSON text".into()),
            Some(Ok(Message::Close(_))) => Said::End(End::ClientClosed),
            None => Said::End(End::Gone),
            Some(Ok(_)) => Said::Nothing, // ping (answered by tungstenite) or pong
            Some(Err(e)) => Said::End(read_error(e)),
        }
    }

    async fn close(mut self, end: End) {
        match end {
            End::Gone => {}
            // tungstenite queued the echo of the client's close: send it.
            End::ClientClosed => {
                let _ = timeout(CLOSE_WAIT, self.socket.flush()).await;
            }
            End::Shutdown => self.close_with(close::GOING_AWAY, "server shutting down").await,
            End::Dropped => self.close_with(close::DROPPED, "dropped by the instructor").await,
            End::FellBehind => self.close_with(close::TOO_SLOW, "fell behind the history").await,
            End::TooSlow => self.close_with(close::TOO_SLOW, "too slow to keep up").await,
            End::TooBig => self.close_with(close::TOO_BIG, "message too big").await,
            End::BadUtf8 => self.close_with(close::INVALID_DATA, "text frame is not UTF-8").await,
        }
    }
}

fn read_error(e: axum::Error) -> End {
    use tokio_tungstenite::tungstenite::Error;
    match e.into_inner().downcast::<Error>().map(|e| *e) {
        Ok(Error::Capacity(_)) => End::TooBig,
        Ok(Error::Utf8(_)) => End::BadUtf8,
        _ => End::Gone,
    }
}
