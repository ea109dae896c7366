//! The traps: faults the instructor switches on, as `POST /api/control`
//! `{"action": "fault", ...}` carries them and `settings.faults` lists them
//! (`docs/PROTOCOL.md`, "Faults"). Each fault imitates what a middlebox does
//! to a real deployment; its parameters, ranges and defaults live here once.

use std::fmt;
use std::ops::RangeInclusive;

use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::transport::Transport;

/// A fault's name on the wire. Declared in the order `settings.faults` lists them (by name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultName {
    Buffering,
    HoldFirst,
    IdleCut,
    Latency,
    WsDies,
}

impl FaultName {
    pub const ALL: [FaultName; 5] =
        [FaultName::Buffering, FaultName::HoldFirst, FaultName::IdleCut, FaultName::Latency, FaultName::WsDies];

    pub fn as_str(self) -> &'static str {
        match self {
            FaultName::Buffering => "buffering",
            FaultName::HoldFirst => "hold-first",
            FaultName::IdleCut => "idle-cut",
            FaultName::Latency => "latency",
            FaultName::WsDies => "ws-dies",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        FaultName::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// What it imitates, in a participant's words.
    pub fn imitates(self) -> &'static str {
        match self {
            FaultName::Buffering => "a proxy buffers Server-Sent Events: they arrive in clumps, seconds late",
            FaultName::HoldFirst => "a proxy or antivirus holds each new stream's first bytes",
            FaultName::IdleCut => "a load balancer cuts connections that sent nothing for a while",
            FaultName::Latency => "a slow network path delays every answer and frame",
            FaultName::WsDies => "a middlebox silently drops a WebSocket: no close, no pong",
        }
    }
}

impl fmt::Display for FaultName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub const BUFFER_BYTES: RangeInclusive<u32> = 1..=1_048_576;
pub const BUFFER_MAX_MS: RangeInclusive<u32> = 1..=60_000;
pub const HOLD_MS: RangeInclusive<u32> = 1..=30_000;
pub const IDLE_AFTER_S: RangeInclusive<u32> = 1..=300;
pub const DIES_AFTER_MS: RangeInclusive<u32> = 0..=300_000;
pub const LATENCY_MS: RangeInclusive<u32> = 0..=10_000;
pub const JITTER_MS: RangeInclusive<u32> = 0..=10_000;
/// `set_keepalive`: the SSE keep-alive, seconds.
pub const KEEPALIVE_S: RangeInclusive<u64> = 1..=15;
/// `set_ping`: the WebSocket heartbeat, seconds.
pub const PING_S: RangeInclusive<u64> = 5..=60;
/// The WebSocket heartbeat before any `set_ping`.
pub const DEFAULT_PING_S: u64 = 20;
/// A fault switched on and not switched on again goes off after this.
pub const FAULT_LIFETIME_S: u64 = 30 * 60;

/// One fault and its parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fault {
    Buffering { bytes: u32, max_ms: u32 },
    HoldFirst { ms: u32 },
    IdleCut { after_s: u32 },
    Latency { ms: u32, jitter_ms: u32, transport: Option<Transport> },
    WsDies { after_ms: u32 },
}

impl Fault {
    /// The fault with its default parameters (what `{"fault": NAME}` alone switches on).
    pub fn default_of(name: FaultName) -> Fault {
        match name {
            FaultName::Buffering => Fault::Buffering { bytes: 4096, max_ms: 5000 },
            FaultName::HoldFirst => Fault::HoldFirst { ms: 3000 },
            FaultName::IdleCut => Fault::IdleCut { after_s: 10 },
            FaultName::Latency => Fault::Latency { ms: 200, jitter_ms: 0, transport: None },
            FaultName::WsDies => Fault::WsDies { after_ms: 5000 },
        }
    }

    pub fn name(&self) -> FaultName {
        match self {
            Fault::Buffering { .. } => FaultName::Buffering,
            Fault::HoldFirst { .. } => FaultName::HoldFirst,
            Fault::IdleCut { .. } => FaultName::IdleCut,
            Fault::Latency { .. } => FaultName::Latency,
            Fault::WsDies { .. } => FaultName::WsDies,
        }
    }

