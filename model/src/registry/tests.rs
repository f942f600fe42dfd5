use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::diff::apply_diff;
use crate::json::{has_no_null_members, to_json};
use crate::names::{FacetKey, ResourceType, Status};
use crate::testgen;
use crate::types::{MetricKind, MetricValue};

const T0: Timestamp = Timestamp::from_millis(1_800_000_000_000);

fn at(seconds: u64) -> Timestamp {
    T0.plus_millis(seconds * 1000)
}

fn snap(source: Source, scope: &str, seconds: u64, records: Vec<SourceRecord>) -> SourceSnapshot {
    SourceSnapshot {
        source,
        scope: scope.to_owned(),
        observed_at: at(seconds),
        records,
    }
}

fn record(source_id: &str, resource_type: ResourceType, name: &str) -> SourceRecord {
    SourceRecord::new(source_id, resource_type, name, Status::Online)
}

fn cpu(value: f64) -> Option<MetricValue> {
    Some(MetricValue {
        value: Some(value),
        percent: Some(value),
        unit: "percent".into(),
        ..MetricValue::default()
    })
}

fn host(source_id: &str, name: &str, machine: Option<&str>) -> SourceRecord {
    let mut r = record(source_id, ResourceType::Agent, name);
    r.identity.machine_id = machine.map(str::to_owned);
    r
}

/// The upserts of a diff as JSON.
fn upserts(diff: &ResourceDiff) -> Vec<Value> {
    diff.upserts.iter().map(Upsert::to_json).collect()
}

/// The registry's resources as a client-side JSON map, read from their JSON text as
/// `/api/state` serves it.
fn json_state(registry: &RegistryState) -> BTreeMap<String, Value> {
    registry
        .resources()
        .map(|r| {
            let text = serde_json::to_string(r).expect("serialise");
            (r.id.clone(), serde_json::from_str(&text).expect("parse"))
        })
        .collect()
}

fn only(registry: &RegistryState) -> &Resource {
    assert_eq!(registry.len(), 1, "expected exactly one resource");
    registry.resources().next().expect("one resource")
}

/// A PVE snapshot: node `pve1` in cluster `c1` and guest 100 on it.
fn pve_cluster(seconds: u64) -> SourceSnapshot {
    let mut node = record("c1-pve1", ResourceType::Agent, "pve1");
    node.identity.cluster_name = Some("c1".into());
    node.identity.hostnames = vec!["pve1".into()];
    node.facets
        .insert(FacetKey::Proxmox, json!({"node": "pve1", "instance": "c1"}));
    let mut vm = record("c1-100", ResourceType::Vm, "web");
    vm.guest_key = Some("pve1:100".into());
    vm.parent = Some(ParentRef::SourceId("c1-pve1".into()));
    vm.metrics.set(MetricKind::Cpu, cpu(12.5));
    vm.tags = vec!["prod".into()];
    snap(Source::Proxmox, "pve:c1", seconds, vec![vm, node])
}

#[test]
fn ingest_creates_resources_with_stable_ids_and_parents() {
    let mut registry = RegistryState::new();
    assert_eq!(registry.ingest(pve_cluster(0), at(0)), 2);
    let node_id = stable_id(ResourceType::Agent, "cluster:c1:pve1");
    let vm = registry
        .get("vm-978ee110202da67b")
        .expect("guest id from guest key");
    assert_eq!(vm.parent_id.as_deref(), Some(node_id.as_str()));
    assert_eq!(vm.status, Status::Online);
    assert_eq!(vm.updated_at, at(0));
    let node = registry.get(&node_id).expect("node");
    assert_eq!(
        node.facets["proxmox"],
        json!({"node": "pve1", "instance": "c1"})
    );

    let diff = registry.take_diff();
    assert!(diff.removed.is_empty());
    assert_eq!(diff.upserts.len(), 2);
    let mut client = BTreeMap::new();
    apply_diff(&mut client, &diff).expect("valid");
    assert_eq!(client, json_state(&registry));
    assert!(!registry.has_pending());
    assert!(registry.take_diff().is_empty());
}

