//! Long polling: the server holds each request until there is news; re-issue
//! at once, and back off (with jitter) only after errors.

use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use pushlab::{PollResponse, Transport};

use super::{PollLoop, after, apply_poll, client_id, http, now_ms, random};
use crate::lab::{Lab, Status};
use crate::model::LogKind;
use crate::model::backoff::backoff_ms;

const T: Transport = Transport::LongPoll;
/// Under common proxy idle timeouts (30–60 s).
pub const HOLD_MS: u32 = 25_000;

pub fn start(lab: Lab) -> PollLoop {
    let (handle, running, signal) = PollLoop::new();
    lab.status.set(Status::Connecting);
    spawn_local(async move {
        let mut failures = 0u32;
        while running.get() {
            let url = format!("/api/long-poll?after={}&timeout_ms={HOLD_MS}&client={}", after(&lab), client_id());
            let t0 = now_ms();
            lab.metrics_of(T, |m| m.requests += 1);
            lab.status.set(Status::Waiting);
            let entry = lab.log_entry(T, LogKind::LongPollHeld, t0, None, None, None, "held by the server".into());
            let reply = http::get(&url, signal.as_ref()).await;
            if !running.get() {
                return;
            }
            let now = now_ms();
            let took = Some(now - t0);
            match reply {
                Ok(r) if r.status == 204 => {
                    failures = 0;
                    lab.metrics_of(T, |m| {
                        m.empty += 1;
                        m.wire_bytes += r.wire_bytes.unwrap_or(0);
                        m.connections += u64::from(r.new_connection);
                    });
                    lab.log.update(|l| {
                        l.update(entry, |e| {
                            (e.kind, e.status, e.duration_ms) = (LogKind::LongPollTimeout, Some(204), took);
                            e.note = "nothing new: re-issued".into();
                        })
                    });
                }
                Ok(r) if r.status == 200 => match serde_json::from_str::<PollResponse>(&r.text) {
                    Ok(body) => {
                        failures = 0;
                        lab.metrics_of(T, |m| {
                            m.payload_bytes += r.text.len() as u64;
                            m.wire_bytes += r.wire_bytes.unwrap_or(0);
                            m.connections += u64::from(r.new_connection);
                        });
                        let size = Some(r.wire_bytes.unwrap_or(r.text.len() as u64));
                        lab.log.update(|l| {
                            l.update(entry, |e| {
                                (e.kind, e.status, e.bytes, e.duration_ms) =
                                    (LogKind::LongPollReturned, Some(200), size, took);
                                e.note = format!("{} events", body.events.len());
                            })
                        });
                        apply_poll(&lab, T, &body, now);
                    }
                    Err(e) => failures = fail(&lab, entry, Some(200), took, e.to_string(), failures),
                },
                Ok(r) => failures = fail(&lab, entry, Some(r.status), took, r.text, failures),
                Err(e) => failures = fail(&lab, entry, None, took, e, failures),
            }
            if failures > 0 {
                lab.status.set(Status::Reconnecting);
                TimeoutFuture::new(backoff_ms(failures, random()) as u32).await;
            }
        }
    });
    handle
}

fn fail(lab: &Lab, entry: u64, status: Option<u16>, took: Option<f64>, note: String, failures: u32) -> u32 {
    lab.metrics_of(T, |m| m.errors += 1);
    lab.log.update(|l| {
        l.update(entry, |e| {
            (e.kind, e.status, e.duration_ms, e.note) = (LogKind::Error, status, took, note);
        })
    });
    failures + 1
}
