//! The event hub: the one place that knows where events come from and where
//! they are kept. Transports only see [`Hub::resume`], [`Hub::read`],
//! [`Hub::poll`] and [`Hub::subscribe`], so a broker-backed hub could replace
//! this in-memory one without touching them.
//!
//! Each event is encoded once, at publish: the hub serializes the envelope and
//! hands it to the edge's encoder for the frames its transports send (the
//! hub knows no HTTP: it keeps whatever `F` the encoder makes); connections
//! share those bytes through an `Arc`. A connection's state is just its cursor: it
//! reads from the history ring after it, so catching up and fanning out are
//! the same code and a slow reader never queues anything on the server.

use std::collections::VecDeque;
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use pushlab::api::PollReset;
use pushlab::{Cursor, CursorError, Envelope, Event, INITIAL_EVENTS, ResetNotice, ResetReason};
use serde_json::value::RawValue;
use tokio::sync::watch;

/// Makes an event's frames from its envelope and the envelope's JSON; called once per publish.
pub type Encoder<F> = fn(&Envelope, &str) -> F;

/// One published event: its envelope JSON, and the frames the edge made of it.
#[derive(Debug)]
pub struct Published<F> {
    pub seq: u64,
    pub id: String,
    pub sent_at_us: i64,
    pub type_name: &'static str,
    /// The envelope JSON, spliced into poll answers.
    pub envelope: Box<RawValue>,
    pub frames: F,
}

/// Where a client's stream starts, and whether that is a reset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Start {
    /// The stream the cursor belongs to: a mirror that restarts on a new stream changes it.
    pub epoch: u64,
    /// The seq the client is now considered to have; events after it follow.
    pub after: u64,
    pub reset: Option<ResetNotice>,
}

/// An appended seq that does not follow the mirror's head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("seq {got} does not follow the head {head}")]
pub struct Gap {
    pub head: u64,
    pub got: u64,
}

/// What a read after a cursor found.
#[derive(Debug)]
pub enum Read<F> {
    /// Events after the cursor, oldest first; empty when the client is at the head.
    Events(Vec<Arc<Published<F>>>),
    /// The cursor fell out of the history while the client was reading.
    Expired(Start),
}

/// A poll answer before it is encoded.
#[derive(Debug)]
pub struct PollBatch<F> {
    pub events: Vec<Arc<Published<F>>>,
    pub reset: Option<PollReset>,
    pub cursor: String,
    pub more: bool,
}

pub struct Hub<F> {
    inner: Arc<Inner<F>>,
}

impl<F> Clone for Hub<F> {
    fn clone(&self) -> Self {
        Hub { inner: self.inner.clone() }
    }
}

struct Inner<F> {
    capacity: usize,
    /// Written once per publish, read by every connection; never held across an await.
    ring: RwLock<Ring<F>>,
    /// The head seq; wakes every waiting connection at once.
    head: watch::Sender<u64>,
    encode: Encoder<F>,
}

struct Ring<F> {
    /// Fixed for an in-memory hub; a mirror's changes when the broker's stream is new.
    epoch: u64,
    events: VecDeque<Arc<Published<F>>>,
    head: u64,
}

impl<F> Ring<F> {
    /// Seq of the oldest retained event (head + 1 when empty).
    fn oldest(&self) -> u64 {
        self.events.front().map_or(self.head + 1, |e| e.seq)
    }

    /// Where a new client starts: the last [`INITIAL_EVENTS`] events.
    fn fresh_start(&self) -> u64 {
        self.head.saturating_sub(INITIAL_EVENTS).max(self.oldest() - 1)
    }

    fn cursor(&self, seq: u64) -> String {
        Cursor::new(self.epoch, seq).to_string()
    }

    fn after(&self, after: u64, limit: usize) -> Vec<Arc<Published<F>>> {
        let skip = (after + 1).saturating_sub(self.oldest()) as usize;
        self.events.iter().skip(skip).take(limit).cloned().collect()
    }
}

pub fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64)
}

impl<F> Hub<F> {
    /// A hub with a new random epoch, room for `capacity` events, and the edge's encoder.
    pub fn new(capacity: usize, encode: Encoder<F>) -> Self {
        // Seven base-36 digits: short ids, and a restart colliding is 1 in 7e10.
        const LOW: u64 = 36u64.pow(6);
        const HIGH: u64 = 36u64.pow(7);
        Self::with_epoch(rand::random_range(LOW..HIGH), capacity, encode)
    }

