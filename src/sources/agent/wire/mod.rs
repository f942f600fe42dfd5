//! Tolerant typed schemas of the **compatible** agent reports (platforms §5.2–5.4) and their
//! validation.
//!
//! Tolerant: unknown members are accepted and skipped (never stored), every field is optional,
//! and `null` means absent (Go agents send `null` for nil slices, maps and pointers). Strict:
//! a present value of the wrong type, a negative or absurd byte count, a percentage outside
//! 0..=100 (see [`values`]), a collection over its bound, or a malformed timestamp is rejected with
//! `400 invalid_report` naming the field path (see [`path`]). After deserialisation each report
//! is validated for what the typed schema cannot express: mandatory identifiers, string lengths,
//! unique ids.
//!
//! The `parse_*` functions are the trust boundary: what they return is safe to hand to
//! [`super::AgentIngestor`].

mod docker;
mod host;
mod kubernetes;
mod path;
pub mod values;

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

pub use docker::{
    BlockIo, ContainerNetwork, ContainerPort, DockerContainer, DockerHostInfo, DockerReport,
    DockerService, ServicePort, ServiceUpdate, SwarmInfo,
};
pub use host::{
    AgentInfo, DiskIo, Filesystem, HostInfo, HostMetrics, HostReport, Memory, NetInterface, Sensors,
};
pub use kubernetes::{
    ClusterInfo, K8sDeployment, K8sNode, K8sPod, KubernetesReport, NodeResources, NodeUsage,
    PodContainer, PodUsage,
};

/// Longest accepted hostname (RFC 1035 limit for a full name).
pub const MAX_HOSTNAME: usize = 253;
/// Longest accepted identifier or name that becomes part of a key (agent, machine, container,
/// cluster, node, pod ids; interface and device names).
pub const MAX_ID: usize = 256;
/// Longest accepted tag.
pub const MAX_TAG: usize = 256;
/// Most filesystems, disk I/O entries or network interfaces in one report.
pub const MAX_DEVICES: usize = 4096;
/// Most addresses on one interface.
pub const MAX_ADDRESSES: usize = 256;
/// Most tags on a host.
pub const MAX_TAGS: usize = 256;
/// Most sensor readings of one kind.
pub const MAX_SENSORS: usize = 1024;
/// Most containers in one Docker report.
pub const MAX_CONTAINERS: usize = 10_000;
/// Most Swarm services in one Docker report.
pub const MAX_SERVICES: usize = 10_000;
/// Most ports or networks of one container or service.
pub const MAX_PORTS: usize = 1024;
/// Most labels on one container, service, pod or deployment.
pub const MAX_LABELS: usize = 1024;
/// Most nodes in one Kubernetes report.
pub const MAX_NODES: usize = 10_000;
/// Most pods in one Kubernetes report.
pub const MAX_PODS: usize = 50_000;
/// Most deployments in one Kubernetes report.
pub const MAX_DEPLOYMENTS: usize = 50_000;
/// Most containers in one pod, or roles of one node.
pub const MAX_POD_CONTAINERS: usize = 256;

/// Parses and validates a decoded host report.
pub fn parse_host(json: &[u8]) -> Result<HostReport> {
    let report: HostReport = deserialise(json)?;
    report.validate()?;
    Ok(report)
}

/// Parses and validates a decoded Docker/Podman report.
pub fn parse_docker(json: &[u8]) -> Result<DockerReport> {
    let report: DockerReport = deserialise(json)?;
    report.validate()?;
    Ok(report)
}

/// Parses and validates a decoded Kubernetes report.
pub fn parse_kubernetes(json: &[u8]) -> Result<KubernetesReport> {
    let report: KubernetesReport = deserialise(json)?;
    report.validate()?;
    Ok(report)
}

/// Deserialises a report object, naming the field of any type error.
fn deserialise<T: DeserializeOwned>(json: &[u8]) -> Result<T> {
    // Serde would read a top-level array as a struct (fields by position); reports are objects.
    match json.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        Some(_) => return Err(invalid(path::ROOT, "expected a JSON object")),
        None => return Err(invalid(path::ROOT, "empty body")),
    }
    serde_json::from_slice(json).map_err(|e| path::report_error(json, &e))
}

/// An [`Error::InvalidReport`] about `field`.
fn invalid(field: impl Into<String>, message: impl Into<String>) -> Error {
    Error::InvalidReport {
        field: field.into(),
        message: message.into(),
    }
}

/// The trimmed value of a mandatory string field of at most `max` characters.
fn required(value: Option<&str>, field: impl Fn() -> String, max: usize) -> Result<&str> {
    let text = value.map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Err(invalid(field(), "is required"));
    }
    limit(Some(text), field, max)?;
    Ok(text)
}

/// Checks that an optional string field has at most `max` characters.
fn limit(value: Option<&str>, field: impl Fn() -> String, max: usize) -> Result<()> {
    match value {
        Some(text) if text.chars().count() > max => Err(invalid(
            field(),
            format!("must be at most {max} characters"),
        )),
        _ => Ok(()),
    }
}

/// Checks that `key` was not seen before among the entries of a list.
fn unique(
    seen: &mut std::collections::HashSet<String>,
    key: String,
    field: impl Fn() -> String,
) -> Result<()> {
    if seen.insert(key) {
        Ok(())
    } else {
        Err(invalid(field(), "duplicate"))
    }
}
