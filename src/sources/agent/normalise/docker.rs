//! Docker report → the Docker host (`agent`), its containers (`app-container`) and Swarm services
//! (`docker-service`), all of source `docker`.
//!
//! The host record carries the machine id and hostname, so it merges with the host agent's record
//! of the same machine through the model's identity merge. Container and service source ids are
//! prefixed with the agent id (`<agentId>:<containerId>`, `<agentId>:service:<serviceId>`) to be
//! unique within the source.
//!
//! Status (upstream §6.2): container `running` → online, but `warning` when its health check
//! reports `unhealthy`; `restarting` → warning; `created`, `exited`, `dead`, `paused`, `removing` →
//! offline; anything else unknown. Service: running ≥ desired → online (also 0 of 0), 0 running →
//! offline, otherwise warning.
//!
//! Container CPU arrives in the `docker stats` convention (100 per busy core). The metric keeps
//! that number as `value` and sets `percent` to the share of the host (`value / totalCpu`,
//! clamped to 100) so it compares with every other CPU percentage.

use pulse_model::{
    FacetKey, Identity, MetricKind, Metrics, ParentRef, ResourceType, SourceRecord, Status,
};
use pulse_model::{MetricValue, Timestamp};
use serde_json::{json, Map, Value};

use super::common::{
    add_interface_identity, bytes_metric, facet, percent_metric, rate_metric, replica_status, text,
    Liveness,
};
use crate::sources::agent::wire::{DockerContainer, DockerReport, DockerService};
use crate::sources::rates::CounterRates;

/// Most labels copied into a container's or service's facet.
const FACET_LABELS: usize = 100;
/// Longest label value copied into a facet.
const FACET_LABEL_CHARS: usize = 256;
/// Compose project label.
const COMPOSE_PROJECT: &str = "com.docker.compose.project";
/// Compose service label.
const COMPOSE_SERVICE: &str = "com.docker.compose.service";

/// Maps a validated Docker report to its records; the host record comes first.
pub(super) fn docker_records(
    report: &DockerReport,
    agent_id: &str,
    rates: &mut CounterRates,
    now: Timestamp,
) -> Vec<SourceRecord> {
    let liveness = Liveness::container_platform(report.agent.interval_seconds);
    let mut records = Vec::with_capacity(1 + report.containers.len() + report.services.len());
    records.push(host_record(report, agent_id));
    let total_cpu = report.host.total_cpu.filter(|&c| c > 0);
    for container in &report.containers {
        records.push(container_record(container, agent_id, total_cpu, rates, now));
    }
    for service in &report.services {
        records.push(service_record(service, agent_id));
    }
    for record in &mut records {
        liveness.apply(record);
    }
    records
}

/// Maps a container state and health to a status.
fn container_status(state: &str, health: &str) -> Status {
    match state.to_ascii_lowercase().as_str() {
        "running" if health.eq_ignore_ascii_case("unhealthy") => Status::Warning,
        "running" => Status::Online,
        "restarting" => Status::Warning,
        "created" | "exited" | "dead" | "paused" | "removing" => Status::Offline,
        _ => Status::Unknown,
    }
}

/// The Docker host.
fn host_record(report: &DockerReport, agent_id: &str) -> SourceRecord {
    let host = &report.host;
    let hostname = text(&host.hostname).unwrap_or(agent_id);
    let mut record = SourceRecord::new(agent_id, ResourceType::Agent, hostname, Status::Online);
    let mut identity = Identity {
        machine_id: text(&host.machine_id).map(str::to_owned),
        hostnames: vec![hostname.to_owned()],
        ..Identity::default()
    };
    add_interface_identity(&mut identity, &host.network);
    record.identity = identity;
    let memory = &host.memory;
    let total_memory = memory.total_bytes.or(host.total_memory_bytes).map(|b| b.0);
    record.metrics = Metrics::new()
        .with(
            MetricKind::Cpu,
            host.cpu_usage_percent.map(|p| percent_metric(p.0)),
        )
        .with(
            MetricKind::Memory,
            memory
                .used_bytes
                .map(|used| bytes_metric(used.0, total_memory)),
        );
    record.uptime = host.uptime_seconds;
    let running = report
        .containers
        .iter()
        .filter(|c| text(&c.state).is_some_and(|s| s.eq_ignore_ascii_case("running")))
        .count();
    let swarm = &host.swarm;
    let swarm = text(&swarm.node_id).map(|node_id| {
        json!({
            "nodeId": node_id,
            "nodeRole": text(&swarm.node_role),
            "localState": text(&swarm.local_state),
            "controlAvailable": swarm.control_available,
            "clusterId": text(&swarm.cluster_id),
            "clusterName": text(&swarm.cluster_name),
            "scope": text(&swarm.scope),
            "error": text(&swarm.error),
        })
    });
    let load: Vec<f64> = host.load_average.iter().map(|g| g.0).collect();
    record.facets.insert(
        FacetKey::Docker,
        facet(json!({
            "agentId": agent_id,
            "agentVersion": text(&report.agent.version),
            "intervalSeconds": report.agent.interval_seconds,
            "hostname": hostname,
            "name": text(&host.name),
            "os": text(&host.os),
            "runtime": text(&host.runtime).unwrap_or("docker"),
            "runtimeVersion": text(&host.runtime_version).or(text(&host.docker_version)),
            "dockerVersion": text(&host.docker_version),
            "kernelVersion": text(&host.kernel_version),
            "architecture": text(&host.architecture),
            "totalCpu": host.total_cpu,
            "totalMemoryBytes": total_memory,
            "loadAverage": (!load.is_empty()).then_some(load),
            "swarm": swarm,
            "containerCount": report.containers.len(),
            "runningContainers": running,
            "reportedAt": report.timestamp,
        })),
    );
    record
}

