//! docs/PERFORMANCE.md from a run's [`Results`]: the targets, then one table
//! per scenario with every server side by side ("n/a" where a server does not
//! offer that transport or scenario), and what each figure means.

use std::fmt::Write as _;

use crate::report::Report;
use crate::results::{Results, SERVERS};
use crate::scenario::Row;

const FAN_OUT_SVG: &str = "perf-fanout.svg";
pub const SCALE_SVG: &str = "perf-scale.svg";

pub fn document(r: &Results) -> String {
    let mut out = String::new();
    let m = &r.machine;
    let _ = writeln!(
        out,
        "# Performance\n\n\
         What each transport costs on pushlab's server, side by side with the servers people would pick \
         instead, all measured in one run of `bench/run.sh` on {date}. Regenerate it with `bench/run.sh` \
         (about 40 minutes); the raw figures are in `bench/results/{date}.json`.\n\n\
         **Machine**: {cpu}, {cores} cores, {mem:.0} GiB, Linux {kernel}. The load runner (`pushlab-load`) \
         and the server under test share these cores over loopback, so absolute figures move with the \
         machine: compare the servers within this run.\n",
        date = r.date,
        cpu = m.cpu,
        cores = m.cores,
        mem = m.memory_gib,
        kernel = m.kernel,
    );
    servers(&mut out, r);
    let _ = writeln!(
        out,
        "Where the time and memory go — the profiles behind these figures and what was changed \
         because of them — is in [PROFILES.md](PROFILES.md).\n"
    );
    targets(&mut out, r);
    scenarios(&mut out, r);
    out
}

fn version(r: &Results, what: &str) -> String {
    r.versions.iter().find(|(k, _)| k == what).map_or("?".into(), |(_, v)| v.clone())
}

fn servers(out: &mut String, r: &Results) {
    let _ = writeln!(
        out,
        "| server | what runs | transports |\n|---|---|---|\n\
         | pushlab | this repository's release build (`target/release/pushlab`), its simulator publishing | poll, long poll, SSE, WebSocket |\n\
         | node-ws | Node.js {node} with `ws` {ws} (`bench/peers/ws-peer.mjs`): pushlab's `/api/ws` as the `ws` README builds a broadcast | WebSocket |\n\
         | node-sse | Node.js {node}, plain `node:http` (`bench/peers/sse-peer.mjs`): pushlab's `/api/sse` | SSE |\n\
         | nchan | nginx {nginx} with Debian's nchan {nchan} (`bench/peers/nchan.conf`), one worker; the runner publishes each event to `/pub` | long poll, SSE, WebSocket |\n\n\
         The Node peers make the same stream as pushlab (envelopes of the same shapes and sizes, paced the same \
         way, serialized once per event and the same bytes written to every connection) and answer the \
         instructor API's rate and burst, so the load runner drives them exactly as it drives pushlab. nchan \
         speaks its own protocol: the runner publishes pushlab envelopes to it over HTTP and reads them back \
         with an adapter (nchan's message ids to resume, no resets), so the publishing costs nchan one HTTP \
         request per event that the others do not pay. The CPU and memory figures are the server process's \
         own (nginx: its one worker), sampled from /proc.\n",
        node = version(r, "node"),
        ws = version(r, "ws"),
        nginx = version(r, "nginx"),
        nchan = version(r, "nchan"),
    );
}

fn row<'a>(r: &'a Results, server: &str, scenario: &str, label: &str) -> Option<&'a Row> {
    r.outcome(server, scenario)?.rows.iter().find(|row| row.label == label)
}

fn ours<'a>(r: &'a Results, scenario: &str, label: &str) -> Option<&'a Report> {
    row(r, "pushlab", scenario, label).map(|row| &row.report)
}

/// Deliveries per server CPU-second.
fn efficiency(rep: &Report) -> Option<f64> {
    rep.server?.cpu_s_per_million.filter(|&c| c > 0.0).map(|c| 1e6 / c)
}

fn rss_per_conn(rep: &Report) -> Option<f64> {
    let s = rep.server?;
    Some((s.rss_end_kib as f64 - s.rss_start_kib as f64) * 1024.0 / f64::from(rep.clients.max(1)))
}

/// WebSocket server→client frame header for a text payload of `len` bytes.
fn ws_header(len: f64) -> f64 {
    if len < 126.0 { 2.0 } else { 4.0 }
}

