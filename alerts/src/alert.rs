//! The alert object (upstream §9.1 shape), its level, and the key naming an alert within its
//! resource.
//!
//! Alert ids are `<resourceId>-<suffix>` as upstream does (`<resourceId>-cpu`,
//! `<resourceId>-connectivity`, `<resourceId>-powered-state`, …); the suffix is
//! [`AlertKey::suffix`]. A notification about an alert carries the event id
//! `<alertId>:<event>` (SPEC §10 `X-Pulse-Event-ID`), see [`Alert::event_id`].

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use pulse_model::{ResourceType, Source, Timestamp};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Severity of an alert; upstream knows exactly these two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertLevel {
    /// Needs attention.
    Warning,
    /// Needs attention now; never held back by quiet hours.
    Critical,
}

impl AlertLevel {
    /// The wire name (`warning` | `critical`).
    pub const fn as_str(self) -> &'static str {
        match self {
            AlertLevel::Warning => "warning",
            AlertLevel::Critical => "critical",
        }
    }
}

/// A measured quantity that threshold rules watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MetricKind {
    /// `metrics.cpu` percent.
    #[serde(rename = "cpu")]
    Cpu,
    /// `metrics.memory` percent.
    #[serde(rename = "memory")]
    Memory,
    /// `metrics.disk` percent.
    #[serde(rename = "disk")]
    Disk,
    /// `metrics.diskRead` rate in MB/s (MiB/s).
    #[serde(rename = "diskRead")]
    DiskRead,
    /// `metrics.diskWrite` rate in MB/s (MiB/s).
    #[serde(rename = "diskWrite")]
    DiskWrite,
    /// `metrics.netIn` rate in MB/s (MiB/s).
    #[serde(rename = "networkIn")]
    NetworkIn,
    /// `metrics.netOut` rate in MB/s (MiB/s).
    #[serde(rename = "networkOut")]
    NetworkOut,
    /// `temperature` in °C.
    #[serde(rename = "temperature")]
    Temperature,
    /// Storage fill level: `metrics.disk` percent of a `storage` resource.
    #[serde(rename = "usage")]
    Usage,
}

impl MetricKind {
    /// Every metric kind.
    pub const ALL: [MetricKind; 9] = [
        MetricKind::Cpu,
        MetricKind::Memory,
        MetricKind::Disk,
        MetricKind::DiskRead,
        MetricKind::DiskWrite,
        MetricKind::NetworkIn,
        MetricKind::NetworkOut,
        MetricKind::Temperature,
        MetricKind::Usage,
    ];

    /// The alert type (upstream names: `networkIn`, not `netIn`).
    pub const fn as_str(self) -> &'static str {
        match self {
            MetricKind::Cpu => "cpu",
            MetricKind::Memory => "memory",
            MetricKind::Disk => "disk",
            MetricKind::DiskRead => "diskRead",
            MetricKind::DiskWrite => "diskWrite",
            MetricKind::NetworkIn => "networkIn",
            MetricKind::NetworkOut => "networkOut",
            MetricKind::Temperature => "temperature",
            MetricKind::Usage => "usage",
        }
    }

    /// Whether values are percentages (critical level capped at 99, trigger at most 100).
    pub const fn is_percent(self) -> bool {
        matches!(
            self,
            MetricKind::Cpu | MetricKind::Memory | MetricKind::Disk | MetricKind::Usage
        )
    }

    /// Unit of values and thresholds, as shown in messages.
    pub const fn unit(self) -> &'static str {
        match self {
            MetricKind::Cpu | MetricKind::Memory | MetricKind::Disk | MetricKind::Usage => "%",
            MetricKind::DiskRead
            | MetricKind::DiskWrite
            | MetricKind::NetworkIn
            | MetricKind::NetworkOut => "MB/s",
            MetricKind::Temperature => "°C",
        }
    }

    /// Human label used in messages.
    pub const fn label(self) -> &'static str {
        match self {
            MetricKind::Cpu => "CPU usage",
            MetricKind::Memory => "Memory usage",
            MetricKind::Disk => "Disk usage",
            MetricKind::DiskRead => "Disk read",
            MetricKind::DiskWrite => "Disk write",
            MetricKind::NetworkIn => "Network in",
            MetricKind::NetworkOut => "Network out",
            MetricKind::Temperature => "Temperature",
            MetricKind::Usage => "Storage usage",
        }
    }
}

