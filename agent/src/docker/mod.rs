//! Docker collection through the Engine API on the daemon's unix socket.
//!
//! Per collection: `GET /version`, `/info`, `/containers/json?all=1`, then for every container
//! `GET /containers/{id}/json` and, for running ones, `/containers/{id}/stats?stream=false`.
//! The per-container calls run on a few worker threads because the daemon takes about a
//! second to answer a non-streaming stats call (it waits for a second sample).

pub mod api;
pub mod http;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;

use crate::host::HostSample;
use crate::report::{percent, round2, BlockIo, Container, ContainerPort, DockerHost};
use crate::time::{format_rfc3339, parse_rfc3339};
use api::{ContainerInspect, ContainerSummary, CpuSample, Info, Stats, Version};
use http::{HttpError, UnixHttpClient};

/// Default path of the Docker daemon socket.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
/// Per-request deadline; stats calls take about a second on a healthy daemon.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest response accepted (a container list of a few thousand entries fits).
const MAX_BODY: usize = 16 * 1024 * 1024;
/// Worker threads for the per-container calls.
const WORKERS: usize = 4;
/// Stack of a worker thread; they only parse JSON of bounded depth.
const WORKER_STACK: usize = 256 * 1024;

/// Why Docker could not be collected.
#[derive(Debug)]
pub enum DockerError {
    /// The socket file does not exist.
    NoSocket(PathBuf),
    /// The request failed on the way.
    Http(String, HttpError),
    /// The daemon answered with an error status.
    Status(String, u16, String),
    /// The daemon's answer was not the JSON expected.
    Json(String, serde_json::Error),
}

impl fmt::Display for DockerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSocket(p) => write!(f, "Docker socket {} not found", p.display()),
            Self::Http(t, e) => write!(f, "GET {t}: {e}"),
            Self::Status(t, s, m) => write!(f, "GET {t}: HTTP {s}: {m}"),
            Self::Json(t, e) => write!(f, "GET {t}: unexpected JSON: {e}"),
        }
    }
}

impl std::error::Error for DockerError {}

/// Everything one Docker collection produced.
#[derive(Debug, Clone)]
pub struct DockerSnapshot {
    /// `/version`.
    pub version: Version,
    /// `/info`.
    pub info: Info,
    /// All containers in list order.
    pub containers: Vec<Container>,
}

/// Collects containers, keeping each one's last CPU counters as a fallback baseline for
/// daemons that answer stats without a previous sample.
#[derive(Debug)]
pub struct DockerCollector {
    client: UnixHttpClient,
    prev_cpu: HashMap<String, CpuSample>,
}

/// Inspect and stats of one container; `None` where the call failed.
type Details = (Option<ContainerInspect>, Option<Stats>);

impl DockerCollector {
    /// A collector for the daemon at `socket`.
    pub fn new(socket: impl Into<PathBuf>) -> Self {
        Self {
            client: UnixHttpClient::new(socket, REQUEST_TIMEOUT, MAX_BODY),
            prev_cpu: HashMap::new(),
        }
    }

    /// Socket path in use.
    pub fn socket(&self) -> &Path {
        self.client.socket()
    }

    /// Whether the socket file exists (the `--docker auto` test).
    pub fn socket_exists(&self) -> bool {
        self.client.socket().exists()
    }

    fn get_json<T: DeserializeOwned>(&self, target: &str) -> Result<T, DockerError> {
        let resp = self
            .client
            .get(target)
            .map_err(|e| DockerError::Http(target.to_string(), e))?;
        if resp.status != 200 {
            let message = serde_json::from_slice::<serde_json::Value>(&resp.body)
                .ok()
                .and_then(|v| {
                    v.get("message")
                        .and_then(|m| m.as_str())
                        .map(str::to_string)
                })
                .unwrap_or_else(|| {
                    String::from_utf8_lossy(&resp.body)
                        .trim()
                        .chars()
                        .take(200)
                        .collect()
                });
            return Err(DockerError::Status(
                target.to_string(),
                resp.status,
                message,
            ));
        }
        serde_json::from_slice(&resp.body).map_err(|e| DockerError::Json(target.to_string(), e))
    }