    /// Whether it acts on transport `t`'s connections.
    pub fn acts_on(&self, t: Transport) -> bool {
        match *self {
            Fault::Buffering { .. } => t == Transport::Sse,
            Fault::HoldFirst { .. } => t != Transport::Poll,
            Fault::IdleCut { .. } => t.is_held(),
            Fault::Latency { transport, .. } => transport.is_none_or(|only| only == t),
            Fault::WsDies { .. } => t == Transport::Ws,
        }
    }

    /// Its parameters as `(name, value)`, in wire order.
    fn params(&self) -> Vec<(&'static str, u32)> {
        match *self {
            Fault::Buffering { bytes, max_ms } => vec![("bytes", bytes), ("max_ms", max_ms)],
            Fault::HoldFirst { ms } => vec![("ms", ms)],
            Fault::IdleCut { after_s } => vec![("after_s", after_s)],
            Fault::Latency { ms, jitter_ms, .. } => vec![("ms", ms), ("jitter_ms", jitter_ms)],
            Fault::WsDies { after_ms } => vec![("after_ms", after_ms)],
        }
    }

    /// Refuses a parameter out of its range, naming the range.
    pub fn check(&self) -> Result<(), String> {
        let within = |name: &str, v: u32, r: RangeInclusive<u32>| {
            if r.contains(&v) {
                Ok(())
            } else {
                Err(format!("{}: {name} must be {}–{}", self.name(), r.start(), r.end()))
            }
        };
        match *self {
            Fault::Buffering { bytes, max_ms } => {
                within("bytes", bytes, BUFFER_BYTES)?;
                within("max_ms", max_ms, BUFFER_MAX_MS)
            }
            Fault::HoldFirst { ms } => within("ms", ms, HOLD_MS),
            Fault::IdleCut { after_s } => within("after_s", after_s, IDLE_AFTER_S),
            Fault::Latency { ms, jitter_ms, .. } => {
                within("ms", ms, LATENCY_MS)?;
                within("jitter_ms", jitter_ms, JITTER_MS)
            }
            Fault::WsDies { after_ms } => within("after_ms", after_ms, DIES_AFTER_MS),
        }
    }

    /// Its parameters in words, for the banner and announcements.
    pub fn describe(&self) -> String {
        match *self {
            Fault::Buffering { bytes, max_ms } => format!("SSE held until {bytes} bytes or {max_ms} ms"),
            Fault::HoldFirst { ms } => format!("first bytes of each stream held {ms} ms"),
            Fault::IdleCut { after_s } => format!("connections silent for {after_s} s are cut"),
            Fault::Latency { ms, jitter_ms, transport } => {
                let on = transport.map_or("every transport".to_owned(), |t| t.label().to_owned());
                match jitter_ms {
                    0 => format!("+{ms} ms on {on}"),
                    j => format!("+{ms} ms (±{j} ms jitter) on {on}"),
                }
            }
            Fault::WsDies { after_ms } => format!("each WebSocket goes silent {after_ms} ms after it opens"),
        }
    }
}

impl Fault {
    /// Its fields, into an object being written (a `fault` action's, or its own).
    pub(crate) fn entries<M: SerializeMap>(&self, m: &mut M) -> Result<(), M::Error> {
        m.serialize_entry("fault", &self.name())?;
        for (name, v) in self.params() {
            m.serialize_entry(name, &v)?;
        }
        if let Fault::Latency { transport: Some(t), .. } = self {
            m.serialize_entry("transport", t)?;
        }
        Ok(())
    }
}

impl Serialize for Fault {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        self.entries(&mut m)?;
        m.end()
    }
}

/// Every field a fault object may carry; which belong to which fault is checked after.
#[derive(Default)]
struct Raw {
    fault: String,
    off: Option<bool>,
    bytes: Option<u32>,
    max_ms: Option<u32>,
    ms: Option<u32>,
    jitter_ms: Option<u32>,
    after_s: Option<u32>,
    after_ms: Option<u32>,
    transport: Option<Transport>,
}

