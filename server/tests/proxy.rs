//! The buffering trap from real infrastructure: `scripts/proxy.sh` puts
//! Debian's nginx in front of a real server; with buffering on (the header
//! ignored) SSE events arrive late and in clumps, with it off they do not.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;

struct Proxy(Child);

impl Drop for Proxy {
    fn drop(&mut self) {
        // The script stops nginx on TERM.
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `scripts/proxy.sh` in front of `s`; the URL it serves. Its output is read
/// on a thread: the server answering the script's checks runs on this one.
async fn proxy(s: &Server, buffering: &str) -> (Proxy, String) {
    let port = free_port().to_string();
    let upstream = s.running.addr.to_string();
    let mut child = Command::new("bash")
        .args(["../scripts/proxy.sh", "--upstream", &upstream, "--port", &port, "--buffering", buffering])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("bash runs");
    let stdout = child.stdout.take().unwrap();
    let proxy = Proxy(child);
    tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines();
        loop {
            let line = lines.next().expect("proxy.sh says where it listens").unwrap();
            if line.starts_with("open: ") {
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
    })
    .await
    .unwrap();
    (proxy, format!("http://127.0.0.1:{port}"))
}

/// The arrival times of an SSE response's body chunks through `url`, for
/// `secs`, asked for as a browser does (`Accept-Encoding: gzip`). Read raw:
/// the timing of bytes on the socket is what the room would see.
async fn chunks(url: &str, secs: u64) -> Vec<Duration> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!("GET /api/sse HTTP/1.1\r\nHost: {addr}\r\nAccept-Encoding: gzip\r\n\r\n");
    tcp.write_all(head.as_bytes()).await.unwrap();
    let t0 = Instant::now();
    let mut at = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(Ok(n)) =
        tokio::time::timeout(Duration::from_secs(secs).saturating_sub(t0.elapsed()), tcp.read(&mut buf)).await
    {
        if n == 0 {
            break;
        }
        at.push(t0.elapsed());
    }
    at
}

fn longest_gap(at: &[Duration], secs: u64) -> Duration {
    let mut edges = vec![Duration::ZERO];
    edges.extend_from_slice(at);
    edges.push(Duration::from_secs(secs));
    edges.windows(2).map(|w| w[1].saturating_sub(w[0])).max().unwrap()
}

#[tokio::test]
async fn nginx_buffering_makes_sse_clumps_and_turning_it_off_removes_them() {
    let s = server(&["--simulator", "--rate", "50"]).await;
    let (_on, url) = proxy(&s, "on").await;
    let buffered = chunks(&url, 4).await;
    let (_off, url) = proxy(&s, "off").await;
    let direct = chunks(&url, 4).await;
    let (on, off) = (longest_gap(&buffered, 4), longest_gap(&direct, 4));
    println!(
        "SSE through nginx at 50 events/s for 4 s: buffering on {} chunks, longest silence {on:?}; off {} chunks, {off:?}",
        buffered.len(),
        direct.len()
    );
    assert!(buffered.len() <= 12, "clumps: {buffered:?}");
    assert!(on >= Duration::from_millis(500), "events held: {on:?}");
    assert!(direct.len() >= 40, "events as they come: {} chunks", direct.len());
    assert!(off < Duration::from_millis(400), "never held: {off:?}");
}
