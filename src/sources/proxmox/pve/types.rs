//! Wire shapes of the Proxmox VE endpoints Pulse reads (reference §1.2–§1.4), decoded tolerantly:
//! every number may arrive as a string, optional fields may be missing, unknown fields are
//! ignored. Fields that identify an item (`node`, `vmid`, `storage`, `devpath`) are required, so
//! an item without them is malformed and skipped.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::sources::proxmox::flex;

/// `GET /version`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Version {
    /// e.g. `8.2.4`.
    #[serde(default, deserialize_with = "flex::string")]
    pub version: Option<String>,
    /// e.g. `8.2`.
    #[serde(default, deserialize_with = "flex::string")]
    pub release: Option<String>,
    /// Git revision.
    #[serde(default, deserialize_with = "flex::string")]
    pub repoid: Option<String>,
}

/// One entry of `GET /nodes`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NodeEntry {
    /// Node name.
    pub node: String,
    /// `online`, `offline` or `unknown`.
    #[serde(default)]
    pub status: Option<String>,
    /// CPU use as a fraction of `maxcpu`.
    #[serde(default, deserialize_with = "flex::f64")]
    pub cpu: Option<f64>,
    /// Logical CPUs.
    #[serde(default, deserialize_with = "flex::u64")]
    pub maxcpu: Option<u64>,
    /// Memory used (bytes, cache included).
    #[serde(default, deserialize_with = "flex::u64")]
    pub mem: Option<u64>,
    /// Memory size.
    #[serde(default, deserialize_with = "flex::u64")]
    pub maxmem: Option<u64>,
    /// Root filesystem used.
    #[serde(default, deserialize_with = "flex::u64")]
    pub disk: Option<u64>,
    /// Root filesystem size.
    #[serde(default, deserialize_with = "flex::u64")]
    pub maxdisk: Option<u64>,
    /// Seconds since boot.
    #[serde(default, deserialize_with = "flex::u64")]
    pub uptime: Option<u64>,
    /// Subscription level.
    #[serde(default, deserialize_with = "flex::string")]
    pub level: Option<String>,
}

impl NodeEntry {
    /// Whether PVE reports the node online.
    pub fn is_online(&self) -> bool {
        self.status.as_deref() == Some("online")
    }
}

/// `GET /nodes/{node}/status`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct NodeStatus {
    /// CPU use fraction.
    #[serde(default, deserialize_with = "flex::f64")]
    pub cpu: Option<f64>,
    /// IO wait fraction.
    #[serde(default, deserialize_with = "flex::f64")]
    pub wait: Option<f64>,
    /// Seconds since boot.
    #[serde(default, deserialize_with = "flex::u64")]
    pub uptime: Option<u64>,
    /// 1/5/15-minute load averages (strings or numbers on the wire).
    #[serde(default, deserialize_with = "flex::loadavg")]
    pub loadavg: Vec<f64>,
    /// Kernel version line.
    #[serde(default, deserialize_with = "flex::string")]
    pub kversion: Option<String>,
    /// `pve-manager/8.2.4/…`.
    #[serde(default, deserialize_with = "flex::string")]
    pub pveversion: Option<String>,
    /// CPU model and topology.
    #[serde(default)]
    pub cpuinfo: CpuInfo,
    /// Memory figures.
    #[serde(default)]
    pub memory: NodeMemory,
    /// Swap.
    #[serde(default)]
    pub swap: Usage,
    /// Root filesystem.
    #[serde(default)]
    pub rootfs: Usage,
}

/// `cpuinfo` of a node status.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CpuInfo {
    /// Model name.
    #[serde(default, deserialize_with = "flex::string")]
    pub model: Option<String>,
    /// Cores per socket.
    #[serde(default, deserialize_with = "flex::u64")]
    pub cores: Option<u64>,
    /// Sockets.
    #[serde(default, deserialize_with = "flex::u64")]
    pub sockets: Option<u64>,
    /// Logical CPUs.
    #[serde(default, deserialize_with = "flex::u64")]
    pub cpus: Option<u64>,
    /// Clock in MHz (often a string).
    #[serde(default, deserialize_with = "flex::f64")]
    pub mhz: Option<f64>,
}

