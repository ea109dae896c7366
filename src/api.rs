//! HTTP bodies: polling answers, resets, chat posts, the clock, errors.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::Envelope;

/// Why the server could not resume from a client's cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetReason {
    /// The cursor belongs to another run of the server.
    Epoch,
    /// The cursor is older than the history the server keeps.
    Expired,
}

/// A reset as the streaming transports send it (SSE `data:`, WS `reset` frame).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetNotice {
    pub reason: ResetReason,
    /// Events lost, or `null` when unknown (another epoch).
    pub missed: Option<u64>,
    /// Where the stream now continues from: the events that follow come after it.
    pub cursor: String,
}

/// The reset fields of a poll answer, present only when `reset` is true.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollReset {
    pub reason: ResetReason,
    pub missed: Option<u64>,
}

/// `GET /api/poll` and `GET /api/long-poll` (200).
///
/// Generic over the event so the server can splice the bytes it encoded once
/// at publish (`&RawValue`) while clients read typed [`Envelope`]s. Read
/// through [`PollWire`]: a flattened field would make serde copy the whole
/// answer, events included, into an intermediate tree first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "PollWire<E>", bound(deserialize = "E: Deserialize<'de>"))]
pub struct PollResponse<E = Envelope> {
    pub events: Vec<E>,
    pub reset: bool,
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub reset_info: Option<PollReset>,
    /// The `after` to send next: the last event's id, or the stream head.
    pub cursor: String,
    /// More events are waiting after `cursor` (catch-up in pages).
    pub more: bool,
}

/// A poll answer as it is written: the reset fields beside the others. They
/// are read leniently, as the flattened field was: a reason this build does
/// not know, or a `missed` that is not a count, still lets the events through.
#[derive(Deserialize)]
struct PollWire<E> {
    events: Vec<E>,
    reset: bool,
    reason: Option<Value>,
    missed: Option<Value>,
    cursor: String,
    more: bool,
}

impl<E> From<PollWire<E>> for PollResponse<E> {
    fn from(w: PollWire<E>) -> Self {
        let reason = w.reason.and_then(|r| ResetReason::deserialize(r).ok());
        let missed = w.missed.and_then(|m| m.as_u64());
        let reset_info = reason.filter(|_| w.reset).map(|reason| PollReset { reason, missed });
        PollResponse { events: w.events, reset: w.reset, reset_info, cursor: w.cursor, more: w.more }
    }
}

/// `POST /api/messages` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostMessage {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// `POST /api/messages` answer (202): the id of the published chat event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostMessageAccepted {
    pub id: String,
}

/// `GET /api/time`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeResponse {
    pub now_us: i64,
}

/// Every error body: a stable code for programs, a sentence for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use serde_json::json;

    #[test]
    fn poll_response_without_reset_has_no_reason_or_missed() {
        let body = PollResponse::<Envelope> {
            events: vec![Envelope {
                id: "k3f9q2-1042".into(),
                seq: 1042,
                sent_at_us: 1_795_660_000_123_456,
                event: Event::CounterUpdate { name: "active_users".into(), value: 128 },
            }],
            reset: false,
            reset_info: None,
            cursor: "k3f9q2-1042".into(),
            more: false,
        };
        let value = serde_json::to_value(&body).unwrap();
        assert_eq!(
            value,
            json!({"events": [{"id": "k3f9q2-1042", "seq": 1042, "sent_at_us": 1795660000123456_i64,
                "event": {"type": "counter:update", "name": "active_users", "value": 128}}],
                "reset": false, "cursor": "k3f9q2-1042", "more": false})
        );
        assert_eq!(serde_json::from_value::<PollResponse>(value).unwrap(), body);
    }

    #[test]
    fn poll_response_with_reset_carries_reason_and_null_missed() {
        let body = PollResponse::<Envelope> {
            events: vec![],
            reset: true,
            reset_info: Some(PollReset { reason: ResetReason::Epoch, missed: None }),
            cursor: "p8x1aa-57".into(),
            more: false,
        };
        let value = serde_json::to_value(&body).unwrap();
        assert_eq!(
            value,
            json!({"events": [], "reset": true, "reason": "epoch", "missed": null, "cursor": "p8x1aa-57", "more": false})
        );
        assert_eq!(serde_json::from_value::<PollResponse>(value).unwrap(), body);
    }

    #[test]
    fn server_side_raw_events_splice_verbatim() {
        let raw = serde_json::value::RawValue::from_string(r#"{"id":"a-1","seq":1}"#.into()).unwrap();
        let body =
            PollResponse { events: vec![&*raw], reset: false, reset_info: None, cursor: "a-1".into(), more: true };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"events":[{"id":"a-1","seq":1}],"reset":false,"cursor":"a-1","more":true}"#
        );
    }

    #[test]
    fn other_bodies_match_the_wire() {
        let notice = ResetNotice { reason: ResetReason::Expired, missed: Some(3180), cursor: "k3f9q2-14400".into() };
        assert_eq!(
            serde_json::to_value(&notice).unwrap(),
            json!({"reason": "expired", "missed": 3180, "cursor": "k3f9q2-14400"})
        );
        let post: PostMessage = serde_json::from_value(json!({"text": "hello", "from": "Ana"})).unwrap();
        assert_eq!(post, PostMessage { text: "hello".into(), from: Some("Ana".into()) });
        let post: PostMessage = serde_json::from_value(json!({"text": "hi"})).unwrap();
        assert_eq!(post.from, None);
        assert_eq!(
            serde_json::to_value(PostMessageAccepted { id: "k3f9q2-1043".into() }).unwrap(),
            json!({"id": "k3f9q2-1043"})
        );
        assert_eq!(serde_json::to_value(TimeResponse { now_us: 5 }).unwrap(), json!({"now_us": 5}));
        let err = ErrorBody { error: "bad_cursor".into(), message: "cursor is not a pushlab event id".into() };
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            json!({"error": "bad_cursor", "message": "cursor is not a pushlab event id"})
        );
    }
}
