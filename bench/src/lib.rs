//! `pushlab-load`: N clients of one transport against a server that speaks
//! the pushlab protocol (docs/PROTOCOL.md §4), with a table of what it cost.
//!
//! # Layout
//!
//! - [`counting`]: a socket wrapper that counts every byte read (headers and framing included).
//! - [`feeder`]: publishes envelopes to a server with no stream of its own (nchan).
//! - [`wire`]: where to connect and how: plain or TLS, HTTP/1.1 or HTTP/2 by ALPN.
//! - [`http`]: one HTTP connection per client over that socket (hyper).
//! - [`client`]: the four clients, one module each, and nchan's three; each checks `seq` continuity.
//! - [`tally`]: one client's figures, and their sum.
//! - [`report`]: the table and the JSON.
//! - [`procfs`]: the server's RSS and CPU time, sampled from /proc.
//! - [`run`]: starts the clients, shows progress, stops them, collects the figures.
//! - [`scenario`]: the named scenarios, each a table; [`cluster`]: the one against many instances;
//!   [`traps`]: TLS and HTTP/2's wire cost, and each fault's effect on latency.
//! - [`results`], [`markdown`], [`chart`]: a benchmark run's results, docs/PERFORMANCE.md and its chart.

pub mod chart;
pub mod client;
pub mod cluster;
pub mod counting;
pub mod feeder;
pub mod http;
pub mod markdown;
pub mod procfs;
pub mod report;
pub mod results;
pub mod run;
pub mod scenario;
pub mod tally;
pub mod traps;
pub mod wire;

/// What can stop a run: said clearly, never a panic.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("bad URL {0:?}: expected http://host:port or https://host:port")]
    BadUrl(String),
    #[error("cannot connect to {addr}: {source}")]
    Connect { addr: String, source: std::io::Error },
    #[error("HTTP error: {0}")]
    Http(String),
    #[error("WebSocket error: {0}")]
    Ws(String),
    #[error("unexpected answer: {0}")]
    Protocol(String),
    #[error("{0} does not apply to this server")]
    NotApplicable(String),
}