/// `memory` of a node status: `available`/`avail`, `buffers`, `cached` are optional by version.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct NodeMemory {
    /// Total bytes.
    #[serde(default, deserialize_with = "flex::u64")]
    pub total: Option<u64>,
    /// Used bytes (cache included on most versions).
    #[serde(default, deserialize_with = "flex::u64")]
    pub used: Option<u64>,
    /// Free bytes.
    #[serde(default, deserialize_with = "flex::u64")]
    pub free: Option<u64>,
    /// Available bytes (cache-aware), newer versions.
    #[serde(default, deserialize_with = "flex::u64")]
    pub available: Option<u64>,
    /// Available bytes under the older name.
    #[serde(default, deserialize_with = "flex::u64")]
    pub avail: Option<u64>,
    /// Buffers.
    #[serde(default, deserialize_with = "flex::u64")]
    pub buffers: Option<u64>,
    /// Page cache.
    #[serde(default, deserialize_with = "flex::u64")]
    pub cached: Option<u64>,
    /// Shared memory.
    #[serde(default, deserialize_with = "flex::u64")]
    pub shared: Option<u64>,
}

/// A total/used/free triple (swap, root filesystem).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Usage {
    /// Total bytes.
    #[serde(default, deserialize_with = "flex::u64")]
    pub total: Option<u64>,
    /// Used bytes.
    #[serde(default, deserialize_with = "flex::u64")]
    pub used: Option<u64>,
    /// Free bytes.
    #[serde(default, deserialize_with = "flex::u64")]
    pub free: Option<u64>,
    /// Available bytes (root filesystem).
    #[serde(default, deserialize_with = "flex::u64")]
    pub avail: Option<u64>,
}

/// One point of `GET /nodes/{node}/rrddata`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct RrdPoint {
    /// Unix seconds.
    #[serde(default, deserialize_with = "flex::u64")]
    pub time: Option<u64>,
    /// Total memory.
    #[serde(default, deserialize_with = "flex::f64")]
    pub memtotal: Option<f64>,
    /// Used memory (cache included).
    #[serde(default, deserialize_with = "flex::f64")]
    pub memused: Option<f64>,
    /// Available memory (cache-aware).
    #[serde(default, deserialize_with = "flex::f64")]
    pub memavailable: Option<f64>,
}

/// One entry of `GET /cluster/status`: the cluster itself or a member node.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ClusterStatusEntry {
    /// `cluster` or `node`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Cluster or node name.
    #[serde(default, deserialize_with = "flex::string")]
    pub name: Option<String>,
    /// Node address.
    #[serde(default, deserialize_with = "flex::string")]
    pub ip: Option<String>,
    /// Whether this is the node that answered.
    #[serde(default, deserialize_with = "flex::bool")]
    pub local: bool,
    /// Whether the node is online.
    #[serde(default, deserialize_with = "flex::bool")]
    pub online: bool,
    /// Cluster quorum.
    #[serde(default, deserialize_with = "flex::bool")]
    pub quorate: bool,
    /// Cluster member count.
    #[serde(default, deserialize_with = "flex::u64")]
    pub nodes: Option<u64>,
}

