//! Short polling: `GET /api/poll` every interval (at once while `more`).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use pushlab::PollResponse;

use super::{Ctx, after, ensure, retry};
use crate::LoadError;
use crate::http::Conn;
use crate::tally::Tally;

pub async fn run(ctx: &Ctx, t: &mut Tally, read: Arc<AtomicU64>) -> Result<(), LoadError> {
    // A random phase, as real pages have: clients that all poll right after
    // the server publishes would show a latency no user sees.
    let phase = RandomState::new().build_hasher().finish() % ctx.poll_interval.as_micros().max(1) as u64;
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_micros(phase)) => {}
        _ = ctx.stop.cancelled() => return Ok(()),
    }
    let mut conn: Option<Conn> = None;
    while !ctx.done(t) {
        let Some(c) = ensure(ctx, t, &mut conn, &read).await? else { continue };
        t.requests += 1;
        let more = match c.get_body(&format!("/api/poll?after={}", after(t))).await {
            Ok((200, body)) => {
                t.connected = true;
                let body: PollResponse =
                    serde_json::from_slice(&body).map_err(|e| LoadError::Protocol(format!("poll answer: {e}")))?;
                ctx.on_poll(t, &body);
                body.more
            }
            Ok((status, body)) => {
                return Err(LoadError::Protocol(format!("poll: HTTP {status}: {}", String::from_utf8_lossy(&body))));
            }
            Err(e) => {
                conn = None;
                retry(ctx, t, e).await?;
                continue;
            }
        };
        if !more {
            tokio::select! {
                _ = tokio::time::sleep(ctx.poll_interval) => {}
                _ = ctx.stop.cancelled() => {}
            }
        }
    }
    Ok(())
}