    pub fn with_epoch(epoch: u64, capacity: usize, encode: Encoder<F>) -> Self {
        let capacity = capacity.max(INITIAL_EVENTS as usize);
        Hub {
            inner: Arc::new(Inner {
                capacity,
                ring: RwLock::new(Ring { epoch, events: VecDeque::with_capacity(capacity), head: 0 }),
                head: watch::channel(0).0,
                encode,
            }),
        }
    }

    pub fn epoch(&self) -> u64 {
        self.ring().epoch
    }

    pub fn cursor(&self, seq: u64) -> String {
        self.ring().cursor(seq)
    }

    pub fn head(&self) -> u64 {
        *self.inner.head.borrow()
    }

    /// Events retained now.
    pub fn history_len(&self) -> usize {
        self.ring().events.len()
    }

    pub fn capacity(&self) -> usize {
        self.inner.capacity
    }

    fn ring(&self) -> std::sync::RwLockReadGuard<'_, Ring<F>> {
        // A panic elsewhere cannot leave the ring half-written: every write is a push/pop pair.
        self.inner.ring.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Publishes an event: stamps it, encodes it once, keeps it, wakes subscribers.
    pub fn publish(&self, event: Event) -> Arc<Published<F>> {
        let published = {
            let mut ring = self.write();
            let seq = ring.head + 1;
            let envelope = Envelope { id: ring.cursor(seq), seq, sent_at_us: now_us(), event };
            let published = Arc::new(encode(envelope, self.inner.encode));
            self.push(&mut ring, published.clone());
            published
        };
        self.inner.head.send_replace(published.seq);
        published
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Ring<F>> {
        self.inner.ring.write().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, ring: &mut Ring<F>, published: Arc<Published<F>>) {
        ring.head = published.seq;
        ring.events.push_back(published);
        if ring.events.len() > self.inner.capacity {
            ring.events.pop_front();
        }
    }

    /// Mirrors an event a broker numbered: it must follow the head, in the
    /// hub's epoch. Encoded once here, like a publish.
    pub fn append(&self, seq: u64, sent_at_us: i64, event: Event) -> Result<(), Gap> {
        {
            let mut ring = self.write();
            if seq != ring.head + 1 {
                return Err(Gap { head: ring.head, got: seq });
            }
            let envelope = Envelope { id: ring.cursor(seq), seq, sent_at_us, event };
            let published = Arc::new(encode(envelope, self.inner.encode));
            self.push(&mut ring, published);
        }
        self.inner.head.send_replace(seq);
        Ok(())
    }

    /// Starts the mirror afresh: a new stream (`epoch`), or the same one after
    /// falling behind its cap; the next event appended is `head + 1`. Streams
    /// reading the old epoch get a reset; others see an expiry.
    pub fn restart(&self, epoch: u64, head: u64) {
        {
            let mut ring = self.write();
            *ring = Ring { epoch, events: VecDeque::with_capacity(self.inner.capacity), head };
        }
        self.inner.head.send_replace(head);
    }

    /// A receiver that changes whenever the head moves.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.head.subscribe()
    }

    /// The newest `n` events, decoded, and the head's cursor, read together
    /// (for the first render of the page).
    pub fn recent(&self, n: usize) -> (Vec<Envelope>, String) {
        let ring = self.ring();
        let skip = ring.events.len().saturating_sub(n);
        let events =
            ring.events.iter().skip(skip).filter_map(|e| serde_json::from_str(e.envelope.get()).ok()).collect();
        (events, ring.cursor(ring.head))
    }

    /// Resolves a client's cursor (`None` or empty: a new client).
    pub fn resume(&self, after: Option<&str>) -> Result<Start, CursorError> {
        let ring = self.ring();
        self.resume_in(&ring, after)
    }

    fn resume_in(&self, ring: &Ring<F>, after: Option<&str>) -> Result<Start, CursorError> {
        let epoch = ring.epoch;
        let Some(after) = after.filter(|a| !a.is_empty()) else {
            return Ok(Start { epoch, after: ring.fresh_start(), reset: None });
        };
        let cursor: Cursor = after.parse()?;
        if cursor.epoch != epoch {
            return Ok(self.reset(ring, ResetReason::Epoch, None));
        }
        if cursor.seq > ring.head {
            return Err(CursorError::Ahead);
        }
        if cursor.seq + 1 < ring.oldest() {
            let start = ring.fresh_start();
            return Ok(self.reset(ring, ResetReason::Expired, Some(start - cursor.seq)));
        }
        Ok(Start { epoch, after: cursor.seq, reset: None })
    }

