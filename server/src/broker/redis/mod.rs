//! One event stream in Redis, shared by every instance.
//!
//! - Publishing runs [`scripts::append`]: Redis numbers the events, so `seq`
//!   is contiguous across instances and a cursor resumes anywhere.
//! - [`mirror`] follows the stream into this instance's hub with one reader
//!   on its own connection: events are encoded once per instance, and
//!   transports read only the hub.
//! - [`cluster`] keeps the lease, the heartbeat, the settings document and
//!   the view of the other instances.

pub mod cluster;
pub mod mirror;
mod scripts;
mod settings;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pushlab::{BrokerState, ControlAction, Cursor, Event, InstanceInfo, PresenceCounts, Settings};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script};
use tokio::sync::watch;

use super::{Appended, BrokerError};
use crate::Hub;
use crate::control::{Control, QUEUED_BURSTS};
use crate::error::ApiError;
use crate::hub::now_us;
use crate::stats::Stats;
pub use settings::SettingsDoc;

/// Commands wait this long for an answer; past it, the broker is down.
const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The keys of one cluster, all under `--redis-prefix`.
#[derive(Clone, Debug)]
pub struct Keys {
    pub epoch: String,
    pub seq: String,
    pub stream: String,
    pub cap: String,
    pub leader: String,
    pub token: String,
    pub settings: String,
    pub owed: String,
    pub instances: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Self {
        let k = |name: &str| format!("{prefix}:{name}");
        Keys {
            epoch: k("epoch"),
            seq: k("seq"),
            stream: k("stream"),
            cap: k("cap"),
            leader: k("leader"),
            token: k("token"),
            settings: k("settings"),
            owed: k("owed"),
            instances: k("instances"),
        }
    }
}

/// A new stream's epoch: seven base-36 digits, like the in-memory hub's.
pub fn new_epoch() -> u64 {
    rand::random_range(36u64.pow(6)..36u64.pow(7))
}

/// What start-up learned from Redis before anything serves.
pub struct Connected {
    pub client: redis::Client,
    pub conn: ConnectionManager,
    pub keys: Keys,
    pub epoch: u64,
    /// The stream's history cap: the creator's `--history`, adopted by the others.
    pub cap: u64,
    pub token: String,
    pub settings: SettingsDoc,
}

/// Why an instance cannot join its cluster.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("cannot reach Redis at {url}: {source}")]
    Unreachable { url: String, source: redis::RedisError },
    #[error("Redis at {url} answered with an error: {source}")]
    Redis { url: String, source: redis::RedisError },
    #[error(
        "--token differs from the token this cluster already uses (prefix {prefix:?}); leave --token unset to adopt it"
    )]
    TokenDiffers { prefix: String },
    #[error("instance id {0:?} is already live in this cluster; pick another --instance-id")]
    IdTaken(String),
}

/// Connects, adopts or seeds the stream, the token and the settings.
pub async fn connect(
    url: &str,
    prefix: &str,
    instance: &str,
    token: Option<&str>,
    history: u64,
    seed: Settings,
) -> Result<Connected, JoinError> {
    let unreachable = |source| JoinError::Unreachable { url: redact(url), source };
    let client = redis::Client::open(url).map_err(unreachable)?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(COMMAND_TIMEOUT))
        .set_number_of_retries(1);
    let mut conn = ConnectionManager::new_with_config(client.clone(), config).await.map_err(unreachable)?;
    let failed = |source| JoinError::Redis { url: redact(url), source };
    let keys = Keys::new(prefix);
    let (epoch, cap, _head): (String, u64, u64) = ensure(&mut conn, &keys, history).await.map_err(failed)?;
    if cap != history {
        tracing::warn!("this stream keeps {cap} events (its creator's --history), not {history}: using {cap}");
    }
    let ours = token.map_or_else(crate::control::random_token, str::to_owned);
    let (_, stored): (bool, String) =
        redis::pipe().set_nx(&keys.token, &ours).get(&keys.token).query_async(&mut conn).await.map_err(failed)?;
    if token.is_some_and(|t| t != stored) {
        return Err(JoinError::TokenDiffers { prefix: prefix.into() });
    }
    let beat: Option<String> = conn.hget(&keys.instances, instance).await.map_err(failed)?;
    if beat.and_then(|b| cluster::Beat::parse(&b)).is_some_and(|b| b.age_ms() < cluster::BEAT_TTL.as_millis() as u64) {
        return Err(JoinError::IdTaken(instance.into()));
    }
    let settings = settings::seed(&mut conn, &keys, &seed).await.map_err(failed)?;
    let epoch = epoch.parse().unwrap_or_else(|_| new_epoch());
    Ok(Connected { client, conn, keys, epoch, cap, token: stored, settings })
}