/// A guest (`qemu` or `lxc`) entry of `GET /cluster/resources?type=vm`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GuestResource {
    /// `qemu` or `lxc`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Guest id (sometimes a string).
    #[serde(deserialize_with = "flex::required_u64")]
    pub vmid: u64,
    /// The node it runs on.
    pub node: String,
    /// Name.
    #[serde(default, deserialize_with = "flex::string")]
    pub name: Option<String>,
    /// `running`, `stopped`, `paused`, `unknown`.
    #[serde(default)]
    pub status: Option<String>,
    /// CPU use as a fraction of `maxcpu`.
    #[serde(default, deserialize_with = "flex::f64")]
    pub cpu: Option<f64>,
    /// Virtual CPUs.
    #[serde(default, deserialize_with = "flex::f64")]
    pub maxcpu: Option<f64>,
    /// Memory used (cache included).
    #[serde(default, deserialize_with = "flex::u64")]
    pub mem: Option<u64>,
    /// Memory size.
    #[serde(default, deserialize_with = "flex::u64")]
    pub maxmem: Option<u64>,
    /// Disk used (0 for running VMs: PVE does not know).
    #[serde(default, deserialize_with = "flex::u64")]
    pub disk: Option<u64>,
    /// Disk size.
    #[serde(default, deserialize_with = "flex::u64")]
    pub maxdisk: Option<u64>,
    /// Cumulative bytes received.
    #[serde(default, deserialize_with = "flex::u64")]
    pub netin: Option<u64>,
    /// Cumulative bytes sent.
    #[serde(default, deserialize_with = "flex::u64")]
    pub netout: Option<u64>,
    /// Cumulative bytes read.
    #[serde(default, deserialize_with = "flex::u64")]
    pub diskread: Option<u64>,
    /// Cumulative bytes written.
    #[serde(default, deserialize_with = "flex::u64")]
    pub diskwrite: Option<u64>,
    /// Seconds since start.
    #[serde(default, deserialize_with = "flex::u64")]
    pub uptime: Option<u64>,
    /// Whether this is a template.
    #[serde(default, deserialize_with = "flex::bool")]
    pub template: bool,
    /// `;`-separated tags.
    #[serde(default, deserialize_with = "flex::string")]
    pub tags: Option<String>,
    /// Resource pool.
    #[serde(default, deserialize_with = "flex::string")]
    pub pool: Option<String>,
    /// Lock (`backup`, `migrate`, …).
    #[serde(default, deserialize_with = "flex::string")]
    pub lock: Option<String>,
    /// HA state.
    #[serde(default, deserialize_with = "flex::string")]
    pub hastate: Option<String>,
}

impl GuestResource {
    /// Whether this is an LXC container (otherwise a QEMU VM).
    pub fn is_lxc(&self) -> bool {
        self.kind == "lxc"
    }
}

/// One entry of `GET /nodes/{node}/storage`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NodeStorage {
    /// Storage id.
    pub storage: String,
    /// Plugin type (`dir`, `lvmthin`, `zfspool`, `nfs`, `pbs`, …).
    #[serde(rename = "type", default, deserialize_with = "flex::string")]
    pub kind: Option<String>,
    /// Content types, comma-separated.
    #[serde(default, deserialize_with = "flex::string")]
    pub content: Option<String>,
    /// Whether it is active on this node.
    #[serde(default, deserialize_with = "flex::bool")]
    pub active: bool,
    /// Whether it is enabled (absent means enabled).
    #[serde(default, deserialize_with = "flex::i64")]
    pub enabled: Option<i64>,
    /// Whether it is shared between nodes.
    #[serde(default, deserialize_with = "flex::bool")]
    pub shared: bool,
    /// Total bytes.
    #[serde(default, deserialize_with = "flex::u64")]
    pub total: Option<u64>,
    /// Used bytes.
    #[serde(default, deserialize_with = "flex::u64")]
    pub used: Option<u64>,
    /// Available bytes.
    #[serde(default, deserialize_with = "flex::u64")]
    pub avail: Option<u64>,
}

impl NodeStorage {
    /// Enabled unless explicitly `0`.
    pub fn is_enabled(&self) -> bool {
        self.enabled != Some(0)
    }
}

/// One entry of `GET /nodes/{node}/disks/zfs`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ZfsPool {
    /// Pool name.
    pub name: String,
    /// `ONLINE`, `DEGRADED`, `FAULTED`, …
    #[serde(default, deserialize_with = "flex::string")]
    pub health: Option<String>,
    /// Size bytes.
    #[serde(default, deserialize_with = "flex::u64")]
    pub size: Option<u64>,
    /// Allocated bytes.
    #[serde(default, deserialize_with = "flex::u64")]
    pub alloc: Option<u64>,
    /// Free bytes.
    #[serde(default, deserialize_with = "flex::u64")]
    pub free: Option<u64>,
    /// Fragmentation percent.
    #[serde(default, deserialize_with = "flex::f64")]
    pub frag: Option<f64>,
    /// Dedup ratio.
    #[serde(default, deserialize_with = "flex::f64")]
    pub dedup: Option<f64>,
}

