//! Docker Engine API simulator: a fake `dockerd` on a unix socket.
//!
//! It answers the read-only part of the Engine API (v1.47 shapes) that monitoring agents use:
//! `GET /_ping`, `/version`, `/info`, `/containers/json`, `/containers/{id}/json` and
//! `/containers/{id}/stats`, with or without a `/v1.xx` version prefix. The fleet is fixed and
//! chosen to cover what a monitor must get right:
//!
//! | name      | state      | notes                                                          |
//! |-----------|------------|----------------------------------------------------------------|
//! | `web`     | running    | healthy, compose labels, ports 80→8080 on IPv4 and IPv6, 443   |
//! | `api`     | running    | **unhealthy**, failing streak 3 with a health log              |
//! | `db`      | running    | no health check, restart count 2, 1 GiB memory limit           |
//! | `worker`  | restarting | exit code 1, restart count 17                                  |
//! | `batch`   | exited     | **OOM-killed**, exit code 137                                  |
//! | `migrate` | exited     | exit code 0, compose one-off                                   |
//!
//! Counters (CPU time, network, block I/O) grow with wall time so consecutive stats differ the
//! way real ones do. Large bodies are sent with `Transfer-Encoding: chunked` and small ones with
//! `Content-Length`, as the Go HTTP server behind `dockerd` does, so clients exercise both.
//!
//! Only `std` and `serde_json` are used: the file is also compiled into the agent's tests.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

/// Engine version the simulator claims to be.
const ENGINE_VERSION: &str = "27.3.1";
/// Engine API version the simulator claims to speak.
const API_VERSION: &str = "1.47";
/// Kernel the simulated daemon runs on.
const KERNEL: &str = "6.8.0-45-generic";
/// Logical CPUs of the simulated host.
const NCPU: u64 = 8;
/// Memory of the simulated host in bytes (32 GiB).
const MEM_TOTAL: u64 = 32 * 1024 * 1024 * 1024;
/// Bodies at least this large are sent chunked, like Go's `net/http` does past its buffer.
const CHUNKED_FROM: usize = 2048;
/// Longest request head the simulator accepts.
const MAX_HEAD: usize = 16 * 1024;

/// A running simulated Docker daemon. Dropping it stops the server and removes the socket.
pub struct DockerEngineSim {
    socket: PathBuf,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl DockerEngineSim {
    /// Binds `socket` (replacing a stale socket file) and serves the fleet on a background thread.
    pub fn start(socket: impl Into<PathBuf>) -> io::Result<Self> {
        let socket = socket.into();
        if socket.exists() {
            std::fs::remove_file(&socket)?;
        }
        let listener = UnixListener::bind(&socket)?;
        let stop = Arc::new(AtomicBool::new(false));
        let fleet = Arc::new(Fleet::new(SystemTime::now()));
        let accept = {
            let stop = Arc::clone(&stop);
            thread::Builder::new()
                .name("docker-engine-sim".into())
                .spawn(move || accept_loop(&listener, &fleet, &stop))?
        };
        Ok(Self {
            socket,
            stop,
            accept: Some(accept),
        })
    }

    /// Path of the unix socket clients connect to.
    pub fn socket_path(&self) -> &Path {
        &self.socket
    }
}

impl Drop for DockerEngineSim {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so the thread sees the flag.
        let _ = UnixStream::connect(&self.socket);
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}

fn accept_loop(listener: &UnixListener, fleet: &Arc<Fleet>, stop: &Arc<AtomicBool>) {
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(conn) = conn else { continue };
        let fleet = Arc::clone(fleet);
        let stop = Arc::clone(stop);
        let _ = thread::Builder::new()
            .name("docker-engine-sim-conn".into())
            .spawn(move || {
                let _ = serve_connection(conn, &fleet, &stop);
            });
    }
}

/// One parsed request: method, path without query, query pairs, and whether to close after it.
struct Request {
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    close: bool,
}

fn serve_connection(conn: UnixStream, fleet: &Fleet, stop: &AtomicBool) -> io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut writer = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    while !stop.load(Ordering::SeqCst) {
        let Some(req) = read_request(&mut reader)? else {
            return Ok(());
        };
        let close = req.close;
        let reply = route(&req, fleet);
        match reply {
            Reply::Json(status, body) => write_json(&mut writer, status, &body, close)?,
            Reply::Text(text) => write_response(
                &mut writer,
                200,
                "text/plain; charset=utf-8",
                text.as_bytes(),
                close,
            )?,
            Reply::StatsStream(idx, one_shot) => {
                return stream_stats(&mut writer, fleet, idx, one_shot, stop)
            }
        }
        if close {
            return Ok(());
        }
    }
    Ok(())
}

