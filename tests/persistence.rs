//! kill -9 and restart: tokens, users and sessions survive; the store reopens cleanly.
//! Also the offline `pulse token create` command (stdout carries only the token).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::process::{kill9, spawn_serve, BIN};
use common::{client, ADMIN_PASS, ADMIN_USER};
use serde_json::json;

/// Starts `pulse serve` on a free loopback port and returns the child and its base URL.
fn spawn_server(data_dir: &std::path::Path) -> (Child, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("PULSE_METRICS_LISTEN", "off")
        .env("PULSE_AUTH_USER", ADMIN_USER)
        .env("PULSE_AUTH_PASS", ADMIN_PASS)
        .env("PULSE_LOG_LEVEL", "warn")
        .stderr(Stdio::null());
    spawn_serve(cmd)
}

#[tokio::test]
async fn tokens_and_users_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let c = client();
    let (mut child, base) = spawn_server(dir.path());

    let login = c
        .post(format!("{base}/api/login"))
        .json(&json!({"username": ADMIN_USER, "password": ADMIN_PASS}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let session = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ");
    let csrf = session
        .split("; ")
        .find_map(|c| c.strip_prefix("pulse_csrf="))
        .unwrap()
        .to_owned();
    let mut tokens = Vec::new();
    for i in 0..20 {
        let resp = c
            .post(format!("{base}/api/security/tokens"))
            .header("cookie", &session)
            .header("X-CSRF-Token", &csrf)
            .json(&json!({"name": format!("t{i}"), "scopes": ["monitoring:read"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let body: serde_json::Value = resp.json().await.unwrap();
        tokens.push(body["token"].as_str().unwrap().to_owned());
    }
    kill9(&mut child);

    let (mut child, base) = spawn_server(dir.path());
    for t in &tokens {
        let resp = c
            .get(format!("{base}/api/state"))
            .header("X-API-Token", t)
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            200,
            "token answered before kill -9 must survive"
        );
    }
    let resp = c
        .get(format!("{base}/api/state"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "session survives a restart");
    let resp = c
        .post(format!("{base}/api/login"))
        .json(&json!({"username": ADMIN_USER, "password": ADMIN_PASS}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    kill9(&mut child);
}

#[test]
fn token_create_prints_only_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "token",
            "create",
            "--name",
            "ci",
            "--scopes",
            "monitoring:read,agent:report",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .expect("run pulse token create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "stdout: {stdout:?}");
    assert!(lines[0].starts_with("pulse_") && lines[0].len() > 40);

    let bad = Command::new(BIN)
        .args([
            "token",
            "create",
            "--name",
            "ci",
            "--scopes",
            "monitoring:everything",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(bad.stdout.is_empty());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("monitoring:everything"));
}

#[tokio::test]
async fn offline_token_works_once_the_server_starts() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "token",
            "create",
            "--name",
            "ci",
            "--scopes",
            "monitoring:read",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let (mut child, base) = spawn_server(dir.path());
    let resp = client()
        .get(format!("{base}/api/state"))
        .header("X-API-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    kill9(&mut child);
    let _ = Duration::from_secs(0);
}

#[test]
fn invalid_configuration_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("pulse.toml");
    std::fs::write(
        &cfg,
        "[server]\nlisten = \"127.0.0.1:0\"\ncolour = \"red\"\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("colour"));

    let out = Command::new(BIN)
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .env("PULSE_LOG_FORMAT", "xml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("PULSE_LOG_FORMAT") && err.contains("xml"),
        "{err}"
    );
}

#[tokio::test]
async fn sighup_reloads_the_file_and_keeps_serving_when_it_is_broken() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("pulse.toml");
    std::fs::write(&cfg, "[ws]\nqueue_capacity = 64\n").unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.path())
        .env("PULSE_METRICS_LISTEN", "off")
        .env("PULSE_AUTH_USER", ADMIN_USER)
        .env("PULSE_AUTH_PASS", ADMIN_PASS)
        .env("PULSE_LOG_LEVEL", "info")
        .env("PULSE_LOG_FORMAT", "json")
        .stderr(Stdio::piped());
    let (mut child, base) = spawn_serve(cmd);
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let wait_for = |needle: &str| {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
                if line.contains(needle) {
                    return line;
                }
            }
        }
        panic!("no log line containing {needle:?}");
    };
    let hup = |pid: u32| {
        Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .unwrap();
    };
    std::fs::write(&cfg, "[ws]\nqueue_capacity = 256\n").unwrap();
    hup(child.id());
    let line = wait_for("configuration reloaded");
    assert!(line.starts_with('{'), "json log format: {line}");
    std::fs::write(&cfg, "[ws]\nqueue_capacity = \"lots\"\n").unwrap();
    hup(child.id());
    let line = wait_for("reload failed");
    assert!(line.contains("queue_capacity"), "{line}");
    let resp = client()
        .get(format!("{base}/api/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    kill9(&mut child);
}
