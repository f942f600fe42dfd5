//! Pure tests of the PVE normaliser on hand-built polls.

use super::*;
use crate::sources::proxmox::pve::types::{NodeEntry, NodeMemory, NodeStatus};

const T0: Timestamp = Timestamp::from_millis(1_700_000_000_000);

fn node(name: &str, online: bool) -> NodePoll {
    NodePoll {
        entry: NodeEntry {
            node: name.into(),
            status: Some(if online { "online" } else { "unknown" }.into()),
            cpu: Some(0.5),
            maxcpu: Some(8),
            mem: Some(90),
            maxmem: Some(100),
            disk: Some(10),
            maxdisk: Some(40),
            uptime: Some(1000),
            level: None,
        },
        ip: Some("10.0.0.1".into()),
        status: online.then(|| NodeStatus {
            cpu: Some(0.25),
            memory: NodeMemory {
                total: Some(100),
                used: Some(90),
                available: Some(60),
                ..NodeMemory::default()
            },
            ..NodeStatus::default()
        }),
        rrd: None,
        storage: Vec::new(),
        zfs: Vec::new(),
        disks: Some(Vec::new()),
        backup_tasks: Some(Vec::new()),
        warnings: Vec::new(),
    }
}

fn guest(vmid: u64, node: &str, kind: &str, status: &str, netin: u64) -> GuestResource {
    GuestResource {
        kind: kind.into(),
        vmid,
        node: node.into(),
        name: Some(format!("g{vmid}")),
        status: Some(status.into()),
        cpu: Some(0.031),
        maxcpu: Some(2.0),
        mem: Some(512),
        maxmem: Some(1024),
        disk: Some(0),
        maxdisk: Some(4096),
        netin: Some(netin),
        netout: Some(0),
        diskread: Some(0),
        diskwrite: Some(0),
        uptime: Some(60),
        template: false,
        tags: Some("prod; web;;".into()),
        pool: None,
        lock: None,
        hastate: None,
    }
}

fn poll(nodes: Vec<NodePoll>, guests: Vec<GuestResource>) -> PvePoll {
    PvePoll {
        cluster_name: Some("c1".into()),
        nodes,
        guests,
        backups_polled: true,
        disks_polled: true,
        ..PvePoll::default()
    }
}

fn find<'a>(snapshot: &'a SourceSnapshot, id: &str) -> &'a SourceRecord {
    snapshot
        .records
        .iter()
        .find(|r| r.source_id == id)
        .unwrap_or_else(|| panic!("no record {id}"))
}

#[test]
fn records_follow_the_mapping_rules() {
    let mut template = guest(900, "n1", "qemu", "stopped", 0);
    template.template = true;
    let p = poll(
        vec![node("n1", true)],
        vec![
            guest(100, "n1", "qemu", "running", 10),
            guest(101, "n1", "lxc", "stopped", 0),
            guest(102, "n1", "qemu", "paused", 0),
            guest(103, "n1", "qemu", "weird", 0),
            template,
        ],
    );
    let snapshot = PveNormaliser::new("a").normalise(&p, T0);
    assert_eq!(snapshot.validate(), Ok(()));
    assert_eq!(
        snapshot.records.len(),
        5,
        "node + 4 guests, template skipped"
    );
    let n1 = find(&snapshot, "a-n1");
    assert_eq!(
        (n1.resource_type, n1.status),
        (ResourceType::Agent, Status::Online)
    );
    assert_eq!(n1.metrics.cpu().and_then(|c| c.percent), Some(25.0));
    let memory = n1.metrics.memory().expect("memory");
    assert_eq!((memory.used, memory.percent), (Some(40), Some(40.0)));
    assert_eq!(n1.identity.cluster_name.as_deref(), Some("c1"));
    let vm = find(&snapshot, "a:n1:100");
    assert_eq!(
        (vm.resource_type, vm.status),
        (ResourceType::Vm, Status::Online)
    );
    assert_eq!(vm.tags, ["prod", "web"]);
    assert_eq!(vm.guest_key.as_deref(), Some("a:100"));
    assert_eq!(vm.parent, Some(ParentRef::SourceId("a-n1".into())));
    assert!((vm.metrics.cpu().and_then(|c| c.percent).unwrap_or(0.0) - 3.1).abs() < 1e-9);
    assert!(
        vm.metrics.disk().is_none(),
        "a running VM's disk is unknown without the agent"
    );
    let ct = find(&snapshot, "a:n1:101");
    assert_eq!(
        (ct.resource_type, ct.status),
        (ResourceType::SystemContainer, Status::Offline)
    );
    assert!(ct.metrics.cpu().is_none(), "no metrics for stopped guests");
    assert_eq!(find(&snapshot, "a:n1:102").status, Status::Offline);
    assert_eq!(find(&snapshot, "a:n1:103").status, Status::Unknown);
}

#[test]
fn rates_survive_migration() {
    let mut normaliser = PveNormaliser::new("a");
    let nodes = || vec![node("n1", true), node("n2", true)];
    normaliser.normalise(
        &poll(nodes(), vec![guest(100, "n1", "qemu", "running", 1000)]),
        T0,
    );
    let moved = normaliser.normalise(
        &poll(nodes(), vec![guest(100, "n2", "qemu", "running", 5000)]),
        T0.plus_millis(2000),
    );
    let vm = find(&moved, "a:n2:100");
    assert_eq!(vm.metrics.net_in().and_then(|m| m.value), Some(2000.0));
    let reset = normaliser.normalise(
        &poll(nodes(), vec![guest(100, "n2", "qemu", "running", 10)]),
        T0.plus_millis(4000),
    );
    assert!(find(&reset, "a:n2:100").metrics.net_in().is_none());
}

#[test]
fn node_grace_then_offline() {
    let mut normaliser = PveNormaliser::new("a");
    let guests = vec![guest(100, "n2", "qemu", "running", 0)];
    normaliser.normalise(
        &poll(vec![node("n1", true), node("n2", true)], guests.clone()),
        T0,
    );
    let mut down_guests = guests;
    down_guests[0].status = Some("unknown".into());
    let down = poll(vec![node("n1", true), node("n2", false)], down_guests);
    let during = normaliser.normalise(&down, T0.plus_millis(10_000));
    let n2 = find(&during, "a-n2");
    assert_eq!(n2.status, Status::Online);
    assert!(n2
        .error
        .as_deref()
        .is_some_and(|e| e.contains("not answering")));
    assert_eq!(
        find(&during, "a:n2:100").status,
        Status::Online,
        "last-seen guest"
    );
    let after = normaliser.normalise(&down, T0.plus_millis(71_000));
    assert_eq!(after.validate(), Ok(()));
    assert_eq!(find(&after, "a-n2").status, Status::Offline);
    assert!(find(&after, "a-n2").metrics.cpu().is_none());
    assert_eq!(find(&after, "a:n2:100").status, Status::Unknown);
    // A node that vanishes from /nodes is kept through the grace, then dropped.
    let mut fresh = PveNormaliser::new("b");
    fresh.normalise(
        &poll(vec![node("n1", true), node("n2", true)], Vec::new()),
        T0,
    );
    let gone = poll(vec![node("n1", true)], Vec::new());
    assert_eq!(
        fresh.normalise(&gone, T0.plus_millis(1000)).records.len(),
        2
    );
    assert_eq!(
        fresh.normalise(&gone, T0.plus_millis(61_000)).records.len(),
        1
    );
}
