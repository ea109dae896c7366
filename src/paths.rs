//! The endpoints' paths, relative to the server's origin (docs/PROTOCOL.md §1).

use crate::transport::Transport;

/// `GET`: short polling (§4.1).
pub const POLL: &str = "/api/poll";
/// `GET`: long polling (§4.2).
pub const LONG_POLL: &str = "/api/long-poll";
/// `GET`: Server-Sent Events (§4.3).
pub const SSE: &str = "/api/sse";
/// `GET` (upgrade): WebSocket (§4.4).
pub const WS: &str = "/api/ws";
/// `POST`: a chat message (§5).
pub const MESSAGES: &str = "/api/messages";
/// `GET`: the server clock (§6.1).
pub const TIME: &str = "/api/time";
/// `GET`: the server's counters (§6.2).
pub const STATS: &str = "/api/stats";
/// `POST`, `GET`: the instructor's actions, with a bearer token (§6.3).
pub const CONTROL: &str = "/api/control";
/// `POST`: a participant page's figures (§6.7).
pub const REPORT: &str = "/api/report";
/// `GET`: the room-wide figures (§6.7).
pub const ROOM: &str = "/api/room";
/// The projector's view of the whole room.
pub const ROOM_PAGE: &str = "/room";
/// `GET`: the counters in Prometheus text format (§6.4).
pub const METRICS: &str = "/metrics";

/// Where transport `t` is opened or polled.
pub fn of(t: Transport) -> &'static str {
    match t {
        Transport::Poll => POLL,
        Transport::LongPoll => LONG_POLL,
        Transport::Sse => SSE,
        Transport::Ws => WS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_transport_has_its_own_path_under_api() {
        let paths = Transport::ALL.map(of);
        for (i, p) in paths.iter().enumerate() {
            assert!(p.starts_with("/api/") && p.ends_with(Transport::ALL[i].as_str()), "{p}");
            assert!(!paths[..i].contains(p), "{p} twice");
        }
    }
}
