//! A benchmark run's results: every scenario's outcome per server, the
//! machine and the versions, gathered from the files `bench/run.sh` leaves in
//! one folder (`<server>/<scenario>.json`, `versions.txt`).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::LoadError;
use crate::scenario::Outcome;

/// The servers, in the order the tables show them.
pub const SERVERS: [&str; 4] = ["pushlab", "node-ws", "node-sse", "nchan"];

/// What bench/run.sh runs against the peers (the others need pushlab's drop and stats).
pub const PEER_SCENARIOS: [&str; 6] = ["idle", "capacity", "fan-out", "scale", "latency", "wire-cost"];

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Results {
    pub date: String,
    pub machine: Machine,
    /// (what, version), as run.sh found them.
    pub versions: Vec<(String, String)>,
    pub servers: Vec<ServerResults>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub kernel: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServerResults {
    pub server: String,
    pub outcomes: Vec<Outcome>,
}

impl Results {
    /// Reads `dir`: one sub-folder per server, one JSON outcome per scenario.
    pub fn gather(dir: &Path, date: &str) -> Result<Results, LoadError> {
        let io = |e: std::io::Error| LoadError::Protocol(format!("{}: {e}", dir.display()));
        let mut servers = Vec::new();
        for server in SERVERS {
            let sub = dir.join(server);
            if !sub.is_dir() {
                continue;
            }
            let mut outcomes = Vec::new();
            for name in crate::scenario::NAMES {
                let file = sub.join(format!("{name}.json"));
                if let Ok(text) = std::fs::read_to_string(&file) {
                    let outcome = serde_json::from_str(&text)
                        .map_err(|e| LoadError::Protocol(format!("{}: {e}", file.display())))?;
                    outcomes.push(outcome);
                }
            }
            servers.push(ServerResults { server: server.to_owned(), outcomes });
        }
        let versions = std::fs::read_to_string(dir.join("versions.txt"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())))
            .collect();
        if servers.is_empty() {
            return Err(io(std::io::Error::other("no results in it")));
        }
        Ok(Results { date: date.to_owned(), machine: Machine::this(), versions, servers })
    }

    /// What makes a run unfit to publish: a server with no results, a
    /// scenario a server should have run missing, failed clients, gaps or duplicates.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for server in SERVERS {
            let expected: &[&str] = if server == "pushlab" { &crate::scenario::NAMES } else { &PEER_SCENARIOS };
            for scenario in expected {
                if self.outcome(server, scenario).is_none() {
                    out.push(format!("{server}: no {scenario} results"));
                }
            }
        }
        for s in &self.servers {
            for o in &s.outcomes {
                for row in &o.rows {
                    let r = &row.report;
                    // A peer that cannot hold 15,000 (Node's accept backlog resets some) is a
                    // finding the scale table shows, not a broken run; a gap is always one.
                    let failed_counts = !(o.scenario == "scale" && s.server != "pushlab");
                    if (failed_counts && r.failed > 0) || r.gaps > 0 || r.duplicates > 0 {
                        out.push(format!(
                            "{} {} {}: {} failed, {} gaps, {} duplicates ({})",
                            s.server,
                            o.scenario,
                            row.label,
                            r.failed,
                            r.gaps,
                            r.duplicates,
                            r.first_error.as_deref().unwrap_or("no error")
                        ));
                    }
                }
            }
        }
        out
    }

    pub fn outcome(&self, server: &str, scenario: &str) -> Option<&Outcome> {
        self.servers.iter().find(|s| s.server == server)?.outcomes.iter().find(|o| o.scenario == scenario)
    }
}

impl Machine {
    pub fn this() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_kib: f64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0.0);
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_gib: mem_kib / 1024.0 / 1024.0,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_owned(),
        }
    }
}
