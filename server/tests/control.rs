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
        json!({"rate_per_s": 50.0, "paused": false, "delay_ms": 0})
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
    let control =
        |body: serde_json::Value| s.http.post(s.url("/api/control")).bearer_auth("test-token").json(&body).send();
    assert_eq!(control(json!({"action": "burst", "n": 25})).await.unwrap().status(), 200);
    assert_eq!(env_seqs(&ws.events(25).await), (1..=25).collect::<Vec<_>>());
    assert_eq!(control(json!({"action": "drop", "transport": "ws"})).await.unwrap().status(), 200);
    assert_eq!(ws.next().await.unwrap_err(), Some(1012));
}
