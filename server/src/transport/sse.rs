//! Server-Sent Events: `GET /api/sse`. The body is a stream of frames the hub
//! encoded at publish; this module only adds `retry:`, resets and keep-alives.
//!
//! The stream's decisions are made by [`super::stream::run`] in a task of its
//! own, which hands batches to the body through a channel of one: when the
//! client stops reading, hyper stops polling the body, the channel stays full,
//! and the loop cuts the connection after the slow-consumer limit (or at once
//! on a drop, expiry or shutdown, after a second's grace to drain).
//!
//! A client that falls behind the history is cut off (the stream ends); it
//! comes back with its Last-Event-ID and gets a reset saying what it missed.
//! A reset travels in the stream (EventSource gives up on any non-200), and
//! its `id:` is the new cursor so the browser's next `Last-Event-ID` is valid.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures_util::stream;
use pushlab::{CursorError, Hello, ResetNotice, ServerMsg, Transport};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::Published;
use super::stream::{Channel, Ctx, End, Said, Sent, Start, run};
use crate::AppState;
use crate::accept::ConnHandle;
use crate::error::ApiError;

/// Sent first: how long the browser waits before reconnecting.
pub const RETRY: &[u8] = b"retry: 2000\n\n";
pub const KEEP_ALIVE: &[u8] = b": keep-alive\n\n";
/// After a drop, expiry or shutdown, what is queued may drain this long before the cut.
const DRAIN: Duration = Duration::from_secs(1);

#[derive(Debug, Deserialize)]
pub struct SseQuery {
    pub after: Option<String>,
    /// The page's id: it stops counting as a poller (presence).
    pub client: Option<String>,
}

pub async fn handle(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    conn: Option<Extension<ConnHandle>>,
    version: axum::http::Version,
    headers: HeaderMap,
    query: Result<Query<SseQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let protocol = super::protocol_name(version);
    let Query(q) = query?;
    // The browser's reconnect sends Last-Event-ID; it wins over `after`.
    let last_event_id = match headers.get("last-event-id") {
        Some(v) => Some(v.to_str().map_err(|_| CursorError::Malformed)?),
        None => None,
    };
    let after = last_event_id.filter(|s| !s.is_empty()).or(q.after.as_deref());
    app.broker.settle(&app.hub, after, true).await;
    let start = app.hub.resume(after)?;
    let client = super::client_id(q.client.as_deref())?;
    app.stats.request(Transport::Sse);
    let open = app.stats.open(Transport::Sse)?;
    if let Some(c) = client {
        app.stats.left(c, None);
    }
    let mut first = RETRY.to_vec();
    first.extend_from_slice(&hello_frame(app.broker.instance(), protocol));
    if let Some(reset) = &start.reset {
        first.extend_from_slice(&reset_frame(reset));
    }
    app.stats.bytes(Transport::Sse, first.len() as u64);
    let (tx, rx) = mpsc::channel(1);
    let _ = tx.try_send(Chunk::Bytes(Bytes::from(first)));
    let body_gone = CancellationToken::new();
    let body = Reader { rx, _gone: body_gone.clone().drop_guard() };
    let out = SseOut { tx, body_gone, conn: conn.map(|Extension(c)| c) };
    let start = Start { epoch: start.epoch, after: Some(start.after), peer: peer.ip(), open, protocol };
    app.tasks.spawn(run(Ctx::of(&app), out, start));
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::HeaderName::from_static("x-accel-buffering"), HeaderValue::from_static("no")),
    ];
    // Faults act between the stream and the socket, where a proxy would.
    let body = crate::fault::body::sse(Box::pin(body.into_stream()), app.control.clone());
    Ok((headers, Body::from_stream(body)).into_response())
}

/// What the loop hands the body: a batch of events, or bytes of its own.
enum Chunk {
    Events(Vec<Arc<Published>>),
    Bytes(Bytes),
}

