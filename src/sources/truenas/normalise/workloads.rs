//! Apps, VMs and shares → records.

use pulse_model::{FacetKey, MetricKind, MetricValue, ParentRef, ResourceType, SourceRecord};
use serde_json::json;

use crate::sources::truenas::health::{app_status, share_status, vm_status};
use crate::sources::truenas::types::Share;

use super::Context;

/// Bytes in a MiB (VM memory is configured in MiB).
const MIB: u64 = 1024 * 1024;

/// The app, VM and share records; `dataset_mounts` (mount point → dataset source id, longest
/// first) places each share under its dataset.
pub(super) fn records(ctx: &Context<'_>, dataset_mounts: &[(String, String)]) -> Vec<SourceRecord> {
    let poll = ctx.poll;
    let mut records = Vec::new();
    for app in poll.apps.iter().flatten() {
        let Some(key) = app.key() else { continue };
        let state = app.state.as_deref().unwrap_or("UNKNOWN");
        let mut record = SourceRecord::new(
            ctx.child_id("app", key),
            ResourceType::AppContainer,
            app.name.as_deref().unwrap_or(key),
            app_status(state),
        );
        record.parent = Some(ParentRef::SourceId(ctx.system_id.to_owned()));
        record.tags = vec!["truenas".into(), "app".into()];
        record.facets.insert(
            FacetKey::Truenas,
            json!({
                "connectionId": ctx.connection_id,
                "kind": "app",
                "app": key,
                "state": state,
                "version": app.version,
                "humanVersion": app.human_version,
                "upgradeAvailable": app.upgrade_available,
            }),
        );
        records.push(record);
    }
    for vm in poll.vms.iter().flatten() {
        let state = vm.state_word().unwrap_or("UNKNOWN");
        let name = vm.name.as_deref().unwrap_or(&vm.id);
        let mut record = SourceRecord::new(
            ctx.child_id("vm", &vm.id),
            ResourceType::Vm,
            name,
            vm_status(state),
        );
        record.parent = Some(ParentRef::SourceId(ctx.system_id.to_owned()));
        record.tags = vec!["truenas".into(), "vm".into()];
        let memory = vm.memory.map(|m| m.saturating_mul(MIB));
        record.metrics.set(
            MetricKind::Memory,
            memory.filter(|m| *m > 0).map(|total| MetricValue {
                total: Some(total),
                unit: "bytes".into(),
                ..MetricValue::default()
            }),
        );
        record.facets.insert(
            FacetKey::Truenas,
            json!({
                "connectionId": ctx.connection_id,
                "kind": "vm",
                "vmId": vm.id,
                "state": state,
                "vcpus": vm.vcpus,
                "cores": vm.cores,
                "threads": vm.threads,
                "memoryBytes": memory,
                "autostart": vm.autostart,
            }),
        );
        records.push(record);
    }
    let shares = [("smb", &poll.smb_shares), ("nfs", &poll.nfs_shares)];
    for (protocol, list) in shares {
        for share in list.iter().flatten() {
            records.push(share_record(ctx, protocol, share, dataset_mounts));
        }
    }
    records
}

/// One SMB or NFS share, under the dataset whose mount point holds its path.
fn share_record(
    ctx: &Context<'_>,
    protocol: &str,
    share: &Share,
    dataset_mounts: &[(String, String)],
) -> SourceRecord {
    let path = share.export_path();
    let enabled = share.enabled.unwrap_or(true);
    let name = share
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .or_else(|| path.map(str::to_owned))
        .unwrap_or_else(|| format!("{protocol} share {}", share.id));
    let mut record = SourceRecord::new(
        ctx.child_id("share", &format!("{protocol}:{}", share.id)),
        ResourceType::NetworkShare,
        name,
        share_status(enabled, share.locked),
    );
    let parent = path.and_then(|path| {
        dataset_mounts.iter().find_map(|(mount, id)| {
            let inside = path == mount
                || path
                    .strip_prefix(mount.as_str())
                    .is_some_and(|rest| rest.starts_with('/'));
            inside.then(|| id.clone())
        })
    });
    record.parent = Some(ParentRef::SourceId(
        parent.unwrap_or_else(|| ctx.system_id.to_owned()),
    ));
    record.tags = vec!["truenas".into(), "share".into(), protocol.to_owned()];
    record.facets.insert(
        FacetKey::Truenas,
        json!({
            "connectionId": ctx.connection_id,
            "kind": "share",
            "protocol": protocol,
            "shareId": share.id,
            "path": path,
            "enabled": enabled,
            "locked": share.locked,
        }),
    );
    record
}
