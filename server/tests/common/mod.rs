//! A real server on 127.0.0.1:0 and real clients: HTTP, an SSE parser, WebSocket.
#![allow(dead_code)]

use std::time::Duration;

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use pushlab::{ClientMsg, Envelope, Event, ServerMsg};
use pushlab_server::{Config, Running, start};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

pub use std::time::Instant;

pub mod redis;

pub const WAIT: Duration = Duration::from_secs(5);

pub struct Server {
    pub running: Running,
    pub base: String,
    pub http: reqwest::Client,
}

/// Starts a server with these flags (the simulator off unless asked for).
pub async fn server(args: &[&str]) -> Server {
    try_server(args).await.expect("the server starts")
}

/// [`server`], or why it did not start.
pub async fn try_server(args: &[&str]) -> Result<Server, pushlab_server::StartError> {
    let mut argv = vec!["pushlab", "--addr", "127.0.0.1:0"];
    if !args.contains(&"--token") {
        argv.extend(["--token", "test-token"]);
    }
    if !args.contains(&"--simulator") {
        argv.push("--no-simulator");
    }
    if !args.contains(&"--presence") {
        argv.push("--no-presence");
    }
    argv.extend(args.iter().copied().filter(|a| !matches!(*a, "--simulator" | "--presence")));
    let config = Config::try_parse_from(argv).expect("test flags parse");
    let listener = tokio::net::TcpListener::bind(config.addr).await.unwrap();
    let mut leptos = leptos::config::get_configuration(None).unwrap().leptos_options;
    leptos.output_name = "pushlab".into();
    let running = start(config, listener, leptos, CancellationToken::new()).await?;
    let base = format!("http://{}", running.addr);
    Ok(Server { running, base, http: reqwest::Client::new() })
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/api/ws", self.running.addr)
    }

    /// Publishes `n` counter events straight into the hub; returns their ids.
    pub fn publish(&self, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                self.running.state.hub.publish(Event::CounterUpdate { name: "test".into(), value: i as i64 }).id.clone()
            })
            .collect()
    }

    /// Publishes `n` counter events through the broker (into Redis with `--redis`).
    pub async fn append(&self, n: usize) {
        use pushlab_server::broker::Sink;
        let events = (0..n).map(|i| Event::CounterUpdate { name: "test".into(), value: i as i64 }).collect();
        self.running.state.broker.publish(events, false).await.expect("the broker takes events");
    }

    /// Waits until this instance's hub has `seq`.
    pub async fn wait_head(&self, seq: u64) {
        let hub = &self.running.state.hub;
        let mut head = hub.subscribe();
        tokio::time::timeout(WAIT, async {
            while hub.head() < seq {
                head.changed().await.unwrap();
            }
        })
        .await
        .unwrap_or_else(|_| panic!("head {seq} within 5 s (at {})", hub.head()));
    }

    pub fn cursor(&self, seq: u64) -> String {
        self.running.state.hub.cursor(seq)
    }

    /// `POST /api/control` with the instructor's token.
    pub async fn control(&self, body: serde_json::Value) -> reqwest::Response {
        self.http.post(self.url("/api/control")).bearer_auth("test-token").json(&body).send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    /// A GET that fails at the connection (cut), not with a status.
    pub async fn get_err(&self, path: &str) -> bool {
        match self.http.get(self.url(path)).send().await {
            Err(_) => true,
            Ok(res) => res.bytes().await.is_err(),
        }
    }

    pub async fn poll(&self, query: &str) -> (u16, serde_json::Value) {
        let res = self.get(&format!("/api/poll?{query}")).await;
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn sse(&self, query: &str, last_event_id: Option<&str>) -> Sse {
        let mut req = self.http.get(self.url(&format!("/api/sse?{query}")));
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200);
        Sse::from_response(res)
    }

    pub async fn ws(&self) -> Ws {
        let (socket, _) = tokio_tungstenite::connect_async(self.ws_url()).await.unwrap();
        Ws { socket }
    }
}

pub fn seqs(events: &serde_json::Value) -> Vec<u64> {
    events.as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect()
}

/// One SSE frame: its fields, or a comment.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Frame {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: Option<String>,
    pub retry: Option<String>,
    pub comment: Option<String>,
}

