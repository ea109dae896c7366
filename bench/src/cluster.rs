//! The `cluster` scenario: pushlab as several instances on one Redis behind
//! a balancer (`scripts/cluster.sh`). Fan-out spread over two instances
//! against one, the latency the Redis hop adds, the leader's takeover when it
//! is killed, and Redis's own CPU per million deliveries.

use std::time::{Duration, Instant};

use pushlab::{ControlAction, Transport};

use crate::LoadError;
use crate::procfs::{self, Sample};
use crate::report::Report;
use crate::report::ServerCost;
use crate::run::{Options, run};
use crate::scenario::{Row, Setup, stats_at};

/// One instance of the cluster, reached directly (not through the balancer).
#[derive(Clone, Debug)]
pub struct Instance {
    pub id: String,
    pub pid: u32,
    pub url: String,
}

impl std::str::FromStr for Instance {
    type Err = String;

    /// `ID=PID=URL`, e.g. `a=4242=http://127.0.0.1:3111`.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.splitn(3, '=');
        let (Some(id), Some(pid), Some(url)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("{s:?}: expected ID=PID=URL"));
        };
        let pid = pid.parse().map_err(|_| format!("{pid:?} is not a pid"))?;
        Ok(Instance { id: id.into(), pid, url: url.into() })
    }
}

/// The instances' samples summed: the cluster's cost, whatever instance a client landed on.
fn sample_all(pids: &[u32]) -> Option<Sample> {
    pids.iter().map(|&p| procfs::sample(p)).try_fold(Sample::default(), |acc, s| {
        let s = s?;
        Some(Sample {
            rss_kib: acc.rss_kib + s.rss_kib,
            cpu_s: acc.cpu_s + s.cpu_s,
            writes: acc.writes + s.writes,
            wakeups: acc.wakeups + s.wakeups,
        })
    })
}

fn f(v: Option<f64>, digits: usize) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.digits$}"))
}

/// Every row has the same columns (the table takes them from the widest row).
const COLUMNS: [&str; 7] =
    ["deliveries/s", "instances' CPU s per million", "Redis CPU s per million", "p50 ms", "p99 ms", "takeover", "note"];

/// A row's cells: what the report says, and the figures only some rows have
/// (CPU of the instances and of Redis, the takeover, a note).
fn cells(
    report: &Report,
    digits: usize,
    cpu: [String; 2],
    takeover: String,
    note: &str,
) -> Vec<(&'static str, String)> {
    let [instances, redis] = cpu;
    let latency = |p: fn(&crate::report::Latency) -> f64| f(report.latency_ms.as_ref().map(p), digits);
    let values = [
        format!("{:.0}", report.events_per_s),
        instances,
        redis,
        latency(|l| l.p50),
        latency(|l| l.p99),
        takeover,
        note.to_owned(),
    ];
    COLUMNS.into_iter().zip(values).collect()
}

pub async fn cluster(s: &Setup) -> Result<Vec<Row>, LoadError> {
    let [first, second, ..] = &s.instances[..] else {
        return Err(LoadError::NotApplicable("the cluster scenario without two --instance".into()));
    };
    let pids: Vec<u32> = s.instances.iter().map(|i| i.pid).collect();
    let mut rows = Vec::new();

    // Fan-out: the same subscribers through the balancer (spread over the
    // instances), then all on one instance; every instance mirrors the stream either way.
    s.control(ControlAction::SetRate { per_s: 1000.0 }).await?;
    for t in [Transport::Ws, Transport::Sse] {
        for (how, url) in [("2 instances, balanced", &s.url), ("1 instance", &first.url)] {
            let opts = Options { url: url.clone(), server_pid: None, ..s.options(t, s.n(5, 200), s.secs(2.0, 10.0)) };
            let (a, ra) = (sample_all(&pids), s.broker_pid.and_then(procfs::sample));
            let mut report = run(opts).await?;
            let (b, rb) = (sample_all(&pids), s.broker_pid.and_then(procfs::sample));
            let cost = a.zip(b).map(|(a, b)| ServerCost::between(a, b, report.events));
            let redis = ra.zip(rb).map(|(a, b)| ServerCost::between(a, b, report.events));
            report.server = cost;
            let cpu = [f(cost.and_then(|c| c.cpu_s_per_million), 2), f(redis.and_then(|c| c.cpu_s_per_million), 3)];
            let extra = cells(&report, 2, cpu, String::new(), "");
            rows.push(crate::scenario::row(format!("fan-out · {} · {how}", t.as_str()), report, &extra));
        }
    }

    // The Redis hop: 100 clients at 100 events/s on one instance, straight (no
    // balancer), against the in-memory hub's `latency` rows of the same run.
    s.control(ControlAction::SetRate { per_s: 100.0 }).await?;
    for t in Transport::ALL.into_iter().filter(|t| s.offers(t)) {
        let opts = Options { url: first.url.clone(), server_pid: None, ..s.options(t, s.n(5, 100), s.secs(2.0, 10.0)) };
        let report = run(opts).await?;
        let extra = cells(&report, 3, Default::default(), String::new(), "directly on one instance");
        rows.push(crate::scenario::row(format!("latency · {}", t.as_str()), report, &extra));
    }

    // The leader killed (SIGKILL: no lease released): how long until another
    // instance holds the lease, and until an event reaches a subscriber again.
    let leader =
        stats_at(&s.url).await?.leader.ok_or_else(|| LoadError::Protocol("the cluster has no leader".into()))?;
    let (dead, survivor) = if leader == first.id { (first, second) } else { (second, first) };
    let opts = Options {
        url: survivor.url.clone(),
        server_pid: None,
        ..s.options(Transport::Sse, 1, Duration::from_secs(30))
    };
    let watcher = tokio::spawn(run(opts));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let killed = Instant::now();
    let ok = std::process::Command::new("kill").args(["-KILL", &dead.pid.to_string()]).status();
    if !ok.is_ok_and(|s| s.success()) {
        return Err(LoadError::Protocol(format!("cannot kill instance {} (pid {})", dead.id, dead.pid)));
    }
    let takeover = loop {
        if stats_at(&survivor.url).await?.leader.as_deref() == Some(survivor.id.as_str()) {
            break killed.elapsed();
        }
        if killed.elapsed() > Duration::from_secs(30) {
            return Err(LoadError::Protocol("no takeover within 30 s".into()));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut report = watcher.await.map_err(|e| LoadError::Protocol(e.to_string()))??;
    report.server = None;
    let note = format!("{} (the leader) killed; a subscriber on {} read on", dead.id, survivor.id);
    let extra = cells(&report, 2, Default::default(), format!("{:.2} s", takeover.as_secs_f64()), &note);
    rows.push(crate::scenario::row("leader killed", report, &extra));
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_parse_from_the_command_line() {
        let i: Instance = "a=4242=http://127.0.0.1:3111".parse().unwrap();
        assert_eq!((i.id.as_str(), i.pid, i.url.as_str()), ("a", 4242, "http://127.0.0.1:3111"));
        assert!("a=x=http://h".parse::<Instance>().is_err());
        assert!("a".parse::<Instance>().is_err());
        let me = std::process::id();
        let s = sample_all(&[me, me]).unwrap();
        assert!(s.rss_kib >= 2 * procfs::sample(me).unwrap().rss_kib / 2, "summed");
        assert_eq!(sample_all(&[me, u32::MAX]), None, "a dead instance makes no sum");
    }
}
