//! `GET /metrics`: the same counters as `/api/stats`, in Prometheus text
//! format through the `metrics` exporter.
//!
//! The counters live in [`crate::stats`] as atomics on the hot path; a scrape
//! copies them into a recorder owned by this server (not a process-global one,
//! so several servers can share a test process) and renders it.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use metrics::{Unit, counter, describe_counter, describe_gauge, gauge, with_local_recorder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};
use pushlab::Transport;

use crate::AppState;

pub fn recorder() -> PrometheusRecorder {
    PrometheusBuilder::new().build_recorder()
}

pub async fn handle(State(app): State<AppState>) -> impl IntoResponse {
    let recorder = &app.metrics;
    with_local_recorder(recorder, || {
        describe_gauge!("pushlab_connections_open", "Connections open now (held long polls, SSE streams, WebSockets)");
        describe_counter!("pushlab_connections_total", "Connections opened since start");
        describe_counter!("pushlab_requests_total", "HTTP requests since start");
        describe_counter!("pushlab_empty_responses_total", "Empty poll answers and 204 long polls");
        describe_counter!("pushlab_events_delivered_total", "Events delivered, once per client");
        describe_counter!("pushlab_sent_bytes_total", Unit::Bytes, "Payload bytes written");
        describe_counter!("pushlab_cut_off_total", "Streams and sockets cut off as too slow to take a write");
        describe_gauge!("pushlab_sockets_open", "Accepted sockets open now, of every kind");
        describe_counter!("pushlab_sockets_refused_total", "Sockets refused past --max-sockets");
        describe_gauge!("pushlab_head_seq", "Seq of the newest event");
        describe_gauge!("pushlab_history_events", "Events kept for resuming clients");
        describe_gauge!("pushlab_rate_per_second", "Simulated events per second (instructor setting)");
        describe_gauge!("pushlab_paused", "1 when the simulator is paused");
        describe_gauge!("pushlab_delay_ms", "Delivery delay added by the instructor");
        describe_gauge!("pushlab_broker_up", "1 while the broker answers (always 1 in memory)");
        describe_gauge!("pushlab_leader", "1 while this instance holds the simulator's lease");
        describe_gauge!("pushlab_instances", "Live instances in the cluster, from heartbeats");
        let counters = app.stats.counters();
        for t in Transport::ALL {
            let c = counters.get(t);
            let label = [("transport", t.as_str())];
            gauge!("pushlab_connections_open", &label).set(c.open as f64);
            counter!("pushlab_connections_total", &label).absolute(c.connections);
            counter!("pushlab_requests_total", &label).absolute(c.requests);
            counter!("pushlab_empty_responses_total", &label).absolute(c.empty_responses);
            counter!("pushlab_events_delivered_total", &label).absolute(c.events);
            counter!("pushlab_sent_bytes_total", &label).absolute(c.bytes);
            counter!("pushlab_cut_off_total", &label).absolute(c.cut_off);
        }
        let (open, refused) = app.stats.sockets();
        gauge!("pushlab_sockets_open").set(open as f64);
        counter!("pushlab_sockets_refused_total").absolute(refused);
        let settings = app.control.settings();
        gauge!("pushlab_head_seq").set(app.hub.head() as f64);
        gauge!("pushlab_history_events").set(app.hub.history_len() as f64);
        gauge!("pushlab_rate_per_second").set(settings.rate_per_s);
        gauge!("pushlab_paused").set(f64::from(u8::from(settings.paused)));
        gauge!("pushlab_delay_ms").set(settings.delay_ms as f64);
        let (broker, instance) = (&app.broker, [("instance", app.broker.instance().to_owned())]);
        let up = broker.state() != pushlab::BrokerState::Down;
        gauge!("pushlab_broker_up", &instance).set(f64::from(u8::from(up)));
        let leads = broker.leader().as_deref() == Some(broker.instance());
        gauge!("pushlab_leader", &instance).set(f64::from(u8::from(leads)));
        gauge!("pushlab_instances").set(broker.instances().len() as f64);
    });
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], recorder.handle().render())
}