struct Target {
    what: &'static str,
    figure: String,
    met: Option<bool>,
}

fn targets(out: &mut String, r: &Results) {
    let mut t = Vec::new();
    let fan = |server, label| row(r, server, "fan-out", label).and_then(|row| efficiency(&row.report));
    let ratio = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a / b);
    let ws_eff = fan("pushlab", "ws");
    let node = ratio(ws_eff, fan("node-ws", "ws"));
    t.push(Target {
        what: "fan-out over WS: deliveries per server CPU-second ≥ 3× the Node `ws` peer's",
        figure: fig3(ws_eff, fan("node-ws", "ws"), node),
        met: node.map(|x| x >= 3.0),
    });
    let nchan = ratio(ws_eff, fan("nchan", "ws"));
    t.push(Target {
        what: "fan-out over WS: at least the nchan peer's",
        figure: fig3(ws_eff, fan("nchan", "ws"), nchan),
        met: nchan.map(|x| x >= 1.0),
    });
    let sse_nchan = ratio(fan("pushlab", "sse"), fan("nchan", "sse"));
    t.push(Target {
        what: "fan-out over SSE: at least the nchan peer's",
        figure: fig3(fan("pushlab", "sse"), fan("nchan", "sse"), sse_nchan),
        met: sse_nchan.map(|x| x >= 1.0),
    });
    let sse = ratio(fan("pushlab", "sse"), ws_eff);
    t.push(Target {
        what: "fan-out: SSE within 15% of WS (deliveries per CPU-second)",
        figure: sse.map_or("n/a".into(), |x| format!("SSE at {:.0}% of WS", x * 100.0)),
        met: sse.map(|x| x >= 0.85),
    });
    for label in ["ws", "sse", "long-poll"] {
        let limit = 8_000.0;
        let v = ours(r, "idle", label).and_then(rss_per_conn);
        t.push(Target {
            what: match label {
                "ws" => "idle memory per WS connection ≤ 8 KB",
                "sse" => "idle memory per SSE connection ≤ 8 KB",
                _ => "idle memory per held long poll ≤ 8 KB",
            },
            figure: v.map_or("n/a".into(), |b| format!("{:.1} KB", b / 1000.0)),
            met: v.map(|b| b <= limit),
        });
    }
    let cap: Vec<&Report> = ["ws", "sse", "long-poll"].iter().filter_map(|l| ours(r, "capacity", l)).collect();
    let all_in = |rep: &&Report| rep.failed == 0 && rep.clients_live == rep.clients;
    let one = cap.iter().filter(|rep| all_in(rep) && rep.clients >= 6000).count();
    t.push(Target {
        what: "6,000 connections of one transport held in one process, all receiving",
        figure: cap.first().map_or("n/a".into(), |rep| format!("{} of 3 transports held {} each", one, rep.clients)),
        met: (!cap.is_empty()).then_some(one >= 1),
    });
    let total: u32 = cap.iter().map(|rep| rep.clients).sum();
    let all = cap.len() == 3 && cap.iter().all(all_in);
    t.push(Target {
        what: "stretch: 18,000 across the three at once",
        figure: if cap.is_empty() { "n/a".into() } else { format!("{total} held, all receiving: {}", yes(all)) },
        met: (!cap.is_empty()).then_some(all && total >= 18_000),
    });
    for t_name in ["ws", "sse"] {
        let cpu = |n: u32| {
            row(r, "pushlab", "scale", &format!("{t_name} · {n} · equal rate"))
                .filter(|row| row.report.clients_live == row.report.clients && row.report.failed == 0)
                .and_then(|row| row.report.server?.cpu_s_per_million)
        };
        let growth = ratio(cpu(15_000), cpu(100));
        t.push(Target {
            what: if t_name == "ws" {
                "scale, WS: CPU per delivery at 15,000 subscribers ≤ 1.3× at 100 (equal rate each, all receiving)"
            } else {
                "scale, SSE: CPU per delivery at 15,000 subscribers ≤ 1.3× at 100 (equal rate each, all receiving)"
            },
            figure: match (cpu(15_000), cpu(100), growth) {
                (Some(a), Some(b), Some(g)) => format!("{a:.2} s vs {b:.2} s per million: {g:.2}×"),
                _ => "n/a (not run, or not every client received)".into(),
            },
            met: growth.map(|g| g <= 1.3),
        });
    }
    for (label, p50, p99) in [("ws", 0.1, Some(0.5)), ("sse", 0.1, Some(0.5)), ("long-poll", 0.3, None)] {
        let l = ours(r, "latency", label).and_then(|rep| rep.latency_ms);
        t.push(Target {
            what: match label {
                "ws" => "latency, 100 clients × 100 events/s, WS: p50 ≤ 100 µs, p99 ≤ 500 µs",
                "sse" => "latency, 100 clients × 100 events/s, SSE: p50 ≤ 100 µs, p99 ≤ 500 µs",
                _ => "latency, 100 clients × 100 events/s, long poll: p50 ≤ 300 µs",
            },
            figure: l.map_or("n/a".into(), |l| format!("p50 {:.0} µs, p99 {:.0} µs", l.p50 * 1000.0, l.p99 * 1000.0)),
            met: l.map(|l| l.p50 <= p50 && p99.is_none_or(|p99| l.p99 <= p99)),
        });
    }
    for (label, framing, limit) in [("ws", "WS", 1.1), ("sse", "SSE", 1.2)] {
        let wire_label = format!("100 ev/s · {label}");
        let rep = ours(r, "wire-cost", &wire_label);
        let overhead = rep.and_then(|rep| {
            let payload = rep.payload_per_event?;
            let minimal = payload + if label == "ws" { ws_header(payload) } else { 8.0 };
            Some((rep.bytes_per_event? / minimal, rep.bytes_per_event?, payload))
        });
        t.push(Target {
            what: if framing == "WS" {
                "bytes per delivered WS event ≤ 1.1× payload + frame header"
            } else {
                "bytes per delivered SSE event ≤ 1.2× payload + `data: ` and the blank line"
            },
            figure: overhead.map_or("n/a".into(), |(x, bytes, payload)| {
                format!("{x:.2}× ({bytes:.0} B read for {payload:.0} B of payload)")
            }),
            met: overhead.map(|(x, _, _)| x <= limit),
        });
    }
    // Short polling's latency is its interval's: a hop below a millisecond does not show in it.
    for label in ["ws", "sse", "long-poll"] {
        let memory = ours(r, "latency", label).and_then(|rep| rep.latency_ms);
        let redis = ours(r, "cluster", &format!("latency · {label}")).and_then(|rep| rep.latency_ms);
        let added = memory.zip(redis).map(|(m, c)| c.p50 - m.p50);
        t.push(Target {
            what: match label {
                "ws" => "many instances, WS: the Redis hop adds ≤ 0.5 ms at p50 (100 clients × 100 events/s)",
                "sse" => "many instances, SSE: the Redis hop adds ≤ 0.5 ms at p50",
                _ => "many instances, long poll: the Redis hop adds ≤ 0.5 ms at p50",
            },
            figure: match (memory, redis) {
                (Some(m), Some(c)) => format!(
                    "p50 {:.3} → {:.3} ms ({:+.3}), p99 {:.3} → {:.3} ms",
                    m.p50,
                    c.p50,
                    c.p50 - m.p50,
                    m.p99,
                    c.p99
                ),
                _ => "n/a".into(),
            },
            met: added.map(|a| a <= 0.5),
        });
    }
    let takeover = row(r, "pushlab", "cluster", "leader killed").map(|row| extra(row, "takeover"));
    let seconds = takeover.as_deref().and_then(|t| t.trim_end_matches(" s").parse::<f64>().ok());
    t.push(Target {
        what: "many instances: the leader killed (SIGKILL), another takes over within 5 s",
        figure: takeover.unwrap_or_else(|| "n/a".into()),
        met: seconds.map(|s| s <= 5.0),
    });
    let _ = writeln!(out, "## Targets\n\n| target | this run | met |\n|---|---|---|");
    for t in t {
        let met = match t.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "n/a",
        };
        let _ = writeln!(out, "| {} | {} | {met} |", t.what, t.figure);
    }
    let _ = writeln!(
        out,
        "\nBytes per SSE event include the `id:` and `event:` lines docs/PROTOCOL.md §4.3 requires of pushlab \
         (the id is what makes a browser's reconnect resume); the peers' figures below show what other framings \
         cost.\n"
    );
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn fig3(ours: Option<f64>, theirs: Option<f64>, ratio: Option<f64>) -> String {
    match (ours, theirs, ratio) {
        (Some(a), Some(b), Some(x)) => format!("{:.0} k/s vs {:.0} k/s: {x:.2}×", a / 1000.0, b / 1000.0),
        _ => "n/a".into(),
    }
}

