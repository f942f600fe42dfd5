//! PBS poll → [`SourceSnapshot`] (source `pbs`, scope `pbs:<instance>`).
//!
//! One `pbs` record for the server (source id `<instance>`: CPU, memory, root disk, uptime, job
//! health) and one `storage` record per datastore (source id `<instance>-<store>`, parent the
//! server: usage, dedup factor, namespaces, group and snapshot counts, newest and oldest backup,
//! verification results, its jobs). A datastore whose status could not be read is `offline` with
//! the error ("unavailable", as upstream). Verify failures and failed jobs turn a datastore to
//! `warning` so they are visible without opening it.

use pulse_model::{
    FacetKey, MetricKind, ParentRef, ResourceType, Source, SourceRecord, SourceSnapshot, Status,
    Timestamp,
};
use serde_json::json;

use crate::sources::proxmox::pbs::{DatastorePoll, JobHealth, PbsPoll, SnapshotSummary};

use super::metrics::{cpu_metric, usage_metric};

/// How many groups with failed verifications are named in a datastore's facet.
const FAILED_GROUPS_SHOWN: usize = 20;

/// The snapshot of a PBS poll for the instance `instance`, observed at `now`.
pub fn normalise_pbs(poll: &PbsPoll, instance: &str, now: Timestamp) -> SourceSnapshot {
    let mut records = Vec::with_capacity(poll.datastores.len() + 1);
    let mut server = SourceRecord::new(instance, ResourceType::Pbs, instance, Status::Online);
    if let Some(node) = &poll.node {
        server
            .metrics
            .set(MetricKind::Cpu, node.cpu.and_then(cpu_metric));
        server.metrics.set(
            MetricKind::Memory,
            usage_metric(node.memory.used, node.memory.total),
        );
        server.metrics.set(
            MetricKind::Disk,
            usage_metric(node.root.used, node.root.total),
        );
        server.uptime = node.uptime;
    }
    let jobs = poll.jobs.as_deref().unwrap_or(&[]);
    let failed_jobs = jobs.iter().filter(|j| j.failed()).count();
    server.facets.insert(
        FacetKey::Pbs,
        json!({
            "instance": instance,
            "version": poll.version.as_ref().and_then(|v| v.version.as_deref()),
            "release": poll.version.as_ref().and_then(|v| v.release.as_deref()),
            "kernelVersion": poll.node.as_ref().and_then(|n| n.kversion.as_deref()),
            "loadAverage": poll.node.as_ref().map(|n| n.loadavg.clone()).filter(|l| !l.is_empty()),
            "datastoreCount": poll.datastores.len(),
            "jobs": poll.jobs.as_ref().map(|_| jobs),
            "failedJobs": poll.jobs.as_ref().map(|_| failed_jobs),
            "skippedItems": poll.skipped,
        }),
    );
    if !poll.warnings.is_empty() {
        server.error = Some(poll.warnings.join("; "));
    }
    records.push(server);
    for datastore in &poll.datastores {
        let store_jobs: Vec<&JobHealth> = jobs
            .iter()
            .filter(|j| j.store.as_deref() == Some(datastore.store.as_str()))
            .collect();
        records.push(datastore_record(instance, datastore, &store_jobs));
    }
    SourceSnapshot {
        source: Source::Pbs,
        scope: format!("pbs:{instance}"),
        observed_at: now,
        records,
    }
}

/// The record of one datastore.
fn datastore_record(
    instance: &str,
    datastore: &DatastorePoll,
    jobs: &[&JobHealth],
) -> SourceRecord {
    let mut combined = SnapshotSummary::default();
    let mut group_count = 0usize;
    let mut listed_newest = None;
    for ns in &datastore.namespaces {
        group_count += ns.snapshots.groups.len().max(ns.groups.len());
        listed_newest = listed_newest.max(ns.groups.iter().filter_map(|g| g.last_backup).max());
        combined.snapshots += ns.snapshots.snapshots;
        combined.skipped += ns.snapshots.skipped;
        for (key, group) in &ns.snapshots.groups {
            let (kind, id) = key;
            let qualified = if ns.ns.is_empty() {
                (kind.clone(), id.clone())
            } else {
                (kind.clone(), format!("{}/{id}", ns.ns))
            };
            combined.groups.insert(qualified, group.clone());
        }
    }
    let totals = combined.totals();
    let failed_groups: Vec<String> = combined
        .groups
        .iter()
        .filter(|(_, g)| g.verify_failed > 0)
        .take(FAILED_GROUPS_SHOWN)
        .map(|((kind, id), _)| format!("{kind}/{id}"))
        .collect();
    let failed_jobs = jobs.iter().filter(|j| j.failed()).count();
    let status = match (&datastore.status, totals.verify_failed + failed_jobs as u64) {
        (None, _) => Status::Offline,
        (Some(_), 0) => Status::Online,
        (Some(_), _) => Status::Warning,
    };
    let mut record = SourceRecord::new(
        format!("{instance}-{}", datastore.store),
        ResourceType::Storage,
        datastore.store.as_str(),
        status,
    );
    record.parent = Some(ParentRef::SourceId(instance.to_owned()));
    record.error = datastore.error.clone();
    let usage = datastore.status.as_ref();
    record.metrics.set(
        MetricKind::Disk,
        usage.and_then(|s| usage_metric(s.used, s.total)),
    );
    let time = |t: Option<i64>| {
        t.filter(|&t| t > 0)
            .map(|t| Timestamp::from_millis(t.saturating_mul(1000)).to_string())
    };
    let inventory = !datastore.namespaces.is_empty();
    record.facets.insert(
        FacetKey::Pbs,
        json!({
            "instance": instance,
            "datastore": datastore.store,
            "comment": datastore.comment,
            "status": if usage.is_some() { "available" } else { "unavailable" },
            "usagePercent": record.metrics.disk().and_then(|d| d.percent),
            "dedupFactor": usage.and_then(|s| s.dedup_factor()),
            "namespaces": inventory.then(|| datastore.namespaces.iter().map(|n| n.ns.as_str()).collect::<Vec<_>>()),
            "groupCount": inventory.then_some(group_count),
            "snapshotCount": inventory.then_some(combined.snapshots),
            "totalBackupSize": inventory.then_some(totals.total_size),
            "lastBackup": time(totals.newest.max(listed_newest)),
            "oldestBackup": time(totals.oldest),
            "verifiedSnapshots": inventory.then_some(totals.verified_ok),
            "unverifiedSnapshots": inventory.then_some(totals.unverified),
            "verifyFailures": inventory.then_some(totals.verify_failed),
            "failedVerifyGroups": (!failed_groups.is_empty()).then_some(failed_groups),
            "protectedSnapshots": inventory.then_some(totals.protected),
            "skippedSnapshots": (combined.skipped > 0).then_some(combined.skipped),
            "jobs": jobs,
        }),
    );
    record.facets.insert(
        FacetKey::Storage,
        json!({
            "kind": "pbs-datastore",
            "total": usage.and_then(|s| s.total),
            "used": usage.and_then(|s| s.used),
            "avail": usage.and_then(|s| s.avail),
        }),
    );
    record
}
