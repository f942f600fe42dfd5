//! End-to-end tests of the normalisers: realistic reports → records, statuses, parents, metrics,
//! rates across reports, replies, and the merge of Docker and host records in the registry.

use pulse_model::{
    FacetKey, ParentRef, RegistryState, ResourceType, Source, SourceRecord, SourceSnapshot, Status,
    Timestamp,
};
use serde_json::{json, Value};

use super::AgentIngestor;
use crate::error::Error;
use crate::sources::agent::fixtures;
use crate::sources::agent::wire::{parse_docker, parse_host, parse_kubernetes, HostReport};

/// Machine id of the host fixture.
const HOST_MACHINE: &str = "8f2c6e0a9b1d4c3e8f7a6b5c4d3e2f10";

fn t(seconds: i64) -> Timestamp {
    Timestamp::from_millis(1_795_000_000_000 + seconds * 1000)
}

fn ingestor() -> AgentIngestor {
    AgentIngestor::new("6.0.0-test")
}

fn by_id<'a>(snapshot: &'a SourceSnapshot, source_id: &str) -> &'a SourceRecord {
    snapshot
        .records
        .iter()
        .find(|r| r.source_id == source_id)
        .unwrap_or_else(|| panic!("no record {source_id}"))
}

/// The host fixture with every counter (network and disk I/O) increased by `delta`, or set to
/// `delta` when `reset`.
fn host_with_counters(delta: u64, reset: bool) -> HostReport {
    let mut json: Value = serde_json::from_str(fixtures::HOST).expect("fixture");
    for (list, fields) in [
        ("network", ["rxBytes", "txBytes"]),
        ("diskIO", ["readBytes", "writeBytes"]),
    ] {
        for entry in json[list].as_array_mut().expect("array") {
            for field in fields {
                let old = entry[field].as_u64().expect("counter");
                entry[field] = json!(if reset { delta } else { old + delta });
            }
        }
    }
    parse_host(json.to_string().as_bytes()).expect("valid")
}

#[test]
fn host_report_becomes_one_agent_record() {
    let report = parse_host(fixtures::HOST.as_bytes()).expect("valid");
    let (snapshot, reply) = ingestor().host(report, t(0)).expect("ingest");
    assert_eq!(snapshot.source, Source::Agent);
    assert_eq!(snapshot.scope, format!("agent:{HOST_MACHINE}"));
    assert_eq!(snapshot.observed_at, t(0));
    assert_eq!(snapshot.records.len(), 1);

    let r = &snapshot.records[0];
    assert_eq!(r.source_id, HOST_MACHINE, "no host.id: machine id (§18)");
    assert_eq!(
        (r.resource_type, r.name.as_str(), r.status),
        (ResourceType::Agent, "pve1", Status::Online)
    );
    assert_eq!(r.identity.machine_id.as_deref(), Some(HOST_MACHINE));
    assert_eq!(r.identity.hostnames, ["pve1.lan", "pve1"]);
    assert_eq!(
        r.identity.ip_addresses,
        ["192.168.1.10", "fe80::aaa1:59ff:fe12:3456"]
    );
    assert_eq!(r.identity.mac_addresses, ["a8:a1:59:12:34:56"]);
    assert_eq!(r.uptime, Some(1_209_600));
    assert_eq!(
        r.temperature,
        Some(48.5),
        "CPU sensor preferred over the hotter NVMe"
    );
    assert_eq!(r.tags, ["homelab", "proxmox"]);
    assert_eq!(
        (r.stale_after_ms, r.offline_after_ms),
        (Some(60_000), Some(180_000))
    );
    assert_eq!(r.parent, None);

    let cpu = r.metrics.cpu().expect("cpu");
    assert_eq!((cpu.percent, &*cpu.unit), (Some(12.5), "percent"));
    let memory = r.metrics.memory().expect("memory");
    assert_eq!(
        (memory.used, memory.total, memory.percent),
        (Some(8_589_934_592), Some(34_359_738_368), Some(25.0))
    );
    let disk = r.metrics.disk().expect("disk");
    assert_eq!(
        disk.used,
        Some(40_000_000_000 + 10_000_000 + 1_000_000_000_000),
        "tmpfs skipped"
    );
    assert_eq!(
        disk.total,
        Some(100_000_000_000 + 1_000_000_000 + 4_000_000_000_000)
    );
    assert!(
        r.metrics.net_in().is_none() && r.metrics.disk_read().is_none(),
        "no rate on first report"
    );

    let facet = &r.facets[&FacetKey::Agent];
    assert_eq!(facet["agentId"], HOST_MACHINE);
    assert_eq!(facet["version"], "5.1.3");
    assert_eq!(facet["type"], "unified");
    assert_eq!(facet["intervalSeconds"], 30);
    assert_eq!(facet["osName"], "Debian GNU/Linux");
    assert_eq!(facet["cpuCount"], 16);
    assert_eq!(facet["loadAverage"], json!([0.42, 0.57, 0.61]));
    assert_eq!(facet["filesystems"].as_array().map(Vec::len), Some(4));
    assert_eq!(facet["filesystems"][0]["mountpoint"], "/");
    assert_eq!(facet["interfaces"][1]["name"], "vmbr0");
    assert_eq!(facet["sensors"]["temperatures"]["nvme_composite"], 52.0);
    assert_eq!(facet["reportedAt"], "2026-11-22T10:00:00.123Z");

    let reply = serde_json::to_value(&reply).expect("serialise");
    assert_eq!(
        reply,
        json!({
            "success": true, "agentId": HOST_MACHINE, "lastSeen": t(0).to_string(),
            "platform": "linux", "osName": "Debian GNU/Linux", "osVersion": "12",
            "serverVersion": "6.0.0-test"
        })
    );
}

