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