fn read_request(reader: &mut impl BufRead) -> io::Result<Option<Request>> {
    let mut line = String::new();
    let mut head_len = 0;
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    head_len += line.len();
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or("/").to_string();
    let http10 = parts.next() == Some("HTTP/1.0");
    let mut close = http10;
    let mut content_length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 {
            return Ok(None);
        }
        head_len += header.len();
        if head_len > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too large",
            ));
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            } else if name.eq_ignore_ascii_case("content-length") {
                content_length = value.parse().unwrap_or(0);
            }
        }
    }
    // Read and discard any request body.
    io::copy(
        &mut reader.by_ref().take(content_length as u64),
        &mut io::sink(),
    )?;
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), parse_query(q)),
        None => (target, BTreeMap::new()),
    };
    Ok(Some(Request {
        method,
        path: strip_version(&path).to_string(),
        query,
        close,
    }))
}

fn parse_query(q: &str) -> BTreeMap<String, String> {
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (kv.to_string(), String::new()),
        })
        .collect()
}

/// Removes a leading `/v1.xx` API version segment.
fn strip_version(path: &str) -> &str {
    if let Some(rest) = path.strip_prefix("/v") {
        if let Some(slash) = rest.find('/') {
            let version = &rest[..slash];
            if !version.is_empty() && version.chars().all(|c| c.is_ascii_digit() || c == '.') {
                return &rest[slash..];
            }
        }
    }
    path
}

fn query_true(req: &Request, key: &str) -> Option<bool> {
    req.query
        .get(key)
        .map(|v| matches!(v.as_str(), "1" | "true" | "True" | "TRUE"))
}

enum Reply {
    Json(u16, Value),
    Text(&'static str),
    StatsStream(usize, bool),
}

fn not_found(what: &str) -> Reply {
    Reply::Json(404, json!({ "message": what }))
}

fn route(req: &Request, fleet: &Fleet) -> Reply {
    if req.method != "GET" && req.method != "HEAD" {
        return Reply::Json(
            405,
            json!({ "message": "method not allowed by the simulator" }),
        );
    }
    let segments: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["_ping"] => Reply::Text("OK"),
        ["version"] => Reply::Json(200, version_json()),
        ["info"] => Reply::Json(200, fleet.info_json()),
        ["containers", "json"] => {
            let all = query_true(req, "all").unwrap_or(false);
            Reply::Json(200, fleet.list_json(all))
        }
        ["containers", id, "json"] => match fleet.find(id) {
            Some(idx) => Reply::Json(200, fleet.inspect_json(idx)),
            None => not_found(&format!("No such container: {id}")),
        },
        ["containers", id, "stats"] => match fleet.find(id) {
            Some(idx) => {
                let one_shot = query_true(req, "one-shot").unwrap_or(false);
                if query_true(req, "stream").unwrap_or(true) {
                    Reply::StatsStream(idx, one_shot)
                } else {
                    Reply::Json(200, fleet.stats_json(idx, SystemTime::now(), one_shot))
                }
            }
            None => not_found(&format!("No such container: {id}")),
        },
        _ => not_found("page not found"),
    }
}

fn status_text(status: u16) -> &'static str {
    match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Internal Server Error",
    }
}

fn common_headers(out: &mut Vec<u8>, status: u16, content_type: &str) {
    out.extend_from_slice(format!("HTTP/1.1 {status} {}\r\n", status_text(status)).as_bytes());
    out.extend_from_slice(format!("Api-Version: {API_VERSION}\r\n").as_bytes());
    out.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
    out.extend_from_slice(b"Docker-Experimental: false\r\nOstype: linux\r\n");
    out.extend_from_slice(format!("Server: Docker/{ENGINE_VERSION} (linux)\r\n").as_bytes());
    out.extend_from_slice(format!("Date: {}\r\n", http_date(SystemTime::now())).as_bytes());
}

fn write_json(w: &mut impl Write, status: u16, body: &Value, close: bool) -> io::Result<()> {
    let mut bytes = serde_json::to_vec(body).map_err(io::Error::other)?;
    bytes.push(b'\n');
    write_response(w, status, "application/json", &bytes, close)
}

