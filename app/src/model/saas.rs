//! The SaaS dashboard the events describe: jobs, the live counter,
//! notifications, chat and who is here.

use std::collections::VecDeque;

use pushlab::{Envelope, Event, JobState, NotificationKind, PresenceCounts};

pub const NOTIFICATIONS: usize = 6;
pub const CHAT: usize = 30;
/// Finished jobs stay on screen a little while, so a room sees them end.
pub const FINISHED_JOBS: usize = 3;

#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub id: String,
    pub name: String,
    pub progress: u8,
    pub state: JobState,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    pub seq: u64,
    pub kind: NotificationKind,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Chat {
    pub seq: u64,
    pub from: String,
    pub text: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Saas {
    /// Running jobs first, oldest first; then the last few finished.
    pub jobs: Vec<Job>,
    pub counter: Option<(String, i64)>,
    pub notifications: VecDeque<Notification>,
    pub chat: VecDeque<Chat>,
    pub presence: Option<PresenceCounts>,
}

/// Of a stretch of history (oldest first), the events that rebuild what the
/// dashboard shows: the newest value of each counter, the newest presence, the
/// newest update of the latest jobs, the last notifications and chat lines.
/// Oldest first, so applying them in order gives that state.
pub fn snapshot(history: &[Envelope]) -> Vec<Envelope> {
    use std::collections::HashSet;
    let (mut counters, mut jobs, mut presence, mut notes, mut chat) = (HashSet::new(), HashSet::new(), false, 0, 0);
    let mut keep: Vec<Envelope> = history
        .iter()
        .rev()
        .filter(|e| match &e.event {
            Event::CounterUpdate { name, .. } => counters.insert(name.clone()),
            Event::JobUpdate { job_id, .. } => jobs.len() < SNAPSHOT_JOBS && jobs.insert(job_id.clone()),
            Event::Presence { .. } => !std::mem::replace(&mut presence, true),
            Event::Notification { .. } => {
                notes += 1;
                notes <= NOTIFICATIONS
            }
            Event::ChatMessage { .. } => {
                chat += 1;
                chat <= CHAT
            }
            // Lab events are the lab's current state, sent apart (never replayed).
            Event::Announcement { .. } | Event::Unknown => false,
        })
        .cloned()
        .collect();
    keep.reverse();
    keep
}

/// Jobs a first render shows at most (running and just finished).
pub const SNAPSHOT_JOBS: usize = 8;

impl Saas {
    pub fn apply(&mut self, env: &Envelope) {
        match &env.event {
            Event::JobUpdate { job_id, name, progress, state } => {
                let job = Job { id: job_id.clone(), name: name.clone(), progress: *progress, state: *state };
                match self.jobs.iter_mut().find(|j| j.id == *job_id) {
                    Some(j) => *j = job,
                    None => self.jobs.push(job),
                }
                self.jobs.sort_by_key(|j| j.state.is_finished());
                let finished = self.jobs.iter().filter(|j| j.state.is_finished()).count();
                if finished > FINISHED_JOBS {
                    let first_finished = self.jobs.iter().position(|j| j.state.is_finished()).unwrap_or(0);
                    self.jobs.remove(first_finished);
                }
            }
            Event::CounterUpdate { name, value } => self.counter = Some((name.clone(), *value)),
            Event::Notification { kind, text } => {
                self.notifications.push_front(Notification { seq: env.seq, kind: *kind, text: text.clone() });
                self.notifications.truncate(NOTIFICATIONS);
            }
            Event::ChatMessage { from, text } => {
                self.chat.push_back(Chat { seq: env.seq, from: from.clone(), text: text.clone() });
                if self.chat.len() > CHAT {
                    self.chat.pop_front();
                }
            }
            Event::Presence { counts } => self.presence = Some(*counts),
            Event::Announcement { .. } | Event::Unknown => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(seq: u64, event: Event) -> Envelope {
        Envelope { id: format!("e-{seq}"), seq, sent_at_us: 0, event }
    }

    fn job(id: &str, progress: u8, state: JobState) -> Event {
        Event::JobUpdate { job_id: id.into(), name: format!("Job {id}"), progress, state }
    }

    #[test]
    fn jobs_update_in_place_and_finished_ones_fade_out() {
        let mut s = Saas::default();
        s.apply(&env(1, job("a", 0, JobState::Queued)));
        s.apply(&env(2, job("b", 10, JobState::Running)));
        s.apply(&env(3, job("a", 40, JobState::Running)));
        assert_eq!(s.jobs.iter().map(|j| (j.id.as_str(), j.progress)).collect::<Vec<_>>(), [("a", 40), ("b", 10)]);
        s.apply(&env(4, job("a", 100, JobState::Done)));
        assert_eq!(s.jobs[0].id, "b", "running jobs first");
        for (i, id) in ["c", "d", "e", "f"].iter().enumerate() {
            s.apply(&env(5 + i as u64, job(id, 0, JobState::Failed)));
        }
        assert_eq!(s.jobs.iter().filter(|j| j.state.is_finished()).count(), FINISHED_JOBS);
        assert!(!s.jobs.iter().any(|j| j.id == "a"), "the oldest finished job left");
    }

    #[test]
    fn a_snapshot_rebuilds_the_same_state_from_fewer_events() {
        let mut history = Vec::new();
        let mut seq = 0;
        let mut push = |event: Event| {
            seq += 1;
            history.push(env(seq, event));
        };
        push(Event::CounterUpdate { name: "active_users".into(), value: 1 });
        for i in 0..30u8 {
            push(job(&format!("j{}", i % 4), i * 3, if i % 7 == 6 { JobState::Done } else { JobState::Running }));
            push(Event::Notification { kind: NotificationKind::Alert, text: format!("n{i}") });
            push(Event::ChatMessage { from: "a".into(), text: format!("c{i}") });
        }
        push(Event::Presence { counts: PresenceCounts { poll: 1, long_poll: 0, sse: 2, ws: 0 } });
        for i in 0..40 {
            push(Event::Notification { kind: NotificationKind::Mention, text: format!("m{i}") });
        }
        let mut full = Saas::default();
        history.iter().for_each(|e| full.apply(e));
        let picked = snapshot(&history);
        assert_eq!(picked.len(), 1 + 4 + 1 + NOTIFICATIONS + CHAT, "of {}", history.len());
        assert!(picked.windows(2).all(|w| w[0].seq < w[1].seq), "oldest first");
        let mut rebuilt = Saas::default();
        picked.iter().for_each(|e| rebuilt.apply(e));
        assert_eq!(rebuilt.counter, full.counter, "the counter from long ago is kept");
        assert_eq!(rebuilt.presence, full.presence);
        assert_eq!(rebuilt.notifications, full.notifications);
        assert_eq!(rebuilt.chat.len(), CHAT.min(30));
        assert_eq!(
            rebuilt.jobs.iter().filter(|j| !j.state.is_finished()).count(),
            full.jobs.iter().filter(|j| !j.state.is_finished()).count()
        );
    }

    #[test]
    fn counter_notifications_chat_and_presence() {
        let mut s = Saas::default();
        s.apply(&env(1, Event::CounterUpdate { name: "active_users".into(), value: 7 }));
        for i in 0..10 {
            s.apply(&env(2 + i, Event::Notification { kind: NotificationKind::Mention, text: format!("n{i}") }));
        }
        s.apply(&env(20, Event::ChatMessage { from: "Ana".into(), text: "hi".into() }));
        let counts = PresenceCounts { poll: 1, long_poll: 2, sse: 3, ws: 4 };
        s.apply(&env(21, Event::Presence { counts }));
        assert_eq!(s.counter, Some(("active_users".into(), 7)));
        assert_eq!(s.notifications.len(), NOTIFICATIONS);
        assert_eq!(s.notifications[0].text, "n9", "newest first");
        assert_eq!(s.chat.back().map(|c| c.text.as_str()), Some("hi"));
        assert_eq!(s.presence, Some(counts));
    }
}
