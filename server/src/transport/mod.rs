//! The four transports, one module each. They see the hub only through
//! resume / read / poll / subscribe, and only frame bytes it encoded.

pub mod frames;
pub mod long_poll;
pub mod poll;
pub mod sse;
pub mod stream;
pub mod ws;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use pushlab::{MAX_CLIENT_ID, PollResponse, Transport};

use tokio_util::sync::CancellationToken;

use crate::AppState;
use crate::control::Control;
use crate::error::ApiError;
pub use frames::Frames;

/// The hub's types, with the frames this edge makes.
pub type Published = crate::hub::Published<Frames>;
pub type Read = crate::hub::Read<Frames>;
pub type PollBatch = crate::hub::PollBatch<Frames>;

/// Events handed to a stream per read; also the largest catch-up chunk.
pub const BATCH: usize = 256;
pub const DEFAULT_LIMIT: u32 = 500;
pub const MAX_LIMIT: u32 = 1000;

pub fn limit(limit: Option<u32>) -> Result<usize, ApiError> {
    match limit.unwrap_or(DEFAULT_LIMIT) {
        l @ 1..=MAX_LIMIT => Ok(l as usize),
        _ => Err(ApiError::BadQuery(format!("limit must be 1–{MAX_LIMIT}"))),
    }
}

/// A `client` id, if given and not too long.
pub fn client_id(client: Option<&str>) -> Result<Option<&str>, ApiError> {
    match client.filter(|c| !c.is_empty()) {
        Some(c) if c.chars().count() > MAX_CLIENT_ID => Err(ApiError::TooLong { field: "client", max: MAX_CLIENT_ID }),
        c => Ok(c),
    }
}

/// Counts a polling request and notes its `client` id for presence.
pub fn note_request(app: &AppState, t: Transport, client: Option<&str>) -> Result<(), ApiError> {
    if let Some(client) = client_id(client)? {
        app.stats.seen(t, client);
    }
    app.stats.request(t);
    Ok(())
}

/// Encodes a poll answer, splicing each event's bytes as they were encoded at publish.
pub fn poll_response(app: &AppState, t: Transport, batch: PollBatch) -> Response {
    let n = batch.events.len() as u64;
    let body = PollResponse {
        events: batch.events.iter().map(|e| &*e.envelope).collect(),
        reset: batch.reset.is_some(),
        reset_info: batch.reset,
        cursor: batch.cursor,
        more: batch.more,
    };
    let bytes = serde_json::to_vec(&body).expect("a poll answer always serializes");
    if n == 0 {
        app.stats.empty(t);
    }
    app.stats.delivered(t, n, bytes.len() as u64);
    let mut res = bytes.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The HTTP protocol of a request, as ALPN and Resource Timing name it.
pub fn protocol_name(v: axum::http::Version) -> &'static str {
    match v {
        axum::http::Version::HTTP_2 => pushlab::cluster::H2,
        axum::http::Version::HTTP_10 => "http/1.0",
        axum::http::Version::HTTP_3 => "h3",
        _ => pushlab::cluster::HTTP_1_1,
    }
}

/// Why a stream must end, apart from its client going away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    Shutdown,
    Dropped,
}

/// Resolves when the server shuts down or the instructor drops `t`. A stream
/// makes it once and polls it across all its events: making the two waits
/// anew for every event showed up in the fan-out profile.
pub fn stop_signal(
    shutdown: &CancellationToken,
    control: &Control,
    t: Transport,
) -> impl Future<Output = Stop> + Send + 'static {
    let shutdown = shutdown.clone();
    let mut drops = control.watch_drops(t);
    drops.borrow_and_update();
    async move {
        tokio::select! {
            biased;
            _ = shutdown.cancelled_owned() => Stop::Shutdown,
            _ = drops.changed() => Stop::Dropped,
        }
    }
}

/// Waits out the instructor's delivery delay for the newest event of a batch.
/// The wait is boxed: it is rare, and inline its timer would enlarge every
/// stream's state for its whole life.
pub async fn hold_for_delay(app: &AppState, sent_at_us: Option<i64>) {
    if let Some(left) = sent_at_us.and_then(|t| app.control.delay_left(t)) {
        Box::pin(async {
            tokio::select! {
                _ = tokio::time::sleep(left) => {}
                _ = app.shutdown.cancelled() => {}
            }
        })
        .await;
    }
}
