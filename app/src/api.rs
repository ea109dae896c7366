//! Every HTTP request a view makes, as typed calls: the instructor's
//! `/api/control`, the chat's `POST /api/messages` and the room report. A view gets the answer's
//! body or an [`ApiFailure`] with the words to show; it never sees a request.
//! (The transports' own requests are in `transport`, the page's clock and stats
//! in `sync`.)

use pushlab::ErrorBody;
#[cfg(feature = "hydrate")]
use pushlab::{ControlAction, PostMessage, PostMessageAccepted, Settings, paths};
use serde::de::DeserializeOwned;

/// A request that did not get the answer it asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiFailure {
    /// The HTTP status, when the server answered.
    pub status: Option<u16>,
    /// The error body's stable code (`ErrorBody::error`), when it sent one.
    pub error: Option<String>,
    /// What the page shows.
    pub message: String,
}

impl ApiFailure {
    /// No answer: the request could not be built or sent (the network, the browser).
    pub fn unanswered(e: impl std::fmt::Display) -> Self {
        ApiFailure { status: None, error: None, message: e.to_string() }
    }
}

/// What an endpoint accepts, and how its refusals read when the server gave no reason.
#[derive(Clone, Copy)]
pub struct Endpoint {
    /// The status of a successful answer.
    pub accepts: fn(u16) -> bool,
    /// The message for a refusal without a readable error body.
    pub refused: fn(u16) -> String,
}

/// `/api/control`: any 2xx is the settings; otherwise "HTTP 403".
pub const CONTROL: Endpoint = Endpoint { accepts: |s| (200..300).contains(&s), refused: |s| format!("HTTP {s}") };

/// `POST /api/messages`: 202 is accepted; otherwise "refused (429)".
pub const MESSAGES: Endpoint = Endpoint { accepts: |s| s == 202, refused: |s| format!("refused ({s})") };

/// `POST /api/report`: 204 is taken; otherwise "refused (503)".
pub const REPORT: Endpoint = Endpoint { accepts: |s| s == 204, refused: |s| format!("refused ({s})") };

/// Reads an answer: its body as `T` when `endpoint` accepts the status; else a
/// failure that shows the error body's message, or the endpoint's refusal text.
pub fn decode<T: DeserializeOwned>(endpoint: Endpoint, status: u16, body: &str) -> Result<T, ApiFailure> {
    if (endpoint.accepts)(status) {
        return serde_json::from_str(body).map_err(|_| ApiFailure {
            status: Some(status),
            error: None,
            message: format!("unreadable answer (HTTP {status})"),
        });
    }
    Err(match serde_json::from_str::<ErrorBody>(body) {
        Ok(e) => ApiFailure { status: Some(status), error: Some(e.error), message: e.message },
        Err(_) => ApiFailure { status: Some(status), error: None, message: (endpoint.refused)(status) },
    })
}

/// The `Authorization` header for the instructor's token, as it was pasted.
pub fn bearer(token: &str) -> String {
    format!("Bearer {}", token.trim())
}

/// `POST /api/control` with `action`, or with `None` a `GET` that only checks
/// the token: the server's settings after it.
#[cfg(feature = "hydrate")]
pub async fn control(token: &str, action: Option<&ControlAction>) -> Result<Settings, ApiFailure> {
    use gloo_net::http::Request;
    let auth = bearer(token);
    let req = match action {
        Some(a) => Request::post(paths::CONTROL).header("Authorization", &auth).json(a),
        None => Request::get(paths::CONTROL).header("Authorization", &auth).build(),
    };
    send(CONTROL, req).await
}

/// `POST /api/messages`: a chat message for everyone, by plain HTTP.
#[cfg(feature = "hydrate")]
pub async fn post_chat(msg: &PostMessage) -> Result<PostMessageAccepted, ApiFailure> {
    send(MESSAGES, gloo_net::http::Request::post(paths::MESSAGES).json(msg)).await
}

