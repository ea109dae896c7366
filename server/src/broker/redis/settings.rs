//! The instructor's settings as one versioned document in Redis (a hash):
//! `v`, `rate`, `paused`, `delay`, `keepalive`, `ping`, a drop generation per
//! held transport, and `fault:<name>` = `<switched on, µs> <the fault as JSON>`
//! for each fault on. Every change bumps `v` in the same transaction; each
//! instance follows the newest `v` it reads. Flags only seed a new document.

use std::collections::HashMap;

use pushlab::{ControlAction, Fault, FaultChange, FaultName, PerTransport, Settings, Transport};
use redis::aio::ConnectionManager;

use super::Keys;
use crate::control::Control;

#[derive(Clone, Debug, PartialEq)]
pub struct SettingsDoc {
    pub v: u64,
    pub settings: Settings,
    /// When each fault was switched on, µs (by `FaultName as usize`).
    pub since: [i64; 5],
    pub drops: PerTransport<u64>,
}

fn fault_field(name: FaultName) -> String {
    format!("fault:{name}")
}

/// `<since> <json>`, or `None` when unreadable.
fn parse_fault(value: &str) -> Option<(i64, Fault)> {
    let (since, json) = value.split_once(' ')?;
    Some((since.parse().ok()?, serde_json::from_str(json).ok()?))
}

fn drop_field(t: Transport) -> String {
    format!("drop:{}", t.as_str())
}

impl SettingsDoc {
    /// Reads a hash; fields that are missing or unreadable take `seed`'s values.
    pub fn parse(hash: &HashMap<String, String>, seed: Settings) -> Self {
        let get = |f: &str| hash.get(f).map(String::as_str);
        let mut since = [0; 5];
        let mut faults = Vec::new();
        for name in FaultName::ALL {
            if let Some((at, fault)) = get(&fault_field(name)).and_then(parse_fault).filter(|(_, f)| f.name() == name) {
                since[name as usize] = at;
                faults.push(fault);
            }
        }
        // A fault past its lifetime is off here too, though the document still has it.
        crate::fault::expire(&mut faults, &since, crate::hub::now_us());
        SettingsDoc {
            v: get("v").and_then(|v| v.parse().ok()).unwrap_or(0),
            settings: Settings {
                rate_per_s: get("rate").and_then(|v| v.parse().ok()).unwrap_or(seed.rate_per_s),
                paused: get("paused").map_or(seed.paused, |v| v == "1"),
                delay_ms: get("delay").and_then(|v| v.parse().ok()).unwrap_or(seed.delay_ms),
                faults,
                keepalive_s: get("keepalive").and_then(|v| v.parse().ok()).unwrap_or(seed.keepalive_s),
                ws_ping_s: get("ping").and_then(|v| v.parse().ok()).unwrap_or(seed.ws_ping_s),
            },
            since,
            drops: PerTransport::from_fn(|t| get(&drop_field(t)).and_then(|v| v.parse().ok()).unwrap_or(0)),
        }
    }
}

/// Writes `seed` where the document has no value yet, and reads the document.
pub async fn seed(conn: &mut ConnectionManager, keys: &Keys, seed: &Settings) -> redis::RedisResult<SettingsDoc> {
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
        .hset_nx(k, "keepalive", seed.keepalive_s)
        .ignore()
        .hset_nx(k, "ping", seed.ws_ping_s)
        .ignore()
        .hgetall(k)
        .query_async::<(HashMap<String, String>,)>(conn)
        .await?
        .0;
    Ok(SettingsDoc::parse(&hash, seed.clone()))
}

/// Reads the document.
pub async fn read(conn: &mut ConnectionManager, keys: &Keys, seed: Settings) -> redis::RedisResult<SettingsDoc> {
    let hash: HashMap<String, String> = redis::cmd("HGETALL").arg(&keys.settings).query_async(conn).await?;
    Ok(SettingsDoc::parse(&hash, seed))
}

/// Applies one action to the document in one transaction; returns the new
/// document. `defaults` are what `reset_lab` returns to.
pub async fn change(
    conn: &mut ConnectionManager,
    keys: &Keys,
    action: &ControlAction,
    defaults: &Settings,
) -> redis::RedisResult<SettingsDoc> {
    let k = &keys.settings;
    let mut pipe = redis::pipe();
    pipe.atomic();
    let all_faults: Vec<String> = FaultName::ALL.into_iter().map(fault_field).collect();
    match *action {
        ControlAction::SetRate { per_s } => pipe.hset(k, "rate", per_s).ignore(),
        ControlAction::Pause => pipe.hset(k, "paused", 1).ignore(),
        ControlAction::Resume => pipe.hset(k, "paused", 0).ignore(),
        ControlAction::Delay { ms } => pipe.hset(k, "delay", ms).ignore(),
        ControlAction::Drop { transport } => pipe.hincr(k, drop_field(transport), 1).ignore(),
        ControlAction::Burst { .. } => &mut pipe, // owed to the leader, not a setting
        ControlAction::Fault(FaultChange::On(f)) => {
            let json = serde_json::to_string(&f).expect("a fault always serializes");
            pipe.hset(k, fault_field(f.name()), format!("{} {json}", crate::hub::now_us())).ignore()
        }
        ControlAction::Fault(FaultChange::Off(name)) => pipe.hdel(k, fault_field(name)).ignore(),
        ControlAction::Fault(FaultChange::Clear) => pipe.hdel(k, &all_faults).ignore(),
        ControlAction::SetKeepalive { s } => pipe.hset(k, "keepalive", s).ignore(),
        ControlAction::SetPing { s } => pipe.hset(k, "ping", s).ignore(),
        ControlAction::ResetLab => pipe
            .hdel(k, &all_faults)
            .ignore()
            .hset_multiple(
                k,
                &[
                    ("rate", defaults.rate_per_s.to_string()),
                    ("paused", "0".into()),
                    ("delay", "0".into()),
                    ("keepalive", defaults.keepalive_s.to_string()),
                    ("ping", defaults.ws_ping_s.to_string()),
                ],
            )
            .ignore(),
    };
    let (hash,): (HashMap<String, String>,) = pipe.hincr(k, "v", 1).ignore().hgetall(k).query_async(conn).await?;
    Ok(SettingsDoc::parse(&hash, defaults.clone()))
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
        control.set(doc.settings, doc.since);
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
        let seed = Settings::new(5.0, 15);
        let now = crate::hub::now_us().to_string();
        let hash: HashMap<String, String> = [
            ("v", "4"),
            ("rate", "50"),
            ("paused", "1"),
            ("drop:sse", "2"),
            ("delay", "x"),
            ("ping", "7"),
            ("fault:idle-cut", &format!("{now} {{\"fault\": \"idle-cut\", \"after_s\": 3}}")),
            ("fault:latency", "12 {\"fault\": \"latency\"}"),
            ("fault:buffering", "nonsense"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .into();
        let doc = SettingsDoc::parse(&hash, seed.clone());
        assert_eq!((doc.v, doc.settings.rate_per_s, doc.settings.paused, doc.settings.delay_ms), (4, 50.0, true, 0));
        assert_eq!((doc.settings.keepalive_s, doc.settings.ws_ping_s), (15, 7));
        assert_eq!(doc.settings.faults, [Fault::IdleCut { after_s: 3 }], "expired and unreadable faults are off");
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
        assert_eq!(control.settings().faults.len(), 1);
        assert_eq!(control.settings().rate_per_s, 50.0, "an older or equal version changes nothing");
        assert!(!sse.has_changed().unwrap());
    }
}
