//! What a measured row would cost N users at R events/s: the server's
//! requests/s, bytes/s out, connections held and egress per month, scaled
//! from the row's own per-event and per-request figures. TLS, proxies and
//! compression are left out.

use pushlab::Transport;

use crate::model::comparison::Row;

/// Seconds in the month the egress is projected over (30 days).
pub const MONTH_S: f64 = 30.0 * 86_400.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Projection {
    /// HTTP requests per second reaching the server.
    pub requests_per_s: f64,
    /// Bytes per second the server sends (responses and frames).
    pub bytes_per_s: f64,
    /// The bytes include HTTP headers (the row measured wire bytes); else payload only.
    pub wire: bool,
    /// Connections open at once.
    pub connections: f64,
    /// Egress per 30 days, in GB (10⁹ bytes).
    pub gb_per_month: f64,
}

/// Per user, from the row's figures:
///
/// - requests/s: short polling's measured requests per interval (requests ÷
///   (time + one interval), so k polls in (k − 1) intervals read one per
///   interval); long polling R × its requests per event; a stream its
///   measured reconnects per second (its one open is not a rate).
/// - bytes/s: requests/s × the headers per request (wire − payload, where the
///   browser reported wire bytes) + R × payload per event.
/// - connections: one each (a stream, a held long poll, or short polling's
///   kept-alive socket).
///
/// `None` when the row has no event to take a per-event cost from.
pub fn project(row: &Row, users: f64, rate_per_s: f64) -> Option<Projection> {
    if row.events == 0 || !(users >= 0.0 && rate_per_s >= 0.0) {
        return None;
    }
    let events = row.events as f64;
    let requests = row.requests as f64;
    let duration_s = row.duration_s;
    let per_s = |n: f64| if duration_s > 0.0 { n / duration_s } else { 0.0 };
    let requests_per_s = match row.kind {
        Transport::Poll => match row.interval_s.map(f64::from) {
            Some(i) if i > 0.0 => requests / (duration_s + i),
            _ => per_s(requests),
        },
        Transport::LongPoll => rate_per_s * requests / events,
        Transport::Sse | Transport::Ws => per_s(row.reconnects as f64),
    };
    let wire = row.wire_bytes > 0 && requests > 0.0;
    let headers_per_request =
        if wire { row.wire_bytes.saturating_sub(row.payload_bytes) as f64 / requests } else { 0.0 };
    let bytes_per_s = requests_per_s * headers_per_request + rate_per_s * row.payload_bytes as f64 / events;
    Some(Projection {
        requests_per_s: users * requests_per_s,
        bytes_per_s: users * bytes_per_s,
        wire,
        connections: users,
        gb_per_month: users * bytes_per_s * MONTH_S / 1e9,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: Transport, events: u64, requests: u64, payload: u64, wire: u64, duration_s: f64) -> Row {
        Row {
            transport: kind.as_str(),
            kind,
            current: true,
            rate_per_s: Some(20.0),
            interval_s: (kind == Transport::Poll).then_some(2),
            delay_ms: Some(0),
            duration_s,
            epoch: None,
            events,
            requests,
            empty_responses: 0,
            connections: 1,
            reconnects: 0,
            payload_bytes: payload,
            wire_bytes: wire,
            events_per_request: None,
            bytes_per_event: None,
            wire_bytes_per_event: None,
            p50_ms: None,
            p95_ms: None,
            p99_ms: None,
            max_ms: None,
        }
    }

    fn near(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn short_polling_costs_one_request_per_interval_whatever_the_rate() {
        // 25 polls in 48 s at 2 s, 960 events at 20/s: 200 B of headers each, 250 B per event.
        let r = row(Transport::Poll, 960, 25, 240_000, 245_000, 48.0);
        let p = project(&r, 1000.0, 20.0).unwrap();
        assert!(near(p.requests_per_s, 500.0), "{p:?}");
        assert!(near(p.bytes_per_s, 1000.0 * (0.5 * 200.0 + 20.0 * 250.0)), "{p:?}");
        assert!(p.wire && near(p.connections, 1000.0));
        assert!(near(p.gb_per_month, p.bytes_per_s * 2_592_000.0 / 1e9));
        let slower = project(&r, 1000.0, 2.0).unwrap();
        assert!(near(slower.requests_per_s, 500.0) && slower.bytes_per_s < p.bytes_per_s);
        let twice = project(&r, 2000.0, 20.0).unwrap();
        assert!(near(twice.bytes_per_s, 2.0 * p.bytes_per_s) && near(twice.gb_per_month, 2.0 * p.gb_per_month));
    }

    #[test]
    fn long_polling_costs_its_requests_per_event() {
        // One request per event at this rate, 300 B of headers on 100 B of payload.
        let r = row(Transport::LongPoll, 100, 100, 10_000, 40_000, 10.0);
        let p = project(&r, 10.0, 10.0).unwrap();
        assert!(near(p.requests_per_s, 100.0) && near(p.bytes_per_s, 10.0 * (10.0 * 300.0 + 10.0 * 100.0)), "{p:?}");
    }

    #[test]
    fn a_stream_costs_payload_per_event_and_its_reconnects() {
        let mut r = row(Transport::Ws, 1000, 1, 150_000, 0, 50.0);
        let p = project(&r, 1000.0, 20.0).unwrap();
        assert_eq!(p.requests_per_s, 0.0, "its one open is not a rate");
        assert!(near(p.bytes_per_s, 1000.0 * 20.0 * 150.0) && !p.wire, "{p:?}");
        r.reconnects = 1;
        assert!(near(project(&r, 1000.0, 20.0).unwrap().requests_per_s, 20.0));
        // Without wire bytes an HTTP row falls back to payload, and says so.
        let lp = row(Transport::LongPoll, 10, 10, 1000, 0, 5.0);
        assert!(!project(&lp, 1.0, 1.0).unwrap().wire);
    }

    #[test]
    fn nothing_to_project_without_an_event() {
        assert_eq!(project(&row(Transport::Sse, 0, 1, 0, 0, 3.0), 1000.0, 20.0), None);
        assert_eq!(project(&row(Transport::Sse, 5, 1, 500, 0, 3.0), f64::NAN, 20.0), None);
    }
}