fn write_response(
    w: &mut impl Write,
    status: u16,
    content_type: &str,
    body: &[u8],
    close: bool,
) -> io::Result<()> {
    let mut out = Vec::with_capacity(body.len() + 512);
    common_headers(&mut out, status, content_type);
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    if body.len() >= CHUNKED_FROM {
        out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
        // Uneven chunk sizes, so clients cannot get away with assuming one chunk.
        for chunk in body.chunks(1000) {
            out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            out.extend_from_slice(chunk);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
    } else {
        out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        out.extend_from_slice(body);
    }
    w.write_all(&out)?;
    w.flush()
}

/// `stream=true` stats: one JSON document per second, chunked, until the client goes away.
fn stream_stats(
    w: &mut impl Write,
    fleet: &Fleet,
    idx: usize,
    one_shot: bool,
    stop: &AtomicBool,
) -> io::Result<()> {
    let mut head = Vec::new();
    common_headers(&mut head, 200, "application/json");
    head.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
    w.write_all(&head)?;
    while !stop.load(Ordering::SeqCst) {
        let mut doc = serde_json::to_vec(&fleet.stats_json(idx, SystemTime::now(), one_shot))
            .map_err(io::Error::other)?;
        doc.push(b'\n');
        w.write_all(format!("{:x}\r\n", doc.len()).as_bytes())?;
        w.write_all(&doc)?;
        w.write_all(b"\r\n")?;
        w.flush()?;
        thread::sleep(Duration::from_secs(1));
    }
    w.write_all(b"0\r\n\r\n")
}

fn version_json() -> Value {
    json!({
        "Platform": { "Name": "Docker Engine - Community" },
        "Components": [
            { "Name": "Engine", "Version": ENGINE_VERSION, "Details": {
                "ApiVersion": API_VERSION, "Arch": "amd64", "BuildTime": "2024-09-20T11:41:03.000000000+00:00",
                "Experimental": "false", "GitCommit": "41ca978", "GoVersion": "go1.22.7",
                "KernelVersion": KERNEL, "MinAPIVersion": "1.24", "Os": "linux" } },
            { "Name": "containerd", "Version": "1.7.22", "Details": { "GitCommit": "7f7fdf5fed64eb6a7caf99b3e12efcf9d60e311c" } },
            { "Name": "runc", "Version": "1.1.14", "Details": { "GitCommit": "v1.1.14-0-g2c9f560" } },
            { "Name": "docker-init", "Version": "0.19.0", "Details": { "GitCommit": "de40ad0" } }
        ],
        "Version": ENGINE_VERSION,
        "ApiVersion": API_VERSION,
        "MinAPIVersion": "1.24",
        "GitCommit": "41ca978",
        "GoVersion": "go1.22.7",
        "Os": "linux",
        "Arch": "amd64",
        "KernelVersion": KERNEL,
        "BuildTime": "2024-09-20T11:41:03.000000000+00:00"
    })
}

/// Run state of a simulated container.
#[derive(Clone, Copy, PartialEq)]
enum RunState {
    Running,
    Restarting,
    Exited,
}

impl RunState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Restarting => "restarting",
            Self::Exited => "exited",
        }
    }
}

/// Health check result of a simulated container.
#[derive(Clone, Copy)]
enum Health {
    Healthy,
    Unhealthy,
}

/// Published or exposed port: (private, public, protocol); public 0 means exposed only.
type Port = (u16, u16, &'static str);

/// One simulated container; times are seconds before the simulator started.
struct Container {
    id: String,
    name: &'static str,
    image: &'static str,
    command: &'static str,
    state: RunState,
    health: Option<Health>,
    restart_count: u64,
    exit_code: i64,
    oom_killed: bool,
    created_ago: u64,
    started_ago: u64,
    finished_ago: Option<u64>,
    labels: Vec<(&'static str, &'static str)>,
    ports: Vec<Port>,
    ip: &'static str,
    cpu_percent: f64,
    mem_usage: u64,
    mem_inactive_file: u64,
    mem_limit: u64,
    rx_per_s: u64,
    tx_per_s: u64,
    read_per_s: u64,
    write_per_s: u64,
}

fn compose(
    project: &'static str,
    service: &'static str,
    number: &'static str,
) -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "com.docker.compose.config-hash",
            "9f2c1a7e4d0b5c83f6a1e2d4b7c9085e3a6f1d2c4b8e7a90f5c3d2e1b0a99887",
        ),
        ("com.docker.compose.container-number", number),
        ("com.docker.compose.depends_on", ""),
        (
            "com.docker.compose.image",
            "sha256:5ef79149e0ec84a7a9f9284c3f91aa3c20608f8391f5445eabe92ef07dbda03c",
        ),
        ("com.docker.compose.oneoff", "False"),
        ("com.docker.compose.project", project),
        (
            "com.docker.compose.project.config_files",
            "/srv/shop/compose.yaml",
        ),
        ("com.docker.compose.project.working_dir", "/srv/shop"),
        ("com.docker.compose.service", service),
        ("com.docker.compose.version", "2.29.7"),
    ]
}

