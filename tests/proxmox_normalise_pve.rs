//! PVE polls from the simulator through the normaliser.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::proxmox::token_settings;
use pulse::sim::pve::{PveSim, PveSimConfig};
use pulse::sources::proxmox::normalise::PveNormaliser;
use pulse::sources::proxmox::pve::{poll_pve, PollPlan, PveClient, PvePoll};
use pulse_model::{
    FacetKey, ParentRef, RegistryState, ResourceType, Source, SourceRecord, SourceSnapshot, Status,
    Timestamp,
};

fn now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis();
    Timestamp::from_millis(i64::try_from(ms).expect("ms"))
}

struct Fixture {
    sim: PveSim,
    client: PveClient,
}

impl Fixture {
    fn new() -> Self {
        let sim = PveSim::start(PveSimConfig::default()).expect("sim");
        let client = PveClient::new(&[token_settings(
            &sim.url(),
            sim.credentials(),
            sim.fingerprint(),
        )])
        .expect("client");
        Fixture { sim, client }
    }

    async fn poll(&self) -> PvePoll {
        poll_pve(&self.client, PollPlan::default())
            .await
            .expect("poll")
    }
}

fn record<'a>(snapshot: &'a SourceSnapshot, source_id: &str) -> &'a SourceRecord {
    snapshot
        .records
        .iter()
        .find(|r| r.source_id == source_id)
        .unwrap_or_else(|| panic!("no record {source_id}"))
}

fn guest(snapshot: &SourceSnapshot, vmid: u64) -> Option<&SourceRecord> {
    let key = format!("lab:{vmid}");
    snapshot
        .records
        .iter()
        .find(|r| r.guest_key.as_deref() == Some(key.as_str()))
}

fn count(snapshot: &SourceSnapshot, kind: ResourceType) -> usize {
    snapshot
        .records
        .iter()
        .filter(|r| r.resource_type == kind)
        .count()
}

