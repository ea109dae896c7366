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
            Event::Unknown => {}
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