fn hex_id(seed: &str) -> String {
    // A deterministic 64-hex id derived from the name (FNV-1a rounds), stable across runs.
    let mut out = String::with_capacity(64);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for round in 0u8..4 {
        for b in seed.bytes().chain([round]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out
}

/// The simulated host and its containers.
struct Fleet {
    boot: SystemTime,
    containers: Vec<Container>,
}

impl Fleet {
    fn new(boot: SystemTime) -> Self {
        const MIB: u64 = 1024 * 1024;
        let batch_labels = vec![
            ("com.example.schedule", "0 3 * * *"),
            ("org.opencontainers.image.title", "nightly-report"),
        ];
        let mut migrate_labels = compose("shop", "migrate", "1");
        for label in &mut migrate_labels {
            if label.0 == "com.docker.compose.oneoff" {
                label.1 = "True";
            }
        }
        let containers = vec![
            Container {
                id: hex_id("web"),
                name: "web",
                image: "nginx:1.27-alpine",
                command: "/docker-entrypoint.sh nginx -g 'daemon off;'",
                state: RunState::Running,
                health: Some(Health::Healthy),
                restart_count: 0,
                exit_code: 0,
                oom_killed: false,
                created_ago: 9 * 86_400,
                started_ago: 3 * 86_400 + 3_600,
                finished_ago: None,
                labels: compose("shop", "web", "1"),
                ports: vec![(80, 8080, "tcp"), (443, 8443, "tcp")],
                ip: "172.18.0.2",
                cpu_percent: 1.5,
                mem_usage: 48 * MIB,
                mem_inactive_file: 12 * MIB,
                mem_limit: MEM_TOTAL,
                rx_per_s: 120_000,
                tx_per_s: 480_000,
                read_per_s: 0,
                write_per_s: 2_000,
            },
            Container {
                id: hex_id("api"),
                name: "api",
                image: "ghcr.io/acme/shop-api:2.3.1",
                command: "node dist/server.js",
                state: RunState::Running,
                health: Some(Health::Unhealthy),
                restart_count: 0,
                exit_code: 0,
                oom_killed: false,
                created_ago: 9 * 86_400,
                started_ago: 2 * 3_600,
                finished_ago: None,
                labels: compose("shop", "api", "1"),
                ports: vec![(3000, 0, "tcp")],
                ip: "172.18.0.3",
                cpu_percent: 37.25,
                mem_usage: 612 * MIB,
                mem_inactive_file: 100 * MIB,
                mem_limit: 1024 * MIB,
                rx_per_s: 80_000,
                tx_per_s: 95_000,
                read_per_s: 1_000,
                write_per_s: 8_000,
            },
            Container {
                id: hex_id("db"),
                name: "db",
                image: "postgres:16.4",
                command: "docker-entrypoint.sh postgres",
                state: RunState::Running,
                health: None,
                restart_count: 2,
                exit_code: 0,
                oom_killed: false,
                created_ago: 40 * 86_400,
                started_ago: 6 * 86_400,
                finished_ago: Some(6 * 86_400 + 10),
                labels: compose("shop", "db", "1"),
                ports: vec![(5432, 0, "tcp")],
                ip: "172.18.0.4",
                cpu_percent: 12.0,
                mem_usage: 900 * MIB,
                mem_inactive_file: 500 * MIB,
                mem_limit: 1024 * MIB,
                rx_per_s: 40_000,
                tx_per_s: 60_000,
                read_per_s: 250_000,
                write_per_s: 400_000,
            },
            Container {
                id: hex_id("worker"),
                name: "worker",
                image: "ghcr.io/acme/shop-worker:2.3.1",
                command: "python -m worker",
                state: RunState::Restarting,
                health: None,
                restart_count: 17,
                exit_code: 1,
                oom_killed: false,
                created_ago: 9 * 86_400,
                started_ago: 20,
                finished_ago: Some(12),
                labels: compose("shop", "worker", "1"),
                ports: vec![],
                ip: "",
                cpu_percent: 0.0,
                mem_usage: 0,
                mem_inactive_file: 0,
                mem_limit: 0,
                rx_per_s: 0,
                tx_per_s: 0,
                read_per_s: 0,
                write_per_s: 0,
            },
            Container {
                id: hex_id("batch"),
                name: "batch",
                image: "registry.example.com/reports/nightly:2024.10",
                command: "/usr/local/bin/run-report --all",
                state: RunState::Exited,
                health: None,
                restart_count: 0,
                exit_code: 137,
                oom_killed: true,
                created_ago: 86_400,
                started_ago: 3 * 3_600,
                finished_ago: Some(2 * 3_600),
                labels: batch_labels,
                ports: vec![],
                ip: "",
                cpu_percent: 0.0,
                mem_usage: 0,
                mem_inactive_file: 0,
                mem_limit: 0,
                rx_per_s: 0,
                tx_per_s: 0,
                read_per_s: 0,
                write_per_s: 0,
            },
            Container {
                id: hex_id("migrate"),
                name: "migrate",
                image: "ghcr.io/acme/shop-api:2.3.1",
                command: "node dist/migrate.js",
                state: RunState::Exited,
                health: None,
                restart_count: 0,
                exit_code: 0,
                oom_killed: false,
                created_ago: 3 * 86_400 + 400,
                started_ago: 3 * 86_400 + 300,
                finished_ago: Some(3 * 86_400 + 240),
                labels: migrate_labels,
                ports: vec![],
                ip: "",
                cpu_percent: 0.0,
                mem_usage: 0,
                mem_inactive_file: 0,
                mem_limit: 0,
                rx_per_s: 0,
                tx_per_s: 0,
                read_per_s: 0,
                write_per_s: 0,
            },
        ];
        Self { boot, containers }
    }

    fn find(&self, id_or_name: &str) -> Option<usize> {
        let name = id_or_name.trim_start_matches('/');
        self.containers
            .iter()
            .position(|c| c.name == name || c.id == name)
            .or_else(|| {
                // Docker accepts any unique id prefix.
                let matches: Vec<usize> = (0..self.containers.len())
                    .filter(|&i| name.len() >= 3 && self.containers[i].id.starts_with(name))
                    .collect();
                (matches.len() == 1).then(|| matches[0])
            })
    }

    fn at(&self, seconds_before_boot: u64) -> SystemTime {
        self.boot - Duration::from_secs(seconds_before_boot)
    }

    fn info_json(&self) -> Value {
        let count = |s: RunState| self.containers.iter().filter(|c| c.state == s).count();
        // Built in parts: one json! literal this large exceeds the default macro recursion limit.
        let counts = json!({
            "ID": "7c1f4e0b-3d52-4c8e-9a61-2f7d8b3e5a10",
            "Containers": self.containers.len(),
            "ContainersRunning": count(RunState::Running),
            "ContainersPaused": 0,
            "ContainersStopped": count(RunState::Exited) + count(RunState::Restarting),
            "Images": 9,
            "Driver": "overlay2",
            "DriverStatus": [
                ["Backing Filesystem", "extfs"],
                ["Supports d_type", "true"],
                ["Using metacopy", "false"],
                ["Native Overlay Diff", "true"],
                ["userxattr", "false"]
            ],
            "Plugins": {
                "Volume": ["local"],
                "Network": ["bridge", "host", "ipvlan", "macvlan", "null", "overlay"],
                "Authorization": null,
                "Log": ["awslogs", "fluentd", "gcplogs", "gelf", "journald", "json-file", "local", "splunk", "syslog"]
            }
        });
        let features = json!({
            "MemoryLimit": true,
            "SwapLimit": true,
            "CpuCfsPeriod": true,
            "CpuCfsQuota": true,
            "CPUShares": true,
            "CPUSet": true,
            "PidsLimit": true,
            "IPv4Forwarding": true,
            "Debug": false,
            "NFd": 63,
            "OomKillDisable": false,
            "NGoroutines": 87,
            "SystemTime": rfc3339(SystemTime::now()),
            "LoggingDriver": "json-file",
            "CgroupDriver": "systemd",
            "CgroupVersion": "2",
            "NEventsListener": 0
        });
        let system = json!({
            "KernelVersion": KERNEL,
            "OperatingSystem": "Ubuntu 24.04.1 LTS",
            "OSVersion": "24.04",
            "OSType": "linux",
            "Architecture": "x86_64",
            "IndexServerAddress": "https://index.docker.io/v1/",
            "NCPU": NCPU,
            "MemTotal": MEM_TOTAL,
            "DockerRootDir": "/var/lib/docker",
            "HttpProxy": "",
            "HttpsProxy": "",
            "NoProxy": "",
            "Name": "docker-host-01",
            "Labels": [],
            "ExperimentalBuild": false,
            "ServerVersion": ENGINE_VERSION
        });
        let runtime = json!({
            "Runtimes": { "io.containerd.runc.v2": { "path": "runc" }, "runc": { "path": "runc" } },
            "DefaultRuntime": "runc",
            "Swarm": { "NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive", "ControlAvailable": false, "Error": "", "RemoteManagers": null },
            "LiveRestoreEnabled": false,
            "Isolation": "",
            "InitBinary": "docker-init",
            "ContainerdCommit": { "ID": "7f7fdf5fed64eb6a7caf99b3e12efcf9d60e311c" },
            "RuncCommit": { "ID": "v1.1.14-0-g2c9f560" },
            "InitCommit": { "ID": "de40ad0" },
            "SecurityOptions": ["name=apparmor", "name=seccomp,profile=builtin", "name=cgroupns"],
            "Warnings": null
        });
        let mut info = serde_json::Map::new();
        for part in [counts, features, system, runtime] {
            if let Value::Object(map) = part {
                info.extend(map);
            }
        }
        Value::Object(info)
    }

    fn status_line(&self, c: &Container) -> String {
        let now = SystemTime::now();
        match c.state {
            RunState::Running => {
                let up = human_duration(since(self.at(c.started_ago), now));
                match c.health {
                    Some(Health::Healthy) => format!("Up {up} (healthy)"),
                    Some(Health::Unhealthy) => format!("Up {up} (unhealthy)"),
                    None => format!("Up {up}"),
                }
            }
            RunState::Restarting => format!(
                "Restarting ({}) {} ago",
                c.exit_code,
                human_duration(since(self.at(c.finished_ago.unwrap_or(0)), now))
            ),
            RunState::Exited => format!(
                "Exited ({}) {} ago",
                c.exit_code,
                human_duration(since(self.at(c.finished_ago.unwrap_or(0)), now))
            ),
        }
    }

    fn ports_json(c: &Container) -> Value {
        let mut ports = Vec::new();
        for &(private, public, proto) in &c.ports {
            if public == 0 {
                ports.push(json!({ "PrivatePort": private, "Type": proto }));
            } else {
                ports.push(json!({ "IP": "0.0.0.0", "PrivatePort": private, "PublicPort": public, "Type": proto }));
                ports.push(json!({ "IP": "::", "PrivatePort": private, "PublicPort": public, "Type": proto }));
            }
        }
        Value::Array(ports)
    }

    fn labels_json(c: &Container) -> Value {
        let map: serde_json::Map<String, Value> = c
            .labels
            .iter()
            .map(|(k, v)| ((*k).to_string(), Value::from(*v)))
            .collect();
        Value::Object(map)
    }

    fn networks_json(c: &Container) -> Value {
        let running = c.state == RunState::Running;
        json!({
            "shop_default": {
                "IPAMConfig": null,
                "Links": null,
                "Aliases": null,
                "MacAddress": if running { format!("02:42:ac:12:00:{:02x}", c.ip.rsplit('.').next().and_then(|s| s.parse::<u8>().ok()).unwrap_or(0)) } else { String::new() },
                "NetworkID": "3f9d0c3b8c4b1e2f4a5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3",
                "EndpointID": if running { hex_id(c.name) } else { String::new() },
                "Gateway": if running { "172.18.0.1" } else { "" },
                "IPAddress": c.ip,
                "IPPrefixLen": if running { 16 } else { 0 },
                "IPv6Gateway": "",
                "GlobalIPv6Address": "",
                "GlobalIPv6PrefixLen": 0,
                "DriverOpts": null,
                "DNSNames": null
            }
        })
    }

    fn list_json(&self, all: bool) -> Value {
        let list: Vec<Value> = self
            .containers
            .iter()
            .filter(|c| all || c.state == RunState::Running)
            .map(|c| {
                json!({
                    "Id": c.id,
                    "Names": [format!("/{}", c.name)],
                    "Image": c.image,
                    "ImageID": format!("sha256:{}", hex_id(c.image)),
                    "Command": c.command,
                    "Created": unix(self.at(c.created_ago)),
                    "Ports": Self::ports_json(c),
                    "Labels": Self::labels_json(c),
                    "State": c.state.as_str(),
                    "Status": self.status_line(c),
                    "HostConfig": { "NetworkMode": "shop_default" },
                    "NetworkSettings": { "Networks": Self::networks_json(c) },
                    "Mounts": []
                })
            })
            .collect();
        Value::Array(list)
    }

    fn inspect_json(&self, idx: usize) -> Value {
        let c = &self.containers[idx];
        let started = rfc3339(self.at(c.started_ago));
        let finished = c
            .finished_ago
            .map(|s| rfc3339(self.at(s)))
            .unwrap_or_else(|| "0001-01-01T00:00:00Z".to_string());
        let health = c.health.map(|h| {
            let (status, streak, code, output) = match h {
                Health::Healthy => ("healthy", 0, 0, "ok\n"),
                Health::Unhealthy => (
                    "unhealthy",
                    3,
                    1,
                    "curl: (7) Failed to connect to localhost port 3000 after 0 ms: Couldn't connect to server\n",
                ),
            };
            let log: Vec<Value> = (0..3u64)
                .map(|i| {
                    let start = SystemTime::now() - Duration::from_secs(30 * (3 - i));
                    json!({
                        "Start": rfc3339(start),
                        "End": rfc3339(start + Duration::from_millis(42)),
                        "ExitCode": code,
                        "Output": output
                    })
                })
                .collect();
            json!({ "Status": status, "FailingStreak": streak, "Log": log })
        });
        let mut state = json!({
            "Status": c.state.as_str(),
            "Running": c.state != RunState::Exited,
            "Paused": false,
            "Restarting": c.state == RunState::Restarting,
            "OOMKilled": c.oom_killed,
            "Dead": false,
            "Pid": if c.state == RunState::Running { 4000 + idx as u64 * 17 } else { 0 },
            "ExitCode": c.exit_code,
            "Error": "",
            "StartedAt": started,
            "FinishedAt": finished
        });
        if let (Some(health), Some(obj)) = (health, state.as_object_mut()) {
            obj.insert("Health".into(), health);
        }
        let healthcheck = c.health.map(|_| {
            json!({ "Test": ["CMD-SHELL", "curl -fsS http://localhost/health || exit 1"], "Interval": 30_000_000_000u64, "Timeout": 5_000_000_000u64, "Retries": 3 })
        });
        let mut exposed = serde_json::Map::new();
        let mut bindings = serde_json::Map::new();
        let mut port_map = serde_json::Map::new();
        for &(private, public, proto) in &c.ports {
            let key = format!("{private}/{proto}");
            exposed.insert(key.clone(), json!({}));
            if public == 0 {
                port_map.insert(key, Value::Null);
            } else {
                bindings.insert(
                    key.clone(),
                    json!([{ "HostIp": "", "HostPort": public.to_string() }]),
                );
                port_map.insert(
                    key,
                    json!([{ "HostIp": "0.0.0.0", "HostPort": public.to_string() }, { "HostIp": "::", "HostPort": public.to_string() }]),
                );
            }
        }
        let mut config = json!({
            "Hostname": &c.id[..12],
            "Domainname": "",
            "User": "",
            "AttachStdin": false,
            "AttachStdout": true,
            "AttachStderr": true,
            "ExposedPorts": exposed,
            "Tty": false,
            "OpenStdin": false,
            "StdinOnce": false,
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TZ=UTC"],
            "Cmd": c.command.split(' ').collect::<Vec<_>>(),
            "Image": c.image,
            "Volumes": null,
            "WorkingDir": "",
            "Entrypoint": null,
            "OnBuild": null,
            "Labels": Self::labels_json(c),
            "StopSignal": "SIGTERM"
        });
        if let (Some(hc), Some(obj)) = (healthcheck, config.as_object_mut()) {
            obj.insert("Healthcheck".into(), hc);
        }
        json!({
            "Id": c.id,
            "Created": rfc3339(self.at(c.created_ago)),
            "Path": c.command.split(' ').next().unwrap_or_default(),
            "Args": c.command.split(' ').skip(1).collect::<Vec<_>>(),
            "State": state,
            "Image": format!("sha256:{}", hex_id(c.image)),
            "ResolvConfPath": format!("/var/lib/docker/containers/{}/resolv.conf", c.id),
            "HostnamePath": format!("/var/lib/docker/containers/{}/hostname", c.id),
            "HostsPath": format!("/var/lib/docker/containers/{}/hosts", c.id),
            "LogPath": format!("/var/lib/docker/containers/{0}/{0}-json.log", c.id),
            "Name": format!("/{}", c.name),
            "RestartCount": c.restart_count,
            "Driver": "overlay2",
            "Platform": "linux",
            "MountLabel": "",
            "ProcessLabel": "",
            "AppArmorProfile": "docker-default",
            "ExecIDs": null,
            "HostConfig": {
                "Binds": null,
                "NetworkMode": "shop_default",
                "PortBindings": bindings,
                "RestartPolicy": { "Name": if c.name == "migrate" { "no" } else { "unless-stopped" }, "MaximumRetryCount": 0 },
                "AutoRemove": false,
                "Memory": if c.mem_limit == MEM_TOTAL { 0 } else { c.mem_limit },
                "NanoCpus": 0,
                "CpuShares": 0,
                "OomKillDisable": null,
                "PidsLimit": null
            },
            "GraphDriver": { "Name": "overlay2", "Data": { "MergedDir": format!("/var/lib/docker/overlay2/{}/merged", hex_id(c.name)) } },
            "Mounts": [],
            "Config": config,
            "NetworkSettings": {
                "Bridge": "",
                "SandboxID": if c.state == RunState::Running { hex_id(&format!("sandbox-{}", c.name)) } else { String::new() },
                "SandboxKey": "",
                "Ports": port_map,
                "Networks": Self::networks_json(c)
            }
        })
    }

    fn stats_json(&self, idx: usize, now: SystemTime, one_shot: bool) -> Value {
        let c = &self.containers[idx];
        let zero_time = "0001-01-01T00:00:00Z";
        if c.state != RunState::Running {
            // What dockerd returns for a container that is not running: empty stats.
            return json!({
                "name": format!("/{}", c.name), "id": c.id,
                "read": zero_time, "preread": zero_time,
                "pids_stats": {}, "blkio_stats": { "io_service_bytes_recursive": null, "io_serviced_recursive": null,
                    "io_queue_recursive": null, "io_service_time_recursive": null, "io_wait_time_recursive": null,
                    "io_merged_recursive": null, "io_time_recursive": null, "sectors_recursive": null },
                "num_procs": 0, "storage_stats": {},
                "cpu_stats": empty_cpu(),
                "precpu_stats": empty_cpu(),
                "memory_stats": {}
            });
        }
        let up_ns = |t: SystemTime| since(self.at(c.started_ago), t).as_nanos() as u64;
        let boot_ns = |t: SystemTime| since(self.at(86_400 * 60), t).as_nanos() as u64;
        let cpu = |t: SystemTime| {
            // Container CPU time grows at cpu_percent of one CPU (`docker stats` 100 % = a core).
            let total = (up_ns(t) as f64 * c.cpu_percent / 100.0) as u64;
            json!({
                "cpu_usage": {
                    "total_usage": total,
                    "usage_in_kernelmode": total / 4,
                    "usage_in_usermode": total - total / 4
                },
                "system_cpu_usage": boot_ns(t) * NCPU,
                "online_cpus": NCPU,
                "throttling_data": { "periods": 0, "throttled_periods": 0, "throttled_time": 0 }
            })
        };
        let pre = now - Duration::from_secs(1);
        let precpu = if one_shot { empty_cpu() } else { cpu(pre) };
        let up_s = since(self.at(c.started_ago), now).as_secs();
        let anon = c
            .mem_usage
            .saturating_sub(c.mem_inactive_file + c.mem_usage / 8);
        json!({
            "name": format!("/{}", c.name),
            "id": c.id,
            "read": rfc3339(now),
            "preread": if one_shot { zero_time.to_string() } else { rfc3339(pre) },
            "pids_stats": { "current": 5 + idx as u64, "limit": 38_329 },
            "blkio_stats": {
                "io_service_bytes_recursive": [
                    { "major": 259, "minor": 0, "op": "read", "value": c.read_per_s * up_s },
                    { "major": 259, "minor": 0, "op": "write", "value": c.write_per_s * up_s }
                ],
                "io_serviced_recursive": null, "io_queue_recursive": null, "io_service_time_recursive": null,
                "io_wait_time_recursive": null, "io_merged_recursive": null, "io_time_recursive": null, "sectors_recursive": null
            },
            "num_procs": 0,
            "storage_stats": {},
            "cpu_stats": cpu(now),
            "precpu_stats": precpu,
            "memory_stats": {
                "usage": c.mem_usage,
                "stats": {
                    "active_anon": anon / 2, "active_file": c.mem_usage / 16, "anon": anon, "anon_thp": 0,
                    "file": c.mem_inactive_file + c.mem_usage / 16, "file_dirty": 0, "file_mapped": 4_096_000,
                    "file_writeback": 0, "inactive_anon": anon / 2, "inactive_file": c.mem_inactive_file,
                    "kernel_stack": 98_304, "pgactivate": 1_200, "pgfault": 912_345, "pgmajfault": 12,
                    "shmem": 0, "slab": 2_457_600, "sock": 0, "unevictable": 0, "workingset_refault_file": 0
                },
                "limit": c.mem_limit
            },
            "networks": {
                "eth0": {
                    "rx_bytes": c.rx_per_s * up_s, "rx_packets": c.rx_per_s * up_s / 900, "rx_errors": 0, "rx_dropped": 0,
                    "tx_bytes": c.tx_per_s * up_s, "tx_packets": c.tx_per_s * up_s / 1100, "tx_errors": 0, "tx_dropped": 0
                }
            }
        })
    }
}

/// CPU counters of a container that has no samples yet.
fn empty_cpu() -> Value {
    json!({
        "cpu_usage": { "total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0 },
        "throttling_data": { "periods": 0, "throttled_periods": 0, "throttled_time": 0 }
    })
}

fn since(earlier: SystemTime, later: SystemTime) -> Duration {
    later.duration_since(earlier).unwrap_or_default()
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Docker's `Status` wording for a duration ("About an hour", "3 days", "12 seconds").
fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => "Less than a second".into(),
        1..=59 => format!("{s} seconds"),
        60..=119 => "About a minute".into(),
        120..=3_599 => format!("{} minutes", s / 60),
        3_600..=7_199 => "About an hour".into(),
        7_200..=172_799 => format!("{} hours", s / 3_600),
        172_800..=1_209_599 => format!("{} days", s / 86_400),
        _ => format!("{} weeks", s / 604_800),
    }
}

/// Civil date (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn split_time(t: SystemTime) -> ((i64, u32, u32), u64, u32) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    (
        civil_from_days((secs / 86_400) as i64),
        secs % 86_400,
        d.subsec_nanos(),
    )
}

