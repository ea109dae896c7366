//! Publishes pushlab envelopes to a server that cannot make its own stream
//! (nchan): `POST /pub` over one kept-alive connection, paced like pushlab's
//! simulator, steered like its instructor API (rate, burst, pause, resume).
//! The envelope is stamped just before it is sent, on this machine's clock,
//! so latency needs no clock offset.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pushlab::{Envelope, Event, JobState, NotificationKind};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::client::now_us;
use crate::wire::Target;
use crate::{LoadError, http};

#[derive(Clone, Copy, Debug)]
struct Settings {
    rate_per_s: f64,
    paused: bool,
    /// Events to publish at once, on top of the pace.
    bursts: u32,
}

/// A handle on the publishing task; dropping it stops the task.
#[derive(Debug)]
pub struct Feeder {
    settings: Arc<Mutex<Settings>>,
    changed: Arc<Notify>,
    stop: CancellationToken,
}

impl Drop for Feeder {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Feeder {
    /// Starts publishing to `http://{host}{path}` at `rate_per_s`.
    pub async fn start(host: &str, path: &str, rate_per_s: f64) -> Result<Feeder, LoadError> {
        let conn = http::connect(&Target::plain(host), Arc::default()).await?;
        let feeder = Feeder {
            settings: Arc::new(Mutex::new(Settings { rate_per_s, paused: false, bursts: 0 })),
            changed: Arc::default(),
            stop: CancellationToken::new(),
        };
        let task = Task {
            conn,
            host: host.to_owned(),
            path: path.to_owned(),
            epoch: format!("{:x}", now_us() / 1_000_000),
            seq: 0,
            settings: feeder.settings.clone(),
            changed: feeder.changed.clone(),
        };
        tokio::spawn(task.run(feeder.stop.clone()));
        Ok(feeder)
    }

    pub fn set_rate(&self, per_s: f64) {
        self.change(|s| s.rate_per_s = per_s);
    }

    pub fn set_paused(&self, paused: bool) {
        self.change(|s| s.paused = paused);
    }

    pub fn burst(&self, n: u32) {
        self.change(|s| s.bursts += n);
    }

    fn change(&self, f: impl FnOnce(&mut Settings)) {
        f(&mut self.settings.lock().expect("feeder settings"));
        self.changed.notify_one();
    }
}

struct Task {
    conn: http::Conn,
    host: String,
    path: String,
    epoch: String,
    seq: u64,
    settings: Arc<Mutex<Settings>>,
    changed: Arc<Notify>,
}

impl Task {
    async fn run(mut self, stop: CancellationToken) {
        let mut anchor = Instant::now();
        let mut emitted = 0u64;
        loop {
            let s = *self.settings.lock().expect("feeder settings");
            let due = anchor + Duration::from_secs_f64((emitted + 1) as f64 / s.rate_per_s.max(0.001));
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = self.changed.notified() => {
                    // New settings restart the pacing, as pushlab's simulator does.
                    anchor = Instant::now();
                    emitted = 0;
                    let n = std::mem::take(&mut self.settings.lock().expect("feeder settings").bursts);
                    for _ in 0..n {
                        self.publish().await;
                    }
                }
                _ = tokio::time::sleep_until(due), if !s.paused => {
                    let owed = (anchor.elapsed().as_secs_f64() * s.rate_per_s) as u64;
                    while emitted < owed {
                        self.publish().await;
                        emitted += 1;
                    }
                }
            }
        }
    }

    async fn publish(&mut self) {
        self.seq += 1;
        let env = Envelope {
            id: format!("{}-{}", self.epoch, self.seq),
            seq: self.seq,
            sent_at_us: now_us(),
            event: payload(self.seq),
        };
        let body = serde_json::to_vec(&env).expect("an envelope serializes");
        if self.conn.post(&self.path, body).await.is_err() {
            // One reconnect; an event lost here shows as a gap in every client.
            if let Ok(conn) = http::connect(&Target::plain(&self.host), Arc::default()).await {
                self.conn = conn;
            }
        }
    }
}

/// Payloads shaped and sized like pushlab's simulator's (and the Node peers').
fn payload(seq: u64) -> Event {
    const JOBS: [&str; 5] = ["Export invoices", "Rebuild search index", "Send digest", "Resize images", "Sync CRM"];
    match seq % 4 {
        0 => {
            let job = (seq >> 2) % 40;
            let progress = ((seq * 7) % 101) as u8;
            Event::JobUpdate {
                job_id: format!("job-{job}"),
                name: JOBS[job as usize % JOBS.len()].to_owned(),
                progress,
                state: if progress == 100 { JobState::Done } else { JobState::Running },
            }
        }
        1 => Event::Notification { kind: NotificationKind::Mention, text: "Ana mentioned you in #billing".into() },
        _ => Event::CounterUpdate { name: "active_users".into(), value: 100 + (seq % 57) as i64 },
    }
}
