//! `GET /api/stats`: the server's view of itself.

use crate::cluster::{BrokerState, InstanceInfo};
use serde::{Deserialize, Serialize};

use crate::control::Settings;
use crate::event::PresenceCounts;
use crate::transport::Transport;

/// One value per transport, keyed by the wire names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PerTransport<T> {
    pub poll: T,
    #[serde(rename = "long-poll")]
    pub long_poll: T,
    pub sse: T,
    pub ws: T,
}

impl<T> PerTransport<T> {
    pub fn get(&self, t: Transport) -> &T {
        match t {
            Transport::Poll => &self.poll,
            Transport::LongPoll => &self.long_poll,
            Transport::Sse => &self.sse,
            Transport::Ws => &self.ws,
        }
    }

    pub fn get_mut(&mut self, t: Transport) -> &mut T {
        match t {
            Transport::Poll => &mut self.poll,
            Transport::LongPoll => &mut self.long_poll,
            Transport::Sse => &mut self.sse,
            Transport::Ws => &mut self.ws,
        }
    }

    /// Each transport's value, in the order of [`Transport::ALL`].
    pub fn iter(&self) -> impl Iterator<Item = (Transport, &T)> {
        Transport::ALL.into_iter().map(move |t| (t, self.get(t)))
    }

    pub fn from_fn(mut f: impl FnMut(Transport) -> T) -> Self {
        PerTransport {
            poll: f(Transport::Poll),
            long_poll: f(Transport::LongPoll),
            sse: f(Transport::Sse),
            ws: f(Transport::Ws),
        }
    }
}

impl PerTransport<u32> {
    pub fn total(&self) -> u32 {
        self.iter().map(|(_, n)| n).sum()
    }
}

/// Counters of one transport since the server started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransportCounters {
    /// Connections open now (held long polls, SSE streams, WebSockets).
    pub open: u64,
    /// Connections opened in all.
    pub connections: u64,
    /// HTTP requests (polls, long polls, stream opens, upgrades).
    pub requests: u64,
    /// Poll answers with no events, and long polls that timed out (204).
    pub empty_responses: u64,
    /// Events delivered, counted once per client.
    pub events: u64,
    /// Payload bytes written (bodies and frames, without HTTP headers).
    pub bytes: u64,
    /// Streams and sockets cut off because they did not take a write within the
    /// slow-consumer limit.
    #[serde(default)]
    pub cut_off: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerStats {
    pub epoch: String,
    pub uptime_s: u64,
    pub head_seq: u64,
    pub history_len: u64,
    pub history_capacity: u64,
    /// Events published per second, over the last 5 s.
    pub events_per_s: f64,
    /// HTTP requests per second over all transports, over the last 5 s.
    pub requests_per_s: f64,
    pub settings: Settings,
    pub presence: PresenceCounts,
    pub transports: PerTransport<TransportCounters>,
    /// The instructor's last announcement, for pages and tools that join later.
    #[serde(default)]
    pub announcement: Option<Announced>,
    /// The instance that answered (its `X-Pushlab-Instance`).
    #[serde(default)]
    pub instance: String,
    /// The simulator's lease holder; `None` while nobody holds it.
    #[serde(default)]
    pub leader: Option<String>,
    #[serde(default)]
    pub broker: BrokerState,
    /// Every live instance, from heartbeats (this one alone without a broker).
    #[serde(default)]
    pub instances: Vec<InstanceInfo>,
}

/// An announcement as published: what it said, and when (Unix microseconds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Announced {
    pub text: String,
    pub sent_at_us: i64,
}
