//! The instructor's controls over HTTP.

mod common;

use common::*;
use pushlab::ClientMsg;
use serde_json::json;

#[tokio::test]
async fn control_needs_the_token_and_checks_ranges() {
    let s = server(&[]).await;
    let url = s.url("/api/control");
    let res = s.http.post(&url).json(&json!({"action": "pause"})).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let res = s.http.post(&url).bearer_auth("wrong").json(&json!({"action": "pause"})).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let res = s
        .http
        .post(&url)
        .bearer_auth("test-token")
        .json(&json!({"action": "set_rate", "per_s": 5000}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body, json!({"error": "out_of_range", "message": "per_s must be 0.1–1000"}));
    let res = s.http.post(&url).bearer_auth("test-token").json(&json!({"action": "explode"})).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let res = s
        .http
        .post(&url)
        .bearer_auth("test-token")
        .json(&json!({"action": "set_rate", "per_s": 50}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap(),
        json!({"rate_per_s": 50.0, "paused": false, "delay_ms": 0, "faults": [], "keepalive_s": 15, "ws_ping_s": 20})
    );
    let stats: serde_json::Value = s.get("/api/stats").await.json().await.unwrap();
    assert_eq!(stats["settings"]["rate_per_s"], 50.0);
    // The panel checks its token with a GET, which changes nothing.
    assert_eq!(s.http.get(&url).send().await.unwrap().status(), 401);
    assert_eq!(s.http.get(&url).bearer_auth("wrong").send().await.unwrap().status(), 403);
    let res = s.http.get(&url).bearer_auth("test-token").send().await.unwrap();
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["rate_per_s"], 50.0);
}

#[tokio::test]
async fn burst_publishes_and_drop_closes_websockets_with_1012() {
    let s = server(&[]).await;
    let mut ws = s.ws().await;
    ws.send(&ClientMsg::Resume { after: None }).await;
    assert_eq!(s.control(json!({"action": "burst", "n": 25})).await.status(), 200);
    let events = ws.events(26).await;
    assert_eq!(env_seqs(&events), (1..=26).collect::<Vec<_>>(), "the announcement, then the burst");
    assert_eq!(events[0].event.type_name(), "announcement");
    assert_eq!(s.control(json!({"action": "drop", "transport": "ws"})).await.status(), 200);
    // The drop's own announcement may get out before the close.
    let closed = loop {
        match ws.next().await {
            Ok(_) => continue,
            Err(code) => break code,
        }
    };
    assert_eq!(closed, Some(1012));
}

/// docs/PROTOCOL.md §2: every control action becomes an `announcement` lab event on every
/// transport, and the last one is in `/api/stats` and the first render.
#[tokio::test]
async fn every_action_is_announced_on_every_transport() {
    let s = server(&[]).await;
    let mut sse = s.sse("", None).await;
    let mut ws = s.ws().await;
    ws.send(&ClientMsg::Resume { after: None }).await;
    let res = s.control(json!({"action": "set_rate", "per_s": 50})).await;
    assert_eq!(res.status(), 200);
    let frame = sse.event().await;
    assert_eq!(frame.event.as_deref(), Some("announcement"), "a named SSE event");
    let want = pushlab::Event::Announcement {
        text: "The instructor set the rate to 50 events/s.".into(),
        action: Some(pushlab::ControlAction::SetRate { per_s: 50.0 }),
    };
    assert_eq!(frame.envelope().event, want);
    assert_eq!(ws.events(1).await[0].event, want);
    let (_, poll) = s.poll("").await;
    assert_eq!(poll["events"].as_array().unwrap().last().unwrap()["event"]["type"], "announcement");
    let stats: serde_json::Value = s.get("/api/stats").await.json().await.unwrap();
    assert_eq!(stats["announcement"]["text"], "The instructor set the rate to 50 events/s.");
    let page = s.get("/").await.text().await.unwrap();
    assert!(page.contains("The instructor set the rate to 50 events/s."), "the first render shows it");
    // A refused action changes nothing and announces nothing.
    let res = s.control(json!({"action": "set_rate", "per_s": 0})).await;
    assert_eq!(res.status(), 400);
    let (_, poll) = s.poll("").await;
    assert_eq!(poll["events"].as_array().unwrap().len(), 1);
}

/// A delivery delay holds each event until publish + delay and no longer:
/// a steady stream that late, not clumps (issue 10).
#[tokio::test]
async fn a_delay_delivers_each_event_that_late_not_in_clumps() {
    let s = server(&["--simulator", "--rate", "50"]).await;
    let res = s.control(json!({"action": "delay", "ms": 400})).await;
    assert_eq!(res.status(), 200);
    let mut ws = s.ws().await;
    let head = s.poll("").await.1["cursor"].as_str().unwrap().to_owned();
    ws.send(&ClientMsg::Resume { after: Some(head) }).await;
    let mut late_ms = Vec::new();
    while late_ms.len() < 60 {
        if let Ok(pushlab::ServerMsg::Event(env)) = ws.next().await {
            let now_us = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_micros() as i64;
            late_ms.push((now_us - env.sent_at_us) as f64 / 1000.0);
        }
    }
    late_ms.sort_by(f64::total_cmp);
    let (min, median) = (late_ms[0], late_ms[30]);
    assert!(min >= 399.0, "never early: {min} ms");
    // Loose for 2 busy cores; held to the newest of a batch, the median was ~600 ms.
    assert!(median < 480.0, "median {median} ms late for a 400 ms delay");
}
