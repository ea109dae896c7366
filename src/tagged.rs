//! Reading objects tagged by `type` in one pass.
//!
//! serde's derive for internally tagged enums first copies the whole object
//! into an intermediate tree, then reads the variant from that tree, so every
//! field type is compiled twice over: about 25 KB of the WASM dashboard.
//! pushlab servers write `type` first, so the rest of the object can be read
//! straight into the variant. Any other order (JSON objects are unordered) is
//! put back in that order and read again: slower, still right.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeOwned, Deserializer, Error, MapAccess, Visitor};
use serde_json::Value;

/// The tag's key.
const TAG: &str = "type";

/// A type read from an object tagged by `type`.
pub(crate) trait Tagged: DeserializeOwned {
    /// What the error message says was expected.
    const EXPECTING: &'static str;

    /// The value for `tag`, from the object's other fields in `rest`.
    fn read<'de, D: Deserializer<'de>>(tag: &str, rest: D) -> Result<Self, D::Error>;
}

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
            return Err(A::Error::missing_field(TAG));
        };
        if first == TAG {
            let tag: String = map.next_value()?;
            return T::read(&tag, MapAccessDeserializer::new(map));
        }
        let mut fields = vec![(first, map.next_value::<Value>()?)];
        while let Some(field) = map.next_entry::<String, Value>()? {
            fields.push(field);
        }
        let Some(at) = fields.iter().position(|(key, _)| key == TAG) else {
            return Err(A::Error::missing_field(TAG));
        };
        let tag = fields.remove(at);
        let mut json = String::from("{");
        for (i, (key, value)) in std::iter::once(tag).chain(fields).enumerate() {
            if i > 0 {
                json.push(',');
            }
            json.push_str(&Value::String(key).to_string());
            json.push(':');
            json.push_str(&value.to_string());
        }
        json.push('}');
        serde_json::from_str(&json).map_err(A::Error::custom)
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
        let err = serde_json::from_str::<ServerMsg>(r#"{"type":"shout"}"#).unwrap_err().to_string();
        assert!(err.contains("unknown variant `shout`"), "{err}");
    }

    #[test]
    fn poll_answers_read_their_reset_fields() {
        let answer: PollResponse = serde_json::from_value(
            json!({"events": [], "reset": true, "reason": "expired", "cursor": "a-1", "more": true}),
        )
        .unwrap();
        let info = answer.reset_info.unwrap();
        assert_eq!((info.reason, info.missed), (ResetReason::Expired, None));
        let answer: PollResponse =
            serde_json::from_value(json!({"events": [], "reset": false, "cursor": "a-1", "more": false})).unwrap();
        assert!(answer.reset_info.is_none());
    }
}
