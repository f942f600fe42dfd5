//! `pulse demo` works the first time: it prints the URL and login; within 30 s the simulated fleet
//! (agents, a 3-node PVE cluster with ≥ 40 guests, PBS, PMG and a TrueNAS appliance, configured
//! through the endpoint APIs) is visible through the API with that login, and within a minute it
//! has chart history.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::cookie_client;
use serde_json::{json, Value};

#[tokio::test]
async fn demo_prints_its_login_and_shows_the_simulated_fleet() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["demo", "--listen", "127.0.0.1:0"])
        .env("PULSE_METRICS_LISTEN", "off")
        .env("PULSE_LOG_LEVEL", "warn")
        .env_remove("PULSE_AUTH_USER")
        .env_remove("PULSE_AUTH_PASS")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (url, user, pass) = loop {
        let line = lines.next().expect("demo prints its login").unwrap();
        if let Some(rest) = line.strip_prefix("Demo dashboard: ") {
            let mut parts = rest.split_whitespace();
            let url = parts.next().unwrap().to_owned();
            let login: Vec<&str> = rest.split("login: ").nth(1).unwrap().split(" / ").collect();
            break (url, login[0].to_owned(), login[1].to_owned());
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let c = cookie_client();
    let resp = c
        .post(format!("{url}/api/login"))
        .json(&json!({"username": user, "password": pass}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page: Value = c
            .get(format!("{url}/api/resources?limit=1"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let by_type = &page["aggregations"]["byType"];
        let count = |t: &str| by_type[t].as_u64().unwrap_or(0);
        let guests = count("vm") + count("system-container");
        if [
            "agent",
            "app-container",
            "k8s-cluster",
            "pod",
            "pbs",
            "pmg",
            "storage",
        ]
        .iter()
        .all(|t| count(t) > 0)
            && guests >= 40
            && page["aggregations"]["bySource"]["pbs"]
                .as_u64()
                .unwrap_or(0)
                >= 2
        {
            break;
        }
        assert!(Instant::now() < deadline, "demo fleet not visible: {page}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Metrics history: within a minute the dashboard's one charts call has series for the fleet.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let charts: Value = c
            .get(format!("{url}/api/charts?range=1h"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let charted = charts["resources"].as_object().map_or(0, |r| {
            r.values()
                .filter(|m| {
                    m["cpu"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(Value::is_number))
                })
                .count()
        });
        if charted >= 5 {
            break;
        }
        assert!(Instant::now() < deadline, "no chart data: {charts}");
        tokio::time::sleep(Duration::from_millis(1_000)).await;
    }
    // SIGTERM: the demo stops cleanly and removes its temporary data dir.
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "demo exits 0 on SIGTERM: {status:?}");
}
