//! Registry memory: heap held per resource for the fan-out load of `benches/loadgen` (100 Docker
//! hosts × 100 containers, records shaped as the Docker normaliser makes them) and for the
//! Proxmox-like records of the `registry` bench (10 clusters × 1,000).
//!
//! Counts the bytes the registry's live allocations requested (allocator rounding and
//! fragmentation come on top; the loadgen reads the real server's RSS). Run with
//! `cargo bench -p pulse-model --bench registry_memory`.

use pulse_model::{
    FacetKey, MetricKind, MetricValue, Metrics, ParentRef, RegistryState, ResourceType, Source,
    SourceRecord, SourceSnapshot, Status, Timestamp,
};
use serde_json::json;

/// Counts live heap (the allocator the workspace's memory examples share).
#[path = "../../tsdb/examples/common/counting.rs"]
mod counting;

const T0: Timestamp = Timestamp::from_millis(1_800_000_000_000);

/// The Docker host record of loadgen host `h`, as the Docker normaliser builds it.
fn docker_host(h: usize, containers: usize) -> SourceRecord {
    let agent_id = format!("{h:032x}");
    let hostname = format!("docker-{h}");
    let mut r = SourceRecord::new(&agent_id, ResourceType::Agent, &hostname, Status::Online);
    r.identity.machine_id = Some(agent_id.clone());
    r.identity.hostnames = vec![hostname.clone()];
    r.facets.insert(
        FacetKey::Docker,
        json!({"agentId": agent_id, "agentVersion": "loadgen", "containerCount": containers,
               "dockerVersion": "27.0", "hostname": hostname, "intervalSeconds": 30,
               "runningContainers": containers, "runtime": "docker", "runtimeVersion": "27.0",
               "totalCpu": 8, "totalMemoryBytes": 34_359_738_368u64}),
    );
    r.stale_after_ms = Some(60_000);
    r.offline_after_ms = Some(120_000);
    r
}

/// Container `j` of loadgen host `h`, as the Docker normaliser builds it.
fn docker_container(h: usize, j: usize) -> SourceRecord {
    let agent_id = format!("{h:032x}");
    let id = format!("{h:04x}{j:060x}");
    let mut r = SourceRecord::new(
        format!("{agent_id}:{id}"),
        ResourceType::AppContainer,
        format!("svc-{h}-{j}"),
        Status::Online,
    );
    r.parent = Some(ParentRef::SourceId(agent_id));
    r.uptime = Some(3600);
    let used = 200_000_000 + j as u64;
    r.metrics = Metrics::new()
        .with(
            MetricKind::Cpu,
            Some(MetricValue {
                value: Some(1.0),
                percent: Some(0.125),
                unit: "percent".into(),
                ..MetricValue::default()
            }),
        )
        .with(
            MetricKind::Memory,
            Some(MetricValue {
                value: Some(used as f64),
                used: Some(used),
                total: Some(1_073_741_824),
                percent: Some(used as f64 / 1_073_741_824.0 * 100.0),
                unit: "bytes".into(),
            }),
        );
    r.facets.insert(
        FacetKey::Docker,
        json!({"containerId": id, "health": "healthy", "image": "registry.example/app:1.0",
               "labels": {}, "memoryLimitBytes": 1_073_741_824u64, "networks": [], "ports": [],
               "restartCount": 0, "state": "running", "status": "Up 1 hour"}),
    );
    r.stale_after_ms = Some(60_000);
    r.offline_after_ms = Some(120_000);
    r
}

fn docker_snapshot(h: usize, containers: usize) -> SourceSnapshot {
    let mut records = vec![docker_host(h, containers)];
    records.extend((0..containers).map(|j| docker_container(h, j)));
    SourceSnapshot {
        source: Source::Docker,
        scope: format!("docker:{h:032x}"),
        observed_at: T0,
        records,
    }
}

