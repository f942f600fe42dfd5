//! The WebSocket protocol (SPEC §6) end to end over a real socket: welcome, initialState,
//! coalesced merge-patch deltas, ping/pong, requestData, auth, Origin, and slow clients.

mod common;

use std::time::Duration;

use common::gen;
use common::ws::{connect, next_json, send_json, ClientState, Ws};
use common::{client, expect_error, TestServer};
use futures_util::StreamExt;
use pulse::monitor::registry::Ingest;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

fn now_ms() -> i64 {
    pulse::monitor::clock::now_millis()
}

async fn api_state(srv: &TestServer, token: &str) -> Value {
    client()
        .get(srv.url("/api/state"))
        .header("X-API-Token", token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Reads frames into `state` until it equals `/api/state` (or the deadline passes).
async fn converge(ws: &mut Ws, state: &mut ClientState, srv: &TestServer, token: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let expected = api_state(srv, token).await;
        // Drain what has arrived, waiting briefly for stragglers.
        while let Ok(Some(Ok(msg))) =
            tokio::time::timeout(Duration::from_millis(300), ws.next()).await
        {
            if let Message::Text(t) = msg {
                state.apply(&serde_json::from_str(&t).unwrap());
            }
        }
        if state.as_state() == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "client state never matched /api/state"
        );
    }
}

#[tokio::test]
async fn welcome_then_initial_state_matches_api_state() {
    let srv = TestServer::start();
    let token = srv.token(&["monitoring:read"], None);
    let mut ws = connect(&srv.ws_url("/ws"), &token, &[]).await.unwrap();
    let welcome = next_json(&mut ws).await;
    assert_eq!(welcome["type"], "welcome");
    assert_eq!(welcome["data"]["orgId"], "default");
    let initial = next_json(&mut ws).await;
    assert_eq!(initial["type"], "initialState");
    for key in [
        "resources",
        "activeAlerts",
        "recentlyResolved",
        "connectionHealth",
        "stats",
        "lastUpdate",
    ] {
        assert!(
            initial["data"].get(key).is_some(),
            "initialState lacks {key}"
        );
    }
    assert_eq!(initial["data"], api_state(&srv, &token).await);
}

