//! The SVG charts in docs/PERFORMANCE.md: fan-out deliveries per server
//! CPU-second, one bar per server and transport; and the cost per delivery as
//! subscribers grow. Plain SVG text, no fonts to fetch.

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

/// A chart's opening: the SVG element, a white ground and its title.
fn open(w: f64, h: f64, font_size: u32, title: &str) -> String {
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" font-family="system-ui, sans-serif" font-size="{font_size}">"##
    );
    let _ = writeln!(svg, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let _ = writeln!(svg, r##"<text x="12" y="24" font-size="15" font-weight="600" fill="#1d2330">{title}</text>"##);
    svg
}

pub fn fan_out(r: &Results) -> String {
    let bars = bars(r);
    let max = bars.iter().map(|(_, v)| *v).fold(1.0, f64::max);
    let height = TOP + bars.len() as f64 * (BAR_H + GAP) + 20.0;
    let scale = (WIDTH - LABEL_W - 90.0) / max;
    let title = format!("Fan-out: deliveries per server CPU-second (higher is better) · {}", r.date);
    let mut svg = open(WIDTH, height, 13, &title);
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

/// One line of the scale chart: (subscribers, CPU s per million) points.
pub type Series = (String, Vec<(f64, f64)>);

/// The `scale` scenario's rows ("ws · 1000 · equal rate") as lines per server, transport and mode.
pub fn scale_series(r: &Results) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for server in SERVERS {
        for row in r.outcome(server, "scale").map_or(&[][..], |o| &o.rows[..]) {
            let mut parts = row.label.split(" · ");
            let (Some(t), Some(n), Some(mode)) = (parts.next(), parts.next(), parts.next()) else { continue };
            let (Ok(n), Some(cpu)) = (n.parse::<f64>(), row.report.server.and_then(|s| s.cpu_s_per_million)) else {
                continue;
            };
            let name = format!("{server} · {t} · {mode}");
            match out.iter_mut().find(|(k, _)| *k == name) {
                Some((_, pts)) => pts.push((n, cpu)),
                None => out.push((name, vec![(n, cpu)])),
            }
        }
    }
    out
}

/// CPU seconds per million deliveries against subscribers (log scale).
pub fn scale(r: &Results) -> String {
    let series = scale_series(r);
    let (w, h, left, right, top, bottom) = (720.0, 380.0, 60.0, 230.0, 44.0, 40.0);
    let xs = series.iter().flat_map(|(_, p)| p.iter().map(|(x, _)| *x));
    let (xmin, xmax) = xs.fold((f64::MAX, 1.0f64), |(a, b), x| (a.min(x), b.max(x)));
    let ymax = series.iter().flat_map(|(_, p)| p.iter().map(|(_, y)| *y)).fold(1.0f64, f64::max) * 1.1;
    let xmin = xmin.min(xmax / 10.0);
    let px = |x: f64| left + (x.ln() - xmin.ln()) / (xmax.ln() - xmin.ln()).max(1e-9) * (w - left - right);
    let py = |y: f64| top + (1.0 - y / ymax) * (h - top - bottom);
    let title = format!("CPU s per million deliveries by subscribers (lower is better) · {}", r.date);
    let mut svg = open(w, h, 12, &title);
    for k in 0..=4 {
        let y = ymax * f64::from(k) / 4.0;
        let _ = writeln!(
            svg,
            r##"<line x1="{left}" x2="{x2}" y1="{py:.1}" y2="{py:.1}" stroke="#e3e6ec"/><text x="{tx}" y="{ty:.1}" text-anchor="end" fill="#5b6475">{y:.1}</text>"##,
            x2 = w - right,
            py = py(y),
            tx = left - 6.0,
            ty = py(y) + 4.0,
        );
    }
    let mut ticks: Vec<f64> = series.iter().flat_map(|(_, p)| p.iter().map(|(x, _)| *x)).collect();
    ticks.sort_by(f64::total_cmp);
    ticks.dedup();
    for x in ticks {
        let _ = writeln!(
            svg,
            r##"<text x="{px:.1}" y="{ty}" text-anchor="middle" fill="#5b6475">{x}</text>"##,
            px = px(x),
            ty = h - bottom + 18.0,
        );
    }
    let _ = writeln!(
        svg,
        r##"<text x="{x:.1}" y="{y}" text-anchor="middle" fill="#5b6475">subscribers</text>"##,
        x = (left + w - right) / 2.0,
        y = h - 6.0
    );
    let others = ["#9aa4b5", "#b8860b", "#7a8a5a", "#a0522d", "#8e6fb5", "#c06080", "#5a8a8a", "#6b6b6b"];
    for (i, (name, pts)) in series.iter().enumerate() {
        let ours = name.starts_with("pushlab");
        let colour = match (ours, name.contains(" · ws ")) {
            (true, true) => "#2f6fde",
            (true, false) => "#18a05a",
            (false, _) => others[i % others.len()],
        };
        let dash = if name.ends_with("fixed total") { r#" stroke-dasharray="6 4""# } else { "" };
        let path: Vec<String> = pts.iter().map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y))).collect();
        let _ = writeln!(
            svg,
            r##"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="{sw}"{dash}/>"##,
            path.join(" "),
            sw = if ours { 2.5 } else { 1.5 },
        );
        // A legend beside the plot: lines that end close together keep their names apart.
        let (lx, ly) = (w - right + 12.0, top + 8.0 + i as f64 * 18.0);
        let _ = writeln!(
            svg,
            r##"<line x1="{lx}" x2="{lx2}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="2.5"{dash}/><text x="{tx}" y="{ty}" fill="#1d2330">{name}</text>"##,
            lx2 = lx + 22.0,
            tx = lx + 28.0,
            ty = ly + 4.0,
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
