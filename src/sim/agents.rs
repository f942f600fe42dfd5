//! Simulated `pulse-agent`s that post **real** reports over HTTP, for `pulse demo`, integration
//! tests and load generation.
//!
//! Reports are pure functions of a seed and a tick ([`host_report`], [`docker_report`],
//! [`kubernetes_report`]): the same inputs always give the same JSON, and one tick stands for one
//! nominal [`TICK_SECONDS`] interval, so cumulative counters grow by realistic amounts per tick.
//! Gauges and counter rates follow the models of `sim/signal.rs`: autocorrelated like a real
//! host's (CPU wanders with bursts, memory drifts with steps, rates wander with bursts), not
//! independent noise per report. A [`SimFleet`] runs one tokio task per simulated agent that posts its
//! report every interval (staggered start, ±10 % jitter) as gzip JSON with the agent headers of
//! platforms §5.1, stamping the real time into `timestamp`.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use flate2::write::GzEncoder;
use flate2::Compression;
use pulse_model::Timestamp;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;

use super::signal::{counter, cpu, cpu_level, memory};
use crate::error::{Error, Result};

/// `User-Agent` of simulated agents.
pub const USER_AGENT: &str = "pulse-agent/sim";
/// Agent version the simulated agents claim.
pub const SIM_AGENT_VERSION: &str = "sim";
/// Seconds one tick stands for (the default agent interval).
pub const TICK_SECONDS: u64 = 30;
/// Unix milliseconds of tick 0 in the pure reports (2026-01-01T00:00:00Z).
const SIM_EPOCH_MS: i64 = 1_767_225_600_000;
/// Timeout of one report POST.
const POST_TIMEOUT: Duration = Duration::from_secs(10);
/// Shortest interval between two reports of one agent (guards against a zero interval).
const MIN_INTERVAL: Duration = Duration::from_millis(1);
/// GiB in bytes.
const GIB: u64 = 1 << 30;

/// `len` hex characters of SHA-256 of `text`, for stable machine and container ids.
fn hex_id(text: &str, len: usize) -> String {
    let digest = hex::encode(Sha256::digest(text.as_bytes()));
    digest[..len.min(digest.len())].to_owned()
}

/// The RFC 3339 time of `tick` in the pure reports.
fn tick_time(tick: u64) -> String {
    let ms = (tick.saturating_mul(TICK_SECONDS * 1000)).min(i64::MAX as u64) as i64;
    Timestamp::from_millis(SIM_EPOCH_MS.saturating_add(ms)).to_string()
}

/// `used / total` in percent, rounded to two decimals.
fn percent(used: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        (used as f64 * 10_000.0 / total as f64).round() / 100.0
    }
}

/// Machine id of the simulated host `seed`.
pub fn host_machine_id(seed: u64) -> String {
    hex_id(&format!("pulse-sim-host:{seed}"), 32)
}

/// Machine id of the simulated Docker host `seed`.
pub fn docker_machine_id(seed: u64) -> String {
    hex_id(&format!("pulse-sim-docker:{seed}"), 32)
}

