//! The pushlab server: one event stream, pushed four ways.
//!
//! # Layout
//!
//! - [`config`]: flags and `PUSHLAB_*` environment variables.
//! - [`accept`]: the accept loop: header timeout, socket cap, a cut handle per connection.
//! - [`body`]: request bodies: capped, timed, read only after the token.
//! - [`hub`]: epoch, bounded history, publish (encode once), resume and read after a cursor.
//! - [`broker`]: where events are published: in memory, or one Redis stream for many instances.
//! - [`simulator`]: the SaaS event stream at the instructor's rate.
//! - [`presence`]: the once-a-second `presence` event and rates.
//! - [`stats`]: per-transport counters, connection caps, who is here.
//! - [`control`]: the instructor's token-guarded actions.
//! - [`messages`]: chat from clients (`POST /api/messages`, WS `chat`).
//! - [`transport`]: `poll`, `long_poll`, `sse`, `ws` — one module each.
//! - [`fault`]: the traps the instructor switches on, acting between the handlers and the socket.
//! - [`origin`]: the server's own origins; `Host` and WebSocket `Origin` checks.
//! - [`metrics`]: `GET /metrics` in Prometheus text format.
//! - [`error`]: every API error as a status and a JSON body.
//! - [`shutdown`]: signals; one token that every connection selects on.
//! - [`tls`]: `--tls`: the certificate (self-signed or given) and ALPN for HTTP/2.
//!
//! [`start`] binds nothing itself: give it a listener (port 0 in tests).

#![recursion_limit = "256"]

pub mod accept;
pub mod body;
pub mod broker;
pub mod config;
pub mod control;
pub mod error;
pub mod fault;
pub mod hub;
pub mod messages;
pub mod metrics;
pub mod origin;
pub mod presence;
pub mod room;
pub mod shutdown;
pub mod simulator;
pub mod stats;
pub mod tls;
pub mod transport;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use app::{App, not_found_shell, shell};
use axum::extract::{FromRef, State};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use governor::DefaultKeyedRateLimiter;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use pushlab::{ServerStats, TimeResponse};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::Config;
use control::Control;
use stats::Stats;

/// The hub, keeping the frames this server's transports write.
pub type Hub = hub::Hub<transport::Frames>;

