//! The instructor's settings as one versioned document in Redis (a hash):
//! `v`, `rate`, `paused`, `delay`, and a drop generation per held transport.
//! Every change bumps `v` in the same transaction; each instance follows the
//! newest `v` it reads. Flags only seed a new document.

use std::collections::HashMap;

use pushlab::{ControlAction, PerTransport, Settings, Transport};
use redis::aio::ConnectionManager;

use super::Keys;
use crate::control::Control;

#[derive(Clone, Debug, PartialEq)]
pub struct SettingsDoc {
    pub v: u64,
    pub settings: Settings,
    pub drops: PerTransport<u64>,
}

fn drop_field(t: Transport) -> String {
    format!("drop:{}", t.as_str())
}

impl SettingsDoc {
    /// Reads a hash; fields that are missing or unreadable take `seed`'s values.
    pub fn parse(hash: &HashMap<String, String>, seed: Settings) -> Self {
        let get = |f: &str| hash.get(f).map(String::as_str);
        SettingsDoc {
            v: get("v").and_then(|v| v.parse().ok()).unwrap_or(0),
            settings: Settings {
                rate_per_s: get("rate").and_then(|v| v.parse().ok()).unwrap_or(seed.rate_per_s),
                paused: get("paused").map_or(seed.paused, |v| v == "1"),
                delay_ms: get("delay").and_then(|v| v.parse().ok()).unwrap_or(seed.delay_ms),
            },
            drops: PerTransport::from_fn(|t| get(&drop_field(t)).and_then(|v| v.parse().ok()).unwrap_or(0)),
        }
    }
}

/// Writes `seed` where the document has no value yet, and reads the document.
pub async fn seed(conn: &mut ConnectionManager, keys: &Keys, seed: Settings) -> redis::RedisResult<SettingsDoc> {
    let k = &keys.settings;
    let hash: HashMap<String, String> = redis::pipe()
        .atomic()
        .hset_nx(k, "v", 1)
        .ignore()
        .hset_nx(k, "rate", seed.rate_per_s)
        .ignore()
        .hset_nx(k, "paused", u8::from(seed.paused))
        .ignore()
        .hset_nx(k, "delay", seed.delay_ms)
        .ignore()
        .hgetall(k)
        .query_async::<(HashMap<String, String>,)>(conn)
        .await?
        .0;
    Ok(SettingsDoc::parse(&hash, seed))
}

/// Reads the document.
pub async fn read(conn: &mut ConnectionManager, keys: &Keys, seed: Settings) -> redis::RedisResult<SettingsDoc> {
    let hash: HashMap<String, String> = redis::cmd("HGETALL").arg(&keys.settings).query_async(conn).await?;
    Ok(SettingsDoc::parse(&hash, seed))
}

/// Applies one action to the document in one transaction; returns the new document.
pub async fn change(
    conn: &mut ConnectionManager,
    keys: &Keys,
    action: &ControlAction,
) -> redis::RedisResult<SettingsDoc> {
    let k = &keys.settings;
    let mut pipe = redis::pipe();
    pipe.atomic();
    match *action {
        ControlAction::SetRate { per_s } => pipe.hset(k, "rate", per_s).ignore(),
        ControlAction::Pause => pipe.hset(k, "paused", 1).ignore(),
        ControlAction::Resume => pipe.hset(k, "paused", 0).ignore(),
        ControlAction::Delay { ms } => pipe.hset(k, "delay", ms).ignore(),
        ControlAction::Drop { transport } => pipe.hincr(k, drop_field(transport), 1).ignore(),
        ControlAction::Burst { .. } => &mut pipe, // owed to the leader, not a setting
    };
    let (hash,): (HashMap<String, String>,) = pipe.hincr(k, "v", 1).ignore().hgetall(k).query_async(conn).await?;
    Ok(SettingsDoc::parse(&hash, Settings { rate_per_s: 5.0, paused: false, delay_ms: 0 }))
}

/// What this instance has applied of the document.
#[derive(Debug)]
pub struct Followed {
    v: u64,
    drops: PerTransport<u64>,
}

impl Followed {
    /// Starts from the document as read at start: its drops happened before this instance.
    pub fn new(doc: &SettingsDoc) -> Self {
        Followed { v: doc.v, drops: doc.drops }
    }

    pub fn reset(&mut self) {
        self.v = 0;
    }

    /// Applies a newer document: its settings, and a drop for each generation that moved.
    pub fn apply(&mut self, doc: SettingsDoc, control: &Control) {
        if doc.v <= self.v {
            return;
        }
        self.v = doc.v;
        control.set(doc.settings);
        for (t, &generation) in doc.drops.iter() {
            if generation > *self.drops.get(t) {
                control.drop_here(t);
            }
        }
        self.drops = doc.drops;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_reads_with_defaults_and_is_followed_once() {
        let seed = Settings { rate_per_s: 5.0, paused: false, delay_ms: 0 };
        let hash: HashMap<String, String> =
            [("v", "4"), ("rate", "50"), ("paused", "1"), ("drop:sse", "2"), ("delay", "x")]
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .into();
        let doc = SettingsDoc::parse(&hash, seed);
        assert_eq!((doc.v, doc.settings.rate_per_s, doc.settings.paused, doc.settings.delay_ms), (4, 50.0, true, 0));
        assert_eq!((doc.drops.sse, doc.drops.ws), (2, 0));

        let (control, _) = Control::new("t".into(), 5.0);
        let mut followed = Followed::new(&SettingsDoc { v: 3, ..doc.clone() });
        let mut sse = control.watch_drops(Transport::Sse);
        sse.borrow_and_update();
        followed.apply(SettingsDoc { drops: PerTransport { sse: 3, ..doc.drops }, ..doc.clone() }, &control);
        assert_eq!(control.settings().rate_per_s, 50.0);
        assert!(sse.has_changed().unwrap(), "a moved drop generation drops here");
        sse.borrow_and_update();
        followed.apply(SettingsDoc { settings: seed, ..doc }, &control);
        assert_eq!(control.settings().rate_per_s, 50.0, "an older or equal version changes nothing");
        assert!(!sse.has_changed().unwrap());
    }
}
