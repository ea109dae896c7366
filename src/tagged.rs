//! Reading objects tagged by `type` (control actions: by `action`) in one pass.
//!
//! serde's derive for internally tagged enums first copies the whole object
//! into an intermediate tree, then reads the variant from that tree, so every
//! field type is compiled twice over: about 25 KB of the WASM dashboard.
//! pushlab servers write `type` first, so the rest of the object can be read
//! straight into the variant. Any other order (JSON objects are unordered) is
//! put back in that order and read again: slower, still right. A repeated
//! `type` key: the first one counts, in either case.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeOwned, Deserializer, Error, MapAccess, Visitor};
use serde_json::Value;

/// A type read from an object tagged by one of its keys.
pub(crate) trait Tagged: DeserializeOwned {
    /// The tag's key.
    const TAG: &'static str = "type";
    /// What the error message says was expected.
    const EXPECTING: &'static str;

    /// The value for `tag`, from the object's other fields in `rest`.
    fn read<'de, D: Deserializer<'de>>(tag: &str, rest: D) -> Result<Self, D::Error>;
}

/// `Deserialize` for [`Tagged`] types (a blanket impl over a foreign trait
/// is not allowed).
macro_rules! deserialize_tagged {
    ($($t:ty),+) => {$(
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::tagged::deserialize(deserializer)
            }
        }
    )+};
}
pub(crate) use deserialize_tagged;

/// `Deserialize::deserialize` for a [`Tagged`] type.
pub(crate) fn deserialize<'de, D: Deserializer<'de>, T: Tagged>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_map(TaggedVisitor(PhantomData))
}

struct TaggedVisitor<T>(PhantomData<T>);