#[test]
fn rates_come_from_two_reports_and_resets_give_none() {
    let mut ingest = ingestor();
    ingest
        .host(host_with_counters(0, false), t(0))
        .expect("first");
    let (second, _) = ingest
        .host(host_with_counters(3_000_000, false), t(30))
        .expect("second");
    let m = &second.records[0].metrics;
    // Only vmbr0 counts (lo and the veth are virtual): 3 MB in 30 s.
    assert_eq!(m.net_in().and_then(|v| v.value), Some(100_000.0));
    assert_eq!(m.net_out().map(|v| &*v.unit), Some("bytes/s"));
    // nvme0n1 and sda count, loop0 does not.
    assert_eq!(m.disk_read().and_then(|v| v.value), Some(200_000.0));
    assert_eq!(m.disk_write().and_then(|v| v.value), Some(200_000.0));

    let (reset, _) = ingest
        .host(host_with_counters(10, true), t(60))
        .expect("reset");
    let m = &reset.records[0].metrics;
    assert!(
        m.net_in().is_none() && m.disk_read().is_none(),
        "reset: no rate, no negative"
    );
    let (after, _) = ingest
        .host(host_with_counters(3_010, true), t(90))
        .expect("after");
    assert_eq!(
        after.records[0].metrics.net_in().and_then(|v| v.value),
        Some(100.0)
    );
    assert!(ingest.tracked_counters() >= 6);
    ingest.sweep(t(90 + 3601));
    assert_eq!(ingest.tracked_counters(), 0);
}

