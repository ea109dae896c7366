//! Chat, the way back from client to server: `POST /api/messages` for the
//! HTTP transports, a `chat` frame on the WebSocket. Both end here.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use governor::{DefaultKeyedRateLimiter, Quota};
use pushlab::{Event, MAX_CHAT_FROM, MAX_CHAT_TEXT, PostMessage, PostMessageAccepted};
use rand::Rng;

use crate::AppState;
use crate::body::Capped;
use crate::broker::{Appended, Broker};
use crate::error::ApiError;

/// Messages per client address: a burst of 10, then 2 a second.
pub fn limiter() -> Arc<DefaultKeyedRateLimiter<IpAddr>> {
    let quota = Quota::per_second(NonZeroU32::new(2).expect("2 > 0")).allow_burst(NonZeroU32::new(10).expect("10 > 0"));
    Arc::new(DefaultKeyedRateLimiter::keyed(quota))
}

/// Every page shows chat as text: control characters and bidi controls are
/// dropped (a `U+202E` in a name displayed the rest of the line reversed).
fn clean(s: &str) -> String {
    let bidi =
        |c: char| matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    s.chars().map(|c| if c == '\n' || c == '\t' { ' ' } else { c }).filter(|&c| !c.is_control() && !bidi(c)).collect()
}

/// The client's address for rate limits: the peer, or — when the peer is a
/// `--trusted-proxy` — the nearest address in `X-Forwarded-For` that is not
/// one (without it, everyone behind one reverse proxy shared one bucket).
pub fn client_ip(app: &AppState, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    let trusted = |ip: &IpAddr| app.config.trusted_proxies.iter().any(|net| net.contains(ip));
    // Bound to [::], IPv4 peers arrive IPv4-mapped: compare them as IPv4.
    let peer = peer.to_canonical();
    if !trusted(&peer) {
        return peer;
    }
    // From the right: each entry was appended by the hop before it. The first
    // that does not parse ends the walk — what lies left of it is the client's word.
    let entries: Vec<&str> =
        headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).collect();
    let mut client = peer;
    for entry in entries.into_iter().rev() {
        let Some(ip) = forwarded_ip(entry.trim()) else { return client };
        client = ip.to_canonical();
        if !trusted(&client) {
            return client;
        }
    }
    client
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:5678`.
fn forwarded_ip(s: &str) -> Option<IpAddr> {
    s.parse().ok().or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

/// Forgets addresses whose bucket is full again, once a minute: the limiter's
/// per-address state was never pruned.
pub async fn prune(limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>, shutdown: tokio_util::sync::CancellationToken) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = every.tick() => {
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        }
    }
}

/// Checks a chat message; an anonymous sender is named `guest-` and four random characters.
pub fn chat_event(text: &str, from: Option<&str>) -> Result<Event, ApiError> {
    let (text, from) = (clean(text), from.map(clean));
    let (text, from) = (text.trim(), from.as_deref());
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
pub async fn publish(app: &AppState, ip: IpAddr, text: &str, from: Option<&str>) -> Result<Appended, ApiError> {
    publish_to(&app.broker, &app.chat_limiter, ip, text, from).await
}

/// [`publish`], given only what it needs. With a broker, the message reaches
/// every instance's subscribers; while the broker is down it is refused (503).
pub async fn publish_to(
    broker: &Broker,
    limiter: &DefaultKeyedRateLimiter<IpAddr>,
    ip: IpAddr,
    text: &str,
    from: Option<&str>,
) -> Result<Appended, ApiError> {
    let event = chat_event(text, from)?;
    limiter.check_key(&ip).map_err(|_| ApiError::RateLimited)?;
    Ok(broker.publish_one(event).await?)
}

pub async fn post(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Capped(msg): Capped<PostMessage>,
) -> Result<(StatusCode, Json<PostMessageAccepted>), ApiError> {
    let appended = publish(&app, client_ip(&app, peer.ip(), &headers), &msg.text, msg.from.as_deref()).await?;
    Ok((StatusCode::ACCEPTED, Json(PostMessageAccepted { id: appended.id })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_addresses_as_proxies_write_them() {
        for (s, ip) in [("1.2.3.4", "1.2.3.4"), ("1.2.3.4:5678", "1.2.3.4"), ("::1", "::1"), ("[::1]:80", "::1")] {
            assert_eq!(forwarded_ip(s), Some(ip.parse().unwrap()), "{s}");
        }
        assert_eq!(forwarded_ip("unknown"), None);
    }

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
        assert_eq!(
            chat_event("a\u{202E}b\u{0007}\nc", Some("\u{202E}nimda")).unwrap(),
            Event::ChatMessage { from: "nimda".into(), text: "ab c".into() },
            "bidi and control characters are dropped"
        );
        assert!(matches!(chat_event("\u{202E}\u{0000}", None), Err(ApiError::BadBody(_))));
    }
}
