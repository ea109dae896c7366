//! `POST /api/control`: the instructor's actions, and the settings they change.

use serde::de::{Deserializer, Error};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fault::{DEFAULT_PING_S, Fault, FaultChange};
use crate::tagged::{self, Tagged};
use crate::transport::Transport;

/// Read in one pass (see `tagged`): announcements carry one, and serde's
/// derive for tagged enums would add its intermediate tree to the WASM.
#[derive(Clone, Debug, PartialEq)]
pub enum ControlAction {
    SetRate {
        per_s: f64,
    },
    Burst {
        n: u32,
    },
    Pause,
    Resume,
    Drop {
        transport: Transport,
    },
    Delay {
        ms: u64,
    },
    /// A fault on or off, or every fault off (`crate::fault`).
    Fault(FaultChange),
    /// The SSE keep-alive interval, seconds.
    SetKeepalive {
        s: u64,
    },
    /// The WebSocket heartbeat interval, seconds.
    SetPing {
        s: u64,
    },
    /// Rate, pause, delay, faults and intervals back to their defaults.
    ResetLab,
}

tagged::deserialize_tagged!(ControlAction);

/// Written by hand: serde's derive for a tagged enum with a newtype variant
/// (`Fault`) pulls a whole wrapping serializer into the WASM.
impl Serialize for ControlAction {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        let tag = |m: &mut S::SerializeMap, name: &str| m.serialize_entry("action", name);
        match self {
            ControlAction::SetRate { per_s } => {
                tag(&mut m, "set_rate")?;
                m.serialize_entry("per_s", per_s)?;
            }
            ControlAction::Burst { n } => {
                tag(&mut m, "burst")?;
                m.serialize_entry("n", n)?;
            }
            ControlAction::Pause => tag(&mut m, "pause")?,
            ControlAction::Resume => tag(&mut m, "resume")?,
            ControlAction::Drop { transport } => {
                tag(&mut m, "drop")?;
                m.serialize_entry("transport", transport)?;
            }
            ControlAction::Delay { ms } => {
                tag(&mut m, "delay")?;
                m.serialize_entry("ms", ms)?;
            }
            ControlAction::Fault(change) => {
                tag(&mut m, "fault")?;
                change.entries(&mut m)?;
            }
            ControlAction::SetKeepalive { s } => {
                tag(&mut m, "set_keepalive")?;
                m.serialize_entry("s", s)?;
            }
            ControlAction::SetPing { s } => {
                tag(&mut m, "set_ping")?;
                m.serialize_entry("s", s)?;
            }
            ControlAction::ResetLab => tag(&mut m, "reset_lab")?,
        }
        m.end()
    }
}

impl Tagged for ControlAction {
    const TAG: &'static str = "action";
    const EXPECTING: &'static str = "a control action tagged by `action`";

    fn read<'de, D: Deserializer<'de>>(tag: &str, rest: D) -> Result<Self, D::Error> {
        // Read through a JSON value, which the dashboard decodes anyway: one
        // derived reader per action's fields cost the WASM more than this.
        let Value::Object(rest) = Value::deserialize(rest)? else {
            return Err(D::Error::custom("expected an object"));
        };
        let get = |field: &'static str| rest.get(field).ok_or_else(|| D::Error::missing_field(field));
        let number = |field: &'static str| {
            get(field)?.as_u64().ok_or_else(|| D::Error::custom(format!("`{field}` must be a whole number, 0 or more")))
        };
        let seconds = || number("s");
        Ok(match tag {
            "set_rate" => ControlAction::SetRate {
                per_s: get("per_s")?.as_f64().ok_or_else(|| D::Error::custom("`per_s` must be a number"))?,
            },
            "burst" => ControlAction::Burst {
                n: u32::try_from(number("n")?).map_err(|_| D::Error::custom("`n` is too large"))?,
            },
            "pause" => ControlAction::Pause,
            "resume" => ControlAction::Resume,
            "drop" => {
                let t = get("transport")?;
                let transport = t.as_str().and_then(|t| t.parse().ok()).ok_or_else(|| {
                    D::Error::custom(format!(
                        "unknown variant {t} for `transport`: expected poll, long-poll, sse or ws"
                    ))
                })?;
                ControlAction::Drop { transport }
            }
            "delay" => ControlAction::Delay { ms: number("ms")? },
            "fault" => ControlAction::Fault(FaultChange::from_value(Value::Object(rest)).map_err(D::Error::custom)?),
            "set_keepalive" => ControlAction::SetKeepalive { s: seconds()? },
            "set_ping" => ControlAction::SetPing { s: seconds()? },
            "reset_lab" => ControlAction::ResetLab,
            other => return Err(D::Error::unknown_variant(other, ACTIONS)),
        })
    }
}

