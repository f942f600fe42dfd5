//! Validated agent reports → [`SourceSnapshot`]s of the unified model, plus the compatible replies
//! (platforms §5.1).
//!
//! [`AgentIngestor`] holds the only state of agent ingest, the counter baselines of
//! [`CounterRates`]; keep one per tenant (counter keys are only unique within a tenant), owned by
//! the actor that feeds the tenant's registry. Time is always the caller's `now`, the server's
//! receive time: it is the snapshot's observation time (the registry ignores snapshots older than
//! the newest it has for a scope, and agent clocks may be skewed) and the time of every counter
//! sample.
//!
//! Snapshots and scopes: a host report is `agent:<agentId>`, a Docker report
//! `docker:<agentId>`, a Kubernetes report `kubernetes:<clusterId>`; each replaces everything that
//! scope reported before.

mod common;
mod docker;
mod host;
mod kubernetes;

use pulse_model::{Source, SourceSnapshot, Timestamp};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::sources::agent::wire::{DockerReport, HostReport, KubernetesReport};
use crate::sources::rates::CounterRates;

pub use common::{derive_agent_id, Liveness, DEFAULT_INTERVAL_SECS};

/// Reply to a host report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HostReply {
    /// Always `true` (failures are error replies).
    pub success: bool,
    /// The agent id the server derived (§18).
    pub agent_id: String,
    /// When the server received the report.
    pub last_seen: Timestamp,
    /// `host.platform` as reported.
    pub platform: String,
    /// `host.osName` as reported.
    pub os_name: String,
    /// `host.osVersion` as reported.
    pub os_version: String,
    /// The server's version.
    pub server_version: String,
}

/// Reply to a Docker report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DockerReply {
    /// Always `true` (failures are error replies).
    pub success: bool,
    /// The agent id the server derived.
    pub agent_id: String,
    /// Number of containers in the report.
    pub containers: usize,
    /// When the server received the report.
    pub last_seen: Timestamp,
}

/// Reply to a Kubernetes report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KubernetesReply {
    /// Always `true` (failures are error replies).
    pub success: bool,
    /// `cluster.id` of the report.
    pub cluster_id: String,
    /// Number of nodes in the report.
    pub nodes: usize,
    /// Number of pods in the report.
    pub pods: usize,
    /// Number of deployments in the report.
    pub deployments: usize,
    /// When the server received the report.
    pub last_seen: Timestamp,
}

/// Maps agent reports to snapshots, deriving byte rates across reports.
#[derive(Debug)]
pub struct AgentIngestor {
    /// Counter baselines for the byte rates.
    rates: CounterRates,
    /// Version reported in host replies.
    server_version: String,
}

impl AgentIngestor {
    /// An ingestor with no counter history, answering with `server_version` in host replies.
    pub fn new(server_version: impl Into<String>) -> Self {
        Self::with_rates(server_version, CounterRates::new())
    }

    /// An ingestor using the given counter tracker (e.g. one with a smaller cap).
    pub fn with_rates(server_version: impl Into<String>, rates: CounterRates) -> Self {
        AgentIngestor {
            rates,
            server_version: server_version.into(),
        }
    }

    /// Maps a host report received at `now` to its snapshot (one `agent` record) and reply.
    ///
    /// The report is validated again (cheap), so a report built in code cannot bypass the rules
    /// that [`crate::sources::agent::parse_host`] enforces.
    pub fn host(
        &mut self,
        report: HostReport,
        now: Timestamp,
    ) -> Result<(SourceSnapshot, HostReply)> {
        report.validate()?;
        let host_info = &report.host;
        let agent_id = derive_agent_id(&[
            host_info.id.as_deref(),
            host_info.machine_id.as_deref(),
            report.agent.id.as_deref(),
            host_info.hostname.as_deref(),
        ]);
        let record = host::host_record(&report, &agent_id, &mut self.rates, now);
        let snapshot = snapshot(
            Source::Agent,
            format!("agent:{agent_id}"),
            now,
            vec![record],
        )?;
        let owned = |v: &Option<String>| common::text(v).unwrap_or_default().to_owned();
        let reply = HostReply {
            success: true,
            last_seen: now,
            platform: owned(&host_info.platform),
            os_name: owned(&host_info.os_name),
            os_version: owned(&host_info.os_version),
            server_version: self.server_version.clone(),
            agent_id,
        };
        Ok((snapshot, reply))
    }

    /// Maps a Docker report received at `now` to its snapshot (the Docker host, its containers
    /// and services) and reply. Validates the report again, like [`AgentIngestor::host`].
    pub fn docker(
        &mut self,
        report: DockerReport,
        now: Timestamp,
    ) -> Result<(SourceSnapshot, DockerReply)> {
        report.validate()?;
        let agent_id = derive_agent_id(&[
            None,
            report.host.machine_id.as_deref(),
            report.agent.id.as_deref(),
            report.host.hostname.as_deref(),
        ]);
        let records = docker::docker_records(&report, &agent_id, &mut self.rates, now);
        let snapshot = snapshot(Source::Docker, format!("docker:{agent_id}"), now, records)?;
        let reply = DockerReply {
            success: true,
            agent_id,
            containers: report.containers.len(),
            last_seen: now,
        };
        Ok((snapshot, reply))
    }

    /// Maps a Kubernetes report received at `now` to its snapshot (cluster, nodes, pods,
    /// deployments) and reply. Validates the report again, like [`AgentIngestor::host`].
    pub fn kubernetes(
        &mut self,
        report: KubernetesReport,
        now: Timestamp,
    ) -> Result<(SourceSnapshot, KubernetesReply)> {
        report.validate()?;
        let cluster_id = common::text(&report.cluster.id)
            .unwrap_or_default()
            .to_owned();
        let records = kubernetes::kubernetes_records(&report, &cluster_id, &mut self.rates, now);
        let scope = format!("kubernetes:{cluster_id}");
        let snapshot = snapshot(Source::Kubernetes, scope, now, records)?;
        let reply = KubernetesReply {
            success: true,
            cluster_id,
            nodes: report.nodes.len(),
            pods: report.pods.len(),
            deployments: report.deployments.len(),
            last_seen: now,
        };
        Ok((snapshot, reply))
    }

    /// Forgets counters not reported for an hour; call periodically (e.g. every few minutes).
    pub fn sweep(&mut self, now: Timestamp) {
        self.rates.sweep(now);
    }

    /// Number of counters currently remembered (for a gauge).
    pub fn tracked_counters(&self) -> usize {
        self.rates.len()
    }
}

/// Builds a snapshot and checks the invariants ingest relies on. Validated reports always pass;
/// a failure is a bug here, reported as an internal error rather than a corrupt registry.
fn snapshot(
    source: Source,
    scope: String,
    now: Timestamp,
    records: Vec<pulse_model::SourceRecord>,
) -> Result<SourceSnapshot> {
    let snapshot = SourceSnapshot {
        source,
        scope,
        observed_at: now,
        records,
    };
    snapshot
        .validate()
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(snapshot)
}

#[cfg(test)]
mod tests;
