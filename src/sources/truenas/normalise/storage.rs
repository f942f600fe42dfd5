//! Pools, datasets and disks → records, with the §4.4 health mapping and the fields the ZFS and
//! disk alert rules read.

use std::collections::HashMap;

use pulse_model::{FacetKey, MetricKind, ParentRef, ResourceType, SourceRecord};
use serde_json::{json, Value};

use crate::sources::proxmox::normalise::metrics::usage_metric;
use crate::sources::truenas::health::{
    dataset_status, disk_severity, disk_status, pool_severity, pool_status, smart_failed, Severity,
};
use crate::sources::truenas::types::{Dataset, Disk, Pool, Vdev};

use super::{rfc3339, Context, PLACEHOLDER_SERIALS};

/// The storage records and what the rest of the normaliser needs from them.
pub(super) struct StorageRecords {
    /// Pools, datasets, disks.
    pub records: Vec<SourceRecord>,
    /// The worst incident among them (for the appliance's status).
    pub worst: Option<Severity>,
    /// Mount point → dataset source id, longest first (shares find their dataset here).
    pub dataset_mounts: Vec<(String, String)>,
}

/// One vdev tree node, flattened.
struct VdevRow<'a> {
    vdev: &'a Vdev,
    role: &'a str,
    leaf: bool,
}

/// Every node of a pool's vdev tree, depth first, roles in name order.
fn vdev_rows(pool: &Pool) -> Vec<VdevRow<'_>> {
    let mut rows = Vec::new();
    fn walk<'a>(vdev: &'a Vdev, role: &'a str, rows: &mut Vec<VdevRow<'a>>) {
        rows.push(VdevRow {
            vdev,
            role,
            leaf: vdev.children.items.is_empty(),
        });
        for child in &vdev.children.items {
            walk(child, role, rows);
        }
    }
    if let Some(tree) = pool.vdev_tree() {
        for (role, vdevs) in &tree.roles {
            for vdev in vdevs {
                walk(vdev, role, &mut rows);
            }
        }
    }
    rows
}

/// Builds the storage records.
pub(super) fn records(ctx: &Context<'_>) -> StorageRecords {
    let poll = ctx.poll;
    let mut out = StorageRecords {
        records: Vec::new(),
        worst: None,
        dataset_mounts: Vec::new(),
    };
    let mut worst: Option<Severity> = None;
    let mut leaf_states: HashMap<&str, &str> = HashMap::new();
    let mut pool_ids: HashMap<&str, String> = HashMap::new();
    let boot = poll
        .boot_pool
        .iter()
        .filter(|b| !poll.pools.iter().flatten().any(|p| p.name == b.name))
        .map(|b| (b, true));
    let pools: Vec<(&Pool, bool)> = poll
        .pools
        .iter()
        .flatten()
        .map(|p| (p, false))
        .chain(boot)
        .collect();
    for (pool, is_boot) in pools {
        let rows = vdev_rows(pool);
        for row in rows.iter().filter(|r| r.leaf) {
            if let (Some(disk), Some(state)) = (row.vdev.disk_name(), row.vdev.state_word()) {
                leaf_states.insert(disk, state);
            }
        }
        let record = pool_record(ctx, pool, is_boot, &rows);
        worst = worst.max(pool.state_word().and_then(pool_severity));
        if record_has_errors(&record) {
            worst = worst.max(Some(Severity::Warning));
        }
        pool_ids.insert(pool.name.as_str(), record.source_id.clone());
        out.records.push(record);
    }
    let targets: Vec<&str> = poll
        .replication
        .iter()
        .flatten()
        .filter(|t| t.targets_local())
        .filter_map(|t| t.target_dataset.as_deref())
        .collect();
    for dataset in poll.datasets.iter().flatten() {
        let record = dataset_record(ctx, dataset, &pool_ids, &targets);
        if let Some(mountpoint) = dataset.mountpoint.as_deref().filter(|m| m.starts_with('/')) {
            out.dataset_mounts.push((
                mountpoint.trim_end_matches('/').to_owned(),
                record.source_id.clone(),
            ));
        }
        out.records.push(record);
    }
    out.dataset_mounts
        .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    let temperatures = poll.disk_temperatures.as_ref();
    for disk in poll.disks.iter().flatten() {
        let state = leaf_states
            .get(disk.name.as_str())
            .copied()
            .or(disk.status.as_deref());
        worst = worst.max(state.and_then(disk_severity));
        if disk.smart_status.as_deref().is_some_and(smart_failed) {
            worst = worst.max(Some(Severity::Warning));
        }
        let temperature = temperatures.and_then(|t| t.get(&disk.name)).copied();
        out.records.push(disk_record(ctx, disk, state, temperature));
    }
    out.worst = worst;
    out
}

/// Whether a pool record reports vdev or scan errors.
fn record_has_errors(record: &SourceRecord) -> bool {
    let facet = &record.facets[&FacetKey::Truenas];
    let positive = |v: &Value| v.as_u64().is_some_and(|n| n > 0);
    ["readErrors", "writeErrors", "checksumErrors"]
        .iter()
        .any(|k| positive(&facet[*k]))
        || positive(&facet["scan"]["errors"])
}

