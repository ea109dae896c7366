//! The traps, measured (pushlab only): what a poll and a stream cost over TLS
//! with HTTP/1.1 and with HTTP/2 (`wire-cost-tls`), and what each fault does
//! to latency (`faults`).

use std::sync::Arc;
use std::time::Duration;

use pushlab::{ControlAction, Fault, FaultChange, Transport};

use crate::LoadError;
use crate::report::Report;
use crate::run::{Options, context, run, run_with};
use crate::scenario::{Row, Setup, row};
use crate::wire::Target;

/// 10 clients per transport at 1 and 10 events/s, each over TLS with HTTP/1.1
/// and then with HTTP/2: HPACK makes a repeated poll's headers a few bytes.
pub async fn wire_cost_tls(s: &Setup) -> Result<Vec<Row>, LoadError> {
    if !Target::parse(&s.url)?.with(s.tls, s.http2).tls {
        return Err(LoadError::NotApplicable("wire-cost-tls (it needs a server with --tls: an https:// URL)".into()));
    }
    let rates: &[f64] = if s.quick { &[10.0] } else { &[1.0, 10.0] };
    let mut rows = Vec::new();
    for &rate in rates {
        s.control(ControlAction::SetRate { per_s: rate }).await?;
        let variants = [(Transport::Poll, Some(1)), (Transport::LongPoll, None), (Transport::Sse, None)];
        for (t, interval) in variants.into_iter().filter(|(t, _)| s.offers(t)) {
            for http2 in [false, true] {
                let mut opts = s.options(t, s.n(2, 10), s.secs(2.5, 20.0));
                opts.tls = true;
                opts.http2 = http2;
                if let Some(i) = interval {
                    opts.poll_interval = Duration::from_secs(i);
                }
                let how = match interval {
                    Some(i) => format!("poll every {i} s"),
                    None => t.to_string(),
                };
                let proto = if http2 { "h2" } else { "HTTP/1.1 + TLS" };
                rows.push(row(format!("{rate} ev/s · {how} · {proto}"), run(opts).await?, &[]));
            }
        }
    }
    Ok(rows)
}

/// The faults that delay events (idle-cut and ws-dies cut or silence a
/// connection instead: their cost is reconnects, shown by the page's ledger).
/// The quick run's hold is shorter than its 3 s runs, or nothing would arrive.
fn delaying(quick: bool) -> [(String, Vec<Fault>); 4] {
    let hold = if quick { 1000 } else { 3000 };
    [
        ("buffering 4096 B, 5 s".into(), vec![Fault::Buffering { bytes: 4096, max_ms: 5000 }]),
        (format!("hold-first {} s", hold / 1000), vec![Fault::HoldFirst { ms: hold }]),
        ("latency 200 ms".into(), vec![Fault::Latency { ms: 200, jitter_ms: 0, transport: None }]),
        ("latency 100 ms ± 100 ms".into(), vec![Fault::Latency { ms: 100, jitter_ms: 100, transport: None }]),
    ]
}

/// Every transport at once at 10 events/s, first with no fault, then under
/// each delaying fault: p50 and p99 with and without, per transport it acts on.
pub async fn faults(s: &Setup) -> Result<Vec<Row>, LoadError> {
    s.control(ControlAction::Fault(FaultChange::Clear)).await?;
    s.control(ControlAction::SetRate { per_s: 10.0 }).await?;
    let baseline = all_at_once(s, Transport::ALL.to_vec()).await?;
    let mut rows = Vec::new();
    for (label, faults) in delaying(s.quick) {
        for f in &faults {
            s.control(ControlAction::Fault(FaultChange::On(*f))).await?;
        }
        let acted: Vec<Transport> =
            Transport::ALL.into_iter().filter(|&t| s.offers(&t) && faults.iter().any(|f| f.acts_on(t))).collect();
        let runs = all_at_once(s, acted).await;
        s.control(ControlAction::Fault(FaultChange::Clear)).await?;
        for (t, report) in runs? {
            let without = baseline.iter().find(|(b, _)| *b == t).and_then(|(_, r)| r.latency_ms);
            let with = report.latency_ms;
            let ms = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:.1}"));
            rows.push(row(
                format!("{label} · {t}"),
                report,
                &[
                    ("p50 without", ms(without.map(|l| l.p50))),
                    ("p50 with", ms(with.map(|l| l.p50))),
                    ("p99 without", ms(without.map(|l| l.p99))),
                    ("p99 with", ms(with.map(|l| l.p99))),
                ],
            ));
        }
    }
    Ok(rows)
}

/// A run of each transport, side by side over the same seconds.
async fn all_at_once(s: &Setup, transports: Vec<Transport>) -> Result<Vec<(Transport, Report)>, LoadError> {
    let mut runs = Vec::new();
    for t in transports.into_iter().filter(|t| s.offers(t)) {
        let opts = Options { server_pid: None, ..s.options(t, s.n(2, 10), s.secs(3.0, 15.0)) };
        let ctx = Arc::new(context(&opts).await?);
        runs.push((t, tokio::spawn(run_with(opts, ctx))));
    }
    let mut out = Vec::new();
    for (t, run) in runs {
        let report = run.await.map_err(|e| LoadError::Protocol(format!("{t} run: {e}")))??;
        out.push((t, report));
    }
    Ok(out)
}