    fn details(&self, c: &ContainerSummary) -> Details {
        let inspect = self.get_json(&format!("/containers/{}/json", c.id)).ok();
        let running = inspect
            .as_ref()
            .map_or(c.state.as_str(), |i: &ContainerInspect| {
                i.state.status.as_str()
            })
            == "running";
        let stats = running
            .then(|| {
                self.get_json(&format!("/containers/{}/stats?stream=false", c.id))
                    .ok()
            })
            .flatten();
        (inspect, stats)
    }

    /// Fetches details of all containers on up to [`WORKERS`] threads.
    fn all_details(&self, list: &[ContainerSummary]) -> Vec<Details> {
        let slots: Mutex<Vec<Option<Details>>> = Mutex::new(vec![None; list.len()]);
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..WORKERS.min(list.len()) {
                let work = || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(c) = list.get(i) else { break };
                    let d = self.details(c);
                    slots.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(d);
                };
                // A thread that cannot be spawned leaves its share to the others or to the
                // sequential pass below.
                let _ = std::thread::Builder::new()
                    .name("docker-details".into())
                    .stack_size(WORKER_STACK)
                    .spawn_scoped(scope, work);
            }
        });
        let slots = slots.into_inner().unwrap_or_else(|e| e.into_inner());
        slots
            .into_iter()
            .zip(list)
            .map(|(slot, c)| slot.unwrap_or_else(|| self.details(c)))
            .collect()
    }

    /// Collects the daemon facts and every container.
    pub fn collect(&mut self) -> Result<DockerSnapshot, DockerError> {
        if !self.socket_exists() {
            return Err(DockerError::NoSocket(self.socket().to_path_buf()));
        }
        let version: Version = self.get_json("/version")?;
        let info: Info = self.get_json("/info")?;
        let list: Vec<ContainerSummary> = self.get_json("/containers/json?all=1")?;
        let details = self.all_details(&list);
        let now = SystemTime::now();
        let mut next_prev = HashMap::with_capacity(list.len());
        let containers = list
            .iter()
            .zip(&details)
            .map(|(summary, (inspect, stats))| {
                let cpu = stats.as_ref().map_or(0.0, |s| {
                    let cur = s.cpu_stats.sample();
                    let base = s
                        .precpu_stats
                        .sample()
                        .or_else(|| self.prev_cpu.get(&summary.id).copied());
                    if let Some(cur) = cur {
                        next_prev.insert(summary.id.clone(), cur);
                    }
                    match (base, cur) {
                        (Some(b), Some(c)) => api::cpu_percent(b, c, s.cpu_stats.cpus()),
                        _ => 0.0,
                    }
                });
                to_container(summary, inspect.as_ref(), stats.as_ref(), cpu, now)
            })
            .collect();
        self.prev_cpu = next_prev;
        Ok(DockerSnapshot {
            version,
            info,
            containers,
        })
    }
}

/// Health from the inspect data, else from the `(healthy)` / `(health: starting)` suffix of the
/// status line; empty when the container has no health check.
fn health_of(summary: &ContainerSummary, inspect: Option<&ContainerInspect>) -> String {
    if let Some(h) = inspect.and_then(|i| i.state.health.as_ref()) {
        if !h.status.is_empty() && h.status != "none" {
            return h.status.clone();
        }
    }
    let s = &summary.status;
    if s.contains("(unhealthy)") {
        "unhealthy".into()
    } else if s.contains("(healthy)") {
        "healthy".into()
    } else if s.contains("(health: starting)") {
        "starting".into()
    } else {
        String::new()
    }
}

/// A Docker time worth reporting: parses and is not the year-1 "never" marker.
fn real_time(s: &str) -> Option<(String, SystemTime)> {
    parse_rfc3339(s).map(|t| (s.to_string(), t))
}

