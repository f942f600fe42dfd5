//! The Prometheus listener's output passes the real `promtool check metrics`.
//!
//! promtool comes from Debian's `prometheus` package, which `.ci/run` installs. Outside CI a missing
//! promtool skips the check with a message; in CI (CI=true) it is a failure.

mod common;

use common::{client, TestServer};

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
    common::prom::assert_promtool_accepts(&text);
}
