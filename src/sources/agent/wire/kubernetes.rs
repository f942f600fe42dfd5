//! Kubernetes report (`POST /api/agents/kubernetes/report`, platforms §5.4). Nodes, pods and
//! deployments are typed; the other object lists (services, jobs, events, RBAC, …) are skipped.

use std::collections::HashSet;

use pulse_model::Timestamp;
use serde::Deserialize;

use super::host::{validate_agent, AgentInfo};
use super::values::{nullable, time, Bytes, Dict, List};
use super::{
    limit, required, unique, MAX_DEPLOYMENTS, MAX_ID, MAX_LABELS, MAX_NODES, MAX_PODS,
    MAX_POD_CONTAINERS,
};
use crate::error::Result;

/// Namespace assumed for objects that do not name one.
pub const DEFAULT_NAMESPACE: &str = "default";

/// The cluster (`cluster`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ClusterInfo {
    /// Stable, agent-generated cluster id; mandatory.
    pub id: Option<String>,
    /// Human-friendly name.
    pub name: Option<String>,
    /// API server URL.
    pub server: Option<String>,
    /// Kubeconfig context.
    pub context: Option<String>,
    /// Kubernetes version.
    pub version: Option<String>,
    /// `gke`, `eks`, `aks`, … (best effort).
    pub provider: Option<String>,
    /// Namespace the agent runs in.
    pub namespace: Option<String>,
}

/// Capacity or allocatable resources of a node.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NodeResources {
    /// CPU cores.
    pub cpu_cores: Option<u64>,
    /// Memory.
    pub memory_bytes: Option<Bytes>,
    /// Pod slots.
    pub pods: Option<u64>,
}

/// Measured usage of a node (needs metrics-server).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NodeUsage {
    /// CPU in millicores.
    pub cpu_milli_cores: Option<u64>,
    /// Memory in use.
    pub memory_bytes: Option<Bytes>,
}

/// A node (`nodes[]`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct K8sNode {
    /// Node uid.
    pub uid: Option<String>,
    /// Node name; mandatory.
    pub name: Option<String>,
    /// `Ready` condition.
    pub ready: Option<bool>,
    /// Cordoned.
    pub unschedulable: Option<bool>,
    /// Kubelet version.
    pub kubelet_version: Option<String>,
    /// Container runtime version.
    pub container_runtime_version: Option<String>,
    /// OS image.
    pub os_image: Option<String>,
    /// Kernel version.
    pub kernel_version: Option<String>,
    /// Architecture.
    pub architecture: Option<String>,
    /// Capacity.
    #[serde(deserialize_with = "nullable")]
    pub capacity: NodeResources,
    /// Allocatable resources.
    #[serde(deserialize_with = "nullable")]
    pub allocatable: NodeResources,
    /// Measured usage.
    pub usage: Option<NodeUsage>,
    /// Roles (`control-plane`, `worker`, …).
    pub roles: List<String, MAX_POD_CONTAINERS>,
}

/// Measured usage of a pod.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodUsage {
    /// CPU in millicores.
    pub cpu_milli_cores: Option<u64>,
    /// Memory in use.
    pub memory_bytes: Option<Bytes>,
    /// Bytes received since start.
    pub network_rx_bytes: Option<Bytes>,
    /// Bytes sent since start.
    pub network_tx_bytes: Option<Bytes>,
    /// Ephemeral storage in use.
    pub ephemeral_storage_used_bytes: Option<Bytes>,
    /// Ephemeral storage capacity.
    pub ephemeral_storage_capacity_bytes: Option<Bytes>,
}

/// A container of a pod.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodContainer {
    /// Container name.
    pub name: Option<String>,
    /// Image.
    pub image: Option<String>,
    /// Readiness.
    pub ready: Option<bool>,
    /// Restarts.
    pub restart_count: Option<u64>,
    /// `waiting`, `running`, `terminated`.
    pub state: Option<String>,
    /// Waiting/terminated reason, e.g. `CrashLoopBackOff`.
    pub reason: Option<String>,
    /// Waiting/terminated message.
    pub message: Option<String>,
}