#[test]
fn host_id_prefers_explicit_id_and_falls_back_to_a_hash() {
    let (snapshot, reply) = ingestor()
        .host(
            parse_host(br#"{"host":{"hostname":"a.lan","id":"host-7"},"agent":{"id":"ag"}}"#)
                .expect("ok"),
            t(0),
        )
        .expect("ingest");
    assert_eq!(
        (snapshot.scope.as_str(), reply.agent_id.as_str()),
        ("agent:host-7", "host-7")
    );
    let (_, reply) = ingestor()
        .host(
            parse_host(br#"{"host":{"hostname":"My Laptop"}}"#).expect("ok"),
            t(0),
        )
        .expect("ingest");
    assert!(reply.agent_id.starts_with("agent-") && reply.agent_id.len() == 18);
}

#[test]
fn ingestor_revalidates_reports_built_in_code() {
    let err = ingestor()
        .host(HostReport::default(), t(0))
        .expect_err("no hostname");
    match err {
        Error::InvalidReport { field, .. } => assert_eq!(field, "host.hostname"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn docker_report_maps_host_containers_and_services() {
    let report = parse_docker(fixtures::DOCKER.as_bytes()).expect("valid");
    let (snapshot, reply) = ingestor().docker(report, t(0)).expect("ingest");
    let agent = "3f9c2b1a7d8e4f60a1b2c3d4e5f60718";
    assert_eq!(snapshot.source, Source::Docker);
    assert_eq!(snapshot.scope, format!("docker:{agent}"));
    assert_eq!(snapshot.records.len(), 1 + 6 + 2);

    let host = by_id(&snapshot, agent);
    assert_eq!(
        (host.resource_type, host.status),
        (ResourceType::Agent, Status::Online)
    );
    assert_eq!(host.identity.machine_id.as_deref(), Some(agent));
    assert_eq!(host.identity.hostnames, ["docker1"]);
    assert_eq!(host.identity.ip_addresses, ["10.0.0.5"]);
    assert_eq!(host.metrics.memory().and_then(|m| m.percent), Some(50.0));
    assert_eq!(host.facets[&FacetKey::Docker]["runningContainers"], 3);
    assert_eq!(
        host.facets[&FacetKey::Docker]["swarm"]["nodeRole"],
        "manager"
    );

    let expected = [
        ("aaaaaaaaaaaa1111", "web", Status::Online),
        ("bbbbbbbbbbbb2222", "api", Status::Warning),
        ("cccccccccccc3333", "db", Status::Online),
        ("dddddddddddd4444", "worker", Status::Warning),
        ("eeeeeeeeeeee5555", "batch", Status::Offline),
        ("ffffffffffff6666", "migrate", Status::Offline),
    ];
    for (id, name, status) in expected {
        let c = by_id(&snapshot, &format!("{agent}:{id}"));
        assert_eq!(
            (c.resource_type, c.name.as_str(), c.status),
            (ResourceType::AppContainer, name, status),
            "{id}"
        );
        assert_eq!(c.parent, Some(ParentRef::SourceId(agent.to_owned())));
        assert_eq!(
            (c.stale_after_ms, c.offline_after_ms),
            (Some(60_000), Some(120_000))
        );
    }

    let web = by_id(&snapshot, &format!("{agent}:aaaaaaaaaaaa1111"));
    let cpu = web.metrics.cpu().expect("cpu");
    assert_eq!(
        (cpu.value, cpu.percent),
        (Some(200.0), Some(25.0)),
        "two of eight cores"
    );
    let memory = web.metrics.memory().expect("memory");
    assert_eq!(
        (memory.used, memory.total),
        (Some(104_857_600), Some(1_073_741_824))
    );
    assert_eq!(web.uptime, Some(172_800));
    assert_eq!(web.identity.ip_addresses, ["172.18.0.2"]);
    let facet = &web.facets[&FacetKey::Docker];
    assert_eq!(facet["composeProject"], "shop");
    assert_eq!(facet["composeService"], "web");
    assert_eq!(facet["ports"][0]["publicPort"], 8080);
    assert!(facet.get("finishedAt").is_none(), "Go zero time is absent");

    let api = by_id(&snapshot, &format!("{agent}:bbbbbbbbbbbb2222"));
    let memory = api.metrics.memory().expect("memory");
    assert_eq!(
        (memory.total, memory.percent),
        (None, None),
        "no limit, no percent"
    );
    assert_eq!(api.facets[&FacetKey::Docker]["health"], "unhealthy");

    let worker = &by_id(&snapshot, &format!("{agent}:dddddddddddd4444")).facets[&FacetKey::Docker];
    assert_eq!(
        (worker["restartCount"].clone(), worker["exitCode"].clone()),
        (json!(17), json!(1))
    );
    let batch = by_id(&snapshot, &format!("{agent}:eeeeeeeeeeee5555"));
    assert_eq!(batch.facets[&FacetKey::Docker]["oomKilled"], true);
    assert_eq!(batch.facets[&FacetKey::Docker]["exitCode"], 137);
    assert_eq!(batch.uptime, None);
    let migrate = &by_id(&snapshot, &format!("{agent}:ffffffffffff6666")).facets[&FacetKey::Docker];
    assert_eq!(migrate["composeService"], "migrate", "podman metadata");

    let web_svc = by_id(&snapshot, &format!("{agent}:service:svc1"));
    assert_eq!(
        (web_svc.resource_type, web_svc.name.as_str(), web_svc.status),
        (ResourceType::DockerService, "shop_web", Status::Online)
    );
    assert_eq!(
        by_id(&snapshot, &format!("{agent}:service:svc2")).status,
        Status::Warning
    );

    let reply = serde_json::to_value(&reply).expect("serialise");
    assert_eq!(
        reply,
        json!({"success": true, "agentId": agent, "containers": 6, "lastSeen": t(0).to_string()})
    );
}

#[test]
fn docker_rates_follow_container_counters() {
    let mut ingest = ingestor();
    let report = |rx: u64| {
        parse_docker(
            format!(
                r#"{{"host":{{"hostname":"d"}},"containers":[{{"id":"c1","state":"running",
                "networkRxBytes":{rx},"networkTxBytes":0,"blockIo":{{"readBytes":{rx}}}}}]}}"#
            )
            .as_bytes(),
        )
        .expect("valid")
    };
    ingest.docker(report(1_000), t(0)).expect("first");
    let (snapshot, _) = ingest.docker(report(11_000), t(10)).expect("second");
    let c = by_id(&snapshot, "d:c1");
    assert_eq!(c.metrics.net_in().and_then(|m| m.value), Some(1_000.0));
    assert_eq!(c.metrics.disk_read().and_then(|m| m.value), Some(1_000.0));
    let (snapshot, _) = ingest
        .docker(report(5), t(20))
        .expect("restarted container");
    assert!(by_id(&snapshot, "d:c1").metrics.net_in().is_none());
}

