//! The normaliser on hand-made polls: every row of the §4.4 mapping as it lands on records, the
//! facets the alert rules read, parents and scoping.

use pulse_model::{
    FacetKey, ParentRef, ResourceType, SourceRecord, SourceSnapshot, Status, Timestamp,
};
use serde_json::{json, Value};

use super::normalise_truenas;
use crate::sources::truenas::negotiate::TransportMode;
use crate::sources::truenas::poll::{MethodFailure, TruenasPoll};
use crate::sources::truenas::snapshots::SnapshotSummary;

/// Decodes a wire value.
fn wire<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("wire value")
}

/// A pool in `state` with one mirror over `disks` (each `(name, state, [read, write, cksum])`).
fn pool(name: &str, state: &str, disks: &[(&str, &str, [u64; 3])]) -> Value {
    let leaves: Vec<Value> = disks
        .iter()
        .map(|(disk, state, e)| {
            json!({"type": "DISK", "disk": disk, "status": state,
                   "stats": {"read_errors": e[0], "write_errors": e[1], "checksum_errors": e[2]}})
        })
        .collect();
    json!({"name": name, "status": state, "size": 1000, "allocated": 250,
           "topology": {"data": [{"type": "MIRROR", "name": "mirror-0", "status": state,
                                  "stats": {"read_errors": 0}, "children": leaves}]},
           "scan": {"function": "SCRUB", "state": "FINISHED", "errors": 0}})
}

/// A poll with just a system.
fn base() -> TruenasPoll {
    let mut poll = TruenasPoll::empty(TransportMode::JsonRpcWebSocket);
    poll.system = Some(wire(json!({
        "hostname": "nas", "version": "25.04.1", "system_serial": "SER-1", "uptime_seconds": 100.5
    })));
    poll
}

/// The record with `source_id`.
fn record<'a>(snapshot: &'a SourceSnapshot, source_id: &str) -> &'a SourceRecord {
    snapshot
        .records
        .iter()
        .find(|r| r.source_id == source_id)
        .unwrap_or_else(|| panic!("no record {source_id}"))
}

/// Normalises `poll` for connection `c1`, checking the snapshot is valid.
fn normalise(poll: &TruenasPoll) -> SourceSnapshot {
    let snapshot = normalise_truenas(poll, "c1", Timestamp::from_millis(1_700_000_000_000));
    snapshot.validate().expect("valid snapshot");
    snapshot
}

#[test]
fn appliance_identity_and_empty_sections() {
    let snapshot = normalise(&base());
    assert_eq!(snapshot.records.len(), 1);
    let system = &snapshot.records[0];
    assert_eq!(system.source_id, "system:c1");
    assert_eq!(
        (system.name.as_str(), system.status),
        ("nas", Status::Online)
    );
    assert_eq!(system.identity.machine_id.as_deref(), Some("SER-1"));
    assert_eq!(system.identity.hostnames, ["nas"]);
    assert_eq!(system.uptime, Some(100));
    let facet = &system.facets[&FacetKey::Truenas];
    assert_eq!(facet["flavor"], "SCALE");
    assert_eq!(facet["transport"], "jsonrpc-websocket");
    assert!(facet["alerts"].is_null(), "alerts not read: no list at all");

    let mut nothing = TruenasPoll::empty(TransportMode::LegacyRest);
    nothing.failures.push(MethodFailure {
        method: "system.info",
        error: "boom".into(),
        carried_from: None,
    });
    nothing.system = Some(wire(json!({"system_serial": "To Be Filled By O.E.M."})));
    let snapshot = normalise(&nothing);
    let system = &snapshot.records[0];
    assert_eq!(
        system.name, "c1",
        "named by the connection without a host name"
    );
    assert_eq!(
        system.identity.machine_id, None,
        "placeholder serials identify nothing"
    );
    assert!(system
        .error
        .as_deref()
        .is_some_and(|e| e.contains("system.info: boom")));
}

