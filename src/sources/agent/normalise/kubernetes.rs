//! Kubernetes report → `k8s-cluster`, `k8s-node`, `pod` and `k8s-deployment` records of source
//! `kubernetes`.
//!
//! Source ids: the cluster id for the cluster, `<clusterId>:node:<name>`,
//! `<clusterId>:pod:<namespace>/<name>`, `<clusterId>:deployment:<namespace>/<name>`.
//! Parents: nodes and deployments under the cluster; a pod under its node when that node is in
//! the report, else under the cluster.
//!
//! Status:
//! - cluster: online while it reports; warning when a node is not ready.
//! - node: `Ready` → online, not ready → offline, unknown → unknown.
//! - pod by phase: `Running` → online, or warning when a container is not ready (crash loops,
//!   failing readiness probes); `Pending` → warning (not running yet, possibly stuck);
//!   `Succeeded` → offline (completed: not running, like an exited container; no alarm colour);
//!   `Failed` → offline; `Unknown` or anything else → unknown.
//! - deployment: available versus desired replicas with the Swarm rule ([`replica_status`]).
//!
//! CPU percentages are shares of the node's capacity (pods: of their node's; the cluster: of all
//! nodes'), computed from millicores; they are absent without metrics-server usage.

use std::collections::HashMap;

use pulse_model::{
    FacetKey, Identity, MetricKind, MetricValue, Metrics, ParentRef, ResourceType, SourceRecord,
    Status, Timestamp,
};
use serde_json::json;

use super::common::{
    bytes_metric, facet, percent_metric, rate_metric, replica_status, text, Liveness,
};
use crate::sources::agent::wire::{K8sDeployment, K8sNode, K8sPod, KubernetesReport};
use crate::sources::rates::CounterRates;

/// Maps a validated Kubernetes report to its records; the cluster record comes first.
pub(super) fn kubernetes_records(
    report: &KubernetesReport,
    cluster_id: &str,
    rates: &mut CounterRates,
    now: Timestamp,
) -> Vec<SourceRecord> {
    let liveness = Liveness::container_platform(report.agent.interval_seconds);
    let nodes: HashMap<&str, &K8sNode> = report
        .nodes
        .iter()
        .filter_map(|n| text(&n.name).map(|name| (name, n)))
        .collect();
    let mut records =
        Vec::with_capacity(1 + report.nodes.len() + report.pods.len() + report.deployments.len());
    records.push(cluster_record(report, cluster_id));
    records.extend(report.nodes.iter().map(|n| node_record(n, cluster_id)));
    for pod in &report.pods {
        records.push(pod_record(pod, cluster_id, &nodes, rates, now));
    }
    records.extend(
        report
            .deployments
            .iter()
            .map(|d| deployment_record(d, cluster_id)),
    );
    for record in &mut records {
        liveness.apply(record);
    }
    records
}

/// Maps a pod to a status (see the module docs).
fn pod_status(pod: &K8sPod) -> Status {
    let phase = text(&pod.phase).unwrap_or_default().to_ascii_lowercase();
    match phase.as_str() {
        "running" if pod.containers.iter().any(|c| c.ready == Some(false)) => Status::Warning,
        "running" => Status::Online,
        "pending" => Status::Warning,
        "succeeded" | "failed" => Status::Offline,
        _ => Status::Unknown,
    }
}

/// CPU in percent of `cores` from millicores.
fn cpu_share(milli_cores: u64, cores: u64) -> MetricValue {
    let percent = milli_cores as f64 / (cores as f64 * 10.0);
    percent_metric(percent.clamp(0.0, 100.0))
}

/// The cluster, with usage summed over its nodes.
fn cluster_record(report: &KubernetesReport, cluster_id: &str) -> SourceRecord {
    let cluster = &report.cluster;
    let name = text(&cluster.name)
        .or(text(&cluster.context))
        .unwrap_or(cluster_id);
    let all_ready = report.nodes.iter().all(|n| n.ready == Some(true));
    let status = if all_ready {
        Status::Online
    } else {
        Status::Warning
    };
    let mut record = SourceRecord::new(cluster_id, ResourceType::K8sCluster, name, status);
    record.identity.cluster_name = text(&cluster.name).map(str::to_owned);
    let measured: Vec<&K8sNode> = report.nodes.iter().filter(|n| n.usage.is_some()).collect();
    if !measured.is_empty() {
        let sum =
            |f: &dyn Fn(&K8sNode) -> Option<u64>| measured.iter().filter_map(|n| f(n)).sum::<u64>();
        let milli = sum(&|n| n.usage.as_ref().and_then(|u| u.cpu_milli_cores));
        let cores = sum(&|n| n.capacity.cpu_cores);
        let used = sum(&|n| n.usage.as_ref().and_then(|u| u.memory_bytes).map(|b| b.0));
        let total = sum(&|n| n.capacity.memory_bytes.map(|b| b.0));
        record.metrics = Metrics::new()
            .with(
                MetricKind::Cpu,
                (cores > 0).then(|| cpu_share(milli, cores)),
            )
            .with(MetricKind::Memory, Some(bytes_metric(used, Some(total))));
    }
    let ready = report
        .nodes
        .iter()
        .filter(|n| n.ready == Some(true))
        .count();
    record.facets.insert(
        FacetKey::Kubernetes,
        facet(json!({
            "clusterId": cluster_id,
            "name": text(&cluster.name),
            "server": text(&cluster.server),
            "context": text(&cluster.context),
            "version": text(&cluster.version),
            "provider": text(&cluster.provider),
            "agentNamespace": text(&cluster.namespace),
            "agentId": text(&report.agent.id),
            "agentVersion": text(&report.agent.version),
            "nodeCount": report.nodes.len(),
            "readyNodes": ready,
            "podCount": report.pods.len(),
            "deploymentCount": report.deployments.len(),
            "reportedAt": report.timestamp,
        })),
    );
    record
}