/// A pod (`pods[]`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct K8sPod {
    /// Pod uid.
    pub uid: Option<String>,
    /// Pod name; mandatory.
    pub name: Option<String>,
    /// Namespace ([`DEFAULT_NAMESPACE`] when absent).
    pub namespace: Option<String>,
    /// Node the pod is scheduled on.
    pub node_name: Option<String>,
    /// `Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`.
    pub phase: Option<String>,
    /// Reason of the phase.
    pub reason: Option<String>,
    /// Message of the phase.
    pub message: Option<String>,
    /// QoS class.
    pub qos_class: Option<String>,
    /// Creation time.
    #[serde(deserialize_with = "time::optional")]
    pub created_at: Option<Timestamp>,
    /// Start time.
    #[serde(deserialize_with = "time::optional")]
    pub start_time: Option<Timestamp>,
    /// Container restarts.
    pub restarts: Option<u64>,
    /// Labels.
    pub labels: Dict<String, MAX_LABELS>,
    /// Owner kind, e.g. `ReplicaSet`.
    pub owner_kind: Option<String>,
    /// Owner name.
    pub owner_name: Option<String>,
    /// Measured usage.
    pub usage: Option<PodUsage>,
    /// Containers.
    pub containers: List<PodContainer, MAX_POD_CONTAINERS>,
}

impl K8sPod {
    /// The pod's namespace, [`DEFAULT_NAMESPACE`] when absent.
    pub fn namespace(&self) -> &str {
        namespace_or_default(self.namespace.as_deref())
    }
}

/// A deployment (`deployments[]`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct K8sDeployment {
    /// Deployment uid.
    pub uid: Option<String>,
    /// Name; mandatory.
    pub name: Option<String>,
    /// Namespace ([`DEFAULT_NAMESPACE`] when absent).
    pub namespace: Option<String>,
    /// Creation time.
    #[serde(deserialize_with = "time::optional")]
    pub created_at: Option<Timestamp>,
    /// Replicas wanted.
    pub desired_replicas: Option<u64>,
    /// Replicas on the current template.
    pub updated_replicas: Option<u64>,
    /// Ready replicas.
    pub ready_replicas: Option<u64>,
    /// Available replicas.
    pub available_replicas: Option<u64>,
    /// Labels.
    pub labels: Dict<String, MAX_LABELS>,
}

impl K8sDeployment {
    /// The deployment's namespace, [`DEFAULT_NAMESPACE`] when absent.
    pub fn namespace(&self) -> &str {
        namespace_or_default(self.namespace.as_deref())
    }
}

/// `namespace` unless absent or blank.
fn namespace_or_default(namespace: Option<&str>) -> &str {
    namespace
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(DEFAULT_NAMESPACE)
}

/// The Kubernetes report.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct KubernetesReport {
    /// Reporting agent.
    #[serde(deserialize_with = "nullable")]
    pub agent: AgentInfo,
    /// The cluster.
    #[serde(deserialize_with = "nullable")]
    pub cluster: ClusterInfo,
    /// Nodes.
    pub nodes: List<K8sNode, MAX_NODES>,
    /// Pods.
    pub pods: List<K8sPod, MAX_PODS>,
    /// Deployments.
    pub deployments: List<K8sDeployment, MAX_DEPLOYMENTS>,
    /// Collection time.
    #[serde(deserialize_with = "time::optional")]
    pub timestamp: Option<Timestamp>,
}

