//! TrueNAS poll → [`SourceSnapshot`] (source `truenas`, scope the connection id), pure.
//!
//! | TrueNAS thing | record type     | source id                                | parent        |
//! |---------------|-----------------|------------------------------------------|---------------|
//! | appliance     | `agent`         | `system:<conn>`                          | —             |
//! | pool (+ boot) | `storage`       | `system:<conn>/pool:<name>`              | appliance     |
//! | dataset/zvol  | `storage`       | `system:<conn>/dataset:<name>`           | its pool      |
//! | disk          | `physical_disk` | `system:<conn>/disk:<name>`              | appliance     |
//! | app           | `app-container` | `system:<conn>/app:<id>`                 | appliance     |
//! | VM            | `vm`            | `system:<conn>/vm:<id>`                  | appliance     |
//! | SMB/NFS share | `network-share` | `system:<conn>/share:<smb\|nfs>:<id>`    | its dataset   |
//!
//! Source ids carry the connection id, so "tank" on two appliances never merges; the appliance's
//! identity is its chassis serial (never its host name). Statuses follow reference §4.4 (see
//! [`super::health`]). The `truenas` facet carries what the alert rules read: `poolState`,
//! `readErrors`/`writeErrors`/`checksumErrors`, `vdevs[]`, `scan` on pools; `physicalDisk.{state,
//! health}` on disks; and the appliance's non-dismissed native alerts as `truenas.alerts` (level
//! as TrueNAS gives it), which the alert engine turns into native alerts on that resource.

mod storage;
mod workloads;

use std::collections::HashSet;

use pulse_model::{FacetKey, ResourceType, Source, SourceRecord, SourceSnapshot, Timestamp};
use serde_json::{json, Value};

use super::health::{alert_severity, system_status, Severity};
use super::negotiate::parse_version;
use super::poll::TruenasPoll;
use super::types::Alert;

/// Serial numbers that do not identify a machine (firmware placeholders).
const PLACEHOLDER_SERIALS: [&str; 8] = [
    "",
    "0",
    "none",
    "n/a",
    "not specified",
    "default string",
    "to be filled by o.e.m.",
    "system serial number",
];

/// The source id of the appliance of `connection_id`.
pub fn system_source_id(connection_id: &str) -> String {
    format!("system:{connection_id}")
}

/// The snapshot of a poll of the connection `connection_id`, observed at `now`.
pub fn normalise_truenas(
    poll: &TruenasPoll,
    connection_id: &str,
    now: Timestamp,
) -> SourceSnapshot {
    let system_id = system_source_id(connection_id);
    let ctx = Context {
        connection_id,
        system_id: &system_id,
        poll,
    };
    let storage = storage::records(&ctx);
    let workloads = workloads::records(&ctx, &storage.dataset_mounts);
    let worst = storage
        .worst
        .into_iter()
        .chain(native_alerts(poll).filter_map(|a| a.level.as_deref().and_then(alert_severity)))
        .max();
    let mut records = Vec::with_capacity(1 + storage.records.len() + workloads.len());
    records.push(appliance(&ctx, worst));
    records.extend(storage.records);
    records.extend(workloads);
    let mut seen = HashSet::with_capacity(records.len());
    records.retain(|r| seen.insert(r.source_id.clone()));
    SourceSnapshot {
        source: Source::Truenas,
        scope: connection_id.to_owned(),
        observed_at: now,
        records,
    }
}

/// What every part of the normaliser needs.
struct Context<'a> {
    connection_id: &'a str,
    system_id: &'a str,
    poll: &'a TruenasPoll,
}

impl Context<'_> {
    /// The source id of a child of the appliance, `system:<conn>/<kind>:<name>`.
    fn child_id(&self, kind: &str, name: &str) -> String {
        format!("{}/{kind}:{name}", self.system_id)
    }
}

/// The alerts that are still open on the appliance (not dismissed).
fn native_alerts(poll: &TruenasPoll) -> impl Iterator<Item = &Alert> {
    poll.alerts.iter().flatten().filter(|a| !a.dismissed)
}

/// A time in ms as an RFC 3339 string.
fn rfc3339(ms: Option<i64>) -> Option<String> {
    ms.map(|ms| Timestamp::from_millis(ms).to_string())
}

