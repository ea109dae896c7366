//! The SVG chart in docs/PERFORMANCE.md: fan-out deliveries per server
//! CPU-second, one bar per server and transport. Plain SVG text, no fonts to fetch.

use std::fmt::Write as _;

use crate::results::{Results, SERVERS};

const WIDTH: f64 = 720.0;
const LABEL_W: f64 = 170.0;
const BAR_H: f64 = 26.0;
const GAP: f64 = 10.0;
const TOP: f64 = 44.0;

/// (label, value) bars.
pub fn bars(r: &Results) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for transport in ["ws", "sse"] {
        for server in SERVERS {
            let row = r.outcome(server, "fan-out").and_then(|o| o.rows.iter().find(|row| row.label == transport));
            let cpu = row.and_then(|row| row.report.server).and_then(|s| s.cpu_s_per_million);
            if let Some(cpu) = cpu.filter(|&c| c > 0.0) {
                out.push((format!("{server} · {transport}"), 1e6 / cpu));
            }
        }
    }
    out
}

pub fn fan_out(r: &Results) -> String {
    let bars = bars(r);
    let max = bars.iter().map(|(_, v)| *v).fold(1.0, f64::max);
    let height = TOP + bars.len() as f64 * (BAR_H + GAP) + 20.0;
    let scale = (WIDTH - LABEL_W - 90.0) / max;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" font-family="system-ui, sans-serif" font-size="13">"##
    );
    let _ = writeln!(svg, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let _ = writeln!(
        svg,
        r##"<text x="12" y="24" font-size="15" font-weight="600" fill="#1d2330">Fan-out: deliveries per server CPU-second (higher is better) · {}</text>"##,
        r.date
    );
    for (i, (label, value)) in bars.iter().enumerate() {
        let y = TOP + i as f64 * (BAR_H + GAP);
        let w = (value * scale).max(1.0);
        let fill = if label.starts_with("pushlab") { "#2f6fde" } else { "#9aa4b5" };
        let _ = writeln!(
            svg,
            r##"<text x="{x}" y="{ty}" text-anchor="end" fill="#1d2330">{label}</text><rect x="{LABEL_W}" y="{y}" width="{w:.1}" height="{BAR_H}" rx="3" fill="{fill}"/><text x="{vx:.1}" y="{ty}" fill="#1d2330">{v:.0} k</text>"##,
            x = LABEL_W - 8.0,
            ty = y + BAR_H * 0.68,
            vx = LABEL_W + w + 6.0,
            v = value / 1000.0,
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Machine, ServerResults};
    use crate::scenario::{Outcome, Row};

    #[test]
    fn one_bar_per_measured_run_and_ours_stand_out() {
        let mut report: crate::report::Report = serde_json::from_value(serde_json::json!({
            "url": "http://127.0.0.1:1", "transport": "ws", "clients": 1, "connected": 1, "failed": 0,
            "clients_live": 1, "first_error": null, "duration_s": 1.0, "events": 1, "events_per_s": 1.0,
            "latency_ms": null, "requests_per_event": null, "empty_per_event": null, "bytes_per_event": null,
            "payload_per_event": null, "bytes_read": 0, "requests": 1, "empty_responses": 0, "reconnects": 0,
            "gaps": 0, "duplicates": 0, "resets": 0,
            "server": {"rss_start_kib": 0, "rss_end_kib": 0, "cpu_s": 1.0, "cpu_s_per_million": 2.0}
        }))
        .unwrap();
        let ours = Row { label: "ws".into(), extra: vec![], report: report.clone() };
        report.server = None; // measured elsewhere: no CPU figure, no bar
        let theirs = Row { label: "ws".into(), extra: vec![], report };
        let outcome = |row: Row| vec![Outcome { scenario: "fan-out".into(), rows: vec![row] }];
        let r = Results {
            date: "2026-01-01".into(),
            machine: Machine { cpu: "t".into(), cores: 2, memory_gib: 1.0, kernel: "6".into() },
            versions: vec![],
            servers: vec![
                ServerResults { server: "pushlab".into(), outcomes: outcome(ours) },
                ServerResults { server: "nchan".into(), outcomes: outcome(theirs) },
            ],
        };
        assert_eq!(bars(&r), vec![("pushlab · ws".to_string(), 500_000.0)]);
        let svg = fan_out(&r);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains(">pushlab · ws</text>") && svg.contains("#2f6fde") && svg.contains(">500 k</text>"));
    }
}