impl Raw {
    /// Read through a JSON value, which the dashboard already decodes (pong
    /// nonces): a derived reader for these fields cost the WASM more.
    fn from_value(v: Value) -> Result<Raw, String> {
        let Value::Object(map) = v else { return Err("expected a fault object".into()) };
        let mut raw = Raw::default();
        let mut named = false;
        for (k, v) in map {
            let number = || {
                v.as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| format!("`{k}` must be a whole number, 0 or more"))
            };
            match k.as_str() {
                "fault" => {
                    raw.fault = v.as_str().ok_or("`fault` must be a string")?.to_owned();
                    named = true;
                }
                "off" => raw.off = Some(v.as_bool().ok_or("`off` must be true or false")?),
                "bytes" => raw.bytes = Some(number()?),
                "max_ms" => raw.max_ms = Some(number()?),
                "ms" => raw.ms = Some(number()?),
                "jitter_ms" => raw.jitter_ms = Some(number()?),
                "after_s" => raw.after_s = Some(number()?),
                "after_ms" => raw.after_ms = Some(number()?),
                "transport" => {
                    let t = v.as_str().and_then(|t| t.parse().ok());
                    raw.transport = Some(t.ok_or_else(|| {
                        format!("unknown variant {v} for `transport`: expected poll, long-poll, sse or ws")
                    })?);
                }
                other => return Err(format!("unknown field `{other}`")),
            }
        }
        if !named {
            return Err("missing field `fault`".into());
        }
        Ok(raw)
    }

    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Raw, D::Error> {
        Raw::from_value(Value::deserialize(d)?).map_err(D::Error::custom)
    }
}

impl Raw {
    /// The parameters given, by name.
    fn given(&self) -> impl Iterator<Item = &'static str> {
        [
            ("bytes", self.bytes.is_some()),
            ("max_ms", self.max_ms.is_some()),
            ("ms", self.ms.is_some()),
            ("jitter_ms", self.jitter_ms.is_some()),
            ("after_s", self.after_s.is_some()),
            ("after_ms", self.after_ms.is_some()),
            ("transport", self.transport.is_some()),
        ]
        .into_iter()
        .filter_map(|(n, given)| given.then_some(n))
    }

    fn fault(&self, name: FaultName) -> Result<Fault, String> {
        let fault = match Fault::default_of(name) {
            Fault::Buffering { bytes, max_ms } => {
                Fault::Buffering { bytes: self.bytes.unwrap_or(bytes), max_ms: self.max_ms.unwrap_or(max_ms) }
            }
            Fault::HoldFirst { ms } => Fault::HoldFirst { ms: self.ms.unwrap_or(ms) },
            Fault::IdleCut { after_s } => Fault::IdleCut { after_s: self.after_s.unwrap_or(after_s) },
            Fault::Latency { ms, jitter_ms, .. } => Fault::Latency {
                ms: self.ms.unwrap_or(ms),
                jitter_ms: self.jitter_ms.unwrap_or(jitter_ms),
                transport: self.transport,
            },
            Fault::WsDies { after_ms } => Fault::WsDies { after_ms: self.after_ms.unwrap_or(after_ms) },
        };
        let takes = match name {
            FaultName::Buffering => "bytes, max_ms",
            FaultName::HoldFirst => "ms",
            FaultName::IdleCut => "after_s",
            FaultName::Latency => "ms, jitter_ms, transport",
            FaultName::WsDies => "after_ms",
        };
        match self.given().find(|p| !takes.split(", ").any(|t| t == *p)) {
            Some(p) => Err(format!("{name} takes no parameter `{p}` (it takes: {takes})")),
            None => Ok(fault),
        }
    }

    fn name(&self) -> Result<FaultName, String> {
        FaultName::parse(&self.fault).ok_or_else(|| {
            format!(
                "unknown fault `{}`: expected none, buffering, hold-first, idle-cut, latency or ws-dies",
                self.fault
            )
        })
    }

    fn change(self) -> Result<FaultChange, String> {
        if self.fault == "none" {
            return match self.given().next().or(self.off.map(|_| "off")) {
                Some(p) => Err(format!("none takes no parameter `{p}`")),
                None => Ok(FaultChange::Clear),
            };
        }
        let name = self.name()?;
        match self.off {
            Some(true) => match self.given().next() {
                Some(p) => Err(format!("turning {name} off takes no parameter `{p}`")),
                None => Ok(FaultChange::Off(name)),
            },
            _ => self.fault(name).map(FaultChange::On),
        }
    }
}