/// The appliance record: identity, uptime, version, native alerts, replication, poll health.
fn appliance(ctx: &Context<'_>, worst: Option<Severity>) -> SourceRecord {
    let poll = ctx.poll;
    let system = poll.system.as_ref();
    let hostname = system
        .and_then(|s| s.hostname.as_deref())
        .filter(|h| !h.trim().is_empty());
    let mut record = SourceRecord::new(
        ctx.system_id,
        ResourceType::Agent,
        hostname.unwrap_or(ctx.connection_id),
        system_status(worst),
    );
    record.identity.machine_id = system
        .and_then(|s| s.system_serial.as_deref())
        .map(str::trim)
        .filter(|s| !PLACEHOLDER_SERIALS.contains(&s.to_ascii_lowercase().as_str()))
        .map(str::to_owned);
    record.identity.hostnames = hostname.map(|h| vec![h.to_owned()]).unwrap_or_default();
    record.uptime = system
        .and_then(|s| s.uptime_seconds)
        .filter(|u| *u >= 0.0)
        .map(|u| u as u64);
    record.tags = vec!["truenas".into(), "nas".into()];
    let version = system.and_then(|s| s.version.as_deref());
    let alerts: Vec<Value> = native_alerts(poll)
        .map(|a| {
            json!({
                "id": a.key(),
                "level": a.level.as_deref().unwrap_or("UNKNOWN"),
                "message": a.message(),
                "source": a.source.as_deref().or(a.klass.as_deref()).unwrap_or(""),
                "dismissed": false,
                "datetime": a.datetime,
            })
        })
        .filter(|a| !a["id"].is_null())
        .collect();
    let count = |severity: Severity| {
        native_alerts(poll)
            .filter(|a| a.level.as_deref().and_then(alert_severity) == Some(severity))
            .count()
    };
    let dismissed = poll.alerts.iter().flatten().filter(|a| a.dismissed).count();
    let replication: Option<Vec<Value>> = poll.replication.as_ref().map(|tasks| {
        tasks
            .iter()
            .map(|t| {
                let state = t.state.as_ref();
                json!({
                    "id": t.id,
                    "name": t.name,
                    "direction": t.direction,
                    "transport": t.transport,
                    "sourceDatasets": t.source_datasets,
                    "targetDataset": t.target_dataset,
                    "remoteHost": t.remote_host(),
                    "enabled": t.enabled.unwrap_or(true),
                    "state": state.and_then(|s| s.state.as_deref()),
                    "lastRun": rfc3339(state.and_then(|s| s.datetime)),
                    "lastSnapshot": state.and_then(|s| s.last_snapshot.as_deref()),
                    "error": state.and_then(|s| s.error.as_deref()),
                })
            })
            .collect()
    });
    let failed_replications = poll.replication.iter().flatten().filter(|t| {
        t.state
            .as_ref()
            .and_then(|s| s.state.as_deref())
            .is_some_and(|s| s.eq_ignore_ascii_case("ERROR"))
    });
    record.facets.insert(
        FacetKey::Truenas,
        json!({
            "connectionId": ctx.connection_id,
            "kind": "system",
            "hostname": hostname,
            "version": version,
            "flavor": version.map(|v| parse_version(v).flavor),
            "transport": poll.mode,
            "buildTime": rfc3339(system.and_then(|s| s.buildtime)),
            "serial": system.and_then(|s| s.system_serial.as_deref()),
            "manufacturer": system.and_then(|s| s.system_manufacturer.as_deref()),
            "product": system.and_then(|s| s.system_product.as_deref()),
            "cpuModel": system.and_then(|s| s.model.as_deref()),
            "cores": system.and_then(|s| s.cores),
            "physicalCores": system.and_then(|s| s.physical_cores),
            "physicalMemory": system.and_then(|s| s.physmem),
            "alerts": poll.alerts.as_ref().map(|_| alerts),
            "alertCounts": poll.alerts.as_ref().map(|_| json!({
                "critical": count(Severity::Critical),
                "warning": count(Severity::Warning),
                "monitor": count(Severity::Monitor),
                "dismissed": dismissed,
            })),
            "poolCount": poll.pools.as_ref().map(Vec::len),
            "datasetCount": poll.datasets.as_ref().map(Vec::len),
            "diskCount": poll.disks.as_ref().map(Vec::len),
            "snapshotCount": poll.snapshots.as_ref().map(|s| s.total),
            "appCount": poll.apps.as_ref().map(Vec::len),
            "vmCount": poll.vms.as_ref().map(Vec::len),
            "replication": replication,
            "failedReplications": poll.replication.as_ref().map(|_| failed_replications.count()),
            "failedMethods": (!poll.failures.is_empty()).then_some(&poll.failures),
            "unsupportedMethods": (!poll.unsupported.is_empty()).then_some(&poll.unsupported),
            "skippedItems": poll.skipped,
        }),
    );
    if !poll.failures.is_empty() {
        let parts: Vec<String> = poll
            .failures
            .iter()
            .map(|f| format!("{}: {}", f.method, f.error))
            .collect();
        record.error = Some(format!(
            "{} method(s) failed: {}",
            poll.failures.len(),
            parts.join("; ")
        ));
    }
    record
}

#[cfg(test)]
mod tests;
