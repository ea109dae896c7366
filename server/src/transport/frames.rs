//! Each event's frames, made once at publish (the hub calls [`encode`]) and
//! shared by every connection: the transports' framing lives here, not in
//! the hub.

use axum::extract::ws::Utf8Bytes;
use bytes::Bytes;
use pushlab::Envelope;

/// What the streaming transports write for one event.
#[derive(Debug)]
pub struct Frames {
    /// `id:` / `event:` / `data:` lines and the blank line that ends them.
    pub sse: Bytes,
    /// The WebSocket `event` message: the envelope's fields after `"type":"event"`.
    pub ws: Utf8Bytes,
}

/// Both frames from the envelope's one serialization: nothing is encoded twice.
pub fn encode(envelope: &Envelope, json: &str) -> Frames {
    let type_name = envelope.event.type_name();
    let mut sse = String::with_capacity(json.len() + envelope.id.len() + type_name.len() + 24);
    for part in ["id: ", &envelope.id, "\nevent: ", type_name, "\ndata: ", json, "\n\n"] {
        sse.push_str(part);
    }
    // `ServerMsg::Event` is the envelope flattened behind its tag: splice, do not re-encode.
    let fields = json.strip_prefix('{').unwrap_or(json);
    let ws = format!("{{\"type\":\"event\",{fields}");
    Frames { sse: Bytes::from(sse), ws: Utf8Bytes::from(ws) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pushlab::{Event, ServerMsg};

    #[test]
    fn frames_are_the_wire_shapes() {
        let envelope = Envelope {
            id: "rs-2".into(),
            seq: 2,
            sent_at_us: 7,
            event: Event::CounterUpdate { name: "n".into(), value: 1 },
        };
        let json = serde_json::to_string(&envelope).unwrap();
        let f = encode(&envelope, &json);
        assert_eq!(std::str::from_utf8(&f.sse).unwrap(), format!("id: rs-2\nevent: counter:update\ndata: {json}\n\n"));
        assert_eq!(
            f.ws.as_str(),
            serde_json::to_string(&ServerMsg::Event(envelope)).unwrap(),
            "the spliced frame is serde's"
        );
    }
}
