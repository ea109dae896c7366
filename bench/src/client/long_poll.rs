//! Long polling: `GET /api/long-poll`, re-issued at once after every answer.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use pushlab::PollResponse;

use super::{Ctx, after, ensure, retry};
use crate::LoadError;
use crate::http::Conn;
use crate::tally::Tally;

pub async fn run(ctx: &Ctx, t: &mut Tally, read: Arc<AtomicU64>) -> Result<(), LoadError> {
    let mut conn: Option<Conn> = None;
    while !ctx.done(t) {
        let Some(c) = ensure(ctx, t, &mut conn, &read).await? else { continue };
        t.requests += 1;
        let path = format!("/api/long-poll?after={}&timeout_ms={}", after(t), ctx.long_poll_timeout_ms);
        let answer = tokio::select! {
            a = c.get_body(&path) => a,
            _ = ctx.stop.cancelled() => return Ok(()),
        };
        match answer {
            Ok((204, _)) => {
                t.connected = true;
                t.empty += 1;
            }
            Ok((200, body)) => {
                t.connected = true;
                let body: PollResponse =
                    serde_json::from_slice(&body).map_err(|e| LoadError::Protocol(format!("long-poll answer: {e}")))?;
                ctx.on_poll(t, &body);
            }
            Ok((status, body)) => {
                let err = LoadError::Protocol(format!("long-poll: HTTP {status}: {}", String::from_utf8_lossy(&body)));
                conn = None;
                retry(ctx, t, err).await?;
            }
            Err(e) => {
                conn = None;
                retry(ctx, t, e).await?;
            }
        }
    }
    Ok(())
}
