//! Any bytes a server might send a client: a WebSocket frame or a poll
//! answer parses or fails cleanly, whatever the order of its fields (the
//! hand-written one-pass reader, `src/tagged.rs`); a parsed value serializes
//! and parses back equal; and the same object with its keys in another order
//! (a parsed tree writes them sorted) reads the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pushlab::{Event, PollResponse, ServerMsg};

fn has_unknown(msg: &ServerMsg) -> bool {
    matches!(msg, ServerMsg::Event(e) if e.event == Event::Unknown)
}

fuzz_target!(|data: &[u8]| {
    let msg = serde_json::from_slice::<ServerMsg>(data);
    if let Ok(tree) = serde_json::from_slice::<serde_json::Value>(data) {
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
