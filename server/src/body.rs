//! Request bodies, read only once they may be, and only as much as they need.
//!
//! axum's `Json` reads up to 2 MiB before a handler runs; 200 strangers
//! sending such bodies slowly took the server from 8 MB to 412 MB. Here a body
//! over [`MAX_BODY`] is refused from its `Content-Length` without reading it
//! (so hyper never sends `100 Continue` for it), a chunked one is cut at the
//! limit, and a slow one at [`BODY_TIMEOUT`]. Extractors that check a token
//! go before this one: a refused request's body is never read.

use std::time::Duration;

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A chat message or a control action: 500 characters escaped as JSON, with room to spare.
pub const MAX_BODY: usize = 8 * 1024;
/// The whole body, not each read: a byte every few seconds does not keep it alive.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// A refused body up to this size is read and thrown away (a frame at a time,
/// nothing kept) before the 413: closing with unread bytes sends a reset, and
/// the browser would see a network error instead of the answer.
const DISCARD_UP_TO: u64 = 64 * 1024;
const DISCARD_WITHIN: Duration = Duration::from_secs(2);

/// A JSON body of at most `N` bytes ([`MAX_BODY`] unless said), arriving within [`BODY_TIMEOUT`].
pub struct Capped<T, const N: usize = MAX_BODY>(pub T);

impl<S: Send + Sync, T: DeserializeOwned, const N: usize> FromRequest<S> for Capped<T, N> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        if !is_json(&parts.headers) {
            return Err(ApiError::BadBody("expected Content-Type: application/json".into()));
        }
        let mut body = body;
        if let Some(n) = content_length(&parts.headers).filter(|&n| n > N as u64) {
            if n <= DISCARD_UP_TO {
                discard(&mut body).await;
            }
            return Err(ApiError::TooLarge(N));
        }
        let read = http_body_util::BodyExt::collect(http_body_util::Limited::new(&mut body, N));
        let bytes = match tokio::time::timeout(BODY_TIMEOUT, read).await {
            Err(_) => return Err(ApiError::BodyTimeout(BODY_TIMEOUT.as_secs())),
            Ok(Err(e)) if over_limit(&*e) => {
                discard(&mut body).await;
                return Err(ApiError::TooLarge(N));
            }
            Ok(Err(_)) => return Err(ApiError::BadBody("the body could not be read".into())),
            Ok(Ok(b)) => b.to_bytes(),
        };
        serde_json::from_slice(&bytes).map(Capped).map_err(|e| ApiError::BadBody(format!("invalid JSON body: {e}")))
    }
}

/// Reads and drops what is left of a refused body, up to [`DISCARD_UP_TO`]
/// bytes and [`DISCARD_WITHIN`]: past either, the connection is closed anyway.
async fn discard(body: &mut axum::body::Body) {
    use http_body_util::BodyExt as _;
    let mut seen = 0u64;
    let _ = tokio::time::timeout(DISCARD_WITHIN, async {
        while let Some(Ok(frame)) = body.frame().await {
            seen += frame.data_ref().map_or(0, |d| d.len() as u64);
            if seen > DISCARD_UP_TO {
                break;
            }
        }
    })
    .await;
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

fn over_limit(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_json_bodies_with_a_sane_length() {
        let mut h = HeaderMap::new();
        assert!(!is_json(&h));
        h.insert(header::CONTENT_TYPE, "application/json; charset=utf-8".parse().unwrap());
        assert!(is_json(&h));
        h.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(!is_json(&h));
        h.insert(header::CONTENT_LENGTH, " 12 ".parse().unwrap());
        assert_eq!(content_length(&h), Some(12));
        h.insert(header::CONTENT_LENGTH, "x".parse().unwrap());
        assert_eq!(content_length(&h), None);
    }
}