#[test]
fn reingest_unchanged_moves_only_observation_times() {
    let mut registry = RegistryState::new();
    registry.ingest(pve_cluster(0), at(0));
    registry.take_diff();
    assert_eq!(registry.ingest(pve_cluster(10), at(10)), 0);
    let diff = registry.take_diff();
    assert_eq!(diff.upserts.len(), 2);
    assert!(diff
        .upserts
        .iter()
        .all(|u| matches!(u, Upsert::Observed(_))));
    let upserts = upserts(&diff);
    let vm_patch = upserts
        .iter()
        .find(|p| p["id"] == "vm-978ee110202da67b")
        .expect("vm patch");
    assert_eq!(
        vm_patch,
        &json!({
            "id": "vm-978ee110202da67b",
            "lastSeen": "2027-01-15T08:00:10.000Z",
            "sourceStatus": {"proxmox": {"lastSeen": "2027-01-15T08:00:10.000Z"}}
        })
    );
    let vm = registry.get("vm-978ee110202da67b").expect("vm");
    assert_eq!(vm.updated_at, at(0));
    assert_eq!(vm.last_seen, at(10));
}

#[test]
fn identical_resend_leaves_nothing_pending() {
    let mut registry = RegistryState::new();
    registry.ingest(pve_cluster(0), at(0));
    registry.take_diff();
    assert!(!registry.has_pending());
    assert_eq!(registry.ingest(pve_cluster(0), at(5)), 0);
    assert_eq!(registry.mark_stale(at(5)), 0);
    assert!(!registry.has_pending());
    assert!(registry.take_diff().is_empty());
}

#[test]
fn content_change_moves_updated_at() {
    let mut registry = RegistryState::new();
    registry.ingest(pve_cluster(0), at(0));
    registry.take_diff();
    let mut next = pve_cluster(10);
    next.records[0].name = "web-renamed".into();
    assert_eq!(registry.ingest(next, at(10)), 1);
    let diff = registry.take_diff();
    let upserts = upserts(&diff);
    let vm_patch = upserts
        .iter()
        .find(|p| p["id"] == "vm-978ee110202da67b")
        .expect("vm patch");
    assert_eq!(vm_patch["name"], "web-renamed");
    assert_eq!(vm_patch["updatedAt"], "2027-01-15T08:00:10.000Z");
}

#[test]
fn missing_records_are_removed_and_short_lived_ones_are_invisible() {
    let mut registry = RegistryState::new();
    registry.ingest(pve_cluster(0), at(0));
    registry.take_diff();
    let mut next = pve_cluster(10);
    next.records.remove(0);
    next.records.push(record("c1-tmp", ResourceType::Vm, "tmp"));
    registry.ingest(next, at(10));
    let mut last = pve_cluster(20);
    last.records.remove(0);
    assert_eq!(registry.ingest(last, at(20)), 1);
    let diff = registry.take_diff();
    assert_eq!(diff.removed, ["vm-978ee110202da67b"]);
    assert_eq!(diff.upserts.len(), 1, "only the node's observation patch");
    assert_eq!(registry.len(), 1);
}

#[test]
fn many_ingests_coalesce_into_one_diff() {
    let mut registry = RegistryState::new();
    let mut client = BTreeMap::new();
    for step in 0..5 {
        let mut s = pve_cluster(step * 10);
        s.records[0].metrics.set(MetricKind::Cpu, cpu(step as f64));
        registry.ingest(s, at(step * 10));
    }
    let diff = registry.take_diff();
    assert_eq!(diff.upserts.len(), 2, "one whole resource each");
    apply_diff(&mut client, &diff).expect("valid");
    assert_eq!(client, json_state(&registry));
}

#[test]
fn older_snapshots_are_ignored() {
    let mut registry = RegistryState::new();
    registry.ingest(pve_cluster(10), at(10));
    let mut old = pve_cluster(5);
    old.records.clear();
    assert_eq!(registry.ingest(old, at(11)), 0);
    assert_eq!(registry.len(), 2);
}

#[test]
fn duplicate_source_ids_keep_the_last() {
    let mut registry = RegistryState::new();
    let records = vec![
        record("x", ResourceType::Vm, "first"),
        record("x", ResourceType::Vm, "second"),
    ];
    registry.ingest(snap(Source::Proxmox, "pve:a", 0, records), at(0));
    assert_eq!(only(&registry).name, "second");
}

