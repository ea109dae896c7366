//! Long polling holds until an event exists, then answers at once; 204 after its timeout.

mod common;

use std::time::{Duration, Instant};

use common::*;

#[tokio::test]
async fn answers_soon_after_a_publish() {
    let s = server(&[]).await;
    s.publish(1);
    let url = s.url(&format!("/api/long-poll?after={}&timeout_ms=10000", s.cursor(1)));
    let held = tokio::spawn(async move { (reqwest::get(url).await.unwrap(), Instant::now()) });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!held.is_finished(), "held while nothing is new");
    let published = Instant::now();
    s.publish(1);
    let (res, answered) = held.await.unwrap();
    assert_eq!(res.status(), 200);
    // Loose bound for 2 busy cores; the benchmark reports the real figure.
    assert!(answered - published < Duration::from_secs(1), "answered {:?} after the publish", answered - published);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(seqs(&body["events"]), [2]);
}

#[tokio::test]
async fn times_out_with_204() {
    let s = server(&[]).await;
    let started = Instant::now();
    let res = s.get("/api/long-poll?timeout_ms=300").await;
    assert_eq!(res.status(), 204);
    assert!(res.bytes().await.unwrap().is_empty());
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(3), "{took:?}");
    let stats: serde_json::Value = s.get("/api/stats").await.json().await.unwrap();
    assert_eq!(stats["transports"]["long-poll"]["empty_responses"], 1);
}
