//! Agent ingest end to end (SPEC §5, platforms.md §5): compatible reports over real HTTP become
//! resources with the right statuses, parents and metrics, visible over REST and as WebSocket
//! merge-patch deltas; bad input is refused with the right error and the server keeps serving.

mod common;

use std::io::Write;
use std::time::Duration;

use common::ws::{connect, next_json, ClientState};
use common::{client, expect_error, TestServer};
use futures_util::StreamExt;
use pulse::sim::agents::{docker_report, gzip_json, host_report, kubernetes_report};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

async fn post(srv: &TestServer, path: &str, token: &str, body: &Value) -> reqwest::Response {
    client()
        .post(srv.url(path))
        .header("X-API-Token", token)
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(gzip_json(body).unwrap())
        .send()
        .await
        .unwrap()
}

async fn resources(srv: &TestServer, token: &str, query: &str) -> Value {
    client()
        .get(srv.url(&format!("/api/resources?limit=500&{query}")))
        .header("X-API-Token", token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn host_docker_and_kubernetes_reports_become_resources() {
    let srv = TestServer::start();
    let agent = srv.token(
        &["agent:report", "docker:report", "kubernetes:report"],
        None,
    );
    let reader = srv.token(&["monitoring:read"], None);

    // A host report with fields this server does not know.
    let mut host = host_report(1, 0);
    host["futureField"] = json!({"nested": [1, 2, 3]});
    host["host"]["somethingNew"] = json!("x");
    let resp = post(&srv, "/api/agents/agent/report", &agent, &host).await;
    assert_eq!(resp.status(), 200);
    let reply: Value = resp.json().await.unwrap();
    assert_eq!(reply["success"], true);
    assert!(reply["agentId"].as_str().is_some_and(|a| !a.is_empty()));
    assert!(reply["lastSeen"].as_str().is_some());
    assert_eq!(reply["platform"], host["host"]["platform"]);

    // The legacy alias works too, and a second report gives rates.
    let resp = post(&srv, "/api/agents/host/report", &agent, &host_report(1, 1)).await;
    assert_eq!(resp.status(), 200);

    let hosts = resources(&srv, &reader, "type=agent&source=agent").await;
    assert_eq!(hosts["meta"]["total"], 1, "{hosts}");
    let h = &hosts["data"][0];
    assert_eq!(h["name"], host["host"]["hostname"]);
    assert_eq!(h["status"], "online");
    assert_eq!(h["identity"]["machineId"], host["host"]["machineId"]);
    for m in ["cpu", "memory", "disk"] {
        assert!(h["metrics"][m].is_object(), "metric {m} in {h}");
    }
    assert_eq!(
        h["metrics"]["memory"]["total"],
        host["metrics"]["memory"]["totalBytes"]
    );
    assert!(
        h["metrics"]["netIn"]["value"].as_f64().is_some(),
        "rate after two reports: {h}"
    );
    assert!(h["agent"].is_object(), "agent facet");

    // Docker: the host plus its containers as children, statuses mapped.
    let d = docker_report(2, 0, 6);
    let resp = post(&srv, "/api/agents/docker/report", &agent, &d).await;
    assert_eq!(resp.status(), 200);
    let reply: Value = resp.json().await.unwrap();
    assert_eq!(
        reply["containers"],
        d["containers"].as_array().unwrap().len()
    );
    let containers = resources(&srv, &reader, "type=app-container").await;
    assert_eq!(
        containers["meta"]["total"],
        d["containers"].as_array().unwrap().len()
    );
    let docker_host_id = containers["data"][0]["parentId"]
        .as_str()
        .unwrap()
        .to_owned();
    let docker_host: Value = client()
        .get(srv.url(&format!("/api/resources/{docker_host_id}")))
        .header("X-API-Token", &reader)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(docker_host["type"], "agent");
    let by_name = |name: &str| {
        containers["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("container {name}"))
    };
    assert_eq!(by_name("api")["status"], "warning", "unhealthy → warning");
    assert_eq!(by_name("migrate")["status"], "offline", "exited → offline");
    assert!(by_name("api")["docker"]["restartCount"].is_number());
    let services = resources(&srv, &reader, "type=docker-service").await;
    assert_eq!(services["meta"]["total"], 2);

    // Kubernetes: cluster → nodes → pods, and deployments.
    let k = kubernetes_report(3, 0, 3, 4);
    let resp = post(&srv, "/api/agents/kubernetes/report", &agent, &k).await;
    assert_eq!(resp.status(), 200);
    let reply: Value = resp.json().await.unwrap();
    assert_eq!(reply["nodes"], 3);
    let clusters = resources(&srv, &reader, "type=k8s-cluster").await;
    assert_eq!(clusters["meta"]["total"], 1);
    let cluster_id = clusters["data"][0]["id"].as_str().unwrap();
    let nodes = resources(&srv, &reader, &format!("type=k8s-node&parent={cluster_id}")).await;
    assert_eq!(nodes["meta"]["total"], 3);
    let pods = resources(&srv, &reader, "type=pod").await;
    assert_eq!(pods["meta"]["total"], reply["pods"]);
    let crash = pods["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "api-crashloop-0")
        .unwrap();
    assert_eq!(crash["status"], "warning");
    let node_ids: Vec<&str> = nodes["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert!(node_ids.contains(&crash["parentId"].as_str().unwrap()));
    let deployments = resources(&srv, &reader, "type=k8s-deployment").await;
    assert!(deployments["meta"]["total"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn reports_arrive_as_websocket_merge_patches() {
    let srv = TestServer::start();
    let agent = srv.token(&["agent:report"], None);
    let reader = srv.token(&["monitoring:read"], None);
    let mut ws = connect(&srv.ws_url("/ws"), &reader, &[]).await.unwrap();
    let mut state = ClientState::default();
    state.apply(&next_json(&mut ws).await);
    state.apply(&next_json(&mut ws).await);

    assert_eq!(
        post(&srv, "/api/agents/agent/report", &agent, &host_report(9, 0))
            .await
            .status(),
        200
    );
    let first = next_json(&mut ws).await;
    state.apply(&first);
    let upsert = &first["data"]["resourceDelta"]["upserts"][0];
    assert_eq!(
        upsert["type"], "agent",
        "a new resource arrives whole: {first}"
    );

    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        post(&srv, "/api/agents/agent/report", &agent, &host_report(9, 1))
            .await
            .status(),
        200
    );
    let second = next_json(&mut ws).await;
    state.apply(&second);
    let patch = &second["data"]["resourceDelta"]["upserts"][0];
    assert_eq!(patch["id"], upsert["id"]);
    assert!(
        patch.get("type").is_none() && patch.get("identity").is_none(),
        "only what changed: {patch}"
    );
    assert!(patch.get("metrics").is_some(), "{patch}");

    // The client's state equals /api/state.
    let api: Value = client()
        .get(srv.url("/api/state"))
        .header("X-API-Token", &reader)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    while let Ok(Some(Ok(Message::Text(t)))) =
        tokio::time::timeout(Duration::from_millis(300), ws.next()).await
    {
        state.apply(&serde_json::from_str(&t).unwrap());
    }
    assert_eq!(state.as_state(), api);
}

fn vm_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[tokio::test]
async fn bad_reports_are_refused_clearly() {
    let srv = TestServer::start();
    let agent = srv.token(&["agent:report"], None);
    let c = client();

    // Missing hostname.
    let mut no_host = host_report(4, 0);
    no_host["host"].as_object_mut().unwrap().remove("hostname");
    let body = expect_error(
        post(&srv, "/api/agents/agent/report", &agent, &no_host).await,
        400,
        "invalid_report",
    )
    .await;
    assert_eq!(body["details"]["field"], "host.hostname");

    // Wrong type, negative bytes, percent over 100.
    for (path, value, field) in [
        (
            ("metrics", "cpuUsagePercent"),
            json!("high"),
            "metrics.cpuUsagePercent",
        ),
        (
            ("metrics", "cpuUsagePercent"),
            json!(250.0),
            "metrics.cpuUsagePercent",
        ),
    ] {
        let mut r = host_report(4, 0);
        r[path.0][path.1] = value;
        let body = expect_error(
            post(&srv, "/api/agents/agent/report", &agent, &r).await,
            400,
            "invalid_report",
        )
        .await;
        assert_eq!(body["details"]["field"], field);
    }
    let mut neg = host_report(4, 0);
    neg["metrics"]["memory"]["totalBytes"] = json!(-5);
    let body = expect_error(
        post(&srv, "/api/agents/agent/report", &agent, &neg).await,
        400,
        "invalid_report",
    )
    .await;
    assert_eq!(body["details"]["field"], "metrics.memory.totalBytes");

    // A 400 KiB host report (uncompressed) exceeds the 256 KiB wire limit.
    let mut big = host_report(4, 0);
    big["padding"] = json!("x".repeat(400 * 1024));
    let resp = c
        .post(srv.url("/api/agents/agent/report"))
        .header("X-API-Token", &agent)
        .header("Content-Type", "application/json")
        .body(big.to_string())
        .send()
        .await
        .unwrap();
    let body = expect_error(resp, 413, "report_too_large").await;
    assert_eq!(body["details"]["dimension"], "wire");
    assert_eq!(body["details"]["limitBytes"], 256 * 1024);

    // A gzip bomb: 64 MiB of zeros inflates far past the decoded limit; memory stays flat.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..64 {
        enc.write_all(&zeros).unwrap();
    }
    let bomb = enc.finish().unwrap();
    assert!(bomb.len() < 256 * 1024);
    let before = vm_rss_kb();
    for _ in 0..5 {
        let resp = c
            .post(srv.url("/api/agents/agent/report"))
            .header("X-API-Token", &agent)
            .header("Content-Encoding", "gzip")
            .body(bomb.clone())
            .send()
            .await
            .unwrap();
        let body = expect_error(resp, 413, "report_too_large").await;
        assert_eq!(body["details"]["dimension"], "decoded");
    }
    let grown_mb = (vm_rss_kb().saturating_sub(before)) / 1024;
    assert!(
        grown_mb < 32,
        "five bombs grew the process by {grown_mb} MiB"
    );

    // Unsupported encoding, wrong scope, bad token.
    let resp = c
        .post(srv.url("/api/agents/agent/report"))
        .header("X-API-Token", &agent)
        .header("Content-Encoding", "br")
        .body("{}")
        .send()
        .await
        .unwrap();
    expect_error(resp, 415, "unsupported_encoding").await;
    let reader = srv.token(&["monitoring:read"], None);
    expect_error(
        post(
            &srv,
            "/api/agents/agent/report",
            &reader,
            &host_report(4, 0),
        )
        .await,
        403,
        "missing_scope",
    )
    .await;
    expect_error(
        post(
            &srv,
            "/api/agents/docker/report",
            &agent,
            &docker_report(4, 0, 2),
        )
        .await,
        403,
        "missing_scope",
    )
    .await;
    expect_error(
        post(
            &srv,
            "/api/agents/agent/report",
            "pulse_bogus",
            &host_report(4, 0),
        )
        .await,
        401,
        "unauthorized",
    )
    .await;
    let resp = c
        .post(srv.url("/api/agents/agent/report"))
        .header("X-API-Token", &agent)
        .header("Content-Type", "application/json")
        .body("{\"host\": ")
        .send()
        .await
        .unwrap();
    expect_error(resp, 400, "invalid_json").await;

    // Everyone else is still served.
    assert_eq!(
        post(&srv, "/api/agents/agent/report", &agent, &host_report(4, 0))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_silent_docker_host_goes_offline() {
    let srv = TestServer::start();
    let agent = srv.token(&["docker:report"], None);
    let reader = srv.token(&["monitoring:read"], None);
    let mut d = docker_report(5, 0, 3);
    d["agent"]["intervalSeconds"] = json!(5);
    assert_eq!(
        post(&srv, "/api/agents/docker/report", &agent, &d)
            .await
            .status(),
        200
    );
    let hosts = resources(&srv, &reader, "source=docker&type=agent").await;
    assert_eq!(hosts["data"][0]["status"], "online");
    // interval 5 s × 4 clamps to the 30 s minimum offline window.
    tokio::time::sleep(Duration::from_secs(32)).await;
    let hosts = resources(&srv, &reader, "source=docker&type=agent").await;
    let h = &hosts["data"][0];
    assert_eq!(h["sourceStatus"]["docker"]["status"], "offline", "{h}");
    assert_eq!(h["status"], "offline");
}