/// One container, child of the Docker host.
fn container_record(
    container: &DockerContainer,
    agent_id: &str,
    total_cpu: Option<u64>,
    rates: &mut CounterRates,
    now: Timestamp,
) -> SourceRecord {
    let id = text(&container.id).unwrap_or_default();
    let name = text(&container.name)
        .map(|n| n.trim_start_matches('/'))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| id.get(..12).unwrap_or(id));
    let state = text(&container.state).unwrap_or_default();
    let health = text(&container.health).unwrap_or_default();
    let running = state.eq_ignore_ascii_case("running");
    let source_id = format!("{agent_id}:{id}");
    let status = container_status(state, health);
    let mut record = SourceRecord::new(source_id, ResourceType::AppContainer, name, status);
    record.parent = Some(ParentRef::SourceId(agent_id.to_owned()));
    record.uptime = container.uptime_seconds.filter(|_| running);
    record.metrics = container_metrics(container, agent_id, total_cpu, rates, now);
    for network in &container.networks {
        let addresses = [text(&network.ipv4), text(&network.ipv6)];
        record.identity.ip_addresses.extend(
            addresses
                .into_iter()
                .flatten()
                .filter_map(pulse_model::identity::normalise_ip),
        );
    }
    record.facets.insert(
        FacetKey::Docker,
        container_facet(container, id, state, health),
    );
    record
}

/// CPU, memory and the four byte rates of a container.
fn container_metrics(
    container: &DockerContainer,
    agent_id: &str,
    total_cpu: Option<u64>,
    rates: &mut CounterRates,
    now: Timestamp,
) -> Metrics {
    let id = text(&container.id).unwrap_or_default();
    let mut rate = |counter: &str, value: Option<u64>| {
        let key = format!("docker:{agent_id}:{id}:{counter}");
        value
            .and_then(|v| rates.observe(&key, v, now))
            .map(rate_metric)
    };
    let cpu = container.cpu_percent.map(|raw| {
        let share = total_cpu.map_or(raw.0, |cores| raw.0 / cores as f64);
        MetricValue {
            value: Some(raw.0),
            percent: Some(share.clamp(0.0, 100.0)),
            unit: "percent".into(),
            ..MetricValue::default()
        }
    });
    let limit = container.memory_limit_bytes.map(|b| b.0).filter(|&l| l > 0);
    let memory = container
        .memory_usage_bytes
        .map(|used| bytes_metric(used.0, limit));
    let block = container.block_io.as_ref();
    Metrics::new()
        .with(MetricKind::Cpu, cpu)
        .with(MetricKind::Memory, memory)
        .with(
            MetricKind::NetIn,
            rate("net:rx", container.network_rx_bytes.map(|b| b.0)),
        )
        .with(
            MetricKind::NetOut,
            rate("net:tx", container.network_tx_bytes.map(|b| b.0)),
        )
        .with(
            MetricKind::DiskRead,
            rate("io:read", block.and_then(|b| b.read_bytes).map(|b| b.0)),
        )
        .with(
            MetricKind::DiskWrite,
            rate("io:write", block.and_then(|b| b.write_bytes).map(|b| b.0)),
        )
}

