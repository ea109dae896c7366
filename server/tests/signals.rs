//! The real binary, stopped by a real signal: WebSockets get 1001, SSE streams
//! end, held long polls return 204, and the process exits 0 within 5 s.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{Sse, Ws};
use pushlab::ClientMsg;

fn start_binary() -> (std::process::Child, String) {
    common::spawn_binary(&["--addr", "127.0.0.1:0", "--rate", "0.1"])
}

async fn stops_gracefully_on(signal: &str) {
    let (mut child, base) = start_binary();
    let (ws, _) = tokio_tungstenite::connect_async(format!("{}/api/ws", base.replace("http", "ws"))).await.unwrap();
    let mut ws = Ws { socket: ws };
    ws.send(&ClientMsg::Resume { after: None }).await;
    ws.events(1).await;
    let res = reqwest::get(format!("{base}/api/sse")).await.unwrap();
    let mut sse = Sse::from_response(res);
    sse.event().await;
    // A long poll at the head, so it is held.
    let head: serde_json::Value = reqwest::get(format!("{base}/api/poll")).await.unwrap().json().await.unwrap();
    let cursor = head["cursor"].as_str().unwrap().to_owned();
    let held = tokio::spawn(reqwest::get(format!("{base}/api/long-poll?timeout_ms=30000&after={cursor}")));
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    let status = Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let code = loop {
        match ws.next().await {
            Ok(_) => continue, // events still in flight
            Err(code) => break code,
        }
    };
    assert_eq!(code, Some(1001), "{signal}: WebSockets are told the server is going away");
    while sse.frame().await.is_some() {}
    let held = held.await.unwrap().unwrap().status().as_u16();
    assert_eq!(held, 204, "{signal}: the held long poll returns");
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{signal}: still running after 5 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{signal}: exit status {exit}");
    assert!(reqwest::get(format!("{base}/api/time")).await.is_err(), "{signal}: new connections are refused");
}

#[tokio::test]
async fn sigterm_stops_gracefully() {
    stops_gracefully_on("-TERM").await;
}

#[tokio::test]
async fn sigint_stops_gracefully() {
    stops_gracefully_on("-INT").await;
}

#[tokio::test]
async fn help_lists_every_flag() {
    let out = Command::new(env!("CARGO_BIN_EXE_pushlab")).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in ["--addr", "--rate", "--history", "--token", "--max-connections", "--allowed-origin", "--keepalive"] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_pushlab")).args(["--rate", "5000"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("0.1–1000"));
}