/// The host report (platforms §5.2) of simulated host `seed` at `tick`.
pub fn host_report(seed: u64, tick: u64) -> Value {
    let machine_id = host_machine_id(seed);
    let hostname = format!("sim-host-{seed:03}");
    let cpu_now = cpu(seed, tick, 1, 3.0, 85.0);
    // Sensors follow the load without the sampling noise of a utilisation average.
    let load = 3.0 + 82.0 * cpu_level(seed, tick, 1);
    let mem_total = (8 * GIB) << (seed % 3);
    let mem_used =
        (mem_total as f64 * memory(seed, tick, 2, 0.25, 0.8) / 100.0).round() as u64 * 100;
    let disk_total = 512_000_000_000u64;
    let disk_used = (disk_total / 3).saturating_add(tick.saturating_mul(4_000_000));
    let mac = format!("02:50:{:02x}:{:02x}:00:01", (seed >> 8) & 0xff, seed & 0xff);
    let address = format!("10.{}.{}.10/16", 20 + (seed >> 8) % 200, seed & 0xff);
    json!({
        "agent": {
            "id": machine_id, "version": SIM_AGENT_VERSION, "type": "unified",
            "intervalSeconds": TICK_SECONDS, "hostname": hostname
        },
        "host": {
            "hostname": hostname, "machineId": machine_id, "platform": "linux",
            "osName": "Debian GNU/Linux", "osVersion": "12", "kernelVersion": "6.8.12-4-pve",
            "architecture": "x86_64", "cpuModel": "Simulated CPU @ 3.00GHz", "cpuCount": 8,
            "uptimeSeconds": 86_400 + tick * TICK_SECONDS,
            "loadAverage": [load / 12.5, load / 14.0, load / 16.0]
        },
        "metrics": {
            "cpuUsagePercent": (cpu_now * 100.0).round() / 100.0,
            "memory": {
                "totalBytes": mem_total, "usedBytes": mem_used,
                "freeBytes": mem_total - mem_used, "cacheBytes": (mem_total - mem_used) / 2,
                "usage": percent(mem_used, mem_total), "swapTotalBytes": 2 * GIB,
                "swapUsedBytes": 0
            }
        },
        "disks": [
            {"device": "/dev/nvme0n1p2", "mountpoint": "/", "filesystem": "ext4", "type": "ext4",
             "totalBytes": disk_total, "usedBytes": disk_used, "freeBytes": disk_total - disk_used,
             "usage": percent(disk_used, disk_total)},
            {"device": "/dev/nvme0n1p1", "mountpoint": "/boot/efi", "filesystem": "vfat",
             "type": "vfat", "totalBytes": 536_870_912u64, "usedBytes": 6_291_456u64,
             "freeBytes": 530_579_456u64, "usage": 1.17},
            {"device": "tmpfs", "mountpoint": "/run", "filesystem": "tmpfs", "type": "tmpfs",
             "totalBytes": mem_total / 10, "usedBytes": 2_097_152u64,
             "freeBytes": mem_total / 10 - 2_097_152, "usage": percent(2_097_152, mem_total / 10)}
        ],
        "diskIO": [
            {"device": "nvme0n1",
             "readBytes": counter(seed, tick, 3, 40 * GIB, 60_000_000),
             "writeBytes": counter(seed, tick, 4, 90 * GIB, 150_000_000),
             "readOps": counter(seed, tick, 5, 1_000_000, 5_000),
             "writeOps": counter(seed, tick, 6, 3_000_000, 9_000)}
        ],
        "network": [
            {"name": "lo", "addresses": ["127.0.0.1/8", "::1/128"],
             "rxBytes": counter(seed, tick, 7, 1_000_000, 10_000),
             "txBytes": counter(seed, tick, 7, 1_000_000, 10_000)},
            {"name": "eth0", "mac": mac, "addresses": [address], "speedMbps": 1000,
             "rxBytes": counter(seed, tick, 8, 500 * GIB, 90_000_000),
             "txBytes": counter(seed, tick, 9, 200 * GIB, 30_000_000)}
        ],
        "sensors": {
            "temperatureCelsius": {
                "coretemp_package_id_0": ((38.0 + load / 3.0) * 10.0).round() / 10.0,
                "nvme_composite": ((36.0 + load / 8.0) * 10.0).round() / 10.0
            }
        },
        "tags": ["sim"],
        "timestamp": tick_time(tick)
    })
}

/// The Docker report (platforms §5.3) of simulated Docker host `seed` at `tick`, with
/// `containers` containers (at least five): one unhealthy, one exited, one restarting with a
/// growing restart count, one OOM-killed, the rest running. Two Swarm services, one degraded.
pub fn docker_report(seed: u64, tick: u64, containers: usize) -> Value {
    let machine_id = docker_machine_id(seed);
    let hostname = format!("sim-docker-{seed:03}");
    let total_memory = 32 * GIB;
    let started = tick_time(0);
    let list: Vec<Value> = (0..containers.max(5))
        .map(|i| sim_container(seed, tick, i as u64, &started))
        .collect();
    json!({
        "agent": {"id": machine_id, "version": SIM_AGENT_VERSION, "type": "unified",
                  "intervalSeconds": TICK_SECONDS},
        "host": {
            "hostname": hostname, "name": hostname, "machineId": machine_id,
            "os": "Ubuntu 24.04.1 LTS", "runtime": "docker", "runtimeVersion": "27.3.1",
            "kernelVersion": "6.8.0-45-generic", "architecture": "x86_64",
            "dockerVersion": "27.3.1", "totalCpu": 8, "totalMemoryBytes": total_memory,
            "uptimeSeconds": 172_800 + tick * TICK_SECONDS,
            "cpuUsagePercent": (cpu(seed, tick, 20, 5.0, 60.0) * 100.0).round() / 100.0,
            "memory": {"totalBytes": total_memory,
                       "usedBytes": (total_memory as f64 * memory(seed, tick, 21, 0.3, 0.7)) as u64},
            "swarm": {"nodeId": hex_id(&format!("swarm-node:{seed}"), 25), "nodeRole": "manager",
                      "localState": "active", "controlAvailable": true,
                      "clusterId": hex_id(&format!("swarm:{seed}"), 25), "clusterName": "default"}
        },
        "containers": list,
        "services": [
            {"id": hex_id(&format!("svc-web:{seed}"), 25), "name": "shop_web", "stack": "shop",
             "image": "nginx:1.27", "mode": "replicated", "desiredTasks": 3, "runningTasks": 3},
            {"id": hex_id(&format!("svc-worker:{seed}"), 25), "name": "shop_worker",
             "stack": "shop", "image": "shop/worker:2.1", "mode": "replicated",
             "desiredTasks": 2, "runningTasks": 1}
        ],
        "timestamp": tick_time(tick)
    })
}

