//! `POST /api/control`: the instructor's actions, and the settings they change.

use serde::de::{Deserializer, Error, IgnoredAny};
use serde::{Deserialize, Serialize};

use crate::tagged::{self, Tagged};
use crate::transport::Transport;

/// Read in one pass (see `tagged`): announcements carry one, and serde's
/// derive for tagged enums would add its intermediate tree to the WASM.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ControlAction {
    SetRate { per_s: f64 },
    Burst { n: u32 },
    Pause,
    Resume,
    Drop { transport: Transport },
    Delay { ms: u64 },
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
        let plain = |action, rest: D| IgnoredAny::deserialize(rest).map(|_| action);
        Ok(match tag {
            "set_rate" => ControlAction::SetRate { per_s: SetRate::deserialize(rest)?.per_s },
            "burst" => ControlAction::Burst { n: Burst::deserialize(rest)?.n },
            "pause" => plain(ControlAction::Pause, rest)?,
            "resume" => plain(ControlAction::Resume, rest)?,
            "drop" => ControlAction::Drop { transport: Drop::deserialize(rest)?.transport },
            "delay" => ControlAction::Delay { ms: Delay::deserialize(rest)?.ms },
            other => {
                return Err(D::Error::unknown_variant(
                    other,
                    &["set_rate", "burst", "pause", "resume", "drop", "delay"],
                ));
            }
        })
    }
}

/// The instructor's current settings, shown to everyone.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub rate_per_s: f64,
    pub paused: bool,
    pub delay_ms: u64,
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
        assert_eq!(
            serde_json::to_value(Settings { rate_per_s: 50.0, paused: false, delay_ms: 0 }).unwrap(),
            json!({"rate_per_s": 50.0, "paused": false, "delay_ms": 0})
        );
    }
}