/// `GET /nodes/{node}/disks/zfs/{pool}`: the detail fetched for pools that are not healthy.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ZfsPoolDetail {
    /// Pool state.
    #[serde(default, deserialize_with = "flex::string")]
    pub state: Option<String>,
    /// zpool's status text.
    #[serde(default, deserialize_with = "flex::string")]
    pub status: Option<String>,
    /// zpool's suggested action.
    #[serde(default, deserialize_with = "flex::string")]
    pub action: Option<String>,
    /// Scrub/resilver line.
    #[serde(default, deserialize_with = "flex::string")]
    pub scan: Option<String>,
    /// Error summary.
    #[serde(default, deserialize_with = "flex::string")]
    pub errors: Option<String>,
}

/// One entry of `GET /nodes/{node}/disks/list`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PhysicalDisk {
    /// Device path, e.g. `/dev/sda`.
    pub devpath: String,
    /// Model.
    #[serde(default, deserialize_with = "flex::string")]
    pub model: Option<String>,
    /// Serial number.
    #[serde(default, deserialize_with = "flex::string")]
    pub serial: Option<String>,
    /// `nvme`, `ssd`, `hdd`, …
    #[serde(rename = "type", default, deserialize_with = "flex::string")]
    pub kind: Option<String>,
    /// SMART health: `PASSED`, `OK`, `FAILED`, `UNKNOWN`.
    #[serde(default, deserialize_with = "flex::string")]
    pub health: Option<String>,
    /// Percent of life used up (or `"N/A"`).
    #[serde(default, deserialize_with = "flex::f64")]
    pub wearout: Option<f64>,
    /// Size bytes.
    #[serde(default, deserialize_with = "flex::u64")]
    pub size: Option<u64>,
    /// Spindle speed.
    #[serde(default, deserialize_with = "flex::u64")]
    pub rpm: Option<u64>,
    /// What uses it (`LVM`, `ZFS`, `partitions`, …).
    #[serde(default, deserialize_with = "flex::string")]
    pub used: Option<String>,
    /// Vendor.
    #[serde(default, deserialize_with = "flex::string")]
    pub vendor: Option<String>,
    /// World wide name.
    #[serde(default, deserialize_with = "flex::string")]
    pub wwn: Option<String>,
}

/// `GET /cluster/ceph/status` (the parts Pulse shows).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CephStatus {
    /// Cluster id.
    #[serde(default, deserialize_with = "flex::string")]
    pub fsid: Option<String>,
    /// Health.
    #[serde(default)]
    pub health: CephHealth,
    /// OSD counts; newer Ceph puts them directly here, older ones one level deeper.
    #[serde(default)]
    pub osdmap: CephOsdMap,
    /// Placement groups and capacity.
    #[serde(default)]
    pub pgmap: CephPgMap,
    /// Monitors in quorum.
    #[serde(default)]
    pub quorum_names: Vec<String>,
}

/// Ceph health.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CephHealth {
    /// `HEALTH_OK`, `HEALTH_WARN`, `HEALTH_ERR`.
    #[serde(default, deserialize_with = "flex::string")]
    pub status: Option<String>,
    /// Active checks by name.
    #[serde(default)]
    pub checks: BTreeMap<String, CephCheck>,
}

/// One Ceph health check.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CephCheck {
    /// `HEALTH_WARN` or `HEALTH_ERR`.
    #[serde(default, deserialize_with = "flex::string")]
    pub severity: Option<String>,
    /// Summary.
    #[serde(default)]
    pub summary: CephSummary,
}

/// The summary of a Ceph health check.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CephSummary {
    /// One-line message.
    #[serde(default, deserialize_with = "flex::string")]
    pub message: Option<String>,
}

