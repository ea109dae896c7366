//! The envelope every transport delivers, and the typed events of a SaaS
//! dashboard it carries.

use serde::de::{Deserializer, IgnoredAny};
use serde::{Deserialize, Serialize};

use crate::control::ControlAction;
use crate::tagged::{self, Tagged};

/// One delivered event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The event's cursor (`<epoch>-<seq>`), opaque to clients.
    pub id: String,
    /// Position in this server run's stream; each event is the previous + 1.
    pub seq: u64,
    /// Server wall clock at publish, Unix microseconds.
    pub sent_at_us: i64,
    pub event: Event,
}

/// The payload, internally tagged by `type` (read in one pass: see `tagged`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum Event {
    #[serde(rename = "notification")]
    Notification { kind: NotificationKind, text: String },
    #[serde(rename = "job:update")]
    JobUpdate { job_id: String, name: String, progress: u8, state: JobState },
    #[serde(rename = "counter:update")]
    CounterUpdate { name: String, value: i64 },
    #[serde(rename = "chat:message")]
    ChatMessage { from: String, text: String },
    #[serde(rename = "presence")]
    Presence { counts: PresenceCounts },
    /// A lab event: the instructor did something, and every page says so in words.
    #[serde(rename = "announcement")]
    Announcement {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        action: Option<ControlAction>,
    },
    /// A type this build does not know: clients skip it but still count its seq.
    #[serde(skip_serializing)]
    Unknown,
}

tagged::deserialize_tagged!(Event);

impl Tagged for Event {
    const EXPECTING: &'static str = "an event object tagged by `type`";

    fn read<'de, D: Deserializer<'de>>(tag: &str, rest: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Notification {
            kind: NotificationKind,
            text: String,
        }
        #[derive(Deserialize)]
        struct JobUpdate {
            job_id: String,
            name: String,
            progress: u8,
            state: JobState,
        }
        #[derive(Deserialize)]
        struct CounterUpdate {
            name: String,
            value: i64,
        }
        #[derive(Deserialize)]
        struct ChatMessage {
            from: String,
            text: String,
        }
        #[derive(Deserialize)]
        struct Presence {
            counts: PresenceCounts,
        }
        #[derive(Deserialize)]
        struct Announcement {
            text: String,
            #[serde(default)]
            action: Option<ControlAction>,
        }
        Ok(match tag {
            "notification" => {
                let Notification { kind, text } = Notification::deserialize(rest)?;
                Event::Notification { kind, text }
            }
            "job:update" => {
                let JobUpdate { job_id, name, progress, state } = JobUpdate::deserialize(rest)?;
                Event::JobUpdate { job_id, name, progress, state }
            }
            "counter:update" => {
                let CounterUpdate { name, value } = CounterUpdate::deserialize(rest)?;
                Event::CounterUpdate { name, value }
            }
            "chat:message" => {
                let ChatMessage { from, text } = ChatMessage::deserialize(rest)?;
                Event::ChatMessage { from, text }
            }
            "presence" => Event::Presence { counts: Presence::deserialize(rest)?.counts },
            "announcement" => {
                let Announcement { text, action } = Announcement::deserialize(rest)?;
                Event::Announcement { text, action }
            }
            _ => {
                IgnoredAny::deserialize(rest)?;
                Event::Unknown
            }
        })
    }
}