#[test]
fn host_agent_and_proxmox_node_merge_by_machine_id() {
    let mut registry = RegistryState::new();
    let mut node = host("c1-pve1", "pve1", Some("M1"));
    node.metrics.set(MetricKind::Cpu, cpu(10.0));
    node.metrics.set(MetricKind::Memory, cpu(40.0));
    node.identity.hostnames = vec!["pve1.lan".into()];
    node.tags = vec!["b".into()];
    node.facets
        .insert(FacetKey::Proxmox, json!({"node": "pve1"}));
    registry.ingest(snap(Source::Proxmox, "pve:c1", 0, vec![node]), at(0));
    let mut agent = host("agent-7", "pve1-agent", Some("m1"));
    agent.metrics.set(MetricKind::Cpu, cpu(11.0));
    agent.identity.ip_addresses = vec!["10.0.0.5".into()];
    agent.tags = vec!["a".into(), "b".into()];
    agent
        .facets
        .insert(FacetKey::Agent, json!({"version": "6.0"}));
    registry.ingest(snap(Source::Agent, "agent:7", 1, vec![agent]), at(1));

    let merged = only(&registry);
    assert_eq!(merged.id, stable_id(ResourceType::Agent, "machine:m1"));
    assert_eq!(merged.sources, [Source::Proxmox, Source::Agent]);
    assert_eq!(
        merged.name, "pve1-agent",
        "agent outranks proxmox for names"
    );
    assert_eq!(
        merged.metrics.cpu(),
        cpu(11.0).as_ref(),
        "agent metrics win on hosts"
    );
    assert_eq!(
        merged.metrics.memory(),
        cpu(40.0).as_ref(),
        "missing metrics come from the next source"
    );
    assert_eq!(merged.tags, ["a", "b"]);
    assert_eq!(merged.identity.hostnames, ["pve1.lan"]);
    assert_eq!(merged.identity.ip_addresses, ["10.0.0.5"]);
    assert_eq!(merged.facets.len(), 2);
    assert_eq!(merged.last_seen, at(1));
    assert_eq!(merged.source_status[&Source::Proxmox].last_seen, at(0));
}

#[test]
fn hostname_with_mac_merges_but_hostname_alone_or_with_ip_does_not() {
    let mut registry = RegistryState::new();
    let mut node = host("c1-pve1", "pve1", None);
    node.identity.hostnames = vec!["pve1.lan".into()];
    node.identity.mac_addresses = vec!["aa:bb:cc:dd:ee:01".into()];
    node.identity.ip_addresses = vec!["10.0.0.5".into()];
    registry.ingest(snap(Source::Proxmox, "pve:c1", 0, vec![node]), at(0));

    let mut by_host = host("a1", "h", Some("m1"));
    by_host.identity.hostnames = vec!["PVE1".into()];
    registry.ingest(snap(Source::Agent, "agent:1", 0, vec![by_host]), at(0));
    let mut by_ip = host("a2", "h", Some("m2"));
    by_ip.identity.hostnames = vec!["pve1".into()];
    by_ip.identity.ip_addresses = vec!["10.0.0.5/24".into()];
    registry.ingest(snap(Source::Agent, "agent:2", 0, vec![by_ip]), at(0));
    assert_eq!(registry.len(), 3, "hostname and hostname+IP never merge");

    let mut by_mac = host("a3", "h", Some("m3"));
    by_mac.identity.hostnames = vec!["pve1.other".into()];
    by_mac.identity.mac_addresses = vec!["AA-BB-CC-DD-EE-01".into()];
    registry.ingest(snap(Source::Agent, "agent:3", 0, vec![by_mac]), at(0));
    assert_eq!(registry.len(), 3, "hostname+MAC merges");
    let node_id = stable_id(ResourceType::Agent, "proxmox:c1-pve1");
    let merged = registry.get(&node_id).expect("node kept its id");
    assert_eq!(merged.sources, [Source::Proxmox, Source::Agent]);
    assert_eq!(merged.identity.machine_id.as_deref(), Some("m3"));
}

#[test]
fn other_types_never_merge_by_identity() {
    let mut registry = RegistryState::new();
    let mut a = record("100", ResourceType::Vm, "vm");
    a.identity.machine_id = Some("m1".into());
    let mut b = record("vm-100", ResourceType::Vm, "vm");
    b.identity.machine_id = Some("m1".into());
    registry.ingest(snap(Source::Proxmox, "pve:a", 0, vec![a]), at(0));
    registry.ingest(snap(Source::Agent, "agent:1", 0, vec![b]), at(0));
    assert_eq!(registry.len(), 2);
}

