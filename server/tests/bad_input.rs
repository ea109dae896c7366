//! Bad input gets a clear JSON error and changes nothing.

mod common;

use common::*;
use pushlab::{ClientMsg, ServerMsg};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

async fn expect_error(s: &Server, path: &str, status: u16, code: &str) {
    let res = s.get(path).await;
    assert_eq!(res.status().as_u16(), status, "{path}");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], code, "{path}: {body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn malformed_or_future_cursors_and_bad_queries_are_400() {
    let s = server(&[]).await;
    s.publish(3);
    for path in
        ["/api/poll?after=%25%25%25", "/api/long-poll?after=nope", "/api/sse?after=1-2-3", "/api/poll?after=k3f9q2-x"]
    {
        expect_error(&s, path, 400, "bad_cursor").await;
    }
    let ahead = format!("/api/poll?after={}", s.cursor(4));
    expect_error(&s, &ahead, 400, "bad_cursor").await;
    let body: serde_json::Value = s.get("/api/poll?after=%25%25%25").await.json().await.unwrap();
    assert_eq!(body, json!({"error": "bad_cursor", "message": "cursor is not a pushlab event id"}));
    for path in [
        "/api/long-poll?timeout_ms=0",
        "/api/long-poll?timeout_ms=60001",
        "/api/long-poll?timeout_ms=abc",
        "/api/poll?limit=0",
        "/api/poll?limit=1001",
    ] {
        expect_error(&s, path, 400, "bad_query").await;
    }
    expect_error(&s, &format!("/api/poll?client={}", "c".repeat(65)), 400, "too_long").await;
    let res = s.http.get(s.url("/api/sse")).header("Last-Event-ID", "garbage").send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(s.running.state.hub.head(), 3, "nothing changed");
}

#[tokio::test]
async fn unknown_api_routes_are_404_json() {
    let s = server(&[]).await;
    expect_error(&s, "/api/nope", 404, "not_found").await;
    expect_error(&s, "/api/poll/extra", 404, "not_found").await;
}

#[tokio::test]
async fn other_paths_get_a_plain_404_page_and_the_dashboard_reads_its_link() {
    let s = server(&[]).await;
    let res = s.get("/nope").await;
    assert_eq!(res.status(), 404);
    let page = res.text().await.unwrap();
    assert!(page.contains("Page not found"), "{page}");
    assert!(!page.contains("/pkg/pushlab.js"), "a 404 page loads no dashboard");

    let page = s.get("/?transport=long-poll&interval=7").await.text().await.unwrap();
    assert!(page.contains(r#"data-transport="long-poll" aria-checked="true""#), "the link selects the transport");
    assert!(page.contains("/pkg/pushlab.js"), "the dashboard hydrates");
    let page = s.get("/?transport=nope").await.text().await.unwrap();
    assert!(page.contains(r#"data-transport="sse" aria-checked="true""#), "a bad link falls back to SSE");
}

#[tokio::test]
async fn bad_chat_posts_are_refused() {
    let s = server(&[]).await;
    let post = |body: serde_json::Value| s.http.post(s.url("/api/messages")).json(&body).send();
    assert_eq!(post(json!({"text": "x".repeat(501)})).await.unwrap().status(), 400);
    assert_eq!(post(json!({"text": "hi", "from": "n".repeat(33)})).await.unwrap().status(), 400);
    assert_eq!(post(json!({"text": "   "})).await.unwrap().status(), 400);
    assert_eq!(post(json!({"nottext": 1})).await.unwrap().status(), 400);
    let res =
        s.http.post(s.url("/api/messages")).header("content-type", "application/json").body("{").send().await.unwrap();
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "bad_body");
    assert_eq!(s.running.state.hub.head(), 0, "nothing was published");
}

#[tokio::test]
async fn chat_is_rate_limited_per_client() {
    let s = server(&[]).await;
    let mut statuses = Vec::new();
    for i in 0..15 {
        let res = s.http.post(s.url("/api/messages")).json(&json!({"text": format!("m{i}")})).send().await.unwrap();
        statuses.push(res.status().as_u16());
    }
    assert!(statuses[..10].iter().all(|&c| c == 202), "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
}

#[tokio::test]
async fn websocket_bad_messages_get_an_error_and_the_socket_stays_open() {
    let s = server(&[]).await;
    s.publish(1);
    let mut ws = s.ws().await;
    for bad in ["not json", r#"{"type":"shout"}"#, r#"{"after":"x"}"#] {
        ws.send_raw(Message::text(bad)).await;
        assert!(matches!(ws.next().await, Ok(ServerMsg::Error { .. })), "{bad}");
    }
    ws.send(&ClientMsg::Resume { after: Some("%%%".into()) }).await;
    assert_eq!(ws.next().await, Ok(ServerMsg::Error { message: "cursor is not a pushlab event id".into() }));
    ws.send(&ClientMsg::Chat { text: "x".repeat(501), from: None }).await;
    assert!(matches!(ws.next().await, Ok(ServerMsg::Error { .. })));
    ws.send_raw(Message::binary(vec![1, 2, 3])).await;
    assert!(matches!(ws.next().await, Ok(ServerMsg::Error { .. })));
    ws.send(&ClientMsg::Resume { after: None }).await;
    assert_eq!(env_seqs(&ws.events(1).await), [1], "still open and working");
}

#[tokio::test]
async fn websocket_frames_over_64k_close_with_1009() {
    let s = server(&[]).await;
    let mut ws = s.ws().await;
    ws.send_raw(Message::text("x".repeat(65 * 1024))).await;
    assert_eq!(ws.next().await.unwrap_err(), Some(1009));
}

#[tokio::test]
async fn websocket_upgrades_from_a_foreign_origin_are_403() {
    let s = server(&["--allowed-origin", "http://lab.example:8080"]).await;
    let with_origin = |origin: &str| {
        let mut req = s.ws_url().into_client_request().unwrap();
        req.headers_mut().insert("Origin", origin.parse().unwrap());
        req
    };
    let err = tokio_tungstenite::connect_async(with_origin("http://evil.example")).await.unwrap_err();
    match err {
        tokio_tungstenite::tungstenite::Error::Http(res) => assert_eq!(res.status(), 403),
        other => panic!("expected 403, got {other:?}"),
    }
    assert!(tokio_tungstenite::connect_async(with_origin(&s.base)).await.is_ok(), "same origin passes");
    assert!(
        tokio_tungstenite::connect_async(with_origin("http://lab.example:8080")).await.is_ok(),
        "--allowed-origin passes"
    );
}

#[tokio::test]
async fn connections_over_the_cap_get_503_with_retry_after() {
    let s = server(&["--max-connections", "1"]).await;
    let _first = s.sse("", None).await;
    let res = s.get("/api/sse").await;
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "too_many_connections");
}
