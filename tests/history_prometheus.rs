//! Resource series for Prometheus (SPEC §9): remote_write into a real Prometheus (Debian's
//! `prometheus` package, started here on loopback with `--web.enable-remote-write-receiver`) and
//! read back through its HTTP API; `/metrics/resources` passes `promtool check metrics`; the
//! sender's auth headers and retries, seen by a loopback receiver that records requests.
//!
//! Outside CI a missing `prometheus`/`promtool` skips those checks with a message; in CI it fails.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{client, TestServer};
use prost::Message;
use pulse::config::{HttpUrl, Secret};
use pulse::history::remote_write::proto::WriteRequest;
use pulse::sim::agents::{gzip_json, host_report};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A real Prometheus on loopback, stopped on drop.
struct Prometheus {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    async fn start() -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, "global:\n  scrape_interval: 1m\n").unwrap();
        let port = common::free_port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--web.enable-remote-write-receiver")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus");
        let prom = Prometheus {
            child,
            port,
            _dir: dir,
        };
        for _ in 0..300 {
            let ready = client().get(prom.url("/-/ready")).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return prom;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("prometheus never became ready");
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Instant query results (`data.result`).
    async fn query(&self, promql: &str) -> Vec<Value> {
        let body: Value = client()
            .get(self.url("/api/v1/query"))
            .query(&[("query", promql)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["status"], "success", "{body}");
        body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn report(srv: &TestServer, token: &str, seed: u64, tick: u64) {
    let resp = client()
        .post(srv.url("/api/agents/agent/report"))
        .header("X-API-Token", token)
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(gzip_json(&host_report(seed, tick)).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

async fn host_id(srv: &TestServer) -> String {
    let token = srv.token(&["monitoring:read"], None);
    let list: Value = client()
        .get(srv.url("/api/resources?type=agent"))
        .header("X-API-Token", token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list["data"][0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn remote_write_reaches_a_real_prometheus() {
    if !common::prom::installed("prometheus") {
        return;
    }
    let prom = Prometheus::start().await;
    let url = HttpUrl::parse(&prom.url("/api/v1/write"), None).unwrap();
    let srv = TestServer::start_with(move |s| {
        s.remote_write_url = Some(url);
        s.remote_write.interval = Duration::from_secs(1);
    });
    let agent = srv.token(&["agent:report"], None);
    report(&srv, &agent, 11, 0).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    report(&srv, &agent, 11, 1).await;
    let id = host_id(&srv).await;
    let expected = host_report(11, 1)["metrics"]["cpuUsagePercent"]
        .as_f64()
        .unwrap();

    let selector = format!("pulse_resource_cpu_percent{{resource_id=\"{id}\"}}");
    let mut found = Vec::new();
    for _ in 0..300 {
        found = prom.query(&selector).await;
        let latest = found
            .first()
            .and_then(|r| r["value"][1].as_str())
            .and_then(|v| v.parse::<f64>().ok());
        if latest == Some(expected) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(found.len(), 1, "{found:?}");
    let metric = &found[0]["metric"];
    assert_eq!(metric["__name__"], "pulse_resource_cpu_percent");
    assert_eq!(metric["resource_type"], "agent");
    assert_eq!(metric["resource_name"], "sim-host-011");
    assert_eq!(metric["source"], "agent");
    assert_eq!(metric["org"], "default");
    assert_eq!(
        found[0]["value"][1]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap(),
        expected
    );
    // Both samples arrived, in order, as one series.
    let range = prom.query(&format!("{selector}[10m]")).await;
    assert_eq!(range[0]["values"].as_array().unwrap().len(), 2, "{range:?}");
    for name in [
        "pulse_resource_status",
        "pulse_resource_memory_percent",
        "pulse_resource_disk_percent",
        "pulse_resource_net_in_bytes_per_second",
        "pulse_resource_temperature_celsius",
    ] {
        let r = prom.query(&format!("{name}{{resource_id=\"{id}\"}}")).await;
        assert_eq!(r.len(), 1, "{name}: {r:?}");
    }
    let status = prom
        .query(&format!("pulse_resource_status{{resource_id=\"{id}\"}}"))
        .await;
    assert_eq!(status[0]["value"][1], "1");

    // The sender's health is exported.
    let text = client()
        .get(format!("http://{}/metrics", srv.metrics_addr.unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("pulse_remote_write_samples_total")
                && l.contains("outcome=\"sent\"")),
        "{text}"
    );
}

#[tokio::test]
async fn metrics_resources_serves_the_same_series_and_passes_promtool() {
    let srv = TestServer::start();
    let agent = srv.token(&["agent:report"], None);
    report(&srv, &agent, 5, 0).await;
    report(&srv, &agent, 5, 1).await;
    let id = host_id(&srv).await;
    let url = format!("http://{}/metrics/resources", srv.metrics_addr.unwrap());
    let mut text = String::new();
    for _ in 0..300 {
        text = client()
            .get(&url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains("pulse_resource_net_in_bytes_per_second{") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let labels = format!(
        "{{org=\"default\",resource_id=\"{id}\",resource_name=\"sim-host-005\",resource_type=\"agent\",source=\"agent\"}}"
    );
    let cpu = host_report(5, 1)["metrics"]["cpuUsagePercent"]
        .as_f64()
        .unwrap();
    assert!(
        text.contains(&format!("pulse_resource_cpu_percent{labels} {cpu}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("pulse_resource_status{labels} 1")),
        "{text}"
    );
    assert!(text.contains("# TYPE pulse_resource_memory_percent gauge"));
    common::prom::assert_promtool_accepts(&text);
}

/// One request as the recording receiver saw it.
#[derive(Debug, Clone)]
struct Seen {
    head: String,
    body: Vec<u8>,
}

/// A loopback HTTP receiver that records every request and answers with `statuses` in turn
/// (the last one repeats).
async fn recording_receiver(statuses: Vec<u16>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        let mut n = 0usize;
        while let Ok((mut stream, _)) = listener.accept().await {
            let status = statuses[n.min(statuses.len() - 1)];
            n += 1;
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            let (head, body) = loop {
                let Ok(read) = stream.read(&mut chunk).await else {
                    return;
                };
                if read == 0 {
                    return;
                }
                buf.extend_from_slice(&chunk[..read]);
                let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                    continue;
                };
                let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len {
                    break (head, buf[end + 4..end + 4 + len].to_vec());
                }
            };
            log.lock().unwrap().push(Seen { head, body });
            let reply =
                format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = stream.write_all(reply.as_bytes()).await;
        }
    });
    (format!("http://{addr}/api/v1/write"), seen)
}

async fn wait_for_requests(seen: &Arc<Mutex<Vec<Seen>>>, n: usize) -> Vec<Seen> {
    for _ in 0..300 {
        let got = seen.lock().unwrap().clone();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("receiver saw fewer than {n} requests");
}

#[tokio::test]
async fn remote_write_sends_auth_and_retries_server_errors() {
    // 503 first: the same batch is sent again after a backoff.
    let (url, seen) = recording_receiver(vec![503, 204]).await;
    let parsed = HttpUrl::parse(&url, None).unwrap();
    let srv = TestServer::start_with(move |s| {
        s.remote_write_url = Some(parsed);
        s.remote_write.interval = Duration::from_secs(1);
        s.remote_write.bearer_token = Some(Secret::new("rw-token-123"));
    });
    let agent = srv.token(&["agent:report"], None);
    report(&srv, &agent, 2, 0).await;
    let got = wait_for_requests(&seen, 2).await;
    assert_eq!(
        got[0].body, got[1].body,
        "the failed batch is retried unchanged"
    );
    let head = &got[1].head;
    assert!(head.starts_with("post /api/v1/write"), "{head}");
    assert!(
        head.contains("authorization: bearer rw-token-123"),
        "{head}"
    );
    assert!(head.contains("content-encoding: snappy"));
    assert!(head.contains("content-type: application/x-protobuf"));
    assert!(head.contains("x-prometheus-remote-write-version: 0.1.0"));
    let raw = snap::raw::Decoder::new()
        .decompress_vec(&got[1].body)
        .unwrap();
    let req = WriteRequest::decode(raw.as_slice()).unwrap();
    assert!(req.timeseries.iter().any(|t| t
        .labels
        .iter()
        .any(|l| l.name == "__name__" && l.value == "pulse_resource_cpu_percent")));
    drop(srv);

    // Basic auth.
    let (url, seen) = recording_receiver(vec![204]).await;
    let parsed = HttpUrl::parse(&url, None).unwrap();
    let srv = TestServer::start_with(move |s| {
        s.remote_write_url = Some(parsed);
        s.remote_write.interval = Duration::from_secs(1);
        s.remote_write.username = Some("writer".into());
        s.remote_write.password = Some(Secret::new("s3cret-pass"));
    });
    let agent = srv.token(&["agent:report"], None);
    report(&srv, &agent, 2, 0).await;
    let got = wait_for_requests(&seen, 1).await;
    // base64("writer:s3cret-pass")
    assert!(
        got[0]
            .head
            .contains("authorization: basic d3jpdgvyonmzy3jldc1wyxnz"),
        "{}",
        got[0].head
    );
}
