//! Each transport receives events, drops, and resumes from the last id with
//! exactly the next events — also when the resume happens on another transport.

mod common;

use common::*;
use pushlab::{ClientMsg, ServerMsg};

#[tokio::test]
async fn short_poll_resumes_exactly() {
    let s = server(&[]).await;
    s.publish(30);
    let (status, body) = s.poll("").await;
    assert_eq!(status, 200);
    assert_eq!(seqs(&body["events"]), (11..=30).collect::<Vec<_>>(), "a new client gets the last 20");
    assert_eq!((body["reset"].as_bool(), body["more"].as_bool()), (Some(false), Some(false)));
    assert!(body.get("reason").is_none() && body.get("missed").is_none());
    assert_eq!(body["cursor"], s.cursor(30));
    s.publish(3);
    let (_, body) = s.poll(&format!("after={}", s.cursor(30))).await;
    assert_eq!(seqs(&body["events"]), [31, 32, 33]);
    assert_eq!(body["cursor"], s.cursor(33));
    let (_, body) = s.poll(&format!("after={}", s.cursor(33))).await;
    assert_eq!(seqs(&body["events"]), Vec::<u64>::new(), "an empty response");
    assert_eq!(body["cursor"], s.cursor(33), "the head when nothing is new");
}

#[tokio::test]
async fn short_poll_catches_up_in_pages() {
    let s = server(&[]).await;
    s.publish(1200);
    let (_, body) = s.poll(&format!("after={}", s.cursor(0))).await;
    assert_eq!((body["events"].as_array().unwrap().len(), body["more"].as_bool()), (500, Some(true)));
    let (_, body) = s.poll(&format!("after={}&limit=1000", body["cursor"].as_str().unwrap())).await;
    assert_eq!((body["events"].as_array().unwrap().len(), body["more"].as_bool()), (700, Some(false)));
    assert_eq!(seqs(&body["events"])[0], 501);
}

#[tokio::test]
async fn long_poll_resumes_exactly() {
    let s = server(&[]).await;
    s.publish(5);
    let res = s.get(&format!("/api/long-poll?after={}", s.cursor(2))).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(seqs(&body["events"]), [3, 4, 5]);
    s.publish(2);
    let body: serde_json::Value =
        s.get(&format!("/api/long-poll?after={}", body["cursor"].as_str().unwrap())).await.json().await.unwrap();
    assert_eq!(seqs(&body["events"]), [6, 7]);
}

