//! `pushlab-load`: reads flags, runs, prints the table (or JSON).

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use pushlab::Transport;
use pushlab_bench::client::Protocol;
use pushlab_bench::feeder::Feeder;
use pushlab_bench::results::Results;
use pushlab_bench::run::{Options, host_of, run};
use pushlab_bench::scenario::{self, NAMES, Setup};
use pushlab_bench::{chart, markdown};

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
    /// A named scenario (idle, capacity, fan-out, scale, latency, wire-cost, wire-cost-tls, faults,
    /// slow-consumer, reconnect-storm, cluster).
    Scenario(ScenarioArgs),
    /// Gather a bench/run.sh folder into the results JSON, docs/PERFORMANCE.md and its chart.
    Report(ReportArgs),
}

#[derive(Args, Debug)]
struct ReportArgs {
    /// The folder: <server>/<scenario>.json and versions.txt.
    dir: std::path::PathBuf,
    /// The run's date, as the file names and the page show it.
    #[arg(long)]
    date: String,
    /// Where to write the gathered results (JSON).
    #[arg(long)]
    json: std::path::PathBuf,
    /// Where to write the page; its SVG chart goes beside it.
    #[arg(long)]
    markdown: std::path::PathBuf,
    /// Fail when a server has no results, or a run lost, repeated or failed anything.
    #[arg(long)]
    check: bool,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// The server, http://host:port or https://host:port (only ever one you run).
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    /// What the server speaks: pushlab's protocol (docs/PROTOCOL.md §4), or nginx + nchan's.
    #[arg(long, value_enum, default_value_t = Protocol::Pushlab)]
    protocol: Protocol,
    /// nchan only: events per second the runner publishes to /pub.
    #[arg(long, default_value_t = 10.0)]
    feed_rate: f64,
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
    #[command(flatten)]
    wire: WireArgs,
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
    /// What the server speaks: pushlab's protocol (docs/PROTOCOL.md §4), or nginx + nchan's.
    #[arg(long, value_enum, default_value_t = Protocol::Pushlab)]
    protocol: Protocol,
    /// The transports the server offers (comma-separated); scenarios skip the others.
    #[arg(long, value_delimiter = ',', default_values = ["poll", "long-poll", "sse", "ws"])]
    transports: Vec<Transport>,
    /// The server's instructor token (scenarios set the rate and drop connections).
    #[arg(long, env = "PUSHLAB_TOKEN")]
    token: String,
    #[arg(long)]
    server_pid: Option<u32>,
    /// The cluster scenario: an instance behind the balancer, as ID=PID=URL; repeatable.
    #[arg(long = "instance")]
    instances: Vec<pushlab_bench::cluster::Instance>,
    /// The cluster scenario: Redis's pid, for its CPU per delivery.
    #[arg(long)]
    broker_pid: Option<u32>,
    #[command(flatten)]
    wire: WireArgs,
    /// A few seconds with a few clients (the CI smoke run).
    #[arg(long)]
    quick: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct WireArgs {
    /// Speak TLS (implied by an https:// URL); any certificate is accepted, as
    /// the load runner only targets servers you run (pushlab --tls makes its own).
    #[arg(long)]
    tls: bool,
    /// HTTP/2 by ALPN for polling and SSE (implies --tls; WebSocket keeps HTTP/1.1's upgrade).
    #[arg(long)]
    http2: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().cmd {
        Cmd::Run(a) => run_cmd(a).await,
        Cmd::Scenario(a) => scenario_cmd(a).await,
        Cmd::Report(a) => match report_cmd(&a) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("pushlab-load: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

async fn run_cmd(a: RunArgs) -> ExitCode {
    if !(a.duration.is_finite() && a.duration > 0.0) {
        eprintln!("pushlab-load: --duration must be a positive number of seconds");
        return ExitCode::FAILURE;
    }
    if !(a.feed_rate.is_finite() && a.feed_rate > 0.0) {
        eprintln!("pushlab-load: --feed-rate must be a positive number of events per second");
        return ExitCode::FAILURE;
    }
    // nchan makes no events of its own: publish them for the run's length.
    let _feeder = match a.protocol {
        Protocol::Nchan => match nchan_feeder(&a.url, a.feed_rate).await {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("pushlab-load: {e}");
                return ExitCode::FAILURE;
            }
        },
        Protocol::Pushlab => None,
    };
    let opts = Options {
        url: a.url,
        protocol: a.protocol,
        transport: a.transport,
        clients: a.clients,
        duration: Duration::from_secs_f64(a.duration),
        events: a.events,
        poll_interval: Duration::from_millis(a.poll_interval_ms),
        long_poll_timeout_ms: a.long_poll_timeout_ms,
        server_pid: a.server_pid,
        tls: a.wire.tls,
        http2: a.wire.http2,
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

fn report_cmd(a: &ReportArgs) -> Result<(), Box<dyn std::error::Error>> {
    let results = Results::gather(&a.dir, &a.date)?;
    std::fs::write(&a.json, serde_json::to_string_pretty(&results)? + "\n")?;
    std::fs::write(&a.markdown, markdown::document(&results))?;
    let svg = a.markdown.with_file_name(markdown::fan_out_svg_name());
    std::fs::write(&svg, chart::fan_out(&results))?;
    let scale = a.markdown.with_file_name(markdown::SCALE_SVG);
    std::fs::write(&scale, chart::scale(&results))?;
    println!("wrote {}, {}, {} and {}", a.json.display(), a.markdown.display(), svg.display(), scale.display());
    if a.check {
        let problems = results.problems();
        if !problems.is_empty() {
            return Err(format!("the run is not clean:\n  {}", problems.join("\n  ")).into());
        }
    }
    Ok(())
}

async fn nchan_feeder(url: &str, rate: f64) -> Result<Feeder, pushlab_bench::LoadError> {
    Feeder::start(&host_of(url)?, "/pub", rate).await
}

async fn scenario_cmd(a: ScenarioArgs) -> ExitCode {
    let setup = Setup {
        url: a.url,
        protocol: a.protocol,
        token: a.token,
        server_pid: a.server_pid,
        quick: a.quick,
        transports: a.transports,
        feeder: None,
        instances: a.instances,
        broker_pid: a.broker_pid,
        tls: a.wire.tls,
        http2: a.wire.http2,
    };
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