/// One pool.
fn pool_record(
    ctx: &Context<'_>,
    pool: &Pool,
    is_boot: bool,
    rows: &[VdevRow<'_>],
) -> SourceRecord {
    let state = pool
        .state_word()
        .unwrap_or("UNKNOWN")
        .trim()
        .to_ascii_uppercase();
    let mut record = SourceRecord::new(
        ctx.child_id("pool", &pool.name),
        ResourceType::Storage,
        pool.name.as_str(),
        pool_status(&state),
    );
    record.parent = Some(ParentRef::SourceId(ctx.system_id.to_owned()));
    record
        .metrics
        .set(MetricKind::Disk, usage_metric(pool.allocated, pool.size));
    record.tags = vec![
        "truenas".into(),
        "pool".into(),
        "zfs".into(),
        format!("health:{}", state.to_ascii_lowercase()),
    ];
    if is_boot {
        record.tags.push("boot-pool".into());
    }
    let mut totals = [0u64; 3];
    let vdevs: Vec<Value> = rows
        .iter()
        .map(|row| {
            let stats = row.vdev.stats.unwrap_or_default();
            let counts = [stats.read_errors, stats.write_errors, stats.checksum_errors]
                .map(|c| c.unwrap_or(0));
            if row.leaf {
                for (total, count) in totals.iter_mut().zip(counts) {
                    *total = total.saturating_add(count);
                }
            }
            json!({
                "name": row.vdev.name.as_deref().or(row.vdev.disk_name()),
                "role": row.role,
                "type": row.vdev.kind,
                "status": row.vdev.state_word(),
                "disk": row.vdev.disk_name(),
                "leaf": row.leaf,
                "readErrors": counts[0],
                "writeErrors": counts[1],
                "checksumErrors": counts[2],
            })
        })
        .collect();
    let scan = pool.scan.as_ref().map(|s| {
        json!({
            "function": s.function,
            "state": s.state,
            "percentage": s.percentage,
            "errors": s.errors,
            "bytesExamined": s.bytes_examined,
            "bytesToProcess": s.bytes_to_process,
            "secondsLeft": s.total_secs_left,
            "startTime": rfc3339(s.start_time),
            "endTime": rfc3339(s.end_time),
        })
    });
    let mut incidents = Vec::new();
    if let Some(severity) = pool_severity(&state) {
        incidents.push(json!({
            "code": "zfs_pool_state", "severity": severity,
            "summary": format!("pool {} is {state}", pool.name),
        }));
    }
    if totals.iter().any(|&n| n > 0) {
        incidents.push(json!({
            "code": "zfs_vdev_errors", "severity": Severity::Warning,
            "summary": format!("pool {} has {} read, {} write and {} checksum errors",
                pool.name, totals[0], totals[1], totals[2]),
        }));
    }
    record.facets.insert(
        FacetKey::Truenas,
        json!({
            "connectionId": ctx.connection_id,
            "kind": "pool",
            "pool": pool.name,
            "id": pool.id,
            "guid": pool.guid,
            "poolState": state,
            "statusCode": pool.status_code,
            "statusDetail": pool.status_detail,
            "healthy": pool.healthy,
            "boot": is_boot,
            "fragmentation": pool.fragmentation,
            "readErrors": totals[0],
            "writeErrors": totals[1],
            "checksumErrors": totals[2],
            "vdevs": vdevs,
            "scan": scan,
            "incidents": (!incidents.is_empty()).then_some(incidents),
        }),
    );
    record.facets.insert(
        FacetKey::Storage,
        json!({
            "kind": "zfs-pool",
            "poolState": state,
            "total": pool.size,
            "used": pool.allocated,
            "free": pool.free,
        }),
    );
    record
}

/// Whether `dataset` is (inside) the target of a replication onto this appliance.
fn is_replication_target(dataset: &str, targets: &[&str]) -> bool {
    targets.iter().any(|t| {
        dataset == *t
            || dataset
                .strip_prefix(t)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// One dataset or volume.
fn dataset_record(
    ctx: &Context<'_>,
    dataset: &Dataset,
    pool_ids: &HashMap<&str, String>,
    targets: &[&str],
) -> SourceRecord {
    let locked = dataset.locked.unwrap_or(false);
    let mounted = dataset.mounted.unwrap_or(true);
    let readonly = dataset.readonly.unwrap_or(false);
    let target = is_replication_target(&dataset.id, targets);
    let volume = dataset
        .kind
        .as_deref()
        .is_some_and(|k| k.eq_ignore_ascii_case("VOLUME"));
    let mut record = SourceRecord::new(
        ctx.child_id("dataset", &dataset.id),
        ResourceType::Storage,
        dataset.id.as_str(),
        dataset_status(locked, mounted || volume, readonly, target),
    );
    let pool = dataset.pool_name();
    record.parent = Some(ParentRef::SourceId(
        pool_ids
            .get(pool)
            .cloned()
            .unwrap_or_else(|| ctx.system_id.to_owned()),
    ));
    let total = match (dataset.used, dataset.available) {
        (Some(used), Some(available)) => Some(used.saturating_add(available)),
        _ => None,
    };
    record
        .metrics
        .set(MetricKind::Disk, usage_metric(dataset.used, total));
    record.tags = vec![
        "truenas".into(),
        if volume { "zvol" } else { "dataset" }.into(),
        "zfs".into(),
    ];
    for (flag, tag) in [
        (locked, "locked"),
        (readonly, "readonly"),
        (target, "replication-target"),
    ] {
        if flag {
            record.tags.push(tag.into());
        }
    }
    let snapshots = ctx.poll.snapshots.as_ref();
    let own = snapshots.and_then(|s| s.of(&dataset.id));
    record.facets.insert(
        FacetKey::Truenas,
        json!({
            "connectionId": ctx.connection_id,
            "kind": if volume { "volume" } else { "dataset" },
            "dataset": dataset.id,
            "pool": pool,
            "type": dataset.kind,
            "mountpoint": dataset.mountpoint,
            "mounted": mounted,
            "locked": locked,
            "readonly": readonly,
            "encrypted": dataset.encrypted,
            "compression": dataset.compression,
            "replicationTarget": target,
            "snapshotCount": snapshots.map(|_| own.map_or(0, |o| o.count)),
            "latestSnapshot": own.and_then(|o| o.newest_name.as_deref()),
            "latestSnapshotAt": rfc3339(own.and_then(|o| o.newest_ms)),
            "oldestSnapshotAt": rfc3339(own.and_then(|o| o.oldest_ms)),
            "snapshotUsedBytes": own.map(|o| o.used_bytes),
        }),
    );
    record.facets.insert(
        FacetKey::Storage,
        json!({
            "kind": if volume { "zfs-volume" } else { "zfs-dataset" },
            "total": total,
            "used": dataset.used,
            "free": dataset.available,
        }),
    );
    record
}

/// The SMART result in the `physicalDisk.health` vocabulary (`PASSED`/`FAILED`).
fn smart_health(result: &str) -> String {
    let upper = result.trim().to_ascii_uppercase();
    if smart_failed(&upper) {
        "FAILED".into()
    } else if upper == "PASS" || upper == "PASSED" || upper == "OK" {
        "PASSED".into()
    } else {
        upper
    }
}

/// One disk; `state` is its vdev state in a pool (else the disk's own status).
fn disk_record(
    ctx: &Context<'_>,
    disk: &Disk,
    state: Option<&str>,
    temperature: Option<f64>,
) -> SourceRecord {
    let health = disk.smart_status.as_deref().map(smart_health);
    let mut record = SourceRecord::new(
        ctx.child_id("disk", &disk.name),
        ResourceType::PhysicalDisk,
        match disk.model.as_deref() {
            Some(model) if !model.is_empty() => format!("{} ({model})", disk.name),
            _ => disk.name.clone(),
        },
        disk_status(state, health.as_deref()),
    );
    record.parent = Some(ParentRef::SourceId(ctx.system_id.to_owned()));
    record.identity.machine_id = disk
        .serial
        .as_deref()
        .map(str::trim)
        .filter(|s| !PLACEHOLDER_SERIALS.contains(&s.to_ascii_lowercase().as_str()))
        .map(str::to_owned);
    record.temperature = temperature;
    record.tags = vec!["truenas".into(), "disk".into()];
    let kind = if disk
        .bus
        .as_deref()
        .is_some_and(|b| b.eq_ignore_ascii_case("NVME"))
        || disk.name.starts_with("nvme")
    {
        Some("nvme".to_owned())
    } else {
        disk.kind.as_deref().map(str::to_ascii_lowercase)
    };
    let state_upper = state.map(|s| s.trim().to_ascii_uppercase());
    let incident = state_upper
        .as_deref()
        .and_then(disk_severity)
        .map(|severity| {
            json!({
                "code": "truenas_disk_state", "severity": severity,
                "summary": format!("disk {} is {}", disk.name, state_upper.as_deref().unwrap_or("")),
            })
        });
    record.facets.insert(
        FacetKey::Truenas,
        json!({
            "connectionId": ctx.connection_id,
            "kind": "disk",
            "identifier": disk.identifier,
            "pool": disk.pool,
            "bus": disk.bus,
            "incidents": incident.map(|i| vec![i]),
        }),
    );
    record.facets.insert(
        FacetKey::PhysicalDisk,
        json!({
            "devpath": format!("/dev/{}", disk.name),
            "model": disk.model,
            "serial": disk.serial,
            "type": kind,
            "size": disk.size,
            "rpm": disk.rotationrate,
            "health": health,
            "state": state_upper,
            "pool": disk.pool,
            "temperature": temperature,
        }),
    );
    record
}
