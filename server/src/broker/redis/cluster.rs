//! The cluster around this instance: the simulator's lease, a heartbeat with
//! this instance's connections and pollers, the settings document, and burst
//! events owed to the leader.

use std::collections::HashMap;
use std::time::Duration;

use pushlab::{InstanceInfo, PerTransport, PresenceCounts, Transport};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::{Redis, scripts, settings};
use crate::broker::open_connections;
use crate::stats::POLLER_TTL;

/// The settings document is read this often: every instance follows a change within it.
pub const FOLLOW_EVERY: Duration = Duration::from_millis(250);
/// Heartbeats and lease renewals.
pub const BEAT_EVERY: Duration = Duration::from_secs(1);
/// A heartbeat older than this is a dead instance.
pub const BEAT_TTL: Duration = Duration::from_secs(3);
/// The lease outlives its holder by this much: a takeover within 4 s.
pub const LEASE_TTL: Duration = Duration::from_secs(3);
/// Burst events a leader takes per read of the owed count.
const TAKE: u32 = 10_000;

pub fn now_ms() -> u64 {
    (crate::hub::now_us() / 1000).max(0) as u64
}

/// One instance's heartbeat, as stored in the instances hash.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Beat {
    pub at_ms: u64,
    pub connections: PerTransport<u64>,
    /// Pollers it saw: client id, transport, how long ago (ms).
    #[serde(default)]
    pub pollers: Vec<(String, Transport, u64)>,
}

impl Beat {
    pub fn parse(s: &str) -> Option<Beat> {
        serde_json::from_str(s).ok()
    }

    pub fn age_ms(&self) -> u64 {
        now_ms().saturating_sub(self.at_ms)
    }
}

/// The last heartbeats read, and the lease holder.
#[derive(Default)]
pub struct View {
    pub leader: Option<String>,
    pub beats: Vec<(String, Beat)>,
}

