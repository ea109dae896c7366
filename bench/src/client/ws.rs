//! WebSocket: one socket, `resume` from the cursor, then frames until stopped;
//! after a close, reconnect and resume.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use futures_util::{SinkExt, StreamExt};
use pushlab::{ClientMsg, ServerMsg};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use super::{Ctx, reconnecting};
use crate::LoadError;
use crate::tally::Tally;
use crate::wire::{self, Stream};

pub type Socket = WebSocketStream<Stream>;

pub async fn run(ctx: &Ctx, t: &mut Tally, read: Arc<AtomicU64>) -> Result<(), LoadError> {
    reconnecting!(ctx, t, socket_once(ctx, t, read.clone()))
}

/// Opens a WebSocket to `path` on the server (one more request in the tally);
/// bytes read are added to `read`.
pub async fn connect(ctx: &Ctx, t: &mut Tally, path: &str, read: Arc<AtomicU64>) -> Result<Socket, LoadError> {
    // The upgrade is HTTP/1.1's: ALPN asks for it even when polls use h2.
    let (stream, _) = wire::open(&ctx.target, false, read).await?;
    t.requests += 1;
    let (ws, _) = tokio_tungstenite::client_async(ctx.target.ws_url(path), stream)
        .await
        .map_err(|e| LoadError::Ws(e.to_string()))?;
    t.connected = true;
    Ok(ws)
}

async fn socket_once(ctx: &Ctx, t: &mut Tally, read: Arc<AtomicU64>) -> Result<(), LoadError> {
    let mut ws = connect(ctx, t, "/api/ws", read).await?;
    let resume = serde_json::to_string(&ClientMsg::Resume { after: t.cursor.clone() }).expect("resume serializes");
    ws.send(Message::text(resume)).await.map_err(|e| LoadError::Ws(e.to_string()))?;
    loop {
        let msg = tokio::select! {
            m = ws.next() => m,
            _ = ctx.stop.cancelled() => {
                let _ = ws.close(None).await;
                return Ok(());
            }
        };
        match msg {
            Some(Ok(Message::Text(text))) => {
                t.payload_bytes += text.len() as u64;
                match serde_json::from_str::<ServerMsg>(text.as_str()) {
                    Ok(ServerMsg::Event(env)) => ctx.on_event(t, &env),
                    Ok(ServerMsg::Reset(notice)) => t.reset(&notice.cursor),
                    Ok(ServerMsg::Error { message }) => {
                        return Err(LoadError::Protocol(format!("ws error frame: {message}")));
                    }
                    Ok(ServerMsg::Pong { .. } | ServerMsg::Unknown) => {}
                    Err(e) => return Err(LoadError::Protocol(format!("ws frame: {e}"))),
                }
            }
            Some(Ok(Message::Close(_))) | None => return Ok(()),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(LoadError::Ws(e.to_string())),
        }
        if ctx.done(t) {
            let _ = ws.close(None).await;
            return Ok(());
        }
    }
}
