//! Named scenarios (`pushlab-load scenario NAME`), each a table. They steer
//! the server through the instructor API, so they need its token.
//! `quick` is the CI smoke: small N, a few seconds, no timing thresholds.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use pushlab::{ControlAction, ServerStats, Transport};
use serde::{Deserialize, Serialize};

use crate::client::Protocol;
use crate::feeder::Feeder;
use crate::report::{Report, ServerCost};
use crate::run::{Options, context, host_of, run, run_with};
use crate::wire::Target;
use crate::{LoadError, http, procfs};

pub const NAMES: [&str; 11] = [
    "idle",
    "capacity",
    "fan-out",
    "scale",
    "latency",
    "wire-cost",
    "wire-cost-tls",
    "faults",
    "slow-consumer",
    "reconnect-storm",
    "cluster",
];

#[derive(Clone, Debug)]
pub struct Setup {
    pub url: String,
    pub protocol: Protocol,
    pub token: String,
    pub server_pid: Option<u32>,
    pub quick: bool,
    /// The transports the server offers; scenarios skip the others.
    pub transports: Vec<Transport>,
    /// nchan only: the runner publishes the events itself.
    pub feeder: Option<Arc<Feeder>>,
    /// The `cluster` scenario: each instance behind the balancer at `url`.
    pub instances: Vec<crate::cluster::Instance>,
    /// The broker's (Redis's) pid, for its CPU per delivery.
    pub broker_pid: Option<u32>,
    /// Over TLS (also implied by an `https://` URL), and HTTP/2 for polling and SSE.
    pub tls: bool,
    pub http2: bool,
}

/// One row of a scenario's table, with the run behind it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    pub label: String,
    /// Scenario-specific figures, in table order.
    pub extra: Vec<(String, String)>,
    pub report: Report,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Outcome {
    pub scenario: String,
    pub rows: Vec<Row>,
}

impl Setup {
    pub(crate) fn secs(&self, quick: f64, full: f64) -> Duration {
        Duration::from_secs_f64(if self.quick { quick } else { full })
    }

    pub(crate) fn n(&self, quick: u32, full: u32) -> u32 {
        if self.quick { quick } else { full }
    }

    pub(crate) fn options(&self, transport: Transport, clients: u32, duration: Duration) -> Options {
        Options {
            url: self.url.clone(),
            protocol: self.protocol,
            transport,
            clients,
            duration,
            events: None,
            poll_interval: Duration::from_secs(1),
            long_poll_timeout_ms: 25_000,
            server_pid: self.server_pid,
            tls: self.tls,
            http2: self.http2,
            progress: false,
        }
    }

    fn target(&self) -> Result<Target, LoadError> {
        Ok(Target::parse(&self.url)?.with(self.tls, self.http2))
    }

    pub(crate) fn offers(&self, t: &Transport) -> bool {
        self.transports.contains(t)
    }

    pub(crate) async fn control(&self, action: ControlAction) -> Result<(), LoadError> {
        if let Some(feeder) = &self.feeder {
            match action {
                ControlAction::SetRate { per_s } => feeder.set_rate(per_s),
                ControlAction::Burst { n } => feeder.burst(n),
                ControlAction::Pause => feeder.set_paused(true),
                ControlAction::Resume => feeder.set_paused(false),
                other => return Err(LoadError::NotApplicable(format!("{other:?}"))),
            }
            return Ok(());
        }
        let mut conn = http::connect(&self.target()?, Arc::default()).await?;
        conn.control(&self.token, &action).await
    }

    async fn stats(&self) -> Result<ServerStats, LoadError> {
        stats_at(&self.url).await
    }
}

/// `GET /api/stats` of the server at `url`.
pub(crate) async fn stats_at(url: &str) -> Result<ServerStats, LoadError> {
    let mut conn = http::connect(&Target::parse(url)?, Arc::default()).await?;
    let (_, body) = conn.get_body("/api/stats").await?;
    serde_json::from_slice(&body).map_err(|e| LoadError::Protocol(format!("/api/stats: {e}")))
}