#[test]
fn pool_rows_land_with_the_alert_fields() {
    let mut poll = base();
    let states = [
        "ONLINE",
        "DEGRADED",
        "FAULTED",
        "OFFLINE",
        "REMOVED",
        "UNAVAIL",
        "SUSPENDED",
        "WEIRD",
    ];
    poll.pools = Some(
        states
            .iter()
            .enumerate()
            .map(|(i, state)| wire(pool(&format!("p{i}"), state, &[])))
            .collect(),
    );
    poll.boot_pool = Some(wire(json!({"name": "boot-pool", "status": "online"})));
    let snapshot = normalise(&poll);
    let expected = [
        Status::Online,
        Status::Warning,
        Status::Offline,
        Status::Offline,
        Status::Offline,
        Status::Offline,
        Status::Unknown,
        Status::Unknown,
    ];
    for (i, (state, status)) in states.iter().zip(expected).enumerate() {
        let r = record(&snapshot, &format!("system:c1/pool:p{i}"));
        assert_eq!(r.status, status, "{state}");
        assert_eq!(r.resource_type, ResourceType::Storage);
        assert_eq!(r.parent, Some(ParentRef::SourceId("system:c1".into())));
        assert_eq!(r.facets[&FacetKey::Truenas]["poolState"], *state);
        assert_eq!(r.facets[&FacetKey::Storage]["poolState"], *state);
        assert!(r
            .tags
            .contains(&format!("health:{}", state.to_ascii_lowercase())));
        let incidents = &r.facets[&FacetKey::Truenas]["incidents"];
        match *state {
            "ONLINE" | "WEIRD" => assert!(incidents.is_null(), "{state}"),
            "DEGRADED" => assert_eq!(incidents[0]["severity"], "warning"),
            _ => assert_eq!(incidents[0]["severity"], "critical", "{state}"),
        }
        assert_eq!(r.metrics.disk().and_then(|d| d.percent), Some(25.0));
    }
    let boot = record(&snapshot, "system:c1/pool:boot-pool");
    assert_eq!(boot.status, Status::Online);
    assert!(boot.tags.contains(&"boot-pool".to_owned()));
    assert_eq!(boot.facets[&FacetKey::Truenas]["poolState"], "ONLINE");
    assert_eq!(snapshot.records[0].status, Status::Warning, "storage risk");
}

#[test]
fn vdev_errors_and_disk_rows() {
    let mut poll = base();
    poll.pools = Some(vec![wire(pool(
        "tank",
        "DEGRADED",
        &[
            ("sda", "ONLINE", [0, 0, 5]),
            ("sdb", "DEGRADED", [1, 0, 0]),
            ("sdc", "FAULTED", [0, 2, 0]),
            ("sdd", "REMOVED", [0, 0, 0]),
        ],
    ))]);
    poll.disks = Some(
        [
            ("sda", "PASS"),
            ("sdb", "PASS"),
            ("sdc", "PASS"),
            ("sdd", "PASS"),
            ("sde", "FAILED"),
            ("sdf", "PASS"),
        ]
        .iter()
        .map(|(name, smart)| {
            wire(
                json!({"name": name, "serial": format!("S-{name}"), "model": "M", "type": "HDD",
                        "pool": "tank", "smart_status": smart, "size": "100"}),
            )
        })
        .collect(),
    );
    poll.disk_temperatures = Some([("sda".to_owned(), 41.0)].into_iter().collect());
    let snapshot = normalise(&poll);
    let tank = record(&snapshot, "system:c1/pool:tank");
    let facet = &tank.facets[&FacetKey::Truenas];
    assert_eq!(
        (
            facet["readErrors"].as_u64(),
            facet["writeErrors"].as_u64(),
            facet["checksumErrors"].as_u64()
        ),
        (Some(1), Some(2), Some(5))
    );
    assert_eq!(
        facet["vdevs"].as_array().map(Vec::len),
        Some(5),
        "mirror + 4 disks"
    );
    assert_eq!(facet["scan"]["function"], "SCRUB");
    for (disk, status, state) in [
        ("sda", Status::Online, Some("ONLINE")),
        ("sdb", Status::Warning, Some("DEGRADED")),
        ("sdc", Status::Offline, Some("FAULTED")),
        ("sdd", Status::Offline, Some("REMOVED")),
        ("sde", Status::Warning, None),
        ("sdf", Status::Online, None),
    ] {
        let r = record(&snapshot, &format!("system:c1/disk:{disk}"));
        assert_eq!(r.status, status, "{disk}");
        assert_eq!(r.resource_type, ResourceType::PhysicalDisk);
        assert_eq!(
            r.facets[&FacetKey::PhysicalDisk]["state"].as_str(),
            state,
            "{disk}"
        );
        assert_eq!(
            r.identity.machine_id.as_deref(),
            Some(format!("S-{disk}").as_str())
        );
    }
    let sda = record(&snapshot, "system:c1/disk:sda");
    assert_eq!(sda.temperature, Some(41.0));
    assert_eq!(sda.facets[&FacetKey::PhysicalDisk]["health"], "PASSED");
    assert_eq!(sda.facets[&FacetKey::PhysicalDisk]["type"], "hdd");
    let sde = record(&snapshot, "system:c1/disk:sde");
    assert_eq!(sde.facets[&FacetKey::PhysicalDisk]["health"], "FAILED");
    let sdc = record(&snapshot, "system:c1/disk:sdc");
    assert_eq!(
        sdc.facets[&FacetKey::Truenas]["incidents"][0]["code"],
        "truenas_disk_state"
    );
}

