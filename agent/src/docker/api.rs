//! The parts of the Docker Engine API responses the agent reads, and the arithmetic that
//! turns raw stats into the figures `docker stats` shows.
//!
//! Every field defaults when absent and `null` is read as the default: the daemon sends
//! `null` for empty lists and maps in several places, and older or newer API versions add and
//! drop fields.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Reads `null` as `T::default()`.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// `GET /version`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Version {
    /// Engine version, e.g. `27.3.1`.
    #[serde(deserialize_with = "nullable")]
    pub version: String,
    /// API version, e.g. `1.47`.
    #[serde(deserialize_with = "nullable")]
    pub api_version: String,
}

/// `GET /info`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Info {
    /// Host name as the daemon knows it.
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    /// Operating system description.
    #[serde(deserialize_with = "nullable")]
    pub operating_system: String,
    /// Kernel release.
    #[serde(deserialize_with = "nullable")]
    pub kernel_version: String,
    /// Hardware architecture, e.g. `x86_64`.
    #[serde(deserialize_with = "nullable")]
    pub architecture: String,
    /// CPUs available.
    #[serde(rename = "NCPU", deserialize_with = "nullable")]
    pub ncpu: u64,
    /// Memory available, in bytes.
    #[serde(deserialize_with = "nullable")]
    pub mem_total: u64,
    /// Engine version.
    #[serde(deserialize_with = "nullable")]
    pub server_version: String,
}

/// A port of a container list entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct PortSummary {
    /// Host address, present when published.
    #[serde(rename = "IP", deserialize_with = "nullable")]
    pub ip: String,
    /// Port inside the container.
    #[serde(deserialize_with = "nullable")]
    pub private_port: u16,
    /// Port on the host, when published.
    pub public_port: Option<u16>,
    /// Protocol.
    #[serde(rename = "Type", deserialize_with = "nullable")]
    pub protocol: String,
}

/// An entry of `GET /containers/json?all=1`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ContainerSummary {
    /// Full id.
    #[serde(rename = "Id", deserialize_with = "nullable")]
    pub id: String,
    /// Names with a leading slash.
    #[serde(deserialize_with = "nullable")]
    pub names: Vec<String>,
    /// Image reference.
    #[serde(deserialize_with = "nullable")]
    pub image: String,
    /// Creation time, Unix seconds.
    #[serde(deserialize_with = "nullable")]
    pub created: i64,
    /// Run state.
    #[serde(deserialize_with = "nullable")]
    pub state: String,
    /// Human status line.
    #[serde(deserialize_with = "nullable")]
    pub status: String,
    /// Ports.
    #[serde(deserialize_with = "nullable")]
    pub ports: Vec<PortSummary>,
    /// Labels.
    #[serde(deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
}

/// `State.Health` of an inspected container.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct HealthState {
    /// `starting`, `healthy`, `unhealthy` or `none`.
    #[serde(deserialize_with = "nullable")]
    pub status: String,
    /// Consecutive failed checks.
    #[serde(deserialize_with = "nullable")]
    pub failing_streak: u64,
}

/// `State` of an inspected container.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ContainerState {
    /// Run state.
    #[serde(deserialize_with = "nullable")]
    pub status: String,
    /// Killed by the OOM killer in its last run.
    #[serde(rename = "OOMKilled", deserialize_with = "nullable")]
    pub oom_killed: bool,
    /// Exit code of the last run.
    #[serde(deserialize_with = "nullable")]
    pub exit_code: i64,
    /// Start of the last run (RFC 3339; year 1 when never started).
    #[serde(deserialize_with = "nullable")]
    pub started_at: String,
    /// End of the last run (RFC 3339; year 1 while running for the first time).
    #[serde(deserialize_with = "nullable")]
    pub finished_at: String,
    /// Health check state, absent without a health check.
    pub health: Option<HealthState>,
}

/// `GET /containers/{id}/json`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ContainerInspect {
    /// Name with a leading slash.
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    /// Restarts performed by the restart policy.
    #[serde(deserialize_with = "nullable")]
    pub restart_count: u64,
    /// Run state details.
    #[serde(deserialize_with = "nullable")]
    pub state: ContainerState,
}

/// `cpu_stats.cpu_usage`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CpuUsage {
    /// Container CPU time, nanoseconds.
    #[serde(deserialize_with = "nullable")]
    pub total_usage: u64,
    /// Per-CPU times (cgroup v1 only).
    #[serde(deserialize_with = "nullable")]
    pub percpu_usage: Vec<u64>,
}

