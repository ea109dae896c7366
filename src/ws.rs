//! WebSocket frames: JSON text, each tagged by `type`.

use serde::de::Deserializer;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::ResetNotice;
use crate::event::Envelope;
use crate::tagged::{self, Tagged};

/// Client → server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// Start (or restart) the stream after `after`; no events flow before the first one.
    Resume {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<String>,
    },
    Chat {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
    },
    /// Application-level ping; `nonce` is echoed unchanged.
    Ping { nonce: Value },
}

/// Server → client (read in one pass: see `tagged`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// The envelope's fields, flattened beside `type`.
    Event(Envelope),
    Reset(ResetNotice),
    /// Also names the instance that answered, since a page cannot read a socket's headers.
    Pong {
        nonce: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        instance: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        protocol: Option<String>,
    },
    Error {
        message: String,
    },
    /// A frame type this build does not know (a newer server): ignored, not an error.
    #[serde(skip_serializing)]
    Unknown,
}

tagged::deserialize_tagged!(ServerMsg);

impl Tagged for ServerMsg {
    const EXPECTING: &'static str = "a server message tagged by `type`";

    fn read<'de, D: Deserializer<'de>>(tag: &str, rest: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Pong {
            nonce: Value,
            #[serde(default)]
            instance: Option<String>,
            #[serde(default)]
            protocol: Option<String>,
        }
        #[derive(Deserialize)]
        struct ErrorMsg {
            message: String,
        }
        Ok(match tag {
            "event" => ServerMsg::Event(Envelope::deserialize(rest)?),
            "reset" => ServerMsg::Reset(ResetNotice::deserialize(rest)?),
            "pong" => {
                let Pong { nonce, instance, protocol } = Pong::deserialize(rest)?;
                ServerMsg::Pong { nonce, instance, protocol }
            }
            "error" => ServerMsg::Error { message: ErrorMsg::deserialize(rest)?.message },
            _ => {
                serde::de::IgnoredAny::deserialize(rest)?;
                ServerMsg::Unknown
            }
        })
    }
}

/// Close codes beyond the standard ones.
pub mod close {
    pub const GOING_AWAY: u16 = 1001;
    /// A text frame that is not UTF-8 (RFC 6455 §7.4.1).
    pub const INVALID_DATA: u16 = 1007;
    pub const TOO_BIG: u16 = 1009;
    pub const DROPPED: u16 = 1012;
    pub const TOO_SLOW: u16 = 4008;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ResetReason;
    use crate::event::{Event, NotificationKind};
    use serde_json::json;

    #[test]
    fn client_messages_match_the_wire() {
        let cases = [
            (
                json!({"type": "resume", "after": "k3f9q2-1041"}),
                ClientMsg::Resume { after: Some("k3f9q2-1041".into()) },
            ),
            (json!({"type": "resume"}), ClientMsg::Resume { after: None }),
            (
                json!({"type": "chat", "text": "hello", "from": "Ana"}),
                ClientMsg::Chat { text: "hello".into(), from: Some("Ana".into()) },
            ),
            (json!({"type": "ping", "nonce": "t-991"}), ClientMsg::Ping { nonce: json!("t-991") }),
            (json!({"type": "ping", "nonce": {"n": [1, 2]}}), ClientMsg::Ping { nonce: json!({"n": [1, 2]}) }),
        ];
        for (value, msg) in cases {
            assert_eq!(serde_json::from_value::<ClientMsg>(value.clone()).unwrap(), msg);
            assert_eq!(serde_json::to_value(&msg).unwrap(), value);
        }
        assert!(serde_json::from_str::<ClientMsg>(r#"{"type":"shout"}"#).is_err());
        // Found by the fuzzer: a nonce is echoed unchanged, floats included (float_roundtrip).
        let text = r#"{"type":"ping","nonce":{"n":[0,2,5.4444444444444454e+91,null]}}"#;
        let msg: ClientMsg = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&msg).unwrap(), text);
        assert!(serde_json::from_str::<ClientMsg>(r#"{"text":"no tag"}"#).is_err());
    }

    #[test]
    fn server_messages_match_the_wire() {
        let event = ServerMsg::Event(Envelope {
            id: "k3f9q2-1042".into(),
            seq: 1042,
            sent_at_us: 1_795_660_000_123_456,
            event: Event::Notification { kind: NotificationKind::Approval, text: "Invoice #88 needs approval".into() },
        });
        let cases = [
            (
                json!({"type": "event", "id": "k3f9q2-1042", "seq": 1042, "sent_at_us": 1795660000123456_i64,
                    "event": {"type": "notification", "kind": "approval", "text": "Invoice #88 needs approval"}}),
                event,
            ),
            (
                json!({"type": "reset", "reason": "expired", "missed": 3180, "cursor": "k3f9q2-14400"}),
                ServerMsg::Reset(ResetNotice {
                    reason: ResetReason::Expired,
                    missed: Some(3180),
                    cursor: "k3f9q2-14400".into(),
                }),
            ),
            (
                json!({"type": "pong", "nonce": "t-991"}),
                ServerMsg::Pong { nonce: json!("t-991"), instance: None, protocol: None },
            ),
            (
                json!({"type": "pong", "nonce": 7, "instance": "k3f9", "protocol": "h2"}),
                ServerMsg::Pong { nonce: json!(7), instance: Some("k3f9".into()), protocol: Some("h2".into()) },
            ),
            (
                json!({"type": "error", "message": "expected a JSON message tagged by type"}),
                ServerMsg::Error { message: "expected a JSON message tagged by type".into() },
            ),
        ];
        for (value, msg) in cases {
            assert_eq!(serde_json::to_value(&msg).unwrap(), value);
            assert_eq!(serde_json::from_value::<ServerMsg>(value).unwrap(), msg);
        }
    }
}
