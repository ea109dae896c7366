//! Slow consumers: a client that stops reading is cut off instead of growing
//! server memory, and the others keep receiving every event.

mod common;

use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use pushlab::{ClientMsg, ServerMsg};
use tokio_tungstenite::tungstenite::Message;

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
        if f.data.is_some() && f.event.is_none() {
            last = f.envelope().seq;
        }
    }
    assert!(last < N as u64, "the slow stream was cut off (it got to {last})");
    wait_open(&s, "sse", 0).await;
    // Coming back with its Last-Event-ID, it is told what it missed.
    let mut back = s.sse("", Some(&s.cursor(last))).await;
    assert!(back.frame().await.unwrap().retry.is_some());
    let reset = back.event().await;
    assert_eq!(reset.event.as_deref(), Some("reset"));
    let data: serde_json::Value = serde_json::from_str(reset.data.as_deref().unwrap()).unwrap();
    assert_eq!(data["reason"], "expired");
    assert_eq!(data["missed"].as_u64().unwrap(), N as u64 - 20 - last);
}