pub async fn run_scenario(name: &str, s: &Setup) -> Result<Outcome, LoadError> {
    let mut s = s.clone();
    if s.protocol == Protocol::Nchan && s.feeder.is_none() {
        s.feeder = Some(Arc::new(Feeder::start(&host_of(&s.url)?, "/pub", 5.0).await?));
    }
    let s = &s;
    let rows = match name {
        "idle" => idle(s).await?,
        "capacity" => capacity(s).await?,
        "fan-out" => fan_out(s).await?,
        "scale" => scale(s).await?,
        "latency" => latency(s).await?,
        "wire-cost" => wire_cost(s).await?,
        "slow-consumer" => slow_consumer(s).await?,
        "reconnect-storm" => reconnect_storm(s).await?,
        "cluster" => crate::cluster::cluster(s).await?,
        "wire-cost-tls" => crate::traps::wire_cost_tls(s).await?,
        "faults" => crate::traps::faults(s).await?,
        other => return Err(LoadError::Protocol(format!("no scenario {other:?}; try one of {NAMES:?}"))),
    };
    s.control(ControlAction::Resume).await?;
    Ok(Outcome { scenario: name.to_owned(), rows })
}

pub(crate) fn row(label: impl Into<String>, report: Report, extra: &[(&str, String)]) -> Row {
    Row { label: label.into(), extra: extra.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(), report }
}

/// Holds N connections per transport at a slow rate; memory per connection, and every client still receives.
///
/// Each transport's clients open while the earlier ones are still held, and
/// its memory is what the server's RSS grew by meanwhile: a transport measured
/// after another's clients had gone reused the memory they freed (SSE read
/// 9.5 KB after WebSocket, against 15.9 KB on a fresh server). Sampled before
/// the burst, while every client still holds its first request, as any new
/// client does: a long poll answered and re-issued reuses the buffers its first
/// request allocated.
async fn idle(s: &Setup) -> Result<Vec<Row>, LoadError> {
    s.control(ControlAction::SetRate { per_s: 0.1 }).await?;
    let n = s.n(20, 2000);
    let stage = s.secs(2.0, 8.0);
    let transports: Vec<Transport> = held().filter(|t| s.offers(t)).collect();
    let total = stage * transports.len() as u32 + s.secs(2.0, 6.0);
    let mut runs = Vec::new();
    for (i, &t) in transports.iter().enumerate() {
        let opts = Options { server_pid: None, ..s.options(t, n, total - stage * i as u32) };
        let ctx = Arc::new(context(&opts).await?);
        let before = s.server_pid.and_then(procfs::sample);
        let run = tokio::spawn(run_with(opts, ctx));
        tokio::time::sleep(stage).await;
        runs.push((t, run, before, s.server_pid.and_then(procfs::sample)));
    }
    // A few live events that every client must receive.
    s.control(ControlAction::Burst { n: 3 }).await?;
    let mut rows = Vec::new();
    for (t, run, before, held) in runs {
        let mut report = run.await.map_err(|e| LoadError::Protocol(e.to_string()))??;
        report.server = before.zip(held).map(|(a, b)| ServerCost::between(a, b, 0));
        let per_conn =
            report.server.map(|c| (c.rss_end_kib as f64 - c.rss_start_kib as f64) * 1024.0 / f64::from(n.max(1)));
        let live = format!("{} / {}", report.clients_live, n);
        rows.push(row(t.as_str(), report, &[("RSS per connection", fmt_bytes(per_conn)), ("clients receiving", live)]));
    }
    Ok(rows)
}

/// N idle connections of each transport held at once (6,000 each, 18,000 in
/// all), every one still receiving; memory per connection over all of them.
async fn capacity(s: &Setup) -> Result<Vec<Row>, LoadError> {
    s.control(ControlAction::SetRate { per_s: 0.1 }).await?;
    let n = s.n(20, 6000);
    let duration = s.secs(4.0, 45.0);
    let before = s.server_pid.and_then(procfs::sample);
    let mut runs = Vec::new();
    for t in held().filter(|t| s.offers(t)) {
        let opts = Options { server_pid: None, ..s.options(t, n, duration) };
        let ctx = Arc::new(context(&opts).await?);
        runs.push((t, tokio::spawn(run_with(opts, ctx))));
    }
    tokio::time::sleep(duration.mul_f64(0.6)).await;
    let held = s.server_pid.and_then(procfs::sample);
    s.control(ControlAction::Burst { n: 3 }).await?;
    let total = n * runs.len() as u32;
    let per_conn = before.zip(held).map(|(a, b)| (b.rss_kib as f64 - a.rss_kib as f64) * 1024.0 / f64::from(total));
    let mut rows = Vec::new();
    for (t, run) in runs {
        let report = run.await.map_err(|e| LoadError::Protocol(e.to_string()))??;
        let live = format!("{} / {}", report.clients_live, n);
        let extra = [
            ("clients receiving", live),
            ("held at once", total.to_string()),
            ("RSS per connection, all", fmt_bytes(per_conn)),
        ];
        rows.push(row(t.as_str(), report, &extra));
    }
    Ok(rows)
}