/// Everything a handler may need; cheap to clone (handles over `Arc`s).
#[derive(Clone)]
pub struct AppState {
    pub hub: Hub,
    /// Where producers publish; with Redis, the cluster this instance is part of.
    pub broker: broker::Broker,
    pub stats: Stats,
    pub control: Control,
    pub config: Arc<Config>,
    /// The origins and host names that are this server's own.
    pub origins: Arc<origin::Origins>,
    /// Cancelled once to stop: streams end, sockets close 1001, long polls return.
    pub shutdown: CancellationToken,
    /// Upgraded WebSockets live outside hyper's graceful shutdown; this waits for them.
    pub tasks: TaskTracker,
    pub chat_limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    /// Participants' reports and the room-wide figures.
    pub room: Arc<room::Room>,
    /// This server's Prometheus recorder, filled at each scrape.
    pub metrics: Arc<metrics_exporter_prometheus::PrometheusRecorder>,
    pub leptos: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

/// How far back the first render looks for the current state (the counter,
/// running jobs, recent notifications): a few hundred microseconds of decoding.
const FIRST_RENDER_SCAN: usize = 2000;

/// The API under `/api`, `/metrics`, and the dashboard.
pub fn router(state: AppState) -> Router {
    use pushlab::paths;
    use transport::{long_poll, poll, sse, ws};
    // Full paths from the wire crate (one place for them), merged rather than nested.
    // Faults act on poll answers here; on streams and sockets, in their own modules.
    let polls = Router::new()
        .route(paths::POLL, get(poll::handle))
        .route(paths::LONG_POLL, get(long_poll::handle))
        .route_layer(axum::middleware::from_fn_with_state(state.control.clone(), fault::http::polls));
    let api = Router::new()
        .merge(polls)
        .route(paths::SSE, get(sse::handle))
        .route(paths::WS, get(ws::handle).connect(ws::handle)) // CONNECT: RFC 8441, over HTTP/2
        .route(paths::MESSAGES, post(messages::post))
        .route(paths::TIME, get(time))
        .route(paths::STATS, get(server_stats))
        .route(paths::CONTROL, post(control::handle).get(control::current))
        .route(paths::REPORT, post(room::api::report))
        .route(paths::ROOM, get(room::api::room))
        // Unknown API paths are JSON 404s, not the dashboard's HTML page.
        .route("/api", any(error::not_found))
        .route("/api/", any(error::not_found))
        .route("/api/{*rest}", any(error::not_found))
        .layer(axum::middleware::from_fn(error::json_405));
    let routes = generate_route_list(App);
    let leptos = state.leptos.clone();
    Router::new()
        .merge(api)
        .route(pushlab::paths::METRICS, get(metrics::handle))
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let (hub, control) = (state.hub.clone(), state.control.clone());
                move || {
                    let (history, head) = hub.recent(FIRST_RENDER_SCAN);
                    let events = app::model::saas::snapshot(&history);
                    let announcement = control.announced();
                    provide_context(app::InitialEvents { events, cursor: Some(head), announcement })
                }
            },
            move || shell(leptos.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(not_found_shell))
        .layer(axum::middleware::from_fn_with_state(state.clone(), origin::check_host))
        .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
            axum::http::HeaderName::from_static(pushlab::cluster::INSTANCE_HEADER),
            axum::http::HeaderValue::from_str(state.broker.instance()).expect("instance ids are header-safe"),
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

async fn time() -> Json<TimeResponse> {
    Json(TimeResponse { now_us: hub::now_us() })
}

async fn server_stats(State(app): State<AppState>) -> Json<ServerStats> {
    let rates = app.stats.rates();
    Json(ServerStats {
        epoch: pushlab::cursor::epoch_to_string(app.hub.epoch()),
        uptime_s: app.stats.uptime().as_secs(),
        head_seq: app.hub.head(),
        history_len: app.hub.history_len() as u64,
        history_capacity: app.hub.capacity() as u64,
        events_per_s: rates.events_per_s,
        requests_per_s: rates.requests_per_s,
        settings: app.control.settings(),
        presence: app.broker.presence(),
        transports: app.stats.counters(),
        announcement: app.control.announced(),
        instance: app.broker.instance().to_owned(),
        leader: app.broker.leader(),
        broker: app.broker.state(),
        instances: app.broker.instances(),
    })
}

/// The socket cap, and a warning when the caps cannot fit in the open-file limit.
fn socket_cap(config: &Config) -> usize {
    let files = accept::file_limit();
    let max = config.max_sockets.map_or_else(|| accept::default_max_sockets(files), |m| m as usize);
    match files {
        Some(files) => {
            tracing::info!("open-file limit {files}; at most {max} sockets");
            if max as u64 + accept::RESERVED_FILES > files {
                tracing::warn!(
                    "--max-sockets {max} does not fit under the open-file limit {files} (less {} for the rest): \
                     past it, accept fails instead of a 503",
                    accept::RESERVED_FILES
                );
            }
        }
        None => tracing::warn!("cannot read the open-file limit; at most {max} sockets"),
    }
    // Streams, sockets and held polls are all sockets: their caps cannot exceed the whole.
    if config.max_connections as usize > max {
        tracing::warn!(
            "--max-connections {} exceeds --max-sockets {max}: the socket cap comes first",
            config.max_connections
        );
    }
    max
}

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    /// `--http-addr`'s bound address, when given.
    pub http_addr: Option<SocketAddr>,
    /// With `--tls`: the certificate's SHA-256 fingerprint.
    pub fingerprint: Option<String>,
    pub token: String,
    pub state: AppState,
    handle: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Starts stopping: what a SIGTERM does.
    pub fn shutdown(&self) {
        self.state.shutdown.cancel();
    }

    /// Resolves when the server has stopped and every socket has closed.
    pub async fn wait(self) -> std::io::Result<()> {
        self.handle.await.unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }
}

/// Why a server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Join(#[from] broker::redis::JoinError),
    #[error("cannot load the stream from Redis, or join its cluster: {0}")]
    Load(redis::RedisError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("cannot listen on --http-addr {0}: {1}")]
    HttpAddr(SocketAddr, std::io::Error),
}

/// Four random base-36 characters: an instance's default id.
pub fn random_instance_id() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    (0..4).map(|_| CHARS[rng.random_range(0..CHARS.len())] as char).collect()
}

