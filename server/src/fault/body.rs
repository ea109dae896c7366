//! An SSE response body as a middlebox passes it on: `buffering` holds bytes
//! until `bytes` have gathered or `max_ms` have passed since the first of
//! them; `hold-first` holds the stream's first bytes for `ms`; `idle-cut`
//! cuts a stream that sent nothing for `after_s` (the keep-alive counts).
//!
//! While it holds, it keeps taking what the stream hands it (up to
//! [`HELD_MAX`]), so the stream's slow-consumer limit does not mistake a held
//! response for a stalled client. With no fault on, a chunk goes through as
//! it came: the frame the hub encoded once, not a copy.

use std::io;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use pushlab::{Fault, FaultName, Transport};
use tokio::time::sleep_until;

use super::{idle_deadline, instant_at, on};
use crate::control::Control;
use crate::hub::now_us;

/// Most a held response keeps; past it, it stops taking (the stream then sees a slow client).
pub const HELD_MAX: usize = 2 * 1024 * 1024;

struct Middlebox<S> {
    inner: S,
    control: Control,
    settings: tokio::sync::watch::Receiver<pushlab::Settings>,
    held: BytesMut,
    /// When the oldest held byte arrived, µs.
    held_since: i64,
    opened_us: i64,
    last_out_us: i64,
    sent_any: bool,
    done: bool,
}

/// What the faults on say about the held bytes now.
struct Rule {
    /// When the held bytes may go, µs (`i64::MIN`: now).
    release_at: i64,
    idle_cut_at: Option<i64>,
    /// Nothing to hold for: a chunk goes straight through.
    passthrough: bool,
}

impl<S: Stream<Item = Bytes> + Unpin> Middlebox<S> {
    fn rule(&self) -> Rule {
        let (hold, buffer) = self.control.with(|s| {
            let hold = match on(s, FaultName::HoldFirst, Transport::Sse) {
                Some(Fault::HoldFirst { ms }) if !self.sent_any => Some(self.opened_us + ms as i64 * 1000),
                _ => None,
            };
            let buffer = match on(s, FaultName::Buffering, Transport::Sse) {
                Some(Fault::Buffering { bytes, max_ms }) => Some((bytes as usize, max_ms)),
                _ => None,
            };
            (hold, buffer)
        });
        let release_at = match (hold, buffer) {
            (Some(until), _) => until,
            (None, Some((bytes, _))) if self.held.len() >= bytes => i64::MIN,
            (None, Some((_, max_ms))) => self.held_since + max_ms as i64 * 1000,
            (None, None) => i64::MIN,
        };
        let idle_cut_at = idle_deadline(&self.control, Transport::Sse, self.opened_us, self.last_out_us);
        Rule { release_at, idle_cut_at, passthrough: hold.is_none() && buffer.is_none() }
    }

    fn out(&mut self, bytes: Bytes) -> Option<io::Result<Bytes>> {
        self.sent_any = true;
        self.last_out_us = now_us();
        Some(Ok(bytes))
    }

    async fn next(&mut self) -> Option<io::Result<Bytes>> {
        loop {
            let rule = self.rule();
            let now = now_us();
            if !self.held.is_empty() && (rule.release_at <= now || self.done) {
                let bytes = self.held.split().freeze();
                return self.out(bytes);
            }
            if self.done {
                return None;
            }
            if rule.idle_cut_at.is_some_and(|at| at <= now) {
                // Hyper drops the connection on a body error: the cut a balancer makes.
                return Some(Err(io::Error::new(io::ErrorKind::TimedOut, "idle-cut: nothing sent")));
            }
            let wake =
                [(!self.held.is_empty()).then_some(rule.release_at), rule.idle_cut_at].into_iter().flatten().min();
            tokio::select! {
                chunk = self.inner.next(), if self.held.len() < HELD_MAX => match chunk {
                    None => self.done = true,
                    // Nothing held and nothing to hold for: as it came.
                    Some(b) if self.held.is_empty() && rule.passthrough => return self.out(b),
                    Some(b) => {
                        if self.held.is_empty() {
                            self.held_since = now_us();
                        }
                        self.held.extend_from_slice(&b);
                    }
                },
                _ = sleep_until(instant_at(wake.unwrap_or(0))), if wake.is_some() => {}
                // A fault on or off: look again.
                changed = self.settings.changed() => {
                    if changed.is_err() {
                        self.done = true;
                    }
                }
            }
        }
    }
}

