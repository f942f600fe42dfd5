//! Docker/Podman report (`POST /api/agents/docker/report`, platforms §5.3). Images, volumes,
//! networks, tasks, secrets, configs and storage usage are skipped.

use std::collections::HashSet;

use pulse_model::Timestamp;
use serde::Deserialize;

use super::host::{validate_agent, validate_interfaces, AgentInfo, Memory, NetInterface};
use super::values::{nullable, time, Bytes, Dict, Gauge, List, Percent};
use super::{
    invalid, limit, required, unique, MAX_CONTAINERS, MAX_DEVICES, MAX_HOSTNAME, MAX_ID,
    MAX_LABELS, MAX_PORTS, MAX_SERVICES,
};
use crate::error::Result;

/// Swarm membership of the Docker host (`host.swarm`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SwarmInfo {
    /// Swarm node id.
    pub node_id: Option<String>,
    /// `manager` or `worker`.
    pub node_role: Option<String>,
    /// `active`, `inactive`, `pending`, `error`, `locked`.
    pub local_state: Option<String>,
    /// Whether this node can manage the swarm.
    pub control_available: Option<bool>,
    /// Swarm cluster id.
    pub cluster_id: Option<String>,
    /// Swarm cluster name.
    pub cluster_name: Option<String>,
    /// Which services the agent reports (`node` or `cluster`).
    pub scope: Option<String>,
    /// Error talking to the swarm API.
    pub error: Option<String>,
}

/// Docker host facts (`host`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DockerHostInfo {
    /// Hostname; mandatory.
    pub hostname: Option<String>,
    /// Daemon's name for the host.
    pub name: Option<String>,
    /// `/etc/machine-id`; lets the record merge with the host agent's.
    pub machine_id: Option<String>,
    /// Operating system as the daemon describes it.
    pub os: Option<String>,
    /// `docker` or `podman`.
    pub runtime: Option<String>,
    /// Runtime version.
    pub runtime_version: Option<String>,
    /// Kernel release.
    pub kernel_version: Option<String>,
    /// CPU architecture.
    pub architecture: Option<String>,
    /// Engine version (older field).
    pub docker_version: Option<String>,
    /// CPUs available to the daemon.
    pub total_cpu: Option<u64>,
    /// Memory available to the daemon.
    pub total_memory_bytes: Option<Bytes>,
    /// Host uptime in seconds.
    pub uptime_seconds: Option<u64>,
    /// Swarm membership.
    #[serde(deserialize_with = "nullable")]
    pub swarm: SwarmInfo,
    /// Host CPU busy share in percent.
    pub cpu_usage_percent: Option<Percent>,
    /// Host load averages.
    pub load_average: List<Gauge, 3>,
    /// Host memory.
    #[serde(deserialize_with = "nullable")]
    pub memory: Memory,
    /// Host network interfaces (identity only).
    pub network: List<NetInterface, MAX_DEVICES>,
}

/// A published or exposed container port.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ContainerPort {
    /// Port inside the container.
    pub private_port: Option<u16>,
    /// Port on the host.
    pub public_port: Option<u16>,
    /// `tcp`, `udp`, `sctp`.
    pub protocol: Option<String>,
    /// Host address the port is bound to.
    pub ip: Option<String>,
}

/// A network a container is attached to.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ContainerNetwork {
    /// Network name.
    pub name: Option<String>,
    /// IPv4 address.
    pub ipv4: Option<String>,
    /// IPv6 address.
    pub ipv6: Option<String>,
}

/// Cumulative block I/O of a container.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BlockIo {
    /// Bytes read.
    pub read_bytes: Option<Bytes>,
    /// Bytes written.
    pub write_bytes: Option<Bytes>,
}

/// Podman-specific metadata of a container.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodmanInfo {
    /// Pod name.
    pub pod_name: Option<String>,
    /// Compose project.
    pub compose_project: Option<String>,
    /// Compose service.
    pub compose_service: Option<String>,
}