#[tokio::test]
async fn initial_state_plus_deltas_reproduce_api_state_over_thousands_of_changes() {
    let srv = TestServer::start();
    let token = srv.token(&["monitoring:read"], None);
    let registry = srv
        .running
        .state
        .tenants
        .get("default")
        .unwrap()
        .registry()
        .unwrap();
    let mut ws = connect(&srv.ws_url("/ws"), &token, &[]).await.unwrap();
    let mut state = ClientState::default();
    state.apply(&next_json(&mut ws).await);
    state.apply(&next_json(&mut ws).await);

    let mut rng = StdRng::seed_from_u64(0x5eed);
    let reader = tokio::spawn(async move {
        let mut frames = Vec::new();
        while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(3), ws.next()).await
        {
            if let Message::Text(t) = msg {
                frames.push(serde_json::from_str::<Value>(&t).unwrap());
            }
        }
        (ws, frames)
    });
    let mut changes = 0usize;
    for round in 0..3000 {
        let snap = gen::snapshot(&mut rng, round % 6, 12, now_ms());
        changes += registry.send(Ingest(snap)).await.unwrap();
        if round % 50 == 0 {
            // Let some ticks go out individually, others coalesce.
            tokio::time::sleep(Duration::from_millis(120)).await;
        }
    }
    assert!(changes > 3000, "the generator produced {changes} changes");
    let (mut ws, frames) = reader.await.unwrap();
    assert!(
        frames.len() > 10,
        "deltas were published ({} frames)",
        frames.len()
    );
    for f in &frames {
        assert_eq!(f["type"], "rawData");
        let delta = &f["data"]["resourceDelta"];
        if let Some(upserts) = delta["upserts"].as_array() {
            for u in upserts {
                assert!(u["id"].is_string(), "every upsert carries its id");
            }
        }
        state.apply(f);
    }
    // Deltas of changed resources are merge-patches, not whole resources.
    let patched = frames
        .iter()
        .flat_map(|f| {
            f["data"]["resourceDelta"]["upserts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|u| u.get("type").is_none())
        .count();
    assert!(patched > 0, "some upserts are partial merge-patches");
    converge(&mut ws, &mut state, &srv, &token).await;
}

#[tokio::test]
async fn ping_pong_and_request_data() {
    let srv = TestServer::start();
    let token = srv.token(&["monitoring:read"], None);
    let mut ws = connect(&srv.ws_url("/ws"), &token, &[]).await.unwrap();
    next_json(&mut ws).await;
    next_json(&mut ws).await;
    send_json(&mut ws, json!({"type": "ping"})).await;
    let pong = next_json(&mut ws).await;
    assert_eq!(pong["type"], "pong");
    assert!(pong["data"]["timestamp"].as_i64().is_some());
    send_json(&mut ws, json!({"type": "requestData"})).await;
    let full = next_json(&mut ws).await;
    assert_eq!(full["type"], "rawData");
    assert!(full["data"]["resources"].is_array());
    send_json(&mut ws, json!({"type": "launchMissiles"})).await;
    let err = next_json(&mut ws).await;
    assert_eq!(err["type"], "error");
}

#[tokio::test]
async fn websocket_auth_and_origin() {
    let srv = TestServer::start();
    let token = srv.token(&["monitoring:read"], None);
    // No credentials: the upgrade is refused with 401 JSON.
    let resp = client()
        .get(srv.url("/ws"))
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap();
    expect_error(resp, 401, "unauthorized").await;
    // Foreign Origin: 403.
    let err = connect(
        &srv.ws_url("/ws"),
        &token,
        &[("Origin", "https://evil.example")],
    )
    .await;
    match err {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 403),
        other => panic!("foreign origin must be refused, got {other:?}"),
    }
    // Same-host Origin is fine, and ?token= works on the upgrade.
    let same = format!("http://{}", srv.addr);
    let mut ws = connect(&srv.ws_url("/ws"), &token, &[("Origin", &same)])
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "welcome");
    let (mut ws, _) = tokio_tungstenite::connect_async(srv.ws_url(&format!("/ws?token={token}")))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "welcome");
    // A token without monitoring:read: 403.
    let agent = srv.token(&["agent:report"], None);
    match connect(&srv.ws_url("/ws"), &agent, &[]).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 403),
        other => panic!("missing scope must be refused, got {other:?}"),
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_is_resynced_and_never_slows_the_others() {
    // A small per-client queue so that a few large frames overflow it.
    let srv = TestServer::start_with(|s| s.ws.queue_capacity = 8);
    let token = srv.token(&["monitoring:read"], None);
    let tenant = srv.running.state.tenants.get("default").unwrap();
    let registry = tenant.registry().unwrap();

    let mut stalled = connect(&srv.ws_url("/ws"), &token, &[]).await.unwrap();
    let mut stalled_state = ClientState::default();
    stalled_state.apply(&next_json(&mut stalled).await);
    stalled_state.apply(&next_json(&mut stalled).await);

    let mut healthy = connect(&srv.ws_url("/ws"), &token, &[]).await.unwrap();
    let mut healthy_state = ClientState::default();
    healthy_state.apply(&next_json(&mut healthy).await);
    healthy_state.apply(&next_json(&mut healthy).await);
    let healthy_reader = tokio::spawn(async move {
        let mut frames = 0usize;
        while let Ok(Some(Ok(msg))) =
            tokio::time::timeout(Duration::from_secs(3), healthy.next()).await
        {
            if let Message::Text(t) = msg {
                healthy_state.apply(&serde_json::from_str(&t).unwrap());
                frames += 1;
            }
        }
        (healthy, healthy_state, frames)
    });

    // Big, frequent deltas: far more than the stalled client's queue and socket buffers hold.
    let mut rng = StdRng::seed_from_u64(7);
    let mut lagged = false;
    for round in 0..80 {
        let mut snap = gen::snapshot(&mut rng, 0, 0, now_ms());
        snap.records = (0..800)
            .map(|i| {
                let mut r = pulse::model::SourceRecord::new(
                    format!("big-{i}"),
                    pulse::model::ResourceType::AppContainer,
                    format!("container-{i}-{round}-{}", "x".repeat(200)),
                    pulse::model::Status::Online,
                );
                r.tags = vec![format!("round-{round}")];
                r
            })
            .collect();
        registry.send(Ingest(snap)).await.unwrap();
        // One frame per round: longer than the coalescing window.
        tokio::time::sleep(Duration::from_millis(105)).await;
        lagged |= tenant.hub().lagging_count() > 0;
    }
    assert!(lagged, "the stalled client was flagged as lagging");
    let (mut healthy, mut healthy_state, frames) = healthy_reader.await.unwrap();
    assert!(
        frames > 20,
        "the healthy client kept receiving ({frames} frames)"
    );
    assert!(
        !healthy_state.seen.iter().any(|t| t == "resync"),
        "the healthy client never lagged"
    );
    converge(&mut healthy, &mut healthy_state, &srv, &token).await;

    // The stalled client reads again: it is told to resync and converges to the same state.
    converge(&mut stalled, &mut stalled_state, &srv, &token).await;
    assert!(
        stalled_state.seen.iter().any(|t| t == "resync"),
        "{:?}",
        &stalled_state.seen[..8.min(stalled_state.seen.len())]
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_after_the_idle_timeout() {
    // With its socket full a session is never polled, so its own ping timer cannot close it:
    // the connection's TCP_USER_TIMEOUT (the idle timeout) must.
    let srv = TestServer::start_with(|s| {
        s.ws.queue_capacity = 8;
        s.ws.ping_interval = Duration::from_secs(1);
        s.ws.idle_timeout = Duration::from_secs(5);
    });
    let token = srv.token(&["monitoring:read"], None);
    let tenant = srv.running.state.tenants.get("default").unwrap();
    let registry = tenant.registry().unwrap();
    let hub = tenant.hub();

    let mut stalled = connect(&srv.ws_url("/ws"), &token, &[]).await.unwrap();
    next_json(&mut stalled).await;
    next_json(&mut stalled).await;
    // A reader that answers pings stays connected well past the idle timeout.
    let mut healthy = connect(&srv.ws_url("/ws"), &token, &[]).await.unwrap();
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let healthy_reader = tokio::spawn(async move {
        let mut frames = 0usize;
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                msg = healthy.next() => match msg {
                    Some(Ok(Message::Text(_))) => frames += 1,
                    Some(Ok(Message::Close(c))) => panic!("the reading client was closed: {c:?}"),
                    Some(Ok(_)) => {}
                    other => panic!("the reading client lost its connection: {other:?}"),
                },
            }
        }
        frames
    });
    while hub.subscriber_count() < 2 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Deltas of ~3 MB, so that within a second (well before the session's own idle check) the
    // stalled client's socket buffers are full and the server holds frames it cannot write.
    let mut rng = StdRng::seed_from_u64(11);
    for round in 0..12 {
        let mut snap = gen::snapshot(&mut rng, 0, 0, now_ms());
        snap.records = (0..800)
            .map(|i| {
                pulse::model::SourceRecord::new(
                    format!("big-{i}"),
                    pulse::model::ResourceType::AppContainer,
                    format!("container-{i}-{round}-{}", "y".repeat(4000)),
                    pulse::model::Status::Online,
                )
            })
            .collect();
        registry.send(Ingest(snap)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(105)).await;
    }

    // The stalled session goes away on its own, releasing its subscription; the reader stays.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while hub.subscriber_count() > 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stalled client is still connected 30 s later"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = stop.send(());
    assert!(healthy_reader.await.unwrap() >= 12);

    // Reading again, the stalled client finds its connection gone: the kernel aborted it, so
    // the read fails rather than ending with the session's "idle timeout" close frame.
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stalled.next().await {
                Some(Ok(Message::Close(c))) => break format!("close frame {c:?}"),
                Some(Ok(_)) => {}
                other => break format!("{other:?}"),
            }
        }
    })
    .await
    .expect("the stalled client's connection was not ended");
    assert!(!end.starts_with("close frame"), "{end}");
}
