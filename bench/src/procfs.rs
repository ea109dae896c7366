//! The server's resident memory and CPU time, read from /proc (Linux).

/// Ticks per second of /proc/PID/stat times; 100 on Linux x86_64 and arm64.
const CLK_TCK: f64 = 100.0;

#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Sample {
    pub rss_kib: u64,
    pub cpu_s: f64,
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
    Some(Sample { rss_kib, cpu_s: ticks / CLK_TCK })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_this_process() {
        let s = sample(std::process::id()).expect("/proc is readable");
        assert!(s.rss_kib > 0);
        assert!(s.cpu_s >= 0.0);
        assert_eq!(sample(u32::MAX), None);
    }
}