/// `POST /api/report`: this page's figures for the room.
#[cfg(feature = "hydrate")]
pub async fn post_report(report: &pushlab::room::ParticipantReport) -> Result<(), ApiFailure> {
    let req = gloo_net::http::Request::post(paths::REPORT).json(report).map_err(ApiFailure::unanswered)?;
    let res = req.send().await.map_err(ApiFailure::unanswered)?;
    if (REPORT.accepts)(res.status()) {
        return Ok(());
    }
    let body = res.text().await.unwrap_or_default();
    decode::<serde::de::IgnoredAny>(REPORT, res.status(), &body).map(|_| ())
}

#[cfg(feature = "hydrate")]
async fn send<T: DeserializeOwned>(
    endpoint: Endpoint,
    req: Result<gloo_net::http::Request, gloo_net::Error>,
) -> Result<T, ApiFailure> {
    let res = req.map_err(ApiFailure::unanswered)?.send().await.map_err(ApiFailure::unanswered)?;
    let body = res.text().await.map_err(ApiFailure::unanswered)?;
    decode(endpoint, res.status(), &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pushlab::{PostMessageAccepted, Settings};

    const SETTINGS: &str = r#"{"rate_per_s": 20.0, "paused": false, "delay_ms": 0}"#;

    #[test]
    fn an_accepted_answer_is_its_body() {
        let s: Settings = decode(CONTROL, 200, SETTINGS).unwrap();
        assert_eq!((s.rate_per_s, s.paused, s.delay_ms), (20.0, false, 0));
        let a: PostMessageAccepted = decode(MESSAGES, 202, r#"{"id": "k3f9q2-7"}"#).unwrap();
        assert_eq!(a.id, "k3f9q2-7");
    }

    #[test]
    fn an_error_body_gives_its_message_and_code() {
        let body = r#"{"error": "bad_token", "message": "wrong instructor token"}"#;
        let f = decode::<Settings>(CONTROL, 403, body).unwrap_err();
        assert_eq!(
            f,
            ApiFailure { status: Some(403), error: Some("bad_token".into()), message: "wrong instructor token".into() }
        );
        let body = r#"{"error": "rate_limited", "message": "slow down: 2 messages a second"}"#;
        let f = decode::<PostMessageAccepted>(MESSAGES, 429, body).unwrap_err();
        assert_eq!(f.message, "slow down: 2 messages a second");
        assert_eq!(f.error.as_deref(), Some("rate_limited"));
    }

    #[test]
    fn a_refusal_without_a_reason_reads_as_each_view_showed_it() {
        let f = decode::<Settings>(CONTROL, 502, "<html>bad gateway</html>").unwrap_err();
        assert_eq!((f.status, f.error, f.message.as_str()), (Some(502), None, "HTTP 502"));
        assert_eq!(decode::<PostMessageAccepted>(MESSAGES, 429, "").unwrap_err().message, "refused (429)");
        // A body of another shape is not an error body.
        assert_eq!(
            decode::<PostMessageAccepted>(MESSAGES, 500, r#"{"error": 1}"#).unwrap_err().message,
            "refused (500)"
        );
    }

    #[test]
    fn chat_is_accepted_only_with_202() {
        // 200 is not what the endpoint answers to a message it took.
        assert_eq!(
            decode::<PostMessageAccepted>(MESSAGES, 200, r#"{"id": "a-1"}"#).unwrap_err().message,
            "refused (200)"
        );
        // Control takes any 2xx.
        assert!(decode::<Settings>(CONTROL, 204, SETTINGS).is_ok());
    }

    #[test]
    fn an_accepted_status_with_an_unreadable_body_is_a_failure() {
        let f = decode::<Settings>(CONTROL, 200, "ok").unwrap_err();
        assert_eq!((f.status, f.message.as_str()), (Some(200), "unreadable answer (HTTP 200)"));
    }

    #[test]
    fn the_token_is_sent_trimmed() {
        assert_eq!(bearer("  s3cret \n"), "Bearer s3cret");
        assert_eq!(ApiFailure::unanswered("NetworkError").message, "NetworkError");
    }
}