#[test]
fn disks_merge_only_with_same_parent_or_hostname() {
    let mut registry = RegistryState::new();
    let disk = |source_id: &str, hosts: &[&str]| {
        let mut d = record(source_id, ResourceType::PhysicalDisk, "sda");
        d.identity.machine_id = Some("wwn-1".into());
        d.identity.hostnames = hosts.iter().map(|h| h.to_string()).collect();
        d
    };
    let node = host("n1", "pve1", Some("host-m"));
    let mut pve_disk = disk("n1-sda", &[]);
    pve_disk.parent = Some(ParentRef::SourceId("n1".into()));
    registry.ingest(
        snap(Source::Proxmox, "pve:a", 0, vec![node, pve_disk]),
        at(0),
    );
    let pve_disk_id = stable_id(ResourceType::PhysicalDisk, "machine:wwn-1");
    assert!(registry.get(&pve_disk_id).is_some());

    // Same WWN, same stable key: joins through the key even from another host.
    let mut truenas_disk = disk("sda", &["nas"]);
    truenas_disk.identity.machine_id = Some("WWN-1".into());
    registry.ingest(
        snap(Source::Truenas, "truenas:a", 0, vec![truenas_disk]),
        at(0),
    );
    assert_eq!(registry.len(), 2);

    // A disk known by DMI only (other key) matching by machine id needs parent or hostname.
    let mut other = registry.clone();
    let mut stranger = disk("sdb", &["elsewhere"]);
    stranger.identity.machine_id = None;
    stranger.identity.dmi_uuid = Some("x".into());
    other.ingest(snap(Source::Agent, "agent:9", 0, vec![stranger]), at(0));
    assert_eq!(other.len(), 3);
}

#[test]
fn disk_identity_match_requires_parent_or_shared_hostname() {
    let base = {
        let mut registry = RegistryState::new();
        let mut node = host("n1", "pve1", Some("host-m"));
        node.identity.hostnames = vec!["pve1".into()];
        let mut d = record("n1-sda", ResourceType::PhysicalDisk, "sda");
        d.identity.hostnames = vec!["pve1".into()];
        d.identity.mac_addresses = vec!["aa:bb:cc:dd:ee:01".into()];
        d.parent = Some(ParentRef::SourceId("n1".into()));
        registry.ingest(snap(Source::Proxmox, "pve:a", 0, vec![node, d]), at(0));
        registry
    };
    // hostname+MAC (0.90) and a shared hostname: merges.
    let mut registry = base.clone();
    let mut d = record("sda", ResourceType::PhysicalDisk, "sda");
    d.identity.hostnames = vec!["pve1.lan".into()];
    d.identity.mac_addresses = vec!["aa:bb:cc:dd:ee:01".into()];
    registry.ingest(snap(Source::Agent, "agent:1", 0, vec![d]), at(0));
    assert_eq!(registry.len(), 2);
}

#[test]
fn guest_metrics_prefer_the_platform_over_the_agent() {
    let mut registry = RegistryState::new();
    let mut pve = record("c1-100", ResourceType::Vm, "web");
    pve.guest_key = Some("pve1:100".into());
    pve.metrics.set(MetricKind::Cpu, cpu(30.0));
    pve.status = Status::Online;
    let mut agent = record("agent-vm", ResourceType::Vm, "web.lan");
    agent.guest_key = Some("pve1:100".into());
    agent.metrics.set(MetricKind::Cpu, cpu(31.0));
    agent.metrics.set(MetricKind::Disk, cpu(50.0));
    agent.status = Status::Warning;
    registry.ingest(snap(Source::Proxmox, "pve:c1", 0, vec![pve]), at(0));
    registry.ingest(snap(Source::Agent, "agent:vm", 0, vec![agent]), at(0));
    let vm = only(&registry);
    assert_eq!(
        vm.metrics.cpu(),
        cpu(30.0).as_ref(),
        "platform metrics win on guests"
    );
    assert_eq!(
        vm.metrics.disk(),
        cpu(50.0).as_ref(),
        "agent fills what the platform lacks"
    );
    assert_eq!(vm.name, "web.lan", "agent still wins names");
    assert_eq!(vm.status, Status::Warning, "and status");
}