/// `cpu_stats` / `precpu_stats`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CpuStats {
    /// Container usage.
    #[serde(deserialize_with = "nullable")]
    pub cpu_usage: CpuUsage,
    /// Host CPU time across all CPUs, nanoseconds; absent in empty samples.
    pub system_cpu_usage: Option<u64>,
    /// CPUs the container may use.
    pub online_cpus: Option<u64>,
}

/// `memory_stats`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MemoryStats {
    /// Charged memory including page cache.
    pub usage: Option<u64>,
    /// Limit (the host's memory when unlimited).
    pub limit: Option<u64>,
    /// Detailed cgroup counters; names differ between cgroup v1 and v2.
    #[serde(deserialize_with = "nullable")]
    pub stats: BTreeMap<String, Value>,
}

/// Per-interface counters in `networks`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NetworkStats {
    /// Received bytes.
    #[serde(deserialize_with = "nullable")]
    pub rx_bytes: u64,
    /// Sent bytes.
    #[serde(deserialize_with = "nullable")]
    pub tx_bytes: u64,
}

/// An entry of `blkio_stats.io_service_bytes_recursive`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BlkioEntry {
    /// `read`/`write` (cgroup v2) or `Read`/`Write`/`Sync`/`Async`/`Total` (cgroup v1).
    #[serde(deserialize_with = "nullable")]
    pub op: String,
    /// Bytes.
    #[serde(deserialize_with = "nullable")]
    pub value: u64,
}

/// `blkio_stats`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BlkioStats {
    /// Bytes by device and operation.
    #[serde(deserialize_with = "nullable")]
    pub io_service_bytes_recursive: Vec<BlkioEntry>,
}

/// `GET /containers/{id}/stats?stream=false`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Stats {
    /// Current CPU counters.
    #[serde(deserialize_with = "nullable")]
    pub cpu_stats: CpuStats,
    /// CPU counters about a second earlier (empty with `one-shot=true`).
    #[serde(deserialize_with = "nullable")]
    pub precpu_stats: CpuStats,
    /// Memory counters.
    #[serde(deserialize_with = "nullable")]
    pub memory_stats: MemoryStats,
    /// Network counters by interface; absent with host networking.
    #[serde(deserialize_with = "nullable")]
    pub networks: BTreeMap<String, NetworkStats>,
    /// Block I/O counters.
    #[serde(deserialize_with = "nullable")]
    pub blkio_stats: BlkioStats,
}

/// Cumulative CPU counters of a container, kept between collections as a fallback baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuSample {
    /// Container CPU time, nanoseconds.
    pub container: u64,
    /// Host CPU time, nanoseconds.
    pub system: u64,
}

impl CpuStats {
    /// The counters as a sample, if the host counter is present.
    pub fn sample(&self) -> Option<CpuSample> {
        self.system_cpu_usage
            .filter(|&s| s > 0)
            .map(|system| CpuSample {
                container: self.cpu_usage.total_usage,
                system,
            })
    }

    /// CPUs the percentage is scaled by: `online_cpus`, else the per-CPU list, else 1.
    pub fn cpus(&self) -> u64 {
        self.online_cpus
            .filter(|&n| n > 0)
            .unwrap_or_else(|| self.cpu_usage.percpu_usage.len().max(1) as u64)
    }
}

/// CPU percent as `docker stats` computes it (100 % = one CPU fully used).
pub fn cpu_percent(prev: CpuSample, cur: CpuSample, cpus: u64) -> f64 {
    let container = cur.container.saturating_sub(prev.container);
    let system = cur.system.saturating_sub(prev.system);
    if system == 0 {
        return 0.0;
    }
    container as f64 / system as f64 * cpus as f64 * 100.0
}

/// Memory in use minus the reclaimable inactive file cache, like `docker stats`.
///
/// cgroup v2 reports `inactive_file`; cgroup v1 `total_inactive_file` (or only `cache` on
/// very old kernels).
pub fn memory_used(m: &MemoryStats) -> u64 {
    let usage = m.usage.unwrap_or(0);
    let stat = |k: &str| m.stats.get(k).and_then(Value::as_u64);
    let reclaimable = stat("inactive_file")
        .or_else(|| stat("total_inactive_file"))
        .or_else(|| stat("cache"))
        .unwrap_or(0);
    if reclaimable < usage {
        usage - reclaimable
    } else {
        usage
    }
}

