//! `pushlab-load`: reads flags, runs, prints the table (or JSON).

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use pushlab::Transport;
use pushlab_bench::run::{Options, run};

#[derive(Parser, Debug)]
#[command(
    name = "pushlab-load",
    version,
    about = "Drive N clients of one transport against a pushlab server and print what it cost."
)]
struct Cli {
    /// The server, http://host:port (only ever loopback in our own runs).
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    /// poll, long-poll, sse or ws.
    #[arg(long, short)]
    transport: Transport,
    #[arg(long, short, default_value_t = 10)]
    clients: u32,
    /// Seconds to run.
    #[arg(long, short, default_value_t = 10.0)]
    duration: f64,
    /// Stop each client after this many events (or at the end of the duration).
    #[arg(long)]
    events: Option<u64>,
    /// Short-polling interval, ms.
    #[arg(long, default_value_t = 1000)]
    poll_interval_ms: u64,
    /// Long-poll hold asked of the server, ms.
    #[arg(long, default_value_t = 25_000)]
    long_poll_timeout_ms: u64,
    /// Sample this process's RSS and CPU time from /proc (the server's pid).
    #[arg(long)]
    server_pid: Option<u32>,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if !(cli.duration.is_finite() && cli.duration > 0.0) {
        eprintln!("pushlab-load: --duration must be a positive number of seconds");
        return ExitCode::FAILURE;
    }
    let opts = Options {
        url: cli.url,
        transport: cli.transport,
        clients: cli.clients,
        duration: Duration::from_secs_f64(cli.duration),
        events: cli.events,
        poll_interval: Duration::from_millis(cli.poll_interval_ms),
        long_poll_timeout_ms: cli.long_poll_timeout_ms,
        server_pid: cli.server_pid,
        progress: !cli.json,
    };
    match run(opts).await {
        Ok(report) if cli.json => {
            println!("{}", serde_json::to_string_pretty(&report).expect("a report serializes"));
            ExitCode::SUCCESS
        }
        Ok(report) => {
            println!("pushlab-load: {} × {} clients against {}", report.transport, report.clients, report.url);
            print!("{}", report.table());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pushlab-load: {e}");
            ExitCode::FAILURE
        }
    }
}
