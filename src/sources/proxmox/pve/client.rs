//! [`PveClient`]: typed calls to the Proxmox VE endpoints of reference §1.2, over a
//! [`ClusterClient`] (failover across the cluster's endpoints).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::sources::proxmox::cluster::{ClusterClient, RetryPolicy};
use crate::sources::proxmox::endpoint::{segment, EndpointSettings, Product};
use crate::sources::proxmox::error::PlatformError;
use crate::sources::proxmox::flex::Listing;

use super::types::{
    CephStatus, ClusterStatusEntry, GuestResource, NodeEntry, NodeStatus, NodeStorage,
    PhysicalDisk, ReplicationJob, ReplicationStatus, RrdPoint, Task, Version, ZfsPool,
    ZfsPoolDetail,
};

/// Storage calls are capped at this timeout (a hung NFS mount must not hold the poll for 60 s).
pub const STORAGE_TIMEOUT: Duration = Duration::from_secs(30);
/// Timeout of the node RRD call, which only fills a gap.
pub const RRD_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a node's RRD memory reading is reused.
pub const RRD_CACHE_TTL: Duration = Duration::from_secs(30);
/// How many vzdump tasks are read per node.
pub const BACKUP_TASK_LIMIT: u32 = 200;

/// Memory figures from a node's RRD, the fallback when its status lacks cache-aware memory.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RrdMemory {
    /// Cache-aware available bytes.
    pub available: Option<u64>,
    /// Used bytes (cache included).
    pub used: Option<u64>,
    /// Total bytes.
    pub total: Option<u64>,
}

/// A Proxmox VE cluster (or single node) client.
#[derive(Debug)]
pub struct PveClient {
    api: ClusterClient,
    rrd_cache: Mutex<HashMap<String, (Instant, RrdMemory)>>,
}

impl PveClient {
    /// A client over the cluster's endpoints, in order of preference.
    pub fn new(endpoints: &[EndpointSettings]) -> Result<Self, PlatformError> {
        Ok(PveClient {
            api: ClusterClient::new(Product::Pve, endpoints)?,
            rrd_cache: Mutex::new(HashMap::new()),
        })
    }

    /// The same client with another retry/failover policy.
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.api = self.api.with_policy(policy);
        self
    }

    /// The underlying cluster client (health, raw calls).
    pub fn api(&self) -> &ClusterClient {
        &self.api
    }

    /// `GET /version`.
    pub async fn version(&self) -> Result<Version, PlatformError> {
        self.api.get("/version").await
    }

    /// `GET /nodes`.
    pub async fn nodes(&self) -> Result<Listing<NodeEntry>, PlatformError> {
        self.api.get_list("/nodes").await
    }

    /// `GET /nodes/{node}/status`.
    pub async fn node_status(&self, node: &str) -> Result<NodeStatus, PlatformError> {
        self.api
            .get(&format!("/nodes/{}/status", segment(node)))
            .await
    }

    /// Memory from the node's RRD (latest point that has it), cached for [`RRD_CACHE_TTL`].
    pub async fn node_rrd_memory(&self, node: &str) -> Result<RrdMemory, PlatformError> {
        let now = Instant::now();
        if let Some((at, memory)) = self.rrd_cache().get(node) {
            if now.duration_since(*at) < RRD_CACHE_TTL {
                return Ok(*memory);
            }
        }
        let path = format!("/nodes/{}/rrddata?timeframe=hour&cf=AVERAGE", segment(node));
        let points: Listing<RrdPoint> = self.api.get_list_with_timeout(&path, RRD_TIMEOUT).await?;
        let latest = |f: fn(&RrdPoint) -> Option<f64>| {
            points
                .items
                .iter()
                .rev()
                .find_map(|p| f(p).filter(|v| *v > 0.0))
                .map(|v| v as u64)
        };
        let memory = RrdMemory {
            available: latest(|p| p.memavailable),
            used: latest(|p| p.memused),
            total: latest(|p| p.memtotal),
        };
        self.rrd_cache().insert(node.to_owned(), (now, memory));
        Ok(memory)
    }

    /// The RRD cache, poison-tolerant.
    fn rrd_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, RrdMemory)>> {
        self.rrd_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// `GET /cluster/status`.
    pub async fn cluster_status(&self) -> Result<Listing<ClusterStatusEntry>, PlatformError> {
        self.api.get_list("/cluster/status").await
    }

    /// `GET /cluster/resources?type=vm`: every guest of the cluster (templates included).
    pub async fn guests(&self) -> Result<Listing<GuestResource>, PlatformError> {
        self.api.get_list("/cluster/resources?type=vm").await
    }

    /// `GET /nodes/{node}/storage`, capped at [`STORAGE_TIMEOUT`].
    pub async fn storage(&self, node: &str) -> Result<Listing<NodeStorage>, PlatformError> {
        let timeout = STORAGE_TIMEOUT.min(self.api.primary().timeout());
        self.api
            .get_list_with_timeout(&format!("/nodes/{}/storage", segment(node)), timeout)
            .await
    }

    /// `GET /nodes/{node}/disks/zfs`.
    pub async fn zfs_pools(&self, node: &str) -> Result<Listing<ZfsPool>, PlatformError> {
        self.api
            .get_list(&format!("/nodes/{}/disks/zfs", segment(node)))
            .await
    }

    /// `GET /nodes/{node}/disks/zfs/{pool}`.
    pub async fn zfs_pool_detail(
        &self,
        node: &str,
        pool: &str,
    ) -> Result<ZfsPoolDetail, PlatformError> {
        self.api
            .get(&format!(
                "/nodes/{}/disks/zfs/{}",
                segment(node),
                segment(pool)
            ))
            .await
    }

    /// `GET /nodes/{node}/disks/list`.
    pub async fn disks(&self, node: &str) -> Result<Listing<PhysicalDisk>, PlatformError> {
        self.api
            .get_list(&format!("/nodes/{}/disks/list", segment(node)))
            .await
    }

    /// `GET /cluster/ceph/status`.
    pub async fn ceph_status(&self) -> Result<CephStatus, PlatformError> {
        self.api.get("/cluster/ceph/status").await
    }

    /// `GET /cluster/replication`.
    pub async fn replication_jobs(&self) -> Result<Listing<ReplicationJob>, PlatformError> {
        self.api.get_list("/cluster/replication").await
    }

    /// `GET /nodes/{node}/replication/{id}/status`.
    pub async fn replication_status(
        &self,
        node: &str,
        id: &str,
    ) -> Result<ReplicationStatus, PlatformError> {
        self.api
            .get(&format!(
                "/nodes/{}/replication/{}/status",
                segment(node),
                segment(id)
            ))
            .await
    }

    /// `GET /nodes/{node}/tasks?typefilter=vzdump&source=all&limit=200`.
    pub async fn backup_tasks(&self, node: &str) -> Result<Listing<Task>, PlatformError> {
        self.api
            .get_list(&format!(
                "/nodes/{}/tasks?typefilter=vzdump&source=all&limit={BACKUP_TASK_LIMIT}",
                segment(node)
            ))
            .await
    }
}
