//! Long polling: `GET /api/long-poll` holds the request until an event after
//! the cursor exists (200), or answers 204 after `timeout_ms`.

use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pushlab::Transport;
use serde::Deserialize;

use super::{hold_for_delay, limit, note_request, poll_response};
use crate::AppState;
use crate::error::ApiError;

pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
pub const MAX_TIMEOUT_MS: u64 = 60_000;

#[derive(Debug, Deserialize)]
pub struct LongPollQuery {
    pub after: Option<String>,
    pub limit: Option<u32>,
    pub timeout_ms: Option<u64>,
    pub client: Option<String>,
}

pub async fn handle(
    State(app): State<AppState>,
    query: Result<Query<LongPollQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let limit = limit(q.limit)?;
    let timeout = match q.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS) {
        ms @ 1..=MAX_TIMEOUT_MS => Duration::from_millis(ms),
        _ => return Err(ApiError::BadQuery(format!("timeout_ms must be 1–{MAX_TIMEOUT_MS}"))),
    };
    // A cursor another instance issued a moment ago is waited for, not refused.
    app.broker.settle(&app.hub, q.after.as_deref(), true).await;
    // Subscribe before the first read, so an event published in between still wakes us.
    let mut head = app.hub.subscribe();
    head.borrow_and_update();
    let mut batch = app.hub.poll(q.after.as_deref(), limit)?;
    note_request(&app, Transport::LongPoll, q.client.as_deref())?;
    let _open = app.stats.open(Transport::LongPoll)?;
    let mut drops = app.control.watch_drops(Transport::LongPoll);
    drops.borrow_and_update();
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    while batch.events.is_empty() && batch.reset.is_none() {
        tokio::select! {
            // A drop wins over news: the drop's own announcement lands at the same moment.
            biased;
            _ = app.shutdown.cancelled() => return Ok(empty(&app)),
            _ = drops.changed() => return Err(ApiError::Dropped),
            _ = &mut deadline => return Ok(empty(&app)),
            changed = head.changed() => {
                if changed.is_err() {
                    return Ok(empty(&app));
                }
                head.borrow_and_update();
                batch = app.hub.poll(Some(&batch.cursor), limit)?;
            }
        }
    }
    // The instructor's delay still gives way to a drop.
    tokio::select! {
        biased;
        _ = drops.changed() => return Err(ApiError::Dropped),
        _ = hold_for_delay(&app, batch.events.last().map(|e| e.sent_at_us)) => {}
    }
    Ok(poll_response(&app, Transport::LongPoll, batch))
}

fn empty(app: &AppState) -> Response {
    app.stats.empty(Transport::LongPoll);
    StatusCode::NO_CONTENT.into_response()
}