#[test]
fn stale_source_turns_online_into_warning_then_offline() {
    let mut registry = RegistryState::new();
    let mut agent = host("a1", "h", Some("m1"));
    agent.offline_after_ms = Some(300_000);
    agent.metrics.set(MetricKind::Cpu, cpu(5.0));
    registry.ingest(snap(Source::Agent, "agent:1", 0, vec![agent]), at(0));
    registry.take_diff();

    assert_eq!(registry.mark_stale(at(60)), 0, "60 s is still fresh");
    assert!(registry.take_diff().is_empty());
    assert_eq!(registry.mark_stale(at(61)), 1);
    let r = only(&registry).clone();
    assert_eq!(r.status, Status::Warning);
    assert_eq!(r.source_status[&Source::Agent].status, SourceState::Stale);
    assert_eq!(
        r.metrics.cpu(),
        cpu(5.0).as_ref(),
        "stale metrics are kept when nothing is fresher"
    );
    assert_eq!(r.updated_at, at(61));
    let diff = registry.take_diff();
    assert_eq!(
        upserts(&diff),
        [json!({
            "id": r.id,
            "status": "warning",
            "updatedAt": "2027-01-15T08:01:01.000Z",
            "sourceStatus": {"agent": {"status": "stale"}}
        })]
    );

    assert_eq!(registry.mark_stale(at(301)), 1);
    let r = only(&registry);
    assert_eq!(r.status, Status::Offline);
    assert_eq!(r.source_status[&Source::Agent].status, SourceState::Offline);
    assert_eq!(r.metrics.cpu(), None, "offline sources supply no metrics");

    // A fresh report brings it back.
    let agent = host("a1", "h", Some("m1"));
    assert_eq!(
        registry.ingest(snap(Source::Agent, "agent:1", 310, vec![agent]), at(310)),
        1
    );
    assert_eq!(only(&registry).status, Status::Online);
}

#[test]
fn stale_source_keeps_a_non_online_status() {
    let mut registry = RegistryState::new();
    let mut agent = host("a1", "h", Some("m1"));
    agent.status = Status::Offline;
    registry.ingest(snap(Source::Agent, "agent:1", 0, vec![agent]), at(0));
    registry.mark_stale(at(100));
    assert_eq!(only(&registry).status, Status::Offline);
}

#[test]
fn fresh_lower_priority_source_wins_over_stale_agent() {
    let mut registry = RegistryState::new();
    let mut node = host("n1", "pve1", Some("m1"));
    node.metrics.set(MetricKind::Cpu, cpu(10.0));
    node.status = Status::Online;
    let mut agent = host("a1", "pve1-agent", Some("m1"));
    agent.metrics.set(MetricKind::Cpu, cpu(90.0));
    agent.status = Status::Warning;
    registry.ingest(snap(Source::Agent, "agent:1", 0, vec![agent]), at(0));
    registry.ingest(snap(Source::Proxmox, "pve:a", 0, vec![node.clone()]), at(0));
    assert_eq!(only(&registry).status, Status::Warning);
    assert_eq!(only(&registry).metrics.cpu(), cpu(90.0).as_ref());

    registry.ingest(snap(Source::Proxmox, "pve:a", 50, vec![node]), at(61));
    let r = only(&registry);
    assert_eq!(r.status, Status::Online, "the fresh proxmox view decides");
    assert_eq!(
        r.metrics.cpu(),
        cpu(10.0).as_ref(),
        "stale sources don't win metrics"
    );
    assert_eq!(r.name, "pve1", "the fresh source names it");
    assert_eq!(r.source_status[&Source::Agent].status, SourceState::Stale);
    assert_eq!(
        r.source_status[&Source::Proxmox].status,
        SourceState::Online
    );
}

#[test]
fn record_thresholds_override_defaults() {
    let mut registry = RegistryState::new();
    let mut r = record("c", ResourceType::AppContainer, "c");
    r.stale_after_ms = Some(5_000);
    r.error = Some("socket timeout".into());
    registry.ingest(snap(Source::Docker, "docker:1", 0, vec![r]), at(0));
    assert_eq!(registry.mark_stale(at(5)), 0);
    assert_eq!(registry.mark_stale(at(6)), 1);
    let entry = &only(&registry).source_status[&Source::Docker];
    assert_eq!(entry.status, SourceState::Stale);
    assert_eq!(entry.error.as_deref(), Some("socket timeout"));
}

