//! Wire types of the agent reports (platforms reference §5.2 host, §5.3 Docker).
//!
//! Field names are part of the **compatible** upstream format and must not change. Optional
//! values the agent cannot know are left out of the JSON rather than sent as zeros, as the
//! upstream agent does.

use std::collections::BTreeMap;

use serde::Serialize;

/// Value of `agent.type` for this agent: one binary reporting host and Docker.
pub const AGENT_TYPE: &str = "unified";

/// Who is reporting: identifies the agent process, not the machine.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AgentInfo {
    /// Stable agent identifier (the machine id when there is one, else the hostname).
    pub id: String,
    /// Agent version.
    pub version: String,
    /// Agent kind; always [`AGENT_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// Configured report interval, so the server can derive the offline window (§5.6).
    pub interval_seconds: u64,
    /// Hostname the agent reports under.
    pub hostname: String,
}

/// Host identity and static facts (`host` of the host report).
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct HostInfo {
    /// Explicit host id; unset lets the server derive one from the machine id (§18).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Hostname; mandatory for the server.
    pub hostname: String,
    /// Contents of `/etc/machine-id`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub machine_id: String,
    /// Always `linux` for this agent.
    pub platform: String,
    /// `NAME` from os-release, e.g. `Ubuntu`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub os_name: String,
    /// `VERSION_ID` from os-release, e.g. `24.04`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub os_version: String,
    /// Kernel release, e.g. `6.8.0-45-generic`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kernel_version: String,
    /// Machine architecture as `uname -m` prints it, e.g. `x86_64`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub architecture: String,
    /// CPU model name from `/proc/cpuinfo`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cpu_model: String,
    /// Online logical CPUs.
    pub cpu_count: u32,
    /// Seconds since boot.
    pub uptime_seconds: u64,
    /// 1, 5 and 15 minute load averages.
    pub load_average: [f64; 3],
}

/// Memory figures in bytes (`metrics.memory`).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    /// `MemTotal`.
    pub total_bytes: u64,
    /// `MemTotal - MemAvailable`: memory that cannot be reclaimed without swapping.
    pub used_bytes: u64,
    /// `MemAvailable`: what applications can still get.
    pub free_bytes: u64,
    /// Reclaimable page cache: `Buffers + Cached + SReclaimable - Shmem`.
    pub cache_bytes: u64,
    /// `used / total` in percent.
    pub usage: f64,
    /// `SwapTotal`.
    pub swap_total_bytes: u64,
    /// `SwapTotal - SwapFree`.
    pub swap_used_bytes: u64,
}

/// Headline resource metrics (`metrics`).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    /// Busy share of all CPUs since the previous sample, in percent.
    pub cpu_usage_percent: f64,
    /// Memory figures.
    pub memory: Memory,
}

/// One mounted filesystem (`disks[]`).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Disk {
    /// Mount source, e.g. `/dev/nvme0n1p2`.
    pub device: String,
    /// Where it is mounted.
    pub mountpoint: String,
    /// Filesystem type, e.g. `ext4`.
    pub filesystem: String,
    /// Filesystem type again, the field older servers read.
    #[serde(rename = "type")]
    pub fs_type: String,
    /// Size in bytes.
    pub total_bytes: u64,
    /// Used bytes (`blocks - bfree`).
    pub used_bytes: u64,
    /// Bytes available to unprivileged users (`bavail`).
    pub free_bytes: u64,
    /// `used / (used + free)` in percent, as `df` computes it.
    pub usage: f64,
}

/// Cumulative I/O counters of one whole disk (`diskIO[]`).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DiskIo {
    /// Kernel device name, e.g. `nvme0n1`.
    pub device: String,
    /// Bytes read (sectors × 512).
    pub read_bytes: u64,
    /// Bytes written (sectors × 512).
    pub write_bytes: u64,
    /// Completed reads.
    pub read_ops: u64,
    /// Completed writes.
    pub write_ops: u64,
    /// Milliseconds spent reading.
    pub read_time_ms: u64,
    /// Milliseconds spent writing.
    pub write_time_ms: u64,
    /// Milliseconds the device was busy.
    pub io_time_ms: u64,
}

/// One network interface (`network[]`).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkInterface {
    /// Interface name.
    pub name: String,
    /// MAC address, when the interface has one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mac: String,
    /// Addresses in CIDR notation.
    pub addresses: Vec<String>,
    /// Cumulative received bytes.
    pub rx_bytes: u64,
    /// Cumulative transmitted bytes.
    pub tx_bytes: u64,
    /// Link speed, when the driver reports one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speed_mbps: Option<u64>,
}

/// Sensor readings (`sensors`).
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Sensors {
    /// Temperatures by sensor name, in °C.
    pub temperature_celsius: BTreeMap<String, f64>,
}