/// Container `index` of simulated Docker host `seed` at `tick` (see [`docker_report`]).
fn sim_container(seed: u64, tick: u64, index: u64, started: &str) -> Value {
    let id = hex_id(&format!("container:{seed}:{index}"), 64);
    let (name, state, status, health, restarts, exit_code, oom) = match index {
        0 => (
            "api",
            "running",
            "Up 2 days (unhealthy)",
            "unhealthy",
            1,
            0,
            false,
        ),
        1 => (
            "migrate",
            "exited",
            "Exited (0) 2 days ago",
            "",
            0,
            0,
            false,
        ),
        2 => (
            "worker",
            "restarting",
            "Restarting (1) 3 seconds ago",
            "",
            3 + tick,
            1,
            false,
        ),
        3 => (
            "batch",
            "exited",
            "Exited (137) 1 hour ago",
            "",
            0,
            137,
            true,
        ),
        4 => (
            "web",
            "running",
            "Up 2 days (healthy)",
            "healthy",
            0,
            0,
            false,
        ),
        _ => ("", "running", "Up 2 days", "", 0, 0, false),
    };
    let name = if name.is_empty() {
        format!("app-{index}")
    } else {
        name.to_owned()
    };
    let limit = GIB;
    let mut container = json!({
        "id": id, "name": name, "image": format!("shop/{name}:2.1"), "createdAt": started,
        "state": state, "status": status, "restartCount": restarts, "exitCode": exit_code,
        "oomKilled": oom, "memoryLimitBytes": limit,
        "labels": {"com.docker.compose.project": "shop", "com.docker.compose.service": name},
        "ports": if index == 4 {
            json!([{"privatePort": 80, "publicPort": 8080, "protocol": "tcp", "ip": "0.0.0.0"}])
        } else {
            json!([])
        }
    });
    if !health.is_empty() {
        container["health"] = json!(health);
    }
    if state == "running" {
        let salt = 100 + index * 10;
        let used = (limit as f64 * memory(seed, tick, salt, 0.05, 0.6)) as u64;
        container["cpuPercent"] =
            json!((cpu(seed, tick, salt + 1, 0.0, 150.0) * 100.0).round() / 100.0);
        container["memoryUsageBytes"] = json!(used);
        container["memoryPercent"] = json!(percent(used, limit));
        container["uptimeSeconds"] = json!(172_800 + tick * TICK_SECONDS);
        container["startedAt"] = json!(started);
        container["networkRxBytes"] = json!(counter(seed, tick, salt + 2, 10_000_000, 3_000_000));
        container["networkTxBytes"] = json!(counter(seed, tick, salt + 3, 5_000_000, 1_000_000));
        container["blockIo"] = json!({
            "readBytes": counter(seed, tick, salt + 4, 50_000_000, 500_000),
            "writeBytes": counter(seed, tick, salt + 5, 80_000_000, 2_000_000)
        });
        container["networks"] = json!([{"name": "shop_default",
                                        "ipv4": format!("172.18.0.{}", 2 + index % 250)}]);
    } else {
        container["finishedAt"] = json!(tick_time(tick.saturating_sub(120)));
    }
    container
}

