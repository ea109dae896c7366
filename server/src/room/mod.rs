//! The room: each participant page's latest report, kept while it keeps
//! reporting, and the room-wide figures per transport built from them
//! (docs/PROTOCOL.md §6.7). Rates come from a client's consecutive reports.

pub mod api;
pub mod join;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pushlab::room::{MAX_PARTICIPANTS, ParticipantReport, RoomFigures, SILENT_S, median};
use pushlab::{PerTransport, Transport};

/// One report per second per client, at most.
const MIN_GAP: Duration = Duration::from_secs(1);

#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// This client reported less than a second ago.
    TooSoon,
    /// [`MAX_PARTICIPANTS`] are reporting and this client is not one of them.
    Full,
}

#[derive(Default)]
pub struct Room {
    clients: Mutex<HashMap<String, Participant>>,
    /// Where participants join ([`join::urls`]), fixed at start.
    pub join_urls: Vec<String>,
}

struct Participant {
    report: ParticipantReport,
    at: Instant,
    /// (requests/s, bytes/s) between its last two reports on the same transport.
    rates: Option<(f64, f64)>,
}

impl Room {
    pub fn new(join_urls: Vec<String>) -> Room {
        Room { clients: Mutex::default(), join_urls }
    }

    /// Takes a checked report (see [`ParticipantReport::check`]).
    pub fn report(&self, report: ParticipantReport, now: Instant) -> Result<(), Refused> {
        let mut clients = self.clients.lock().expect("room lock");
        forget_silent(&mut clients, now);
        if let Some(p) = clients.get_mut(&report.client) {
            let dt = now.duration_since(p.at);
            if dt < MIN_GAP {
                return Err(Refused::TooSoon);
            }
            p.rates = rates(&p.report, &report, dt);
            p.report = report;
            p.at = now;
            return Ok(());
        }
        if clients.len() >= MAX_PARTICIPANTS {
            return Err(Refused::Full);
        }
        clients.insert(report.client.clone(), Participant { report, at: now, rates: None });
        Ok(())
    }

    /// Participants reporting now, and each transport's figures over them.
    pub fn figures(&self, now: Instant) -> (u32, PerTransport<RoomFigures>) {
        let mut clients = self.clients.lock().expect("room lock");
        forget_silent(&mut clients, now);
        let figures = PerTransport::from_fn(|t| of_transport(clients.values().filter(|p| p.report.transport == t)));
        (clients.len() as u32, figures)
    }

    pub fn transport_of(&self, client: &str) -> Option<Transport> {
        self.clients.lock().expect("room lock").get(client).map(|p| p.report.transport)
    }
}

fn forget_silent(clients: &mut HashMap<String, Participant>, now: Instant) {
    clients.retain(|_, p| now.duration_since(p.at) < Duration::from_secs(SILENT_S));
}

/// Rates between two reports; none across a switch of transport or a
/// counter that went down (the page reopened its transport: a restart).
fn rates(before: &ParticipantReport, now: &ParticipantReport, dt: Duration) -> Option<(f64, f64)> {
    let restarted = before.transport != now.transport
        || before.counters().iter().zip(now.counters()).any(|((_, a), (_, b))| b < *a);
    let secs = dt.as_secs_f64();
    (!restarted && secs > 0.0)
        .then(|| ((now.requests - before.requests) as f64 / secs, (now.bytes - before.bytes) as f64 / secs))
}

