//! One poll of a Proxmox VE cluster (reference §17 steps 1, 2, 4, 5): everything fetched, nothing
//! interpreted. The result is plain data for [`crate::sources::proxmox::normalise::pve`].
//!
//! Only `/nodes` and `/cluster/resources` are essential; any other call that fails becomes a
//! warning and leaves its part empty, so one broken storage or a node that just went down never
//! fails the whole poll.

use futures_util::stream::{self, StreamExt};

use crate::sources::proxmox::error::PlatformError;

use super::client::{PveClient, RrdMemory};
use super::types::{
    CephStatus, GuestResource, NodeEntry, NodeStatus, NodeStorage, PhysicalDisk, ReplicationJob,
    ReplicationStatus, Task, Version, ZfsPool, ZfsPoolDetail,
};

/// How many nodes are polled at once (each node issues a handful of requests).
const NODE_CONCURRENCY: usize = 8;

/// Which optional parts a poll fetches; the collector turns slow-changing parts on every few
/// cycles (disks every 5 min, backups every N cycles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPlan {
    /// Physical disks (`/disks/list`).
    pub disks: bool,
    /// vzdump tasks.
    pub backups: bool,
    /// Ceph status.
    pub ceph: bool,
    /// Replication jobs and their status.
    pub replication: bool,
}

impl Default for PollPlan {
    fn default() -> Self {
        PollPlan {
            disks: true,
            backups: true,
            ceph: true,
            replication: true,
        }
    }
}

/// A ZFS pool and, when it is not healthy, its detail.
#[derive(Debug, Clone, PartialEq)]
pub struct ZfsPoolReport {
    /// The list entry.
    pub pool: ZfsPool,
    /// Detail (state, status, action), fetched only for pools not `ONLINE`.
    pub detail: Option<ZfsPoolDetail>,
}

/// Everything fetched about one node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodePoll {
    /// The `/nodes` entry.
    pub entry: NodeEntry,
    /// Address from `/cluster/status`.
    pub ip: Option<String>,
    /// `/nodes/{n}/status`, when the node is online and answered.
    pub status: Option<NodeStatus>,
    /// RRD memory, fetched only when the status lacks cache-aware memory.
    pub rrd: Option<RrdMemory>,
    /// Storages.
    pub storage: Vec<NodeStorage>,
    /// ZFS pools.
    pub zfs: Vec<ZfsPoolReport>,
    /// Physical disks, `None` when not fetched this cycle.
    pub disks: Option<Vec<PhysicalDisk>>,
    /// vzdump tasks, `None` when not fetched this cycle.
    pub backup_tasks: Option<Vec<Task>>,
    /// Calls about this node that failed, one line each.
    pub warnings: Vec<String>,
}

/// A replication job with its status.
#[derive(Debug, Clone, PartialEq)]
pub struct Replication {
    /// The job.
    pub job: ReplicationJob,
    /// Its status, when it could be read.
    pub status: Option<ReplicationStatus>,
}

/// The raw result of one PVE poll.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PvePoll {
    /// `/version`.
    pub version: Option<Version>,
    /// Cluster name, when the instance is a cluster.
    pub cluster_name: Option<String>,
    /// Whether the cluster is quorate.
    pub quorate: Option<bool>,
    /// Nodes in `/nodes` order.
    pub nodes: Vec<NodePoll>,
    /// Guests from `/cluster/resources?type=vm` (templates included).
    pub guests: Vec<GuestResource>,
    /// Ceph status, when Ceph is configured and was polled.
    pub ceph: Option<CephStatus>,
    /// Replication, `None` when not polled.
    pub replication: Option<Vec<Replication>>,
    /// Whether backup tasks were polled this cycle (per node in [`NodePoll::backup_tasks`]).
    pub backups_polled: bool,
    /// Whether disks were polled this cycle.
    pub disks_polled: bool,
    /// Malformed list items skipped, over all lists.
    pub skipped: usize,
    /// Non-fatal failures of cluster-wide calls, one line each, naming the call (per-node ones
    /// are in [`NodePoll::warnings`]).
    pub warnings: Vec<String>,
}

impl PvePoll {
    /// Every non-fatal failure of the poll, cluster-wide and per node.
    pub fn all_warnings(&self) -> impl Iterator<Item = &str> {
        self.warnings
            .iter()
            .chain(self.nodes.iter().flat_map(|n| n.warnings.iter()))
            .map(String::as_str)
    }
}

/// Polls the cluster: `/nodes`, `/cluster/status`, `/cluster/resources?type=vm`, then per online
/// node status, storage, ZFS (and optionally disks and backup tasks), plus Ceph and replication.
/// Fails only when the node or guest listing fails.
pub async fn poll_pve(client: &PveClient, plan: PollPlan) -> Result<PvePoll, PlatformError> {
    let mut poll = PvePoll {
        backups_polled: plan.backups,
        disks_polled: plan.disks,
        ..PvePoll::default()
    };
    let (nodes, guests, cluster, version) = tokio::join!(
        client.nodes(),
        client.guests(),
        client.cluster_status(),
        client.version()
    );
    let nodes = nodes?;
    let guests = guests?;
    poll.skipped += nodes.skipped + guests.skipped;
    poll.guests = guests.items;
    match version {
        Ok(v) => poll.version = Some(v),
        Err(e) => poll.warnings.push(format!("version: {e}")),
    }
    let mut ips = std::collections::HashMap::new();
    match cluster {
        Ok(entries) => {
            poll.skipped += entries.skipped;
            for entry in entries.items {
                match entry.kind.as_str() {
                    "cluster" => {
                        poll.cluster_name = entry.name;
                        poll.quorate = Some(entry.quorate);
                    }
                    "node" => {
                        if let (Some(name), Some(ip)) = (entry.name, entry.ip) {
                            ips.insert(name, ip);
                        }
                    }
                    _ => {}
                }
            }
        }
        Err(e) => poll.warnings.push(format!("cluster status: {e}")),
    }

    let results: Vec<(NodePoll, usize)> = stream::iter(nodes.items)
        .map(|entry| {
            let ip = ips.remove(&entry.node);
            poll_node(client, entry, ip, plan)
        })
        .buffered(NODE_CONCURRENCY)
        .collect()
        .await;
    for (node, skipped) in results {
        poll.nodes.push(node);
        poll.skipped += skipped;
    }

    if plan.ceph {
        match client.ceph_status().await {
            Ok(status) => poll.ceph = Some(status),
            // PVE answers 500 ("binary not installed", "got timeout") when Ceph is not set up.
            Err(PlatformError::Http { .. }) => {}
            Err(e) => poll.warnings.push(format!("ceph: {e}")),
        }
    }
    if plan.replication {
        poll.replication = Some(poll_replication(client, &poll.guests, &mut poll.warnings).await);
    }
    Ok(poll)
}