/// The stream's epoch, cap and head, creating a stream when there is none.
async fn ensure(conn: &mut ConnectionManager, keys: &Keys, cap: u64) -> redis::RedisResult<(String, u64, u64)> {
    scripts::ensure()
        .key(&keys.epoch)
        .key(&keys.seq)
        .key(&keys.stream)
        .key(&keys.cap)
        .arg(new_epoch())
        .arg(cap)
        .invoke_async(conn)
        .await
}

/// A URL without its password, for logs.
pub fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((head, tail)) => match head.rsplit_once(':') {
            Some((scheme_user, _)) if scheme_user.contains("//") => format!("{scheme_user}:***@{tail}"),
            _ => format!("***@{tail}"),
        },
        None => url.to_owned(),
    }
}

/// The Redis broker of this instance.
#[derive(Clone)]
pub struct Redis {
    inner: Arc<Inner>,
}

struct Inner {
    instance: Arc<str>,
    keys: Keys,
    client: redis::Client,
    conn: ConnectionManager,
    hub: Hub,
    control: Control,
    stats: Stats,
    cap: u64,
    state: watch::Sender<BrokerState>,
    is_leader: watch::Sender<bool>,
    view: Mutex<cluster::View>,
    followed: Mutex<settings::Followed>,
    append: Script,
}

impl Redis {
    pub fn new(connected: Connected, instance: Arc<str>, hub: Hub, control: Control, stats: Stats) -> Self {
        let Connected { client, conn, keys, cap, settings, .. } = connected;
        let followed = settings::Followed::new(&settings);
        Redis {
            inner: Arc::new(Inner {
                instance,
                keys,
                client,
                conn,
                hub,
                control,
                stats,
                cap,
                state: watch::channel(BrokerState::Up).0,
                is_leader: watch::channel(false).0,
                view: Mutex::default(),
                followed: Mutex::new(followed),
                append: scripts::append(),
            }),
        }
    }

    pub fn instance(&self) -> &str {
        &self.inner.instance
    }

    pub fn hub(&self) -> &Hub {
        &self.inner.hub
    }

    pub fn state(&self) -> BrokerState {
        *self.inner.state.borrow()
    }

    pub fn watch_state(&self) -> watch::Receiver<BrokerState> {
        self.inner.state.subscribe()
    }

    fn set_state(&self, up: bool) {
        let state = if up { BrokerState::Up } else { BrokerState::Down };
        self.inner.state.send_if_modified(|s| {
            let changed = *s != state;
            if changed {
                match state {
                    BrokerState::Down => tracing::warn!("Redis does not answer: publishing waits"),
                    _ => tracing::info!("Redis answers again"),
                }
            }
            *s = state;
            changed
        });
    }

    pub fn watch_leader(&self) -> watch::Receiver<bool> {
        self.inner.is_leader.subscribe()
    }

    pub fn leader(&self) -> Option<String> {
        self.view().leader.clone()
    }

    fn view(&self) -> std::sync::MutexGuard<'_, cluster::View> {
        self.inner.view.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn instances(&self) -> Vec<InstanceInfo> {
        self.view().instances()
    }