#[tokio::test]
async fn kinds_statuses_parents_tags_and_metrics() {
    let f = Fixture::new();
    let poll = f.poll().await;
    let mut normaliser = PveNormaliser::new("lab");
    let t = now();
    let snapshot = normaliser.normalise(&poll, t);
    snapshot.validate().expect("valid snapshot");
    assert_eq!(
        (snapshot.source, snapshot.scope.as_str()),
        (Source::Proxmox, "pve:lab")
    );
    assert_eq!(count(&snapshot, ResourceType::Agent), 3);
    assert_eq!(
        count(&snapshot, ResourceType::Vm) + count(&snapshot, ResourceType::SystemContainer),
        43
    );
    assert_eq!(count(&snapshot, ResourceType::SystemContainer), 15);
    assert_eq!(count(&snapshot, ResourceType::Storage), 10 + 2);
    assert_eq!(count(&snapshot, ResourceType::PhysicalDisk), 9);
    assert_eq!(count(&snapshot, ResourceType::Ceph), 1);
    // Templates (vmid 119, 139) are skipped.
    assert!(guest(&snapshot, 119).is_none() && guest(&snapshot, 139).is_none());

    let web = guest(&snapshot, 100).expect("guest 100");
    assert_eq!(web.resource_type, ResourceType::Vm);
    assert_eq!(web.status, Status::Online);
    assert_eq!(web.parent, Some(ParentRef::SourceId("lab-pve1".into())));
    assert_eq!(web.tags, ["prod", "web"]);
    assert_eq!(web.source_id, "lab:pve1:100");
    let listed = poll.guests.iter().find(|g| g.vmid == 100).expect("listed");
    let cpu = web.metrics.cpu().and_then(|c| c.percent).expect("cpu");
    assert!((cpu - listed.cpu.expect("cpu") * 100.0).abs() < 1e-9);
    assert_eq!(web.metrics.memory().and_then(|m| m.total), listed.maxmem);
    assert!(
        web.metrics.net_in().is_none(),
        "no rate on the first observation"
    );
    assert_eq!(web.facets[&FacetKey::Proxmox]["lastBackup"]["status"], "ok");
    assert!(web.facets[&FacetKey::Proxmox]["replication"][0]["lastSync"].is_string());
    assert_eq!(
        guest(&snapshot, 104).expect("104").tags,
        ["monitoring", "ops"]
    );
    assert_eq!(
        guest(&snapshot, 103).expect("stopped").status,
        Status::Offline
    );
    assert_eq!(
        guest(&snapshot, 105).expect("paused").status,
        Status::Offline
    );
    assert_eq!(guest(&snapshot, 111).expect("nameless").name, "CT 111");
    assert_eq!(
        guest(&snapshot, 112).expect("failed backup").facets[&FacetKey::Proxmox]["lastBackup"]
            ["status"],
        "error"
    );
    let ct = guest(&snapshot, 102).expect("lxc");
    assert_eq!(ct.resource_type, ResourceType::SystemContainer);
    assert!(ct.metrics.disk().is_some(), "LXC disk usage is known");

    // Cache-aware memory: pve1 from `available`, pve2 from free+buffers+cached, pve3 from RRD.
    let pve1 = record(&snapshot, "lab-pve1");
    let status = poll.nodes[0].status.as_ref().expect("status");
    let memory = pve1.metrics.memory().expect("memory");
    assert_eq!(
        memory.used,
        Some(status.memory.total.expect("total") - status.memory.available.expect("available"))
    );
    assert!(
        memory.used < status.memory.used,
        "cache is not counted as used"
    );
    assert_eq!(pve1.facets[&FacetKey::Proxmox]["memorySource"], "available");
    assert_eq!(
        record(&snapshot, "lab-pve2").facets[&FacetKey::Proxmox]["memorySource"],
        "free-buffers-cached"
    );
    assert_eq!(
        record(&snapshot, "lab-pve3").facets[&FacetKey::Proxmox]["memorySource"],
        "rrd-available"
    );
    assert_eq!(pve1.identity.cluster_name.as_deref(), Some("demo-cluster"));
    assert_eq!(
        pve1.facets[&FacetKey::Proxmox]["loadAverage"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    assert_eq!(pve1.facets[&FacetKey::Proxmox]["mhz"], 2994.372);

    let tank = record(&snapshot, "lab-pve2-zfs-tank");
    assert_eq!(tank.status, Status::Warning);
    assert_eq!(tank.facets[&FacetKey::Storage]["kind"], "zfs-pool");
    assert_eq!(tank.facets[&FacetKey::Storage]["state"], "DEGRADED");
    assert_eq!(tank.parent, Some(ParentRef::SourceId("lab-pve2".into())));
    let failed = record(&snapshot, "lab-pve2-disk-/dev/sdb");
    assert_eq!(failed.status, Status::Offline);
    assert_eq!(failed.facets[&FacetKey::PhysicalDisk]["health"], "FAILED");
    assert!(failed.facets[&FacetKey::PhysicalDisk]["wearout"].is_null());
    assert_eq!(
        record(&snapshot, "lab-pve3-storage-old-nfs").status,
        Status::Warning
    );
    let ceph = snapshot
        .records
        .iter()
        .find(|r| r.resource_type == ResourceType::Ceph)
        .expect("ceph");
    assert_eq!(ceph.status, Status::Warning);

    let mut registry = RegistryState::new();
    assert!(registry.ingest(snapshot, t) > 0);
    assert_eq!(registry.len(), 3 + 43 + 12 + 9 + 1);
}

#[tokio::test]
async fn rates_across_polls_a_counter_reset_and_a_migration() {
    let f = Fixture::new();
    let control = f.sim.control();
    let mut normaliser = PveNormaliser::new("lab");
    normaliser.normalise(&f.poll().await, now());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = normaliser.normalise(&f.poll().await, now());
    let web = guest(&second, 100).expect("guest 100");
    let rate = web.metrics.net_in().and_then(|m| m.value).expect("rate");
    // The simulator grows guest 100's netin by 1000 B/s.
    assert!((700.0..1300.0).contains(&rate), "rate {rate}");
    assert!(web.metrics.disk_write().is_some());

    // Restart: counters start from zero; no negative or huge rate, just none this time.
    control.restart(100);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let third = normaliser.normalise(&f.poll().await, now());
    let web = guest(&third, 100).expect("guest 100");
    assert!(web.metrics.net_in().is_none(), "no rate across a reset");
    assert!(guest(&third, 101)
        .and_then(|g| g.metrics.net_in())
        .is_some());

    // Live migration of 101 from pve2 to pve3: a new source id and parent, same guest key and
    // the rate baseline survives.
    assert!(control.migrate(101, 2));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fourth = normaliser.normalise(&f.poll().await, now());
    fourth.validate().expect("valid");
    let moved = guest(&fourth, 101).expect("guest 101");
    assert_eq!(moved.source_id, "lab:pve3:101");
    assert_eq!(moved.parent, Some(ParentRef::SourceId("lab-pve3".into())));
    assert!(moved
        .metrics
        .net_in()
        .and_then(|m| m.value)
        .is_some_and(|r| r > 0.0));
    let fifth = normaliser.normalise(&f.poll().await, now());
    assert!(
        guest(&fifth, 100)
            .and_then(|g| g.metrics.net_in())
            .is_some(),
        "rates resume after a reset"
    );
}

#[tokio::test]
async fn a_node_that_goes_down_keeps_its_last_state_for_the_grace() {
    let f = Fixture::new();
    let mut normaliser = PveNormaliser::new("lab");
    let t0 = now();
    let up = normaliser.normalise(&f.poll().await, t0);
    let guests_on_pve2 = up
        .records
        .iter()
        .filter(|r| {
            r.parent == Some(ParentRef::SourceId("lab-pve2".into())) && r.guest_key.is_some()
        })
        .count();
    assert!(guests_on_pve2 > 10);

    f.sim.control().set_down_node(Some(1));
    let down = f.poll().await;
    let during = normaliser.normalise(&down, t0.plus_millis(5_000));
    during.validate().expect("valid");
    let node = record(&during, "lab-pve2");
    assert_eq!(
        node.status,
        Status::Online,
        "last seen state during the grace"
    );
    assert!(node
        .error
        .as_deref()
        .is_some_and(|e| e.contains("not answering")));
    assert!(node.metrics.memory().is_some());
    assert!(during
        .records
        .iter()
        .any(|r| r.source_id == "lab-pve2-storage-local"));
    let kept = during
        .records
        .iter()
        .filter(|r| {
            r.parent == Some(ParentRef::SourceId("lab-pve2".into())) && r.guest_key.is_some()
        })
        .filter(|r| r.status != Status::Unknown)
        .count();
    assert_eq!(kept, guests_on_pve2, "guests keep their last-seen state");

    let after = normaliser.normalise(&down, t0.plus_millis(66_000));
    after.validate().expect("valid");
    let node = record(&after, "lab-pve2");
    assert_eq!(node.status, Status::Offline);
    assert!(node.metrics.memory().is_none());
    assert!(!after
        .records
        .iter()
        .any(|r| r.source_id.starts_with("lab-pve2-")));
    assert!(guest(&after, 101).is_some_and(|g| g.status == Status::Unknown));

    // Back online: normal again at once.
    f.sim.control().set_down_node(None);
    let back = normaliser.normalise(&f.poll().await, t0.plus_millis(70_000));
    assert_eq!(record(&back, "lab-pve2").status, Status::Online);
    assert!(record(&back, "lab-pve2").error.is_none());
}

#[tokio::test]
async fn a_node_never_seen_online_is_unknown_then_offline() {
    let f = Fixture::new();
    f.sim.control().set_down_node(Some(2));
    let poll = f.poll().await;
    let mut normaliser = PveNormaliser::new("lab");
    let t0 = now();
    assert_eq!(
        record(&normaliser.normalise(&poll, t0), "lab-pve3").status,
        Status::Unknown
    );
    assert_eq!(
        record(
            &normaliser.normalise(&poll, t0.plus_millis(30_000)),
            "lab-pve3"
        )
        .status,
        Status::Unknown
    );
    assert_eq!(
        record(
            &normaliser.normalise(&poll, t0.plus_millis(61_000)),
            "lab-pve3"
        )
        .status,
        Status::Offline
    );
}

#[tokio::test]
async fn slow_parts_are_carried_between_the_polls_that_read_them() {
    let f = Fixture::new();
    let mut normaliser = PveNormaliser::new("lab");
    normaliser.normalise(&f.poll().await, now());
    let light = poll_pve(
        &f.client,
        PollPlan {
            disks: false,
            backups: false,
            ceph: true,
            replication: false,
        },
    )
    .await
    .expect("poll");
    assert!(light
        .nodes
        .iter()
        .all(|n| n.disks.is_none() && n.backup_tasks.is_none()));
    let snapshot = normaliser.normalise(&light, now());
    assert_eq!(count(&snapshot, ResourceType::PhysicalDisk), 9);
    let web = guest(&snapshot, 100).expect("guest");
    assert_eq!(web.facets[&FacetKey::Proxmox]["lastBackup"]["status"], "ok");
    assert!(web.facets[&FacetKey::Proxmox]["replication"].is_array());
}