#[test]
fn docker_host_merges_with_the_host_agent_record() {
    let machine = HOST_MACHINE;
    let docker = parse_docker(
        format!(
            r#"{{"agent":{{"id":"x"}},"host":{{"hostname":"pve1","machineId":"{machine}"}},
                   "containers":[{{"id":"c1","state":"running"}}]}}"#
        )
        .as_bytes(),
    )
    .expect("valid");
    let mut ingest = ingestor();
    let (host_snapshot, _) = ingest
        .host(parse_host(fixtures::HOST.as_bytes()).expect("valid"), t(0))
        .expect("host");
    let (docker_snapshot, _) = ingest.docker(docker, t(1)).expect("docker");
    let mut registry = RegistryState::new();
    registry.ingest(host_snapshot, t(0));
    registry.ingest(docker_snapshot, t(1));
    let hosts: Vec<_> = registry
        .resources()
        .filter(|r| r.resource_type == ResourceType::Agent)
        .collect();
    assert_eq!(hosts.len(), 1, "one machine, one resource");
    assert_eq!(hosts[0].sources, [Source::Agent, Source::Docker]);
    assert_eq!(hosts[0].name, "pve1");
    let container = registry
        .resources()
        .find(|r| r.resource_type == ResourceType::AppContainer)
        .expect("container");
    assert_eq!(container.parent_id.as_deref(), Some(hosts[0].id.as_str()));
}

