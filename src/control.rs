//! `POST /api/control`: the instructor's actions, and the settings they change.

use serde::de::{Deserializer, Error, IgnoredAny};
use serde::{Deserialize, Serialize};

use crate::fault::{DEFAULT_PING_S, Fault, FaultChange};
use crate::tagged::{self, Tagged};
use crate::transport::Transport;

/// Read in one pass (see `tagged`): announcements carry one, and serde's
/// derive for tagged enums would add its intermediate tree to the WASM.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
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

impl Tagged for ControlAction {
    const TAG: &'static str = "action";
    const EXPECTING: &'static str = "a control action tagged by `action`";

    fn read<'de, D: Deserializer<'de>>(tag: &str, rest: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct SetRate {
            per_s: f64,
        }
        #[derive(Deserialize)]
        struct Burst {
            n: u32,
        }
        #[derive(Deserialize)]
        struct Drop {
            transport: Transport,
        }
        #[derive(Deserialize)]
        struct Delay {
            ms: u64,
        }
        #[derive(Deserialize)]
        struct Seconds {
            s: u64,
        }
        let plain = |action, rest: D| IgnoredAny::deserialize(rest).map(|_| action);
        Ok(match tag {
            "set_rate" => ControlAction::SetRate { per_s: SetRate::deserialize(rest)?.per_s },
            "burst" => ControlAction::Burst { n: Burst::deserialize(rest)?.n },
            "pause" => plain(ControlAction::Pause, rest)?,
            "resume" => plain(ControlAction::Resume, rest)?,
            "drop" => ControlAction::Drop { transport: Drop::deserialize(rest)?.transport },
            "delay" => ControlAction::Delay { ms: Delay::deserialize(rest)?.ms },
            "fault" => ControlAction::Fault(FaultChange::read(rest)?),
            "set_keepalive" => ControlAction::SetKeepalive { s: Seconds::deserialize(rest)?.s },
            "set_ping" => ControlAction::SetPing { s: Seconds::deserialize(rest)?.s },
            "reset_lab" => plain(ControlAction::ResetLab, rest)?,
            other => {
                return Err(D::Error::unknown_variant(
                    other,
                    &[
                        "set_rate",
                        "burst",
                        "pause",
                        "resume",
                        "drop",
                        "delay",
                        "fault",
                        "set_keepalive",
                        "set_ping",
                        "reset_lab",
                    ],
                ));
            }
        })
    }
}

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
        assert_eq!(
            serde_json::to_value(Settings::new(50.0, 15)).unwrap(),
            json!({"rate_per_s": 50.0, "paused": false, "delay_ms": 0, "faults": [], "keepalive_s": 15, "ws_ping_s": 20})
        );
        let old: Settings = serde_json::from_value(json!({"rate_per_s": 5.0, "paused": false, "delay_ms": 0})).unwrap();
        assert_eq!(old, Settings::new(5.0, 15), "a server without faults reads as none");
    }
}
