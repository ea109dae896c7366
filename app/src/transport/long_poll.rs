//! Long polling: the server holds each request until there is news; re-issue
//! at once, and back off (with jitter) only after errors.

use gloo_timers::future::TimeoutFuture;
use leptos::task::spawn_local;
use pushlab::PollResponse;

use super::{PollLoop, after, apply_poll, client_id, http, now_ms, random};
use crate::frame::work;
use crate::lab::Status;
use crate::model::LogKind;
use crate::model::backoff::backoff_ms;
use crate::report::{Answer, Report};

/// Under common proxy idle timeouts (30–60 s).
pub const HOLD_MS: u32 = 25_000;

/// `cut`: the previous connection was cut on purpose, so the first answer is a reconnect.
pub fn start(report: Report, cut: bool) -> PollLoop {
    let (handle, running, signal) = PollLoop::new();
    report.status(Status::Connecting);
    spawn_local(async move {
        let (mut failures, mut again) = (0u32, cut);
        while running.get() {
            let url = format!(
                "{}?after={}&timeout_ms={HOLD_MS}&client={}",
                pushlab::paths::LONG_POLL,
                after(&report),
                client_id()
            );
            let t0 = now_ms();
            report.request();
            report.status(Status::Waiting);
            // Which instance holds it is known when it returns.
            let entry = report.log(report.line(LogKind::LongPollHeld, t0, "held by the server").by(None));
            let reply = http::get(&url, signal.as_ref()).await;
            if !running.get() {
                // Switched away or cut: the held line must not stay "held" forever.
                let took = now_ms() - t0;
                report.update_log(entry, |e| {
                    (e.kind, e.duration_ms) = (LogKind::LongPollCancelled, Some(took));
                    e.note = "given up by the page".into();
                });
                return;
            }
            work(|| {
                let now = now_ms();
                let took = Some(now - t0);
                if let Ok(r) = &reply {
                    report.answered_by(r.instance.as_deref());
                    report.carried_by(r.protocol.as_deref());
                    let by = r.instance.clone();
                    report.update_log(entry, |e| e.instance = by);
                }
                let answer = |r: &http::Reply, events| Answer {
                    status: r.status,
                    payload_bytes: r.text.len() as u64,
                    wire_bytes: r.wire_bytes,
                    new_connection: r.new_connection,
                    events,
                };
                let fail = |status: Option<u16>, note: String| {
                    report.count_error();
                    report.update_log(entry, |e| {
                        (e.kind, e.status, e.duration_ms, e.note) = (LogKind::Error, status, took, note)
                    });
                };
                match reply {
                    Ok(r) if r.status == 204 => {
                        failures = 0;
                        report.answered(&answer(&r, 0), std::mem::take(&mut again));
                        report.update_log(entry, |e| {
                            (e.kind, e.status, e.duration_ms) = (LogKind::LongPollTimeout, Some(204), took);
                            e.note = "nothing new: re-issued".into();
                        });
                    }
                    Ok(r) if r.status == 200 => match serde_json::from_str::<PollResponse>(&r.text) {
                        Ok(body) => {
                            failures = 0;
                            report.answered(&answer(&r, body.events.len()), std::mem::take(&mut again));
                            let size = Some(r.wire_bytes.unwrap_or(r.text.len() as u64));
                            report.update_log(entry, |e| {
                                (e.kind, e.status, e.bytes, e.duration_ms) =
                                    (LogKind::LongPollReturned, Some(200), size, took);
                                e.note = format!("{} events", body.events.len());
                            });
                            apply_poll(&report, &body, r.arrived_ms);
                        }
                        Err(e) => {
                            failures += 1;
                            report.update_log(entry, |l| {
                                (l.kind, l.status, l.duration_ms) = (LogKind::Error, Some(200), took)
                            });
                            report.unparsed(now, r.text.len(), e);
                        }
                    },
                    Ok(r) => {
                        failures += 1;
                        fail(Some(r.status), r.text);
                    }
                    Err(e) => {
                        failures += 1;
                        fail(None, e);
                    }
                }
            });
            if failures > 0 {
                again = true;
                report.status(Status::Reconnecting);
                TimeoutFuture::new(backoff_ms(failures, random()) as u32).await;
            }
        }
    });
    handle
}