impl<'de, T: Tagged> Visitor<'de> for TaggedVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let Some(first) = map.next_key::<String>()? else {
            return Err(A::Error::missing_field(T::TAG));
        };
        if first == T::TAG {
            let tag: String = map.next_value()?;
            return T::read(&tag, MapAccessDeserializer::new(map));
        }
        let mut fields = vec![(first, map.next_value::<Value>()?)];
        while let Some(field) = map.next_entry::<String, Value>()? {
            fields.push(field);
        }
        let Some(at) = fields.iter().position(|(key, _)| key == T::TAG) else {
            return Err(A::Error::missing_field(T::TAG));
        };
        let tag = fields.remove(at);
        let members: Vec<String> =
            std::iter::once(tag).chain(fields).map(|(key, value)| format!("{}:{value}", Value::String(key))).collect();
        let json = format!("{{{}}}", members.join(","));
        // The position in an error would point into the rebuilt text: drop it,
        // so the outer reader reports its own.
        serde_json::from_str(&json).map_err(|e| {
            let message = e.to_string();
            let at = format!(" at line {} column {}", e.line(), e.column());
            A::Error::custom(message.strip_suffix(&at).unwrap_or(&message))
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::api::{PollResponse, ResetNotice, ResetReason};
    use crate::event::{Envelope, Event, NotificationKind};
    use crate::ws::ServerMsg;

    fn note() -> Event {
        Event::Notification { kind: NotificationKind::Mention, text: "hi".into() }
    }

    #[test]
    fn the_tag_may_come_anywhere() {
        for text in [
            r#"{"type":"notification","kind":"mention","text":"hi"}"#,
            r#"{"kind":"mention","type":"notification","text":"hi"}"#,
            r#"{"kind":"mention","text":"hi","type":"notification"}"#,
        ] {
            assert_eq!(serde_json::from_str::<Event>(text).unwrap(), note(), "{text}");
        }
        let frame = r#"{"seq":7,"event":{"text":"hi","kind":"mention","type":"notification"},"id":"a-7","sent_at_us":1,"type":"event"}"#;
        let want = ServerMsg::Event(Envelope { id: "a-7".into(), seq: 7, sent_at_us: 1, event: note() });
        assert_eq!(serde_json::from_str::<ServerMsg>(frame).unwrap(), want);
        let value: serde_json::Value = serde_json::from_str(frame).unwrap();
        assert_eq!(serde_json::from_value::<ServerMsg>(value).unwrap(), want, "from a parsed tree too");
        let reset = r#"{"cursor":"a-9","missed":null,"reason":"epoch","type":"reset"}"#;
        let want = ResetNotice { reason: ResetReason::Epoch, missed: None, cursor: "a-9".into() };
        assert_eq!(serde_json::from_str::<ServerMsg>(reset).unwrap(), ServerMsg::Reset(want));
    }

    #[test]
    fn unknown_event_types_are_skipped_whole_and_extra_fields_ignored() {
        let body = r#"{"events":[
            {"id":"a-1","seq":1,"sent_at_us":1,"event":{"type":"poll:vote","options":[{"a":[1,{"b":null}]}],"n":2.5}},
            {"id":"a-2","seq":2,"sent_at_us":1,"event":{"type":"notification","kind":"mention","text":"hi","extra":{"x":1}}},
            {"id":"a-3","seq":3,"sent_at_us":1,"event":{"n":1,"type":"later"}}
        ],"reset":false,"cursor":"a-3","more":false}"#;
        let answer: PollResponse = serde_json::from_str(body).unwrap();
        let events: Vec<Event> = answer.events.into_iter().map(|e| e.event).collect();
        assert_eq!(events, [Event::Unknown, note(), Event::Unknown]);
    }

    #[test]
    fn malformed_objects_are_clear_errors() {
        let err = |text: &str| serde_json::from_str::<Event>(text).unwrap_err().to_string();
        assert!(err(r#"{"kind":"mention","text":"hi"}"#).contains("missing field `type`"));
        assert!(err(r#"{}"#).contains("missing field `type`"));
        assert!(err(r#"{"type":"notification","kind":"mention"}"#).contains("missing field `text`"));
        assert!(err(r#"{"type":"counter:update","name":"n","value":"many"}"#).contains("invalid type"));
        assert!(err(r#"{"type":7}"#).contains("invalid type"));
        assert!(err(r#"{"value":1,"type":7}"#).contains("invalid type"));
        assert!(err(r#"["notification"]"#).contains("an event object tagged by `type`"));
        // A newer server's frame type is skipped, not an error (docs/PROTOCOL.md §4.4).
        assert_eq!(serde_json::from_str::<ServerMsg>(r#"{"type":"shout","x":[1]}"#).unwrap(), ServerMsg::Unknown);
        let err = serde_json::from_str::<ServerMsg>(r#"{"type":"pong"}"#).unwrap_err().to_string();
        assert!(err.contains("missing field `nonce`"), "{err}");
    }

    #[test]
    fn poll_answers_read_their_reset_fields_leniently() {
        let read = |extra: serde_json::Value| {
            let mut body = json!({"events": [], "reset": true, "cursor": "a-1", "more": false});
            body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            let answer: PollResponse = serde_json::from_str(&body.to_string()).unwrap();
            answer.reset_info.map(|i| (i.reason, i.missed))
        };
        assert_eq!(read(json!({"reason": "expired", "missed": 3180})), Some((ResetReason::Expired, Some(3180))));
        assert_eq!(read(json!({"reason": "epoch", "missed": null})), Some((ResetReason::Epoch, None)));
        assert_eq!(read(json!({"reason": "expired"})), Some((ResetReason::Expired, None)));
        assert_eq!(read(json!({"reason": "expired", "missed": "many"})), Some((ResetReason::Expired, None)));
        assert_eq!(read(json!({"reason": "overflow", "missed": 2})), None, "an unknown reason: events still read");
        assert_eq!(read(json!({"reset": false, "reason": "epoch"})), None, "no reset without reset: true");
        assert_eq!(read(json!({"reset": false})), None);
    }

    #[test]
    fn the_wire_examples_read_in_one_pass() {
        // Written as a pushlab server writes them: `type` first (docs/PROTOCOL.md §2, §4.4).
        let events = [
            r#"{"type":"notification","kind":"mention","text":"Ana mentioned you in #billing"}"#,
            r#"{"type":"job:update","job_id":"job-17","name":"Export invoices","progress":40,"state":"running"}"#,
            r#"{"type":"counter:update","name":"active_users","value":128}"#,
            r#"{"type":"chat:message","from":"guest-7QX2","text":"hello"}"#,
            r#"{"type":"presence","counts":{"poll":3,"long-poll":2,"sse":11,"ws":9}}"#,
        ];
        for text in events {
            let event: Event = serde_json::from_str(text).unwrap();
            assert_ne!(event, Event::Unknown);
            assert_eq!(serde_json::to_string(&event).unwrap(), text, "reads what it writes");
        }
        let frames = [
            r#"{"type":"event","id":"k3f9q2-1042","seq":1042,"sent_at_us":1795660000123456,"event":{"type":"counter:update","name":"active_users","value":128}}"#,
            r#"{"type":"reset","reason":"expired","missed":3180,"cursor":"k3f9q2-14400"}"#,
            r#"{"type":"pong","nonce":"t-991"}"#,
            r#"{"type":"error","message":"expected a JSON message tagged by type"}"#,
        ];
        for text in frames {
            let msg: ServerMsg = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&msg).unwrap(), text, "reads what it writes");
        }
    }

    #[test]
    fn a_repeated_tag_counts_once_the_first_one() {
        let first = r#"{"type":"pong","nonce":1,"message":"m","type":"error"}"#;
        assert_eq!(
            serde_json::from_str::<ServerMsg>(first).unwrap(),
            ServerMsg::Pong { nonce: json!(1), instance: None, protocol: None }
        );
        let later = r#"{"nonce":1,"type":"pong","message":"m","type":"error"}"#;
        assert_eq!(
            serde_json::from_str::<ServerMsg>(later).unwrap(),
            ServerMsg::Pong { nonce: json!(1), instance: None, protocol: None }
        );
    }

    #[test]
    fn errors_point_into_the_text_as_sent() {
        let text = "{\n\"value\": \"many\",\n\"name\": \"n\",\n\"type\": \"counter:update\"\n}";
        let err = serde_json::from_str::<Event>(text).unwrap_err();
        assert_eq!(err.line(), 5, "{err}");
        assert!(err.to_string().starts_with("invalid type: string \"many\", expected i64"), "{err}");
    }
}
