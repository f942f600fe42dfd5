//! [`PbsClient`]: typed calls to a Proxmox Backup Server (reference §2). The snapshot listing is
//! streamed and folded into per-group summaries as it arrives.

use std::time::Duration;

use crate::sources::proxmox::client::ApiClient;
use crate::sources::proxmox::endpoint::{segment, EndpointSettings, Product};
use crate::sources::proxmox::error::PlatformError;
use crate::sources::proxmox::flex::Listing;

use super::jobs::JobFamily;
use super::stream::DataArraySplitter;
use super::summary::SnapshotSummary;
use super::types::{
    Datastore, DatastoreStatus, Group, JobConfig, Namespace, NodeStatus, Task, Version,
};

/// How many recent tasks are read for job health.
pub const TASK_LIMIT: u32 = 500;

/// A Proxmox Backup Server client.
#[derive(Debug)]
pub struct PbsClient {
    api: ApiClient,
}

impl PbsClient {
    /// A client for one PBS endpoint.
    pub fn new(settings: &EndpointSettings) -> Result<Self, PlatformError> {
        Ok(PbsClient {
            api: ApiClient::new(Product::Pbs, settings)?,
        })
    }

    /// The underlying endpoint client.
    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    /// `GET /version`.
    pub async fn version(&self) -> Result<Version, PlatformError> {
        self.api.get("/version").await
    }

    /// `GET /nodes/localhost/status`.
    pub async fn node_status(&self) -> Result<NodeStatus, PlatformError> {
        self.api.get("/nodes/localhost/status").await
    }

    /// `GET /admin/datastore`.
    pub async fn datastores(&self) -> Result<Listing<Datastore>, PlatformError> {
        self.api.get_list("/admin/datastore").await
    }

    /// `GET /admin/datastore/{store}/status`.
    pub async fn datastore_status(&self, store: &str) -> Result<DatastoreStatus, PlatformError> {
        self.api
            .get(&format!("/admin/datastore/{}/status", segment(store)))
            .await
    }

    /// Every namespace of a datastore, the root (`""`) first. Servers without namespace support
    /// (404) have only the root.
    pub async fn namespaces(&self, store: &str) -> Result<Vec<String>, PlatformError> {
        let path = format!("/admin/datastore/{}/namespace", segment(store));
        let listed = match self.api.get_list::<Namespace>(&path).await {
            Ok(list) => list.items,
            Err(PlatformError::Http { status: 404, .. } | PlatformError::NotJson { .. }) => {
                Vec::new()
            }
            Err(e) => return Err(e),
        };
        let mut namespaces = vec![String::new()];
        for ns in listed.into_iter().filter_map(|n| n.ns) {
            if !namespaces.contains(&ns) {
                namespaces.push(ns);
            }
        }
        Ok(namespaces)
    }

    /// `GET /admin/datastore/{store}/groups?ns=`.
    pub async fn groups(&self, store: &str, ns: &str) -> Result<Listing<Group>, PlatformError> {
        self.api
            .get_list(&format!(
                "/admin/datastore/{}/groups{}",
                segment(store),
                ns_query(ns)
            ))
            .await
    }

    /// `GET /admin/datastore/{store}/snapshots?ns=`, streamed: the body is parsed as it arrives
    /// and folded into per-group summaries, so memory does not grow with the snapshot count.
    pub async fn snapshot_summary(
        &self,
        store: &str,
        ns: &str,
    ) -> Result<SnapshotSummary, PlatformError> {
        let path = format!(
            "/admin/datastore/{}/snapshots{}",
            segment(store),
            ns_query(ns)
        );
        let timeout: Duration = self.api.timeout();
        let mut response = self.api.open_stream(&path, timeout).await?;
        let mut splitter = DataArraySplitter::new();
        let mut summary = SnapshotSummary::default();
        let decode = |message: String| PlatformError::Decode {
            path: path.clone(),
            message,
        };
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.api.body_error(&path, timeout, &e))?
        {
            splitter
                .feed(&chunk, |element| summary.add_json(element))
                .map_err(decode)?;
        }
        splitter.finish().map_err(decode)?;
        Ok(summary)
    }

    /// `GET /nodes/localhost/tasks?limit=…`: the most recent tasks.
    pub async fn tasks(&self) -> Result<Listing<Task>, PlatformError> {
        self.api
            .get_list(&format!("/nodes/localhost/tasks?limit={TASK_LIMIT}"))
            .await
    }

    /// `GET /config/{sync,verify,prune}`; `None` for families without a job config.
    pub async fn job_configs(
        &self,
        family: JobFamily,
    ) -> Option<Result<Listing<JobConfig>, PlatformError>> {
        let path = match family {
            JobFamily::Sync => "/config/sync",
            JobFamily::Verify => "/config/verify",
            JobFamily::Prune => "/config/prune",
            JobFamily::Backup | JobFamily::Garbage => return None,
        };
        Some(self.api.get_list(path).await)
    }
}

/// `?ns=<namespace>` for a non-root namespace, nothing for the root.
fn ns_query(ns: &str) -> String {
    if ns.is_empty() {
        String::new()
    } else {
        format!("?ns={}", segment(ns))
    }
}
