//! Chat, the way back from client to server: `POST /api/messages` for the
//! HTTP transports, a `chat` frame on the WebSocket. Both end here.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use governor::{DefaultKeyedRateLimiter, Quota};
use pushlab::{Event, MAX_CHAT_FROM, MAX_CHAT_TEXT, PostMessage, PostMessageAccepted};
use rand::Rng;

use crate::AppState;
use crate::body::Capped;
use crate::error::ApiError;
use crate::hub::Published;

/// Messages per client address: a burst of 10, then 2 a second.
pub fn limiter() -> Arc<DefaultKeyedRateLimiter<IpAddr>> {
    let quota = Quota::per_second(NonZeroU32::new(2).expect("2 > 0")).allow_burst(NonZeroU32::new(10).expect("10 > 0"));
    Arc::new(DefaultKeyedRateLimiter::keyed(quota))
}

/// Checks a chat message; an anonymous sender is named `guest-` and four random characters.
pub fn chat_event(text: &str, from: Option<&str>) -> Result<Event, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::BadBody("text must not be empty".into()));
    }
    if text.chars().count() > MAX_CHAT_TEXT {
        return Err(ApiError::TooLong { field: "text", max: MAX_CHAT_TEXT });
    }
    let from = match from.map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) if f.chars().count() > MAX_CHAT_FROM => {
            return Err(ApiError::TooLong { field: "from", max: MAX_CHAT_FROM });
        }
        Some(f) => f.to_owned(),
        None => guest_name(),
    };
    Ok(Event::ChatMessage { from, text: text.to_owned() })
}

fn guest_name() -> String {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let tag: String = (0..4).map(|_| CHARS[rng.random_range(0..CHARS.len())] as char).collect();
    format!("guest-{tag}")
}

/// Validates, rate-limits and publishes one chat message from `ip`.
pub fn publish(app: &AppState, ip: IpAddr, text: &str, from: Option<&str>) -> Result<Arc<Published>, ApiError> {
    let event = chat_event(text, from)?;
    app.chat_limiter.check_key(&ip).map_err(|_| ApiError::RateLimited)?;
    Ok(app.hub.publish(event))
}

pub async fn post(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Capped(msg): Capped<PostMessage>,
) -> Result<(StatusCode, Json<PostMessageAccepted>), ApiError> {
    let published = publish(&app, peer.ip(), &msg.text, msg.from.as_deref())?;
    Ok((StatusCode::ACCEPTED, Json(PostMessageAccepted { id: published.id.clone() })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_is_checked() {
        assert_eq!(
            chat_event(" hello ", Some("Ana")).unwrap(),
            Event::ChatMessage { from: "Ana".into(), text: "hello".into() }
        );
        let Event::ChatMessage { from, .. } = chat_event("hi", None).unwrap() else { panic!() };
        assert!(from.starts_with("guest-") && from.len() == 10, "{from}");
        let Event::ChatMessage { from, .. } = chat_event("hi", Some("  ")).unwrap() else { panic!() };
        assert!(from.starts_with("guest-"));
        assert!(matches!(chat_event("  ", None), Err(ApiError::BadBody(_))));
        assert!(matches!(
            chat_event(&"x".repeat(MAX_CHAT_TEXT + 1), None),
            Err(ApiError::TooLong { field: "text", .. })
        ));
        assert!(chat_event(&"é".repeat(MAX_CHAT_TEXT), None).is_ok(), "the limit counts characters, not bytes");
        assert!(matches!(chat_event("hi", Some(&"n".repeat(33))), Err(ApiError::TooLong { field: "from", .. })));
    }
}
