//! A real `redis-server` on a free port of 127.0.0.1: no persistence, stopped on drop.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    child: Child,
    pub port: u16,
    /// Set for a TLS server with a password: its URL is `rediss://:<password>@…`.
    tls_password: Option<String>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl RedisServer {
    pub fn start() -> Self {
        Self::on(free_port())
    }

    /// Starts one on `port` (again: a restart comes back empty).
    pub fn on(port: u16) -> Self {
        Self::spawn(port, &["--port", &port.to_string()], None)
    }

    /// TLS only, with a self-signed certificate (written into `dir`) and a password.
    pub fn tls(dir: &std::path::Path, password: &str) -> Self {
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
        let (crt, key) = (dir.join("redis.crt"), dir.join("redis.key"));
        std::fs::write(&crt, cert.cert.pem()).unwrap();
        std::fs::write(&key, cert.signing_key.serialize_pem()).unwrap();
        let port = free_port().to_string();
        let args = [
            "--port",
            "0",
            "--tls-port",
            &port,
            "--tls-cert-file",
            crt.to_str().unwrap(),
            "--tls-key-file",
            key.to_str().unwrap(),
            "--tls-auth-clients",
            "no",
            "--requirepass",
            password,
        ];
        Self::spawn(port.parse().unwrap(), &args, Some(password.into()))
    }

    fn spawn(port: u16, args: &[&str], tls_password: Option<String>) -> Self {
        let child = Command::new("redis-server")
            .args(args)
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (scripts/setup.sh installs it)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(10), "redis-server listens within 10 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        RedisServer { child, port, tls_password }
    }

    pub fn url(&self) -> String {
        match &self.tls_password {
            // `#insecure`: the certificate is self-signed; the connection is still encrypted.
            Some(pw) => format!("rediss://:{pw}@127.0.0.1:{}/0#insecure", self.port),
            None => format!("redis://127.0.0.1:{}/0", self.port),
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill").args([sig, &self.child.id().to_string()]).status().unwrap().success();
        assert!(ok, "kill {sig}");
    }

    /// Freezes it: connections stay open, nothing answers.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    pub fn resume(&self) {
        self.signal("-CONT");
    }

    /// Stops it and starts an empty one on the same port.
    pub fn restart_empty(mut self) -> Self {
        let port = self.port;
        let _ = self.child.kill();
        let _ = self.child.wait();
        Self::on(port)
    }

    pub async fn cmd(&self, args: &[&str]) -> redis::Value {
        let client = redis::Client::open(self.url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        cmd.query_async(&mut conn).await.unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.resume_quietly();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RedisServer {
    fn resume_quietly(&self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-CONT", &pid]).stderr(Stdio::null()).status();
    }
}
