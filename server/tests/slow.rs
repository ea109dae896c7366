//! Slow consumers: a client that stops reading is cut off instead of growing
//! server memory, and the others keep receiving every event.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures_util::StreamExt;
use pushlab::{ClientMsg, Event, ServerMsg};
use tokio_tungstenite::tungstenite::Message;

/// Resident memory of this process (the server runs in it), in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Publishes `n` chat events of about 600 bytes each, paced so live readers keep up.
async fn publish_big(s: &Server, n: usize) {
    let text = "x".repeat(500);
    for i in 0..n {
        s.running.state.hub.publish(Event::ChatMessage { from: "load".into(), text: text.clone() });
        if i % 50 == 49 {
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
    }
}

async fn open_count(s: &Server, transport: &str) -> u64 {
    let stats: serde_json::Value = s.get("/api/stats").await.json().await.unwrap();
    stats["transports"][transport]["open"].as_u64().unwrap()
}

async fn wait_open(s: &Server, transport: &str, want: u64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while open_count(s, transport).await != want {
        assert!(Instant::now() < deadline, "{transport} connections never dropped to {want}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_that_stops_reading_is_cut_off_and_others_keep_up() {
    // An unbounded queue for the slow client would hold ~60 MB of frames by the end.
    const N: usize = 100_000;
    let s = server(&["--slow-client-ms", "500", "--history", "5000"]).await;
    // A small receive buffer (which also turns off the kernel's autotuning, up to 32 MiB
    // here) so the server meets the slow reader's backpressure within a few MB.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(16 * 1024).unwrap();
    let stream = socket.connect(s.running.addr).await.unwrap();
    let plain = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    let (socket, _) = tokio_tungstenite::client_async(s.ws_url(), plain).await.unwrap();
    let mut slow = Ws { socket };
    slow.send(&ClientMsg::Resume { after: Some(s.cursor(0)) }).await;
    let mut fast = s.ws().await;
    fast.send(&ClientMsg::Resume { after: Some(s.cursor(0)) }).await;
    let reader = tokio::spawn(async move {
        let mut last = 0;
        while last < N as u64 {
            match fast.next().await {
                Ok(ServerMsg::Event(e)) => {
                    assert_eq!(e.seq, last + 1, "the fast client sees every event once, in order");
                    last = e.seq;
                }
                other => panic!("fast client got {other:?}"),
            }
        }
        (last, fast)
    });
    let before = rss_kib();
    publish_big(&s, N).await;
    let (last, _fast) = reader.await.unwrap();
    assert_eq!(last, N as u64);
    wait_open(&s, "ws", 1).await;
    let grown_mib = rss_kib().saturating_sub(before) / 1024;
    println!("RSS grew {grown_mib} MiB while publishing {N} events (history: 5000 events, ~10 MB)");
    assert!(grown_mib < 48, "server memory grew {grown_mib} MiB");
    // The slow client finds the events the kernel buffered, then the end: 4008, or a cut socket.
    let end = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match slow.socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("the slow client's stream ends");
    assert!(matches!(end, Some(4008) | None), "{end:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sse_stream_that_falls_behind_ends_and_resumes_with_a_reset() {
    const N: usize = 40_000;
    let s = server(&["--history", "3000"]).await;
    let mut slow = s.sse("", None).await;
    assert!(slow.frame().await.unwrap().retry.is_some());
    let mut fast = s.sse("", None).await;
    let reader = tokio::spawn(async move {
        let mut last = 0;
        while last < N as u64 {
            let e = fast.event().await.envelope();
            assert_eq!(e.seq, last + 1);
            last = e.seq;
        }
        last
    });
    publish_big(&s, N).await;
    assert_eq!(reader.await.unwrap(), N as u64, "the fast client got everything");
    // Now the slow one reads: what was buffered, then the end of the stream.
    let mut last = 0;
    while let Some(f) = slow.frame().await {
        if f.data.is_some() {
            last = f.envelope().seq;
        }
    }
    assert!(last < N as u64, "the slow stream was cut off (it got to {last})");
    wait_open(&s, "sse", 0).await;
    // Coming back with its Last-Event-ID, it is told what it missed.
    let mut back = s.sse("", Some(&s.cursor(last))).await;
    assert!(back.frame().await.unwrap().retry.is_some());
    let reset = back.frame().await.unwrap();
    assert_eq!(reset.event.as_deref(), Some("reset"));
    let data: serde_json::Value = serde_json::from_str(reset.data.as_deref().unwrap()).unwrap();
    assert_eq!(data["reason"], "expired");
    assert_eq!(data["missed"].as_u64().unwrap(), N as u64 - 20 - last);
}
