//! The room: participants' reports (`POST /api/report`) checked, limited and
//! gathered into per-transport figures (`GET /api/room`).

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};

fn report(client: &str, transport: &str, requests: u64, bytes: u64, p50: f64, p99: f64) -> Value {
    json!({"client": client, "transport": transport, "events": requests * 5, "requests": requests, "empty": 0,
           "bytes": bytes, "p50_ms": p50, "p99_ms": p99, "reconnects": 1, "gaps": 0, "dups": 0})
}

async fn post(s: &Server, body: &Value) -> reqwest::Response {
    s.http.post(s.url("/api/report")).json(body).send().await.unwrap()
}

async fn room(s: &Server) -> Value {
    let res = s.get("/api/room").await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn reports_become_room_figures_per_transport() {
    let s = server(&[]).await;
    for (client, t, p50, p99) in [("a", "poll", 400.0, 900.0), ("b", "poll", 500.0, 1200.0), ("c", "ws", 1.0, 4.0)] {
        assert_eq!(post(&s, &report(client, t, 10, 2000, p50, p99)).await.status(), 204);
    }
    let r = room(&s).await;
    assert_eq!(r["participants"], 3);
    assert_eq!(r["join_urls"], json!([]), "bound to loopback: nobody else can join");
    let poll = &r["transports"]["poll"];
    assert_eq!((poll["participants"].as_u64(), poll["p50_median_ms"].as_f64()), (Some(2), Some(450.0)));
    assert_eq!((poll["p99_worst_ms"].as_f64(), poll["reconnects"].as_u64()), (Some(1200.0), Some(2)));
    assert_eq!(poll["requests_per_s"], 0.0, "one report is no rate yet");
    assert_eq!(r["transports"]["ws"]["participants"], 1);
    assert_eq!(r["transports"]["long-poll"]["participants"], 0);
    assert_eq!(r["transports"]["long-poll"]["p50_median_ms"], Value::Null);

    // A second report a little over a second later: rates from the difference.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(post(&s, &report("a", "poll", 20, 4000, 400.0, 900.0)).await.status(), 204);
    let poll = room(&s).await["transports"]["poll"].clone();
    let (req, bytes) = (poll["requests_per_s"].as_f64().unwrap(), poll["bytes_per_s"].as_f64().unwrap());
    assert!(req > 0.0 && req <= 10.0 / 1.1, "10 requests over at least 1.1 s: {req}");
    assert!((bytes / req - 200.0).abs() < 1e-6, "2,000 bytes per 10 requests: {bytes} / {req}");
}

#[tokio::test]
async fn bad_reports_are_refused_clearly_and_change_nothing() {
    let s = server(&[]).await;
    assert_eq!(post(&s, &report("a", "sse", 1, 100, 1.0, 2.0)).await.status(), 204);
    let mut long_client = report("a", "sse", 1, 100, 1.0, 2.0);
    long_client["client"] = json!("x".repeat(65));
    let mut pigeon = report("b", "sse", 1, 100, 1.0, 2.0);
    pigeon["transport"] = json!("carrier-pigeon");
    let mut negative = report("b", "sse", 1, 100, 1.0, 2.0);
    negative["gaps"] = json!(-1);
    let mut huge = report("b", "sse", 1, 100, 1.0, 2.0);
    huge["events"] = json!(1_000_000_000_001u64);
    let mut slow = report("b", "sse", 1, 100, 1.0, 2.0);
    slow["p99_ms"] = json!(600_001);
    let mut named = report("b", "sse", 1, 100, 1.0, 2.0);
    named["name"] = json!("Ana");
    for (body, says) in [
        (long_client, "client"),
        (pigeon, "unknown variant"),
        (negative, "invalid value"),
        (huge, "events"),
        (slow, "p99_ms"),
        (named, "unknown field"),
    ] {
        let res = post(&s, &body).await;
        assert_eq!(res.status(), 400, "{body}");
        let err: Value = res.json().await.unwrap();
        assert!(err["message"].as_str().unwrap().contains(says), "{body}: {err}");
    }
    let padded = json!({"client": "b", "transport": "sse", "pad": "x".repeat(1100)});
    assert_eq!(post(&s, &padded).await.status(), 413, "over 1 KB");
    let text = s.http.post(s.url("/api/report")).body("{}").send().await.unwrap();
    assert_eq!(text.status(), 400, "not declared JSON");

    // One report a second per client.
    let again = post(&s, &report("a", "sse", 2, 200, 1.0, 2.0)).await;
    assert_eq!(again.status(), 429);
    assert!(again.headers().contains_key("retry-after"));
    let err: Value = again.json().await.unwrap();
    assert_eq!(err["error"], "rate_limited");

    let r = room(&s).await;
    assert_eq!((r["participants"].as_u64(), r["transports"]["sse"]["participants"].as_u64()), (Some(1), Some(1)));
}

#[tokio::test]
async fn a_full_room_says_so_and_when_to_retry() {
    let s = server(&[]).await;
    for i in 0..pushlab::room::MAX_PARTICIPANTS {
        let res = post(&s, &report(&format!("c{i}"), "long-poll", 1, 10, 1.0, 2.0)).await;
        assert_eq!(res.status(), 204, "participant {i}");
    }
    let res = post(&s, &report("one-too-many", "long-poll", 1, 10, 1.0, 2.0)).await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "30");
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"], "room_full");
    assert_eq!(room(&s).await["participants"], 1000);
}

#[tokio::test]
async fn the_join_url_honours_public_url() {
    let s = server(&["--public-url", "http://lab.example:3000"]).await;
    assert_eq!(room(&s).await["join_urls"], json!(["http://lab.example:3000"]));
}
