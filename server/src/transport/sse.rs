//! Server-Sent Events: `GET /api/sse`. The body is a stream of frames the hub
//! encoded at publish; this module only adds `retry:`, resets and keep-alives.
//!
//! A client that falls behind the history is cut off (the stream ends); it
//! comes back with its Last-Event-ID and gets a reset saying what it missed.
//! A reset travels in the stream (EventSource gives up on any non-200), and
//! its `id:` is the new cursor so the browser's next `Last-Event-ID` is valid.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::stream;
use pushlab::{CursorError, ResetNotice, Transport};
use serde::Deserialize;
use tokio::sync::watch;
use tokio::time::{Instant, Interval, interval_at};

use super::{BATCH, Stop, due, stop_signal};
use crate::AppState;
use crate::error::ApiError;
use crate::hub::{Published, Read};
use crate::stats::ConnGuard;

/// Sent first: how long the browser waits before reconnecting.
pub const RETRY: &[u8] = b"retry: 2000\n\n";
pub const KEEP_ALIVE: &[u8] = b": keep-alive\n\n";

#[derive(Debug, Deserialize)]
pub struct SseQuery {
    pub after: Option<String>,
}

pub async fn handle(
    State(app): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<SseQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    // The browser's reconnect sends Last-Event-ID; it wins over `after`.
    let last_event_id = match headers.get("last-event-id") {
        Some(v) => Some(v.to_str().map_err(|_| CursorError::Malformed)?),
        None => None,
    };
    let after = last_event_id.filter(|s| !s.is_empty()).or(q.after.as_deref());
    let start = app.hub.resume(after)?;
    app.stats.request(Transport::Sse);
    let open = app.stats.open(Transport::Sse)?;
    let keepalive = app.config.keepalive();
    let mut head = app.hub.subscribe();
    head.borrow_and_update();
    let stop = Box::pin(stop_signal(&app, Transport::Sse));
    let mut first = RETRY.to_vec();
    if let Some(reset) = &start.reset {
        first.extend_from_slice(&reset_frame(reset));
    }
    app.stats.bytes(Transport::Sse, first.len() as u64);
    let state = Conn {
        after: start.after,
        pending: Vec::new().into_iter(),
        head,
        stop,
        keepalive: interval_at(Instant::now() + keepalive, keepalive),
        _open: open,
        app,
    };
    let body = stream::once(async move { Ok::<_, Infallible>(Bytes::from(first)) })
        .chain(stream::unfold(state, |mut c| async move { c.next().await.map(|b| (Ok(b), c)) }));
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::HeaderName::from_static("x-accel-buffering"), HeaderValue::from_static("no")),
    ];
    Ok((headers, Body::from_stream(body)).into_response())
}

use futures_util::StreamExt as _;

/// One open stream: its cursor, and the frames of the batch being written.
struct Conn {
    app: AppState,
    after: u64,
    pending: std::vec::IntoIter<Arc<Published>>,
    head: watch::Receiver<u64>,
    /// Shutdown or the instructor's drop: either ends the stream.
    stop: Pin<Box<dyn Future<Output = Stop> + Send>>,
    keepalive: Interval,
    _open: ConnGuard,
}

impl Conn {
    /// The next chunk of the body, or `None` to end the stream.
    async fn next(&mut self) -> Option<Bytes> {
        loop {
            if let Some(e) = self.pending.next() {
                return Some(e.sse_frame.clone());
            }
            if self.app.shutdown.is_cancelled() {
                return None;
            }
            self.head.borrow_and_update();
            match self.app.hub.read(self.after, BATCH) {
                Read::Expired(_) => {
                    // Too slow to keep up: end the stream. The browser reconnects with its
                    // Last-Event-ID and is told how much it missed (a reset).
                    tracing::debug!("SSE client fell behind the history; cut off");
                    return None;
                }
                Read::Events(events) if !events.is_empty() => {
                    let events = due(&self.app, events).await;
                    let bytes = events.iter().map(|e| e.sse_frame.len() as u64).sum();
                    self.app.stats.delivered(Transport::Sse, events.len() as u64, bytes);
                    self.after = events.last().map_or(self.after, |e| e.seq);
                    self.pending = events.into_iter();
                    self.keepalive.reset();
                    continue;
                }
                Read::Events(_) => {}
            }
            tokio::select! {
                _ = &mut self.stop => return None,
                changed = self.head.changed() => if changed.is_err() { return None },
                _ = self.keepalive.tick() => {
                    self.app.stats.bytes(Transport::Sse, KEEP_ALIVE.len() as u64);
                    return Some(Bytes::from_static(KEEP_ALIVE));
                }
            }
        }
    }
}

fn reset_frame(notice: &ResetNotice) -> Bytes {
    let data = serde_json::to_string(notice).expect("a reset always serializes");
    let mut frame = String::with_capacity(data.len() + notice.cursor.len() + 32);
    for part in ["id: ", &notice.cursor, "\nevent: reset\ndata: ", &data, "\n\n"] {
        frame.push_str(part);
    }
    Bytes::from(frame)
}