#[test]
fn kubernetes_report_maps_cluster_nodes_pods_deployments() {
    let report = parse_kubernetes(fixtures::KUBERNETES.as_bytes()).expect("valid");
    let (snapshot, reply) = ingestor().kubernetes(report, t(0)).expect("ingest");
    assert_eq!(snapshot.source, Source::Kubernetes);
    assert_eq!(snapshot.scope, "kubernetes:c-7f3a");
    assert_eq!(snapshot.records.len(), 1 + 2 + 6 + 2);

    let cluster = by_id(&snapshot, "c-7f3a");
    assert_eq!(
        (cluster.resource_type, cluster.name.as_str()),
        (ResourceType::K8sCluster, "prod")
    );
    assert_eq!(cluster.status, Status::Warning, "node-b is not ready");
    assert_eq!(cluster.facets[&FacetKey::Kubernetes]["readyNodes"], 1);

    let node_a = by_id(&snapshot, "c-7f3a:node:node-a");
    assert_eq!(
        (node_a.resource_type, node_a.status),
        (ResourceType::K8sNode, Status::Online)
    );
    assert_eq!(node_a.parent, Some(ParentRef::SourceId("c-7f3a".into())));
    assert_eq!(node_a.metrics.cpu().and_then(|m| m.percent), Some(25.0));
    assert_eq!(node_a.metrics.memory().and_then(|m| m.percent), Some(25.0));
    assert_eq!(
        by_id(&snapshot, "c-7f3a:node:node-b").status,
        Status::Offline
    );

    let pods = [
        ("default/web-7d9f-abc", Status::Online, "c-7f3a:node:node-a"),
        ("shop/api-5c8b-def", Status::Warning, "c-7f3a:node:node-a"),
        ("shop/api-5c8b-ghi", Status::Warning, "c-7f3a"),
        ("shop/migrate-x1", Status::Offline, "c-7f3a:node:node-b"),
        ("shop/report-y2", Status::Offline, "c-7f3a"),
        ("kube-system/mystery", Status::Unknown, "c-7f3a"),
    ];
    for (key, status, parent) in pods {
        let pod = by_id(&snapshot, &format!("c-7f3a:pod:{key}"));
        assert_eq!(
            (pod.resource_type, pod.status),
            (ResourceType::Pod, status),
            "{key}"
        );
        assert_eq!(
            pod.parent,
            Some(ParentRef::SourceId(parent.into())),
            "{key}"
        );
    }
    let web = by_id(&snapshot, "c-7f3a:pod:default/web-7d9f-abc");
    assert_eq!(
        web.metrics.cpu().and_then(|m| m.percent),
        Some(5.0),
        "200m of 4 cores"
    );
    assert_eq!(
        web.uptime,
        Some(t(0).millis_since("2026-11-22T09:00:05Z".parse().expect("ts")) / 1000)
    );
    assert_eq!(web.facets[&FacetKey::Kubernetes]["namespace"], "default");
    assert_eq!(web.facets[&FacetKey::Kubernetes]["ownerName"], "web-7d9f");
    let api = &by_id(&snapshot, "c-7f3a:pod:shop/api-5c8b-def").facets[&FacetKey::Kubernetes];
    assert_eq!(api["restarts"], 7);
    assert_eq!(api["containers"][0]["reason"], "CrashLoopBackOff");

    let web_deploy = by_id(&snapshot, "c-7f3a:deployment:default/web");
    assert_eq!(
        (web_deploy.resource_type, web_deploy.status),
        (ResourceType::K8sDeployment, Status::Online)
    );
    assert_eq!(
        web_deploy.parent,
        Some(ParentRef::SourceId("c-7f3a".into()))
    );
    assert_eq!(
        by_id(&snapshot, "c-7f3a:deployment:shop/api").status,
        Status::Warning
    );

    let reply = serde_json::to_value(&reply).expect("serialise");
    assert_eq!(
        reply,
        json!({"success": true, "clusterId": "c-7f3a", "nodes": 2, "pods": 6, "deployments": 2,
               "lastSeen": t(0).to_string()})
    );
}

#[test]
fn kubernetes_registry_places_pods_under_nodes() {
    let report = parse_kubernetes(fixtures::KUBERNETES.as_bytes()).expect("valid");
    let (snapshot, _) = ingestor().kubernetes(report, t(0)).expect("ingest");
    let mut registry = RegistryState::new();
    registry.ingest(snapshot, t(0));
    let node = registry
        .resources()
        .find(|r| r.resource_type == ResourceType::K8sNode && r.name == "node-a")
        .expect("node");
    let children = registry
        .resources()
        .filter(|r| r.parent_id.as_deref() == Some(node.id.as_str()))
        .count();
    assert_eq!(children, 2);
}