/// Bytes read and written according to `blkio_stats`.
pub fn block_io(b: &BlkioStats) -> (u64, u64) {
    b.io_service_bytes_recursive
        .iter()
        .fold((0, 0), |(r, w), e| {
            if e.op.eq_ignore_ascii_case("read") {
                (r + e.value, w)
            } else if e.op.eq_ignore_ascii_case("write") {
                (r, w + e.value)
            } else {
                (r, w)
            }
        })
}

/// Network bytes received and sent, summed over interfaces.
pub fn network_io(n: &BTreeMap<String, NetworkStats>) -> (u64, u64) {
    n.values()
        .fold((0, 0), |(rx, tx), s| (rx + s.rx_bytes, tx + s.tx_bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATS_V1: &str = r#"{
      "read": "2024-05-01T10:00:01.5Z", "preread": "2024-05-01T10:00:00.5Z",
      "pids_stats": {"current": 3},
      "blkio_stats": {"io_service_bytes_recursive": [
        {"major": 8, "minor": 0, "op": "Read", "value": 4096},
        {"major": 8, "minor": 0, "op": "Write", "value": 8192},
        {"major": 8, "minor": 0, "op": "Sync", "value": 12288},
        {"major": 8, "minor": 0, "op": "Total", "value": 12288}]},
      "cpu_stats": {"cpu_usage": {"total_usage": 200000000, "percpu_usage": [100000000, 100000000]},
                    "system_cpu_usage": 20000000000, "throttling_data": {}},
      "precpu_stats": {"cpu_usage": {"total_usage": 100000000, "percpu_usage": [50000000, 50000000]},
                       "system_cpu_usage": 18000000000, "throttling_data": {}},
      "memory_stats": {"usage": 104857600, "limit": 536870912,
                       "stats": {"cache": 20971520, "total_inactive_file": 10485760, "hierarchical_memory_limit": 9223372036854771712}},
      "networks": {"eth0": {"rx_bytes": 1000, "tx_bytes": 2000}, "eth1": {"rx_bytes": 10, "tx_bytes": 20}}
    }"#;

    #[test]
    fn computes_docker_stats_figures_for_cgroup_v1() {
        let s: Stats = serde_json::from_str(STATS_V1).expect("valid");
        let (prev, cur) = (
            s.precpu_stats.sample().expect("pre"),
            s.cpu_stats.sample().expect("cur"),
        );
        // 0.1 s of 2 s host time on 2 CPUs: 10 %.
        assert!((cpu_percent(prev, cur, s.cpu_stats.cpus()) - 10.0).abs() < 1e-9);
        assert_eq!(
            memory_used(&s.memory_stats),
            100 * 1024 * 1024 - 10 * 1024 * 1024
        );
        assert_eq!(block_io(&s.blkio_stats), (4096, 8192));
        assert_eq!(network_io(&s.networks), (1010, 2020));
    }

    #[test]
    fn tolerates_nulls_and_empty_samples() {
        let s: Stats = serde_json::from_str(
            r#"{"read":"0001-01-01T00:00:00Z","blkio_stats":{"io_service_bytes_recursive":null},
                "cpu_stats":{"cpu_usage":{"total_usage":0}},"precpu_stats":{"cpu_usage":{"total_usage":0}},
                "memory_stats":{},"networks":null}"#,
        )
        .expect("valid");
        assert_eq!(s.cpu_stats.sample(), None);
        assert_eq!(s.cpu_stats.cpus(), 1);
        assert_eq!(memory_used(&s.memory_stats), 0);
        assert_eq!(block_io(&s.blkio_stats), (0, 0));
        let c: ContainerSummary = serde_json::from_str(
            r#"{"Id":"abc","Names":null,"Labels":null,"Ports":null,"State":"created"}"#,
        )
        .expect("valid");
        assert!(c.names.is_empty() && c.labels.is_empty() && c.ports.is_empty());
    }

    #[test]
    fn cpu_percent_guards_against_counter_resets() {
        let a = CpuSample {
            container: 10,
            system: 100,
        };
        assert_eq!(cpu_percent(a, a, 4), 0.0);
        let reset = CpuSample {
            container: 5,
            system: 200,
        };
        assert_eq!(cpu_percent(a, reset, 4), 0.0);
    }
}