#[test]
fn dataset_rows() {
    let mut poll = base();
    poll.pools = Some(vec![wire(pool("tank", "ONLINE", &[]))]);
    poll.datasets = Some(
        [
            json!({"id": "tank", "used": {"parsed": 30}, "available": {"parsed": 70}, "mountpoint": "/mnt/tank"}),
            json!({"id": "tank/locked", "locked": true, "mountpoint": "/mnt/tank/locked"}),
            json!({"id": "tank/unmounted", "mounted": false}),
            json!({"id": "tank/ro", "readonly": {"value": "ON"}}),
            json!({"id": "tank/pulled", "readonly": {"parsed": true}}),
            json!({"id": "tank/pulled/child", "readonly": true}),
            json!({"id": "tank/local-copy", "readonly": "on"}),
            json!({"id": "tank/zvol", "type": "VOLUME", "mountpoint": null}),
            json!({"id": "other/orphan"}),
        ]
        .into_iter()
        .map(wire)
        .collect(),
    );
    poll.replication = Some(vec![
        wire(
            json!({"id": 1, "direction": "PULL", "transport": "SSH", "target_dataset": "tank/pulled"}),
        ),
        wire(
            json!({"id": 2, "direction": "PUSH", "transport": "LOCAL", "target_dataset": "tank/local-copy"}),
        ),
        wire(
            json!({"id": 3, "direction": "PUSH", "transport": "SSH", "target_dataset": "tank/ro",
                    "state": {"state": "ERROR", "error": "boom"}}),
        ),
    ]);
    poll.snapshots = Some(wire(json!([
        {"name": "tank@a", "properties": {"creation": {"parsed": {"$date": 1_000}}}},
        {"name": "tank@b", "properties": {"creation": {"parsed": {"$date": 2_000}}}}
    ])));
    let snapshot = normalise(&poll);
    for (name, status) in [
        ("tank", Status::Online),
        ("tank/locked", Status::Offline),
        ("tank/unmounted", Status::Offline),
        ("tank/ro", Status::Warning),
        ("tank/pulled", Status::Online),
        ("tank/pulled/child", Status::Online),
        ("tank/local-copy", Status::Online),
        ("tank/zvol", Status::Online),
    ] {
        let r = record(&snapshot, &format!("system:c1/dataset:{name}"));
        assert_eq!(r.status, status, "{name}");
        assert_eq!(
            r.parent,
            Some(ParentRef::SourceId("system:c1/pool:tank".into()))
        );
    }
    let orphan = record(&snapshot, "system:c1/dataset:other/orphan");
    assert_eq!(orphan.parent, Some(ParentRef::SourceId("system:c1".into())));
    let root = record(&snapshot, "system:c1/dataset:tank");
    assert_eq!(root.metrics.disk().and_then(|d| d.percent), Some(30.0));
    let facet = &root.facets[&FacetKey::Truenas];
    assert_eq!(facet["snapshotCount"], 2);
    assert_eq!(facet["latestSnapshot"], "b");
    assert!(facet.get("poolState").is_none() && facet.get("status").is_none());
    assert_eq!(
        record(&snapshot, "system:c1/dataset:tank/ro").facets[&FacetKey::Truenas]["snapshotCount"],
        0
    );
    let zvol = record(&snapshot, "system:c1/dataset:tank/zvol");
    assert_eq!(zvol.facets[&FacetKey::Storage]["kind"], "zfs-volume");
    let system = &snapshot.records[0];
    assert_eq!(system.facets[&FacetKey::Truenas]["failedReplications"], 1);
    assert_eq!(
        system.facets[&FacetKey::Truenas]["replication"][2]["error"],
        "boom"
    );
}

