//! The Prometheus listener's output passes the real `promtool check metrics`.
//!
//! promtool comes from Debian's `prometheus` package, which `.ci/run` installs. Outside CI a missing
//! promtool skips the check with a message; in CI (CI=true) it is a failure.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{client, TestServer};

fn promtool() -> Option<String> {
    let found = Command::new("promtool").arg("--version").output().is_ok();
    if found {
        return Some("promtool".into());
    }
    assert!(
        std::env::var("CI").is_err(),
        "promtool is required in CI (Debian package `prometheus`)"
    );
    eprintln!("SKIPPED: promtool not installed (apt-get install prometheus)");
    None
}

#[tokio::test]
async fn metrics_pass_promtool_check() {
    let srv = TestServer::start();
    let c = client();
    // Produce some traffic so counters and histograms have samples.
    let token = srv.token(&["*"], None);
    for path in ["/api/health", "/api/state", "/api/resources", "/api/nope"] {
        let _ = c
            .get(srv.url(path))
            .header("X-API-Token", &token)
            .send()
            .await
            .unwrap();
    }
    let metrics_addr = srv.metrics_addr.expect("metrics listener");
    let text = c
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("pulse_http_requests_total"), "{text}");
    assert!(text.contains("# HELP pulse_http_requests_total"));
    let Some(tool) = promtool() else { return };
    let mut child = Command::new(tool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n--- metrics ---\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