    pub fn presence(&self) -> PresenceCounts {
        self.view().presence()
    }

    fn conn(&self) -> ConnectionManager {
        self.inner.conn.clone()
    }

    /// Appends events to the stream (Redis numbers them); they reach every
    /// hub, this one included, through its mirror.
    pub async fn publish(&self, events: Vec<Event>, fenced: bool) -> Result<Appended, BrokerError> {
        let sent_at_us = now_us();
        let k = &self.inner.keys;
        let mut call = self.inner.append.key(&k.epoch);
        call.key(&k.seq).key(&k.stream).key(&k.cap).key(&k.leader);
        let deadline_us = sent_at_us + COMMAND_TIMEOUT.as_micros() as i64;
        call.arg(new_epoch()).arg(self.inner.cap).arg(if fenced { self.instance() } else { "" });
        call.arg(sent_at_us).arg(deadline_us);
        for event in &events {
            call.arg(serde_json::to_string(event).expect("an event always serializes"));
        }
        let res: redis::RedisResult<(String, u64)> = call.invoke_async(&mut self.conn()).await;
        match res {
            Ok((epoch, seq)) => {
                self.set_state(true);
                let epoch = epoch.parse().unwrap_or(0);
                Ok(Appended { id: Cursor::new(epoch, seq).to_string(), sent_at_us })
            }
            Err(e) if e.to_string().contains("NOTLEADER") => Err(BrokerError::NotLeader),
            Err(e) if e.to_string().contains("LATE") => {
                tracing::warn!("a publish reached Redis after its deadline (a stalled Redis, or clocks apart)");
                Err(BrokerError::Down(e.to_string()))
            }
            Err(e) => {
                self.set_state(false);
                Err(BrokerError::Down(e.to_string()))
            }
        }
    }

    /// The stream's epoch and head seq, asked of Redis (`None` when it does not answer).
    pub async fn stream_position(&self) -> Option<(u64, u64)> {
        let k = &self.inner.keys;
        let res: redis::RedisResult<(Option<u64>, Option<u64>)> =
            redis::pipe().get(&k.epoch).get(&k.seq).query_async(&mut self.conn()).await;
        match res {
            Ok((epoch, seq)) => Some((epoch?, seq.unwrap_or(0))),
            Err(_) => None,
        }
    }

    /// An instructor's action for the whole cluster: a change to the settings
    /// document (every instance follows it), or a burst owed to the leader.
    pub async fn control(&self, action: ControlAction) -> Result<Settings, ApiError> {
        let k = &self.inner.keys;
        let mut conn = self.conn();
        if let ControlAction::Burst { n } = action {
            // As many as a leader may have queued in memory, and the one going out.
            let bound = (QUEUED_BURSTS as u64 + 1) * u64::from(*pushlab::control::BURST_RANGE.end());
            let owed: i64 =
                scripts::owe().key(&k.owed).arg(n).arg(bound).invoke_async(&mut conn).await.map_err(|_| self.down())?;
            if owed < 0 {
                return Err(ApiError::BurstsQueued(QUEUED_BURSTS));
            }
            return Ok(self.inner.control.settings());
        }
        let doc =
            settings::change(&mut conn, k, &action, self.inner.control.defaults()).await.map_err(|_| self.down())?;
        self.follow(doc);
        Ok(self.inner.control.settings())
    }

    fn down(&self) -> ApiError {
        self.set_state(false);
        ApiError::BrokerUnavailable
    }

    /// A new stream has a new settings document: follow it from its first version.
    pub fn reset_followed(&self) {
        self.inner.followed.lock().unwrap_or_else(|e| e.into_inner()).reset();
    }

    /// Applies a settings document read from Redis, if it is newer than the last.
    fn follow(&self, doc: SettingsDoc) {
        let mut followed = self.inner.followed.lock().unwrap_or_else(|e| e.into_inner());
        followed.apply(doc, &self.inner.control);
    }
}