/// N subscribers while the server publishes fast: deliveries/s and CPU per million.
async fn fan_out(s: &Setup) -> Result<Vec<Row>, LoadError> {
    s.control(ControlAction::SetRate { per_s: 1000.0 }).await?;
    let mut rows = Vec::new();
    for t in streams().filter(|t| s.offers(t)) {
        let report = run(s.options(t, s.n(5, 200), s.secs(2.0, 10.0))).await?;
        let cpu = report.server.and_then(|c| c.cpu_s_per_million).map_or("n/a".into(), |v| format!("{v:.2} s"));
        rows.push(row(t.as_str(), report, &[("CPU per million deliveries", cpu)]));
    }
    Ok(rows)
}

/// Deliveries per second at a fixed total, and events per second each at an
/// equal per-connection rate, for the `scale` scenario.
pub const SCALE_TOTAL: f64 = 100_000.0;
/// Low enough that 15,000 subscribers (30,000 deliveries/s) leave the 2 cores
/// headroom: at 10 each the box saturated, clients worked off a backlog, and
/// CPU per delivery fell with it, which says nothing about cost growth.
pub const SCALE_EACH: f64 = 2.0;

/// Cost growth: WebSocket and SSE subscribers at 100 to 15,000, at a fixed
/// total of deliveries per second (a connection at 100 takes several events
/// per wake-up, one at 15,000 does not) and at an equal rate per connection.
/// Server CPU, writes and wake-ups are taken over a window once every client
/// receives, not over the connecting.
async fn scale(s: &Setup) -> Result<Vec<Row>, LoadError> {
    let sizes: &[u32] = if s.quick { &[5, 20] } else { &[100, 1000, 5000, 15_000] };
    let mut rows = Vec::new();
    for t in streams().filter(|t| s.offers(t)) {
        for &n in sizes {
            let total = if s.quick { 200.0 } else { SCALE_TOTAL };
            for (mode, rate) in [("fixed total", total / f64::from(n)), ("equal rate", SCALE_EACH)] {
                let rate = rate.clamp(*pushlab::control::RATE_RANGE.start(), *pushlab::control::RATE_RANGE.end());
                s.control(ControlAction::SetRate { per_s: rate }).await?;
                let opts = Options { server_pid: None, ..s.options(t, n, Duration::from_secs(120)) };
                let ctx = Arc::new(context(&opts).await?);
                let before = s.server_pid.and_then(procfs::sample);
                let run = tokio::spawn(run_with(opts, ctx.clone()));
                // Receiving: a second with at least 90 % of the deliveries every client's share makes.
                let want = (0.9 * rate * f64::from(n)) as u64;
                let settle = Instant::now();
                let mut last = ctx.progress.load(Relaxed);
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    let now = ctx.progress.load(Relaxed);
                    if now - last >= want || settle.elapsed() > Duration::from_secs(45) || run.is_finished() {
                        break;
                    }
                    last = now;
                }
                // Long enough for 20,000 deliveries (CPU time comes in 10 ms ticks), within 8–30 s.
                let window = if s.quick {
                    Duration::from_secs(2)
                } else {
                    Duration::from_secs_f64((20_000.0 / (rate * f64::from(n))).clamp(8.0, 30.0))
                };
                let (a, p1) = (s.server_pid.and_then(procfs::sample), ctx.progress.load(Relaxed));
                tokio::time::sleep(window).await;
                let (b, p2) = (s.server_pid.and_then(procfs::sample), ctx.progress.load(Relaxed));
                ctx.stop.cancel();
                let mut report = run.await.map_err(|e| LoadError::Protocol(e.to_string()))??;
                let deliveries = p2 - p1;
                let cost = a.zip(b).map(|(a, b)| ServerCost::between(a, b, deliveries));
                report.server = cost.map(|c| ServerCost { rss_start_kib: before.map_or(0, |x| x.rss_kib), ..c });
                let f = |v: Option<f64>, d: usize| v.map_or("n/a".into(), |v| format!("{v:.d$}"));
                let extra = [
                    ("subscribers", n.to_string()),
                    ("events/s each", format!("{rate:.1}")),
                    ("deliveries/s", format!("{:.0}", deliveries as f64 / window.as_secs_f64())),
                    ("CPU s per million", f(cost.and_then(|c| c.cpu_s_per_million), 2)),
                    ("writes per delivery", f(cost.and_then(|c| c.writes_per_delivery), 3)),
                    ("wake-ups per delivery", f(cost.and_then(|c| c.wakeups_per_delivery), 3)),
                    // The process's RSS, not a per-connection figure: after the earlier scenarios
                    // the allocator hands new connections memory it already holds (the
                    // `idle` and `capacity` scenarios measure memory per connection).
                    ("server RSS", a.map_or("n/a".into(), |a| format!("{:.0} MiB", a.rss_kib as f64 / 1024.0))),
                    ("clients receiving", format!("{} / {n}", report.clients_live)),
                ];
                rows.push(row(format!("{} · {n} · {mode}", t.as_str()), report, &extra));
            }
        }
    }
    Ok(rows)
}