#[test]
fn ids_stay_stable_when_identity_changes() {
    let mut registry = RegistryState::new();
    registry.ingest(
        snap(
            Source::Agent,
            "agent:1",
            0,
            vec![host("a1", "h", Some("m1"))],
        ),
        at(0),
    );
    let id = only(&registry).id.clone();
    registry.ingest(
        snap(
            Source::Agent,
            "agent:1",
            1,
            vec![host("a1", "h", Some("m2"))],
        ),
        at(1),
    );
    assert_eq!(only(&registry).id, id);
    assert_eq!(only(&registry).identity.machine_id.as_deref(), Some("m2"));
}

#[test]
fn stable_key_parents_resolve_to_the_merged_resource() {
    let mut registry = RegistryState::new();
    let mut node = host("n1", "pve1", None);
    node.identity.hostnames = vec!["pve1".into()];
    node.identity.mac_addresses = vec!["aa:bb:cc:dd:ee:01".into()];
    registry.ingest(snap(Source::Proxmox, "pve:a", 0, vec![node]), at(0));
    let mut agent = host("a1", "pve1", Some("m1"));
    agent.identity.hostnames = vec!["pve1".into()];
    agent.identity.mac_addresses = vec!["aa:bb:cc:dd:ee:01".into()];
    registry.ingest(snap(Source::Agent, "agent:1", 0, vec![agent]), at(0));
    let node_id = stable_id(ResourceType::Agent, "proxmox:n1");
    assert_eq!(registry.len(), 1);

    let mut container = record("c1", ResourceType::AppContainer, "nginx");
    container.parent = Some(ParentRef::StableKey {
        resource_type: ResourceType::Agent,
        key: "machine:m1".into(),
    });
    let mut orphan = record("c2", ResourceType::AppContainer, "redis");
    orphan.parent = Some(ParentRef::StableKey {
        resource_type: ResourceType::Agent,
        key: "machine:m9".into(),
    });
    registry.ingest(
        snap(Source::Docker, "docker:1", 0, vec![container, orphan]),
        at(0),
    );
    let parent_of = |name: &str| {
        registry
            .resources()
            .find(|r| r.name == name)
            .and_then(|r| r.parent_id.clone())
    };
    assert_eq!(parent_of("nginx"), Some(node_id));
    assert_eq!(
        parent_of("redis"),
        Some(stable_id(ResourceType::Agent, "machine:m9")),
        "an unknown parent gets the id its key will produce"
    );
}

#[test]
fn removed_resources_leave_the_identity_index() {
    let mut registry = RegistryState::new();
    let mut node = host("n1", "pve1", None);
    node.identity.hostnames = vec!["pve1".into()];
    node.identity.mac_addresses = vec!["aa:bb:cc:dd:ee:01".into()];
    registry.ingest(snap(Source::Proxmox, "pve:a", 0, vec![node]), at(0));
    registry.ingest(snap(Source::Proxmox, "pve:a", 1, vec![]), at(1));
    assert!(registry.is_empty());
    let mut agent = host("a1", "pve1", Some("m1"));
    agent.identity.hostnames = vec!["pve1".into()];
    agent.identity.mac_addresses = vec!["aa:bb:cc:dd:ee:01".into()];
    registry.ingest(snap(Source::Agent, "agent:1", 2, vec![agent]), at(2));
    assert_eq!(
        only(&registry).id,
        stable_id(ResourceType::Agent, "machine:m1")
    );
    let diff = registry.take_diff();
    assert!(
        diff.removed.is_empty(),
        "created and removed within the tick"
    );
    assert_eq!(diff.upserts.len(), 1);
}

#[test]
fn parent_cycles_and_unknown_parents_are_dropped() {
    let mut registry = RegistryState::new();
    let mut a = record("a", ResourceType::Vm, "a");
    a.parent = Some(ParentRef::SourceId("b".into()));
    let mut b = record("b", ResourceType::Vm, "b");
    b.parent = Some(ParentRef::SourceId("a".into()));
    let mut c = record("c", ResourceType::Vm, "c");
    c.parent = Some(ParentRef::SourceId("zzz".into()));
    registry.ingest(snap(Source::Proxmox, "pve:a", 0, vec![a, b, c]), at(0));
    let parents: Vec<_> = registry
        .resources()
        .map(|r| r.parent_id.is_some())
        .collect();
    assert_eq!(
        parents.iter().filter(|p| **p).count(),
        1,
        "one edge of the cycle survives"
    );
}

