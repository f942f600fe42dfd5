//! kill -9 with notifications pending: the real `pulse serve` binary is killed while the webhook
//! receiver keeps failing; after a restart on the same data dir the delivery goes out (at least
//! once, same event id), and a further restart does not notify the still-firing alert again.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::client;
use common::process::{create_token, kill9, spawn_serve, BIN};
use common::receiver::{Answer, Receiver};
use pulse::sim::agents::host_report;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(30);

/// Starts `pulse serve` on a free loopback port with loopback webhooks allowed.
fn spawn_server(data_dir: &std::path::Path) -> (Child, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("PULSE_METRICS_LISTEN", "off")
        .env("PULSE_WEBHOOK_ALLOWED_CIDRS", "127.0.0.0/8")
        .env("PULSE_LOG_LEVEL", "warn")
        .env_remove("PULSE_AUTH_USER")
        .env_remove("PULSE_AUTH_PASS")
        .stderr(Stdio::null());
    spawn_serve(cmd)
}

async fn call(base: &str, token: &str, method: reqwest::Method, path: &str, body: Value) -> Value {
    let resp = client()
        .request(method, format!("{base}{path}"))
        .header("X-API-Token", token)
        .json(&body)
        .send()
        .await
        .expect("request");
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap_or(Value::Null)
}

async fn report(base: &str, token: &str, seed: u64, tick: u64, cpu: f64) {
    let mut r = host_report(seed, tick);
    r["metrics"]["cpuUsagePercent"] = json!(cpu);
    call(
        base,
        token,
        reqwest::Method::POST,
        "/api/agents/agent/report",
        r,
    )
    .await;
}

fn ids(receiver: &Receiver) -> Vec<String> {
    receiver
        .requests()
        .iter()
        .filter_map(|r| r.header("x-pulse-event-id").map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn pending_deliveries_survive_kill_9_and_restart_does_not_re_notify() {
    let dir = tempfile::tempdir().unwrap();
    let token = create_token(dir.path(), "*");
    let receiver = Receiver::start().await;
    receiver.script((0..1000).map(|_| Answer {
        status: 503,
        headers: Vec::new(),
        body: "down".into(),
    }));

    let (mut child, base) = spawn_server(dir.path());
    let put = reqwest::Method::PUT;
    call(
        &base,
        &token,
        put.clone(),
        "/api/alerts/config",
        json!({"delays": {"defaultSeconds": 0, "byType": {}},
                "notifications": {"grouping": {"enabled": false}}}),
    )
    .await;
    call(
        &base,
        &token,
        reqwest::Method::POST,
        "/api/notifications/webhooks",
        json!({"name": "r", "url": receiver.url("/hook")}),
    )
    .await;
    report(&base, &token, 50, 0, 97.0).await;
    receiver
        .wait_until(WAIT, "a failed first attempt", |r| !r.is_empty())
        .await;
    let event_id = ids(&receiver)[0].clone();
    assert!(event_id.contains(":fired-"), "{event_id}");
    kill9(&mut child);

    // The receiver recovers; the restarted server delivers the pending notification.
    receiver.clear_script();
    let before = receiver.requests().len();
    let (mut child, base) = spawn_server(dir.path());
    receiver
        .wait_until(WAIT, "the delivery after restart", |r| {
            r[before..]
                .iter()
                .any(|r| r.header("x-pulse-event-id") == Some(event_id.as_str()))
        })
        .await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let stats = call(
            &base,
            &token,
            reqwest::Method::GET,
            "/api/notifications/queue/stats",
            Value::Null,
        )
        .await;
        if stats["sent"] == 1 && stats["pending"] == 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{stats}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let active = call(
        &base,
        &token,
        reqwest::Method::GET,
        "/api/alerts/active",
        Value::Null,
    )
    .await;
    assert_eq!(
        active.as_array().map(Vec::len),
        Some(1),
        "the alert survives the restart"
    );
    kill9(&mut child);

    // Once more: the alert keeps firing after a restart, but was notified already.
    let (mut child, base) = spawn_server(dir.path());
    report(&base, &token, 50, 1, 98.0).await;
    report(&base, &token, 51, 0, 97.0).await;
    let alert_prefix = event_id.split(":fired-").next().unwrap().to_owned();
    receiver
        .wait_until(WAIT, "the marker alert of another host", |r| {
            r.iter().any(|r| {
                r.header("x-pulse-event-id")
                    .is_some_and(|id| id.contains(":fired-") && !id.starts_with(&alert_prefix))
            })
        })
        .await;
    let distinct: std::collections::BTreeSet<String> = ids(&receiver)
        .into_iter()
        .filter(|id| id.starts_with(&alert_prefix))
        .collect();
    assert_eq!(distinct.into_iter().collect::<Vec<_>>(), vec![event_id]);
    kill9(&mut child);
}