type Cells = fn(&Row) -> Vec<String>;

struct Section {
    scenario: &'static str,
    title: &'static str,
    means: &'static str,
    headers: &'static [&'static str],
    cells: Cells,
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.digits$}"))
}

fn latency_cells(row: &Row) -> Vec<String> {
    let l = row.report.latency_ms;
    let ms = |f: fn(&crate::report::Latency) -> f64| l.as_ref().map_or("n/a".into(), |l| format!("{:.3}", f(l)));
    vec![
        ms(|l| l.p50),
        ms(|l| l.p90),
        ms(|l| l.p99),
        ms(|l| l.p999),
        ms(|l| l.max),
        format!("{:.0}", row.report.events_per_s),
        gaps(&row.report),
    ]
}

fn gaps(rep: &Report) -> String {
    format!("{} / {}", rep.gaps, rep.duplicates)
}

fn extra(row: &Row, key: &str) -> String {
    row.extra.iter().find(|(k, _)| k == key).map_or("n/a".into(), |(_, v)| v.clone())
}

const SECTIONS: [Section; 11] = [
    Section {
        scenario: "fan-out",
        title: "Fan-out: 200 subscribers, 1,000 events/s",
        means: "Every subscriber gets every event. *Deliveries/s* is events received per second over all \
                clients; *CPU per million* is the server process's CPU seconds (user + system) per million \
                deliveries, and *per CPU-second* its inverse: what one core buys.",
        headers: &[
            "clients",
            "deliveries/s",
            "CPU s per million",
            "deliveries per CPU-second",
            "p99 ms",
            "gaps / dups",
        ],
        cells: |row| {
            let rep = &row.report;
            vec![
                format!("{}/{}", rep.connected, rep.clients),
                format!("{:.0}", rep.events_per_s),
                opt(rep.server.and_then(|s| s.cpu_s_per_million), 2),
                efficiency(rep).map_or("n/a".into(), |e| format!("{:.0} k", e / 1000.0)),
                opt(rep.latency_ms.map(|l| l.p99), 2),
                gaps(rep),
            ]
        },
    },
    Section {
        scenario: "scale",
        title: "Cost growth: 100 to 15,000 subscribers",
        means: "WebSocket and SSE subscribers at 100, 1,000, 5,000 and 15,000, first at a fixed total of \
                100,000 deliveries/s (1,000 events/s at 100 subscribers, 6.7 at 15,000: few subscribers take \
                several events per wake-up), then at an equal 2 events/s each (30,000 deliveries/s at 15,000, \
                short of saturating the 2 cores). The server's CPU, write system calls and thread wake-ups \
                are taken over 8–30 s (at least 20,000 deliveries) once every client receives, not over \
                the connecting, per delivery. *Server RSS* is the process's resident memory while they are held \
                (memory per connection is measured by the idle and capacity scenarios).",
        headers: &[
            "events/s each",
            "deliveries/s",
            "CPU s per million",
            "writes per delivery",
            "wake-ups per delivery",
            "server RSS",
            "clients receiving",
            "gaps / dups",
        ],
        cells: |row| {
            vec![
                extra(row, "events/s each"),
                extra(row, "deliveries/s"),
                extra(row, "CPU s per million"),
                extra(row, "writes per delivery"),
                extra(row, "wake-ups per delivery"),
                extra(row, "server RSS"),
                extra(row, "clients receiving"),
                gaps(&row.report),
            ]
        },
    },
    Section {
        scenario: "latency",
        title: "Latency: 100 clients, 100 events/s",
        means: "From the envelope's `sent_at_us` (stamped at publish) to the moment the client has read \
                and parsed it, in milliseconds, over every delivery of a 10 s run.",
        headers: &["p50", "p90", "p99", "p99.9", "max", "deliveries/s", "gaps / dups"],
        cells: latency_cells,
    },
    Section {
        scenario: "idle",
        title: "Idle memory: 2,000 connections per transport",
        means: "The server's resident memory after a transport's connections opened minus before, per \
                connection, at 0.1 events/s, each transport's opened while the earlier ones are still held \
                (so none reuses memory another's clients freed); then a burst of 3 events that every client \
                must receive.",
        headers: &["connected", "RSS per connection", "clients receiving", "gaps / dups"],
        cells: |row| {
            vec![
                format!("{}/{}", row.report.connected, row.report.clients),
                rss_per_conn(&row.report).map_or("n/a".into(), |b| format!("{:.1} KB", b / 1000.0)),
                extra(row, "clients receiving"),
                gaps(&row.report),
            ]
        },
    },
    Section {
        scenario: "capacity",
        title: "Capacity: 6,000 idle connections of each transport at once",
        means: "All three transports held together in one server process (18,000 connections; one load-runner \
                process holds the other ends, from 127.0.0.1, well inside the ephemeral port range), then a \
                burst of 3 events every client must receive.",
        headers: &["connected", "clients receiving", "held at once", "RSS per connection, all"],
        cells: |row| {
            vec![
                format!("{}/{}", row.report.connected, row.report.clients),
                extra(row, "clients receiving"),
                extra(row, "held at once"),
                extra(row, "RSS per connection, all"),
            ]
        },
    },
    Section {
        scenario: "wire-cost",
        title: "Wire cost per delivered event: 10 clients at 1, 10 and 100 events/s",
        means: "Bytes read from the client's socket (HTTP headers, chunking, SSE lines and WebSocket frame \
                headers included) and HTTP requests, per delivered event. *Payload* is the message itself \
                (the SSE `data:` value, the WebSocket text). This is the table the dashboard's teaching panel quotes.",
        headers: &["bytes/event", "payload/event", "requests/event", "empty/event", "p50 ms"],
        cells: |row| {
            let rep = &row.report;
            vec![
                opt(rep.bytes_per_event, 0),
                opt(rep.payload_per_event, 0),
                opt(rep.requests_per_event, 3),
                opt(rep.empty_per_event, 3),
                opt(rep.latency_ms.map(|l| l.p50), 3),
            ]
        },
    },
    Section {
        scenario: "wire-cost-tls",
        title: "Wire cost over TLS: HTTP/1.1 and HTTP/2 (pushlab only)",
        means: "The wire-cost runs again against `pushlab --tls`, each first over HTTP/1.1 and then over HTTP/2 \
                (ALPN `h2`), one connection per client. Bytes are counted below TLS, so both carry its record \
                overhead; the difference between them is HTTP/2's framing and HPACK, which sends a repeated \
                request's and answer's headers as a few bytes of table references.",
        headers: &["bytes/event", "requests/event", "p50 ms"],
        cells: |row| {
            let rep = &row.report;
            vec![opt(rep.bytes_per_event, 0), opt(rep.requests_per_event, 3), opt(rep.latency_ms.map(|l| l.p50), 3)]
        },
    },
    Section {
        scenario: "faults",
        title: "What each fault does to latency (pushlab only)",
        means: "10 clients of each transport at 10 events/s for 15 s, all at once: first with no fault \
                (*without*), then under each fault that delays events, for the transports it acts on, in milliseconds \
                (docs/PROTOCOL.md §6.5; the short poll asks every second). `idle-cut` and `ws-dies` delay \
                nothing: they cut or silence connections, and their cost is the reconnects and recovery the \
                page's ledger shows.",
        headers: &["p50 without", "p50 with", "p99 without", "p99 with", "reconnects", "gaps / dups"],
        cells: |row| {
            vec![
                extra(row, "p50 without"),
                extra(row, "p50 with"),
                extra(row, "p99 without"),
                extra(row, "p99 with"),
                row.report.reconnects.to_string(),
                gaps(&row.report),
            ]
        },
    },
    Section {
        scenario: "slow-consumer",
        title: "Slow consumer (pushlab only)",
        means: "99 WebSocket clients at 1,000 events/s, first all reading, then with one more that reads \
                nothing; then a 20,000-event flood. The peers have no cut-off for a stalled client to compare.",
        headers: &["others' p99", "slow one cut off", "server RSS growth", "gaps / dups"],
        cells: |row| {
            vec![
                extra(row, "others' p99"),
                extra(row, "slow one cut off"),
                extra(row, "server RSS growth"),
                gaps(&row.report),
            ]
        },
    },
    Section {
        scenario: "reconnect-storm",
        title: "Reconnect storm: 1,000 clients dropped at once (pushlab only)",
        means: "The instructor's drop closes every connection of a transport; the time until every client \
                is back and has received an event published after the drop, with no gap. The peers have \
                no drop control to compare.",
        headers: &["all back and caught up", "reconnects", "gaps / dups"],
        cells: |row| vec![extra(row, "all back and caught up"), row.report.reconnects.to_string(), gaps(&row.report)],
    },
    Section {
        scenario: "cluster",
        title: "Many instances: two on one Redis, behind nginx (pushlab only)",
        means: "`scripts/cluster.sh`: Redis, two instances and nginx round robin without sticky sessions. \
                *Fan-out* is 200 subscribers at 1,000 events/s through the balancer (spread over both) and then \
                all on one instance; CPU is both instances' (each mirrors the stream either way) and Redis's, per \
                million deliveries. *Latency* is 100 clients at 100 events/s on one instance directly: the \
                in-memory hub's figures are the latency table above, the difference is the Redis hop. Then \
                the leader is killed with SIGKILL while a subscriber reads the other instance. nginx's own CPU \
                is not counted: through it, on these 2 cores shared with the load runner, latency under \
                fan-out is the balancer's as much as the instances'.",
        headers: &[
            "deliveries/s",
            "instances' CPU s per million",
            "Redis CPU s per million",
            "p50 ms",
            "p99 ms",
            "takeover",
            "gaps / dups",
        ],
        cells: |row| {
            vec![
                extra(row, "deliveries/s"),
                extra(row, "instances' CPU s per million"),
                extra(row, "Redis CPU s per million"),
                extra(row, "p50 ms"),
                extra(row, "p99 ms"),
                extra(row, "takeover"),
                gaps(&row.report),
            ]
        },
    },
];