/// Ceph OSD counts (flat or nested one level as `osdmap.osdmap`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CephOsdMap {
    /// OSDs.
    #[serde(default, deserialize_with = "flex::u64")]
    pub num_osds: Option<u64>,
    /// OSDs up.
    #[serde(default, deserialize_with = "flex::u64")]
    pub num_up_osds: Option<u64>,
    /// OSDs in.
    #[serde(default, deserialize_with = "flex::u64")]
    pub num_in_osds: Option<u64>,
    /// The older nested form.
    #[serde(default)]
    pub osdmap: Option<Box<CephOsdMap>>,
}

impl CephOsdMap {
    /// The flat counts, taken from the nested form when the flat one is missing.
    pub fn counts(&self) -> (Option<u64>, Option<u64>, Option<u64>) {
        match (&self.num_osds, &self.osdmap) {
            (None, Some(inner)) => (inner.num_osds, inner.num_up_osds, inner.num_in_osds),
            _ => (self.num_osds, self.num_up_osds, self.num_in_osds),
        }
    }
}

/// Ceph placement groups and capacity.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CephPgMap {
    /// Placement groups.
    #[serde(default, deserialize_with = "flex::u64")]
    pub num_pgs: Option<u64>,
    /// Raw capacity.
    #[serde(default, deserialize_with = "flex::u64")]
    pub bytes_total: Option<u64>,
    /// Raw used.
    #[serde(default, deserialize_with = "flex::u64")]
    pub bytes_used: Option<u64>,
    /// Raw available.
    #[serde(default, deserialize_with = "flex::u64")]
    pub bytes_avail: Option<u64>,
}

/// One job of `GET /cluster/replication`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ReplicationJob {
    /// Job id, `<vmid>-<n>`.
    pub id: String,
    /// Guest id.
    #[serde(deserialize_with = "flex::required_u64")]
    pub guest: u64,
    /// Target node.
    #[serde(default, deserialize_with = "flex::string")]
    pub target: Option<String>,
    /// Source node, when recorded.
    #[serde(default, deserialize_with = "flex::string")]
    pub source: Option<String>,
    /// Schedule.
    #[serde(default, deserialize_with = "flex::string")]
    pub schedule: Option<String>,
    /// Whether the job is disabled.
    #[serde(default, deserialize_with = "flex::bool")]
    pub disable: bool,
}

/// `GET /nodes/{node}/replication/{id}/status`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ReplicationStatus {
    /// Last successful sync (unix s).
    #[serde(default, deserialize_with = "flex::i64")]
    pub last_sync: Option<i64>,
    /// Next planned sync (unix s).
    #[serde(default, deserialize_with = "flex::i64")]
    pub next_sync: Option<i64>,
    /// Consecutive failures.
    #[serde(default, deserialize_with = "flex::u64")]
    pub fail_count: Option<u64>,
    /// Duration of the last run (s).
    #[serde(default, deserialize_with = "flex::f64")]
    pub duration: Option<f64>,
    /// State text.
    #[serde(default, deserialize_with = "flex::string")]
    pub state: Option<String>,
    /// Last error.
    #[serde(default, deserialize_with = "flex::string")]
    pub error: Option<String>,
}

/// One entry of `GET /nodes/{node}/tasks`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Task {
    /// Unique task id.
    pub upid: String,
    /// Node.
    #[serde(default, deserialize_with = "flex::string")]
    pub node: Option<String>,
    /// Task type (`vzdump`, …).
    #[serde(rename = "type", default, deserialize_with = "flex::string")]
    pub kind: Option<String>,
    /// Object id (the vmid for vzdump; empty for "all guests").
    #[serde(default, deserialize_with = "flex::string")]
    pub id: Option<String>,
    /// Who started it.
    #[serde(default, deserialize_with = "flex::string")]
    pub user: Option<String>,
    /// `OK`, an error text, or absent while running.
    #[serde(default, deserialize_with = "flex::string")]
    pub status: Option<String>,
    /// Start (unix s).
    #[serde(default, deserialize_with = "flex::i64")]
    pub starttime: Option<i64>,
    /// End (unix s).
    #[serde(default, deserialize_with = "flex::i64")]
    pub endtime: Option<i64>,
}
