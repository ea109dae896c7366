//! `pushlab`: reads flags, sets up logging, binds, serves until a signal.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use pushlab_server::{Config, shutdown, start};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

/// Streams and sockets get this long to close before the process exits anyway.
const GRACE: Duration = Duration::from_secs(4);

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let config = Config::parse();
    let mut leptos = match leptos::config::get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(e) => {
            tracing::error!("leptos configuration: {e}");
            return ExitCode::FAILURE;
        }
    };
    if leptos.output_name.is_empty() {
        leptos.output_name = "pushlab".into();
    }
    let listener = match tokio::net::TcpListener::bind(config.addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("cannot listen on {}: {e}", config.addr);
            return ExitCode::FAILURE;
        }
    };
    let token_given = config.token.is_some();
    let stop = CancellationToken::new();
    let running = match start(config, listener, leptos, stop.clone()).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let scheme = if running.fingerprint.is_some() { "https" } else { "http" };
    for url in urls(scheme, running.addr) {
        tracing::info!("pushlab is serving on {url}");
    }
    if let Some(plain) = running.http_addr {
        for url in urls("http", plain) {
            tracing::info!("pushlab is serving on {url} (plain HTTP/1.1)");
        }
    }
    if let Some(fp) = &running.fingerprint {
        tracing::info!("TLS certificate SHA-256 fingerprint: {fp}");
        tracing::info!("a self-signed certificate must be accepted once in each browser (or pass --cert and --key)");
    }
    if !token_given {
        tracing::info!("instructor token: {}", running.token);
    }
    tokio::spawn(shutdown::cancel_on_signal(stop.clone()));
    let mut wait = std::pin::pin!(running.wait());
    tokio::select! {
        res = &mut wait => return exit(res),
        _ = stop.cancelled() => {}
    }
    match tokio::time::timeout(GRACE, wait).await {
        Ok(res) => exit(res),
        Err(_) => {
            tracing::warn!("connections still open after {GRACE:?}; exiting anyway");
            ExitCode::SUCCESS
        }
    }
}

fn exit(res: std::io::Result<()>) -> ExitCode {
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("server error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The URLs people can open: every interface's address when bound to all of them.
fn urls(scheme: &str, addr: SocketAddr) -> Vec<String> {
    if !addr.ip().is_unspecified() {
        return vec![format!("{scheme}://{addr}")];
    }
    let mut ips: Vec<_> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .map(|i| i.ip())
        .filter(|ip| ip.is_ipv4() == addr.is_ipv4())
        .collect();
    ips.sort_by_key(|ip| !ip.is_loopback());
    ips.into_iter().map(|ip| format!("{scheme}://{}", SocketAddr::new(ip, addr.port()))).collect()
}
