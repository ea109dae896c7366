//! Many instances on one stream: what `/api/stats`, the WebSocket `pong` and
//! the SSE `hello` say about the instance that answered and its cluster.

use serde::{Deserialize, Serialize};

use crate::stats::PerTransport;

/// The response header naming the instance that answered.
pub const INSTANCE_HEADER: &str = "x-pushlab-instance";

/// The HTTP protocol a stream runs over, as ALPN and the browser's Resource
/// Timing (`nextHopProtocol`) name it: in the WebSocket `pong` and the SSE `hello`.
pub const HTTP_1_1: &str = "http/1.1";
pub const H2: &str = "h2";

/// Where published events go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrokerState {
    /// The embedded in-memory hub: one instance, no broker.
    #[default]
    Memory,
    /// Redis answers: publishing and following work.
    Up,
    /// Redis does not answer: open connections stay, publishing waits.
    Down,
}

/// One live instance of the cluster, from its heartbeat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstanceInfo {
    pub id: String,
    /// Whether it holds the simulator's lease.
    pub leader: bool,
    /// How old its last heartbeat is.
    pub age_ms: u64,
    /// Its open connections (held long polls, streams, sockets) per transport.
    pub connections: PerTransport<u64>,
}

/// The SSE `event: hello` body, sent once after `retry:` (a page cannot read a stream's headers).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    pub instance: String,
    /// `http/1.1` or `h2`: what this stream's connection speaks.
    pub protocol: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn broker_states_and_instances_on_the_wire() {
        assert_eq!(serde_json::to_value(BrokerState::Down).unwrap(), json!("down"));
        let i = InstanceInfo { id: "k3f9".into(), leader: true, age_ms: 412, connections: PerTransport::default() };
        let v = serde_json::to_value(&i).unwrap();
        assert_eq!(v["connections"], json!({"poll": 0, "long-poll": 0, "sse": 0, "ws": 0}));
        assert_eq!(serde_json::from_value::<InstanceInfo>(v).unwrap(), i);
        let h: Hello = serde_json::from_str(r#"{"instance":"k3f9","protocol":"h2"}"#).unwrap();
        assert_eq!(h, Hello { instance: "k3f9".into(), protocol: H2.into() });
    }
}