/// One container (`containers[]`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DockerContainer {
    /// Container id; mandatory.
    pub id: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Image reference.
    pub image: Option<String>,
    /// Creation time.
    #[serde(deserialize_with = "time::optional")]
    pub created_at: Option<Timestamp>,
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited`, `dead`.
    pub state: Option<String>,
    /// Human status line.
    pub status: Option<String>,
    /// `healthy`, `unhealthy`, `starting`.
    pub health: Option<String>,
    /// CPU in percent of one core (`docker stats` convention: may exceed 100).
    pub cpu_percent: Option<Gauge>,
    /// Memory in use.
    pub memory_usage_bytes: Option<Bytes>,
    /// Memory limit.
    pub memory_limit_bytes: Option<Bytes>,
    /// `usage / limit` in percent.
    pub memory_percent: Option<Percent>,
    /// Seconds since start.
    pub uptime_seconds: Option<u64>,
    /// Restarts by the restart policy.
    pub restart_count: Option<u64>,
    /// Exit code of the last run.
    pub exit_code: Option<i64>,
    /// Whether the last run was OOM-killed.
    pub oom_killed: Option<bool>,
    /// Start of the last run.
    #[serde(deserialize_with = "time::optional")]
    pub started_at: Option<Timestamp>,
    /// End of the last run.
    #[serde(deserialize_with = "time::optional")]
    pub finished_at: Option<Timestamp>,
    /// Ports.
    pub ports: List<ContainerPort, MAX_PORTS>,
    /// Labels.
    pub labels: Dict<String, MAX_LABELS>,
    /// Attached networks.
    pub networks: List<ContainerNetwork, MAX_PORTS>,
    /// Bytes received since start.
    pub network_rx_bytes: Option<Bytes>,
    /// Bytes sent since start.
    pub network_tx_bytes: Option<Bytes>,
    /// Block I/O since start; absent when not running.
    pub block_io: Option<BlockIo>,
    /// Podman metadata.
    #[serde(deserialize_with = "nullable")]
    pub podman: PodmanInfo,
}

/// A published port of a Swarm service.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ServicePort {
    /// Port name.
    pub name: Option<String>,
    /// Protocol.
    pub protocol: Option<String>,
    /// Port inside the tasks.
    pub target_port: Option<u16>,
    /// Port on the swarm.
    pub published_port: Option<u16>,
    /// `ingress` or `host`.
    pub publish_mode: Option<String>,
}

/// Rolling-update state of a Swarm service.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ServiceUpdate {
    /// Update state.
    pub state: Option<String>,
    /// Update message.
    pub message: Option<String>,
}

/// A Swarm service (`services[]`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DockerService {
    /// Service id; mandatory.
    pub id: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Stack (`com.docker.stack.namespace`).
    pub stack: Option<String>,
    /// Image.
    pub image: Option<String>,
    /// `replicated` or `global`.
    pub mode: Option<String>,
    /// Tasks that should run.
    pub desired_tasks: Option<u64>,
    /// Tasks running.
    pub running_tasks: Option<u64>,
    /// Tasks completed.
    pub completed_tasks: Option<u64>,
    /// Labels.
    pub labels: Dict<String, MAX_LABELS>,
    /// Published ports.
    pub endpoint_ports: List<ServicePort, MAX_PORTS>,
    /// Rolling-update state.
    pub update_status: Option<ServiceUpdate>,
}

/// The Docker report.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DockerReport {
    /// Reporting agent.
    #[serde(deserialize_with = "nullable")]
    pub agent: AgentInfo,
    /// Docker host facts.
    #[serde(deserialize_with = "nullable")]
    pub host: DockerHostInfo,
    /// All containers.
    pub containers: List<DockerContainer, MAX_CONTAINERS>,
    /// Swarm services.
    pub services: List<DockerService, MAX_SERVICES>,
    /// Collection time.
    #[serde(deserialize_with = "time::optional")]
    pub timestamp: Option<Timestamp>,
}

impl DockerReport {
    /// Checks what the schema cannot: a hostname, bounded identifiers, and present, unique
    /// container and service ids (they become record ids).
    pub fn validate(&self) -> Result<()> {
        required(
            self.host.hostname.as_deref(),
            || "host.hostname".into(),
            MAX_HOSTNAME,
        )?;
        validate_agent(&self.agent)?;
        limit(
            self.host.machine_id.as_deref(),
            || "host.machineId".into(),
            MAX_ID,
        )?;
        validate_interfaces(&self.host.network, "host.network")?;
        let mut seen = HashSet::with_capacity(self.containers.len());
        for (i, container) in self.containers.iter().enumerate() {
            let field = || format!("containers[{i}].id");
            let id = required(container.id.as_deref(), field, MAX_ID)?;
            if id.contains(':') {
                // Keeps `<agentId>:<containerId>` apart from `<agentId>:service:<serviceId>`.
                return Err(invalid(field(), "must not contain ':'"));
            }
            unique(&mut seen, id.to_owned(), field)?;
        }
        seen.clear();
        for (i, service) in self.services.iter().enumerate() {
            let field = || format!("services[{i}].id");
            let id = required(service.id.as_deref(), field, MAX_ID)?;
            unique(&mut seen, id.to_owned(), field)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_docker;
    use crate::error::Error;
    use crate::sources::agent::fixtures;

    fn rejects(json: &str) -> (String, String) {
        match parse_docker(json.as_bytes()) {
            Err(Error::InvalidReport { field, message }) => (field, message),
            other => panic!("expected invalid_report, got {other:?}"),
        }
    }

    #[test]
    fn parses_a_real_report() {
        let report = parse_docker(fixtures::DOCKER.as_bytes()).expect("valid");
        assert_eq!(report.containers.len(), 6);
        assert_eq!(report.services.len(), 2);
        assert_eq!(
            report.host.machine_id.as_deref(),
            Some("3f9c2b1a7d8e4f60a1b2c3d4e5f60718")
        );
        let oom = &report.containers[4];
        assert_eq!(oom.oom_killed, Some(true));
        assert!(oom.finished_at.is_some());
        assert!(oom.block_io.is_none());
    }

    #[test]
    fn container_ids_are_mandatory_and_unique() {
        let (field, _) = rejects(r#"{"host":{"hostname":"d"},"containers":[{"id":"a"},{}]}"#);
        assert_eq!(field, "containers[1].id");
        let (field, message) =
            rejects(r#"{"host":{"hostname":"d"},"containers":[{"id":"a"},{"id":"a"}]}"#);
        assert_eq!(
            (field.as_str(), message.as_str()),
            ("containers[1].id", "duplicate")
        );
        let (field, _) = rejects(r#"{"host":{"hostname":"d"},"services":[{"name":"x"}]}"#);
        assert_eq!(field, "services[0].id");
        let (field, message) =
            rejects(r#"{"host":{"hostname":"d"},"containers":[{"id":"service:x"}]}"#);
        assert_eq!(
            (field.as_str(), message.as_str()),
            ("containers[0].id", "must not contain ':'")
        );
        assert_eq!(rejects(r#"{"containers":[]}"#).0, "host.hostname");
    }

    #[test]
    fn container_values_are_checked() {
        let (field, _) = rejects(
            r#"{"host":{"hostname":"d"},"containers":[{"id":"a","memoryUsageBytes":-10}]}"#,
        );
        assert_eq!(field, "containers[0].memoryUsageBytes");
        let (field, _) = rejects(
            r#"{"host":{"hostname":"d"},
                "containers":[{"id":"a","ports":[{"privatePort":70000}]}]}"#,
        );
        assert_eq!(field, "containers[0].ports[0].privatePort");
        let (field, _) =
            rejects(r#"{"host":{"hostname":"d"},"containers":[{"id":"a","labels":{"x":1}}]}"#);
        assert_eq!(field, "containers[0].labels.x");
        // A multi-core container may use more than 100 % of one core.
        parse_docker(br#"{"host":{"hostname":"d"},"containers":[{"id":"a","cpuPercent":390.5}]}"#)
            .expect("per-core percent");
    }

    #[test]
    fn container_count_is_bounded() {
        let containers: Vec<String> = (0..=super::MAX_CONTAINERS)
            .map(|i| format!(r#"{{"id":"c{i}"}}"#))
            .collect();
        let json = format!(
            r#"{{"host":{{"hostname":"d"}},"containers":[{}]}}"#,
            containers.join(",")
        );
        let (field, message) = rejects(&json);
        assert_eq!(field, "containers");
        assert!(message.contains("10000"), "{message}");
    }
}
