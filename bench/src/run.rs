//! One run: N clients of one transport, a progress line, the report.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use pushlab::{TimeResponse, Transport};
use tokio_util::sync::CancellationToken;

use crate::client::{self, Ctx, Protocol, now_us};
use crate::report::Report;
use crate::wire::Target;
use crate::{LoadError, http, procfs};

#[derive(Clone, Debug)]
pub struct Options {
    /// http://host:port of the server.
    pub url: String,
    pub protocol: Protocol,
    pub transport: Transport,
    pub clients: u32,
    pub duration: Duration,
    /// Stop each client after this many events.
    pub events: Option<u64>,
    pub poll_interval: Duration,
    pub long_poll_timeout_ms: u64,
    pub server_pid: Option<u32>,
    /// Over TLS (implied by an `https://` URL or `http2`).
    pub tls: bool,
    /// HTTP/2 by ALPN for polling and SSE (WebSocket stays on HTTP/1.1's upgrade).
    pub http2: bool,
    /// Print a progress line to stderr every second.
    pub progress: bool,
}

/// host:port of an `http://` or `https://` URL.
pub fn host_of(url: &str) -> Result<String, LoadError> {
    Target::parse(url).map(|t| t.host)
}

impl Options {
    /// The server, over TLS and HTTP/2 when the flags (or an `https://` URL) say so.
    pub fn target(&self) -> Result<Target, LoadError> {
        Ok(Target::parse(&self.url)?.with(self.tls, self.http2))
    }
}

/// Server clock minus local clock, from the best of five `/api/time` round trips.
pub async fn clock_offset(conn: &mut http::Conn) -> Result<i64, LoadError> {
    let mut best: Option<(i64, i64)> = None;
    for _ in 0..5 {
        let t0 = now_us();
        let (status, body) = conn.get_body("/api/time").await?;
        let t1 = now_us();
        if status != 200 {
            return Err(LoadError::Protocol(format!("/api/time: HTTP {status}")));
        }
        let time: TimeResponse =
            serde_json::from_slice(&body).map_err(|e| LoadError::Protocol(format!("/api/time: {e}")))?;
        let rtt = t1 - t0;
        if best.is_none_or(|(r, _)| rtt < r) {
            best = Some((rtt, time.now_us - (t0 + t1) / 2));
        }
    }
    Ok(best.map_or(0, |(_, offset)| offset))
}

/// The id of the newest event: the cursor of a first `/api/poll` answer.
pub async fn head_cursor(conn: &mut http::Conn) -> Result<String, LoadError> {
    let (status, body) = conn.get_body("/api/poll").await?;
    if status != 200 {
        return Err(LoadError::Protocol(format!("/api/poll: HTTP {status}")));
    }
    let answer: pushlab::PollResponse<serde::de::IgnoredAny> =
        serde_json::from_slice(&body).map_err(|e| LoadError::Protocol(format!("/api/poll: {e}")))?;
    Ok(answer.cursor)
}

pub async fn run(opts: Options) -> Result<Report, LoadError> {
    let ctx = Arc::new(context(&opts).await?);
    run_with(opts, ctx).await
}

/// What the clients of a run share; a scenario keeps a handle to steer it.
pub async fn context(opts: &Options) -> Result<Ctx, LoadError> {
    let target = opts.target()?;
    let (offset_us, start_cursor) = match opts.protocol {
        Protocol::Pushlab => {
            let mut conn = http::connect(&target, Arc::default()).await?;
            (clock_offset(&mut conn).await?, Some(head_cursor(&mut conn).await?))
        }
        // nchan has no clock to ask (our own feeder stamps its events), and its
        // subscribers start at the newest message.
        Protocol::Nchan => (0, None),
    };
    Ok(Ctx {
        target,
        protocol: opts.protocol,
        start_cursor,
        offset_us,
        stop: CancellationToken::new(),
        max_events: opts.events,
        progress: Arc::new(AtomicU64::new(0)),
        poll_interval: opts.poll_interval,
        long_poll_timeout_ms: opts.long_poll_timeout_ms,
        catch_up_seq: AtomicU64::new(0),
        caught_up: AtomicU64::new(0),
    })
}

pub async fn run_with(opts: Options, ctx: Arc<Ctx>) -> Result<Report, LoadError> {
    let before = opts.server_pid.and_then(procfs::sample);
    let started = Instant::now();
    let tasks: Vec<_> = (0..opts.clients)
        .map(|_| {
            let ctx = ctx.clone();
            tokio::spawn(async move { client::run(opts.transport, &ctx, Arc::default()).await })
        })
        .collect();
    let deadline = started + opts.duration;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    while Instant::now() < deadline && !tasks.iter().all(|t| t.is_finished()) {
        tokio::select! {
            _ = tick.tick() => {}
            _ = tokio::time::sleep_until(deadline.into()) => {}
        }
        if opts.progress {
            let secs = started.elapsed().as_secs_f64();
            let events = ctx.progress.load(Relaxed);
            eprint!("\r  {:>5.1} s  {} events ({:.0}/s)   ", secs, events, events as f64 / secs.max(0.001));
        }
    }
    // Sampled while every client is still connected: what holding them costs.
    let after = opts.server_pid.and_then(procfs::sample);
    ctx.stop.cancel();
    let duration_s = started.elapsed().as_secs_f64();
    let mut tallies = Vec::with_capacity(tasks.len());
    for t in tasks {
        tallies.push(t.await.unwrap_or_default());
    }
    if opts.progress {
        eprintln!();
    }
    Ok(Report::new(&opts.url, opts.transport, &tallies, duration_s, before.zip(after)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        assert_eq!(host_of("http://127.0.0.1:3000").unwrap(), "127.0.0.1:3000");
        assert_eq!(host_of("http://lab.local:80/").unwrap(), "lab.local:80");
        assert_eq!(host_of("https://127.0.0.1:3443").unwrap(), "127.0.0.1:3443");
        for bad in ["127.0.0.1:3000", "ftp://x:1", "http://", "http://x", "http://x:1/api"] {
            assert!(host_of(bad).is_err(), "{bad}");
        }
    }
}
