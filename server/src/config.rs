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

    /// Simulated events per second (0.1–1000).
    #[arg(long, env = "PUSHLAB_RATE", default_value_t = 5.0, value_parser = parse_rate)]
    pub rate: f64,

    /// Events kept in memory for resuming clients.
    #[arg(long, env = "PUSHLAB_HISTORY", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(20..=10_000_000))]
    pub history: u64,

    /// Instructor token for POST /api/control; a random one is printed when unset.
    #[arg(long, env = "PUSHLAB_TOKEN")]
    pub token: Option<String>,

    /// Most open connections per transport before new ones get 503.
    #[arg(long, env = "PUSHLAB_MAX_CONNECTIONS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Another origin (scheme://host:port) allowed to open WebSockets; repeatable.
    #[arg(long = "allowed-origin", env = "PUSHLAB_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

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

    /// Publish no `presence` events (tests that count exact seqs).
    #[arg(long, hide = true)]
    pub no_presence: bool,
}

impl Config {
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
        for bad in
            [&["--rate", "0"][..], &["--rate", "x"], &["--history", "5"], &["--keepalive", "0"], &["--addr", "nope"]]
        {
            assert!(Config::try_parse_from(std::iter::once("pushlab").chain(bad.iter().copied())).is_err(), "{bad:?}");
        }
    }
}