#[test]
fn unchanged_records_re_resolve_their_parent() {
    let mut registry = RegistryState::new();
    let container = || {
        let mut c = record("c1", ResourceType::AppContainer, "nginx");
        c.parent = Some(ParentRef::StableKey {
            resource_type: ResourceType::Agent,
            key: "machine:m1".into(),
        });
        c
    };
    registry.ingest(
        snap(Source::Docker, "docker:1", 0, vec![container()]),
        at(0),
    );
    let mut node = host("n1", "pve1", None);
    node.identity.hostnames = vec!["pve1".into()];
    node.identity.mac_addresses = vec!["aa:bb:cc:dd:ee:01".into()];
    registry.ingest(snap(Source::Proxmox, "pve:a", 0, vec![node]), at(0));
    let mut agent = host("a1", "pve1", Some("m1"));
    agent.identity.hostnames = vec!["pve1".into()];
    agent.identity.mac_addresses = vec!["aa:bb:cc:dd:ee:01".into()];
    registry.ingest(snap(Source::Agent, "agent:1", 0, vec![agent]), at(0));
    registry.take_diff();

    assert_eq!(
        registry.ingest(
            snap(Source::Docker, "docker:1", 10, vec![container()]),
            at(10)
        ),
        1
    );
    let node_id = stable_id(ResourceType::Agent, "proxmox:n1");
    let nginx = registry
        .resources()
        .find(|r| r.name == "nginx")
        .expect("container");
    assert_eq!(nginx.parent_id.as_deref(), Some(node_id.as_str()));
}

/// Checks the registry's internal bookkeeping against its resources.
fn check_invariants(registry: &RegistryState, now: Timestamp, freshly_evaluated: bool) {
    let slot = |s: SlotId| registry.slots.get(s).expect("live slot");
    for (id, &entry_id) in &registry.by_id {
        let entry = registry.entries.get(entry_id).expect("live entry");
        let resource = &entry.resource;
        assert_eq!(resource.id.as_str(), &**id);
        assert!(!entry.members.is_empty());
        // Measurements lent to the resource come back as refolding would take them back.
        let owned: Vec<Contribution> = entry
            .members
            .iter()
            .map(|s| {
                let mut c = slot(s).contribution.clone();
                if c.lends_measurements() {
                    assert_eq!(entry.members.len(), 1, "only a sole contribution lends");
                    c.reclaim_measurements(resource);
                }
                c
            })
            .collect();
        let contributions: Vec<&Contribution> = owned.iter().collect();
        for s in entry.members.iter() {
            assert_eq!(&slot(s).resource_id, id);
            let own = &slot(s).stable_id;
            assert!(
                Arc::ptr_eq(own, id) || **own != **id,
                "own id shares the resource id's copy when equal"
            );
            assert_eq!(slot(s).entry(), Some(entry_id));
        }
        if entry.form != NO_FORM {
            assert_eq!(registry.forms.owner(entry.form), Some(entry_id), "own form");
        }
        if freshly_evaluated {
            let mut expected = fold(id, &contributions, now).expect("non-empty");
            expected.updated_at = resource.updated_at;
            assert_eq!(resource, &expected, "incremental state equals a fresh fold");
        }
        assert!(has_no_null_members(&to_json(resource)));
        assert!(!registry.removed.contains_key(&**id));
    }
    assert_eq!(registry.entries.len(), registry.by_id.len());
    assert!(registry.newcomers.is_empty());
    let member_count: usize = registry
        .by_id
        .values()
        .filter_map(|&e| registry.entries.get(e))
        .map(|e| e.members.len())
        .sum();
    assert_eq!(member_count, registry.slots.len());
    let alias_count: usize = registry.aliases.values().map(Handles::len).sum();
    assert_eq!(alias_count, registry.slots.len());
    let scoped: usize = registry.scopes.values().map(|s| s.records.len()).sum();
    assert_eq!(scoped, registry.slots.len());
    let mut rebuilt = IdentityIndex::default();
    for resource in registry.resources() {
        rebuilt.insert(resource);
    }
    assert_eq!(rebuilt, registry.index);
}

