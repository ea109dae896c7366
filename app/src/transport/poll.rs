//! Short polling: ask `/api/poll` on a timer; every answer, empty or not, is a request.

use gloo_timers::future::TimeoutFuture;
use leptos::task::spawn_local;
use pushlab::PollResponse;

use super::{PollLoop, after, apply_poll, client_id, http, now_ms, random};
use crate::frame::work;
use crate::lab::Status;
use crate::model::LogKind;
use crate::model::backoff::backoff_ms;
use crate::report::{Answer, Report};

/// `cut`: the previous connection was cut on purpose, so the first answer is a reconnect.
pub fn start(report: Report, interval_s: u32, cut: bool) -> PollLoop {
    let (handle, running, signal) = PollLoop::new();
    report.status(Status::Open);
    spawn_local(async move {
        let (mut failures, mut again) = (0u32, cut);
        while running.get() {
            let url = format!("{}?after={}&client={}", pushlab::paths::POLL, after(&report), client_id());
            let t0 = now_ms();
            report.request();
            let reply = http::get(&url, signal.as_ref()).await;
            if !running.get() {
                return;
            }
            let more = work(|| {
                let now = now_ms();
                if let Ok(r) = &reply {
                    report.answered_by(r.instance.as_deref());
                    report.carried_by(r.protocol.as_deref());
                }
                match reply {
                    Ok(r) if r.status == 200 => match serde_json::from_str::<PollResponse>(&r.text) {
                        Ok(body) => {
                            failures = 0;
                            report.status(Status::Open);
                            let n = body.events.len();
                            let answer = Answer {
                                status: 200,
                                payload_bytes: r.text.len() as u64,
                                wire_bytes: r.wire_bytes,
                                new_connection: r.new_connection,
                                events: n,
                            };
                            report.answered(&answer, std::mem::take(&mut again));
                            let kind = if n == 0 { LogKind::EmptyPoll } else { LogKind::Poll };
                            let size = r.wire_bytes.unwrap_or(r.text.len() as u64);
                            report.log(
                                report.line(kind, now, format!("{n} events")).status(200).bytes(size).took(now - t0),
                            );
                            apply_poll(&report, &body, r.arrived_ms);
                            body.more
                        }
                        Err(e) => {
                            failures += 1;
                            report.unparsed(now, r.text.len(), e);
                            false
                        }
                    },
                    Ok(r) => {
                        failures += 1;
                        report.failed(report.line(LogKind::Error, now, r.text).status(r.status).took(now - t0));
                        false
                    }
                    Err(e) => {
                        failures += 1;
                        report.status(Status::Reconnecting);
                        report.failed(report.line(LogKind::Error, now, e).took(now - t0));
                        false
                    }
                }
            });
            again |= failures > 0;
            // Catch-up pages come at once; errors back off; otherwise the timer.
            let wait = match (more, failures) {
                (true, 0) => 0.0,
                (_, 0) => f64::from(interval_s) * 1000.0,
                (_, n) => backoff_ms(n, random()).max(f64::from(interval_s) * 1000.0),
            };
            TimeoutFuture::new(wait as u32).await;
        }
    });
    handle
}
