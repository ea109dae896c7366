//! `pushlab-load`: N clients of one transport against a server that speaks
//! the pushlab protocol (SPEC §3), with a table of what it cost.
//!
//! # Layout
//!
//! - [`counting`]: a socket wrapper that counts every byte read (headers and framing included).
//! - [`http`]: one HTTP/1.1 connection per client over that socket (hyper).
//! - [`client`]: the four clients, one module each; each checks `seq` continuity.
//! - [`tally`]: one client's figures, and their sum.
//! - [`report`]: the table and the JSON.
//! - [`procfs`]: the server's RSS and CPU time, sampled from /proc.
//! - [`run`]: starts the clients, shows progress, stops them, collects the figures.
//! - [`scenario`]: the named scenarios, each a table.

pub mod client;
pub mod counting;
pub mod http;
pub mod procfs;
pub mod report;
pub mod run;
pub mod scenario;
pub mod tally;

/// What can stop a run: said clearly, never a panic.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("bad URL {0:?}: expected http://host:port")]
    BadUrl(String),
    #[error("cannot connect to {addr}: {source}")]
    Connect { addr: String, source: std::io::Error },
    #[error("HTTP error: {0}")]
    Http(String),
    #[error("WebSocket error: {0}")]
    Ws(String),
    #[error("unexpected answer: {0}")]
    Protocol(String),
}