/// A Proxmox-like record as in the `registry` bench: every 100th a node, the rest guests.
fn proxmox_record(cluster: usize, i: usize) -> SourceRecord {
    let node = i / 100 * 100;
    let name = if i == node {
        format!("pve{cluster}-{i}")
    } else {
        format!("vm-{cluster}-{i}")
    };
    let resource_type = if i == node {
        ResourceType::Agent
    } else {
        ResourceType::Vm
    };
    let mut r = SourceRecord::new(
        format!("c{cluster}-{i}"),
        resource_type,
        name.clone(),
        Status::Online,
    );
    r.identity.hostnames = vec![format!("{name}.lan")];
    r.identity.ip_addresses = vec![format!("10.{cluster}.{}.{}", i / 250, i % 250 + 1)];
    r.identity.mac_addresses = vec![format!(
        "bc:24:11:{:02x}:{:02x}:{:02x}",
        cluster,
        i / 256,
        i % 256
    )];
    let metric = |value: f64, used: Option<u64>, total: Option<u64>, unit: &'static str| {
        Some(MetricValue {
            value: Some(value),
            used,
            total,
            percent: Some(value),
            unit: unit.into(),
        })
    };
    r.metrics
        .set(MetricKind::Cpu, metric(12.5, None, None, "percent"));
    r.metrics.set(
        MetricKind::Memory,
        metric(42.0, Some(3_435_973_836), Some(8_589_934_592), "bytes"),
    );
    r.metrics.set(
        MetricKind::Disk,
        metric(61.5, Some(21_474_836_480), Some(34_359_738_368), "bytes"),
    );
    r.metrics
        .set(MetricKind::NetIn, metric(125_000.0, None, None, "bytes/s"));
    r.metrics
        .set(MetricKind::NetOut, metric(64_000.0, None, None, "bytes/s"));
    r.uptime = Some(86_400 + i as u64);
    r.tags = vec!["prod".into(), format!("team-{}", i % 7)];
    if i == node {
        r.identity.cluster_name = Some(format!("cluster-{cluster}"));
        r.facets.insert(
            FacetKey::Proxmox,
            json!({"node": name, "instance": format!("cluster-{cluster}"), "pveVersion": "8.2.4",
                   "kernel": "6.8.12-1-pve", "cpuModel": "AMD EPYC 7302P", "cores": 16}),
        );
    } else {
        r.guest_key = Some(format!("cluster-{cluster}:{}", 100 + i));
        r.parent = Some(ParentRef::SourceId(format!("c{cluster}-{node}")));
        r.facets.insert(
            FacetKey::Proxmox,
            json!({"node": format!("pve{cluster}-{node}"), "vmid": 100 + i,
                   "instance": format!("cluster-{cluster}"), "template": false,
                   "lock": "", "haState": "started", "osType": "l26"}),
        );
    }
    r
}

fn proxmox_snapshot(cluster: usize) -> SourceSnapshot {
    SourceSnapshot {
        source: Source::Proxmox,
        scope: format!("pve:cluster-{cluster}"),
        observed_at: T0,
        records: (0..1000).map(|i| proxmox_record(cluster, i)).collect(),
    }
}

/// Ingests the snapshots one by one (each built just before, as reports arrive) and prints what
/// the registry holds afterwards.
fn measure(label: &str, snapshots: impl Iterator<Item = SourceSnapshot>) {
    let bytes = counting::live_bytes();
    let blocks = counting::live_blocks();
    let mut registry = RegistryState::new();
    for snapshot in snapshots {
        registry.ingest(snapshot, T0);
        drop(registry.take_diff());
    }
    let bytes = counting::live_bytes() - bytes;
    let blocks = counting::live_blocks() - blocks;
    let n = registry.len() as isize;
    println!(
        "{label}: {n} resources, {:.1} MB live heap = {} bytes and {} allocations per resource",
        bytes as f64 / 1e6,
        bytes / n.max(1),
        blocks / n.max(1)
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing here is configurable.
    measure(
        "fan-out Docker load (100 hosts × 100 containers)",
        (0..100).map(|h| docker_snapshot(h, 100)),
    );
    measure(
        "Proxmox-like records (10 clusters × 1,000)",
        (0..10).map(proxmox_snapshot),
    );
}