    fn reset(&self, ring: &Ring<F>, reason: ResetReason, missed: Option<u64>) -> Start {
        let after = ring.fresh_start();
        Start { epoch: ring.epoch, after, reset: Some(ResetNotice { reason, missed, cursor: ring.cursor(after) }) }
    }

    /// Up to `limit` events after `after` in `epoch`, or a reset when the
    /// history moved past it (or the mirror began a new stream).
    pub fn read(&self, epoch: u64, after: u64, limit: usize) -> Read<F> {
        let ring = self.ring();
        if epoch != ring.epoch {
            return Read::Expired(self.reset(&ring, ResetReason::Epoch, None));
        }
        if after + 1 < ring.oldest() {
            let start = ring.fresh_start();
            return Read::Expired(self.reset(&ring, ResetReason::Expired, Some(start - after)));
        }
        Read::Events(ring.after(after, limit))
    }

    /// One polling answer: resume and read under one lock, so nothing slips between.
    pub fn poll(&self, after: Option<&str>, limit: usize) -> Result<PollBatch<F>, CursorError> {
        let ring = self.ring();
        let start = self.resume_in(&ring, after)?;
        let events = ring.after(start.after, limit);
        let last = events.last().map_or(start.after, |e| e.seq);
        Ok(PollBatch {
            more: last < ring.head,
            cursor: ring.cursor(last),
            reset: start.reset.map(|r| PollReset { reason: r.reason, missed: r.missed }),
            events,
        })
    }
}

