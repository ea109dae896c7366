//! The server's resident memory, CPU time, write calls and wake-ups, read
//! from /proc (Linux): the same figures for any server, whatever it is written in.

/// Ticks per second of /proc/PID/stat times; 100 on Linux x86_64 and arm64.
const CLK_TCK: f64 = 100.0;

#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Sample {
    pub rss_kib: u64,
    pub cpu_s: f64,
    /// Write system calls so far (`syscw` of /proc/PID/io: write and writev, which
    /// is how Rust, libuv and nginx write to sockets); 0 where it cannot be read.
    pub writes: u64,
    /// Times its threads blocked and were woken (voluntary context switches).
    pub wakeups: u64,
}

pub fn sample(pid: u32) -> Option<Sample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kib =
        status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces, inside parentheses).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    let writes = std::fs::read_to_string(format!("/proc/{pid}/io"))
        .ok()
        .and_then(|io| io.lines().find_map(|l| l.strip_prefix("syscw:"))?.trim().parse().ok())
        .unwrap_or(0);
    Some(Sample { rss_kib, cpu_s: ticks / CLK_TCK, writes, wakeups: wakeups(pid) })
}

/// Voluntary context switches summed over the process's threads.
fn wakeups(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return 0 };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("status")).ok())
        .filter_map(|st| {
            st.lines().find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))?.trim().parse::<u64>().ok()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_this_process() {
        let s = sample(std::process::id()).expect("/proc is readable");
        assert!(s.rss_kib > 0);
        assert!(s.cpu_s >= 0.0);
        assert!(s.wakeups > 0, "a running test process has blocked at least once");
        assert_eq!(sample(u32::MAX), None);
    }
}