/// The host report POSTed to `/api/agents/agent/report`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HostReport {
    /// Reporting agent.
    pub agent: AgentInfo,
    /// Host identity.
    pub host: HostInfo,
    /// CPU and memory.
    pub metrics: Metrics,
    /// Mounted filesystems.
    pub disks: Vec<Disk>,
    /// Whole-disk I/O counters.
    #[serde(rename = "diskIO")]
    pub disk_io: Vec<DiskIo>,
    /// Network interfaces.
    pub network: Vec<NetworkInterface>,
    /// Sensor readings.
    pub sensors: Sensors,
    /// Free-form tags; the agent sends none of its own.
    pub tags: Vec<String>,
    /// Collection time, RFC 3339.
    pub timestamp: String,
}

/// Docker host facts (`host` of the Docker report).
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct DockerHost {
    /// Hostname the agent reports under.
    pub hostname: String,
    /// Daemon's own name for the host (`/info` `Name`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Contents of `/etc/machine-id`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub machine_id: String,
    /// Operating system as the daemon describes it (`/info` `OperatingSystem`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub os: String,
    /// Container runtime: `docker`.
    pub runtime: String,
    /// Engine version (`/version` `Version`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub runtime_version: String,
    /// Kernel release the daemon reports.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kernel_version: String,
    /// Architecture the daemon reports.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub architecture: String,
    /// Engine version, the field older servers read.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub docker_version: String,
    /// CPUs available to the daemon.
    pub total_cpu: u64,
    /// Memory available to the daemon, in bytes.
    pub total_memory_bytes: u64,
    /// Host uptime in seconds.
    pub uptime_seconds: u64,
    /// Host CPU usage in percent.
    pub cpu_usage_percent: f64,
    /// Host load averages.
    pub load_average: [f64; 3],
    /// Host memory.
    pub memory: Memory,
}

/// A published or exposed container port.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    /// Port inside the container.
    pub private_port: u16,
    /// Port on the host, when published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_port: Option<u16>,
    /// `tcp`, `udp` or `sctp`.
    pub protocol: String,
    /// Host address the port is bound to, when published.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ip: String,
}

/// Cumulative block I/O of a container.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct BlockIo {
    /// Bytes read.
    pub read_bytes: u64,
    /// Bytes written.
    pub write_bytes: u64,
}

/// One container (`containers[]`).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    /// Full container id.
    pub id: String,
    /// Name without the leading slash.
    pub name: String,
    /// Image reference the container was created from.
    pub image: String,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
    pub state: String,
    /// Human status line, e.g. `Up 3 hours (healthy)`.
    pub status: String,
    /// `healthy`, `unhealthy` or `starting`; absent without a health check.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub health: String,
    /// CPU usage in percent of one CPU (100 % = one core busy), as `docker stats` shows it.
    pub cpu_percent: f64,
    /// Memory in use, excluding reclaimable inactive file cache.
    pub memory_usage_bytes: u64,
    /// Memory limit (the host's memory when unlimited).
    pub memory_limit_bytes: u64,
    /// `usage / limit` in percent.
    pub memory_percent: f64,
    /// Seconds since the container started; 0 when not running.
    pub uptime_seconds: u64,
    /// Restarts by the restart policy.
    pub restart_count: u64,
    /// Exit code of the last run.
    pub exit_code: i64,
    /// Whether the last run was killed by the OOM killer.
    pub oom_killed: bool,
    /// Start of the last run, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// End of the last run, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Ports.
    pub ports: Vec<ContainerPort>,
    /// Labels, including compose labels.
    pub labels: BTreeMap<String, String>,
    /// Cumulative bytes received over all container networks.
    pub network_rx_bytes: u64,
    /// Cumulative bytes sent over all container networks.
    pub network_tx_bytes: u64,
    /// Cumulative block I/O; absent when the container is not running.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_io: Option<BlockIo>,
}

/// Agent block of the Docker report (`agent`).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DockerAgentInfo {
    /// Stable agent identifier, the same as in the host report.
    pub id: String,
    /// Agent version.
    pub version: String,
    /// Agent kind; always [`AGENT_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// Configured report interval.
    pub interval_seconds: u64,
}

/// The Docker report POSTed to `/api/agents/docker/report`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DockerReport {
    /// Reporting agent.
    pub agent: DockerAgentInfo,
    /// Docker host facts.
    pub host: DockerHost,
    /// All containers, running or not.
    pub containers: Vec<Container>,
    /// Collection time, RFC 3339.
    pub timestamp: String,
}

/// Rounds a percentage or ratio to two decimals, enough for display and smaller on the wire.
pub fn round2(x: f64) -> f64 {
    if x.is_finite() {
        (x * 100.0).round() / 100.0
    } else {
        0.0
    }
}

/// `part / whole` in percent, 0 when `whole` is 0, rounded to two decimals.
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        round2(part as f64 * 100.0 / whole as f64)
    }
}