/// The Kubernetes report (platforms §5.4) of simulated cluster `seed` at `tick`: `nodes` ready
/// nodes with `pods_per_node` running pods each, plus a crash-looping, a pending and a completed
/// pod; deployments `web` (healthy) and `api` (one replica short).
pub fn kubernetes_report(seed: u64, tick: u64, nodes: usize, pods_per_node: usize) -> Value {
    let cluster_id = format!("sim-cluster-{seed:03}");
    let node_names: Vec<String> = (0..nodes.max(1))
        .map(|i| format!("sim{seed}-node-{i}"))
        .collect();
    let node_list: Vec<Value> = node_names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let salt = 200 + i as u64 * 10;
            json!({
                "uid": hex_id(&format!("node:{seed}:{i}"), 32), "name": name, "ready": true,
                "kubeletVersion": "v1.31.2", "containerRuntimeVersion": "containerd://1.7.22",
                "osImage": "Ubuntu 24.04.1 LTS", "kernelVersion": "6.8.0-45-generic",
                "architecture": "amd64",
                "capacity": {"cpuCores": 8, "memoryBytes": 32 * GIB, "pods": 110},
                "allocatable": {"cpuCores": 8, "memoryBytes": 31 * GIB, "pods": 110},
                "usage": {"cpuMilliCores": cpu(seed, tick, salt, 200.0, 6000.0) as u64,
                          "memoryBytes": (32.0 * GIB as f64
                                          * memory(seed, tick, salt + 1, 0.2, 0.8)) as u64},
                "roles": if i == 0 { json!(["control-plane"]) } else { json!(["worker"]) }
            })
        })
        .collect();
    let mut pods = Vec::with_capacity(node_names.len() * pods_per_node + 3);
    for (n, node) in node_names.iter().enumerate() {
        for p in 0..pods_per_node {
            let index = (n * pods_per_node + p) as u64;
            let app = if index % 2 == 0 { "web" } else { "api" };
            let salt = 1000 + index * 10;
            pods.push(json!({
                "uid": hex_id(&format!("pod:{seed}:{index}"), 32),
                "name": format!("{app}-{}-{index}", hex_id(&format!("rs:{seed}:{app}"), 5)),
                "namespace": "shop", "nodeName": node, "phase": "Running",
                "qosClass": "Burstable", "createdAt": tick_time(0), "startTime": tick_time(0),
                "restarts": 0, "labels": {"app": app}, "ownerKind": "ReplicaSet",
                "ownerName": format!("{app}-{}", hex_id(&format!("rs:{seed}:{app}"), 5)),
                "usage": {"cpuMilliCores": cpu(seed, tick, salt, 5.0, 400.0) as u64,
                          "memoryBytes": memory(seed, tick, salt + 1, 5e7, 5e8) as u64,
                          "networkRxBytes": counter(seed, tick, salt + 2, 1_000_000, 300_000),
                          "networkTxBytes": counter(seed, tick, salt + 3, 1_000_000, 200_000)},
                "containers": [{"name": app, "image": format!("shop/{app}:2.1"), "ready": true,
                                "state": "running"}]
            }));
        }
    }
    pods.push(json!({
        "uid": hex_id(&format!("pod:{seed}:crash"), 32), "name": "api-crashloop-0",
        "namespace": "shop", "nodeName": node_names[0], "phase": "Running", "restarts": 5 + tick,
        "containers": [{"name": "api", "ready": false, "restartCount": 5 + tick,
                        "state": "waiting", "reason": "CrashLoopBackOff"}]
    }));
    pods.push(json!({
        "uid": hex_id(&format!("pod:{seed}:pending"), 32), "name": "api-pending-0",
        "namespace": "shop", "phase": "Pending", "reason": "Unschedulable"
    }));
    pods.push(json!({
        "uid": hex_id(&format!("pod:{seed}:job"), 32), "name": "migrate-job-0",
        "namespace": "shop", "nodeName": node_names[node_names.len() - 1], "phase": "Succeeded",
        "ownerKind": "Job", "ownerName": "migrate-job"
    }));
    let web = nodes.max(1) as u64;
    json!({
        "agent": {"id": format!("sim-k8s-agent-{seed}"), "version": SIM_AGENT_VERSION,
                  "type": "unified", "intervalSeconds": TICK_SECONDS},
        "cluster": {"id": cluster_id, "name": format!("sim-{seed}"),
                    "server": "https://10.96.0.1:443", "version": "v1.31.2", "provider": "sim"},
        "nodes": node_list,
        "pods": pods,
        "deployments": [
            {"uid": hex_id(&format!("deploy:{seed}:web"), 32), "name": "web", "namespace": "shop",
             "desiredReplicas": web, "updatedReplicas": web, "readyReplicas": web,
             "availableReplicas": web},
            {"uid": hex_id(&format!("deploy:{seed}:api"), 32), "name": "api", "namespace": "shop",
             "desiredReplicas": 3, "updatedReplicas": 3, "readyReplicas": 2,
             "availableReplicas": 2}
        ],
        "timestamp": tick_time(tick)
    })
}