/// The only place an event is serialized; the frames are made from that JSON.
fn encode<F>(envelope: Envelope, frames: Encoder<F>) -> Published<F> {
    let json = serde_json::to_string(&envelope).expect("an envelope always serializes");
    let frames = frames(&envelope, &json);
    Published {
        seq: envelope.seq,
        type_name: envelope.event.type_name(),
        id: envelope.id,
        sent_at_us: envelope.sent_at_us,
        envelope: RawValue::from_string(json).expect("serde_json output is valid JSON"),
        frames,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter(value: i64) -> Event {
        Event::CounterUpdate { name: "active_users".into(), value }
    }

    /// The frames a test hub keeps: the envelope JSON it was given, to check it.
    fn hub_with(n: u64, capacity: usize) -> Hub<String> {
        let hub = Hub::with_epoch(1000, capacity, |_, json| json.to_owned());
        for i in 0..n {
            hub.publish(counter(i as i64));
        }
        hub
    }

    fn seqs(read: Read<String>) -> Vec<u64> {
        match read {
            Read::Events(evs) => evs.iter().map(|e| e.seq).collect(),
            Read::Expired(s) => panic!("unexpected expiry {s:?}"),
        }
    }

    #[test]
    fn publish_numbers_events_and_encodes_each_shape_once() {
        let hub = hub_with(2, 100);
        let Read::Events(evs) = hub.read(1000, 0, 10) else { panic!() };
        assert_eq!(evs.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
        let e = &evs[1];
        assert_eq!(e.id, "rs-2");
        let env: Envelope = serde_json::from_str(e.envelope.get()).unwrap();
        assert_eq!((env.id.as_str(), env.seq, env.event), ("rs-2", 2, counter(1)));
        assert_eq!(e.frames, e.envelope.get(), "the encoder saw the one serialization");
        assert_eq!(e.type_name, "counter:update");
        assert_eq!(hub.head(), 2);
    }

    #[test]
    fn new_clients_get_the_last_twenty() {
        let hub = hub_with(50, 100);
        let start = hub.resume(None).unwrap();
        assert_eq!(start, Start { epoch: 1000, after: 30, reset: None });
        assert_eq!(hub.resume(Some("")).unwrap().after, 30);
        assert_eq!(hub_with(5, 100).resume(None).unwrap().after, 0);
    }

    #[test]
    fn resume_continues_after_the_cursor() {
        let hub = hub_with(50, 100);
        let start = hub.resume(Some("rs-42")).unwrap();
        assert_eq!(start, Start { epoch: 1000, after: 42, reset: None });
        assert_eq!(seqs(hub.read(1000, start.after, 100)), (43..=50).collect::<Vec<_>>());
        assert_eq!(seqs(hub.read(1000, 50, 100)), Vec::<u64>::new());
        assert_eq!(seqs(hub.read(1000, 40, 3)), [41, 42, 43]);
    }

    #[test]
    fn foreign_epoch_resets_with_unknown_missed() {
        let hub = hub_with(50, 100);
        let start = hub.resume(Some("zzzzz-7")).unwrap();
        let reset = start.reset.unwrap();
        assert_eq!((reset.reason, reset.missed, reset.cursor.as_str()), (ResetReason::Epoch, None, "rs-30"));
        assert_eq!(start.after, 30);
    }

    #[test]
    fn expired_cursor_resets_and_counts_what_was_lost() {
        let hub = hub_with(150, 100); // keeps 51..=150
        assert_eq!(hub.history_len(), 100);
        assert_eq!(hub.resume(Some("rs-50")).unwrap().reset, None, "50 is just before the oldest kept");
        let start = hub.resume(Some("rs-10")).unwrap();
        let reset = start.reset.unwrap();
        assert_eq!((reset.reason, reset.missed), (ResetReason::Expired, Some(120)));
        assert_eq!(start.after, 130);
        match hub.read(1000, 10, 5) {
            Read::Expired(s) => assert_eq!(s.after, 130),
            Read::Events(_) => panic!("expected expiry"),
        }
    }

    #[test]
    fn recent_decodes_the_newest_events() {
        let hub = hub_with(30, 100);
        let (recent, head) = hub.recent(20);
        assert_eq!(recent.iter().map(|e| e.seq).collect::<Vec<_>>(), (11..=30).collect::<Vec<_>>());
        assert_eq!(head, "rs-30");
        assert_eq!(hub_with(3, 100).recent(20).0.len(), 3);
    }

    #[test]
    fn bad_cursors_are_errors() {
        let hub = hub_with(5, 100);
        assert_eq!(hub.resume(Some("%%%")), Err(CursorError::Malformed));
        assert_eq!(hub.resume(Some("rs-6")), Err(CursorError::Ahead));
        assert!(hub.resume(Some("rs-5")).is_ok());
    }

    #[test]
    fn poll_pages_and_reports_more() {
        let hub = hub_with(30, 100);
        let page = hub.poll(Some("rs-0"), 25).unwrap();
        assert_eq!((page.events.len(), page.cursor.as_str(), page.more), (25, "rs-25", true));
        let page = hub.poll(Some(&page.cursor), 25).unwrap();
        assert_eq!((page.events.len(), page.cursor.as_str(), page.more), (5, "rs-30", false));
        let page = hub.poll(Some(&page.cursor), 25).unwrap();
        assert_eq!((page.events.len(), page.cursor.as_str(), page.more), (0, "rs-30", false));
        let page = hub.poll(Some("old-3"), 25).unwrap();
        assert_eq!(page.reset, Some(PollReset { reason: ResetReason::Epoch, missed: None }));
        assert_eq!((page.events.len(), page.cursor.as_str()), (20, "rs-30"));
    }

    #[test]
    fn a_mirror_appends_in_order_and_restarts_on_a_new_stream() {
        let hub = hub_with(0, 100);
        for seq in 1..=3 {
            hub.append(seq, 7, counter(seq as i64)).unwrap();
        }
        assert_eq!(hub.append(5, 7, counter(5)), Err(Gap { head: 3, got: 5 }), "a gap is refused");
        assert_eq!(hub.append(3, 7, counter(3)), Err(Gap { head: 3, got: 3 }), "so is a duplicate");
        let Read::Events(evs) = hub.read(1000, 0, 10) else { panic!() };
        assert_eq!((evs.len(), evs[2].id.as_str(), evs[2].sent_at_us), (3, "rs-3", 7));
        // The broker's stream is new: the old epoch's readers get a reset.
        hub.restart(2000, 0);
        hub.append(1, 8, counter(9)).unwrap();
        assert_eq!((hub.epoch(), hub.head(), hub.cursor(1).as_str()), (2000, 1, "1jk-1"));
        match hub.read(1000, 3, 10) {
            Read::Expired(s) => assert_eq!(s.reset.unwrap().reason, ResetReason::Epoch),
            Read::Events(_) => panic!("an old epoch's reader must be reset"),
        }
        assert_eq!(hub.resume(Some("rs-3")).unwrap().reset.unwrap().reason, ResetReason::Epoch);
        // Fell behind the cap: same epoch, the head jumps, old cursors expire.
        hub.restart(2000, 500);
        hub.append(501, 9, counter(1)).unwrap();
        let reset = hub.resume(Some("1jk-1")).unwrap().reset.unwrap();
        assert_eq!((reset.reason, reset.missed), (ResetReason::Expired, Some(499)));
    }

    #[tokio::test]
    async fn subscribers_wake_on_publish() {
        let hub = hub_with(0, 100);
        let mut rx = hub.subscribe();
        rx.borrow_and_update();
        let h = hub.clone();
        tokio::spawn(async move { h.publish(counter(1)) });
        rx.changed().await.unwrap();
        assert_eq!(*rx.borrow(), 1);
    }
}
