//! The traps, switched on over HTTP and seen at the socket.

mod common;

use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use pushlab::{ClientMsg, ServerMsg};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

async fn fault(s: &Server, body: Value) -> (u16, Value) {
    let mut body = body;
    body["action"] = json!("fault");
    let res = s.control(body).await;
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn settings(s: &Server) -> Value {
    s.get("/api/stats").await.json::<Value>().await.unwrap()["settings"].clone()
}

#[tokio::test]
async fn faults_switch_on_replace_go_off_and_are_listed_by_name() {
    let s = server(&[]).await;
    assert_eq!(settings(&s).await["faults"], json!([]), "always present, empty when none");
    assert_eq!(fault(&s, json!({"fault": "ws-dies"})).await.0, 200);
    assert_eq!(fault(&s, json!({"fault": "buffering", "bytes": 100})).await.0, 200);
    let (status, after) = fault(&s, json!({"fault": "latency", "ms": 50, "transport": "poll"})).await;
    assert_eq!(status, 200);
    let listed = json!([
        {"fault": "buffering", "bytes": 100, "max_ms": 5000},
        {"fault": "latency", "ms": 50, "jitter_ms": 0, "transport": "poll"},
        {"fault": "ws-dies", "after_ms": 5000},
    ]);
    assert_eq!(after["faults"], listed, "the answer is the settings");
    assert_eq!(settings(&s).await["faults"], listed);
    fault(&s, json!({"fault": "buffering", "bytes": 7})).await;
    assert_eq!(settings(&s).await["faults"][0]["bytes"], 7, "switched on again: replaced");
    fault(&s, json!({"fault": "ws-dies", "off": true})).await;
    assert_eq!(settings(&s).await["faults"].as_array().unwrap().len(), 2);
    fault(&s, json!({"fault": "none"})).await;
    assert_eq!(settings(&s).await["faults"], json!([]));
}

#[tokio::test]
async fn bad_faults_are_400s_that_change_nothing() {
    let s = server(&[]).await;
    fault(&s, json!({"fault": "hold-first"})).await;
    let cases = [
        (json!({"fault": "explode"}), "unknown fault `explode`"),
        (json!({"fault": "buffering", "ms": 3}), "buffering takes no parameter `ms`"),
        (json!({"fault": "idle-cut", "after_s": 0}), "idle-cut: after_s must be 1–300"),
        (json!({"fault": "latency", "jitter_ms": 10_001}), "latency: jitter_ms must be 0–10000"),
        (json!({"fault": "ws-dies", "after_ms": 300_001}), "ws-dies: after_ms must be 0–300000"),
        (json!({"fault": "latency", "transport": "carrier-pigeon"}), "unknown variant"),
        (json!({"fault": "hold-first", "colour": "red"}), "unknown field `colour`"),
    ];
    for (body, says) in cases {
        let (status, err) = fault(&s, body.clone()).await;
        assert_eq!(status, 400, "{body}");
        assert!(err["message"].as_str().unwrap().contains(says), "{body}: {err}");
    }
    for (body, says) in [
        (json!({"action": "set_keepalive", "s": 0}), "s must be 1–15"),
        (json!({"action": "set_ping", "s": 61}), "s must be 5–60"),
    ] {
        let res = s.control(body).await;
        assert_eq!(res.status(), 400);
        assert!(res.text().await.unwrap().contains(says));
    }
    let now = settings(&s).await;
    assert_eq!(now["faults"], json!([{"fault": "hold-first", "ms": 3000}]));
    assert_eq!((now["keepalive_s"].as_u64(), now["ws_ping_s"].as_u64()), (Some(15), Some(20)));
}

#[tokio::test]
async fn intervals_change_live_and_reset_lab_restores_the_defaults() {
    let s = server(&["--rate", "7"]).await;
    let mut sse = s.sse("", None).await;
    assert_eq!(s.control(json!({"action": "set_keepalive", "s": 1})).await.status(), 200);
    s.control(json!({"action": "set_rate", "per_s": 300})).await;
    fault(&s, json!({"fault": "idle-cut", "after_s": 60})).await;
    // The open stream follows the new keep-alive: a comment within about a second.
    let t0 = Instant::now();
    loop {
        if sse.frame().await.expect("open").comment.is_some() {
            break;
        }
    }
    assert!(t0.elapsed() < Duration::from_millis(2500), "{:?}", t0.elapsed());
    let reset = s.control(json!({"action": "reset_lab"})).await.json::<Value>().await.unwrap();
    assert_eq!(
        reset,
        json!({"rate_per_s": 7.0, "paused": false, "delay_ms": 0, "faults": [], "keepalive_s": 15, "ws_ping_s": 20})
    );
}

#[tokio::test]
async fn buffering_holds_sse_bytes_until_bytes_or_max_ms() {
    let s = server(&[]).await;
    let mut sse = s.sse("", None).await;
    fault(&s, json!({"fault": "buffering", "bytes": 1_000_000, "max_ms": 800})).await;
    // The fault's own announcement is held with the rest.
    let t0 = Instant::now();
    s.publish(3);
    let first = sse.event().await;
    let waited = t0.elapsed();
    assert!(waited >= Duration::from_millis(700), "released after max_ms, not at once: {waited:?}");
    assert!(first.data.unwrap().contains("announcement"));
    assert_eq!(sse.events(3).await.len(), 3, "all in the same clump");
    fault(&s, json!({"fault": "buffering", "bytes": 200, "max_ms": 60_000})).await;
    let t1 = Instant::now();
    s.publish(10); // well past 200 bytes
    sse.events(2).await;
    assert!(t1.elapsed() < Duration::from_millis(700), "released at `bytes`: {:?}", t1.elapsed());
}

#[tokio::test]
async fn hold_first_holds_a_new_long_poll_and_the_first_bytes_of_a_stream() {
    let s = server(&[]).await;
    s.publish(1);
    fault(&s, json!({"fault": "hold-first", "ms": 600})).await;
    let t0 = Instant::now();
    let res = s.get(&format!("/api/long-poll?after={}", s.cursor(0))).await;
    assert_eq!(res.status(), 200);
    assert!(t0.elapsed() >= Duration::from_millis(550), "{:?}", t0.elapsed());
    // A short poll is not held, and neither is the clock.
    let t1 = Instant::now();
    s.poll("").await;
    s.get("/api/time").await;
    assert!(t1.elapsed() < Duration::from_millis(400));
    let t2 = Instant::now();
    let mut sse = s.sse("", None).await;
    sse.frame().await.unwrap();
    assert!(t2.elapsed() >= Duration::from_millis(550), "the retry line waited: {:?}", t2.elapsed());
}

#[tokio::test]
async fn latency_delays_every_answer_but_never_the_instructor_or_the_clock() {
    let s = server(&[]).await;
    fault(&s, json!({"fault": "latency", "ms": 500})).await;
    let t0 = Instant::now();
    s.poll("").await;
    assert!(t0.elapsed() >= Duration::from_millis(450));
    let t1 = Instant::now();
    s.get("/api/time").await;
    s.get("/api/stats").await;
    s.control(json!({"action": "pause"})).await;
    assert!(t1.elapsed() < Duration::from_millis(450), "exempt: {:?}", t1.elapsed());
    // On a stream, each event frame is late by as much, in order.
    let mut ws = s.ws().await;
    ws.send(&ClientMsg::Resume { after: Some(s.cursor(s.running.state.hub.head())) }).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t2 = Instant::now();
    s.publish(3);
    let got = ws.events(3).await;
    assert!(t2.elapsed() >= Duration::from_millis(450), "{:?}", t2.elapsed());
    assert!(got.windows(2).all(|w| w[0].seq < w[1].seq));
}

#[tokio::test]
async fn idle_cut_closes_a_silent_stream_and_a_short_keepalive_keeps_it() {
    let s = server(&[]).await;
    fault(&s, json!({"fault": "idle-cut", "after_s": 2})).await;
    let mut sse = s.sse("", None).await;
    let t0 = Instant::now();
    while sse.frame().await.is_some() {}
    let cut = t0.elapsed();
    assert!(cut >= Duration::from_millis(1500) && cut < Duration::from_secs(4), "cut after 2 s: {cut:?}");
    // A long poll held past the cut goes the same way: the connection closes.
    let t1 = Instant::now();
    let err = s.get_err(&format!("/api/long-poll?after={}", s.cursor(s.running.state.hub.head()))).await;
    assert!(err, "the held poll was cut");
    assert!(t1.elapsed() < Duration::from_secs(4));
    // With a keep-alive shorter than the cut, the stream lives.
    s.control(json!({"action": "set_keepalive", "s": 1})).await;
    let mut sse = s.sse("", None).await;
    let t2 = Instant::now();
    while t2.elapsed() < Duration::from_secs(4) {
        assert!(sse.frame().await.is_some(), "still open after {:?}", t2.elapsed());
    }
}

#[tokio::test]
async fn idle_cut_closes_a_websocket_whose_heartbeat_is_too_slow() {
    let s = server(&[]).await;
    fault(&s, json!({"fault": "idle-cut", "after_s": 1})).await;
    let mut ws = s.ws().await;
    let t0 = Instant::now();
    // Nothing either way: the server's heartbeat (20 s) is longer than the cut.
    let end = tokio::time::timeout(WAIT, ws.socket.next()).await.expect("cut within 5 s");
    assert!(!matches!(end, Some(Ok(Message::Text(_)))), "{end:?}");
    assert!(t0.elapsed() >= Duration::from_millis(800), "{:?}", t0.elapsed());
}

#[tokio::test]
async fn ws_dies_sends_nothing_answers_no_ping_and_does_not_close() {
    let s = server(&[]).await;
    let mut ws = s.ws().await;
    ws.send(&ClientMsg::Resume { after: Some(s.cursor(0)) }).await;
    s.publish(2);
    assert_eq!(ws.events(2).await.len(), 2, "alive before the fault");
    fault(&s, json!({"fault": "ws-dies", "after_ms": 300})).await;
    // The fault's announcement went out before the socket died.
    let said = ws.next().await;
    assert!(matches!(&said, Ok(ServerMsg::Event(e)) if e.event.type_name() == "announcement"), "{said:?}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    s.publish(5);
    ws.send(&ClientMsg::Ping { nonce: json!(1) }).await;
    ws.socket.send(Message::Ping(b"x".to_vec().into())).await.unwrap();
    // Anything but silence (an event, a pong, a close, an end) fails.
    let heard = tokio::time::timeout(Duration::from_secs(2), ws.socket.next()).await;
    assert!(heard.is_err(), "silence, not {heard:?}");
    assert_eq!(open_count(&s, "ws").await, 1, "the server still counts it open");
    // A new socket opened now dies too, after_ms after it opened.
    let mut fresh = s.ws().await;
    fresh.send(&ClientMsg::Ping { nonce: json!(2) }).await;
    let heard = fresh.next().await;
    assert!(matches!(heard, Ok(ServerMsg::Pong { .. })), "alive for its first 300 ms: {heard:?}");
}