fn scenarios(out: &mut String, r: &Results) {
    for s in &SECTIONS {
        let _ = writeln!(out, "## {}\n\n{}\n", s.title, s.means);
        if s.scenario == "fan-out" {
            let _ = writeln!(out, "![Deliveries per server CPU-second, fan-out]({FAN_OUT_SVG})\n");
        }
        if s.scenario == "scale" {
            let _ = writeln!(out, "![Server CPU per million deliveries as subscribers grow]({SCALE_SVG})\n");
        }
        // Every label any server ran, in the order they first appear.
        let mut labels: Vec<&str> = Vec::new();
        for server in SERVERS {
            for row in r.outcome(server, s.scenario).map_or(&[][..], |o| &o.rows[..]) {
                if !labels.contains(&row.label.as_str()) {
                    labels.push(&row.label);
                }
            }
        }
        if labels.is_empty() {
            let _ = writeln!(out, "Not run.\n");
            continue;
        }
        let _ = writeln!(out, "| run | server | {} |", s.headers.join(" | "));
        let _ = writeln!(out, "|---|---|{}", "---|".repeat(s.headers.len()));
        let pushlab_only =
            matches!(s.scenario, "wire-cost-tls" | "faults" | "slow-consumer" | "reconnect-storm" | "cluster");
        for label in labels {
            for server in SERVERS {
                if pushlab_only && server != "pushlab" {
                    continue;
                }
                let cells = match row(r, server, s.scenario, label) {
                    Some(row) => (s.cells)(row),
                    None => vec!["n/a".to_string(); s.headers.len()],
                };
                let _ = writeln!(out, "| {label} | {server} | {} |", cells.join(" | "));
            }
        }
        let _ = writeln!(out);
    }
}