/// Which alert of a resource: one per rule, plus one per PBS job and per native alert.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AlertKey {
    /// A metric threshold.
    Metric(MetricKind),
    /// The resource is offline (`connectivity`).
    Connectivity,
    /// One source of an otherwise reachable resource went offline (`source-offline-<source>`).
    SourceOffline(Source),
    /// A VM or system container is powered off (`powered-state`).
    PoweredState,
    /// A Docker container exited with a non-zero code or is dead (`docker-container-state`).
    ContainerState,
    /// A Docker container's health check reports unhealthy (`docker-container-health`).
    ContainerHealth,
    /// A Docker container restarts too often (`docker-container-restart-loop`).
    RestartLoop,
    /// A Docker container was killed for running out of memory (`docker-container-oom-kill`).
    OomKill,
    /// A Docker container uses most of its memory limit (`docker-container-memory-limit`).
    MemoryLimit,
    /// A Docker Swarm service runs fewer tasks than desired (`docker-service-health`).
    ServiceGap,
    /// A ZFS pool is not ONLINE (`zfs-pool-state`).
    PoolState,
    /// A ZFS pool's vdevs report read/write/checksum errors (`zfs-vdev-errors`).
    VdevErrors,
    /// A ZFS scrub or resilver found errors (`zfs-scan-errors`).
    ScanErrors,
    /// A physical disk's SMART health or state is bad (`disk-health`).
    DiskHealth,
    /// An SSD has used most of its rated life (`disk-wearout`).
    DiskWearout,
    /// A PBS job's last run failed (`pbs-job-<jobId>`).
    PbsJob(String),
    /// The newest backup of a guest is too old (`backup-age`).
    BackupAge,
    /// A platform-native alert, e.g. from TrueNAS (`native-<nativeId>`).
    Native(String),
}

/// Prefix of [`AlertKey::SourceOffline`] suffixes.
const SOURCE_OFFLINE: &str = "source-offline-";
/// Prefix of [`AlertKey::PbsJob`] suffixes.
const PBS_JOB: &str = "pbs-job-";
/// Prefix of [`AlertKey::Native`] suffixes.
const NATIVE: &str = "native-";