/// The `docker` facet of a container.
fn container_facet(container: &DockerContainer, id: &str, state: &str, health: &str) -> Value {
    let labels = &container.labels;
    let podman = &container.podman;
    let label = |key: &str| {
        labels
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let ports: Vec<Value> = container
        .ports
        .iter()
        .map(|p| {
            facet(json!({
                "privatePort": p.private_port,
                "publicPort": p.public_port,
                "protocol": text(&p.protocol),
                "ip": text(&p.ip),
            }))
        })
        .collect();
    let networks: Vec<Value> = container
        .networks
        .iter()
        .map(|n| {
            facet(json!({
                "name": text(&n.name),
                "ipv4": text(&n.ipv4),
                "ipv6": text(&n.ipv6),
            }))
        })
        .collect();
    let (facet_labels, truncated) = bounded_labels(labels.iter());
    facet(json!({
        "containerId": id,
        "image": text(&container.image),
        "state": (!state.is_empty()).then_some(state),
        "status": text(&container.status),
        "health": (!health.is_empty()).then_some(health),
        "restartCount": container.restart_count,
        "exitCode": container.exit_code,
        "oomKilled": container.oom_killed,
        "memoryLimitBytes": container.memory_limit_bytes.map(|b| b.0),
        "createdAt": container.created_at,
        "startedAt": container.started_at,
        "finishedAt": container.finished_at,
        "ports": ports,
        "networks": networks,
        "labels": facet_labels,
        "labelsTruncated": truncated.then_some(true),
        "composeProject": text(&podman.compose_project).or(label(COMPOSE_PROJECT)),
        "composeService": text(&podman.compose_service).or(label(COMPOSE_SERVICE)),
        "podName": text(&podman.pod_name),
    }))
}

/// One Swarm service, child of the Docker host.
fn service_record(service: &DockerService, agent_id: &str) -> SourceRecord {
    let id = text(&service.id).unwrap_or_default();
    let name = text(&service.name).unwrap_or(id);
    let desired = service.desired_tasks.unwrap_or(0);
    let running = service.running_tasks.unwrap_or(0);
    let status = replica_status(running, desired);
    let source_id = format!("{agent_id}:service:{id}");
    let mut record = SourceRecord::new(source_id, ResourceType::DockerService, name, status);
    record.parent = Some(ParentRef::SourceId(agent_id.to_owned()));
    let ports: Vec<Value> = service
        .endpoint_ports
        .iter()
        .map(|p| {
            facet(json!({
                "name": text(&p.name),
                "protocol": text(&p.protocol),
                "targetPort": p.target_port,
                "publishedPort": p.published_port,
                "publishMode": text(&p.publish_mode),
            }))
        })
        .collect();
    let update = service
        .update_status
        .as_ref()
        .map(|u| json!({"state": text(&u.state), "message": text(&u.message)}));
    let (labels, truncated) = bounded_labels(service.labels.iter());
    record.facets.insert(
        FacetKey::Docker,
        facet(json!({
            "serviceId": id,
            "stack": text(&service.stack),
            "image": text(&service.image),
            "mode": text(&service.mode),
            "desiredTasks": desired,
            "runningTasks": running,
            "completedTasks": service.completed_tasks,
            "endpointPorts": ports,
            "updateStatus": update,
            "labels": labels,
            "labelsTruncated": truncated.then_some(true),
        })),
    );
    record
}

/// At most [`FACET_LABELS`] labels with values cut to [`FACET_LABEL_CHARS`], and whether anything
/// was cut.
fn bounded_labels<'a>(
    labels: impl Iterator<Item = (&'a String, &'a String)>,
) -> (Map<String, Value>, bool) {
    let mut out = Map::new();
    let mut truncated = false;
    for (key, value) in labels {
        if out.len() == FACET_LABELS {
            truncated = true;
            break;
        }
        let cut: String = value.chars().take(FACET_LABEL_CHARS).collect();
        truncated |= cut.len() < value.len();
        out.insert(key.clone(), Value::String(cut));
    }
    (out, truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_status_mapping() {
        assert_eq!(container_status("running", ""), Status::Online);
        assert_eq!(container_status("running", "healthy"), Status::Online);
        assert_eq!(container_status("running", "starting"), Status::Online);
        assert_eq!(container_status("Running", "Unhealthy"), Status::Warning);
        assert_eq!(container_status("restarting", ""), Status::Warning);
        for state in ["created", "exited", "dead", "paused", "removing"] {
            assert_eq!(container_status(state, ""), Status::Offline, "{state}");
        }
        assert_eq!(container_status("", ""), Status::Unknown);
        assert_eq!(container_status("weird", ""), Status::Unknown);
    }

    #[test]
    fn labels_are_bounded_in_facets() {
        let many: Vec<(String, String)> = (0..150)
            .map(|i| (format!("k{i:03}"), "v".repeat(300)))
            .collect();
        let (labels, truncated) = bounded_labels(many.iter().map(|(k, v)| (k, v)));
        assert_eq!(labels.len(), FACET_LABELS);
        assert!(truncated);
        assert_eq!(
            labels["k000"].as_str().map(str::len),
            Some(FACET_LABEL_CHARS)
        );
        let few = [("a".to_owned(), "b".to_owned())];
        assert!(!bounded_labels(few.iter().map(|(k, v)| (k, v))).1);
    }
}
