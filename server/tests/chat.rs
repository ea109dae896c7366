//! Chat sent over the WebSocket and over POST reaches SSE and WS subscribers.

mod common;

use common::*;
use pushlab::{ClientMsg, Event};
use serde_json::json;

#[tokio::test]
async fn chat_from_both_ways_reaches_every_subscriber() {
    let s = server(&[]).await;
    let mut sse = s.sse("", None).await;
    let mut ws = s.ws().await;
    ws.send(&ClientMsg::Resume { after: None }).await;

    ws.send(&ClientMsg::Chat { text: "over ws".into(), from: Some("Ana".into()) }).await;
    let mut over_ws = ws.events(1).await;
    let res = s.http.post(s.url("/api/messages")).json(&json!({"text": "over post"})).send().await.unwrap();
    assert_eq!(res.status(), 202);
    let accepted: serde_json::Value = res.json().await.unwrap();
    assert_eq!(accepted["id"], s.cursor(2));
    over_ws.extend(ws.events(1).await);

    for got in [sse.events(2).await, over_ws] {
        assert_eq!(got[0].event, Event::ChatMessage { from: "Ana".into(), text: "over ws".into() });
        let Event::ChatMessage { from, text } = &got[1].event else { panic!("{:?}", got[1]) };
        assert_eq!(text, "over post");
        assert!(from.starts_with("guest-"), "{from}");
    }
}

#[tokio::test]
async fn time_and_stats_answer() {
    let s = server(&[]).await;
    let time: serde_json::Value = s.get("/api/time").await.json().await.unwrap();
    let now = pushlab_server::hub::now_us();
    assert!((now - time["now_us"].as_i64().unwrap()).abs() < 5_000_000);
    s.publish(2);
    let _ = s.poll("client=abc").await;
    let stats: serde_json::Value = s.get("/api/stats").await.json().await.unwrap();
    assert_eq!(stats["head_seq"], 2);
    assert_eq!(stats["transports"]["poll"]["requests"], 1);
    assert_eq!(stats["transports"]["poll"]["events"], 2);
    assert_eq!(stats["presence"]["poll"], 1);
    assert_eq!(
        stats["settings"],
        json!({"rate_per_s": 5.0, "paused": false, "delay_ms": 0, "faults": [], "keepalive_s": 15, "ws_ping_s": 20})
    );
    // Without a broker the instance is its own cluster, and its own leader.
    let id = stats["instance"].as_str().unwrap();
    assert_eq!(id.len(), 4, "four random base-36 characters: {id}");
    assert_eq!((stats["broker"].as_str(), stats["leader"].as_str()), (Some("memory"), Some(id)));
    assert_eq!(
        stats["instances"],
        json!([{"id": id, "leader": true, "age_ms": 0,
        "connections": {"poll": 0, "long-poll": 0, "sse": 0, "ws": 0}}])
    );
}

#[tokio::test]
async fn presence_is_published_when_counts_change_and_not_otherwise() {
    let s = server(&["--presence"]).await;
    let mut sse = s.sse("", None).await;
    let mut ws = s.ws().await;
    ws.send(&ClientMsg::Resume { after: None }).await;
    // Within a couple of seconds both connections are counted.
    let mut last = None;
    for _ in 0..4 {
        let e = sse.event().await.envelope();
        let Event::Presence { counts } = e.event else { panic!("{e:?}") };
        last = Some(counts);
        if counts.sse == 1 && counts.ws == 1 {
            break;
        }
    }
    assert_eq!(last.map(|c| (c.sse, c.ws)), Some((1, 1)));
    let head = s.running.state.hub.head();
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(s.running.state.hub.head(), head, "a quiet room stays quiet");
}

#[tokio::test]
async fn a_page_that_switches_transport_is_counted_once() {
    let s = server(&[]).await;
    let presence = || async { s.running.state.stats.presence() };
    s.poll("client=page-1").await;
    assert_eq!(presence().await.poll, 1);
    // To long polling: no longer a short poller.
    let held = s.http.get(s.url("/api/long-poll?timeout_ms=1&client=page-1")).send().await.unwrap();
    assert_eq!(held.status(), 204);
    assert_eq!((presence().await.poll, presence().await.long_poll), (0, 1));
    // To SSE, then WebSocket: a stream or socket, and no poller left behind.
    let sse = s.sse("client=page-1", None).await;
    let p = presence().await;
    assert_eq!((p.poll, p.long_poll, p.sse), (0, 0, 1));
    drop(sse);
    s.poll("client=page-2").await;
    let (_ws, _) = tokio_tungstenite::connect_async(format!("{}?client=page-2", s.ws_url())).await.unwrap();
    assert_eq!(presence().await.poll, 0);
    let res = s.get(&format!("/api/sse?client={}", "x".repeat(65))).await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let s = server(&[]).await;
    s.publish(3);
    let _ = s.poll("").await;
    let res = s.get("/metrics").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = res.text().await.unwrap();
    assert!(text.contains("# TYPE pushlab_requests_total counter"), "{text}");
    assert!(text.contains("pushlab_requests_total{transport=\"poll\"} 1"), "{text}");
    assert!(text.contains("pushlab_events_delivered_total{transport=\"poll\"} 3"), "{text}");
    assert!(text.contains("pushlab_head_seq 3"), "{text}");
}