impl<'de> Deserialize<'de> for Fault {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Raw::read(d)?;
        if raw.off.is_some() {
            return Err(D::Error::custom("a listed fault has no `off`"));
        }
        raw.name().and_then(|n| raw.fault(n)).map_err(D::Error::custom)
    }
}

/// What a `fault` action does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FaultChange {
    /// Switches a fault on, or replaces its parameters.
    On(Fault),
    Off(FaultName),
    /// `"fault": "none"`: every fault off.
    Clear,
}

impl FaultChange {
    /// Reads the fields of a `fault` action other than `action`.
    pub(crate) fn from_value(v: Value) -> Result<Self, String> {
        Raw::from_value(v)?.change()
    }
}

impl FaultChange {
    pub(crate) fn entries<M: SerializeMap>(&self, m: &mut M) -> Result<(), M::Error> {
        match self {
            FaultChange::On(f) => f.entries(m),
            FaultChange::Off(name) => {
                m.serialize_entry("fault", name)?;
                m.serialize_entry("off", &true)
            }
            FaultChange::Clear => m.serialize_entry("fault", "none"),
        }
    }
}

impl Serialize for FaultChange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        self.entries(&mut m)?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(v: serde_json::Value) -> Result<FaultChange, String> {
        Raw::from_value(v).and_then(Raw::change)
    }

    #[test]
    fn faults_read_with_defaults_and_write_their_own_shape() {
        assert_eq!(
            change(json!({"fault": "buffering"})).unwrap(),
            FaultChange::On(Fault::Buffering { bytes: 4096, max_ms: 5000 })
        );
        let latency = change(json!({"fault": "latency", "ms": 50, "transport": "sse"})).unwrap();
        assert_eq!(latency, FaultChange::On(Fault::Latency { ms: 50, jitter_ms: 0, transport: Some(Transport::Sse) }));
        assert_eq!(
            serde_json::to_value(latency).unwrap(),
            json!({"fault": "latency", "ms": 50, "jitter_ms": 0, "transport": "sse"})
        );
        assert_eq!(change(json!({"fault": "ws-dies", "off": true})).unwrap(), FaultChange::Off(FaultName::WsDies));
        assert_eq!(change(json!({"fault": "none"})).unwrap(), FaultChange::Clear);
        let listed = json!({"fault": "idle-cut", "after_s": 10});
        let f: Fault = serde_json::from_value(listed.clone()).unwrap();
        assert_eq!(serde_json::to_value(f).unwrap(), listed);
    }

    #[test]
    fn unknown_faults_and_parameters_are_refused() {
        assert!(change(json!({"fault": "explode"})).unwrap_err().contains("unknown fault `explode`"));
        assert!(change(json!({"fault": "buffering", "ms": 5})).unwrap_err().contains("no parameter `ms`"));
        assert!(change(json!({"fault": "buffering", "colour": 5})).unwrap_err().contains("unknown field"));
        assert!(change(json!({"fault": "none", "off": true})).is_err());
        assert!(change(json!({"fault": "hold-first", "off": true, "ms": 3})).is_err());
        assert!(change(json!({"fault": "idle-cut", "after_s": -1})).is_err());
    }

    #[test]
    fn ranges_are_checked_and_named() {
        assert!(Fault::Buffering { bytes: 0, max_ms: 5 }.check().unwrap_err().contains("bytes must be 1–1048576"));
        assert!(Fault::WsDies { after_ms: 0 }.check().is_ok());
        assert!(Fault::IdleCut { after_s: 301 }.check().is_err());
        assert!(Fault::Latency { ms: 10_000, jitter_ms: 10_001, transport: None }.check().is_err());
    }

    #[test]
    fn each_fault_acts_on_its_transports() {
        let on = |f: Fault| Transport::ALL.into_iter().filter(|&t| f.acts_on(t)).collect::<Vec<_>>();
        assert_eq!(on(Fault::Buffering { bytes: 1, max_ms: 1 }), [Transport::Sse]);
        assert_eq!(on(Fault::HoldFirst { ms: 1 }), [Transport::LongPoll, Transport::Sse, Transport::Ws]);
        assert_eq!(on(Fault::WsDies { after_ms: 1 }), [Transport::Ws]);
        assert_eq!(on(Fault::Latency { ms: 1, jitter_ms: 0, transport: None }).len(), 4);
    }
}
