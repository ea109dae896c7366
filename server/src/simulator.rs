//! The built-in event source: a SaaS dashboard's stream — background jobs that
//! queue, run and finish (or fail), an active-users counter that drifts, and
//! notifications — at the instructor's rate.

use std::time::Duration;

use pushlab::Settings;
use pushlab::{Event, JobState, NotificationKind};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use tokio::sync::mpsc::Receiver;
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::broker::{BrokerError, Sink};

const JOB_NAMES: &[&str] = &[
    "Export invoices",
    "Sync CRM contacts",
    "Generate monthly report",
    "Rebuild search index",
    "Send weekly newsletter",
    "Import customers.csv",
    "Resize uploaded images",
    "Back up database",
];
const PEOPLE: &[&str] = &["Ana", "Bruno", "Chen", "Dana", "Emeka", "Farah", "Goran", "Hana"];
const CHANNELS: &[&str] = &["billing", "design", "support", "releases", "growth"];
const DOCS: &[&str] = &["Q3 roadmap", "Pricing page copy", "Onboarding checklist", "Incident 2291 review"];
const SERVICES: &[&str] = &["checkout-api", "search", "email-worker", "auth"];
const PROJECTS: &[&str] = &["Mobile app", "Data warehouse", "Partner portal"];
const MAX_ACTIVE_JOBS: usize = 3;
/// A burst or a catch-up publishes at most this many events per wake-up.
const MAX_PER_TICK: u64 = 1000;

struct Job {
    id: String,
    name: &'static str,
    progress: u8,
    state: JobState,
}

pub struct Simulator {
    rng: StdRng,
    jobs: Vec<Job>,
    next_job: u32,
    active_users: i64,
}

impl Simulator {
    pub fn new(seed: u64) -> Self {
        Simulator { rng: StdRng::seed_from_u64(seed), jobs: Vec::new(), next_job: 1, active_users: 128 }
    }

    /// A first screenful, so a fresh page is never blank.
    pub fn opening(&mut self) -> Vec<Event> {
        let mut events = vec![self.counter()];
        for _ in 0..2 {
            events.push(self.start_job());
            events.push(self.advance_job(0));
        }
        events.push(self.notification());
        events
    }

    /// Takes up a stream another leader made: its running jobs go on, new
    /// job ids follow the highest seen, the counter continues from its value.
    pub fn adopt(&mut self, history: &[pushlab::Envelope]) {
        let mut running: Vec<Job> = Vec::new();
        for envelope in history {
            match &envelope.event {
                Event::JobUpdate { job_id, name, progress, state, .. } => {
                    let n = job_id.strip_prefix("job-").and_then(|n| n.parse::<u32>().ok()).unwrap_or(0);
                    self.next_job = self.next_job.max(n + 1);
                    running.retain(|j| &j.id != job_id);
                    if !state.is_finished() {
                        let name = JOB_NAMES.iter().find(|&&n| n == name).copied().unwrap_or("Job");
                        running.push(Job { id: job_id.clone(), name, progress: *progress, state: *state });
                    }
                }
                Event::CounterUpdate { name, value } if name == "active_users" => self.active_users = *value,
                _ => {}
            }
        }
        running.truncate(MAX_ACTIVE_JOBS);
        self.jobs = running;
    }

    pub fn next_event(&mut self) -> Event {
        match self.rng.random_range(0..10) {
            0..5 => self.job_step(),
            5..8 => self.counter(),
            _ => self.notification(),
        }
    }

    fn job_step(&mut self) -> Event {
        let start_new = self.jobs.is_empty() || (self.jobs.len() < MAX_ACTIVE_JOBS && self.rng.random_bool(0.25));
        if start_new {
            return self.start_job();
        }
        let i = self.rng.random_range(0..self.jobs.len());
        self.advance_job(i)
    }