/// Applies a registry diff to the client, checking the protocol on the way: removals name
/// resources the client has, and an upsert for an unknown id is a whole resource.
fn apply_checked(client: &mut BTreeMap<String, Value>, diff: &ResourceDiff) {
    for id in &diff.removed {
        assert!(
            client.contains_key(id),
            "removal of {id} the client never saw"
        );
    }
    for upsert in &diff.upserts {
        let known = client.contains_key(upsert.id());
        assert_eq!(
            !known,
            matches!(upsert, Upsert::Whole(_)),
            "whole exactly when new: {upsert:?}"
        );
        if !known {
            serde_json::from_value::<Resource>(upsert.to_json()).expect("whole resource");
        }
    }
    // What a client receives: the diff's JSON text, read back.
    let text = serde_json::to_string(diff).expect("serialise");
    let wire: ResourceDiff = serde_json::from_str(&text).expect("parse");
    apply_diff(client, &wire).expect("valid diff");
}

/// One step of a registry property test.
#[derive(Debug, Clone)]
enum Step {
    /// Ingest a random snapshot after `dt` ms.
    Ingest(SourceSnapshot, u64),
    /// Re-send the last snapshot of scope `scope` after `dt` ms, optionally with the CPU of one
    /// record changed.
    Repeat {
        scope: usize,
        dt: u64,
        tweak: Option<(usize, f64)>,
    },
    /// Run a staleness pass after `dt` ms.
    MarkStale(u64),
    /// Take a diff and apply it to the client.
    TakeDiff,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (testgen::snapshot(), 0u64..70_000).prop_map(|(s, dt)| Step::Ingest(s, dt)),
        3 => (
            0..testgen::SCOPES.len(),
            0u64..70_000,
            proptest::option::of((0usize..4, 0.0f64..4.0)),
        )
            .prop_map(|(scope, dt, tweak)| Step::Repeat { scope, dt, tweak }),
        1 => (0u64..120_000).prop_map(Step::MarkStale),
        2 => Just(Step::TakeDiff),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn diffs_replay_the_registry_exactly(steps in proptest::collection::vec(step(), 1..32)) {
        let mut registry = RegistryState::new();
        // The same steps on a registry whose contributions never lend their measurements.
        let mut reference = RegistryState {
            lending_disabled: true,
            ..RegistryState::new()
        };
        let mut client: BTreeMap<String, Value> = BTreeMap::new();
        let mut last: BTreeMap<usize, SourceSnapshot> = BTreeMap::new();
        let mut now = T0;
        for step in steps {
            match step {
                Step::Ingest(snapshot, dt) => {
                    now = now.plus_millis(dt);
                    let scope = testgen::SCOPES
                        .iter()
                        .position(|(_, name)| *name == snapshot.scope)
                        .expect("known scope");
                    let snapshot = SourceSnapshot { observed_at: now, ..snapshot };
                    last.insert(scope, snapshot.clone());
                    reference.ingest(snapshot.clone(), now);
                    registry.ingest(snapshot, now);
                    check_invariants(&registry, now, false);
                }
                Step::Repeat { scope, dt, tweak } => {
                    now = now.plus_millis(dt);
                    let Some(mut snapshot) = last.get(&scope).cloned() else { continue };
                    snapshot.observed_at = now;
                    if let Some((index, value)) = tweak {
                        if let Some(record) = snapshot.records.get_mut(index) {
                            record.metrics.set(MetricKind::Cpu, cpu(value));
                        }
                    }
                    last.insert(scope, snapshot.clone());
                    reference.ingest(snapshot.clone(), now);
                    registry.ingest(snapshot, now);
                    check_invariants(&registry, now, false);
                }
                Step::MarkStale(dt) => {
                    now = now.plus_millis(dt);
                    prop_assert_eq!(registry.mark_stale(now), reference.mark_stale(now));
                    check_invariants(&registry, now, true);
                    check_invariants(&reference, now, true);
                }
                Step::TakeDiff => {
                    let diff = registry.take_diff();
                    prop_assert_eq!(&diff, &reference.take_diff());
                    apply_checked(&mut client, &diff);
                    prop_assert_eq!(&client, &json_state(&registry));
                }
            }
        }
        prop_assert!(registry.resources().eq(reference.resources()));
        let diff = registry.take_diff();
        apply_checked(&mut client, &diff);
        prop_assert_eq!(&client, &json_state(&registry));
        prop_assert!(registry.take_diff().is_empty());
    }
}
