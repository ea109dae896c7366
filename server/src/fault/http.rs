//! Poll answers as a slow path or a proxy passes them on: `latency` delays
//! each answer (short and long polls); on a long poll, `hold-first` holds the
//! answer until `ms` after the request came, and `idle-cut` cuts a held
//! request that sent nothing for `after_s` — a balancer's idle timeout shorter
//! than the poll's hold.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use pushlab::{Fault, FaultName, Transport, paths};
use rand::Rng;
use tokio::time::sleep_until;

use super::{idle_deadline, instant_at, on};
use crate::accept::ConnHandle;
use crate::control::Control;
use crate::hub::now_us;

fn reset_stream() -> Response {
    let failed = futures_util::stream::once(async {
        Err::<bytes::Bytes, _>(std::io::Error::new(std::io::ErrorKind::TimedOut, "idle-cut"))
    });
    Response::new(axum::body::Body::from_stream(failed))
}

/// The middleware on `/api/poll` and `/api/long-poll`.
pub async fn polls(State(control): State<Control>, req: Request, next: Next) -> Response {
    let t = if req.uri().path() == paths::LONG_POLL { Transport::LongPoll } else { Transport::Poll };
    let opened = now_us();
    let conn = req.extensions().get::<ConnHandle>().cloned();
    let answer = next.run(req);
    tokio::pin!(answer);
    let mut settings = control.watch_settings();
    settings.borrow_and_update();
    let res = loop {
        let cut_at = idle_deadline(&control, t, opened, opened).filter(|_| t == Transport::LongPoll);
        tokio::select! {
            res = &mut answer => break res,
            _ = sleep_until(instant_at(cut_at.unwrap_or(0))), if cut_at.is_some() => {
                match &conn {
                    // The connection goes, as a balancer closes it: the client sees a network error.
                    Some(c) if !c.is_h2() => {
                        c.cut();
                        std::future::pending::<()>().await;
                    }
                    // Over HTTP/2 only this request's stream is reset (a body that fails):
                    // the page's other streams share the connection.
                    _ => return reset_stream(),
                }
            }
            _ = settings.changed() => {}
        }
    };
    let release = control.with(|s| {
        let held = match on(s, FaultName::HoldFirst, t) {
            Some(Fault::HoldFirst { ms }) => opened + ms as i64 * 1000,
            _ => 0,
        };
        let slow = match on(s, FaultName::Latency, t) {
            Some(Fault::Latency { ms, jitter_ms, .. }) => {
                ms as i64 * 1000 + rand::rng().random_range(0..=jitter_ms as i64 * 1000)
            }
            _ => 0,
        };
        held.max(now_us()) + slow
    });
    if release > now_us() {
        sleep_until(instant_at(release)).await;
    }
    res
}