impl AlertKey {
    /// The alert `type` field: the metric name or the rule name (dynamic keys share one type).
    pub const fn alert_type(&self) -> &'static str {
        match self {
            AlertKey::Metric(kind) => kind.as_str(),
            AlertKey::Connectivity => "connectivity",
            AlertKey::SourceOffline(_) => "source-offline",
            AlertKey::PoweredState => "powered-state",
            AlertKey::ContainerState => "docker-container-state",
            AlertKey::ContainerHealth => "docker-container-health",
            AlertKey::RestartLoop => "docker-container-restart-loop",
            AlertKey::OomKill => "docker-container-oom-kill",
            AlertKey::MemoryLimit => "docker-container-memory-limit",
            AlertKey::ServiceGap => "docker-service-health",
            AlertKey::PoolState => "zfs-pool-state",
            AlertKey::VdevErrors => "zfs-vdev-errors",
            AlertKey::ScanErrors => "zfs-scan-errors",
            AlertKey::DiskHealth => "disk-health",
            AlertKey::DiskWearout => "disk-wearout",
            AlertKey::PbsJob(_) => "pbs-job",
            AlertKey::BackupAge => "backup-age",
            AlertKey::Native(_) => "native-alert",
        }
    }

    /// The part of the alert id after `<resourceId>-`.
    pub fn suffix(&self) -> Cow<'static, str> {
        match self {
            AlertKey::SourceOffline(source) => Cow::Owned(format!("{SOURCE_OFFLINE}{source}")),
            AlertKey::PbsJob(job) => Cow::Owned(format!("{PBS_JOB}{job}")),
            AlertKey::Native(id) => Cow::Owned(format!("{NATIVE}{id}")),
            other => Cow::Borrowed(other.alert_type()),
        }
    }

    /// Whether this is an offline-type alert, governed by `disableAllOffline` and
    /// `disableConnectivity`.
    pub const fn is_offline(&self) -> bool {
        matches!(
            self,
            AlertKey::Connectivity | AlertKey::SourceOffline(_) | AlertKey::PoweredState
        )
    }

    /// Every fixed (non-parameterised) alert type name, for validating configuration.
    pub const FIXED_TYPES: [&'static str; 23] = [
        "cpu",
        "memory",
        "disk",
        "diskRead",
        "diskWrite",
        "networkIn",
        "networkOut",
        "temperature",
        "usage",
        "connectivity",
        "source-offline",
        "powered-state",
        "docker-container-state",
        "docker-container-health",
        "docker-container-restart-loop",
        "docker-container-oom-kill",
        "docker-container-memory-limit",
        "docker-service-health",
        "zfs-pool-state",
        "zfs-vdev-errors",
        "zfs-scan-errors",
        "disk-health",
        "disk-wearout",
    ];

    /// Whether `name` is the `type` of some alert (fixed types plus `pbs-job`, `backup-age`,
    /// `native-alert`).
    pub fn is_known_type(name: &str) -> bool {
        Self::FIXED_TYPES.contains(&name)
            || matches!(name, "pbs-job" | "backup-age" | "native-alert")
    }
}

impl fmt::Display for AlertKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.suffix())
    }
}

impl FromStr for AlertKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(source) = s.strip_prefix(SOURCE_OFFLINE) {
            return source
                .parse::<Source>()
                .map(AlertKey::SourceOffline)
                .map_err(|e| e.to_string());
        }
        if let Some(job) = s.strip_prefix(PBS_JOB) {
            return Ok(AlertKey::PbsJob(job.to_owned()));
        }
        if let Some(id) = s.strip_prefix(NATIVE) {
            return Ok(AlertKey::Native(id.to_owned()));
        }
        if let Some(kind) = MetricKind::ALL.iter().find(|k| k.as_str() == s) {
            return Ok(AlertKey::Metric(*kind));
        }
        let key = match s {
            "connectivity" => AlertKey::Connectivity,
            "powered-state" => AlertKey::PoweredState,
            "docker-container-state" => AlertKey::ContainerState,
            "docker-container-health" => AlertKey::ContainerHealth,
            "docker-container-restart-loop" => AlertKey::RestartLoop,
            "docker-container-oom-kill" => AlertKey::OomKill,
            "docker-container-memory-limit" => AlertKey::MemoryLimit,
            "docker-service-health" => AlertKey::ServiceGap,
            "zfs-pool-state" => AlertKey::PoolState,
            "zfs-vdev-errors" => AlertKey::VdevErrors,
            "zfs-scan-errors" => AlertKey::ScanErrors,
            "disk-health" => AlertKey::DiskHealth,
            "disk-wearout" => AlertKey::DiskWearout,
            "backup-age" => AlertKey::BackupAge,
            other => return Err(format!("unknown alert key `{other}`")),
        };
        Ok(key)
    }
}

impl Serialize for AlertKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.suffix())
    }
}