/// Everything about one node; an offline node gets only its `/nodes` entry.
async fn poll_node(
    client: &PveClient,
    entry: NodeEntry,
    ip: Option<String>,
    plan: PollPlan,
) -> (NodePoll, usize) {
    let mut warnings = Vec::new();
    let mut skipped = 0;
    let mut node = NodePoll {
        entry,
        ip,
        status: None,
        rrd: None,
        storage: Vec::new(),
        zfs: Vec::new(),
        disks: None,
        backup_tasks: None,
        warnings: Vec::new(),
    };
    if !node.entry.is_online() {
        return (node, skipped);
    }
    let name = node.entry.node.clone();
    let (status, storage, zfs, disks, tasks) = tokio::join!(
        client.node_status(&name),
        client.storage(&name),
        client.zfs_pools(&name),
        async {
            if plan.disks {
                Some(client.disks(&name).await)
            } else {
                None
            }
        },
        async {
            if plan.backups {
                Some(client.backup_tasks(&name).await)
            } else {
                None
            }
        },
    );
    let mut warn = |what: &str, e: PlatformError| warnings.push(format!("{what} on {name}: {e}"));
    match status {
        Ok(status) => node.status = Some(status),
        Err(e) => warn("node status", e),
    }
    match storage {
        Ok(list) => {
            skipped += list.skipped;
            node.storage = list.items;
        }
        Err(e) => warn("storage", e),
    }
    let pools = match zfs {
        Ok(list) => {
            skipped += list.skipped;
            list.items
        }
        // Nodes without ZFS answer an error for this path; that is not worth a warning.
        Err(PlatformError::Http { .. }) => Vec::new(),
        Err(e) => {
            warn("zfs", e);
            Vec::new()
        }
    };
    match disks {
        Some(Ok(list)) => {
            skipped += list.skipped;
            node.disks = Some(list.items);
        }
        Some(Err(e)) => warn("disks", e),
        None => {}
    }
    match tasks {
        Some(Ok(list)) => {
            skipped += list.skipped;
            node.backup_tasks = Some(list.items);
        }
        Some(Err(e)) => warn("backup tasks", e),
        None => {}
    }
    for pool in pools {
        let healthy = pool.health.as_deref().is_none_or(|h| h == "ONLINE");
        let detail = if healthy {
            None
        } else {
            match client.zfs_pool_detail(&name, &pool.name).await {
                Ok(detail) => Some(detail),
                Err(e) => {
                    warn("zfs pool detail", e);
                    None
                }
            }
        };
        node.zfs.push(ZfsPoolReport { pool, detail });
    }
    if node.status.as_ref().is_some_and(needs_rrd) {
        match client.node_rrd_memory(&name).await {
            Ok(rrd) => node.rrd = Some(rrd),
            Err(e) => warn("node rrd", e),
        }
    }
    node.warnings = warnings;
    (node, skipped)
}

/// Whether a node status lacks every cache-aware memory figure (§1.4), so the RRD must fill in.
pub fn needs_rrd(status: &NodeStatus) -> bool {
    let m = &status.memory;
    let positive = |v: Option<u64>| v.is_some_and(|v| v > 0);
    !(positive(m.available) || positive(m.avail) || m.buffers.is_some() || m.cached.is_some())
}

/// Replication jobs with their status, read from the guest's current node when the job does not
/// name its source.
async fn poll_replication(
    client: &PveClient,
    guests: &[GuestResource],
    warnings: &mut Vec<String>,
) -> Vec<Replication> {
    let jobs = match client.replication_jobs().await {
        Ok(list) => list.items,
        Err(e) => {
            warnings.push(format!("replication: {e}"));
            return Vec::new();
        }
    };
    let results: Vec<(Replication, Option<String>)> = stream::iter(jobs)
        .map(|job| async move {
            let node = job.source.clone().or_else(|| {
                guests
                    .iter()
                    .find(|g| g.vmid == job.guest)
                    .map(|g| g.node.clone())
            });
            let Some(node) = node else {
                return (Replication { job, status: None }, None);
            };
            match client.replication_status(&node, &job.id).await {
                Ok(status) => (
                    Replication {
                        job,
                        status: Some(status),
                    },
                    None,
                ),
                Err(e) => {
                    let warning = format!("replication {} on {node}: {e}", job.id);
                    (Replication { job, status: None }, Some(warning))
                }
            }
        })
        .buffered(NODE_CONCURRENCY)
        .collect()
        .await;
    results
        .into_iter()
        .map(|(replication, warning)| {
            warnings.extend(warning);
            replication
        })
        .collect()
}
