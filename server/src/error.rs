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
    #[error("too many {0} connections; try again shortly")]
    Busy(&'static str),
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error("connection dropped by the instructor")]
    Dropped,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        use ApiError::*;
        match self {
            BadCursor(_) | BadQuery(_) | BadBody(_) | OutOfRange(_) | TooLong { .. } => StatusCode::BAD_REQUEST,
            NotFound => StatusCode::NOT_FOUND,
            ForbiddenOrigin | Forbidden => StatusCode::FORBIDDEN,
            Unauthorized => StatusCode::UNAUTHORIZED,
            RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Busy(_) | ShuttingDown | Dropped => StatusCode::SERVICE_UNAVAILABLE,
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
            RateLimited => "rate_limited",
            Busy(_) => "too_many_connections",
            ShuttingDown => "shutting_down",
            Dropped => "dropped",
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody { error: self.code().into(), message: self.to_string() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.status(), Json(self.body())).into_response();
        if matches!(self, ApiError::Busy(_) | ApiError::ShuttingDown | ApiError::RateLimited) {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
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