/// A simulated host agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimHost {
    /// Seed of ids, names and the metric curves.
    pub seed: u64,
}

/// A simulated Docker agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimDockerHost {
    /// Seed of ids, names and the metric curves.
    pub seed: u64,
    /// Number of containers (at least five are reported).
    pub containers: usize,
}

/// A simulated Kubernetes agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimK8sCluster {
    /// Seed of ids, names and the metric curves.
    pub seed: u64,
    /// Number of nodes (at least one).
    pub nodes: usize,
    /// Running pods per node (three special pods come on top).
    pub pods_per_node: usize,
}

/// One simulated agent of any kind, as a fleet task runs it.
#[derive(Debug, Clone, Copy)]
enum SimAgent {
    /// A host agent.
    Host(SimHost),
    /// A Docker agent.
    Docker(SimDockerHost),
    /// A Kubernetes agent.
    Kubernetes(SimK8sCluster),
}

impl SimAgent {
    /// The report route of this agent kind.
    fn path(self) -> &'static str {
        match self {
            SimAgent::Host(_) => "/api/agents/agent/report",
            SimAgent::Docker(_) => "/api/agents/docker/report",
            SimAgent::Kubernetes(_) => "/api/agents/kubernetes/report",
        }
    }

    /// The seed (for the jitter generator).
    fn seed(self) -> u64 {
        match self {
            SimAgent::Host(h) => h.seed,
            SimAgent::Docker(d) => d.seed,
            SimAgent::Kubernetes(k) => k.seed,
        }
    }

    /// The report at `tick`.
    fn report(self, tick: u64) -> Value {
        match self {
            SimAgent::Host(h) => host_report(h.seed, tick),
            SimAgent::Docker(d) => docker_report(d.seed, tick, d.containers),
            SimAgent::Kubernetes(k) => kubernetes_report(k.seed, tick, k.nodes, k.pods_per_node),
        }
    }
}

/// A set of simulated agents and how often they report.
#[derive(Debug, Clone, PartialEq)]
pub struct SimFleet {
    /// Host agents.
    pub hosts: Vec<SimHost>,
    /// Docker agents.
    pub docker_hosts: Vec<SimDockerHost>,
    /// Kubernetes agents.
    pub k8s_clusters: Vec<SimK8sCluster>,
    /// Mean report interval of every agent (at least 1 ms).
    pub interval: Duration,
}

impl SimFleet {
    /// A fleet of `hosts` hosts, `docker_hosts` Docker hosts with 8 containers and `k8s_clusters`
    /// clusters of 3 nodes × 4 pods, seeded 0, 1, 2, … per kind.
    pub fn uniform(
        hosts: usize,
        docker_hosts: usize,
        k8s_clusters: usize,
        interval: Duration,
    ) -> Self {
        SimFleet {
            hosts: (0..hosts as u64).map(|seed| SimHost { seed }).collect(),
            docker_hosts: (0..docker_hosts as u64)
                .map(|seed| SimDockerHost {
                    seed,
                    containers: 8,
                })
                .collect(),
            k8s_clusters: (0..k8s_clusters as u64)
                .map(|seed| SimK8sCluster {
                    seed,
                    nodes: 3,
                    pods_per_node: 4,
                })
                .collect(),
            interval,
        }
    }

    /// Starts one task per agent posting to `base_url` (e.g. `http://127.0.0.1:7655`) with API
    /// token `token`. Must be called inside a tokio runtime; the tasks run until the handle is
    /// stopped or dropped.
    pub fn start(&self, base_url: &str, token: &str) -> Result<SimFleetHandle> {
        let client = reqwest::Client::builder()
            .timeout(POST_TIMEOUT)
            .user_agent(USER_AGENT)
            .build()
            .map_err(|e| Error::Internal(format!("simulated agents: HTTP client: {e}")))?;
        let agents: Vec<SimAgent> = self
            .hosts
            .iter()
            .map(|&h| SimAgent::Host(h))
            .chain(self.docker_hosts.iter().map(|&d| SimAgent::Docker(d)))
            .chain(self.k8s_clusters.iter().map(|&k| SimAgent::Kubernetes(k)))
            .collect();
        let stats = Arc::new(SimStats::default());
        let interval = self.interval.max(MIN_INTERVAL);
        let count = agents.len().max(1) as f64;
        let base = base_url.trim_end_matches('/');
        let tasks = agents
            .into_iter()
            .enumerate()
            .map(|(i, agent)| {
                let poster = Poster {
                    client: client.clone(),
                    url: format!("{base}{}", agent.path()),
                    token: token.to_owned(),
                    stats: Arc::clone(&stats),
                };
                let offset = interval.mul_f64(i as f64 / count);
                tokio::spawn(run_agent(agent, poster, interval, offset))
            })
            .collect();
        Ok(SimFleetHandle { tasks, stats })
    }
}