impl KubernetesReport {
    /// Checks what the schema cannot: a cluster id, and present, bounded, unique node names and
    /// namespaced pod and deployment names (they become record ids).
    pub fn validate(&self) -> Result<()> {
        required(self.cluster.id.as_deref(), || "cluster.id".into(), MAX_ID)?;
        validate_agent(&self.agent)?;
        let mut seen = HashSet::with_capacity(self.nodes.len());
        for (i, node) in self.nodes.iter().enumerate() {
            let field = || format!("nodes[{i}].name");
            let name = required(node.name.as_deref(), field, MAX_ID)?;
            unique(&mut seen, name.to_owned(), field)?;
        }
        seen.clear();
        for (i, pod) in self.pods.iter().enumerate() {
            let field = || format!("pods[{i}].name");
            let name = required(pod.name.as_deref(), field, MAX_ID)?;
            limit(
                pod.namespace.as_deref(),
                || format!("pods[{i}].namespace"),
                MAX_ID,
            )?;
            limit(
                pod.node_name.as_deref(),
                || format!("pods[{i}].nodeName"),
                MAX_ID,
            )?;
            unique(&mut seen, format!("{}/{name}", pod.namespace()), field)?;
        }
        seen.clear();
        for (i, deployment) in self.deployments.iter().enumerate() {
            let field = || format!("deployments[{i}].name");
            let name = required(deployment.name.as_deref(), field, MAX_ID)?;
            limit(
                deployment.namespace.as_deref(),
                || format!("deployments[{i}].namespace"),
                MAX_ID,
            )?;
            unique(
                &mut seen,
                format!("{}/{name}", deployment.namespace()),
                field,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_kubernetes;
    use crate::error::Error;
    use crate::sources::agent::fixtures;

    fn rejects(json: &str) -> (String, String) {
        match parse_kubernetes(json.as_bytes()) {
            Err(Error::InvalidReport { field, message }) => (field, message),
            other => panic!("expected invalid_report, got {other:?}"),
        }
    }

    #[test]
    fn parses_a_real_report_and_skips_other_kinds() {
        let report = parse_kubernetes(fixtures::KUBERNETES.as_bytes()).expect("valid");
        assert_eq!(report.nodes.len(), 2);
        assert_eq!(report.pods.len(), 6);
        assert_eq!(report.deployments.len(), 2);
        assert_eq!(report.pods[0].namespace(), "default");
    }

    #[test]
    fn identifiers_are_mandatory_and_unique() {
        assert_eq!(rejects(r#"{"cluster":{"name":"x"}}"#).0, "cluster.id");
        let (field, _) = rejects(r#"{"cluster":{"id":"c"},"nodes":[{"uid":"u"}]}"#);
        assert_eq!(field, "nodes[0].name");
        let (field, message) = rejects(
            r#"{"cluster":{"id":"c"},"pods":[{"name":"p"},{"name":"p","namespace":"default"}]}"#,
        );
        assert_eq!(
            (field.as_str(), message.as_str()),
            ("pods[1].name", "duplicate")
        );
        parse_kubernetes(
            br#"{"cluster":{"id":"c"},
                "pods":[{"name":"p","namespace":"a"},{"name":"p","namespace":"b"}]}"#,
        )
        .expect("same name in two namespaces");
    }

    #[test]
    fn values_are_checked() {
        let (field, _) = rejects(r#"{"cluster":{"id":"c"},"pods":[{"name":"p","restarts":-1}]}"#);
        assert_eq!(field, "pods[0].restarts");
        let (field, _) = rejects(
            r#"{"cluster":{"id":"c"},"nodes":[{"name":"n","capacity":{"memoryBytes":"8Gi"}}]}"#,
        );
        assert_eq!(field, "nodes[0].capacity.memoryBytes");
        let (field, _) = rejects(r#"{"cluster":{"id":"c"},"nodes":[{"name":"n","ready":"True"}]}"#);
        assert_eq!(field, "nodes[0].ready");
    }

    #[test]
    fn pod_count_is_bounded() {
        let pods: Vec<String> = (0..=super::MAX_PODS)
            .map(|i| format!(r#"{{"name":"p{i}"}}"#))
            .collect();
        let json = format!(r#"{{"cluster":{{"id":"c"}},"pods":[{}]}}"#, pods.join(","));
        let (field, message) = rejects(&json);
        assert_eq!(field, "pods");
        assert!(message.contains("50000"), "{message}");
    }
}