/// Serves on `listener` until `shutdown` is cancelled. With `--redis`, joins
/// the cluster and loads its stream first.
pub async fn start(
    config: Config,
    listener: TcpListener,
    leptos: LeptosOptions,
    shutdown: CancellationToken,
) -> Result<Running, StartError> {
    let addr = listener.local_addr()?;
    let instance: Arc<str> = config.instance_id.clone().unwrap_or_else(random_instance_id).into();
    let stats = Stats::new(config.max_connections);
    let seed = pushlab::Settings::new(config.rate, config.keepalive);
    let tasks = TaskTracker::new();
    let (hub, control, bursts, broker) = match &config.redis {
        None => {
            let token = config.token.clone().unwrap_or_else(control::random_token);
            let (control, bursts) = Control::with_settings(token, seed);
            let hub = Hub::new(config.history as usize, transport::frames::encode);
            let broker = broker::Broker::Memory(broker::Memory::new(instance, hub.clone(), stats.clone()));
            (hub, control, bursts, broker)
        }
        Some(url) => {
            use broker::redis::{Redis, cluster, connect, mirror};
            let joined =
                connect(url, &config.redis_prefix, &instance, config.token.as_deref(), config.history, seed.clone())
                    .await?;
            let hub = Hub::with_epoch(joined.epoch, joined.cap as usize, transport::frames::encode);
            let (control, bursts) = Control::with_settings(joined.token.clone(), seed.clone());
            control.set(joined.settings.settings.clone(), joined.settings.since);
            let redis = Redis::new(joined, instance.clone(), hub.clone(), control.clone(), stats.clone());
            let head = mirror::load(&redis).await.map_err(StartError::Load)?;
            // Seen by the cluster before serving: its id is taken, and it may lead at once.
            cluster::beat(&redis).await.map_err(StartError::Load)?;
            tracing::info!(
                "instance {instance} joined the cluster at {}: {} events loaded, head {head}",
                broker::redis::redact(url),
                hub.history_len()
            );
            tasks.spawn(mirror::follow(redis.clone(), shutdown.clone()));
            tasks.spawn(cluster::run(redis.clone(), shutdown.clone()));
            (hub, control, bursts, broker::Broker::Redis(redis))
        }
    };
    let token = control.token().to_owned();
    let interfaces: Vec<IpAddr> = if_addrs::get_if_addrs().unwrap_or_default().into_iter().map(|i| i.ip()).collect();
    let tls = tls::from_config(&config, addr, &interfaces)?;
    let fingerprint = tls.as_ref().map(|t| t.fingerprint.clone());
    let plain = match config.http_addr {
        Some(a) => Some(TcpListener::bind(a).await.map_err(|e| StartError::HttpAddr(a, e))?),
        None => None,
    };
    let http_addr = plain.as_ref().map(|l| l.local_addr()).transpose()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut listens = vec![(addr, scheme)];
    listens.extend(http_addr.map(|a| (a, "http")));
    let origins = origin::Origins::new(&listens, &interfaces, &config.public_urls, &config.allowed_origins)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let state = AppState {
        hub: hub.clone(),
        broker: broker.clone(),
        stats,
        control: control.clone(),
        origins: Arc::new(origins),
        shutdown: shutdown.clone(),
        tasks: tasks.clone(),
        chat_limiter: messages::limiter(),
        room: Arc::new(room::Room::new(room::join::urls(scheme, addr, &config.public_urls, &interfaces))),
        metrics: Arc::new(metrics::recorder()),
        leptos: {
            let mut leptos = leptos;
            leptos.site_addr = addr;
            leptos
        },
        config: Arc::new(config),
    };
    let timed = !state.config.no_simulator;
    let sim = simulator::run(
        broker.clone(),
        broker.watch_leader(),
        control.watch_settings(),
        bursts,
        timed,
        shutdown.clone(),
    );
    tasks.spawn(sim);
    tasks.spawn(messages::prune(state.chat_limiter.clone(), shutdown.clone()));
    tasks.spawn(control::expire_faults(control.clone(), shutdown.clone()));
    let publish = !state.config.no_presence;
    tasks.spawn(presence::run(hub, broker, state.stats.clone(), publish, shutdown.clone()));
    let limits = accept::Limits {
        header_timeout: state.config.header_timeout(),
        sockets: Arc::new(tokio::sync::Semaphore::new(socket_cap(&state.config))),
        instance: state.broker.instance().to_owned(),
    };
    let app = router(state.clone());
    let acceptor = tls.map(|t| t.acceptor);
    let serve = accept::serve(listener, app.clone(), limits.clone(), state.stats.clone(), shutdown.clone(), acceptor);
    // `--http-addr`: the same lab over plain HTTP/1.1, beside the TLS listener.
    let plain = plain.map(|l| accept::serve(l, app, limits, state.stats.clone(), shutdown.clone(), None));
    let handle = tokio::spawn(async move {
        match plain {
            Some(plain) => {
                let (a, b) = tokio::join!(serve, plain);
                a.and(b)?;
            }
            None => serve.await?,
        }
        tasks.close();
        tasks.wait().await;
        Ok(())
    });
    Ok(Running { addr, http_addr, token, state, handle, fingerprint })
}