/// 100 clients at 100 events/s, per transport.
async fn latency(s: &Setup) -> Result<Vec<Row>, LoadError> {
    s.control(ControlAction::SetRate { per_s: 100.0 }).await?;
    let mut rows = Vec::new();
    for t in Transport::ALL.into_iter().filter(|t| s.offers(t)) {
        let report = run(s.options(t, s.n(5, 100), s.secs(2.0, 10.0))).await?;
        rows.push(row(t.as_str(), report, &[]));
    }
    Ok(rows)
}

/// Requests and bytes on the wire per delivered event, at 1, 10 and 100 events/s.
async fn wire_cost(s: &Setup) -> Result<Vec<Row>, LoadError> {
    let mut rows = Vec::new();
    for rate in [1.0, 10.0, 100.0] {
        s.control(ControlAction::SetRate { per_s: rate }).await?;
        let variants = [
            (Transport::Poll, Some(1)),
            (Transport::Poll, Some(2)),
            (Transport::LongPoll, None),
            (Transport::Sse, None),
            (Transport::Ws, None),
        ];
        for (t, interval) in variants.into_iter().filter(|(t, _)| s.offers(t)) {
            let mut opts = s.options(t, s.n(2, 10), s.secs(if rate < 10.0 { 3.0 } else { 2.0 }, 20.0));
            if let Some(i) = interval {
                opts.poll_interval = Duration::from_secs(i);
            }
            let label = match interval {
                Some(i) => format!("{rate} ev/s · poll every {i} s"),
                None => format!("{rate} ev/s · {t}"),
            };
            rows.push(row(label, run(opts).await?, &[]));
        }
    }
    Ok(rows)
}

