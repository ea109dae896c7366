//! `POST /api/control`: the instructor's actions, and the settings they change.

use serde::{Deserialize, Serialize};

use crate::transport::Transport;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ControlAction {
    SetRate { per_s: f64 },
    Burst { n: u32 },
    Pause,
    Resume,
    Drop { transport: Transport },
    Delay { ms: u64 },
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
        assert_eq!(
            serde_json::to_value(Settings { rate_per_s: 50.0, paused: false, delay_ms: 0 }).unwrap(),
            json!({"rate_per_s": 50.0, "paused": false, "delay_ms": 0})
        );
    }
}
