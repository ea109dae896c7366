//! `?transport=sse&interval=2`: what an instructor's link selects. Read from
//! the request on the server and from `location.search` in the browser, so
//! both render the same page.

use pushlab::Transport;

use crate::lab::DEFAULT_INTERVAL_S;

/// The transport and short-polling interval a query string asks for; a
/// missing or unreadable value falls back to SSE and the default interval.
/// Values are compared as written (the names need no percent-escaping); a
/// repeated key: the last readable value counts.
pub fn from_query(query: &str) -> (Transport, u32) {
    let mut transport = Transport::Sse;
    let mut interval = DEFAULT_INTERVAL_S;
    for (key, value) in query.trim_start_matches('?').split('&').filter_map(|kv| kv.split_once('=')) {
        match key {
            "transport" => transport = value.parse().unwrap_or(transport),
            "interval" => interval = value.parse().unwrap_or(interval),
            _ => {}
        }
    }
    (transport, interval)
}

/// The query string that selects this state, for the address bar.
pub fn to_query(transport: Transport, interval_s: u32) -> String {
    format!("?transport={}&interval={interval_s}", transport.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_values_in_any_order() {
        assert_eq!(from_query("?transport=ws&interval=5"), (Transport::Ws, 5));
        assert_eq!(from_query("interval=7&transport=long-poll"), (Transport::LongPoll, 7));
        assert_eq!(from_query("?utm=x&transport=poll"), (Transport::Poll, DEFAULT_INTERVAL_S));
    }

    #[test]
    fn falls_back_on_missing_or_bad_values() {
        assert_eq!(from_query(""), (Transport::Sse, DEFAULT_INTERVAL_S));
        assert_eq!(from_query("?transport=carrier-pigeon&interval=-3"), (Transport::Sse, DEFAULT_INTERVAL_S));
        assert_eq!(from_query("?transport&interval"), (Transport::Sse, DEFAULT_INTERVAL_S));
    }

    #[test]
    fn round_trips_every_transport() {
        for t in Transport::ALL {
            assert_eq!(from_query(&to_query(t, 9)), (t, 9));
        }
    }
}
