//! `--tls`: HTTPS with HTTP/2 by ALPN, `--http1-only`, `--http-addr` beside
//! it, and `--cert`/`--key`; streams say which protocol carries them.

mod common;

use std::time::Duration;

use common::*;
use reqwest::Version;

/// A server with these flags, and a client that accepts its self-signed certificate.
async fn tls_server(args: &[&str], http1_only: bool) -> Server {
    let mut s = try_server(args).await.expect("the server starts");
    s.base = format!("https://{}", s.running.addr);
    let mut client = reqwest::Client::builder().danger_accept_invalid_certs(true);
    if http1_only {
        client = client.http1_only();
    }
    s.http = client.build().unwrap();
    s
}

#[tokio::test]
async fn tls_speaks_http2_and_streams_say_so() {
    let s = tls_server(&["--tls"], false).await;
    let fp = s.running.fingerprint.clone().expect("a fingerprint is printed");
    assert_eq!(fp.split(':').count(), 32);
    let res = s.get("/api/time").await;
    assert_eq!((res.status().as_u16(), res.version()), (200, Version::HTTP_2));
    assert!(res.headers().contains_key(pushlab::cluster::INSTANCE_HEADER));
    // Seven streams at once share the one connection (over HTTP/1.1 a browser would stall the seventh).
    let mut streams = Vec::new();
    for _ in 0..7 {
        let mut sse = s.sse("", None).await;
        assert_eq!(sse.headers.get("content-type").unwrap(), "text/event-stream");
        let retry = sse.frame().await.unwrap();
        assert!(retry.retry.is_some());
        let hello = sse.frame().await.unwrap();
        assert_eq!(hello.event.as_deref(), Some("hello"));
        let hello: pushlab::Hello = serde_json::from_str(hello.data.as_deref().unwrap()).unwrap();
        assert_eq!(hello.protocol, "h2");
        streams.push(sse);
    }
    s.publish(1);
    for sse in &mut streams {
        assert_eq!(sse.events(1).await.len(), 1);
    }
    // And the page's other requests still get through beside them.
    let t0 = Instant::now();
    assert_eq!(s.get("/api/stats").await.status(), 200);
    assert!(t0.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn http1_only_offers_http1_and_http_addr_serves_plain_http_beside() {
    let s = tls_server(&["--tls", "--http1-only", "--http-addr", "127.0.0.1:0"], false).await;
    let res = s.get("/api/time").await;
    assert_eq!(res.version(), Version::HTTP_11, "h2 is not offered");
    let mut sse = s.sse("", None).await;
    sse.frame().await.unwrap();
    let hello: pushlab::Hello = serde_json::from_str(sse.frame().await.unwrap().data.as_deref().unwrap()).unwrap();
    assert_eq!(hello.protocol, "http/1.1");
    let plain = s.running.http_addr.expect("--http-addr is bound");
    let res = reqwest::get(format!("http://{plain}/api/time")).await.unwrap();
    assert_eq!((res.status().as_u16(), res.version()), (200, Version::HTTP_11));
    // TLS spoken to the plain port, and plain HTTP to the TLS port: refused, the server goes on.
    assert!(s.http.get(format!("https://{plain}/api/time")).send().await.is_err());
    assert!(reqwest::get(format!("http://{}/api/time", s.running.addr)).await.map_or(true, |r| r.status() != 200));
    assert_eq!(s.get("/api/time").await.status(), 200);
}

#[tokio::test]
async fn a_given_certificate_is_served_and_a_bad_one_is_a_start_error() {
    let dir = std::env::temp_dir().join(format!("pushlab-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let (crt, key) = (dir.join("c.pem"), dir.join("k.pem"));
    std::fs::write(&crt, cert.cert.pem()).unwrap();
    std::fs::write(&key, cert.signing_key.serialize_pem()).unwrap();
    let s = tls_server(&["--cert", crt.to_str().unwrap(), "--key", key.to_str().unwrap()], false).await;
    assert_eq!(s.running.fingerprint.as_deref(), Some(&*pushlab_server::tls::fingerprint(cert.cert.der())));
    assert_eq!(s.get("/api/time").await.status(), 200);
    std::fs::write(&key, "not a key").unwrap();
    let err = try_server(&["--cert", crt.to_str().unwrap(), "--key", key.to_str().unwrap()]).await.err().unwrap();
    assert!(err.to_string().contains("private key"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
