//! `pulse-agent --once` against a real Pulse server on loopback: the machine running the test
//! appears as a resource whose metrics match `/proc`.

use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use pulse::app;
use pulse::config::{Secret, Settings};

fn mem_total_bytes() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .unwrap()
        * 1024
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
fn once_reports_this_machine_to_a_real_server() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let system = actix::System::new();
        system.block_on(async move {
            let settings = Settings {
                listen: "127.0.0.1:0".parse().unwrap(),
                metrics_listen: None,
                data_dir: path,
                auth_user: Some("admin".into()),
                auth_pass: Some(Secret::new("agent-test-password")),
                ..Settings::default()
            };
            let running = app::start(settings).await.unwrap();
            let token = running
                .create_token("agent", &["agent:report", "monitoring:read"], None)
                .unwrap();
            tx.send((running.http_addr, token, actix::System::current()))
                .unwrap();
        });
        system.run().unwrap();
    });
    let (addr, token, system) = rx.recv_timeout(Duration::from_secs(30)).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_pulse-agent"))
        .args([
            "--once",
            "--docker",
            "off",
            "--url",
            &format!("http://{addr}"),
            "--token",
            &token,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "agent failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let page: serde_json::Value = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("http://{addr}/api/resources?source=agent"))
            .header("X-API-Token", &token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    system.stop();
    assert_eq!(page["meta"]["total"], 1, "{page}");
    let host = &page["data"][0];
    assert_eq!(host["name"], hostname());
    assert_eq!(host["status"], "online");
    assert_eq!(host["metrics"]["memory"]["total"], mem_total_bytes());
    let cpu = host["metrics"]["cpu"]["value"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&cpu));
    let disk = &host["metrics"]["disk"];
    assert!(disk["total"].as_u64().unwrap() > 0, "{host}");
    let uptime_proc: f64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let uptime = host["uptime"].as_f64().unwrap();
    assert!(
        (uptime - uptime_proc).abs() < 30.0,
        "uptime {uptime} vs /proc {uptime_proc}"
    );
}
