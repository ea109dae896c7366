//! Any bytes a server might send a client: a WebSocket frame or a poll
//! answer parses or fails cleanly, whatever the order of its fields (the
//! hand-written one-pass reader, `src/tagged.rs`); a parsed value serializes
//! and parses back equal; and the same object with its keys in another order
//! (a parsed tree writes them sorted) reads the same — unless a key repeats,
//! where the reader keeps the first `type` and a parsed tree the last value.
#![no_main]

use std::collections::HashSet;
use std::fmt;

use libfuzzer_sys::fuzz_target;
use pushlab::{Event, PollResponse, ServerMsg};
use serde::de::{Deserialize, Deserializer, Error, MapAccess, SeqAccess, Visitor};

/// JSON in which no object repeats a key.
struct UniqueKeys;

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueKeys)
    }
}

impl<'de> Visitor<'de> for UniqueKeys {
    type Value = UniqueKeys;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self, A::Error> {
        let mut keys = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !keys.insert(key) {
                return Err(A::Error::custom("repeated key"));
            }
            map.next_value::<UniqueKeys>()?;
        }
        Ok(UniqueKeys)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<UniqueKeys>()?.is_some() {}
        Ok(UniqueKeys)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self, E> {
        Ok(UniqueKeys)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self, E> {
        Ok(UniqueKeys)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self, E> {
        Ok(UniqueKeys)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self, E> {
        Ok(UniqueKeys)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self, E> {
        Ok(UniqueKeys)
    }
    fn visit_unit<E>(self) -> Result<Self, E> {
        Ok(UniqueKeys)
    }
}

fn has_unknown(msg: &ServerMsg) -> bool {
    matches!(msg, ServerMsg::Unknown) || matches!(msg, ServerMsg::Event(e) if e.event == Event::Unknown)
}

fuzz_target!(|data: &[u8]| {
    let msg = serde_json::from_slice::<ServerMsg>(data);
    if let Ok(tree) = serde_json::from_slice::<serde_json::Value>(data)
        && serde_json::from_slice::<UniqueKeys>(data).is_ok()
    {
        if let (Ok(a), Ok(b)) = (&msg, serde_json::from_str::<ServerMsg>(&tree.to_string())) {
            assert_eq!(*a, b, "field order changed the reading");
        }
    }
    if let Ok(msg) = msg
        && !has_unknown(&msg)
    {
        let json = serde_json::to_string(&msg).expect("a parsed message serializes");
        assert_eq!(serde_json::from_str::<ServerMsg>(&json).expect("and parses back"), msg);
    }
    if let Ok(answer) = serde_json::from_slice::<PollResponse>(data)
        && answer.events.iter().all(|e| e.event != Event::Unknown)
    {
        let json = serde_json::to_string(&answer).expect("a parsed answer serializes");
        assert_eq!(serde_json::from_str::<PollResponse>(&json).expect("and parses back"), answer);
    }
});
