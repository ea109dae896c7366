//! Any bytes a WebSocket client might send: they parse to a message or fail
//! cleanly; a parsed message serializes, parses back, and serializes the same
//! (compared as text: a float nonce may be normalized once by the first trip).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pushlab::{ClientMsg, Cursor};

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = serde_json::from_slice::<ClientMsg>(data) else { return };
    let json = serde_json::to_string(&msg).expect("a parsed message serializes");
    let again: ClientMsg = serde_json::from_str(&json).expect("and parses back");
    assert_eq!(serde_json::to_string(&again).expect("serializes"), json);
    if let ClientMsg::Resume { after: Some(after) } = &msg {
        let _ = after.parse::<Cursor>();
    }
});