#[tokio::test]
async fn sse_resumes_exactly_from_after_and_from_last_event_id() {
    let s = server(&[]).await;
    s.publish(3);
    let mut sse = s.sse("", None).await;
    assert_eq!(sse.frame().await.unwrap().retry.as_deref(), Some("2000"), "retry: comes first");
    let hello = sse.frame().await.unwrap();
    let instance = s.running.state.broker.instance();
    assert_eq!((hello.event.as_deref(), hello.id.as_deref()), (Some("hello"), None), "a hello moves no cursor");
    assert_eq!(hello.data.unwrap(), format!(r#"{{"instance":"{instance}","protocol":"http/1.1"}}"#));
    assert_eq!(sse.headers["x-pushlab-instance"], instance, "so does the header");
    let got = sse.events(3).await;
    assert_eq!(env_seqs(&got), [1, 2, 3]);
    s.publish(2);
    let got = sse.events(2).await;
    assert_eq!(env_seqs(&got), [4, 5]);
    drop(sse);
    s.publish(3);
    let mut sse = s.sse(&format!("after={}", got[1].id), None).await;
    assert_eq!(env_seqs(&sse.events(3).await), [6, 7, 8]);
    // Last-Event-ID wins over after.
    let mut sse = s.sse(&format!("after={}", s.cursor(1)), Some(&s.cursor(6))).await;
    let frames = [sse.event().await, sse.event().await];
    assert_eq!(frames.iter().map(|f| f.envelope().seq).collect::<Vec<_>>(), [7, 8]);
    assert_eq!(frames[0].id.as_deref(), Some(s.cursor(7).as_str()));
    assert_eq!(frames[0].event.as_deref(), Some("counter:update"));
}

#[tokio::test]
async fn websocket_resumes_exactly() {
    let s = server(&[]).await;
    s.publish(4);
    let mut ws = s.ws().await;
    ws.send(&ClientMsg::Resume { after: Some(s.cursor(1)) }).await;
    let got = ws.events(3).await;
    assert_eq!(env_seqs(&got), [2, 3, 4]);
    s.publish(1);
    assert_eq!(env_seqs(&ws.events(1).await), [5]);
    drop(ws);
    s.publish(2);
    let mut ws = s.ws().await;
    ws.send(&ClientMsg::Resume { after: Some(s.cursor(5)) }).await;
    assert_eq!(env_seqs(&ws.events(2).await), [6, 7]);
    // A later resume restarts from its cursor.
    ws.send(&ClientMsg::Resume { after: Some(s.cursor(3)) }).await;
    assert_eq!(env_seqs(&ws.events(4).await), [4, 5, 6, 7]);
}

#[tokio::test]
async fn websocket_sends_nothing_before_resume() {
    let s = server(&[]).await;
    s.publish(3);
    let mut ws = s.ws().await;
    ws.send(&ClientMsg::Ping { nonce: serde_json::json!({"t": 1}) }).await;
    let instance = s.running.state.broker.instance().to_owned();
    let pong = |nonce| ServerMsg::Pong { nonce, instance: Some(instance.clone()), protocol: Some("http/1.1".into()) };
    assert_eq!(
        ws.next().await,
        Ok(pong(serde_json::json!({"t": 1}))),
        "the pong is the first frame, naming the instance"
    );
    // Echoed unchanged, even a float that a lossy parser would round (found by the fuzzer).
    let nonce: serde_json::Value = serde_json::from_str("[5.4444444444444454e+91, \"x\", null]").unwrap();
    ws.send(&ClientMsg::Ping { nonce: nonce.clone() }).await;
    assert_eq!(ws.next().await, Ok(pong(nonce)));
    ws.send(&ClientMsg::Resume { after: None }).await;
    assert_eq!(env_seqs(&ws.events(3).await), [1, 2, 3]);
}

#[tokio::test]
async fn switching_transports_loses_and_repeats_nothing() {
    let s = server(&[]).await;
    let mut seen = Vec::new();
    s.publish(5);
    // SSE first.
    let mut sse = s.sse("", None).await;
    seen.extend(env_seqs(&sse.events(5).await));
    drop(sse);
    s.publish(3);
    // Then WebSocket from the last id.
    let mut ws = s.ws().await;
    ws.send(&ClientMsg::Resume { after: Some(s.cursor(*seen.last().unwrap())) }).await;
    seen.extend(env_seqs(&ws.events(3).await));
    drop(ws);
    s.publish(2);
    // Then long polling.
    let body: serde_json::Value =
        s.get(&format!("/api/long-poll?after={}", s.cursor(*seen.last().unwrap()))).await.json().await.unwrap();
    seen.extend(seqs(&body["events"]));
    s.publish(4);
    // Then short polling, and back to SSE.
    let (_, body) = s.poll(&format!("after={}", body["cursor"].as_str().unwrap())).await;
    seen.extend(seqs(&body["events"]));
    s.publish(1);
    let mut sse = s.sse(&format!("after={}", body["cursor"].as_str().unwrap()), None).await;
    seen.extend(env_seqs(&sse.events(1).await));
    assert_eq!(seen, (1..=15).collect::<Vec<_>>());
}

#[tokio::test]
async fn the_simulator_streams_a_continuous_saas_feed() {
    let s = server(&["--simulator", "--rate", "200"]).await;
    let mut sse = s.sse("", None).await;
    let got = sse.events(60).await;
    for pair in got.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq + 1, "no gap, no duplicate");
    }
    let kinds: std::collections::HashSet<_> = got.iter().map(|e| e.event.type_name()).collect();
    assert!(kinds.contains("job:update") && kinds.contains("counter:update"), "{kinds:?}");
}
