//! Command-line flags, each also read from a `PUSHLAB_*` environment variable.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "pushlab",
    version,
    about = "A live lab for server push: one event stream over short polling, long polling, SSE and WebSocket."
)]
pub struct Config {
    /// Address to listen on; 0.0.0.0:3000 lets a workshop room join.
    #[arg(long, env = "PUSHLAB_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Serve `--addr` over HTTPS, HTTP/2 and HTTP/1.1 by ALPN, with a
    /// self-signed certificate made at start (or `--cert`/`--key`).
    #[arg(long, env = "PUSHLAB_TLS")]
    pub tls: bool,

    /// The certificate chain (PEM) for `--tls`; with `--key`, and implies `--tls`.
    #[arg(long, env = "PUSHLAB_CERT", requires = "key")]
    pub cert: Option<std::path::PathBuf>,

    /// The private key (PEM) for `--cert`.
    #[arg(long, env = "PUSHLAB_KEY", requires = "cert")]
    pub key: Option<std::path::PathBuf>,

    /// With TLS, offer HTTP/1.1 only (no HTTP/2): the six-connection limit comes back.
    #[arg(long, env = "PUSHLAB_HTTP1_ONLY")]
    pub http1_only: bool,

    /// A plain HTTP/1.1 listener beside the TLS one, so the same lab opens over both.
    #[arg(long, env = "PUSHLAB_HTTP_ADDR")]
    pub http_addr: Option<SocketAddr>,

    /// Simulated events per second (0.1–1000).
    #[arg(long, env = "PUSHLAB_RATE", default_value_t = 5.0, value_parser = parse_rate)]
    pub rate: f64,

    /// Events kept in memory for resuming clients (20–1,000,000; each takes about 1 KB).
    #[arg(long, env = "PUSHLAB_HISTORY", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(20..=MAX_HISTORY))]
    pub history: u64,

    /// Instructor token for POST /api/control; a random one is printed when unset.
    #[arg(long, env = "PUSHLAB_TOKEN")]
    pub token: Option<String>,

    /// Most open connections per transport before new ones get 503.
    #[arg(long, env = "PUSHLAB_MAX_CONNECTIONS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Most accepted sockets of any kind; past it a connection gets a canned 503.
    /// Default: the open-file limit less 256.
    #[arg(long, env = "PUSHLAB_MAX_SOCKETS", value_parser = clap::value_parser!(u64).range(16..))]
    pub max_sockets: Option<u64>,

    /// Seconds a request head may take, and a keep-alive connection may sit idle
    /// (16–600: above the 15 s longest poll interval).
    #[arg(long = "header-timeout-s", env = "PUSHLAB_HEADER_TIMEOUT_S", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(16..=600))]
    pub header_timeout_s: u64,

    /// Another origin (scheme://host:port) allowed to open WebSockets and post; repeatable.
    #[arg(long = "allowed-origin", env = "PUSHLAB_ALLOWED_ORIGINS", value_delimiter = ',', value_parser = parse_origin)]
    pub allowed_origins: Vec<String>,

    /// The URL people open when it is not one of the listen addresses (a proxy,
    /// a DNS name); its origin is the server's own. Repeatable.
    #[arg(long = "public-url", env = "PUSHLAB_PUBLIC_URLS", value_delimiter = ',', value_parser = parse_origin)]
    pub public_urls: Vec<String>,

    /// A proxy (CIDR) whose `X-Forwarded-For` names the client for rate limits; repeatable.
    #[arg(long = "trusted-proxy", env = "PUSHLAB_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Seconds between SSE keep-alive comments (1–15).
    #[arg(long, env = "PUSHLAB_KEEPALIVE", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..=15))]
    pub keepalive: u64,

    /// Run without the built-in event simulator (events come only from chat and control).
    #[arg(long, env = "PUSHLAB_NO_SIMULATOR")]
    pub no_simulator: bool,

    /// Milliseconds a WebSocket client may take to accept a batch before it is cut off (4008).
    #[arg(long, env = "PUSHLAB_SLOW_CLIENT_MS", default_value_t = 10_000, hide = true,
          value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub slow_client_ms: u64,

