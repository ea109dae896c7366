//! Per-transport counters, connection limits and who is here.
//!
//! Counters are atomics bumped on the hot path; the once-a-second presence
//! task (see [`crate::presence`]) turns them into rates and presence events.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pushlab::{PerTransport, PresenceCounts, Transport, TransportCounters};

use crate::error::ApiError;

/// How long a poller counts as present after its last request.
pub const POLLER_TTL: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Stats {
    inner: Arc<Inner>,
}

struct Inner {
    per: PerTransport<Counters>,
    max_connections: u64,
    /// Pollers by their `client` id: when each was last seen. Pruned every second.
    seen: Mutex<HashMap<(Transport, Box<str>), Instant>>,
    /// Rates over the last 5 s, written by the presence task.
    rates: Mutex<Rates>,
    started: Instant,
    sockets_open: AtomicU64,
    sockets_refused: AtomicU64,
}

#[derive(Default)]
struct Counters {
    open: AtomicU64,
    connections: AtomicU64,
    requests: AtomicU64,
    empty: AtomicU64,
    events: AtomicU64,
    bytes: AtomicU64,
    cut_off: AtomicU64,
}

#[derive(Clone, Copy, Default, Debug)]
pub struct Rates {
    pub events_per_s: f64,
    pub requests_per_s: f64,
}

/// An accepted socket; it stops counting when dropped.
pub struct SocketGuard {
    stats: Stats,
}

impl Drop for SocketGuard {
    fn drop(&mut self) {
        self.stats.inner.sockets_open.fetch_sub(1, Relaxed);
    }
}

/// An open connection; it stops counting when dropped.
pub struct ConnGuard {
    stats: Stats,
    transport: Transport,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.stats.c(self.transport).open.fetch_sub(1, Relaxed);
    }
}

impl Stats {
    pub fn new(max_connections: u32) -> Self {
        Stats {
            inner: Arc::new(Inner {
                per: PerTransport::default(),
                max_connections: max_connections.into(),
                seen: Mutex::default(),
                rates: Mutex::default(),
                started: Instant::now(),
                sockets_open: AtomicU64::new(0),
                sockets_refused: AtomicU64::new(0),
            }),
        }
    }

    fn c(&self, t: Transport) -> &Counters {
        self.inner.per.get(t)
    }

    pub fn request(&self, t: Transport) {
        self.c(t).requests.fetch_add(1, Relaxed);
    }

    pub fn empty(&self, t: Transport) {
        self.c(t).empty.fetch_add(1, Relaxed);
    }

    pub fn delivered(&self, t: Transport, events: u64, bytes: u64) {
        let c = self.c(t);
        c.events.fetch_add(events, Relaxed);
        c.bytes.fetch_add(bytes, Relaxed);
    }

    pub fn bytes(&self, t: Transport, bytes: u64) {
        self.c(t).bytes.fetch_add(bytes, Relaxed);
    }

    /// A stream or socket that did not take a write within the slow-consumer limit.
    pub fn cut_off(&self, t: Transport) {
        self.c(t).cut_off.fetch_add(1, Relaxed);
    }

    /// A socket accepted; it stops counting when the returned guard drops.
    pub fn socket(&self) -> SocketGuard {
        self.inner.sockets_open.fetch_add(1, Relaxed);
        SocketGuard { stats: self.clone() }
    }

    pub fn socket_refused(&self) {
        self.inner.sockets_refused.fetch_add(1, Relaxed);
    }

    /// Sockets open now, and refused past `--max-sockets` since start.
    pub fn sockets(&self) -> (u64, u64) {
        (self.inner.sockets_open.load(Relaxed), self.inner.sockets_refused.load(Relaxed))
    }

    /// Counts a new connection, or refuses it past `--max-connections`.
    pub fn open(&self, t: Transport) -> Result<ConnGuard, ApiError> {
        let c = self.c(t);
        let before = c.open.fetch_add(1, Relaxed);
        if before >= self.inner.max_connections {
            c.open.fetch_sub(1, Relaxed);
            return Err(ApiError::Busy(t.as_str()));
        }
        c.connections.fetch_add(1, Relaxed);
        Ok(ConnGuard { stats: self.clone(), transport: t })
    }

