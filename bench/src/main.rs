//! `pushlab-load`: reads flags, runs, prints the table (or JSON).

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use pushlab::Transport;
use pushlab_bench::run::{Options, run};
use pushlab_bench::scenario::{self, NAMES, Setup};

#[derive(Parser, Debug)]
#[command(name = "pushlab-load", version, about = "Load for pushlab-speaking servers: what each transport costs.")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Drive N clients of one transport and print what it cost.
    Run(RunArgs),
    /// A named scenario (idle, fan-out, latency, wire-cost, slow-consumer, reconnect-storm).
    Scenario(ScenarioArgs),
}

#[derive(Args, Debug)]
struct RunArgs {
    /// The server, http://host:port (only ever one you run).
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

#[derive(Args, Debug)]
struct ScenarioArgs {
    /// Which scenario.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(NAMES))]
    name: String,
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    /// The server's instructor token (scenarios set the rate and drop connections).
    #[arg(long, env = "PUSHLAB_TOKEN")]
    token: String,
    #[arg(long)]
    server_pid: Option<u32>,
    /// A few seconds with a few clients (the CI smoke run).
    #[arg(long)]
    quick: bool,
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().cmd {
        Cmd::Run(a) => run_cmd(a).await,
        Cmd::Scenario(a) => scenario_cmd(a).await,
    }
}

async fn run_cmd(a: RunArgs) -> ExitCode {
    if !(a.duration.is_finite() && a.duration > 0.0) {
        eprintln!("pushlab-load: --duration must be a positive number of seconds");
        return ExitCode::FAILURE;
    }
    let opts = Options {
        url: a.url,
        transport: a.transport,
        clients: a.clients,
        duration: Duration::from_secs_f64(a.duration),
        events: a.events,
        poll_interval: Duration::from_millis(a.poll_interval_ms),
        long_poll_timeout_ms: a.long_poll_timeout_ms,
        server_pid: a.server_pid,
        progress: !a.json,
    };
    match run(opts).await {
        Ok(report) if a.json => {
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

async fn scenario_cmd(a: ScenarioArgs) -> ExitCode {
    let setup = Setup { url: a.url, token: a.token, server_pid: a.server_pid, quick: a.quick };
    match scenario::run_scenario(&a.name, &setup).await {
        Ok(outcome) if a.json => {
            println!("{}", serde_json::to_string_pretty(&outcome).expect("an outcome serializes"));
            ExitCode::SUCCESS
        }
        Ok(outcome) => {
            print!("{}", scenario::table(&outcome));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pushlab-load: {e}");
            ExitCode::FAILURE
        }
    }
}