/// `inner` as the faults on leave it, now and later.
pub fn sse<S>(inner: S, control: Control) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static
where
    S: Stream<Item = Bytes> + Unpin + Send + 'static,
{
    let now = now_us();
    let mut settings = control.watch_settings();
    settings.borrow_and_update();
    let mb = Middlebox {
        inner,
        control,
        settings,
        held: BytesMut::new(),
        held_since: now,
        opened_us: now,
        last_out_us: now,
        sent_any: false,
        done: false,
    };
    futures_util::stream::unfold(mb, |mut mb| async move { mb.next().await.map(|item| (item, mb)) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pushlab::{ControlAction, FaultChange};
    use tokio::sync::mpsc;
    use tokio_stream_shim::ReceiverStream;

    /// A receiver as a stream, without a new dependency.
    mod tokio_stream_shim {
        use super::*;
        pub struct ReceiverStream(pub mpsc::UnboundedReceiver<Bytes>);
        impl Stream for ReceiverStream {
            type Item = Bytes;
            fn poll_next(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Option<Bytes>> {
                self.0.poll_recv(cx)
            }
        }
    }

    fn rig(fault: Option<Fault>) -> (mpsc::UnboundedSender<Bytes>, impl Stream<Item = io::Result<Bytes>>, Control) {
        let (control, _) = Control::new("t".into(), 5.0);
        if let Some(f) = fault {
            control.apply(ControlAction::Fault(FaultChange::On(f))).unwrap();
        }
        let (tx, rx) = mpsc::unbounded_channel();
        (tx, Box::pin(sse(ReceiverStream(rx), control.clone())), control)
    }

    #[tokio::test]
    async fn without_a_fault_chunks_pass_as_they_came() {
        let (tx, mut body, _) = rig(None);
        let frame = Bytes::from_static(b"data: 1\n\n");
        tx.send(frame.clone()).unwrap();
        let out = body.next().await.unwrap().unwrap();
        assert_eq!(out.as_ptr(), frame.as_ptr(), "the shared frame, not a copy");
        drop(tx);
        assert!(body.next().await.is_none());
    }

    #[tokio::test]
    async fn buffering_releases_at_bytes_or_after_max_ms() {
        let (tx, mut body, _) = rig(Some(Fault::Buffering { bytes: 10, max_ms: 300 }));
        let t0 = std::time::Instant::now();
        for _ in 0..4 {
            tx.send(Bytes::from_static(b"abc")).unwrap();
        }
        assert_eq!(body.next().await.unwrap().unwrap().len(), 12, "released once 10 bytes gathered");
        assert!(t0.elapsed().as_millis() < 250);
        tx.send(Bytes::from_static(b"x")).unwrap();
        assert_eq!(&body.next().await.unwrap().unwrap()[..], b"x");
        assert!(t0.elapsed().as_millis() >= 290, "a lone byte waits max_ms");
    }

    #[tokio::test]
    async fn a_fault_switched_off_releases_what_it_held() {
        let (tx, mut body, control) = rig(Some(Fault::Buffering { bytes: 1000, max_ms: 60_000 }));
        tx.send(Bytes::from_static(b"held")).unwrap();
        let off = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            control.apply(ControlAction::Fault(FaultChange::Clear)).unwrap();
        });
        assert_eq!(&body.next().await.unwrap().unwrap()[..], b"held");
        off.await.unwrap();
    }

    #[tokio::test]
    async fn hold_first_holds_only_the_first_bytes() {
        let (tx, mut body, _) = rig(Some(Fault::HoldFirst { ms: 200 }));
        let t0 = std::time::Instant::now();
        tx.send(Bytes::from_static(b"retry")).unwrap();
        tx.send(Bytes::from_static(b"hello")).unwrap();
        assert_eq!(&body.next().await.unwrap().unwrap()[..], b"retryhello");
        assert!(t0.elapsed().as_millis() >= 190);
        tx.send(Bytes::from_static(b"next")).unwrap();
        let t1 = std::time::Instant::now();
        assert_eq!(&body.next().await.unwrap().unwrap()[..], b"next");
        assert!(t1.elapsed().as_millis() < 100);
    }

    #[tokio::test]
    async fn idle_cut_ends_a_silent_stream_with_an_error() {
        let (tx, mut body, control) = rig(None);
        tx.send(Bytes::from_static(b"a")).unwrap();
        body.next().await.unwrap().unwrap();
        control.apply(ControlAction::Fault(FaultChange::On(Fault::IdleCut { after_s: 1 }))).unwrap();
        let t0 = std::time::Instant::now();
        assert!(body.next().await.unwrap().is_err());
        assert!((900..2000).contains(&t0.elapsed().as_millis()), "counted from the fault's switch-on");
    }
}