    /// Notes a poller's `client` id for presence. A page is on one transport at
    /// a time: its id seen on another is forgotten, so a switch is not counted
    /// twice for 10 s.
    pub fn seen(&self, t: Transport, client: &str) {
        self.left(client, Some(t));
        let mut seen = self.inner.seen.lock().unwrap_or_else(|e| e.into_inner());
        match seen.get_mut(&(t, client.into())) {
            Some(at) => *at = Instant::now(),
            None => {
                seen.insert((t, client.into()), Instant::now());
            }
        }
    }

    /// A page that opened a stream or socket (or polls on `except`) no longer polls on the others.
    pub fn left(&self, client: &str, except: Option<Transport>) {
        let mut seen = self.inner.seen.lock().unwrap_or_else(|e| e.into_inner());
        // Pollers are known by their ids; streams and sockets by their connections.
        for t in Transport::ALL.into_iter().filter(|t| !t.is_stream() && Some(*t) != except) {
            seen.remove(&(t, client.into()));
        }
    }

    /// Who is here: pollers seen lately, and open streams and sockets.
    pub fn presence(&self) -> PresenceCounts {
        let mut seen = self.inner.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.retain(|_, at| at.elapsed() < POLLER_TTL);
        let pollers = |t| seen.keys().filter(|(k, _)| *k == t).count() as u32;
        let open = |t| self.c(t).open.load(Relaxed) as u32;
        PresenceCounts {
            poll: pollers(Transport::Poll),
            // A held long poll without a client id still counts as one.
            long_poll: pollers(Transport::LongPoll).max(open(Transport::LongPoll)),
            sse: open(Transport::Sse),
            ws: open(Transport::Ws),
        }
    }

    /// The pollers seen within [`POLLER_TTL`]: client id, transport, milliseconds ago.
    pub fn pollers(&self) -> Vec<(String, Transport, u64)> {
        let mut seen = self.inner.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.retain(|_, at| at.elapsed() < POLLER_TTL);
        seen.iter().map(|((t, c), at)| (c.to_string(), *t, at.elapsed().as_millis() as u64)).collect()
    }

    pub fn counters(&self) -> PerTransport<TransportCounters> {
        PerTransport::from_fn(|t| {
            let c = self.c(t);
            TransportCounters {
                open: c.open.load(Relaxed),
                connections: c.connections.load(Relaxed),
                requests: c.requests.load(Relaxed),
                empty_responses: c.empty.load(Relaxed),
                events: c.events.load(Relaxed),
                bytes: c.bytes.load(Relaxed),
                cut_off: c.cut_off.load(Relaxed),
            }
        })
    }

    pub fn total_requests(&self) -> u64 {
        Transport::ALL.iter().map(|&t| self.c(t).requests.load(Relaxed)).sum()
    }

    pub fn set_rates(&self, rates: Rates) {
        *self.inner.rates.lock().unwrap_or_else(|e| e.into_inner()) = rates;
    }

    pub fn rates(&self) -> Rates {
        *self.inner.rates.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn uptime(&self) -> Duration {
        self.inner.started.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_counted_and_capped() {
        let stats = Stats::new(2);
        let a = stats.open(Transport::Sse).unwrap();
        let _b = stats.open(Transport::Sse).unwrap();
        assert!(matches!(stats.open(Transport::Sse), Err(ApiError::Busy("sse"))));
        assert!(stats.open(Transport::Ws).is_ok(), "the cap is per transport");
        drop(a);
        let _c = stats.open(Transport::Sse).unwrap();
        let sse = stats.counters().sse;
        assert_eq!((sse.open, sse.connections), (2, 3));
        assert_eq!(stats.presence().sse, 2);
    }

    #[test]
    fn pollers_count_once_per_client_id() {
        let stats = Stats::new(10);
        stats.seen(Transport::Poll, "a");
        stats.seen(Transport::Poll, "a");
        stats.seen(Transport::Poll, "b");
        let p = stats.presence();
        assert_eq!((p.poll, p.long_poll, p.sse, p.ws), (2, 0, 0, 0));
        // "a" switched to long polling: it counts there only.
        stats.seen(Transport::LongPoll, "a");
        let p = stats.presence();
        assert_eq!((p.poll, p.long_poll), (1, 1));
        // "b" opened a stream: no longer a poller.
        stats.left("b", None);
        assert_eq!(stats.presence().poll, 0);
    }
}