/// A node, child of the cluster.
fn node_record(node: &K8sNode, cluster_id: &str) -> SourceRecord {
    let name = text(&node.name).unwrap_or_default();
    let status = match node.ready {
        Some(true) => Status::Online,
        Some(false) => Status::Offline,
        None => Status::Unknown,
    };
    let mut record = SourceRecord::new(
        format!("{cluster_id}:node:{name}"),
        ResourceType::K8sNode,
        name,
        status,
    );
    record.parent = Some(ParentRef::SourceId(cluster_id.to_owned()));
    record.identity = Identity {
        hostnames: vec![name.to_owned()],
        ..Identity::default()
    };
    if let Some(usage) = &node.usage {
        record.metrics = Metrics::new()
            .with(
                MetricKind::Cpu,
                usage
                    .cpu_milli_cores
                    .zip(node.capacity.cpu_cores.filter(|&c| c > 0))
                    .map(|(milli, cores)| cpu_share(milli, cores)),
            )
            .with(
                MetricKind::Memory,
                usage
                    .memory_bytes
                    .map(|used| bytes_metric(used.0, node.capacity.memory_bytes.map(|b| b.0))),
            );
    }
    let resources = |r: &crate::sources::agent::wire::NodeResources| {
        facet(json!({
            "cpuCores": r.cpu_cores,
            "memoryBytes": r.memory_bytes.map(|b| b.0),
            "pods": r.pods,
        }))
    };
    record.facets.insert(
        FacetKey::Kubernetes,
        facet(json!({
            "clusterId": cluster_id,
            "uid": text(&node.uid),
            "ready": node.ready,
            "unschedulable": node.unschedulable,
            "kubeletVersion": text(&node.kubelet_version),
            "containerRuntimeVersion": text(&node.container_runtime_version),
            "osImage": text(&node.os_image),
            "kernelVersion": text(&node.kernel_version),
            "architecture": text(&node.architecture),
            "capacity": resources(&node.capacity),
            "allocatable": resources(&node.allocatable),
            "roles": &*node.roles,
        })),
    );
    record
}