/// The body's side: one chunk per batch. A lone event is its shared frame
/// as is; a batch is its frames joined — hyper would copy them into its write
/// buffer anyway, and one chunk is one poll and one write, not one per event.
struct Reader {
    rx: mpsc::Receiver<Chunk>,
    /// Fires when hyper drops the body: the response is over, or the socket closed.
    _gone: DropGuard,
}

impl Reader {
    fn into_stream(self) -> impl futures_util::Stream<Item = Bytes> + Send {
        stream::unfold(self, |mut r| async move {
            let bytes = match r.rx.recv().await? {
                Chunk::Events(events) if events.len() == 1 => events[0].frames.sse.clone(),
                Chunk::Events(events) => {
                    let mut joined = BytesMut::with_capacity(events.iter().map(|e| e.frames.sse.len()).sum());
                    for e in &events {
                        joined.extend_from_slice(&e.frames.sse);
                    }
                    joined.freeze()
                }
                Chunk::Bytes(b) => b,
            };
            Some((bytes, r))
        })
    }
}

/// The loop's side of an SSE stream.
struct SseOut {
    tx: mpsc::Sender<Chunk>,
    body_gone: CancellationToken,
    conn: Option<ConnHandle>,
}

impl SseOut {
    async fn put(&mut self, chunk: Chunk) -> Result<(), ()> {
        self.tx.send(chunk).await.map_err(|_| ())
    }
}

impl Channel for SseOut {
    const TRANSPORT: Transport = Transport::Sse;
    const HEARS: bool = false;

    fn frame_len(e: &Published) -> usize {
        e.frames.sse.len()
    }

    async fn events(&mut self, events: Vec<Arc<Published>>) -> Sent {
        self.put(Chunk::Events(events)).await.map(|()| 0)
    }

    async fn message(&mut self, msg: &ServerMsg) -> Sent {
        // Only a reset is ever sent on a stream, and it is in its first chunk.
        let ServerMsg::Reset(notice) = msg else { return Ok(0) };
        let frame = reset_frame(notice);
        let n = frame.len() as u64;
        self.put(Chunk::Bytes(frame)).await.map(|()| n)
    }

    async fn keep_alive(&mut self) -> Sent {
        self.put(Chunk::Bytes(Bytes::from_static(KEEP_ALIVE))).await.map(|()| KEEP_ALIVE.len() as u64)
    }

    async fn said(&mut self) -> Said {
        // An SSE client says nothing; the body's end is how it leaves.
        self.body_gone.cancelled().await;
        Said::End(End::Gone)
    }

    async fn close(self, end: End) {
        let SseOut { tx, body_gone, conn } = self;
        match end {
            End::Gone => {}
            // Its socket did not drain: nothing queued will reach it.
            End::TooSlow => conn.iter().for_each(ConnHandle::cut),
            _ => {
                // Ends the body once what is queued has gone; a socket that will
                // not take it is cut, so a stop never waits for a client.
                drop(tx);
                if tokio::time::timeout(DRAIN, body_gone.cancelled()).await.is_err() {
                    conn.iter().for_each(ConnHandle::cut);
                }
                tracing::debug!(?end, "SSE stream ended");
            }
        }
    }
}

/// `event: hello` with no `id:`: it names the instance and moves no cursor.
fn hello_frame(instance: &str, protocol: &str) -> Vec<u8> {
    let hello = Hello { instance: instance.to_owned(), protocol: protocol.to_owned() };
    let data = serde_json::to_string(&hello).expect("a hello always serializes");
    format!("event: hello\ndata: {data}\n\n").into_bytes()
}

fn reset_frame(notice: &ResetNotice) -> Bytes {
    let data = serde_json::to_string(notice).expect("a reset always serializes");
    let mut frame = String::with_capacity(data.len() + notice.cursor.len() + 32);
    for part in ["id: ", &notice.cursor, "\nevent: reset\ndata: ", &data, "\n\n"] {
        frame.push_str(part);
    }
    Bytes::from(frame)
}
