//! Where published events go, beside the hub: the embedded in-memory stream
//! (one instance), or one Redis stream that every instance appends to and
//! mirrors into its own hub (`--redis`; `docs/PROTOCOL.md`, "Many instances").
//!
//! Transports never see the broker: they read the hub as they always did.
//! Producers (simulator, presence, chat, announcements) publish through a
//! [`Sink`]; the instructor's changes and the cluster's view go through
//! [`Broker`].

pub mod redis;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use pushlab::{BrokerState, ControlAction, Cursor, Envelope, Event, InstanceInfo, PerTransport, Settings};
use tokio::sync::watch;

use crate::Hub;
use crate::control::Control;
use crate::error::ApiError;
use crate::stats::Stats;

/// Why a publish did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("the broker does not answer: {0}")]
    Down(String),
    /// A fenced publish from an instance that lost the simulator's lease.
    #[error("this instance does not hold the simulator's lease")]
    NotLeader,
}

impl From<BrokerError> for ApiError {
    fn from(_: BrokerError) -> Self {
        ApiError::BrokerUnavailable
    }
}

/// One published event, as its publisher learns it.
#[derive(Clone, Debug)]
pub struct Appended {
    pub id: String,
    pub sent_at_us: i64,
}

/// What producers publish into. `fenced` events (the simulator's, presence)
/// are refused unless this instance holds the simulator's lease.
pub trait Sink: Clone + Send + Sync + 'static {
    fn publish(&self, events: Vec<Event>, fenced: bool) -> impl Future<Output = Result<(), BrokerError>> + Send;
    /// The stream's newest `n` events (a new leader's simulator takes up the running jobs).
    fn recent(&self, n: usize) -> Vec<Envelope>;
}

impl<F: Send + Sync + 'static> Sink for crate::hub::Hub<F> {
    async fn publish(&self, events: Vec<Event>, _fenced: bool) -> Result<(), BrokerError> {
        for event in events {
            crate::hub::Hub::publish(self, event);
        }
        Ok(())
    }

    fn recent(&self, n: usize) -> Vec<Envelope> {
        crate::hub::Hub::recent(self, n).0
    }
}

/// The broker of this instance.
#[derive(Clone)]
pub enum Broker {
    Memory(Memory),
    Redis(redis::Redis),
}

/// The embedded stream: this instance is the whole cluster and always its leader.
#[derive(Clone)]
pub struct Memory {
    pub instance: Arc<str>,
    pub hub: Hub,
    pub stats: Stats,
    leader: watch::Sender<bool>,
}

impl Memory {
    pub fn new(instance: Arc<str>, hub: Hub, stats: Stats) -> Self {
        Memory { instance, hub, stats, leader: watch::channel(true).0 }
    }
}

/// A cursor checked against the stream before the hub resolves it.
#[derive(Debug, PartialEq, Eq)]
pub enum Settled {
    /// The hub can resolve it now (it may still be a reset or an error).
    Ready,
    /// It is ahead of this instance's mirror but not of the stream: it will
    /// arrive; a short poll answers empty with it rather than wait.
    Pending,
}

/// How long a held request waits for a cursor another instance issued to reach this mirror.
pub const AHEAD_WAIT: Duration = Duration::from_secs(2);

impl Broker {
    pub fn instance(&self) -> &str {
        match self {
            Broker::Memory(m) => &m.instance,
            Broker::Redis(r) => r.instance(),
        }
    }

    pub fn state(&self) -> BrokerState {
        match self {
            Broker::Memory(_) => BrokerState::Memory,
            Broker::Redis(r) => r.state(),
        }
    }

    /// The lease holder's id (this instance without a broker).
    pub fn leader(&self) -> Option<String> {
        match self {
            Broker::Memory(m) => Some(m.instance.to_string()),
            Broker::Redis(r) => r.leader(),
        }
    }

    /// Whether this instance runs the simulator and publishes presence.
    pub fn watch_leader(&self) -> watch::Receiver<bool> {
        match self {
            Broker::Memory(m) => m.leader.subscribe(),
            Broker::Redis(r) => r.watch_leader(),
        }
    }

    /// Every live instance with its connections.
    pub fn instances(&self) -> Vec<InstanceInfo> {
        match self {
            Broker::Memory(m) => vec![InstanceInfo {
                id: m.instance.to_string(),
                leader: true,
                age_ms: 0,
                connections: open_connections(&m.stats),
            }],
            Broker::Redis(r) => r.instances(),
        }
    }

    /// The cluster's presence: this instance's without a broker.
    pub fn presence(&self) -> pushlab::PresenceCounts {
        match self {
            Broker::Memory(m) => m.stats.presence(),
            Broker::Redis(r) => r.presence(),
        }
    }

    /// Publishes one event (chat, an announcement) and says where it went.
    pub async fn publish_one(&self, event: Event) -> Result<Appended, BrokerError> {
        match self {
            Broker::Memory(m) => {
                let p = m.hub.publish(event);
                Ok(Appended { id: p.id.clone(), sent_at_us: p.sent_at_us })
            }
            Broker::Redis(r) => r.publish(vec![event], false).await,
        }
    }

    /// Applies an instructor's action here, or for the whole cluster.
    pub async fn control(&self, control: &Control, action: ControlAction) -> Result<Settings, ApiError> {
        match self {
            Broker::Memory(_) => control.apply(action),
            Broker::Redis(r) => {
                control.check(&action)?;
                r.control(action).await
            }
        }
    }

    /// Checks a cursor against the stream: one ahead of the mirror (issued by
    /// another instance a moment ago) is waited for when `wait`, and a foreign
    /// epoch that is the stream's own waits for the mirror to restart on it.
    /// Without a broker every cursor is ready at once.
    pub async fn settle(&self, hub: &Hub, after: Option<&str>, wait: bool) -> Settled {
        let Broker::Redis(r) = self else { return Settled::Ready };
        let Some(cursor) = after.filter(|a| !a.is_empty()).and_then(|a| a.parse::<Cursor>().ok()) else {
            return Settled::Ready;
        };
        let mut head = hub.subscribe();
        let mine = |hub: &Hub| hub.epoch() == cursor.epoch && hub.head() >= cursor.seq;
        if mine(hub) {
            return Settled::Ready;
        }
        // Ask the stream: is this cursor real? While Redis does not answer nobody can
        // tell, and a cursor another instance issued just before must not get a 400.
        if let Some((epoch, stream_head)) = r.stream_position().await
            && (epoch != cursor.epoch || cursor.seq > stream_head)
        {
            return Settled::Ready; // the hub answers: a reset, or ahead of the stream too
        }
        if !wait {
            return Settled::Pending;
        }
        let arrived = tokio::time::timeout(AHEAD_WAIT, async {
            while !mine(hub) {
                if head.changed().await.is_err() {
                    return;
                }
            }
        });
        let _ = arrived.await;
        Settled::Ready
    }
}

impl Sink for Broker {
    async fn publish(&self, events: Vec<Event>, fenced: bool) -> Result<(), BrokerError> {
        match self {
            Broker::Memory(m) => Sink::publish(&m.hub, events, fenced).await,
            Broker::Redis(r) => r.publish(events, fenced).await.map(|_| ()),
        }
    }

    fn recent(&self, n: usize) -> Vec<Envelope> {
        match self {
            Broker::Memory(m) => m.hub.recent(n).0,
            Broker::Redis(r) => r.hub().recent(n).0,
        }
    }
}

/// This instance's open connections per transport.
pub fn open_connections(stats: &Stats) -> PerTransport<u64> {
    let counters = stats.counters();
    PerTransport::from_fn(|t| counters.get(t).open)
}