    fn start_job(&mut self) -> Event {
        let job = Job {
            id: format!("job-{}", self.next_job),
            name: JOB_NAMES.choose(&mut self.rng).copied().unwrap_or("Job"),
            progress: 0,
            state: JobState::Queued,
        };
        self.next_job += 1;
        let event = job_event(&job);
        self.jobs.push(job);
        event
    }

    fn advance_job(&mut self, i: usize) -> Event {
        let fails = self.rng.random_bool(0.03);
        let step = self.rng.random_range(5..=25);
        let job = &mut self.jobs[i];
        job.state = if fails {
            JobState::Failed
        } else {
            job.progress = (job.progress + step).min(100);
            if job.progress == 100 { JobState::Done } else { JobState::Running }
        };
        let event = job_event(job);
        if job.state.is_finished() {
            self.jobs.remove(i);
        }
        event
    }

    fn counter(&mut self) -> Event {
        self.active_users = (self.active_users + self.rng.random_range(-5..=5)).clamp(40, 400);
        Event::CounterUpdate { name: "active_users".into(), value: self.active_users }
    }

    fn notification(&mut self) -> Event {
        let r = &mut self.rng;
        let who = PEOPLE.choose(r).copied().unwrap_or("Ana");
        let (kind, text) = match r.random_range(0..5) {
            0 => (
                NotificationKind::Mention,
                format!("{who} mentioned you in #{}", CHANNELS.choose(r).copied().unwrap_or("general")),
            ),
            1 => (NotificationKind::Approval, format!("Invoice #{} needs approval", r.random_range(100..999))),
            2 => (
                NotificationKind::Comment,
                format!("{who} commented on “{}”", DOCS.choose(r).copied().unwrap_or("a doc")),
            ),
            3 => (
                NotificationKind::Alert,
                format!("Error rate on {} above 2%", SERVICES.choose(r).copied().unwrap_or("api")),
            ),
            _ => (
                NotificationKind::Invite,
                format!("{who} invited you to {}", PROJECTS.choose(r).copied().unwrap_or("a project")),
            ),
        };
        Event::Notification { kind, text }
    }
}

fn job_event(job: &Job) -> Event {
    Event::JobUpdate { job_id: job.id.clone(), name: job.name.into(), progress: job.progress, state: job.state }
}

/// Events are due at `anchor + k / rate`: counting from an anchor keeps high rates
/// exact although the timer wakes at most once a millisecond. A pace belongs to
/// one settings value; any new value starts a new pace.
struct Pace {
    anchor: Instant,
    emitted: u64,
}

impl Pace {
    fn new() -> Self {
        Pace { anchor: Instant::now(), emitted: 0 }
    }

    fn next_due(&self, rate_per_s: f64) -> Instant {
        self.anchor + Duration::from_secs_f64((self.emitted + 1) as f64 / rate_per_s)
    }

    /// How many events are owed now (at least 1, at most a tick's worth); counts them.
    fn take_owed(&mut self, rate_per_s: f64) -> u64 {
        let owed = (self.anchor.elapsed().as_secs_f64() * rate_per_s) as u64;
        let n = owed.saturating_sub(self.emitted).clamp(1, MAX_PER_TICK);
        self.emitted += n;
        if owed > self.emitted + MAX_PER_TICK {
            // Fell far behind (a stalled machine): start afresh rather than flood.
            *self = Pace::new();
        }
        n
    }
}

/// A burst is published a tick's worth at a time, this far apart, so no client
/// (a page above all) is handed 10,000 events in one go.
const BURST_SLICE_EVERY: Duration = Duration::from_millis(50);

/// Events a new leader reads back to take up the jobs still running.
const ADOPT_SCAN: usize = 2000;
/// After a refused or failed publish, the simulator waits this long before trying again.
const BACKOFF: Duration = Duration::from_millis(250);