/// One client stops reading while the others receive fast: they keep their
/// latency, the server's memory stays bounded, the slow one is cut off.
async fn slow_consumer(s: &Setup) -> Result<Vec<Row>, LoadError> {
    if !s.offers(&Transport::Ws) {
        return Err(LoadError::NotApplicable("slow-consumer (it uses WebSocket)".into()));
    }
    s.control(ControlAction::SetRate { per_s: 1000.0 }).await?;
    let others = s.n(5, 99);
    let duration = s.secs(3.0, 20.0);
    let baseline = run(s.options(Transport::Ws, others, duration)).await?;
    let stalled = crate::client::stalled::open(&host_of(&s.url)?).await?;
    let before = s.server_pid.and_then(procfs::sample);
    let with_slow = run(s.options(Transport::Ws, others, duration)).await?;
    let during = s.server_pid.and_then(procfs::sample);
    let growth = before.zip(during).map(|(a, b)| (b.rss_kib as f64 - a.rss_kib as f64) * 1024.0);
    // Overflow its socket buffers at once (~13 MB), then watch the server let it go.
    let flooded = Instant::now();
    s.control(ControlAction::Burst { n: 10_000 }).await?;
    s.control(ControlAction::Burst { n: 10_000 }).await?;
    let mut cut_after = None;
    while flooded.elapsed() < Duration::from_secs(30) {
        if s.stats().await?.transports.ws.open == 0 {
            cut_after = Some(flooded.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let code = stalled.drain(Duration::from_secs(10)).await;
    let cut = match (cut_after, code) {
        (Some(after), Some(code)) if code > 0 => {
            format!("yes, close {code} {:.1} s after the flood", after.as_secs_f64())
        }
        (Some(after), _) => format!("yes, socket closed {:.1} s after the flood", after.as_secs_f64()),
        (None, _) => "no: still open 30 s after the flood".into(),
    };
    let p99 = |r: &Report| r.latency_ms.map_or("n/a".into(), |l| format!("{:.3} ms", l.p99));
    Ok(vec![
        row(
            "ws, all reading",
            baseline.clone(),
            &[("others' p99", p99(&baseline)), ("slow one cut off", "—".into()), ("server RSS growth", "—".into())],
        ),
        row(
            "ws, one stopped reading",
            with_slow.clone(),
            &[("others' p99", p99(&with_slow)), ("slow one cut off", cut), ("server RSS growth", fmt_bytes(growth))],
        ),
    ])
}

/// Drop every connection of a transport; time until all clients are back and caught up.
async fn reconnect_storm(s: &Setup) -> Result<Vec<Row>, LoadError> {
    s.control(ControlAction::SetRate { per_s: 50.0 }).await?;
    let mut rows = Vec::new();
    for t in held().filter(|t| s.offers(t)) {
        let n = s.n(10, 1000);
        let opts = s.options(t, n, s.secs(4.0, 15.0));
        let ctx = Arc::new(context(&opts).await?);
        let run = tokio::spawn(run_with(opts.clone(), ctx.clone()));
        tokio::time::sleep(opts.duration.mul_f64(0.3)).await;
        let mark = s.stats().await?.head_seq;
        ctx.catch_up_seq.store(mark, Relaxed);
        let dropped = Instant::now();
        s.control(ControlAction::Drop { transport: t }).await?;
        let mut back = None;
        while dropped.elapsed() < opts.duration.mul_f64(0.65) {
            if ctx.caught_up.load(Relaxed) >= u64::from(n) {
                back = Some(dropped.elapsed());
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let report = run.await.map_err(|e| LoadError::Protocol(e.to_string()))??;
        let took = back.map_or(format!("{} / {n} back in time", ctx.caught_up.load(Relaxed)), |d| {
            format!("{:.0} ms", d.as_secs_f64() * 1000.0)
        });
        rows.push(row(t.as_str(), report, &[("all back and caught up", took)]));
    }
    Ok(rows)
}

fn fmt_bytes(v: Option<f64>) -> String {
    match v {
        None => "n/a".into(),
        Some(b) if b.abs() < 10_000.0 => format!("{b:.0} B"),
        Some(b) if b.abs() < 10_000_000.0 => format!("{:.1} KB", b / 1000.0),
        Some(b) => format!("{:.1} MB", b / 1e6),
    }
}

/// The scenario's table: the common figures, then its own.
pub fn table(o: &Outcome) -> String {
    let mut headers: Vec<String> =
        ["run", "ok/failed", "events/s", "p50 ms", "p99 ms", "req/event", "bytes/event", "reconn", "gaps/dups"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    // Every row of a scenario has the same extra columns; take them from the widest.
    if let Some(widest) = o.rows.iter().max_by_key(|r| r.extra.len()) {
        headers.extend(widest.extra.iter().map(|(k, _)| k.clone()));
    }
    let opt = |v: Option<f64>, d: usize| v.map_or("n/a".to_string(), |v| format!("{v:.d$}"));
    let rows: Vec<Vec<String>> = o
        .rows
        .iter()
        .map(|r| {
            let p = &r.report;
            let mut cells = vec![
                r.label.clone(),
                format!("{}/{}", p.connected, p.failed),
                format!("{:.0}", p.events_per_s),
                opt(p.latency_ms.map(|l| l.p50), 3),
                opt(p.latency_ms.map(|l| l.p99), 3),
                opt(p.requests_per_event, 3),
                opt(p.bytes_per_event, 0),
                p.reconnects.to_string(),
                format!("{}/{}", p.gaps, p.duplicates),
            ];
            cells.extend(r.extra.iter().map(|(_, v)| v.clone()));
            cells.resize(headers.len(), String::new());
            cells
        })
        .collect();
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
                .max(headers[i].chars().count())
        })
        .collect();
    let mut out = format!("scenario {}\n", o.scenario);
    for line in std::iter::once(&headers).chain(rows.iter()) {
        let cells: Vec<String> = line.iter().enumerate().map(|(i, c)| format!("{c:<w$}", w = widths[i])).collect();
        let _ = writeln!(out, "  {}", cells.join("  "));
    }
    out
}

/// The transports that hold a connection (WebSocket first), from the wire crate:
/// a new transport joins the scenarios without a list to update here.
fn held() -> impl Iterator<Item = Transport> {
    Transport::ALL.into_iter().rev().filter(|t| t.is_held())
}

/// The streaming transports, WebSocket first.
fn streams() -> impl Iterator<Item = Transport> {
    Transport::ALL.into_iter().rev().filter(|t| t.is_stream())
}