const ACTIONS: &[&str] =
    &["set_rate", "burst", "pause", "resume", "drop", "delay", "fault", "set_keepalive", "set_ping", "reset_lab"];

/// The instructor's current settings, shown to everyone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub rate_per_s: f64,
    pub paused: bool,
    pub delay_ms: u64,
    /// The faults on, sorted by name; empty when none.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Seconds between SSE keep-alives.
    #[serde(default = "default_keepalive")]
    pub keepalive_s: u64,
    /// Seconds between WebSocket heartbeats (server ping and the page's app ping).
    #[serde(default = "default_ping")]
    pub ws_ping_s: u64,
}

fn default_keepalive() -> u64 {
    15
}

fn default_ping() -> u64 {
    DEFAULT_PING_S
}

impl Settings {
    /// A lab with no fault and default intervals.
    pub fn new(rate_per_s: f64, keepalive_s: u64) -> Self {
        Settings { rate_per_s, paused: false, delay_ms: 0, faults: Vec::new(), keepalive_s, ws_ping_s: DEFAULT_PING_S }
    }

    /// The fault of that kind, when it is on.
    pub fn fault(&self, name: crate::fault::FaultName) -> Option<&Fault> {
        self.faults.iter().find(|f| f.name() == name)
    }
}

pub const RATE_RANGE: std::ops::RangeInclusive<f64> = 0.1..=1000.0;
pub const BURST_RANGE: std::ops::RangeInclusive<u32> = 1..=10_000;
pub const DELAY_RANGE: std::ops::RangeInclusive<u64> = 0..=10_000;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn actions_match_the_wire() {
        let cases = [
            (json!({"action": "set_rate", "per_s": 50.0}), ControlAction::SetRate { per_s: 50.0 }),
            (json!({"action": "burst", "n": 100}), ControlAction::Burst { n: 100 }),
            (json!({"action": "pause"}), ControlAction::Pause),
            (json!({"action": "resume"}), ControlAction::Resume),
            (
                json!({"action": "drop", "transport": "long-poll"}),
                ControlAction::Drop { transport: Transport::LongPoll },
            ),
            (json!({"action": "delay", "ms": 250}), ControlAction::Delay { ms: 250 }),
            (
                json!({"action": "fault", "fault": "hold-first", "ms": 3000}),
                ControlAction::Fault(FaultChange::On(Fault::HoldFirst { ms: 3000 })),
            ),
            (
                json!({"action": "fault", "fault": "buffering", "off": true}),
                ControlAction::Fault(FaultChange::Off(crate::fault::FaultName::Buffering)),
            ),
            (json!({"action": "fault", "fault": "none"}), ControlAction::Fault(FaultChange::Clear)),
            (json!({"action": "set_keepalive", "s": 5}), ControlAction::SetKeepalive { s: 5 }),
            (json!({"action": "set_ping", "s": 10}), ControlAction::SetPing { s: 10 }),
            (json!({"action": "reset_lab"}), ControlAction::ResetLab),
        ];
        for (value, action) in cases {
            assert_eq!(serde_json::from_value::<ControlAction>(value.clone()).unwrap(), action);
            assert_eq!(serde_json::to_value(&action).unwrap(), value);
        }
        let late_tag: ControlAction = serde_json::from_str(r#"{"per_s": 5, "action": "set_rate"}"#).unwrap();
        assert_eq!(late_tag, ControlAction::SetRate { per_s: 5.0 }, "the tag may come anywhere");
        let err = |t: &str| serde_json::from_str::<ControlAction>(t).unwrap_err().to_string();
        assert!(err(r#"{"action": "explode"}"#).contains("unknown variant `explode`"));
        assert!(err(r#"{"per_s": 5}"#).contains("missing field `action`"));
        assert!(err(r#"{"action": "burst"}"#).contains("missing field `n`"));
        assert!(err(r#"{"action": "fault", "fault": "buffering", "ms": 1}"#).contains("no parameter `ms`"));
        let late: ControlAction = serde_json::from_str(r#"{"fault": "none", "action": "fault"}"#).unwrap();
        assert_eq!(late, ControlAction::Fault(FaultChange::Clear));
        assert!(err(r#"{"action": "drop", "transport": "pigeon"}"#).contains("unknown variant"));
        assert!(err(r#"{"action": "set_ping", "s": -3}"#).contains("`s` must be a whole number"));
        assert_eq!(
            serde_json::to_value(Settings::new(50.0, 15)).unwrap(),
            json!({"rate_per_s": 50.0, "paused": false, "delay_ms": 0, "faults": [], "keepalive_s": 15, "ws_ping_s": 20})
        );
        let old: Settings = serde_json::from_value(json!({"rate_per_s": 5.0, "paused": false, "delay_ms": 0})).unwrap();
        assert_eq!(old, Settings::new(5.0, 15), "a server without faults reads as none");
    }
}
