//! A short run of each transport against a real pushlab server on port 0:
//! every client connects, events flow, no gap, no duplicate, every figure filled.
//! No timing thresholds: CI shares two cores.

use std::time::Duration;

use clap::Parser;
use pushlab::Transport;
use pushlab_bench::client::Protocol;
use pushlab_bench::run::{Options, run};
use pushlab_server::{Config, start};
use tokio_util::sync::CancellationToken;

async fn server(rate: &str) -> pushlab_server::Running {
    server_with(&["--rate", rate]).await
}

async fn server_with(args: &[&str]) -> pushlab_server::Running {
    let mut argv = vec!["pushlab", "--addr", "127.0.0.1:0", "--token", "t"];
    argv.extend_from_slice(args);
    let config = Config::try_parse_from(argv).unwrap();
    let listener = tokio::net::TcpListener::bind(config.addr).await.unwrap();
    let mut leptos = leptos::config::get_configuration(None).unwrap().leptos_options;
    leptos.output_name = "pushlab".into();
    start(config, listener, leptos, CancellationToken::new()).await.unwrap()
}

fn options(url: String, transport: Transport) -> Options {
    Options {
        url,
        protocol: Protocol::Pushlab,
        transport,
        clients: 5,
        duration: Duration::from_secs(2),
        events: None,
        poll_interval: Duration::from_millis(200),
        long_poll_timeout_ms: 1000,
        server_pid: Some(std::process::id()),
        tls: false,
        http2: false,
        progress: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_transport_delivers_everything_once() {
    let s = server("100").await;
    for transport in Transport::ALL {
        let report = run(options(format!("http://{}", s.addr), transport)).await.unwrap();
        println!("{}", report.table());
        assert_eq!((report.connected, report.failed), (5, 0), "{transport}: {:?}", report.first_error);
        assert!(report.events >= 5 * 20, "{transport}: {} events", report.events);
        assert_eq!((report.gaps, report.duplicates), (0, 0), "{transport}");
        assert!(report.latency_ms.is_some(), "{transport}");
        assert!(report.requests_per_event.is_some() && report.bytes_per_event.is_some(), "{transport}");
        assert!(report.bytes_per_event.unwrap() > 50.0, "{transport}: raw bytes include the payload");
        let server = report.server.expect("server figures");
        assert!(server.rss_end_kib > 0 && server.cpu_s_per_million.is_some(), "{transport}");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["transport"], transport.as_str());
    }
}

#[tokio::test]
async fn a_refusing_target_is_a_clear_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = run(options(format!("http://{addr}"), Transport::Ws)).await.unwrap_err();
    assert!(err.to_string().contains("cannot connect"), "{err}");
    let err = run(options("nope".into(), Transport::Ws)).await.unwrap_err();
    assert!(err.to_string().contains("bad URL"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_fills_its_table_without_gaps() {
    use pushlab_bench::scenario::{NAMES, Setup, run_scenario, table};
    // Short slow-client timeout and history, so the slow consumer is cut within seconds.
    let config = Config::try_parse_from([
        "pushlab",
        "--addr",
        "127.0.0.1:0",
        "--token",
        "t",
        "--history",
        "3000",
        "--slow-client-ms",
        "500",
    ])
    .unwrap();
    let listener = tokio::net::TcpListener::bind(config.addr).await.unwrap();
    let mut leptos = leptos::config::get_configuration(None).unwrap().leptos_options;
    leptos.output_name = "pushlab".into();
    let s = start(config, listener, leptos, CancellationToken::new()).await.unwrap();
    let setup = Setup { server_pid: Some(std::process::id()), ..quick_setup(format!("http://{}", s.addr)) };
    // `cluster` needs instances in processes of their own: `bench/run.sh --quick` runs it
    // against scripts/cluster.sh; `wire-cost-tls` a server with --tls (below).
    for name in NAMES.into_iter().filter(|&n| n != "cluster" && n != "wire-cost-tls") {
        let outcome = run_scenario(name, &setup).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        println!("{}", table(&outcome));
        assert!(!outcome.rows.is_empty(), "{name}");
        for row in &outcome.rows {
            let r = &row.report;
            assert_eq!(r.failed, 0, "{name} / {}: {:?}", row.label, r.first_error);
            assert_eq!((r.gaps, r.duplicates), (0, 0), "{name} / {}", row.label);
            assert!(
                r.events > 0 && r.bytes_per_event.is_some() && r.requests_per_event.is_some(),
                "{name} / {}",
                row.label
            );
            assert!(row.extra.iter().all(|(_, v)| !v.is_empty()), "{name} / {}", row.label);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_transport_runs_over_tls_and_http2() {
    let s = server_with(&["--rate", "100", "--tls"]).await;
    for transport in Transport::ALL {
        let mut opts = options(format!("https://{}", s.addr), transport);
        opts.http2 = true;
        let report = run(opts).await.unwrap();
        assert_eq!((report.connected, report.failed), (5, 0), "{transport}: {:?}", report.first_error);
        assert!(report.events >= 5 * 20, "{transport}: {} events", report.events);
        assert_eq!((report.gaps, report.duplicates), (0, 0), "{transport}");
    }
    // A plain-HTTP client against it is a clear error, not a hang.
    let err = run(options(format!("http://{}", s.addr), Transport::Poll)).await.unwrap_err();
    assert!(err.to_string().contains("HTTP error"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_polls_cost_fewer_bytes_than_http1_over_tls() {
    use pushlab_bench::scenario::run_scenario;
    let s = server_with(&["--tls"]).await;
    let mut setup = quick_setup(format!("https://{}", s.addr));
    let outcome = run_scenario("wire-cost-tls", &setup).await.unwrap();
    let bytes = |label: &str| {
        let row = outcome.rows.iter().find(|r| r.label == label).unwrap_or_else(|| panic!("no row {label}"));
        assert_eq!((row.report.failed, row.report.gaps, row.report.duplicates), (0, 0, 0), "{label}");
        row.report.bytes_per_event.unwrap()
    };
    let (h1, h2) = (bytes("10 ev/s · poll every 1 s · HTTP/1.1 + TLS"), bytes("10 ev/s · poll every 1 s · h2"));
    assert!(h2 < h1, "HPACK: a poll over h2 costs less ({h2:.0} vs {h1:.0} bytes/event)");
    assert_eq!(outcome.rows.len(), 6);
    // Against a plain server it says what it needs.
    setup.url = "http://127.0.0.1:1".into();
    let err = run_scenario("wire-cost-tls", &setup).await.unwrap_err();
    assert!(err.to_string().contains("--tls"), "{err}");
}

/// A `--quick` scenario run against the server at `url` (token `t`).
fn quick_setup(url: String) -> pushlab_bench::scenario::Setup {
    pushlab_bench::scenario::Setup {
        url,
        protocol: Protocol::Pushlab,
        token: "t".into(),
        server_pid: None,
        quick: true,
        transports: Transport::ALL.to_vec(),
        feeder: None,
        instances: Vec::new(),
        broker_pid: None,
        tls: false,
        http2: false,
    }
}
