//! `?transport=sse&interval=2&projector=1`: what an instructor's link selects. Read from
//! the request on the server and from `location.search` in the browser, so
//! both render the same page.

use pushlab::Transport;

use crate::lab::DEFAULT_INTERVAL_S;

/// What a link selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    pub transport: Transport,
    /// Short-polling interval, seconds.
    pub interval: u32,
    /// Large type across the whole screen, the instructor's controls beside the figures.
    pub projector: bool,
}

impl Default for Link {
    fn default() -> Self {
        Link { transport: Transport::Sse, interval: DEFAULT_INTERVAL_S, projector: false }
    }
}

/// What a query string asks for; a missing or unreadable value falls back to
/// the default. Values are compared as written (the names need no
/// percent-escaping); a repeated key: the last readable value counts.
pub fn from_query(query: &str) -> Link {
    let mut link = Link::default();
    for (key, value) in query.trim_start_matches('?').split('&').filter_map(|kv| kv.split_once('=')) {
        match key {
            "transport" => link.transport = value.parse().unwrap_or(link.transport),
            "interval" => link.interval = value.parse().unwrap_or(link.interval),
            "projector" => link.projector = value == "1",
            _ => {}
        }
    }
    link
}

/// The query string that selects this state, for the address bar.
pub fn to_query(link: Link) -> String {
    let projector = if link.projector { "&projector=1" } else { "" };
    format!("?transport={}&interval={}{projector}", link.transport.as_str(), link.interval)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(transport: Transport, interval: u32) -> Link {
        Link { transport, interval, projector: false }
    }

    #[test]
    fn reads_every_value_in_any_order() {
        assert_eq!(from_query("?transport=ws&interval=5"), link(Transport::Ws, 5));
        assert_eq!(from_query("interval=7&transport=long-poll"), link(Transport::LongPoll, 7));
        assert_eq!(from_query("?utm=x&transport=poll"), link(Transport::Poll, DEFAULT_INTERVAL_S));
        assert!(from_query("?projector=1&transport=ws").projector);
    }

    #[test]
    fn falls_back_on_missing_or_bad_values() {
        assert_eq!(from_query(""), Link::default());
        assert_eq!(from_query("?transport=carrier-pigeon&interval=-3&projector=yes"), Link::default());
        assert_eq!(from_query("?transport&interval"), Link::default());
    }

    #[test]
    fn round_trips_every_transport() {
        for t in Transport::ALL {
            for projector in [false, true] {
                let l = Link { projector, ..link(t, 9) };
                assert_eq!(from_query(&to_query(l)), l);
            }
        }
    }
}
