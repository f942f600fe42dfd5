//! One poll of a Proxmox Backup Server (reference §17, PBS paragraph): version, node status,
//! datastores with usage, their namespaces, groups and (streamed) snapshot summaries, and job
//! health. Only the datastore listing is essential; every other failure is a warning.

use crate::sources::proxmox::error::PlatformError;

use super::client::PbsClient;
use super::jobs::{job_health, JobFamily, JobHealth};
use super::summary::SnapshotSummary;
use super::types::{DatastoreStatus, Group, NodeStatus, Version};

/// One namespace of a datastore.
#[derive(Debug, Clone, PartialEq)]
pub struct NamespacePoll {
    /// Namespace path (`""` is the root).
    pub ns: String,
    /// Its backup groups as listed.
    pub groups: Vec<Group>,
    /// Its snapshots, summarised per group.
    pub snapshots: SnapshotSummary,
}

/// One datastore.
#[derive(Debug, Clone, PartialEq)]
pub struct DatastorePoll {
    /// Name.
    pub store: String,
    /// Comment.
    pub comment: Option<String>,
    /// Usage, `None` when it could not be read (then the datastore is "unavailable").
    pub status: Option<DatastoreStatus>,
    /// Why the status could not be read.
    pub error: Option<String>,
    /// Namespaces with their inventory (empty when the inventory was not polled).
    pub namespaces: Vec<NamespacePoll>,
}

/// What a PBS poll reads besides the essentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PbsPollPlan {
    /// Namespaces, groups and snapshot summaries.
    pub inventory: bool,
    /// Job configs and task history.
    pub jobs: bool,
}

impl Default for PbsPollPlan {
    fn default() -> Self {
        PbsPollPlan {
            inventory: true,
            jobs: true,
        }
    }
}

/// The raw result of one PBS poll.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PbsPoll {
    /// `/version`.
    pub version: Option<Version>,
    /// `/nodes/localhost/status`.
    pub node: Option<NodeStatus>,
    /// Datastores in listing order.
    pub datastores: Vec<DatastorePoll>,
    /// Job health, `None` when not polled.
    pub jobs: Option<Vec<JobHealth>>,
    /// Malformed list items skipped (snapshots included).
    pub skipped: u64,
    /// Non-fatal failures, one line each.
    pub warnings: Vec<String>,
}

/// Polls a PBS. Datastores and their namespaces are read one after another, so at most one
/// snapshot listing is in flight (and memory stays bounded however many snapshots exist).
pub async fn poll_pbs(client: &PbsClient, plan: PbsPollPlan) -> Result<PbsPoll, PlatformError> {
    let mut poll = PbsPoll::default();
    let (datastores, version, node) =
        tokio::join!(client.datastores(), client.version(), client.node_status());
    let datastores = datastores?;
    poll.skipped += datastores.skipped as u64;
    match version {
        Ok(v) => poll.version = Some(v),
        Err(e) => poll.warnings.push(format!("version: {e}")),
    }
    match node {
        Ok(n) => poll.node = Some(n),
        Err(e) => poll.warnings.push(format!("node status: {e}")),
    }
    for datastore in datastores.items {
        let store = datastore.store;
        let mut entry = DatastorePoll {
            store: store.clone(),
            comment: datastore.comment,
            status: None,
            error: None,
            namespaces: Vec::new(),
        };
        match client.datastore_status(&store).await {
            Ok(status) => entry.status = Some(status),
            Err(e) => {
                poll.warnings.push(format!("datastore {store} status: {e}"));
                entry.error = Some(e.to_string());
            }
        }
        if plan.inventory && entry.status.is_some() {
            match inventory(client, &store, &mut poll).await {
                Ok(namespaces) => entry.namespaces = namespaces,
                Err(e) => poll
                    .warnings
                    .push(format!("datastore {store} namespaces: {e}")),
            }
        }
        poll.datastores.push(entry);
    }
    if plan.jobs {
        poll.jobs = Some(jobs(client, &mut poll).await);
    }
    Ok(poll)
}

/// Namespaces of one datastore with their groups and snapshot summaries.
async fn inventory(
    client: &PbsClient,
    store: &str,
    poll: &mut PbsPoll,
) -> Result<Vec<NamespacePoll>, PlatformError> {
    let mut namespaces = Vec::new();
    for ns in client.namespaces(store).await? {
        let groups = match client.groups(store, &ns).await {
            Ok(list) => {
                poll.skipped += list.skipped as u64;
                list.items
            }
            Err(e) => {
                poll.warnings
                    .push(format!("datastore {store} ns '{ns}' groups: {e}"));
                Vec::new()
            }
        };
        let snapshots = match client.snapshot_summary(store, &ns).await {
            Ok(summary) => {
                poll.skipped += summary.skipped;
                summary
            }
            Err(e) => {
                poll.warnings
                    .push(format!("datastore {store} ns '{ns}' snapshots: {e}"));
                SnapshotSummary::default()
            }
        };
        namespaces.push(NamespacePoll {
            ns,
            groups,
            snapshots,
        });
    }
    Ok(namespaces)
}

/// Job configs and the task history, combined into job health.
async fn jobs(client: &PbsClient, poll: &mut PbsPoll) -> Vec<JobHealth> {
    let mut configs = Vec::new();
    for family in [JobFamily::Sync, JobFamily::Verify, JobFamily::Prune] {
        match client.job_configs(family).await {
            Some(Ok(list)) => configs.push((family, list.items)),
            Some(Err(e)) => poll
                .warnings
                .push(format!("{} job config: {e}", family.worker_type())),
            None => {}
        }
    }
    let tasks = match client.tasks().await {
        Ok(list) => list.items,
        Err(e) => {
            poll.warnings.push(format!("tasks: {e}"));
            Vec::new()
        }
    };
    let stores: Vec<String> = poll.datastores.iter().map(|d| d.store.clone()).collect();
    job_health(&configs, &tasks, &stores)
}
