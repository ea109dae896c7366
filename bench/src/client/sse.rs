//! Server-Sent Events: one streaming `GET /api/sse`, parsed frame by frame;
//! when the stream ends, reconnect from the cursor (like a browser's
//! Last-Event-ID).

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use pushlab::{Envelope, ResetNotice};

use super::{Ctx, after, reconnecting};
use crate::LoadError;
use crate::http;
use crate::tally::Tally;

pub async fn run(ctx: &Ctx, t: &mut Tally, read: Arc<AtomicU64>) -> Result<(), LoadError> {
    reconnecting!(ctx, t, stream_once(ctx, t, read.clone()))
}

async fn stream_once(ctx: &Ctx, t: &mut Tally, read: Arc<AtomicU64>) -> Result<(), LoadError> {
    let mut conn = http::connect(&ctx.target, read).await?;
    t.requests += 1;
    let res = conn.get(&format!("/api/sse?after={}", after(t))).await?;
    if res.status() != 200 {
        return Err(LoadError::Protocol(format!("sse: HTTP {}", res.status())));
    }
    t.connected = true;
    read_blocks(ctx, t, res.into_body(), on_block).await
}

/// Feeds each `\n\n`-terminated block of an event stream to `on_block` until
/// the stream ends, the run stops or the client has its share of events.
pub async fn read_blocks(
    ctx: &Ctx,
    t: &mut Tally,
    mut body: Incoming,
    mut on_block: impl FnMut(&Ctx, &mut Tally, &str) -> Result<(), LoadError>,
) -> Result<(), LoadError> {
    let mut buf = String::new();
    loop {
        let frame = tokio::select! {
            f = body.frame() => f,
            _ = ctx.stop.cancelled() => return Ok(()),
        };
        let Some(frame) = frame else { return Ok(()) };
        let frame = frame.map_err(|e| LoadError::Http(e.to_string()))?;
        let Ok(data) = frame.into_data() else { continue };
        buf.push_str(&String::from_utf8_lossy(&data));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            on_block(ctx, t, &block)?;
            if ctx.done(t) {
                return Ok(());
            }
        }
    }
}

fn on_block(ctx: &Ctx, t: &mut Tally, block: &str) -> Result<(), LoadError> {
    let (mut event, mut data) = (None, None);
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("event: ") {
            event = Some(v);
        } else if let Some(v) = line.strip_prefix("data: ") {
            data = Some(v);
        }
    }
    let Some(data) = data else { return Ok(()) }; // retry: or a keep-alive comment
    t.payload_bytes += data.len() as u64;
    if event == Some("hello") {
        // Names the instance that answered; moves no cursor.
    } else if event == Some("reset") {
        let notice: ResetNotice =
            serde_json::from_str(data).map_err(|e| LoadError::Protocol(format!("sse reset: {e}")))?;
        t.reset(&notice.cursor);
    } else {
        let env: Envelope = serde_json::from_str(data).map_err(|e| LoadError::Protocol(format!("sse event: {e}")))?;
        ctx.on_event(t, &env);
    }
    Ok(())
}