/// A pod, child of its node (or of the cluster when the node is not in the report).
fn pod_record(
    pod: &K8sPod,
    cluster_id: &str,
    nodes: &HashMap<&str, &K8sNode>,
    rates: &mut CounterRates,
    now: Timestamp,
) -> SourceRecord {
    let name = text(&pod.name).unwrap_or_default();
    let namespace = pod.namespace();
    let source_id = format!("{cluster_id}:pod:{namespace}/{name}");
    let mut record = SourceRecord::new(source_id.clone(), ResourceType::Pod, name, pod_status(pod));
    let node_name = text(&pod.node_name);
    let node = node_name.and_then(|n| nodes.get(n).copied());
    record.parent = Some(ParentRef::SourceId(match (node_name, node) {
        (Some(node_name), Some(_)) => format!("{cluster_id}:node:{node_name}"),
        _ => cluster_id.to_owned(),
    }));
    let running = text(&pod.phase).is_some_and(|p| p.eq_ignore_ascii_case("running"));
    record.uptime = pod
        .start_time
        .filter(|_| running)
        .map(|start| now.millis_since(start) / 1000);
    if let Some(usage) = &pod.usage {
        let mut rate = |counter: &str, value: Option<u64>| {
            value
                .and_then(|v| rates.observe(&format!("kubernetes:{source_id}:{counter}"), v, now))
                .map(rate_metric)
        };
        let cores = node.and_then(|n| n.capacity.cpu_cores).filter(|&c| c > 0);
        record.metrics = Metrics::new()
            .with(
                MetricKind::Cpu,
                usage
                    .cpu_milli_cores
                    .zip(cores)
                    .map(|(milli, cores)| cpu_share(milli, cores)),
            )
            .with(
                MetricKind::Memory,
                usage.memory_bytes.map(|used| bytes_metric(used.0, None)),
            )
            .with(
                MetricKind::Disk,
                usage.ephemeral_storage_used_bytes.map(|used| {
                    bytes_metric(used.0, usage.ephemeral_storage_capacity_bytes.map(|b| b.0))
                }),
            )
            .with(
                MetricKind::NetIn,
                rate("net:rx", usage.network_rx_bytes.map(|b| b.0)),
            )
            .with(
                MetricKind::NetOut,
                rate("net:tx", usage.network_tx_bytes.map(|b| b.0)),
            );
    }
    let containers: Vec<serde_json::Value> = pod
        .containers
        .iter()
        .map(|c| {
            facet(json!({
                "name": text(&c.name),
                "image": text(&c.image),
                "ready": c.ready,
                "restartCount": c.restart_count,
                "state": text(&c.state),
                "reason": text(&c.reason),
                "message": text(&c.message),
            }))
        })
        .collect();
    let restarts = pod.restarts.or_else(|| {
        let counts = pod.containers.iter().filter_map(|c| c.restart_count);
        Some(counts.sum()).filter(|&n: &u64| n > 0)
    });
    record.facets.insert(
        FacetKey::Kubernetes,
        facet(json!({
            "clusterId": cluster_id,
            "namespace": namespace,
            "uid": text(&pod.uid),
            "nodeName": node_name,
            "phase": text(&pod.phase),
            "reason": text(&pod.reason),
            "message": text(&pod.message),
            "qosClass": text(&pod.qos_class),
            "restarts": restarts.unwrap_or(0),
            "ownerKind": text(&pod.owner_kind),
            "ownerName": text(&pod.owner_name),
            "createdAt": pod.created_at,
            "startTime": pod.start_time,
            "labels": &*pod.labels,
            "containers": containers,
        })),
    );
    record
}

/// A deployment, child of the cluster.
fn deployment_record(deployment: &K8sDeployment, cluster_id: &str) -> SourceRecord {
    let name = text(&deployment.name).unwrap_or_default();
    let namespace = deployment.namespace();
    let desired = deployment.desired_replicas.unwrap_or(0);
    let available = deployment.available_replicas.unwrap_or(0);
    let mut record = SourceRecord::new(
        format!("{cluster_id}:deployment:{namespace}/{name}"),
        ResourceType::K8sDeployment,
        name,
        replica_status(available, desired),
    );
    record.parent = Some(ParentRef::SourceId(cluster_id.to_owned()));
    record.facets.insert(
        FacetKey::Kubernetes,
        facet(json!({
            "clusterId": cluster_id,
            "namespace": namespace,
            "uid": text(&deployment.uid),
            "desiredReplicas": desired,
            "updatedReplicas": deployment.updated_replicas,
            "readyReplicas": deployment.ready_replicas,
            "availableReplicas": available,
            "createdAt": deployment.created_at,
            "labels": &*deployment.labels,
        })),
    );
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::agent::wire::parse_kubernetes;

    fn pod(json: &str) -> K8sPod {
        let report =
            parse_kubernetes(format!(r#"{{"cluster":{{"id":"c"}},"pods":[{json}]}}"#).as_bytes())
                .expect("valid");
        report.pods[0].clone()
    }

    #[test]
    fn pod_status_by_phase() {
        assert_eq!(
            pod_status(&pod(r#"{"name":"p","phase":"Running"}"#)),
            Status::Online
        );
        assert_eq!(
            pod_status(&pod(
                r#"{"name":"p","phase":"Running","containers":[{"ready":true},{"ready":false}]}"#
            )),
            Status::Warning
        );
        assert_eq!(
            pod_status(&pod(r#"{"name":"p","phase":"Pending"}"#)),
            Status::Warning
        );
        assert_eq!(
            pod_status(&pod(r#"{"name":"p","phase":"Succeeded"}"#)),
            Status::Offline
        );
        assert_eq!(
            pod_status(&pod(r#"{"name":"p","phase":"Failed"}"#)),
            Status::Offline
        );
        assert_eq!(
            pod_status(&pod(r#"{"name":"p","phase":"Unknown"}"#)),
            Status::Unknown
        );
        assert_eq!(pod_status(&pod(r#"{"name":"p"}"#)), Status::Unknown);
    }

    #[test]
    fn cpu_share_of_cores() {
        assert_eq!(cpu_share(500, 2).percent, Some(25.0));
        assert_eq!(cpu_share(9000, 2).percent, Some(100.0));
    }
}
