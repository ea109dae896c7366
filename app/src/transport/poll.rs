//! Short polling: ask `/api/poll` on a timer; every answer, empty or not, is a request.

use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use pushlab::{PollResponse, Transport};

use super::{PollLoop, after, apply_poll, client_id, http, now_ms, random};
use crate::lab::{Lab, Status};
use crate::model::LogKind;
use crate::model::backoff::backoff_ms;

const T: Transport = Transport::Poll;

pub fn start(lab: Lab, interval_s: u32) -> PollLoop {
    let (handle, running, signal) = PollLoop::new();
    lab.status.set(Status::Open);
    spawn_local(async move {
        let mut failures = 0u32;
        while running.get() {
            let url = format!("/api/poll?after={}&client={}", after(&lab), client_id());
            let t0 = now_ms();
            lab.metrics_of(T, |m| m.requests += 1);
            let reply = http::get(&url, signal.as_ref()).await;
            if !running.get() {
                return;
            }
            let now = now_ms();
            let mut more = false;
            match reply.map(|r| (serde_json::from_str::<PollResponse>(&r.text), r)) {
                Ok((Ok(body), r)) if r.status == 200 => {
                    failures = 0;
                    lab.status.set(Status::Open);
                    let n = body.events.len();
                    lab.metrics_of(T, |m| {
                        m.payload_bytes += r.text.len() as u64;
                        m.wire_bytes += r.wire_bytes.unwrap_or(0);
                        m.empty += u64::from(n == 0);
                        m.connections += u64::from(r.new_connection);
                    });
                    let kind = if n == 0 { LogKind::EmptyPoll } else { LogKind::Poll };
                    let size = Some(r.wire_bytes.unwrap_or(r.text.len() as u64));
                    lab.log_entry(T, kind, now, Some(200), size, Some(now - t0), format!("{n} events"));
                    apply_poll(&lab, T, &body, now);
                    more = body.more;
                }
                Ok((_, r)) => {
                    failures += 1;
                    lab.metrics_of(T, |m| m.errors += 1);
                    lab.log_entry(T, LogKind::Error, now, Some(r.status), None, Some(now - t0), r.text);
                }
                Err(e) => {
                    failures += 1;
                    lab.metrics_of(T, |m| m.errors += 1);
                    lab.status.set(Status::Reconnecting);
                    lab.log_entry(T, LogKind::Error, now, None, None, Some(now - t0), e);
                }
            }
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
