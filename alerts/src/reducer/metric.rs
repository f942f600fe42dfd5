//! Metric thresholds with hysteresis and time delay.
//!
//! Reads, per resource type (`storage`: usage only; `physical_disk`: temperature only; every
//! other type: the rest):
//! - `metrics.cpu`, `metrics.memory`, `metrics.disk` → `percent`, else `used / total`, else
//!   `value` when `unit` is `percent` or `%` (alert types `cpu`, `memory`, `disk`; for `storage`
//!   resources `metrics.disk` is the fill level, alert type `usage`);
//! - `metrics.diskRead`, `metrics.diskWrite`, `metrics.netIn`, `metrics.netOut` → `value` in
//!   bytes/s, compared in MB/s (MiB/s) as upstream (types `diskRead`, `diskWrite`, `networkIn`,
//!   `networkOut`);
//! - `temperature` (°C); for `physical_disk` also `physicalDisk.temperature`, with the threshold
//!   picked by `physicalDisk.type` (type `temperature`).
//!
//! An offline resource has no current metrics: its metric alerts resolve. A metric missing
//! from an online resource leaves its alert as it is.

use pulse_model::{MetricValue, Resource, ResourceType};

use crate::alert::{AlertKey, MetricKind};
use crate::facet;
use crate::reducer::effects::Effects;
use crate::reducer::judge::{threshold_verdict, Verdict};
use crate::reducer::observe::Observation;
use crate::state::ResourceAlerts;

/// Bytes per MB as upstream renders rates (MiB).
const MB: f64 = 1_048_576.0;

/// The metrics of every type but storage and physical disks.
const GENERAL: [MetricKind; 8] = [
    MetricKind::Cpu,
    MetricKind::Memory,
    MetricKind::Disk,
    MetricKind::DiskRead,
    MetricKind::DiskWrite,
    MetricKind::NetworkIn,
    MetricKind::NetworkOut,
    MetricKind::Temperature,
];

/// Evaluates every metric threshold of the resource.
pub(crate) fn evaluate(entry: &mut ResourceAlerts, obs: &Observation, fx: &mut Effects) {
    let kinds: &[MetricKind] = match obs.resource.resource_type {
        ResourceType::Storage => &[MetricKind::Usage],
        ResourceType::PhysicalDisk => &[MetricKind::Temperature],
        _ => &GENERAL,
    };
    for &kind in kinds {
        let key = AlertKey::Metric(kind);
        let threshold = obs
            .view
            .metric_threshold(kind, entry.meta.disk_type.as_deref());
        let verdict = match threshold {
            None => Verdict::Disabled,
            Some(_) if obs.offline => Verdict::Ok,
            Some(t) => match read(obs.resource, kind) {
                Some(value) => threshold_verdict(value, &t, kind.is_percent(), || {
                    obs.prior(&entry.trackers, &key)
                }),
                None => Verdict::Unknown,
            },
        };
        obs.apply(entry, key, verdict, fx);
    }
}

/// The value of `kind` in the unit of its thresholds.
pub(crate) fn read(resource: &Resource, kind: MetricKind) -> Option<f64> {
    let metrics = &resource.metrics;
    let value = match kind {
        MetricKind::Cpu => percent(metrics.cpu()?),
        MetricKind::Memory => percent(metrics.memory()?),
        MetricKind::Disk | MetricKind::Usage => percent(metrics.disk()?),
        MetricKind::DiskRead => rate(metrics.disk_read()?),
        MetricKind::DiskWrite => rate(metrics.disk_write()?),
        MetricKind::NetworkIn => rate(metrics.net_in()?),
        MetricKind::NetworkOut => rate(metrics.net_out()?),
        MetricKind::Temperature => resource.temperature.or_else(|| {
            let disk = facet::object(resource, "physicalDisk")?;
            facet::number(disk, &["temperature"])
        }),
    }?;
    value.is_finite().then_some(value)
}

/// Utilisation in percent.
fn percent(metric: &MetricValue) -> Option<f64> {
    if let Some(p) = metric.percent {
        return Some(p);
    }
    match (metric.used, metric.total) {
        (Some(used), Some(total)) if total > 0 => Some(used as f64 * 100.0 / total as f64),
        _ => metric
            .value
            .filter(|_| matches!(metric.unit.as_ref(), "percent" | "%")),
    }
}

/// A bytes/s rate in MB/s.
fn rate(metric: &MetricValue) -> Option<f64> {
    metric.value.map(|v| v / MB)
}
