//! The four ways a server can push, named as on the wire.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Transport {
    #[serde(rename = "poll")]
    Poll,
    #[serde(rename = "long-poll")]
    LongPoll,
    #[serde(rename = "sse")]
    Sse,
    #[serde(rename = "ws")]
    Ws,
}

impl Transport {
    pub const ALL: [Transport; 4] = [Transport::Poll, Transport::LongPoll, Transport::Sse, Transport::Ws];

    /// The wire name (`poll`, `long-poll`, `sse`, `ws`).
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Poll => "poll",
            Transport::LongPoll => "long-poll",
            Transport::Sse => "sse",
            Transport::Ws => "ws",
        }
    }

    /// The name people use for it.
    pub fn label(self) -> &'static str {
        match self {
            Transport::Poll => "Short polling",
            Transport::LongPoll => "Long polling",
            Transport::Sse => "Server-Sent Events",
            Transport::Ws => "WebSocket",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// Keeps an HTTP connection while it waits (an SSE stream, a held long
    /// poll): each spends one of the browser's six per origin over HTTP/1.1.
    /// WebSockets live outside that pool.
    pub fn holds_http_connection(self) -> bool {
        matches!(self, Transport::LongPoll | Transport::Sse)
    }

    /// One request carries many events (SSE, WebSocket); polling asks once per answer.
    pub fn is_stream(self) -> bool {
        matches!(self, Transport::Sse | Transport::Ws)
    }

    /// The server holds a connection open for it (a held poll, a stream, a socket):
    /// what the instructor can drop. Spelled out, so a new transport must answer.
    pub fn is_held(self) -> bool {
        match self {
            Transport::Poll => false,
            Transport::LongPoll | Transport::Sse | Transport::Ws => true,
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown transport {0:?}: expected poll, long-poll, sse or ws")]
pub struct UnknownTransport(pub String);

impl FromStr for Transport {
    type Err = UnknownTransport;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Transport::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| UnknownTransport(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde_and_from_str() {
        for t in Transport::ALL {
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            assert_eq!(serde_json::from_str::<Transport>(&json).unwrap(), t);
            assert_eq!(t.as_str().parse::<Transport>().unwrap(), t);
        }
        assert!("longpoll".parse::<Transport>().is_err());
    }
}
