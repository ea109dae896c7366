//! nchan's own protocol, for the nginx + nchan peer. Subscribers share `/sub`
//! (nchan tells WebSocket, EventSource and long polling apart by the request's
//! headers) and resume with nchan's message ids (`<time>:<tag>`), not
//! pushlab's cursors; there is no `reset` and no short polling. Each message
//! is a pushlab envelope (the feeder publishes them), so seq continuity and
//! latency are checked exactly as for pushlab.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use futures_util::StreamExt;
use http_body_util::BodyExt;
use pushlab::{Envelope, Transport};
use tokio_tungstenite::tungstenite::Message;

use super::{Ctx, ensure, reconnecting, retry, sse};
use crate::LoadError;
use crate::http::Conn;
use crate::tally::Tally;

pub const PATH: &str = "/sub";

pub async fn run(transport: Transport, ctx: &Ctx, t: &mut Tally, read: Arc<AtomicU64>) -> Result<(), LoadError> {
    match transport {
        Transport::Ws => ws(ctx, t, read).await,
        Transport::Sse => event_source(ctx, t, read).await,
        Transport::LongPoll => long_poll(ctx, t, read).await,
        Transport::Poll => Err(LoadError::Protocol("nchan has no short polling".into())),
    }
}

fn on_message(ctx: &Ctx, t: &mut Tally, data: &str) -> Result<(), LoadError> {
    let env: Envelope = serde_json::from_str(data).map_err(|e| LoadError::Protocol(format!("nchan message: {e}")))?;
    ctx.on_event(t, &env);
    Ok(())
}

/// EventSource: `id:` lines carry nchan's message id, sent back as Last-Event-ID.
async fn event_source(ctx: &Ctx, t: &mut Tally, read: Arc<AtomicU64>) -> Result<(), LoadError> {
    let mut last_id: Option<String> = None;
    reconnecting!(ctx, t, event_source_once(ctx, t, &mut last_id, read.clone()))
}

async fn event_source_once(
    ctx: &Ctx,
    t: &mut Tally,
    last_id: &mut Option<String>,
    read: Arc<AtomicU64>,
) -> Result<(), LoadError> {
    let mut conn = crate::http::connect(&ctx.target, read).await?;
    t.requests += 1;
    let mut headers = vec![("accept", "text/event-stream")];
    if let Some(id) = last_id.as_deref() {
        headers.push(("last-event-id", id));
    }
    let res = conn.get_with(PATH, &headers).await?;
    if res.status() != 200 {
        return Err(LoadError::Protocol(format!("nchan eventsource: HTTP {}", res.status())));
    }
    t.connected = true;
    sse::read_blocks(ctx, t, res.into_body(), |ctx, t, block| {
        let mut data = None;
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("id: ") {
                *last_id = Some(v.to_owned());
            } else if let Some(v) = line.strip_prefix("data: ") {
                data = Some(v);
            }
        }
        let Some(data) = data else { return Ok(()) };
        t.payload_bytes += data.len() as u64;
        on_message(ctx, t, data)
    })
    .await
}

/// WebSocket: one text frame per message, no ids (nchan sends them only with
/// its `ws+meta.nchan` subprotocol); a reconnect starts from the newest message.
async fn ws(ctx: &Ctx, t: &mut Tally, read: Arc<AtomicU64>) -> Result<(), LoadError> {
    reconnecting!(ctx, t, ws_once(ctx, t, read.clone()))
}

async fn ws_once(ctx: &Ctx, t: &mut Tally, read: Arc<AtomicU64>) -> Result<(), LoadError> {
    let mut ws = super::ws::connect(ctx, t, PATH, read).await?;
    loop {
        let msg = tokio::select! {
            m = ws.next() => m,
            _ = ctx.stop.cancelled() => break,
        };
        match msg {
            Some(Ok(Message::Text(text))) => {
                t.payload_bytes += text.len() as u64;
                on_message(ctx, t, text.as_str())?;
            }
            Some(Ok(Message::Close(_))) | None => return Ok(()),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(LoadError::Ws(e.to_string())),
        }
        if ctx.done(t) {
            break;
        }
    }
    let _ = ws.close(None).await;
    Ok(())
}

/// Long polling: the answer's Last-Modified and Etag are the message id, sent
/// back as If-Modified-Since and If-None-Match. With nchan's "raw" multipart
/// setting one answer can hold several messages, one per line.
async fn long_poll(ctx: &Ctx, t: &mut Tally, read: Arc<AtomicU64>) -> Result<(), LoadError> {
    let mut conn: Option<Conn> = None;
    let mut since: Option<(String, String)> = None;
    while !ctx.done(t) {
        let Some(c) = ensure(ctx, t, &mut conn, &read).await? else { continue };
        t.requests += 1;
        let headers: Vec<(&str, &str)> = since
            .as_ref()
            .map(|(modified, etag)| vec![("if-modified-since", modified.as_str()), ("if-none-match", etag.as_str())])
            .unwrap_or_default();
        let answer = tokio::select! {
            a = c.get_with(PATH, &headers) => a,
            _ = ctx.stop.cancelled() => return Ok(()),
        };
        let res = match answer {
            Ok(res) => res,
            Err(e) => {
                conn = None;
                retry(ctx, t, e).await?;
                continue;
            }
        };
        let status = res.status().as_u16();
        let header = |name| res.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let id = header("last-modified").zip(header("etag"));
        let body = tokio::select! {
            b = res.into_body().collect() => b.map_err(|e| LoadError::Http(e.to_string())),
            _ = ctx.stop.cancelled() => return Ok(()),
        };
        match (status, body) {
            (200, Ok(body)) => {
                t.connected = true;
                since = id.or(since);
                for line in String::from_utf8_lossy(&body.to_bytes()).lines().filter(|l| !l.is_empty()) {
                    on_message(ctx, t, line)?;
                }
            }
            // nchan's subscriber timeout: nothing new, ask again.
            (304 | 408, Ok(_)) => {
                t.connected = true;
                t.empty += 1;
            }
            (status, body) => {
                conn = None;
                let detail = body.map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned()).unwrap_or_default();
                retry(ctx, t, LoadError::Protocol(format!("nchan long-poll: HTTP {status}: {detail}"))).await?;
            }
        }
    }
    Ok(())
}