pub fn fan_out_svg_name() -> &'static str {
    FAN_OUT_SVG
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Latency, ServerCost};
    use crate::results::{Machine, ServerResults};
    use crate::scenario::Outcome;
    use pushlab::Transport;

    fn report(transport: Transport, cpu_s_per_million: f64, p50: f64) -> Report {
        Report {
            url: "http://127.0.0.1:1".into(),
            transport,
            clients: 200,
            connected: 200,
            failed: 0,
            clients_live: 200,
            first_error: None,
            duration_s: 10.0,
            events: 2_000_000,
            events_per_s: 200_000.0,
            latency_ms: Some(Latency { p50, p90: p50, p99: p50 * 2.0, p999: p50 * 3.0, max: p50 * 4.0 }),
            requests_per_event: Some(0.0),
            empty_per_event: Some(0.0),
            bytes_per_event: Some(176.0),
            payload_per_event: Some(172.0),
            bytes_read: 0,
            requests: 200,
            empty_responses: 0,
            reconnects: 0,
            gaps: 0,
            duplicates: 0,
            resets: 0,
            server: Some(ServerCost {
                rss_start_kib: 0,
                rss_end_kib: 0,
                cpu_s: 1.0,
                cpu_s_per_million: Some(cpu_s_per_million),
                writes_per_delivery: None,
                wakeups_per_delivery: None,
            }),
        }
    }

    fn results(servers: Vec<(&str, Vec<Outcome>)>) -> Results {
        Results {
            date: "2026-01-01".into(),
            machine: Machine { cpu: "test".into(), cores: 2, memory_gib: 1.0, kernel: "6".into() },
            versions: vec![],
            servers: servers.into_iter().map(|(s, outcomes)| ServerResults { server: s.into(), outcomes }).collect(),
        }
    }

    fn fan_out(rows: Vec<(&str, Report)>) -> Outcome {
        Outcome {
            scenario: "fan-out".into(),
            rows: rows.into_iter().map(|(l, report)| Row { label: l.into(), extra: vec![], report }).collect(),
        }
    }

    #[test]
    fn targets_compare_within_the_run_and_missing_cells_read_na() {
        let r = results(vec![
            (
                "pushlab",
                vec![fan_out(vec![
                    ("ws", report(Transport::Ws, 1.0, 0.05)),
                    ("sse", report(Transport::Sse, 2.0, 0.05)),
                ])],
            ),
            ("node-ws", vec![fan_out(vec![("ws", report(Transport::Ws, 4.0, 0.05))])]),
        ]);
        let doc = document(&r);
        // 1 M deliveries per CPU-second against 250 k: 4×, met.
        assert!(doc.contains("| 1000 k/s vs 250 k/s: 4.00× | yes |"), "{doc}");
        // No nchan results: its comparison and its rows are n/a, not zero.
        assert!(doc.contains("at least the nchan peer's | n/a | n/a |"), "{doc}");
        assert!(doc.contains("| ws | nchan | n/a | n/a |"), "{doc}");
        // SSE at half the WS rate is outside 15%.
        assert!(doc.contains("SSE at 50% of WS | **no** |"), "{doc}");
        assert!(doc.contains("![Deliveries per server CPU-second, fan-out](perf-fanout.svg)"));
    }

    #[test]
    fn a_run_with_gaps_or_missing_scenarios_is_not_clean() {
        let mut bad = report(Transport::Ws, 1.0, 0.05);
        bad.gaps = 3;
        let r = results(vec![("pushlab", vec![fan_out(vec![("ws", bad)])])]);
        let problems = r.problems();
        assert!(problems.iter().any(|p| p.contains("pushlab fan-out ws: 0 failed, 3 gaps")), "{problems:?}");
        assert!(problems.iter().any(|p| p == "pushlab: no idle results"), "{problems:?}");
        assert!(problems.iter().any(|p| p == "nchan: no fan-out results"), "{problems:?}");
    }

    #[test]
    fn the_redis_hop_and_the_takeover_are_targets() {
        type Rows<'a> = Vec<(&'a str, Report, Vec<(String, String)>)>;
        let outcome = |scenario: &str, rows: Rows| Outcome {
            scenario: scenario.into(),
            rows: rows.into_iter().map(|(l, report, extra)| Row { label: l.into(), extra, report }).collect(),
        };
        let takeover = vec![("takeover".to_string(), "2.83 s".to_string())];
        let r = results(vec![(
            "pushlab",
            vec![
                outcome("latency", vec![("ws", report(Transport::Ws, 1.0, 0.08), vec![])]),
                outcome(
                    "cluster",
                    vec![
                        ("latency · ws", report(Transport::Ws, 1.0, 0.38), vec![]),
                        ("leader killed", report(Transport::Sse, 1.0, 0.5), takeover),
                    ],
                ),
            ],
        )]);
        let doc = document(&r);
        assert!(doc.contains("p50 0.080 → 0.380 ms (+0.300), p99 0.160 → 0.760 ms | yes |"), "{doc}");
        assert!(doc.contains("the Redis hop adds ≤ 0.5 ms at p50 | n/a | n/a |"), "SSE not run: {doc}");
        assert!(doc.contains("takes over within 5 s | 2.83 s | yes |"), "{doc}");
        assert!(doc.contains("| leader killed | pushlab |"), "{doc}");
    }
}
