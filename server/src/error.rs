//! The API's errors: each becomes a status and a JSON body
//! `{"error": "<code>", "message": "<for humans>"}`.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pushlab::{CursorError, ErrorBody};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    BadCursor(#[from] CursorError),
    #[error("{0}")]
    BadQuery(String),
    #[error("{0}")]
    BadBody(String),
    #[error("{0}")]
    OutOfRange(String),
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("no such endpoint")]
    NotFound,
    #[error("this origin may not open a WebSocket here")]
    ForbiddenOrigin,
    #[error("missing instructor token (Authorization: Bearer <token>)")]
    Unauthorized,
    #[error("wrong instructor token")]
    Forbidden,
    #[error("too many messages; slow down")]
    RateLimited,
    #[error("{0} bursts are already waiting to go out; send another once they have")]
    BurstsQueued(usize),
    #[error("too many {0} connections; try again shortly")]
    Busy(&'static str),
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error("connection dropped by the instructor")]
    Dropped,
    #[error("the broker (Redis) does not answer; try again shortly")]
    BrokerUnavailable,
    #[error("one report a second per client; this one came too soon")]
    ReportTooSoon,
    #[error("the room is full ({} participants); try again once some have left", pushlab::room::MAX_PARTICIPANTS)]
    RoomFull,
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the body did not arrive within {0} s")]
    BodyTimeout(u64),
    #[error("{path} allows {allow} only")]
    MethodNotAllowed { path: String, allow: String },
    #[error("{1}")]
    BadUpgrade(StatusCode, String),
    #[error("this server does not answer to host {0:?}; start it with --public-url or --allowed-origin for that name")]
    UnknownHost(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        use ApiError::*;
        match self {
            BadCursor(_) | BadQuery(_) | BadBody(_) | OutOfRange(_) | TooLong { .. } => StatusCode::BAD_REQUEST,
            NotFound => StatusCode::NOT_FOUND,
            ForbiddenOrigin | Forbidden | UnknownHost(_) => StatusCode::FORBIDDEN,
            TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            BadUpgrade(status, _) => *status,
            Unauthorized => StatusCode::UNAUTHORIZED,
            RateLimited | BurstsQueued(_) | ReportTooSoon => StatusCode::TOO_MANY_REQUESTS,
            Busy(_) | ShuttingDown | Dropped | BrokerUnavailable | RoomFull => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn code(&self) -> &'static str {
        use ApiError::*;
        match self {
            BadCursor(_) => "bad_cursor",
            BadQuery(_) => "bad_query",
            BadBody(_) => "bad_body",
            OutOfRange(_) => "out_of_range",
            TooLong { .. } => "too_long",
            NotFound => "not_found",
            ForbiddenOrigin => "forbidden_origin",
            Unauthorized => "unauthorized",
            Forbidden => "forbidden",
            RateLimited | ReportTooSoon => "rate_limited",
            RoomFull => "room_full",
            BurstsQueued(_) => "bursts_queued",
            Busy(_) => "too_many_connections",
            ShuttingDown => "shutting_down",
            Dropped => "dropped",
            BrokerUnavailable => "broker_unavailable",
            TooLarge(_) => "payload_too_large",
            BodyTimeout(_) => "body_timeout",
            MethodNotAllowed { .. } => "method_not_allowed",
            BadUpgrade(..) => "bad_upgrade",
            UnknownHost(_) => "unknown_host",
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody { error: self.code().into(), message: self.to_string() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.status(), Json(self.body())).into_response();
        if matches!(
            self,
            ApiError::Busy(_)
                | ApiError::ShuttingDown
                | ApiError::RateLimited
                | ApiError::ReportTooSoon
                | ApiError::BurstsQueued(_)
                | ApiError::BrokerUnavailable
        ) {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if matches!(self, ApiError::RoomFull) {
            // A place opens when a participant has been silent this long.
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(pushlab::room::SILENT_S));
        }
        // An empty one is left for axum, which adds the route's own `Allow` after the layers ran.
        if let ApiError::MethodNotAllowed { allow, .. } = &self
            && !allow.is_empty()
            && let Ok(v) = HeaderValue::from_str(allow)
        {
            res.headers_mut().insert(header::ALLOW, v);
        }
        if matches!(self, ApiError::TooLarge(_) | ApiError::BodyTimeout(_)) {
            // The rest of the body is not read: the connection cannot carry another request.
            res.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        res
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::BadQuery(r.body_text())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        ApiError::BadBody(r.body_text())
    }
}

pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// axum answers a wrong method with an empty 405; the API answers it like every other error.
pub async fn json_405(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = req.uri().path().to_owned();
    let res = next.run(req).await;
    if res.status() != StatusCode::METHOD_NOT_ALLOWED {
        return res;
    }
    let allow = res.headers().get(header::ALLOW).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    ApiError::MethodNotAllowed { path, allow }.into_response()
}