    /// Share one event stream with other instances through Redis
    /// (`redis://[:password@]host:port/db`, or `rediss://` for TLS).
    #[arg(long, env = "PUSHLAB_REDIS", value_parser = parse_redis_url)]
    pub redis: Option<String>,

    /// Prefix of every Redis key: one per cluster, never shared between clusters.
    #[arg(long, env = "PUSHLAB_REDIS_PREFIX", default_value = "pushlab", value_parser = parse_name)]
    pub redis_prefix: String,

    /// This instance's id in `X-Pushlab-Instance` and `/api/stats`, unique in its
    /// cluster (1–32 of a–z, 0–9, `-`); four random base-36 characters by default.
    #[arg(long, env = "PUSHLAB_INSTANCE_ID", value_parser = parse_name)]
    pub instance_id: Option<String>,

    /// Publish no `presence` events (tests that count exact seqs).
    #[arg(long, hide = true)]
    pub no_presence: bool,
}

/// The history's ceiling: at about 1 KB an event, 1 GB of memory.
pub const MAX_HISTORY: u64 = 1_000_000;

impl Config {
    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout_s)
    }

    /// Whether `--addr` speaks TLS.
    pub fn uses_tls(&self) -> bool {
        self.tls || self.cert.is_some()
    }

    pub fn keepalive(&self) -> Duration {
        Duration::from_secs(self.keepalive)
    }

    pub fn slow_client(&self) -> Duration {
        Duration::from_millis(self.slow_client_ms)
    }

    /// Defaults, as if run with no flags and no environment (for tests).
    pub fn defaults() -> Self {
        Config::parse_from(["pushlab"])
    }
}

/// `scheme://host[:port]`, as a browser sends it in `Origin`.
pub fn parse_origin(s: &str) -> Result<String, String> {
    match crate::origin::Origin::parse(s) {
        Some(_) => Ok(s.to_owned()),
        None => Err(format!("{s:?} is not an origin: expected scheme://host[:port], like http://lab.local:3000")),
    }
}

/// An instance id or key prefix: short, and safe in a header and a Redis key.
pub fn parse_name(s: &str) -> Result<String, String> {
    let ok =
        (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok { Ok(s.to_owned()) } else { Err(format!("{s:?}: expected 1–32 of a–z, 0–9 and -")) }
}

/// A Redis URL the client accepts (checked here so a typo fails before anything starts).
pub fn parse_redis_url(s: &str) -> Result<String, String> {
    redis::Client::open(s).map(|_| s.to_owned()).map_err(|e| format!("{s:?} is not a Redis URL: {e}"))
}

pub fn parse_rate(s: &str) -> Result<f64, String> {
    let rate: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if (0.1..=1000.0).contains(&rate) { Ok(rate) } else { Err("rate must be 0.1–1000 events/s".into()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_and_bad_values_are_refused() {
        let c =
            Config::try_parse_from(["pushlab", "--rate", "20", "--history", "500", "--allowed-origin", "http://a:1"])
                .unwrap();
        assert_eq!((c.rate, c.history, c.allowed_origins.as_slice()), (20.0, 500, &["http://a:1".to_string()][..]));
        let c = Config::try_parse_from(["pushlab", "--redis", "redis://:pw@127.0.0.1:6380/2", "--instance-id", "a-1"])
            .unwrap();
        assert_eq!((c.redis.as_deref(), c.instance_id.as_deref()), (Some("redis://:pw@127.0.0.1:6380/2"), Some("a-1")));
        for bad in [
            &["--rate", "0"][..],
            &["--rate", "x"],
            &["--history", "5"],
            &["--history", "1000001"],
            &["--keepalive", "0"],
            &["--addr", "nope"],
            &["--header-timeout-s", "15"],
            &["--max-sockets", "3"],
            &["--trusted-proxy", "10.0.0.0/33"],
            &["--instance-id", "Big"],
            &["--instance-id", ""],
            &["--redis-prefix", "a:b"],
            &["--redis", "http://x"],
            &["--cert", "c.pem"],
            &["--http-addr", "nope"],
        ] {
            assert!(Config::try_parse_from(std::iter::once("pushlab").chain(bad.iter().copied())).is_err(), "{bad:?}");
        }
    }
}
