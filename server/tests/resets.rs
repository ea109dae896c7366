//! A cursor from another run, or older than the history, is answered with an
//! explicit reset on every transport, then the client is served as new.

mod common;

use common::*;
use pushlab::{ClientMsg, ServerMsg};
use serde_json::json;

const FOREIGN: &str = "zzzzzz-12";

#[tokio::test]
async fn poll_and_long_poll_reset_on_a_foreign_epoch() {
    let s = server(&[]).await;
    s.publish(25);
    let (status, body) = s.poll(&format!("after={FOREIGN}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["reset"].clone(), body["reason"].clone(), body["missed"].clone()),
        (json!(true), json!("epoch"), json!(null))
    );
    assert_eq!(seqs(&body["events"]), (6..=25).collect::<Vec<_>>());
    assert_eq!(body["cursor"], s.cursor(25));
    let started = std::time::Instant::now();
    let body: serde_json::Value = s.get(&format!("/api/long-poll?after={FOREIGN}")).await.json().await.unwrap();
    assert!(started.elapsed().as_secs() < 2, "a reset answers at once");
    assert_eq!((body["reset"].clone(), body["reason"].clone()), (json!(true), json!("epoch")));
}

#[tokio::test]
async fn sse_resets_in_stream_with_the_new_cursor_as_id() {
    let s = server(&[]).await;
    s.publish(25);
    let mut sse = s.sse("", Some(FOREIGN)).await;
    assert!(sse.frame().await.unwrap().retry.is_some());
    let reset = sse.event().await;
    assert_eq!(reset.event.as_deref(), Some("reset"));
    assert_eq!(reset.id, Some(s.cursor(5)));
    let data: serde_json::Value = serde_json::from_str(reset.data.as_deref().unwrap()).unwrap();
    assert_eq!(data, json!({"reason": "epoch", "missed": null, "cursor": s.cursor(5)}));
    assert_eq!(env_seqs(&sse.events(20).await), (6..=25).collect::<Vec<_>>());
}

#[tokio::test]
async fn websocket_resets_on_a_foreign_epoch() {
    let s = server(&[]).await;
    s.publish(3);
    let mut ws = s.ws().await;
    ws.send(&ClientMsg::Resume { after: Some(FOREIGN.into()) }).await;
    match ws.next().await {
        Ok(ServerMsg::Reset(r)) => assert_eq!((r.missed, r.cursor), (None, s.cursor(0))),
        other => panic!("expected a reset, got {other:?}"),
    }
    assert_eq!(env_seqs(&ws.events(3).await), [1, 2, 3]);
}

#[tokio::test]
async fn an_expired_cursor_resets_and_says_how_many_were_missed() {
    let s = server(&["--history", "100"]).await;
    s.publish(250); // keeps 151..=250
    let (_, body) = s.poll(&format!("after={}", s.cursor(100))).await;
    assert_eq!((body["reason"].clone(), body["missed"].clone()), (json!("expired"), json!(130)));
    assert_eq!(seqs(&body["events"]), (231..=250).collect::<Vec<_>>());
    let mut ws = s.ws().await;
    ws.send(&ClientMsg::Resume { after: Some(s.cursor(100)) }).await;
    match ws.next().await {
        Ok(ServerMsg::Reset(r)) => assert_eq!((r.missed, r.cursor), (Some(130), s.cursor(230))),
        other => panic!("expected a reset, got {other:?}"),
    }
}