fn of_transport<'a>(participants: impl Iterator<Item = &'a Participant>) -> RoomFigures {
    let mut f = RoomFigures::default();
    let mut p50s = Vec::new();
    for p in participants {
        let r = &p.report;
        f.participants += 1;
        p50s.extend(r.p50_ms);
        f.p99_worst_ms = match (f.p99_worst_ms, r.p99_ms) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if let Some((req, bytes)) = p.rates {
            f.requests_per_s += req;
            f.bytes_per_s += bytes;
        }
        f.reconnects += r.reconnects;
        f.gaps += r.gaps;
        f.dups += r.dups;
    }
    f.p50_median_ms = median(&mut p50s);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(client: &str, transport: Transport, requests: u64, bytes: u64, p50: f64, p99: f64) -> ParticipantReport {
        ParticipantReport {
            client: client.into(),
            transport,
            events: requests * 10,
            requests,
            empty: 0,
            bytes,
            p50_ms: Some(p50),
            p99_ms: Some(p99),
            reconnects: 1,
            gaps: 0,
            dups: 0,
        }
    }

    #[test]
    fn figures_per_transport_from_consecutive_reports() {
        let room = Room::default();
        let t0 = Instant::now();
        let s = Duration::from_secs;
        room.report(report("a", Transport::Poll, 10, 1000, 400.0, 900.0), t0).unwrap();
        room.report(report("b", Transport::Poll, 0, 0, 500.0, 950.0), t0).unwrap();
        room.report(report("c", Transport::Sse, 1, 100, 2.0, 8.0), t0).unwrap();
        let (n, f) = room.figures(t0);
        assert_eq!((n, f.poll.participants, f.sse.participants, f.ws.participants), (3, 2, 1, 0));
        assert_eq!((f.poll.p50_median_ms, f.poll.p99_worst_ms), (Some(450.0), Some(950.0)));
        assert_eq!(f.poll.requests_per_s, 0.0, "one report gives no rate");
        assert_eq!(f.ws.p50_median_ms, None);
        // Five seconds later: 5 more requests and 5,000 bytes from a, 10 and 1,000 from b.
        room.report(report("a", Transport::Poll, 15, 6000, 400.0, 900.0), t0 + s(5)).unwrap();
        room.report(report("b", Transport::Poll, 10, 1000, 500.0, 950.0), t0 + s(5)).unwrap();
        let (_, f) = room.figures(t0 + s(5));
        assert_eq!((f.poll.requests_per_s, f.poll.bytes_per_s), (3.0, 1200.0));
        assert_eq!(f.poll.reconnects, 2);
        // a reopened its transport (counters went down): no rate until its next report.
        room.report(report("a", Transport::Poll, 2, 100, 400.0, 900.0), t0 + s(10)).unwrap();
        let (_, f) = room.figures(t0 + s(10));
        assert_eq!(f.poll.requests_per_s, 2.0, "b's alone");
        // c switched to WebSocket: it moves, and its rate starts over.
        room.report(report("c", Transport::Ws, 1, 100, 1.0, 3.0), t0 + s(10)).unwrap();
        let (_, f) = room.figures(t0 + s(10));
        assert_eq!((f.sse.participants, f.ws.participants, f.ws.requests_per_s), (0, 1, 0.0));
        assert_eq!(room.transport_of("c"), Some(Transport::Ws));
    }

    #[test]
    fn one_report_a_second_silent_clients_leave_and_the_room_has_a_limit() {
        let room = Room::default();
        let t0 = Instant::now();
        room.report(report("a", Transport::Ws, 1, 1, 1.0, 1.0), t0).unwrap();
        let again = room.report(report("a", Transport::Ws, 2, 2, 1.0, 1.0), t0 + Duration::from_millis(500));
        assert_eq!(again, Err(Refused::TooSoon));
        assert_eq!(room.figures(t0 + Duration::from_secs(29)).0, 1);
        assert_eq!(room.figures(t0 + Duration::from_secs(30)).0, 0, "silent for 30 s: gone");
        for i in 0..MAX_PARTICIPANTS {
            room.report(report(&format!("c{i}"), Transport::Sse, 1, 1, 1.0, 1.0), t0).unwrap();
        }
        let full = room.report(report("late", Transport::Sse, 1, 1, 1.0, 1.0), t0);
        assert_eq!(full, Err(Refused::Full));
        assert!(room.report(report("c7", Transport::Sse, 2, 2, 1.0, 1.0), t0 + Duration::from_secs(1)).is_ok());
        assert!(room.report(report("late", Transport::Sse, 1, 1, 1.0, 1.0), t0 + Duration::from_secs(30)).is_ok());
    }
}