#[test]
fn native_alert_levels_decide_the_appliance() {
    let alert = |level: &str, dismissed: bool| {
        wire::<crate::sources::truenas::types::Alert>(json!({
            "id": format!("{level}-{dismissed}"), "level": level, "formatted": format!("{level} text"),
            "source": "Test", "dismissed": dismissed, "datetime": {"$date": 5_000}
        }))
    };
    for (alerts, status) in [
        (vec![], Status::Online),
        (
            vec![alert("INFO", false), alert("NOTICE", false)],
            Status::Online,
        ),
        (vec![alert("WARNING", false)], Status::Warning),
        (vec![alert("CRITICAL", false)], Status::Warning),
        (vec![alert("ERROR", false)], Status::Warning),
        (vec![alert("ALERT", false)], Status::Warning),
        (
            vec![alert("CRITICAL", true), alert("INFO", false)],
            Status::Online,
        ),
        (vec![alert("DEBUG", false)], Status::Online),
    ] {
        let mut poll = base();
        let levels: Vec<String> = alerts
            .iter()
            .map(|a| format!("{:?}/{}", a.level, a.dismissed))
            .collect();
        poll.alerts = Some(alerts);
        let snapshot = normalise(&poll);
        let system = &snapshot.records[0];
        assert_eq!(system.status, status, "{levels:?}");
        let listed = system.facets[&FacetKey::Truenas]["alerts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(listed.iter().all(|a| a["dismissed"] == false));
        for a in &listed {
            assert_eq!(a["datetime"], 5_000);
            assert_eq!(a["source"], "Test");
        }
    }
    let mut poll = base();
    poll.alerts = Some(vec![alert("CRITICAL", false), alert("WARNING", true)]);
    let snapshot = normalise(&poll);
    let facet = &snapshot.records[0].facets[&FacetKey::Truenas];
    assert_eq!(
        facet["alerts"],
        json!([{"id": "CRITICAL-false", "level": "CRITICAL", "message": "CRITICAL text",
                "source": "Test", "dismissed": false, "datetime": 5_000}])
    );
    assert_eq!(
        facet["alertCounts"],
        json!({"critical": 1, "warning": 0, "monitor": 0, "dismissed": 1})
    );
}

#[test]
fn app_vm_and_share_rows() {
    let mut poll = base();
    poll.apps = Some(
        [
            "RUNNING",
            "DEPLOYING",
            "STOPPING",
            "CRASHED",
            "STOPPED",
            "WEIRD",
        ]
        .iter()
        .map(|s| wire(json!({"name": format!("app-{s}"), "state": s})))
        .collect(),
    );
    poll.vms = Some(
        [
            "RUNNING",
            "ACTIVE",
            "STOPPED",
            "SHUTOFF",
            "SHUTDOWN",
            "POWEROFF",
            "PAUSED",
            "SUSPENDED",
            "ERROR",
            "CRASHED",
            "PANICKED",
            "NOSTATE",
        ]
        .iter()
        .enumerate()
        .map(|(i, s)| {
            wire(
                json!({"id": i, "name": format!("vm-{s}"), "status": {"state": s}, "memory": 1024}),
            )
        })
        .collect(),
    );
    poll.datasets = Some(vec![wire(
        json!({"id": "tank/media", "mountpoint": "/mnt/tank/media"}),
    )]);
    poll.smb_shares = Some(vec![
        wire(json!({"id": 1, "name": "media", "path": "/mnt/tank/media/films", "enabled": true})),
        wire(
            json!({"id": 2, "name": "locked", "path": "/mnt/tank/mediaX", "enabled": true, "locked": true}),
        ),
    ]);
    poll.nfs_shares = Some(vec![wire(
        json!({"id": 1, "paths": ["/mnt/x"], "enabled": false, "locked": true}),
    )]);
    let snapshot = normalise(&poll);
    let status_of = |name: &str| {
        snapshot
            .records
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("{name}"))
            .status
    };
    for (state, status) in [
        ("RUNNING", Status::Online),
        ("DEPLOYING", Status::Warning),
        ("STOPPING", Status::Warning),
        ("CRASHED", Status::Warning),
        ("STOPPED", Status::Offline),
        ("WEIRD", Status::Unknown),
    ] {
        assert_eq!(status_of(&format!("app-{state}")), status, "app {state}");
    }
    for (state, status) in [
        ("RUNNING", Status::Online),
        ("ACTIVE", Status::Online),
        ("STOPPED", Status::Offline),
        ("SHUTOFF", Status::Offline),
        ("SHUTDOWN", Status::Offline),
        ("POWEROFF", Status::Offline),
        ("PAUSED", Status::Warning),
        ("SUSPENDED", Status::Warning),
        ("ERROR", Status::Warning),
        ("CRASHED", Status::Warning),
        ("PANICKED", Status::Warning),
        ("NOSTATE", Status::Unknown),
    ] {
        assert_eq!(status_of(&format!("vm-{state}")), status, "vm {state}");
    }
    let vm = record(&snapshot, "system:c1/vm:0");
    assert_eq!(vm.resource_type, ResourceType::Vm);
    assert_eq!(vm.metrics.memory().and_then(|m| m.total), Some(1 << 30));
    let app = record(&snapshot, "system:c1/app:app-RUNNING");
    assert_eq!(app.resource_type, ResourceType::AppContainer);
    let media = record(&snapshot, "system:c1/share:smb:1");
    assert_eq!(media.status, Status::Online);
    assert_eq!(
        media.parent,
        Some(ParentRef::SourceId("system:c1/dataset:tank/media".into()))
    );
    let locked = record(&snapshot, "system:c1/share:smb:2");
    assert_eq!(locked.status, Status::Warning);
    assert_eq!(
        locked.parent,
        Some(ParentRef::SourceId("system:c1".into())),
        "not a path prefix match"
    );
    let disabled = record(&snapshot, "system:c1/share:nfs:1");
    assert_eq!(
        (disabled.status, disabled.name.as_str()),
        (Status::Offline, "/mnt/x")
    );
    assert_eq!(
        snapshot.records[0].status,
        Status::Online,
        "workloads do not degrade the appliance"
    );
}

#[test]
fn source_ids_are_scoped_by_connection() {
    let mut poll = base();
    poll.pools = Some(vec![wire(pool("tank", "ONLINE", &[]))]);
    poll.snapshots = Some(SnapshotSummary::default());
    let a = normalise_truenas(&poll, "nas-a", Timestamp::EPOCH);
    let b = normalise_truenas(&poll, "nas-b", Timestamp::EPOCH);
    assert_eq!(a.records[1].source_id, "system:nas-a/pool:tank");
    assert_eq!(b.records[1].source_id, "system:nas-b/pool:tank");
    assert_eq!(a.scope, "nas-a");
    // A boot pool named like a data pool is reported once.
    poll.boot_pool = Some(wire(pool("tank", "ONLINE", &[])));
    assert_eq!(normalise(&poll).records.len(), 2);
}
