//! Short polling: `GET /api/poll` answers at once with what is new.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use pushlab::Transport;
use serde::Deserialize;

use super::{PollBatch, hold_for_delay, limit, note_request, poll_response};
use crate::AppState;
use crate::broker::Settled;
use crate::error::ApiError;

#[derive(Debug, Deserialize)]
pub struct PollQuery {
    pub after: Option<String>,
    pub limit: Option<u32>,
    pub client: Option<String>,
}

pub async fn handle(
    State(app): State<AppState>,
    query: Result<Query<PollQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let limit = limit(q.limit)?;
    let batch = match app.broker.settle(&app.hub, q.after.as_deref(), false).await {
        // Issued by another instance a moment ago: nothing new yet, keep the cursor.
        Settled::Pending => {
            PollBatch { events: Vec::new(), reset: None, cursor: q.after.clone().unwrap_or_default(), more: false }
        }
        Settled::Ready => app.hub.poll(q.after.as_deref(), limit)?,
    };
    note_request(&app, Transport::Poll, q.client.as_deref())?;
    hold_for_delay(&app, batch.events.last().map(|e| e.sent_at_us)).await;
    Ok(poll_response(&app, Transport::Poll, batch))
}