impl Event {
    /// The `type` tag, also used as the SSE `event:` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::Notification { .. } => "notification",
            Event::JobUpdate { .. } => "job:update",
            Event::CounterUpdate { .. } => "counter:update",
            Event::ChatMessage { .. } => "chat:message",
            Event::Presence { .. } => "presence",
            Event::Announcement { .. } => "announcement",
            Event::Unknown => "unknown",
        }
    }

    /// Every type name the server emits: a client listens for each (EventSource
    /// hands a named event only to a listener of that name, so a missing one
    /// would read as a gap). Lab events are last.
    pub const TYPE_NAMES: [&'static str; 6] =
        ["notification", "job:update", "counter:update", "chat:message", "presence", "announcement"];

    /// Lab events tell about the lab, not the SaaS story; a page acts on one only live.
    pub fn is_lab(&self) -> bool {
        matches!(self, Event::Announcement { .. })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    Mention,
    Approval,
    Comment,
    Alert,
    Invite,
    #[serde(other)]
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobState {
    pub fn is_finished(self) -> bool {
        matches!(self, JobState::Done | JobState::Failed)
    }
}

/// Clients per transport, as counted by the server: the one per-transport
/// type, so a new transport is a compile error wherever it is not handled.
pub type PresenceCounts = crate::stats::PerTransport<u32>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn round_trip(event: Event, expected: Value) {
        assert_eq!(serde_json::to_value(&event).unwrap(), expected);
        assert_eq!(serde_json::from_value::<Event>(expected).unwrap(), event);
    }

    #[test]
    fn payloads_match_the_wire() {
        round_trip(
            Event::JobUpdate {
                job_id: "job-17".into(),
                name: "Export invoices".into(),
                progress: 40,
                state: JobState::Running,
            },
            json!({"type": "job:update", "job_id": "job-17", "name": "Export invoices", "progress": 40, "state": "running"}),
        );
        round_trip(
            Event::Notification { kind: NotificationKind::Mention, text: "Ana mentioned you in #billing".into() },
            json!({"type": "notification", "kind": "mention", "text": "Ana mentioned you in #billing"}),
        );
        round_trip(
            Event::CounterUpdate { name: "active_users".into(), value: 128 },
            json!({"type": "counter:update", "name": "active_users", "value": 128}),
        );
        round_trip(
            Event::ChatMessage { from: "guest-7QX2".into(), text: "hello".into() },
            json!({"type": "chat:message", "from": "guest-7QX2", "text": "hello"}),
        );
        round_trip(
            Event::Presence { counts: PresenceCounts { poll: 3, long_poll: 2, sse: 11, ws: 9 } },
            json!({"type": "presence", "counts": {"poll": 3, "long-poll": 2, "sse": 11, "ws": 9}}),
        );
        round_trip(
            Event::Announcement {
                text: "The instructor set the rate to 50 events/s.".into(),
                action: Some(ControlAction::SetRate { per_s: 50.0 }),
            },
            json!({"type": "announcement", "text": "The instructor set the rate to 50 events/s.",
                   "action": {"action": "set_rate", "per_s": 50.0}}),
        );
        round_trip(
            Event::Announcement { text: "Break: back at 11:00".into(), action: None },
            json!({"type": "announcement", "text": "Break: back at 11:00"}),
        );
    }

    #[test]
    fn envelope_matches_the_wire() {
        let text = r#"{"id":"k3f9q2-1042","seq":1042,"sent_at_us":1795660000123456,"event":{"type":"job:update","job_id":"job-17","name":"Export invoices","progress":40,"state":"running"}}"#;
        let env: Envelope = serde_json::from_str(text).unwrap();
        assert_eq!(env.id, "k3f9q2-1042");
        assert_eq!(env.seq, 1042);
        assert_eq!(env.sent_at_us, 1_795_660_000_123_456);
        assert_eq!(serde_json::to_string(&env).unwrap(), text);
    }

    #[test]
    fn unknown_types_and_kinds_still_parse() {
        let env: Envelope = serde_json::from_str(
            r#"{"id":"a-7","seq":7,"sent_at_us":1,"event":{"type":"billing:invoice","amount":3}}"#,
        )
        .unwrap();
        assert_eq!(env.event, Event::Unknown);
        assert_eq!(env.seq, 7);
        let n: Event = serde_json::from_str(r#"{"type":"notification","kind":"reaction","text":"x"}"#).unwrap();
        assert_eq!(n, Event::Notification { kind: NotificationKind::Other, text: "x".into() });
    }

    #[test]
    fn type_names_match_the_tags() {
        let samples = [
            Event::Notification { kind: NotificationKind::Alert, text: String::new() },
            Event::JobUpdate { job_id: String::new(), name: String::new(), progress: 0, state: JobState::Queued },
            Event::CounterUpdate { name: String::new(), value: 0 },
            Event::ChatMessage { from: String::new(), text: String::new() },
            Event::Presence { counts: PresenceCounts::default() },
            Event::Announcement { text: String::new(), action: None },
        ];
        for (event, name) in samples.iter().zip(Event::TYPE_NAMES) {
            assert_eq!(event.type_name(), name);
            assert_eq!(serde_json::to_value(event).unwrap()["type"], name);
        }
    }
}