impl Frame {
    pub fn envelope(&self) -> Envelope {
        serde_json::from_str(self.data.as_deref().unwrap()).unwrap()
    }
}

type ByteStream = std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>;

pub struct Sse {
    pub headers: reqwest::header::HeaderMap,
    body: ByteStream,
    buf: String,
}

impl Sse {
    pub fn from_response(res: reqwest::Response) -> Self {
        Sse { headers: res.headers().clone(), body: Box::pin(res.bytes_stream()), buf: String::new() }
    }

    /// The next frame, or `None` when the stream ends.
    pub async fn frame(&mut self) -> Option<Frame> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let raw: String = self.buf.drain(..end + 2).collect();
                let mut f = Frame::default();
                for line in raw.lines() {
                    let (field, value) = line.split_once(": ").or_else(|| line.split_once(':')).unwrap_or((line, ""));
                    let value = Some(value.to_owned());
                    match field {
                        "" => f.comment = value,
                        "id" => f.id = value,
                        "event" => f.event = value,
                        "data" => f.data = value,
                        "retry" => f.retry = value,
                        other => panic!("unknown SSE field {other:?}"),
                    }
                }
                return Some(f);
            }
            match tokio::time::timeout(WAIT, self.body.next()).await.expect("SSE frame within 5 s") {
                Some(chunk) => self.buf.push_str(std::str::from_utf8(&chunk.ok()?).unwrap()),
                None => return None,
            }
        }
    }

    /// The next frame that is an event or a reset (skips retry, hello and keep-alives).
    pub async fn event(&mut self) -> Frame {
        loop {
            let f = self.frame().await.expect("stream still open");
            if f.data.is_some() && f.event.as_deref() != Some("hello") {
                return f;
            }
        }
    }

    pub async fn events(&mut self, n: usize) -> Vec<Envelope> {
        let mut out = Vec::new();
        while out.len() < n {
            out.push(self.event().await.envelope());
        }
        out
    }
}

pub struct Ws {
    pub socket: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

impl Ws {
    pub async fn send(&mut self, msg: &ClientMsg) {
        self.socket.send(Message::text(serde_json::to_string(msg).unwrap())).await.unwrap();
    }

    pub async fn send_raw(&mut self, msg: Message) {
        self.socket.send(msg).await.unwrap();
    }

    /// The next message: a parsed server frame, or the close code.
    pub async fn next(&mut self) -> Result<ServerMsg, Option<u16>> {
        loop {
            let msg = tokio::time::timeout(WAIT, self.socket.next()).await.expect("WS message within 5 s");
            match msg {
                Some(Ok(Message::Text(t))) => return Ok(serde_json::from_str(t.as_str()).unwrap()),
                Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| f.code.into())),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Err(None),
            }
        }
    }

    pub async fn events(&mut self, n: usize) -> Vec<Envelope> {
        let mut out = Vec::new();
        while out.len() < n {
            match self.next().await {
                Ok(ServerMsg::Event(e)) => out.push(e),
                other => panic!("expected an event, got {other:?}"),
            }
        }
        out
    }
}

/// The real binary with these flags; its URL from its log, which is drained after.
pub fn spawn_binary(args: &[&str]) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_pushlab"))
        .args(args)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the pushlab binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("a log line").unwrap();
        if let Some(i) = line.find("http://") {
            break line[i..].trim().to_string();
        }
    };
    // Keep draining the log so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

pub fn env_seqs(events: &[Envelope]) -> Vec<u64> {
    events.iter().map(|e| e.seq).collect()
}

/// Resident memory of this process (the server runs in it), in KiB.
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Publishes `n` chat events of about 600 bytes each, paced so live readers keep up.
pub async fn publish_big(s: &Server, n: usize) {
    let text = "x".repeat(500);
    for i in 0..n {
        s.running.state.hub.publish(Event::ChatMessage { from: "load".into(), text: text.clone() });
        if i % 50 == 49 {
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
    }
}

pub async fn open_count(s: &Server, transport: &str) -> u64 {
    let stats: serde_json::Value = s.get("/api/stats").await.json().await.unwrap();
    stats["transports"][transport]["open"].as_u64().unwrap()
}

pub async fn wait_open(s: &Server, transport: &str, want: u64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while open_count(s, transport).await != want {
        assert!(Instant::now() < deadline, "{transport} connections never dropped to {want}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
