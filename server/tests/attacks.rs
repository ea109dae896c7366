//! The attack suite (issue 11): what a stranger can do to a real server on
//! loopback, each in a few seconds. Every test here failed against the build
//! that served through `axum::serve` and ran streams inside their bodies.

mod common;

use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use pushlab::{ClientMsg, ServerMsg};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

/// Reads until the peer closes (or `within` passes); what it sent.
async fn read_all(tcp: &mut TcpStream, within: Duration) -> Option<String> {
    let mut out = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await.ok().map(|()| String::from_utf8_lossy(&out).into_owned())
}

/// A TCP connection that reads into a tiny buffer, so the server meets backpressure early.
async fn stalled(s: &Server) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(s.running.addr).await.unwrap()
}

async fn time_answers(s: &Server) {
    let res = tokio::time::timeout(WAIT, s.http.get(s.url("/api/time")).send()).await;
    assert_eq!(res.expect("/api/time answers").unwrap().status(), 200);
}

async fn stats(s: &Server) -> serde_json::Value {
    s.get("/api/stats").await.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_and_idle_sockets_are_reaped_within_the_header_timeout() {
    let s = server(&["--header-timeout-s", "16"]).await;
    let t0 = Instant::now();
    // Twenty that trickle a request head, twenty that say nothing at all.
    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut tcp = TcpStream::connect(s.running.addr).await.unwrap();
        tcp.write_all(format!("GET /api/time HTTP/1.1\r\nHost: {}\r\n", s.running.addr).as_bytes()).await.unwrap();
        slow.push(tcp);
    }
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(TcpStream::connect(s.running.addr).await.unwrap());
    }
    let trickle = async {
        for _ in 0..30 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            for tcp in &mut slow {
                let _ = tcp.write_all(b"X-a: b\r\n").await;
            }
        }
    };
    let reaped = async {
        for tcp in idle.iter_mut().chain(std::iter::empty()) {
            read_all(tcp, Duration::from_secs(25)).await.expect("an idle socket is closed");
        }
        time_answers(&s).await;
    };
    tokio::select! {
        _ = trickle => panic!("slowloris connections still open after 30 s"),
        _ = reaped => {}
    }
    let idle_s = t0.elapsed().as_secs_f64();
    for tcp in &mut slow {
        let answer = read_all(tcp, Duration::from_secs(10)).await.expect("a slowloris socket is closed");
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
    println!(
        "idle and slowloris sockets reaped {idle_s:.1} s and {:.1} s after connecting",
        t0.elapsed().as_secs_f64()
    );
    assert!(t0.elapsed() < Duration::from_secs(28));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_max_sockets_a_connection_gets_a_canned_503_and_nothing_is_held() {
    let s = server(&["--max-sockets", "16"]).await;
    let mut held = Vec::new();
    for _ in 0..16 {
        held.push(TcpStream::connect(s.running.addr).await.unwrap());
    }
    // The server accepts asynchronously: the 17th may need a moment to be refused.
    let mut extra = TcpStream::connect(s.running.addr).await.unwrap();
    let answer = read_all(&mut extra, WAIT).await.expect("refused at once");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains(r#""error":"too_many_sockets""#), "{answer}");
    let instance = s.running.state.broker.instance();
    assert!(answer.contains(&format!("x-pushlab-instance: {instance}\r\n")), "{answer}");
    drop(held);
    let deadline = Instant::now() + WAIT;
    while s.http.get(s.url("/api/time")).send().await.is_err() {
        assert!(Instant::now() < deadline, "sockets freed once the holders left");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let metrics = s.get("/metrics").await.text().await.unwrap();
    let refused = metrics.lines().find_map(|l| l.strip_prefix("pushlab_sockets_refused_total ")).unwrap_or("0");
    assert!(refused.parse::<u64>().unwrap() >= 1, "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strangers_body_is_never_read_and_oversize_is_413() {
    let s = server(&[]).await;
    // No token, a 2 MB body announced, Expect: 100-continue: 401 at once, no 100.
    let mut tcp = TcpStream::connect(s.running.addr).await.unwrap();
    tcp.write_all(
        format!("POST /api/control HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\n\r\n", s.running.addr).as_bytes(),
    )
    .await
    .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(WAIT, tcp.read(&mut buf)).await.expect("answered before any body").unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    assert!(!head.contains("100 Continue"));
    // With the token: over the limit by its length is 413 unread; chunked past it, 413 too.
    let big = serde_json::json!({"text": "x".repeat(20_000)});
    let res = s.http.post(s.url("/api/messages")).json(&big).send().await.unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["error"], "payload_too_large");
    let chunks = futures_util::stream::iter((0..10).map(|_| Ok::<_, std::io::Error>(vec![b' '; 2000])));
    let res = s
        .http
        .post(s.url("/api/control"))
        .bearer_auth("test-token")
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    // The Bearer scheme is case-insensitive (RFC 7235).
    let res = s
        .http
        .post(s.url("/api/control"))
        .header("authorization", "bearer test-token")
        .json(&serde_json::json!({"action": "pause"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_slow_bodies_leave_memory_flat() {
    let s = server(&[]).await;
    let before = rss_kib();
    let mut conns = Vec::new();
    for _ in 0..200 {
        let mut tcp = TcpStream::connect(s.running.addr).await.unwrap();
        tcp.write_all(format!("POST /api/control HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n", s.running.addr).as_bytes())
            .await
            .unwrap();
        // As much of the body as the kernel takes without blocking: the server reads none.
        let _ = tcp.try_write(&[b' '; 64 * 1024]);
        conns.push(tcp);
    }
    for tcp in &mut conns {
        let mut buf = [0u8; 64];
        let n = tokio::time::timeout(WAIT, tcp.read(&mut buf)).await.unwrap().unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 401"));
    }
    let grown_mib = rss_kib().saturating_sub(before) / 1024;
    println!("RSS grew {grown_mib} MiB with 200 strangers sending 2 MB bodies");
    assert!(grown_mib < 40, "server memory grew {grown_mib} MiB");
    time_answers(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_trickles_is_cut_at_its_deadline() {
    let s = server(&[]).await;
    let mut tcp = TcpStream::connect(s.running.addr).await.unwrap();
    tcp.write_all(
        format!("POST /api/messages HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{", s.running.addr).as_bytes(),
    )
    .await
    .unwrap();
    let t0 = Instant::now();
    let answer = read_all(&mut tcp, Duration::from_secs(15)).await.expect("answered within the body timeout");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");
    assert!(t0.elapsed() < Duration::from_secs(12));
}

/// An SSE request on a socket that will not read, and events to fill it.
async fn stalled_sse(s: &Server) -> TcpStream {
    let mut tcp = stalled(s).await;
    tcp.write_all(format!("GET /api/sse HTTP/1.1\r\nHost: {}\r\n\r\n", s.running.addr).as_bytes()).await.unwrap();
    wait_open(s, "sse", 1).await;
    publish_big(s, 8000).await;
    tcp
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_sse_reader_is_cut_after_the_slow_consumer_limit() {
    let s = server(&["--slow-client-ms", "500", "--history", "10000"]).await;
    let _tcp = stalled_sse(&s).await;
    wait_open(&s, "sse", 0).await;
    assert_eq!(stats(&s).await["transports"]["sse"]["cut_off"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_sse_reader_is_cut_by_the_instructors_drop() {
    let s = server(&["--slow-client-ms", "600000", "--history", "10000"]).await;
    let _tcp = stalled_sse(&s).await;
    assert_eq!(open_count(&s, "sse").await, 1, "not cut for slowness under a 10-minute limit");
    let t0 = Instant::now();
    s.control(serde_json::json!({"action": "drop", "transport": "sse"})).await;
    wait_open(&s, "sse", 0).await;
    println!("stalled SSE cut {:.2} s after the drop", t0.elapsed().as_secs_f64());
    assert!(t0.elapsed() < Duration::from_secs(4));
}

/// A WebSocket that resumed from the start and reads nothing more.
async fn stalled_ws(s: &Server) -> Ws {
    let plain = tokio_tungstenite::MaybeTlsStream::Plain(stalled(s).await);
    let (socket, _) = tokio_tungstenite::client_async(s.ws_url(), plain).await.unwrap();
    let mut ws = Ws { socket };
    ws.send(&ClientMsg::Resume { after: Some(s.cursor(0)) }).await;
    wait_open(s, "ws", 1).await;
    publish_big(s, 8000).await;
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wedged_websocket_is_cut_by_the_instructors_drop() {
    let s = server(&["--slow-client-ms", "600000", "--history", "10000"]).await;
    let _ws = stalled_ws(&s).await;
    assert_eq!(open_count(&s, "ws").await, 1);
    let t0 = Instant::now();
    s.control(serde_json::json!({"action": "drop", "transport": "ws"})).await;
    wait_open(&s, "ws", 0).await;
    assert!(t0.elapsed() < Duration::from_secs(4), "{:?}", t0.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_with_stalled_clients_does_not_wait_out_the_grace_period() {
    let s = server(&["--slow-client-ms", "600000", "--history", "10000"]).await;
    let mut sse = stalled(&s).await;
    sse.write_all(format!("GET /api/sse HTTP/1.1\r\nHost: {}\r\n\r\n", s.running.addr).as_bytes()).await.unwrap();
    let _ws = stalled_ws(&s).await;
    wait_open(&s, "sse", 1).await;
    publish_big(&s, 4000).await;
    let idle = TcpStream::connect(s.running.addr).await.unwrap();
    let t0 = Instant::now();
    s.running.shutdown();
    tokio::time::timeout(Duration::from_secs(4), s.running.wait()).await.expect("stopped within 4 s").unwrap();
    println!("stopped {:.2} s after the signal, with a stalled SSE reader and WebSocket", t0.elapsed().as_secs_f64());
    drop(idle);
}

#[tokio::test]
async fn wrong_methods_the_api_root_and_bad_upgrades_are_json() {
    let s = server(&[]).await;
    let res = s.http.delete(s.url("/api/poll")).send().await.unwrap();
    assert_eq!(res.status(), 405);
    assert!(res.headers()["allow"].to_str().unwrap().contains("GET"), "{:?}", res.headers());
    assert!(res.headers()["allow"].to_str().unwrap().contains("GET"));
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["error"], "method_not_allowed");
    for path in ["/api/", "/api"] {
        let res = s.get(path).await;
        assert_eq!(res.status(), 404, "{path}");
        assert_eq!(res.json::<serde_json::Value>().await.unwrap()["error"], "not_found", "{path}");
    }
    let res = s.get("/api/ws").await;
    assert!(res.status().is_client_error());
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["error"], "bad_upgrade");
}

#[tokio::test]
async fn websocket_closes_follow_rfc_6455() {
    let s = server(&[]).await;
    // A client's close is echoed: a browser sees a clean close, not 1006.
    let mut ws = s.ws().await;
    ws.send_raw(Message::Close(None)).await;
    let echoed = tokio::time::timeout(WAIT, ws.socket.next()).await.unwrap();
    assert!(matches!(echoed, Some(Ok(Message::Close(_)))), "{echoed:?}");
    // A text frame that is not UTF-8 closes with 1007.
    let mut ws = s.ws().await;
    let frame = Frame::message(vec![0xC3, 0x28], OpCode::Data(Data::Text), true);
    ws.socket.send(Message::Frame(frame)).await.unwrap();
    assert_eq!(ws.next().await.unwrap_err(), Some(1007));
}

#[tokio::test]
async fn a_resume_flood_is_refused_while_a_catch_up_runs() {
    let s = server(&["--history", "20000"]).await;
    s.publish(10_000);
    let mut ws = s.ws().await;
    for _ in 0..50 {
        ws.send(&ClientMsg::Resume { after: Some(s.cursor(0)) }).await;
    }
    // Every resume after the first is answered with an error; the history goes out once.
    let (mut events, mut refused) = (0, 0);
    while refused < 49 {
        match ws.next().await {
            Ok(ServerMsg::Event(_)) => events += 1,
            Ok(ServerMsg::Error { message }) if message.contains("resume") => refused += 1,
            other => panic!("after {events} events: {other:?}"),
        }
    }
    assert_eq!(events, 10_000, "one replay");
    let sent = stats(&s).await["transports"]["ws"]["events"].as_u64().unwrap();
    assert!(sent < 20_000, "50 resumes replayed {sent} events");
}

#[tokio::test]
async fn pipelined_bursts_are_refused_past_the_queue() {
    let s = server(&["--simulator"]).await;
    let mut codes = Vec::new();
    for _ in 0..10 {
        let res = s.control(serde_json::json!({"action": "burst", "n": 10000})).await;
        codes.push(res.status().as_u16());
    }
    assert!(codes.contains(&429), "{codes:?}");
    assert_eq!(codes[0], 200);
}

/// A WebSocket upgrade with these `Host` and `Origin` headers: its HTTP status.
async fn upgrade(s: &Server, host: &str, origin: &str) -> u16 {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = s.ws_url().into_client_request().unwrap();
    req.headers_mut().insert("host", host.parse().unwrap());
    req.headers_mut().insert("origin", origin.parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Ok((_, res)) => res.status().as_u16(),
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => res.status().as_u16(),
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn a_dns_rebinding_page_is_refused_and_origins_compare_scheme_host_and_port() {
    let s = server(&["--allowed-origin", "https://lab.example:8443"]).await;
    let port = s.running.addr.port();
    let own = format!("127.0.0.1:{port}");
    // A rebinding page's requests carry its own name as Host.
    let evil = format!("evil.example:{port}");
    let res = s.http.get(s.url("/api/time")).header("host", &evil).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "unknown_host");
    assert!(body["message"].as_str().unwrap().contains("--public-url"), "{body}");
    let res =
        s.http.post(s.url("/api/messages")).header("host", &evil).json(&serde_json::json!({"text": "hi"})).send().await;
    assert_eq!(res.unwrap().status(), 403);
    assert_eq!(upgrade(&s, &evil, &format!("http://{evil}")).await, 403);
    // The server's own names, and the allowed origin behind its balancer, keep working.
    for (host, origin) in [
        (own.clone(), format!("http://{own}")),
        (format!("localhost:{port}"), format!("http://localhost:{port}")),
        ("lab.example:8443".into(), "https://lab.example:8443".into()),
    ] {
        assert_eq!(upgrade(&s, &host, &origin).await, 101, "{host} {origin}");
        assert_eq!(s.http.get(s.url("/api/time")).header("host", &host).send().await.unwrap().status(), 200);
    }
    // The scheme counts, and so does the port.
    assert_eq!(upgrade(&s, &own, &format!("https://{own}")).await, 403);
    assert_eq!(upgrade(&s, &own, &format!("http://127.0.0.1:{}", port + 1)).await, 403);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_chat_bucket() {
    let post = |s: &Server, from: &'static str| {
        s.http
            .post(s.url("/api/messages"))
            .header("x-forwarded-for", from)
            .json(&serde_json::json!({"text": "hi"}))
            .send()
    };
    let s = server(&["--trusted-proxy", "127.0.0.0/8"]).await;
    let mut codes = Vec::new();
    for _ in 0..12 {
        codes.push(post(&s, "10.0.0.1").await.unwrap().status().as_u16());
    }
    assert_eq!(codes.last(), Some(&429), "{codes:?}");
    assert_eq!(post(&s, "10.0.0.2").await.unwrap().status(), 202, "another client behind the proxy");
    // Untrusted, the header names nobody: one bucket for the peer.
    let s = server(&[]).await;
    for _ in 0..11 {
        post(&s, "10.0.0.1").await.unwrap();
    }
    assert_eq!(post(&s, "10.0.0.2").await.unwrap().status(), 429);
}
