//! Crash safety of metrics history (SPEC §8): `kill -9` during heavy writes loses at most what was
//! not yet flushed; the store reopens cleanly and serves everything flushed before the kill.
//!
//! "Flushed" is observed, not timed: the test reads the server's own figures on its Prometheus
//! listener and waits until the durable-sample count covers every phase-1 sample.

mod common;

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::process::{create_token, kill9, spawn_serve, BIN};
use common::{client, ADMIN_PASS, ADMIN_USER};
use pulse::sim::agents::{gzip_json, host_report};
use serde_json::Value;

const HOSTS: u64 = 40;
const PHASE1_TICKS: u64 = 3;

/// Starts `pulse serve` with a 1 s history flush; returns the child and its base URL.
fn spawn(dir: &std::path::Path, metrics: Option<u16>) -> (Child, String) {
    let config = dir.join("pulse.toml");
    let mut f = std::fs::File::create(&config).unwrap();
    writeln!(f, "[history]\nflush_interval_secs = 1").unwrap();
    let listen = metrics.map_or("off".to_owned(), |p| format!("127.0.0.1:{p}"));
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .env("PULSE_METRICS_LISTEN", listen)
        .env("PULSE_AUTH_USER", ADMIN_USER)
        .env("PULSE_AUTH_PASS", ADMIN_PASS)
        .env("PULSE_LOG_LEVEL", "warn")
        .stderr(Stdio::null());
    spawn_serve(cmd)
}

async fn report(base: &str, token: &str, seed: u64, tick: u64) -> bool {
    client()
        .post(format!("{base}/api/agents/agent/report"))
        .header("X-API-Token", token)
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(gzip_json(&host_report(seed, tick)).unwrap())
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// A counter's value (summed over label sets matching `filter`) from the metrics listener.
async fn counter(port: u16, name: &str, filter: &str) -> f64 {
    let text = client()
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with(name) && l.contains(filter))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn wait_until<F: std::future::Future<Output = bool>>(mut f: impl FnMut() -> F) {
    for _ in 0..600 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("condition never held");
}

async fn resources(base: &str, reader: &str) -> Vec<Value> {
    let list: Value = client()
        .get(format!(
            "{base}/api/resources?type=agent&limit=500&sort=name"
        ))
        .header("X-API-Token", reader)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list["data"].as_array().cloned().unwrap_or_default()
}

async fn host_ids(base: &str, reader: &str) -> Vec<String> {
    let mut ids: Vec<String> = resources(base, reader)
        .await
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    assert_eq!(ids.len() as u64, HOSTS);
    ids
}

async fn ids_and_seeds(base: &str, reader: &str) -> Vec<(String, u64)> {
    resources(base, reader)
        .await
        .iter()
        .map(|r| {
            let name = r["name"].as_str().unwrap();
            (
                r["id"].as_str().unwrap().to_owned(),
                name["sim-host-".len()..].parse().unwrap(),
            )
        })
        .collect()
}

async fn cpu_points(base: &str, reader: &str, id: &str) -> Vec<Value> {
    let body: Value = client()
        .get(format!(
            "{base}/api/metrics-store/history?resourceId={id}&metric=cpu&range=1h&maxPoints=10000"
        ))
        .header("X-API-Token", reader)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["points"].as_array().cloned().unwrap_or_default()
}

fn cpu(seed: u64, tick: u64) -> f64 {
    host_report(seed, tick)["metrics"]["cpuUsagePercent"]
        .as_f64()
        .unwrap()
}

#[tokio::test]
async fn kill_9_during_heavy_writes_keeps_every_flushed_sample() {
    let dir = tempfile::tempdir().unwrap();
    let agent = create_token(&dir.path().join("data"), "agent:report");
    let reader = create_token(&dir.path().join("data"), "monitoring:read");

    let port = common::free_port();
    let (mut child, base) = spawn(dir.path(), Some(port));
    // Phase 1: every host reports PHASE1_TICKS times, more than a second apart.
    for tick in 0..PHASE1_TICKS {
        for seed in 0..HOSTS {
            assert!(report(&base, &agent, seed, tick).await);
        }
        tokio::time::sleep(Duration::from_millis(1_100)).await;
    }
    // Every phase-1 sample is in the store (readable), then two more flushes complete.
    let ids = host_ids(&base, &reader).await;
    for id in &ids {
        wait_until(|| async { cpu_points(&base, &reader, id).await.len() as u64 >= PHASE1_TICKS })
            .await;
    }
    let stored = counter(port, "pulse_history_samples_total", "outcome=\"stored\"").await;
    assert!(stored >= (HOSTS * PHASE1_TICKS) as f64);
    wait_until(|| async { counter(port, "pulse_history_durable_samples", "").await >= stored })
        .await;

    // Phase 2: heavy concurrent writes, killed in the middle.
    let writers: Vec<_> = (0..4u64)
        .map(|w| {
            let (base, agent) = (base.clone(), agent.clone());
            tokio::spawn(async move {
                for tick in PHASE1_TICKS.. {
                    for seed in (w..HOSTS).step_by(4) {
                        if !report(&base, &agent, seed, tick).await {
                            return;
                        }
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    kill9(&mut child);
    for w in writers {
        let _ = w.await;
    }

    // The store reopens cleanly and holds every phase-1 sample, in order.
    let (mut child, base) = spawn(dir.path(), None);
    for seed in 0..HOSTS {
        assert!(
            report(&base, &agent, seed, 1_000).await,
            "server serves after kill -9"
        );
    }
    let after = host_ids(&base, &reader).await;
    assert_eq!(after, ids, "resource ids are stable across the restart");
    for (id, seed) in &ids_and_seeds(&base, &reader).await {
        let (id, seed) = (id.as_str(), *seed);
        let points = cpu_points(&base, &reader, id).await;
        assert!(points.len() as u64 >= PHASE1_TICKS, "{id}: {points:?}");
        for (tick, p) in points.iter().take(PHASE1_TICKS as usize).enumerate() {
            assert_eq!(
                p["value"].as_f64(),
                Some(cpu(seed, tick as u64)),
                "{id} tick {tick}"
            );
        }
        let ts: Vec<i64> = points
            .iter()
            .map(|p| p["timestamp"].as_i64().unwrap())
            .collect();
        assert!(ts.windows(2).all(|w| w[0] < w[1]), "{id}: {ts:?}");
    }
    kill9(&mut child);
}