/// Counters of a running fleet.
#[derive(Debug, Default)]
struct SimStats {
    /// Reports answered with 2xx.
    sent: AtomicU64,
    /// Reports that failed.
    failed: AtomicU64,
}

/// The running tasks of a [`SimFleet`]; stopping or dropping it stops them.
#[derive(Debug)]
pub struct SimFleetHandle {
    /// One task per simulated agent.
    tasks: Vec<JoinHandle<()>>,
    /// Counters shared with the tasks.
    stats: Arc<SimStats>,
}

impl SimFleetHandle {
    /// Reports accepted with a 2xx answer so far.
    pub fn sent(&self) -> u64 {
        self.stats.sent.load(Ordering::Relaxed)
    }

    /// Reports that failed (connection error, timeout or non-2xx answer) so far.
    pub fn failed(&self) -> u64 {
        self.stats.failed.load(Ordering::Relaxed)
    }

    /// Number of simulated agents.
    pub fn agents(&self) -> usize {
        self.tasks.len()
    }

    /// Stops every agent task (a POST in flight is abandoned). Idempotent.
    pub fn stop(&self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Drop for SimFleetHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What an agent task needs to post its reports.
struct Poster {
    /// Shared HTTP client.
    client: reqwest::Client,
    /// Full URL of the report route.
    url: String,
    /// API token sent in both auth headers.
    token: String,
    /// Counters of the fleet.
    stats: Arc<SimStats>,
}

impl Poster {
    /// Posts one report as gzip JSON with the agent headers; counts the outcome.
    async fn post(&self, report: &Value) {
        let outcome = match gzip_json(report) {
            Ok(body) => self
                .client
                .post(&self.url)
                .header("Content-Type", "application/json")
                .header("Content-Encoding", "gzip")
                .header("X-API-Token", &self.token)
                .header("Authorization", format!("Bearer {}", self.token))
                .body(body)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map(drop)
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match outcome {
            Ok(()) => self.stats.sent.fetch_add(1, Ordering::Relaxed),
            Err(error) => {
                tracing::debug!(url = %self.url, %error, "simulated agent report failed");
                self.stats.failed.fetch_add(1, Ordering::Relaxed)
            }
        };
    }
}

/// Serialises and gzips a report.
pub fn gzip_json(report: &Value) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    serde_json::to_writer(&mut encoder, report)?;
    encoder.flush()?;
    encoder.finish()
}

/// One agent's loop: wait for its slot, then report every interval (±10 %) with the current time.
async fn run_agent(agent: SimAgent, poster: Poster, interval: Duration, offset: Duration) {
    tokio::time::sleep(offset).await;
    let mut rng = StdRng::seed_from_u64(agent.seed() ^ 0x5EED);
    for tick in 0u64.. {
        let mut report = agent.report(tick);
        report["timestamp"] = json!(now().to_string());
        poster.post(&report).await;
        tokio::time::sleep(interval.mul_f64(rng.gen_range(0.9..1.1))).await;
    }
}

/// The current wall-clock time.
fn now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp::from_millis(ms)
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::mpsc;

    use super::*;
    use crate::sources::agent::{
        decode_body, parse_docker, parse_host, parse_kubernetes, AgentIngestor, ReportKind,
    };

    /// One request as the test receiver saw it.
    #[derive(Debug)]
    struct Received {
        path: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    impl Received {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        }
    }

    /// A minimal HTTP/1.1 server answering every request with `status`; returns its base URL and
    /// the stream of requests.
    async fn receiver(status: u16) -> (String, mpsc::UnboundedReceiver<Received>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, tx.clone(), status));
            }
        });
        (format!("http://{addr}"), rx)
    }

    /// Serves keep-alive requests on one connection.
    async fn serve(mut stream: TcpStream, tx: mpsc::UnboundedSender<Received>, status: u16) {
        let mut buf = Vec::new();
        loop {
            let head_end = loop {
                if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break pos;
                }
                if !read_more(&mut stream, &mut buf).await {
                    return;
                }
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
            let mut lines = head.split("\r\n");
            let path = lines
                .next()
                .and_then(|line| line.split(' ').nth(1))
                .unwrap_or_default()
                .to_owned();
            let headers: Vec<(String, String)> = lines
                .filter_map(|line| line.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                .collect();
            let length: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            let end = head_end + 4 + length;
            while buf.len() < end {
                if !read_more(&mut stream, &mut buf).await {
                    return;
                }
            }
            let body = buf[head_end + 4..end].to_vec();
            buf.drain(..end);
            let _ = tx.send(Received {
                path,
                headers,
                body,
            });
            let reply = format!(
                "HTTP/1.1 {status} Test\r\nContent-Type: application/json\r\n\
                 Content-Length: 2\r\n\r\n{{}}"
            );
            if stream.write_all(reply.as_bytes()).await.is_err() {
                return;
            }
        }
    }

    /// Reads more bytes into `buf`; `false` at end of stream.
    async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
        let mut chunk = [0u8; 8192];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    fn small_fleet(interval: Duration) -> SimFleet {
        SimFleet {
            hosts: vec![SimHost { seed: 1 }],
            docker_hosts: vec![SimDockerHost {
                seed: 2,
                containers: 6,
            }],
            k8s_clusters: vec![SimK8sCluster {
                seed: 3,
                nodes: 2,
                pods_per_node: 2,
            }],
            interval,
        }
    }

    async fn wait_for(mut done: impl FnMut() -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while !done() {
            assert!(tokio::time::Instant::now() < deadline, "timed out");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn fleet_posts_real_gzip_reports_with_agent_headers() {
        let (base, mut requests) = receiver(200).await;
        let handle = small_fleet(Duration::from_millis(100))
            .start(&base, "tok-123")
            .expect("start");
        assert_eq!(handle.agents(), 3);
        wait_for(|| handle.sent() >= 6).await;
        handle.stop();
        assert_eq!(handle.failed(), 0);

        let mut ingest = AgentIngestor::new("test");
        let mut seen = std::collections::BTreeMap::new();
        let at = |n: i64| Timestamp::from_millis(1_800_000_000_000 + n * 100);
        while let Ok(request) = requests.try_recv() {
            assert_eq!(request.header("x-api-token"), Some("tok-123"));
            assert_eq!(request.header("authorization"), Some("Bearer tok-123"));
            assert_eq!(request.header("user-agent"), Some(USER_AGENT));
            assert_eq!(request.header("content-encoding"), Some("gzip"));
            assert_eq!(request.header("content-type"), Some("application/json"));
            let count = seen.entry(request.path.clone()).or_insert(0i64);
            *count += 1;
            let now = at(*count);
            match request.path.as_str() {
                "/api/agents/agent/report" => {
                    let json =
                        decode_body(ReportKind::Host, Some("gzip"), &request.body).expect("gzip");
                    let (snapshot, reply) = ingest
                        .host(parse_host(&json).expect("parse"), now)
                        .expect("ingest");
                    assert_eq!(reply.agent_id, host_machine_id(1));
                    assert_eq!(snapshot.records.len(), 1);
                }
                "/api/agents/docker/report" => {
                    let json =
                        decode_body(ReportKind::Docker, Some("gzip"), &request.body).expect("gzip");
                    let (_, reply) = ingest
                        .docker(parse_docker(&json).expect("parse"), now)
                        .expect("ingest");
                    assert_eq!(reply.containers, 6);
                }
                "/api/agents/kubernetes/report" => {
                    let json = decode_body(ReportKind::Kubernetes, Some("gzip"), &request.body)
                        .expect("gzip");
                    let (_, reply) = ingest
                        .kubernetes(parse_kubernetes(&json).expect("parse"), now)
                        .expect("ingest");
                    assert_eq!(
                        (reply.nodes, reply.pods, reply.deployments),
                        (2, 2 * 2 + 3, 2)
                    );
                }
                other => panic!("unexpected path {other}"),
            }
        }
        assert_eq!(seen.len(), 3, "every agent kind reported: {seen:?}");

        // Stopped: nothing more arrives.
        tokio::time::sleep(Duration::from_millis(300)).await;
        while requests.try_recv().is_ok() {}
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(requests.try_recv().is_err(), "a stopped fleet keeps quiet");
    }

    #[tokio::test]
    async fn failures_are_counted_and_drop_stops_the_fleet() {
        let (base, mut requests) = receiver(500).await;
        let handle = small_fleet(Duration::from_millis(50))
            .start(&base, "t")
            .expect("start");
        wait_for(|| handle.failed() >= 3).await;
        assert_eq!(handle.sent(), 0);
        drop(handle);
        tokio::time::sleep(Duration::from_millis(200)).await;
        while requests.try_recv().is_ok() {}
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            requests.try_recv().is_err(),
            "dropping the handle stops the agents"
        );

        let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let dead = format!("http://{}", closed.local_addr().expect("address"));
        drop(closed);
        let handle = small_fleet(Duration::from_millis(50))
            .start(&dead, "t")
            .expect("start");
        wait_for(|| handle.failed() >= 3).await;
        assert_eq!(handle.sent(), 0);
    }

    #[test]
    fn pure_reports_parse_normalise_and_cover_the_statuses() {
        use pulse_model::Status;
        let mut ingest = AgentIngestor::new("test");
        for tick in 0..3u64 {
            let now = Timestamp::from_millis(1_800_000_000_000 + tick as i64 * 30_000);
            for seed in 0..3 {
                let host = serde_json::to_vec(&host_report(seed, tick)).expect("json");
                let (snapshot, _) = ingest
                    .host(parse_host(&host).expect("host"), now)
                    .expect("ingest");
                let metrics = &snapshot.records[0].metrics;
                assert!(
                    metrics.cpu().is_some()
                        && metrics.memory().is_some()
                        && metrics.disk().is_some()
                );
                if tick > 0 {
                    let rx = metrics.net_in().and_then(|m| m.value).expect("rate");
                    assert!(rx > 0.0, "{rx}");
                    assert!(metrics.disk_write().and_then(|m| m.value).is_some());
                }
                assert!(snapshot.records[0].temperature.is_some());
            }
            let docker = serde_json::to_vec(&docker_report(7, tick, 9)).expect("json");
            let (snapshot, _) = ingest
                .docker(parse_docker(&docker).expect("docker"), now)
                .expect("ingest");
            let count = |s: Status| snapshot.records.iter().filter(|r| r.status == s).count();
            // Host + 9 containers + 2 services: unhealthy, restarting and the partial service
            // warn; the exited and the OOM-killed container are offline.
            assert_eq!(snapshot.records.len(), 12);
            assert_eq!((count(Status::Warning), count(Status::Offline)), (3, 2));
            let k8s = serde_json::to_vec(&kubernetes_report(4, tick, 3, 2)).expect("json");
            let (snapshot, _) = ingest
                .kubernetes(parse_kubernetes(&k8s).expect("k8s"), now)
                .expect("ingest");
            assert_eq!(snapshot.records.len(), 1 + 3 + (3 * 2 + 3) + 2);
        }
    }

    #[test]
    fn reports_are_deterministic_and_counters_monotonic() {
        assert_eq!(host_report(5, 9), host_report(5, 9));
        assert_ne!(host_machine_id(1), host_machine_id(2));
        assert_ne!(host_machine_id(1), docker_machine_id(1));
        let mut previous = 0;
        for tick in 0..500 {
            let rx = host_report(3, tick)["network"][1]["rxBytes"]
                .as_u64()
                .expect("counter");
            assert!(rx > previous, "tick {tick}");
            previous = rx;
            let cpu = host_report(3, tick)["metrics"]["cpuUsagePercent"]
                .as_f64()
                .expect("cpu");
            assert!((0.0..=100.0).contains(&cpu));
        }
        let worker = |tick| docker_report(1, tick, 5)["containers"][2]["restartCount"].clone();
        assert_eq!(
            (worker(0), worker(10)),
            (json!(3), json!(13)),
            "restart count grows"
        );
    }

    #[test]
    fn reports_fit_the_wire_limits() {
        let docker = gzip_json(&docker_report(1, 1, 2000)).expect("gzip");
        assert!(docker.len() < ReportKind::Docker.wire_limit());
        let host = gzip_json(&host_report(1, 1)).expect("gzip");
        let decoded = decode_body(ReportKind::Host, Some("gzip"), &host).expect("decode");
        assert_eq!(
            serde_json::from_slice::<Value>(&decoded).expect("json"),
            host_report(1, 1)
        );
    }
}
