//! Follows the Redis stream into this instance's hub.
//!
//! One reader on a connection of its own, without a response timeout (a
//! blocking `XREAD` waits up to a second; redis-rs's default 500 ms timeout
//! would cut it). Each read starts after the hub's head, never at `$`, so no
//! event between two reads is lost; each read is bounded, and the epoch is
//! read in the same round trip, so a new stream (Redis flushed or restarted
//! empty) restarts the mirror within a read.

use std::time::Duration;

use pushlab::{Announced, Event};
use redis::aio::MultiplexedConnection;
use redis::streams::{StreamId, StreamRangeReply, StreamReadReply};
use redis::{AsyncConnectionConfig, Value};
use tokio_util::sync::CancellationToken;

use super::{Keys, Redis};

/// Entries per read: a catch-up goes in bounded pages.
pub const PAGE: usize = 1000;
/// How long one blocking read waits for new entries.
const BLOCK_MS: u64 = 1000;
/// A read that has not answered by then is dead (Redis stopped): reconnect.
const READ_DEADLINE: Duration = Duration::from_millis(BLOCK_MS + 1500);
const RETRY: Duration = Duration::from_millis(250);

/// Loads the retained stream into the hub, page by page, before the instance serves.
pub async fn load(redis: &Redis) -> redis::RedisResult<u64> {
    let (hub, keys) = (redis.hub(), &redis.inner.keys);
    let mut conn = redis.conn();
    loop {
        let from = format!("(0-{}", hub.head());
        let page: StreamRangeReply = redis::cmd("XRANGE")
            .arg(&keys.stream)
            .arg(from)
            .arg("+")
            .arg("COUNT")
            .arg(PAGE)
            .query_async(&mut conn)
            .await?;
        if page.ids.is_empty() {
            return Ok(hub.head());
        }
        for entry in &page.ids {
            mirror(redis, entry);
        }
    }
}

/// Runs until shutdown: every entry after the hub's head goes into the hub.
pub async fn follow(redis: Redis, shutdown: CancellationToken) {
    let mut conn: Option<MultiplexedConnection> = None;
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match reader(&redis.inner.client).await {
                Ok(c) => conn.insert(c),
                Err(e) => {
                    tracing::debug!("stream reader cannot connect: {e}");
                    redis.set_state(false);
                    sleep_or_stop(&shutdown).await;
                    continue;
                }
            },
        };
        let read = read_after(c, &redis.inner.keys, redis.hub().head());
        let res = tokio::select! {
            _ = shutdown.cancelled() => return,
            res = tokio::time::timeout(READ_DEADLINE, read) => res,
        };
        match res {
            Ok(Ok((epoch, reply))) => {
                redis.set_state(true);
                on_read(&redis, epoch, reply).await;
            }
            Ok(Err(e)) => {
                tracing::debug!("stream read failed: {e}");
                redis.set_state(false);
                conn = None;
                sleep_or_stop(&shutdown).await;
            }
            Err(_) => {
                redis.set_state(false);
                conn = None;
            }
        }
    }
}

async fn sleep_or_stop(shutdown: &CancellationToken) {
    tokio::select! {
        _ = shutdown.cancelled() => {}
        _ = tokio::time::sleep(RETRY) => {}
    }
}

/// A connection for blocking reads only: no response timeout, a connect timeout.
async fn reader(client: &redis::Client) -> redis::RedisResult<MultiplexedConnection> {
    let config =
        AsyncConnectionConfig::new().set_connection_timeout(Some(Duration::from_secs(2))).set_response_timeout(None);
    client.get_multiplexed_async_connection_with_config(&config).await
}

/// The epoch and up to a page of entries after `head`, in one round trip.
async fn read_after(
    conn: &mut MultiplexedConnection,
    keys: &Keys,
    head: u64,
) -> redis::RedisResult<(Option<u64>, Option<StreamReadReply>)> {
    let mut pipe = redis::pipe();
    pipe.get(&keys.epoch);
    pipe.cmd("XREAD").arg("COUNT").arg(PAGE).arg("BLOCK").arg(BLOCK_MS).arg("STREAMS").arg(&keys.stream);
    pipe.arg(format!("0-{head}"));
    pipe.query_async(conn).await
}

async fn on_read(redis: &Redis, epoch: Option<u64>, reply: Option<StreamReadReply>) {
    let hub = redis.hub();
    match epoch {
        // No stream at all (Redis flushed or restarted empty): make a new one.
        None => {
            let mut conn = redis.conn();
            if let Err(e) = super::ensure(&mut conn, &redis.inner.keys, redis.inner.cap).await {
                tracing::debug!("cannot start a new stream: {e}");
            }
        }
        Some(epoch) if epoch != hub.epoch() => {
            tracing::warn!(
                "the stream is new (epoch {}, was {}): clients are reset",
                pushlab::cursor::epoch_to_string(epoch),
                pushlab::cursor::epoch_to_string(hub.epoch())
            );
            hub.restart(epoch, 0);
            redis.reset_followed();
        }
        Some(_) => {
            for entry in reply.iter().flat_map(|r| &r.keys).flat_map(|k| &k.ids) {
                mirror(redis, entry);
            }
        }
    }
}

/// Puts one stream entry into the hub; a seq past the head means the mirror
/// fell behind the cap: it restarts there and its clients get an expiry.
fn mirror(redis: &Redis, entry: &StreamId) {
    let hub = redis.hub();
    let Some((seq, sent_at_us, event)) = parse(entry) else {
        tracing::warn!(id = entry.id, "a stream entry that is not an event: skipped");
        return;
    };
    if let Event::Announcement { text, .. } = &event {
        redis.inner.control.note_announced(Announced { text: text.clone(), sent_at_us });
    }
    let head = hub.head();
    if seq > head + 1 {
        tracing::warn!("the mirror fell {} events behind the stream's cap: it restarts at {seq}", seq - head - 1);
        hub.restart(hub.epoch(), seq - 1);
    }
    // An error is an entry already mirrored.
    let _ = hub.append(seq, sent_at_us, event);
}

/// `0-<seq>` with fields `e` (the event's JSON) and `t` (sent_at_us).
pub fn parse(entry: &StreamId) -> Option<(u64, i64, Event)> {
    let seq = entry.id.strip_prefix("0-")?.parse().ok()?;
    let sent_at_us = entry.get::<i64>("t")?;
    let event = match entry.map.get("e")? {
        Value::BulkString(bytes) => serde_json::from_slice(bytes).ok()?,
        _ => return None,
    };
    Some((seq, sent_at_us, event))
}
