//! Test harness: a real Pulse server on loopback (port chosen at run time), in its own actix system
//! thread, plus small HTTP helpers. The server stops when the harness is dropped.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use pulse::app::{self, Running};
use pulse::config::Settings;

/// Admin login created for every test server.
pub const ADMIN_USER: &str = "admin";
/// Admin password created for every test server.
pub const ADMIN_PASS: &str = "correct-horse-battery";

/// A running server and what a test needs to reach it.
pub struct TestServer {
    /// Base URL of the main listener, e.g. `http://127.0.0.1:41234`.
    pub base: String,
    /// Address of the main listener.
    pub addr: SocketAddr,
    /// Address of the Prometheus listener.
    pub metrics_addr: Option<SocketAddr>,
    /// Handles into the running server (tenants, store).
    pub running: Running,
    /// The data directory (kept until drop).
    pub data_dir: tempfile::TempDir,
    system: Option<actix::System>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server with default test settings.
    pub fn start() -> TestServer {
        Self::start_with(|_| {})
    }

    /// Starts a server after letting the test adjust its settings.
    pub fn start_with(adjust: impl FnOnce(&mut Settings) + Send + 'static) -> TestServer {
        let data_dir = tempfile::tempdir().expect("tempdir");
        let path: PathBuf = data_dir.path().to_path_buf();
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let system = actix::System::new();
            system.block_on(async move {
                let mut settings = Settings {
                    listen: "127.0.0.1:0".parse().expect("addr"),
                    metrics_listen: Some("127.0.0.1:0".parse().expect("addr")),
                    data_dir: path,
                    auth_user: Some(ADMIN_USER.into()),
                    auth_pass: Some(pulse::config::Secret::new(ADMIN_PASS)),
                    ..Settings::default()
                };
                adjust(&mut settings);
                let running = app::start(settings).await.expect("server starts");
                tx.send((running.clone(), actix::System::current()))
                    .expect("send");
            });
            system.run().expect("system runs");
        });
        let (running, system) = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("server started");
        TestServer {
            base: format!("http://{}", running.http_addr),
            addr: running.http_addr,
            metrics_addr: running.metrics_addr,
            running,
            data_dir,
            system: Some(system),
            thread: Some(thread),
        }
    }

    /// A URL on the main listener.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A `ws://` URL on the main listener.
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    /// Creates an API token with the given scopes through the store (as `pulse token create` does).
    pub fn token(&self, scopes: &[&str], org: Option<&str>) -> String {
        self.running
            .create_token("test", scopes, org)
            .expect("token created")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(system) = self.system.take() {
            system.stop();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An HTTP client for tests (no cookies unless asked).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// An HTTP client that keeps cookies (browser-like sessions).
pub fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .cookie_store(true)
        .build()
        .expect("client")
}

/// Asserts the SPEC §5 error shape and returns the body.
pub async fn expect_error(resp: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(resp.status().as_u16(), status, "status");
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(ct.starts_with("application/json"), "content type {ct}");
    let body: serde_json::Value = resp.json().await.expect("json error body");
    assert_eq!(body["code"], code, "code in {body}");
    assert_eq!(body["status_code"], status, "status_code in {body}");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "error message in {body}"
    );
    assert!(body["timestamp"].as_u64().is_some(), "timestamp in {body}");
    body
}

/// A loopback port nothing listens on right now (bound, then released), for processes a test
/// starts that take their port as an argument.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.local_addr().expect("local addr").port()
}

pub mod process;
pub mod prom;
pub mod proxmox;
pub mod receiver;
pub mod smtp;
pub mod truenas;
pub mod ws;

/// Random source snapshots for driving the registry in tests.
pub mod gen {
    use pulse::model::{
        FacetKey, Identity, MetricKind, MetricValue, Metrics, ParentRef, ResourceType, Source,
        SourceRecord, SourceSnapshot, Status, Timestamp,
    };
    use rand::rngs::StdRng;
    use rand::Rng;

    const SOURCES: [Source; 4] = [
        Source::Agent,
        Source::Proxmox,
        Source::Docker,
        Source::Truenas,
    ];
    const STATUSES: [Status; 4] = [
        Status::Online,
        Status::Offline,
        Status::Warning,
        Status::Unknown,
    ];

    /// A random snapshot for `scope` with up to `max` records (ids drawn from a small space so that
    /// consecutive snapshots overlap: changes, additions and removals).
    pub fn snapshot(
        rng: &mut StdRng,
        scope_index: usize,
        max: usize,
        now_ms: i64,
    ) -> SourceSnapshot {
        let source = SOURCES[scope_index % SOURCES.len()];
        let n = rng.gen_range(0..=max);
        let mut ids: Vec<usize> = (0..n).map(|_| rng.gen_range(0..max * 2)).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut records = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let kind = if i == 0 {
                ResourceType::Agent
            } else {
                ResourceType::AppContainer
            };
            let mut r = SourceRecord::new(
                format!("s{scope_index}-r{id}"),
                kind,
                format!("res-{scope_index}-{id}-{}", rng.gen_range(0..3)),
                STATUSES[rng.gen_range(0..STATUSES.len())],
            );
            r.metrics = Metrics::new()
                .with(
                    MetricKind::Cpu,
                    Some(MetricValue {
                        value: Some(f64::from(rng.gen_range(0..1000)) / 10.0),
                        unit: "percent".into(),
                        ..MetricValue::default()
                    }),
                )
                .with(
                    MetricKind::Memory,
                    rng.gen_bool(0.7).then(|| {
                        let used = rng.gen_range(0..100u64);
                        MetricValue {
                            used: Some(used),
                            total: Some(100),
                            percent: Some(used as f64),
                            unit: "bytes".into(),
                            ..MetricValue::default()
                        }
                    }),
                );
            r.tags = (0..rng.gen_range(0..3))
                .map(|t| format!("tag{t}"))
                .collect();
            r.identity = Identity::default();
            if i > 0 && rng.gen_bool(0.5) {
                r.parent = Some(ParentRef::SourceId(format!("s{scope_index}-r{}", ids[0])));
            }
            if rng.gen_bool(0.3) {
                r.facets.insert(
                    FacetKey::of_source(source),
                    serde_json::json!({"note": rng.gen_range(0..5), "nested": {"a": rng.gen_bool(0.5)}}),
                );
            }
            records.push(r);
        }
        SourceSnapshot {
            source,
            scope: format!("test:{scope_index}"),
            observed_at: Timestamp::from_millis(now_ms),
            records,
        }
    }
}