/// Publishes at the current rate while this instance leads, until shutdown
/// (only bursts when not `timed`).
pub async fn run<S: Sink>(
    sink: S,
    mut leader: watch::Receiver<bool>,
    mut settings: watch::Receiver<Settings>,
    mut bursts: Receiver<u32>,
    timed: bool,
    shutdown: CancellationToken,
) {
    let mut sim = Simulator::new(rand::random());
    loop {
        while !*leader.borrow_and_update() {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                changed = leader.changed() => if changed.is_err() { return },
            }
        }
        let history = sink.recent(ADOPT_SCAN);
        if history.is_empty() {
            if timed {
                let _ = sink.publish(sim.opening(), true).await;
            }
        } else {
            sim.adopt(&history);
        }
        match lead(&sink, &mut sim, &mut leader, &mut settings, &mut bursts, timed, &shutdown).await {
            Led::Stopped => return,
            Led::Deposed => {}
            Led::Failed => {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(BACKOFF) => {}
                }
            }
        }
    }
}

enum Led {
    Stopped,
    /// Another instance holds the lease now.
    Deposed,
    /// A publish failed (the broker is down): nothing is made up for the outage.
    Failed,
}

async fn lead<S: Sink>(
    sink: &S,
    sim: &mut Simulator,
    leader: &mut watch::Receiver<bool>,
    settings: &mut watch::Receiver<Settings>,
    bursts: &mut Receiver<u32>,
    timed: bool,
    shutdown: &CancellationToken,
) -> Led {
    let failed = |e: BrokerError| match e {
        BrokerError::NotLeader => Led::Deposed,
        BrokerError::Down(_) => Led::Failed,
    };
    // Settings are read only where a change is noticed, so the pace can never
    // run on a value it was not started for (reading them at the top of the
    // loop once left a rate cut from 1000/s to 5/s waiting minutes for its
    // next event, and turned resumes into bursts).
    let mut s = settings.borrow_and_update().clone();
    let mut pace = Pace::new();
    let (mut burst_owed, mut next_slice) = (0u64, Instant::now());
    // A leadership nobody can take away (no broker) has no sender left to watch.
    let mut contested = true;
    loop {
        let due = pace.next_due(s.rate_per_s);
        tokio::select! {
            _ = shutdown.cancelled() => return Led::Stopped,
            changed = leader.changed(), if contested => match changed {
                Err(_) => contested = false,
                Ok(()) if !*leader.borrow_and_update() => return Led::Deposed,
                Ok(()) => {}
            },
            changed = settings.changed() => {
                if changed.is_err() { return Led::Stopped; }
                s = settings.borrow_and_update().clone();
                pace = Pace::new();
            }
            // The next burst is taken once this one is out: the queue in Control stays bounded.
            Some(n) = bursts.recv(), if burst_owed == 0 => burst_owed = u64::from(n),
            _ = sleep_until(next_slice), if burst_owed > 0 => {
                let n = burst_owed.min(MAX_PER_TICK);
                burst_owed -= n;
                next_slice = Instant::now() + BURST_SLICE_EVERY;
                if let Err(e) = sink.publish((0..n).map(|_| sim.next_event()).collect(), true).await {
                    return failed(e);
                }
            }
            _ = sleep_until(due), if timed && !s.paused => {
                let n = pace.take_owed(s.rate_per_s);
                if let Err(e) = sink.publish((0..n).map(|_| sim.next_event()).collect(), true).await {
                    return failed(e);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    use crate::control::Control;
    use crate::hub::Hub;

    /// A simulator at `rate` on a fresh hub (`timed: false` publishes bursts only).
    fn start(rate: f64, timed: bool) -> (Hub<()>, Control, CancellationToken, tokio::task::JoinHandle<()>) {
        let hub = Hub::with_epoch(1, 100_000, |_, _| ());
        let (control, bursts) = Control::new("t".into(), rate);
        let stop = CancellationToken::new();
        let leader = tokio::sync::watch::channel(true).1;
        let task = tokio::spawn(run(hub.clone(), leader, control.watch_settings(), bursts, timed, stop.clone()));
        (hub, control, stop, task)
    }

    #[test]
    fn jobs_progress_monotonically_and_finish() {
        let mut sim = Simulator::new(7);
        let mut last: HashMap<String, (u8, JobState)> = HashMap::new();
        let mut finished = 0;
        for _ in 0..5000 {
            if let Event::JobUpdate { job_id, progress, state, .. } = sim.next_event() {
                if let Some((p, s)) = last.get(&job_id) {
                    assert!(!s.is_finished(), "{job_id} updated after finishing");
                    assert!(progress >= *p, "{job_id} went backwards");
                }
                if state == JobState::Done {
                    assert_eq!(progress, 100);
                }
                finished += state.is_finished() as u32;
                last.insert(job_id, (progress, state));
            }
            assert!(sim.jobs.len() <= MAX_ACTIVE_JOBS);
        }
        assert!(finished > 50, "jobs finish: {finished}");
    }

    #[test]
    fn the_mix_has_every_kind_and_the_counter_stays_in_bounds() {
        let mut sim = Simulator::new(1);
        let mut kinds = std::collections::HashSet::new();
        for _ in 0..1000 {
            let e = sim.next_event();
            if let Event::CounterUpdate { value, .. } = e {
                assert!((40..=400).contains(&value));
            }
            kinds.insert(e.type_name());
        }
        assert_eq!(kinds.len(), 3, "{kinds:?}");
        assert!(sim.opening().len() >= 5);
    }

    /// Issue 10: a change that landed while the pace was being served was read
    /// without re-anchoring; 1000/s then 5/s waited ~100 s for the next event.
    /// Paused time wakes the test and the simulator at the same instant, so
    /// each change races the due timer (about half of them lost it before).
    #[tokio::test(start_paused = true)]
    async fn keeps_the_new_pace_through_many_rate_changes() {
        let (hub, control, stop, task) = start(5.0, true);
        let rate = |per_s| control.apply(pushlab::ControlAction::SetRate { per_s }).unwrap();
        for i in 0..12 {
            rate(1000.0);
            tokio::time::sleep(Duration::from_millis(300)).await;
            rate(5.0);
            let before = hub.head();
            tokio::time::sleep(Duration::from_secs(2)).await;
            let made = hub.head() - before;
            assert!((9..=11).contains(&made), "change {i}: {made} events in 2 s at 5/s");
            // Lands on a due tick of the 5/s pace: a raise must not pay back the past as a burst.
            rate(1000.0);
            let before = hub.head();
            tokio::time::sleep(Duration::from_millis(10)).await;
            let made = hub.head() - before;
            assert!((9..=12).contains(&made), "raise {i}: {made} events in 10 ms at 1000/s");
        }
        control.apply(pushlab::ControlAction::Pause).unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let before = hub.head();
        control.apply(pushlab::ControlAction::Resume).unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(hub.head() - before <= 11, "resume is no burst: {}", hub.head() - before);
        stop.cancel();
        task.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_large_burst_goes_out_in_slices() {
        let (hub, control, stop, task) = start(5.0, false);
        tokio::time::sleep(Duration::from_millis(1)).await;
        control.apply(pushlab::ControlAction::Burst { n: 10_000 }).unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(hub.head(), MAX_PER_TICK, "the first slice at once, no more");
        tokio::time::sleep(BURST_SLICE_EVERY * 10).await;
        assert_eq!(hub.head(), 10_000, "all of it within ten slices");
        stop.cancel();
        task.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn publishes_at_the_set_rate_and_obeys_pause_and_burst() {
        let (hub, control, stop, task) = start(100.0, true);
        tokio::time::sleep(Duration::from_millis(10)).await;
        let opening = hub.head();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let made = hub.head() - opening;
        assert!((195..=205).contains(&made), "{made} events in 2 s at 100/s");
        control.apply(pushlab::ControlAction::Pause).unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        let paused_at = hub.head();
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(hub.head(), paused_at, "paused");
        control.apply(pushlab::ControlAction::Burst { n: 50 }).unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(hub.head(), paused_at + 50, "a burst runs even when paused");
        stop.cancel();
        task.await.unwrap();
    }
}