impl<'de> Deserialize<'de> for AlertKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// Reads an [`AlertKey`] from its suffix string.
        struct KeyVisitor;

        impl Visitor<'_> for KeyVisitor {
            type Value = AlertKey;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an alert key such as `cpu` or `pbs-job-<id>`")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<AlertKey, E> {
                v.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Extra facts about an alert (upstream `metadata`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AlertMetadata {
    /// The value below which a threshold alert clears (hysteresis).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clear_threshold: Option<f64>,
    /// Unit of `value` and `threshold` (`%`, `°C`, `MB/s`, `h`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<Cow<'static, str>>,
    /// Where a platform-native alert or a PBS job alert came from (TrueNAS alert source, PBS job
    /// type).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// One alert as the API, WebSocket and notifications show it (upstream §9.1 field names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// Stable id `<resourceId>-<suffix>`.
    pub id: String,
    /// Alert type (`cpu`, `connectivity`, `powered-state`, `docker-container-health`, …).
    #[serde(rename = "type")]
    pub alert_type: Cow<'static, str>,
    /// Current severity.
    pub level: AlertLevel,
    /// Id of the resource the alert is about.
    pub resource_id: String,
    /// Display name of that resource.
    pub resource_name: String,
    /// Type of that resource, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<ResourceType>,
    /// Proxmox node of the resource, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Proxmox instance (endpoint) of the resource, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Human-readable description, rendered when the alert fires or changes level.
    pub message: String,
    /// Latest observed value (0 for alerts without a measurement).
    pub value: f64,
    /// The threshold that was crossed (0 for alerts without one).
    pub threshold: f64,
    /// First observation of the condition (start of the time delay, not of the firing).
    pub start_time: Timestamp,
    /// Latest observation of the condition.
    pub last_seen: Timestamp,
    /// Whether someone acknowledged the alert.
    pub acknowledged: bool,
    /// When it was acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_time: Option<Timestamp>,
    /// Who acknowledged it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_user: Option<String>,
    /// Extra facts (clear threshold, unit, native source).
    #[serde(default)]
    pub metadata: AlertMetadata,
    /// When a notification about this firing was last sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_notified: Option<Timestamp>,
    /// Highest escalation level reached (1-based), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_escalation: Option<u32>,
    /// When each escalation happened.
    #[serde(default)]
    pub escalation_times: Vec<Timestamp>,
    /// Identifies this firing of the alert: unix milliseconds of its first observation, bumped
    /// so it strictly increases per alert id. Part of notification event ids, so a later firing
    /// never reuses an earlier one's id.
    pub firing: i64,
    /// When the alert resolved or was cleared (resolved alerts only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_time: Option<Timestamp>,
}

impl Alert {
    /// The notification event id `<alertId>:<event>` for an event token such as `fired-<n>`.
    pub fn event_id(&self, event: &str) -> String {
        format!("{}:{}", self.id, event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_roundtrip_through_their_suffix() {
        let keys = [
            AlertKey::Metric(MetricKind::NetworkIn),
            AlertKey::Connectivity,
            AlertKey::SourceOffline(Source::Docker),
            AlertKey::PoweredState,
            AlertKey::RestartLoop,
            AlertKey::PbsJob("sync-s1".into()),
            AlertKey::Native("a-b-c".into()),
            AlertKey::BackupAge,
        ];
        for key in keys {
            let text = key.to_string();
            assert_eq!(text.parse::<AlertKey>(), Ok(key.clone()));
            let json = serde_json::to_string(&key).expect("serialise");
            assert_eq!(serde_json::from_str::<AlertKey>(&json).expect("parse"), key);
            assert!(AlertKey::is_known_type(key.alert_type()));
        }
        assert_eq!(
            AlertKey::Metric(MetricKind::NetworkIn).suffix(),
            "networkIn"
        );
        assert_eq!(
            AlertKey::SourceOffline(Source::Agent).suffix(),
            "source-offline-agent"
        );
        assert!("bogus".parse::<AlertKey>().is_err());
        assert!("source-offline-pve".parse::<AlertKey>().is_err());
    }

    #[test]
    fn levels_order_and_names() {
        assert!(AlertLevel::Critical > AlertLevel::Warning);
        assert_eq!(
            serde_json::to_string(&AlertLevel::Critical).expect("json"),
            "\"critical\""
        );
        assert_eq!(AlertLevel::Warning.as_str(), "warning");
    }
}
