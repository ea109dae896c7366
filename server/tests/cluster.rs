//! Many instances on one real Redis: a cursor from one instance resumes on
//! another over every transport, the instructor and chat reach the whole
//! cluster, and the stream survives a broker outage and a flush.

mod common;

use std::time::Duration;

use common::redis::RedisServer;
use common::{Instant, Server, WAIT, env_seqs, seqs, server, try_server};
use pushlab::{ClientMsg, ServerMsg};
use serde_json::{Value, json};

async fn instance(r: &RedisServer, id: &str, more: &[&str]) -> Server {
    let url = r.url();
    let mut args = vec!["--redis", &url, "--instance-id", id];
    args.extend_from_slice(more);
    server(&args).await
}

async fn stats(s: &Server) -> Value {
    s.get("/api/stats").await.json().await.unwrap()
}

/// Waits for `what` to hold, checking every 50 ms, for up to `within`.
async fn eventually<F: AsyncFn() -> bool>(within: Duration, what: &str, f: F) {
    let started = Instant::now();
    while !f().await {
        assert!(started.elapsed() < within, "{what} within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_cursor_from_one_instance_resumes_on_another_over_every_transport() {
    let r = RedisServer::start();
    let a = instance(&r, "a", &[]).await;
    let b = instance(&r, "b", &[]).await;
    a.append(30).await;
    b.wait_head(30).await;
    assert_eq!(a.running.state.hub.epoch(), b.running.state.hub.epoch(), "one stream, one epoch");

    // Short poll: a cursor from A, read on B.
    let (_, first) = a.poll(&format!("after={}&limit=10", a.cursor(0))).await;
    let cursor = first["cursor"].as_str().unwrap().to_owned();
    let res = b.get(&format!("/api/poll?after={cursor}")).await;
    assert_eq!(res.headers()["x-pushlab-instance"], "b");
    let body: Value = res.json().await.unwrap();
    assert_eq!(seqs(&body["events"]), (11..=30).collect::<Vec<_>>(), "gaps 0, duplicates 0");

    // Long poll on B from A's cursor 20.
    let body: Value = b.get(&format!("/api/long-poll?after={}", a.cursor(20))).await.json().await.unwrap();
    assert_eq!(seqs(&body["events"]), (21..=30).collect::<Vec<_>>());

    // SSE on B with A's cursor as Last-Event-ID; new events published through A follow.
    let mut sse = b.sse("", Some(&a.cursor(25))).await;
    a.append(5).await;
    assert_eq!(env_seqs(&sse.events(10).await), (26..=35).collect::<Vec<_>>());

    // WebSocket on A, resumed from B's cursor.
    let mut ws = a.ws().await;
    ws.send(&ClientMsg::Resume { after: Some(b.cursor(33)) }).await;
    assert_eq!(env_seqs(&ws.events(2).await), [34, 35]);
    b.append(1).await;
    assert_eq!(env_seqs(&ws.events(1).await), [36]);

    let s = stats(&a).await;
    assert_eq!((s["instance"].as_str(), s["broker"].as_str()), (Some("a"), Some("up")));
    let metrics = a.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("pushlab_broker_up{instance=\"a\"} 1"), "{metrics}");
    eventually(WAIT, "both instances in /api/stats", async || {
        let ids: Vec<String> =
            stats(&b).await["instances"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().into()).collect();
        ids == ["a", "b"]
    })
    .await;
}

#[tokio::test]
async fn chat_and_the_instructor_reach_the_whole_cluster() {
    let r = RedisServer::start();
    let b = instance(&r, "b", &[]).await;
    eventually(WAIT, "b leads", async || b.running.state.broker.leader().as_deref() == Some("b")).await;
    let a = instance(&r, "a", &[]).await;

    // Chat POSTed to B reaches a WebSocket on A.
    let mut ws = a.ws().await;
    ws.send(&ClientMsg::Resume { after: Some(a.cursor(a.running.state.hub.head())) }).await;
    let res =
        b.http.post(b.url("/api/messages")).json(&json!({"text": "hi from b", "from": "Ana"})).send().await.unwrap();
    assert_eq!(res.status(), 202);
    let got = ws.events(1).await.remove(0);
    assert_eq!(serde_json::to_value(&got.event).unwrap()["text"], "hi from b");

    // A rate change through A reaches B, the leader, within 1 s.
    let started = Instant::now();
    assert_eq!(a.control(json!({"action": "set_rate", "per_s": 50})).await.status(), 200);
    eventually(Duration::from_secs(1), "B follows the rate", async || {
        b.running.state.control.settings().rate_per_s == 50.0
    })
    .await;
    println!("B followed the rate change in {:?}", started.elapsed());

    // A burst through A is published once, by the leader.
    let before = b.running.state.hub.head();
    assert_eq!(a.control(json!({"action": "burst", "n": 40})).await.status(), 200);
    eventually(WAIT, "the burst", async || b.running.state.hub.head() >= before + 41).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(b.running.state.hub.head(), before + 41, "40 events and one announcement, once");

    // A drop through B cuts SSE streams on A.
    let mut sse = a.sse("", None).await;
    sse.event().await;
    assert_eq!(b.control(json!({"action": "drop", "transport": "sse"})).await.status(), 200);
    let cut = tokio::time::timeout(WAIT, async { while sse.frame().await.is_some() {} }).await;
    assert!(cut.is_ok(), "the SSE stream on A ends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_poll_alternating_between_instances_at_1000_per_s_never_gets_a_400() {
    let r = RedisServer::start();
    let a = instance(&r, "a", &["--simulator", "--rate", "1000"]).await;
    let b = instance(&r, "b", &[]).await;
    a.wait_head(200).await;
    let (mut cursor, mut last, mut empty) = (a.cursor(a.running.state.hub.head()), 0u64, 0);
    let started = Instant::now();
    for i in 0..400 {
        let s = if i % 2 == 0 { &b } else { &a };
        let res = s.get(&format!("/api/poll?after={cursor}")).await;
        assert_eq!(res.status(), 200, "poll {i}");
        let body: Value = res.json().await.unwrap();
        for seq in seqs(&body["events"]) {
            assert!(last == 0 || seq == last + 1, "gap or duplicate: {last} then {seq}");
            last = seq;
        }
        empty += body["events"].as_array().unwrap().is_empty() as u32;
        cursor = body["cursor"].as_str().unwrap().to_owned();
    }
    println!("400 polls in {:?}, {empty} empty, up to seq {last}", started.elapsed());
    assert!(last > 0);
}

#[tokio::test]
async fn redis_paused_then_back_loses_nothing() {
    let r = RedisServer::start();
    let a = instance(&r, "a", &[]).await;
    let b = instance(&r, "b", &[]).await;
    a.append(5).await;
    b.wait_head(5).await;
    let mut ws = b.ws().await;
    ws.send(&ClientMsg::Resume { after: Some(b.cursor(5)) }).await;

    r.pause();
    eventually(Duration::from_secs(4), "broker down", async || stats(&a).await["broker"] == "down").await;
    let res = a.http.post(a.url("/api/messages")).json(&json!({"text": "anyone?"})).send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "broker_unavailable");
    assert_eq!(a.get("/api/poll").await.status(), 200, "reads still work from the mirror");

    r.resume();
    eventually(Duration::from_secs(5), "broker up", async || stats(&a).await["broker"] == "up").await;
    a.append(3).await;
    assert_eq!(env_seqs(&ws.events(3).await), [6, 7, 8], "the socket stayed open; gaps 0");
    let (_, body) = b.poll(&format!("after={}", a.cursor(5))).await;
    assert_eq!(seqs(&body["events"]), [6, 7, 8]);
}

#[tokio::test]
async fn a_new_stream_in_redis_resets_clients_and_goes_on() {
    let r = RedisServer::start();
    let a = instance(&r, "a", &[]).await;
    a.append(5).await;
    a.wait_head(5).await;
    let old = a.cursor(5);
    let mut ws = a.ws().await;
    ws.send(&ClientMsg::Resume { after: Some(old.clone()) }).await;

    r.cmd(&["FLUSHALL"]).await;
    let reset = tokio::time::timeout(WAIT, ws.next()).await.unwrap();
    let Ok(ServerMsg::Reset(notice)) = reset else { panic!("expected a reset, got {reset:?}") };
    assert_eq!(notice.reason, pushlab::ResetReason::Epoch);
    a.append(2).await;
    assert_eq!(env_seqs(&ws.events(2).await), [1, 2], "the new stream goes on");
    let (status, body) = a.poll(&format!("after={old}")).await;
    assert_eq!((status, body["reset"].as_bool()), (200, Some(true)), "{body}");

    // Restarted empty: the same again, after a reconnect.
    let epoch = a.running.state.hub.epoch();
    let r = r.restart_empty();
    eventually(Duration::from_secs(8), "a new epoch", async || a.running.state.hub.epoch() != epoch).await;
    let reset = tokio::time::timeout(WAIT, ws.next()).await.unwrap();
    assert!(matches!(reset, Ok(ServerMsg::Reset(_))), "{reset:?}");
    eventually(WAIT, "broker up", async || stats(&a).await["broker"] == "up").await;
    a.append(1).await;
    assert_eq!(env_seqs(&ws.events(1).await), [1]);
    drop(r);
}

#[tokio::test]
async fn joining_checks_the_token_the_id_and_the_broker() {
    let r = RedisServer::start();
    let _a = instance(&r, "a", &[]).await;
    let url = r.url();
    let err = try_server(&["--redis", &url, "--instance-id", "a"]).await.err().expect("a taken id is refused");
    assert!(err.to_string().contains("already live"), "{err}");
    // The harness passes --token test-token; a different one is refused.
    let config = ["--redis", &url, "--instance-id", "c", "--token", "other"];
    let err = try_server(&config).await.err().expect("a different token is refused");
    assert!(err.to_string().contains("token"), "{err}");
    let closed = format!(
        "redis://127.0.0.1:{}/0",
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    );
    let err = try_server(&["--redis", &closed]).await.err().expect("no Redis, no start");
    assert!(err.to_string().contains("cannot reach Redis"), "{err}");
}

/// The real binary as one instance of the cluster.
fn spawn_instance(redis: &str, id: &str, args: &[&str]) -> (std::process::Child, String) {
    let mut all = vec!["--addr", "127.0.0.1:0", "--redis", redis, "--instance-id", id, "--token", "test-token"];
    all.extend_from_slice(args);
    common::spawn_binary(&all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_leader_is_killed_another_takes_over_within_5_s_with_gaps_0() {
    let r = RedisServer::start();
    let (mut leader, _url) = spawn_instance(&r.url(), "lead", &["--rate", "20", "--no-presence"]);
    let b = instance(&r, "b", &["--simulator", "--rate", "20"]).await;
    eventually(WAIT, "the process leads", async || b.running.state.broker.leader().as_deref() == Some("lead")).await;
    b.wait_head(10).await;
    let mut sse = b.sse("", None).await;
    let mut seqs = env_seqs(&sse.events(5).await);

    leader.kill().unwrap(); // SIGKILL: no lease released, no goodbye
    leader.wait().unwrap();
    let killed = Instant::now();
    eventually(Duration::from_secs(5), "b takes over", async || {
        b.running.state.broker.leader().as_deref() == Some("b")
    })
    .await;
    let took = killed.elapsed();
    seqs.extend(env_seqs(&sse.events(20).await));
    println!("takeover in {took:?}; stream {:?}..{:?}", seqs.first(), seqs.last());
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "gaps 0, duplicates 0: {seqs:?}");
    // The new leader continues the running jobs under new ids, never reusing one.
    let (history, _) = b.running.state.hub.recent(2000);
    let mut started = std::collections::HashSet::new();
    for e in &history {
        if let pushlab::Event::JobUpdate { job_id, state: pushlab::JobState::Queued, .. } = &e.event {
            assert!(started.insert(job_id.clone()), "{job_id} started twice");
        }
    }
}

#[tokio::test]
async fn only_the_leader_publishes_simulator_events_and_a_leaving_leader_hands_over_at_once() {
    use pushlab_server::broker::{BrokerError, Sink};
    let r = RedisServer::start();
    let a = instance(&r, "a", &[]).await;
    let b = instance(&r, "b", &[]).await;
    assert_eq!(b.running.state.broker.leader().as_deref(), Some("a"), "the first to beat leads");
    let counter = || vec![pushlab::Event::CounterUpdate { name: "t".into(), value: 1 }];
    let refused = b.running.state.broker.publish(counter(), true).await;
    assert!(matches!(refused, Err(BrokerError::NotLeader)), "a fenced publish from b: {refused:?}");
    a.running.state.broker.publish(counter(), true).await.expect("the leader's goes in");
    b.running.state.broker.publish(counter(), false).await.expect("chat and announcements need no lease");
    b.wait_head(2).await;

    // A graceful stop gives the lease up at once: no 3 s wait for its TTL.
    let stopped = Instant::now();
    a.running.shutdown();
    a.running.wait().await.unwrap();
    eventually(Duration::from_secs(2), "b leads", async || stats(&b).await["leader"].as_str() == Some("b")).await;
    println!("handed over {:?} after the stop began", stopped.elapsed());
    let ids: Vec<Value> = stats(&b).await["instances"].as_array().unwrap().iter().map(|i| i["id"].clone()).collect();
    assert_eq!(ids, [json!("b")], "its heartbeat is gone too");
}

#[tokio::test]
async fn a_tls_redis_with_a_password_works_and_a_wrong_password_is_a_start_error() {
    let dir = std::env::temp_dir().join(format!("pushlab-redis-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let r = RedisServer::tls(&dir, "s3cret");
    let a = instance(&r, "a", &[]).await;
    let b = instance(&r, "b", &[]).await;
    a.append(3).await;
    b.wait_head(3).await;
    assert_eq!(stats(&b).await["broker"], "up");
    let wrong = r.url().replace("s3cret", "nope");
    let err = try_server(&["--redis", &wrong, "--instance-id", "c"]).await.err().expect("a wrong password is refused");
    assert!(err.to_string().contains("Redis"), "{err}");
    assert!(!err.to_string().contains("nope"), "the password is not logged: {err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn faults_and_intervals_switched_on_one_instance_act_at_the_others_sockets_within_a_second() {
    let r = RedisServer::start();
    let a = instance(&r, "a", &[]).await;
    let b = instance(&r, "b", &[]).await;
    let mut ws = b.ws().await;
    ws.send(&ClientMsg::Resume { after: Some(b.cursor(b.running.state.hub.head())) }).await;
    let res = a.control(json!({"action": "fault", "fault": "ws-dies", "after_ms": 0})).await;
    assert_eq!(res.status(), 200);
    a.control(json!({"action": "set_ping", "s": 9})).await;
    eventually(Duration::from_secs(1), "B follows the fault and the heartbeat", async || {
        let s = stats(&b).await["settings"].clone();
        s["faults"] == json!([{"fault": "ws-dies", "after_ms": 0}]) && s["ws_ping_s"] == 9
    })
    .await;
    // B's open socket is now dead: a ping gets no pong.
    ws.send(&ClientMsg::Ping { nonce: json!(1) }).await;
    loop {
        match tokio::time::timeout(Duration::from_millis(1500), ws.next()).await {
            Err(_) => break,                         // silence
            Ok(Ok(ServerMsg::Event(_))) => continue, // announcements sent before it died
            Ok(other) => panic!("a dead socket said {other:?}"),
        }
    }
    // Cleared through B, it is off on A too.
    b.control(json!({"action": "reset_lab"})).await;
    eventually(Duration::from_secs(1), "A follows the reset", async || {
        let s = stats(&a).await["settings"].clone();
        s["faults"] == json!([]) && s["ws_ping_s"] == 20
    })
    .await;
}
