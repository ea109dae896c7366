//! Shutdown: WebSockets get 1001, SSE streams end, held long polls return 204,
//! and the server stops within a few seconds.

mod common;

use std::time::{Duration, Instant};

use common::*;
use pushlab::ClientMsg;

#[tokio::test]
async fn every_connection_is_told_and_the_server_stops() {
    let s = server(&[]).await;
    let mut ws = s.ws().await;
    ws.send(&ClientMsg::Resume { after: None }).await;
    let mut sse = s.sse("", None).await;
    assert!(sse.frame().await.unwrap().retry.is_some());
    assert_eq!(sse.frame().await.unwrap().event.as_deref(), Some("hello"));
    let held = tokio::spawn(reqwest::get(s.url("/api/long-poll?timeout_ms=30000")));
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    s.running.shutdown();
    assert_eq!(ws.next().await.unwrap_err(), Some(1001));
    assert_eq!(sse.frame().await, None, "the SSE stream ends");
    assert_eq!(held.await.unwrap().unwrap().status(), 204);
    let addr = s.running.addr;
    tokio::time::timeout(Duration::from_secs(5), s.running.wait()).await.expect("stops within 5 s").unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "new connections are refused");
}