impl View {
    pub fn instances(&self) -> Vec<InstanceInfo> {
        let mut all: Vec<_> = self
            .beats
            .iter()
            .map(|(id, b)| InstanceInfo {
                id: id.clone(),
                leader: self.leader.as_ref() == Some(id),
                age_ms: b.age_ms(),
                connections: b.connections,
            })
            .collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    /// The cluster's presence: a poller once, on the transport it used last;
    /// streams and sockets summed.
    pub fn presence(&self) -> PresenceCounts {
        let mut last: HashMap<&str, (u64, Transport)> = HashMap::new();
        for (_, beat) in &self.beats {
            for (client, t, ago) in &beat.pollers {
                let seen = beat.at_ms.saturating_sub(*ago);
                if last.get(client.as_str()).is_none_or(|(at, _)| seen > *at) {
                    last.insert(client, (seen, *t));
                }
            }
        }
        let fresh = now_ms().saturating_sub(POLLER_TTL.as_millis() as u64);
        let pollers = |t| last.values().filter(|(at, lt)| *lt == t && *at >= fresh).count() as u32;
        let open = |t| self.beats.iter().map(|(_, b)| *b.connections.get(t)).sum::<u64>() as u32;
        PresenceCounts {
            poll: pollers(Transport::Poll),
            long_poll: pollers(Transport::LongPoll).max(open(Transport::LongPoll)),
            sse: open(Transport::Sse),
            ws: open(Transport::Ws),
        }
    }
}

/// Runs until shutdown, then gives up the lease and the heartbeat at once.
pub async fn run(redis: Redis, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(FOLLOW_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let per_beat = (BEAT_EVERY.as_millis() / FOLLOW_EVERY.as_millis()) as u64;
    let mut n = 0u64;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        let ok = follow_once(&redis).await.is_ok() && (!n.is_multiple_of(per_beat) || beat(&redis).await.is_ok());
        redis.set_state(ok);
        n += 1;
    }
    leave(&redis).await;
}

/// Follows the settings document; the leader takes owed burst events.
async fn follow_once(redis: &Redis) -> redis::RedisResult<()> {
    let (keys, control) = (&redis.inner.keys, &redis.inner.control);
    let mut conn = redis.conn();
    let doc = settings::read(&mut conn, keys, control.settings()).await?;
    redis.follow(doc);
    if *redis.inner.is_leader.borrow() && control.burst_room() {
        let n: u32 = scripts::take_owed().key(&keys.owed).arg(TAKE).invoke_async(&mut conn).await?;
        if n > 0 && !control.queue_burst(n) {
            tracing::warn!("{n} burst events taken but not queued");
        }
    }
    Ok(())
}

/// Renews (or takes) the lease, writes this instance's heartbeat, reads everyone's.
pub async fn beat(redis: &Redis) -> redis::RedisResult<()> {
    let inner = &redis.inner;
    let (keys, id) = (&inner.keys, &*inner.instance);
    let mut conn = redis.conn();
    let held: i64 =
        scripts::lease().key(&keys.leader).arg(id).arg(LEASE_TTL.as_millis() as u64).invoke_async(&mut conn).await?;
    inner.is_leader.send_if_modified(|l| {
        let now = held == 1;
        if now && !*l {
            tracing::info!("this instance ({id}) leads: it runs the simulator");
        }
        std::mem::replace(l, now) != now
    });
    let pollers = inner.stats.pollers();
    let beat = Beat { at_ms: now_ms(), connections: open_connections(&inner.stats), pollers };
    let json = serde_json::to_string(&beat).expect("a heartbeat always serializes");
    let s = inner.control.settings();
    // A flushed Redis lost the token and settings too: whoever beats first puts them back.
    let (leader, all): (Option<String>, HashMap<String, String>) = redis::pipe()
        .hset(&keys.instances, id, json)
        .ignore()
        .set_nx(&keys.token, inner.control.token())
        .ignore()
        .hset_nx(&keys.settings, "rate", s.rate_per_s)
        .ignore()
        .hset_nx(&keys.settings, "paused", u8::from(s.paused))
        .ignore()
        .hset_nx(&keys.settings, "delay", s.delay_ms)
        .ignore()
        .get(&keys.leader)
        .hgetall(&keys.instances)
        .query_async(&mut conn)
        .await?;
    let mut beats = Vec::new();
    let mut gone = Vec::new();
    for (id, b) in all {
        match Beat::parse(&b) {
            Some(b) if b.age_ms() < BEAT_TTL.as_millis() as u64 => beats.push((id, b)),
            _ => gone.push(id),
        }
    }
    if !gone.is_empty() {
        let _: redis::RedisResult<()> = redis::cmd("HDEL").arg(&keys.instances).arg(&gone).query_async(&mut conn).await;
    }
    *redis.view() = View { leader, beats };
    Ok(())
}

/// Gives up the lease and the heartbeat: another instance takes over at its next beat.
async fn leave(redis: &Redis) {
    let (keys, id) = (&redis.inner.keys, &*redis.inner.instance);
    let mut conn = redis.conn();
    let released: redis::RedisResult<i64> = scripts::release().key(&keys.leader).arg(id).invoke_async(&mut conn).await;
    let removed: redis::RedisResult<()> = redis::cmd("HDEL").arg(&keys.instances).arg(id).query_async(&mut conn).await;
    if released.is_err() || removed.is_err() {
        tracing::warn!("could not leave the cluster cleanly: its lease and heartbeat expire in {LEASE_TTL:?}");
    }
    redis.inner.is_leader.send_replace(false);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poller_counts_once_on_its_last_transport_and_streams_add_up() {
        let now = now_ms();
        let conns = |sse, ws| PerTransport { poll: 0, long_poll: 1, sse, ws };
        let view = View {
            leader: Some("a".into()),
            beats: vec![
                (
                    "a".into(),
                    Beat {
                        at_ms: now,
                        connections: conns(2, 1),
                        pollers: vec![("p1".into(), Transport::Poll, 4000), ("p2".into(), Transport::Poll, 100)],
                    },
                ),
                (
                    "b".into(),
                    Beat {
                        at_ms: now,
                        connections: conns(1, 0),
                        pollers: vec![("p1".into(), Transport::LongPoll, 200), ("old".into(), Transport::Poll, 20_000)],
                    },
                ),
            ],
        };
        let p = view.presence();
        assert_eq!((p.poll, p.long_poll, p.sse, p.ws), (1, 2, 3, 1), "{p:?}");
        let instances = view.instances();
        assert_eq!(
            instances.iter().map(|i| (i.id.as_str(), i.leader)).collect::<Vec<_>>(),
            [("a", true), ("b", false)]
        );
    }
}