/// Builds the wire entry for one container from its list entry, inspect data and stats.
pub fn to_container(
    summary: &ContainerSummary,
    inspect: Option<&ContainerInspect>,
    stats: Option<&Stats>,
    cpu_percent: f64,
    now: SystemTime,
) -> Container {
    let name = summary
        .names
        .first()
        .map(String::as_str)
        .or_else(|| inspect.map(|i| i.name.as_str()))
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_string();
    let state = inspect
        .map(|i| i.state.status.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| summary.state.clone());
    let started = inspect.and_then(|i| real_time(&i.state.started_at));
    let finished = inspect.and_then(|i| real_time(&i.state.finished_at));
    let uptime_seconds = match (&started, state.as_str()) {
        (Some((_, t)), "running") => now.duration_since(*t).map_or(0, |d| d.as_secs()),
        _ => 0,
    };
    let (memory_used, memory_limit) = stats.map_or((0, 0), |s| {
        (
            api::memory_used(&s.memory_stats),
            s.memory_stats.limit.unwrap_or(0),
        )
    });
    let (rx, tx) = stats.map_or((0, 0), |s| api::network_io(&s.networks));
    let created = u64::try_from(summary.created).unwrap_or(0);
    Container {
        id: summary.id.clone(),
        name,
        image: summary.image.clone(),
        created_at: format_rfc3339(UNIX_EPOCH + Duration::from_secs(created)),
        state,
        status: summary.status.clone(),
        health: health_of(summary, inspect),
        cpu_percent: round2(cpu_percent),
        memory_usage_bytes: memory_used,
        memory_limit_bytes: memory_limit,
        memory_percent: percent(memory_used, memory_limit),
        uptime_seconds,
        restart_count: inspect.map_or(0, |i| i.restart_count),
        exit_code: inspect.map_or(0, |i| i.state.exit_code),
        oom_killed: inspect.is_some_and(|i| i.state.oom_killed),
        started_at: started.map(|(s, _)| s),
        finished_at: finished.map(|(s, _)| s),
        ports: summary
            .ports
            .iter()
            .map(|p| ContainerPort {
                private_port: p.private_port,
                public_port: p.public_port.filter(|&p| p > 0),
                protocol: p.protocol.clone(),
                ip: p.ip.clone(),
            })
            .collect(),
        labels: summary.labels.clone(),
        network_rx_bytes: rx,
        network_tx_bytes: tx,
        block_io: stats.map(|s| {
            let (read_bytes, write_bytes) = api::block_io(&s.blkio_stats);
            BlockIo {
                read_bytes,
                write_bytes,
            }
        }),
    }
}

/// The Docker report's `host` block: daemon facts plus the host sample's figures.
pub fn docker_host(snapshot: &DockerSnapshot, host: &HostSample) -> DockerHost {
    let info = &snapshot.info;
    let engine = if snapshot.version.version.is_empty() {
        info.server_version.clone()
    } else {
        snapshot.version.version.clone()
    };
    let or = |a: &str, b: &str| {
        if a.is_empty() {
            b.to_string()
        } else {
            a.to_string()
        }
    };
    DockerHost {
        hostname: host.info.hostname.clone(),
        name: info.name.clone(),
        machine_id: host.info.machine_id.clone(),
        os: or(&info.operating_system, &host.info.os_name),
        runtime: "docker".into(),
        runtime_version: engine.clone(),
        kernel_version: or(&info.kernel_version, &host.info.kernel_version),
        architecture: or(&info.architecture, &host.info.architecture),
        docker_version: engine,
        total_cpu: if info.ncpu > 0 {
            info.ncpu
        } else {
            u64::from(host.info.cpu_count)
        },
        total_memory_bytes: if info.mem_total > 0 {
            info.mem_total
        } else {
            host.metrics.memory.total_bytes
        },
        uptime_seconds: host.info.uptime_seconds,
        cpu_usage_percent: host.metrics.cpu_usage_percent,
        load_average: host.info.load_average,
        memory: host.metrics.memory,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(status: &str) -> ContainerSummary {
        ContainerSummary {
            id: "abc".into(),
            names: vec!["/web".into()],
            image: "nginx".into(),
            created: 1_700_000_000,
            state: "running".into(),
            status: status.into(),
            ..ContainerSummary::default()
        }
    }

    #[test]
    fn health_falls_back_to_status_line() {
        assert_eq!(
            health_of(&summary("Up 2 hours (unhealthy)"), None),
            "unhealthy"
        );
        assert_eq!(health_of(&summary("Up 2 hours (healthy)"), None), "healthy");
        assert_eq!(
            health_of(&summary("Up 1 second (health: starting)"), None),
            "starting"
        );
        assert_eq!(health_of(&summary("Up 2 hours"), None), "");
    }

    #[test]
    fn maps_a_container_without_details() {
        let c = to_container(&summary("Up 5 minutes"), None, None, 0.0, SystemTime::now());
        assert_eq!(c.name, "web");
        assert_eq!(c.created_at, "2023-11-14T22:13:20.000Z");
        assert_eq!(c.started_at, None);
        assert_eq!(c.block_io, None);
        assert_eq!(c.memory_percent, 0.0);
    }
}