/// RFC 3339 with nanoseconds, as Go formats `time.Time` in Docker's JSON.
fn rfc3339(t: SystemTime) -> String {
    let ((y, mo, d), sod, nanos) = split_time(t);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        sod / 3_600,
        sod / 60 % 60,
        sod % 60
    )
}

/// IMF-fixdate for the `Date` header.
fn http_date(t: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let ((y, mo, d), sod, _) = split_time(t);
    let weekday = DAYS[(unix(t) / 86_400 % 7) as usize];
    format!(
        "{weekday}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
        MONTHS[(mo - 1) as usize],
        sod / 3_600,
        sod / 60 % 60,
        sod % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn get(sim: &DockerEngineSim, target: &str) -> (String, String) {
        let mut s = UnixStream::connect(sim.socket_path()).expect("connect");
        write!(
            s,
            "GET {target} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n"
        )
        .expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        let (head, body) = out.split_once("\r\n\r\n").expect("head");
        (head.to_string(), body.to_string())
    }

    #[test]
    fn serves_ping_version_and_stops_on_drop() {
        let path = std::env::temp_dir().join(format!("pulse-dsim-{}.sock", std::process::id()));
        let sim = DockerEngineSim::start(&path).expect("start");
        let (head, body) = get(&sim, "/_ping");
        assert!(head.starts_with("HTTP/1.1 200"));
        assert_eq!(body, "OK");
        let (_, body) = get(&sim, "/v1.47/version");
        let v: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(v["ApiVersion"], API_VERSION);
        let (head, _) = get(&sim, "/containers/nope/json");
        assert!(head.starts_with("HTTP/1.1 404"));
        drop(sim);
        assert!(!path.exists());
    }

    #[test]
    fn formats_times() {
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 5);
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20.000000005Z");
        assert_eq!(http_date(t), "Tue, 14 Nov 2023 22:13:20 GMT");
        assert_eq!(strip_version("/v1.43/containers/json"), "/containers/json");
        assert_eq!(strip_version("/version"), "/version");
    }
}
