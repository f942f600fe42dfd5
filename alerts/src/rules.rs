//! The alert configuration (`GET|PUT /api/alerts/config`): thresholds per resource type, time
//! delays, per-resource overrides, family switches and the notification policy.
//!
//! Every struct deserialises with defaults for missing keys (the upstream defaults of
//! `reference/upstream-pulse.md` §9.2, see [`crate::defaults`]); maps such as `thresholds` are
//! replaced whole when given. Check a config with [`AlertConfig::validate`] before using it.

use std::collections::BTreeMap;

use pulse_model::ResourceType;
use serde::{Deserialize, Serialize};

use crate::alert::{AlertLevel, MetricKind};

/// Fire at `value ≥ trigger`, clear at `value < clear` (hysteresis), critical at
/// `value ≥ critical` (default `trigger + 10`, capped at 99 for percentages).
///
/// A trigger of 0 (or below) switches the rule off, as upstream.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Threshold {
    /// Value at which the alert fires.
    pub trigger: f64,
    /// Value below which a firing alert clears; must be below `trigger`.
    pub clear: f64,
    /// Value at which the alert is critical instead of warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critical: Option<f64>,
}

impl Threshold {
    /// A threshold with the default critical level.
    pub const fn new(trigger: f64, clear: f64) -> Self {
        Threshold {
            trigger,
            clear,
            critical: None,
        }
    }

    /// Whether the rule is on (trigger above zero).
    pub fn is_enabled(&self) -> bool {
        self.trigger > 0.0
    }

    /// The critical level: explicit, or `trigger + 10` capped at 99 for percentages.
    pub fn critical_level(&self, percent: bool) -> f64 {
        match self.critical {
            Some(critical) => critical,
            None if percent => (self.trigger + 10.0).min(99.0),
            None => self.trigger + 10.0,
        }
    }
}

/// Thresholds for the metrics of one resource type (or one resource's override); `None` means
/// off (or, in an override, inherited).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ThresholdSet {
    /// CPU percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Threshold>,
    /// Memory percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<Threshold>,
    /// Disk percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk: Option<Threshold>,
    /// Disk read MB/s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_read: Option<Threshold>,
    /// Disk write MB/s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_write: Option<Threshold>,
    /// Network in MB/s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_in: Option<Threshold>,
    /// Network out MB/s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_out: Option<Threshold>,
    /// Temperature °C.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<Threshold>,
    /// Storage usage percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Threshold>,
}

impl ThresholdSet {
    /// The threshold for `kind`.
    pub fn get(&self, kind: MetricKind) -> Option<&Threshold> {
        match kind {
            MetricKind::Cpu => self.cpu.as_ref(),
            MetricKind::Memory => self.memory.as_ref(),
            MetricKind::Disk => self.disk.as_ref(),
            MetricKind::DiskRead => self.disk_read.as_ref(),
            MetricKind::DiskWrite => self.disk_write.as_ref(),
            MetricKind::NetworkIn => self.network_in.as_ref(),
            MetricKind::NetworkOut => self.network_out.as_ref(),
            MetricKind::Temperature => self.temperature.as_ref(),
            MetricKind::Usage => self.usage.as_ref(),
        }
    }
}

/// The "for N seconds" time delays: a condition is held pending and fires only once it has
/// lasted this long.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DelayConfig {
    /// Delay for every type without its own entry (upstream: 5 s).
    pub default_seconds: u64,
    /// Delay per resource type (upstream `timeThresholds`).
    pub by_type: BTreeMap<ResourceType, u64>,
    /// Delay per resource type and alert type (upstream `metricTimeThresholds`), e.g.
    /// `{"vm": {"cpu": 60}}`.
    pub by_alert: BTreeMap<ResourceType, BTreeMap<String, u64>>,
}

/// How a firing alert clears.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RecoveryConfig {
    /// Consecutive good observations before an offline alert (connectivity, source offline)
    /// resolves (upstream: 3).
    pub observations: u32,
    /// The same for storage resources and ZFS pool state (upstream: 2).
    pub storage_observations: u32,
    /// How long a threshold alert must stay below its clear value before it resolves.
    pub clear_delay_seconds: u64,
}

/// Docker restart-loop detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RestartLoopRule {
    /// Restarts within the window that make a loop (upstream: 3).
    pub count: u32,
    /// The window in seconds (upstream: 300).
    pub window_seconds: u64,
}

/// Rules for Docker/Podman containers and Swarm services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DockerRules {
    /// Alert on containers that exited with a non-zero code or are dead.
    pub state_alerts: bool,
    /// Alert on containers whose health check reports unhealthy.
    pub health_alerts: bool,
    /// Alert on containers killed for running out of memory.
    pub oom_alerts: bool,
    /// Restart-loop detection.
    pub restart_loop: RestartLoopRule,
    /// Memory use as percent of the container's limit (upstream: warn 90, critical 95).
    pub memory_limit: Threshold,
    /// Percent of a Swarm service's desired tasks that are not running (upstream: warn 10,
    /// critical 50).
    pub service_gap: Threshold,
    /// Containers whose name starts with one of these get no Docker alerts.
    pub ignored_container_prefixes: Vec<String>,
}

/// Rules for ZFS pools.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StorageRules {
    /// Alert on pool states other than ONLINE.
    pub pool_state: bool,
    /// Alert on vdev read/write/checksum errors.
    pub vdev_errors: bool,
    /// Alert on errors found by a scrub or resilver.
    pub scan_errors: bool,
}

/// Rules for physical disks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DiskRules {
    /// Alert on SMART failure and bad disk states.
    pub health: bool,
    /// Percent of rated life used at which an SSD alerts.
    pub wearout: Threshold,
    /// Temperature thresholds per disk type (`nvme`, `sas`, `sata`, `ssd`, `hdd`); types not
    /// listed use the `physical_disk` temperature threshold.
    pub temperature_by_type: BTreeMap<String, Threshold>,
}

/// Rules for PBS jobs (backup, sync, verify, prune, garbage collection).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PbsJobRules {
    /// Alert when a job's last run failed.
    pub enabled: bool,
    /// Level of a failed-job alert.
    pub severity: AlertLevel,
}

/// Rules for the age of a guest's newest backup (off by default, as upstream).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BackupRules {
    /// Alert on old backups.
    pub enabled: bool,
    /// Age in hours that warns (upstream: 7 days).
    pub warning_hours: u64,
    /// Age in hours that is critical (upstream: 14 days).
    pub critical_hours: u64,
}

/// Rules for platform-native alerts (TrueNAS `alert.list`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NativeRules {
    /// Mirror native alerts as Pulse alerts.
    pub enabled: bool,
}

/// One switch per family of resources (upstream `disableAll*`); `true` switches the family's
/// alerts off.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FamilySwitches {
    /// `agent` resources: PVE nodes, hosts, appliances, Docker hosts, TrueNAS systems.
    pub hosts: bool,
    /// `vm` and `system-container`.
    pub guests: bool,
    /// `app-container` (Docker/Podman containers, TrueNAS apps).
    pub containers: bool,
    /// `docker-service` (Swarm services).
    pub docker_services: bool,
    /// `k8s-cluster`, `k8s-node`, `pod`, `k8s-deployment`.
    pub kubernetes: bool,
    /// `storage`, `ceph`, `network-share`.
    pub storage: bool,
    /// `pbs`.
    pub pbs: bool,
    /// `pmg`.
    pub pmg: bool,
    /// `physical_disk`.
    pub physical_disks: bool,
}

impl FamilySwitches {
    /// Whether the switch for `resource_type`'s family is on.
    pub fn covers(&self, resource_type: ResourceType) -> bool {
        match resource_type {
            ResourceType::Agent => self.hosts,
            ResourceType::Vm | ResourceType::SystemContainer => self.guests,
            ResourceType::AppContainer => self.containers,
            ResourceType::DockerService => self.docker_services,
            ResourceType::K8sCluster
            | ResourceType::K8sNode
            | ResourceType::Pod
            | ResourceType::K8sDeployment => self.kubernetes,
            ResourceType::Storage | ResourceType::Ceph | ResourceType::NetworkShare => self.storage,
            ResourceType::Pbs => self.pbs,
            ResourceType::Pmg => self.pmg,
            ResourceType::PhysicalDisk => self.physical_disks,
        }
    }
}

/// Settings for one resource that replace the type defaults (upstream `overrides`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResourceOverride {
    /// No alerts at all for this resource.
    pub disabled: bool,
    /// No offline alerts (connectivity, source offline, powered-state) for this resource.
    pub disable_connectivity: bool,
    /// Level of this guest's `powered-state` alert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub powered_off_severity: Option<AlertLevel>,
    /// Thresholds replacing the type's; `{"trigger": 0, …}` switches a metric off.
    pub thresholds: ThresholdSet,
    /// Alert types switched off for this resource (e.g. `["disk", "docker-container-health"]`).
    pub disabled_alerts: Vec<String>,
    /// Free-form note shown in the UI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Flapping detection: an alert that changes between firing and resolved too often is held
/// back from notification until it is stable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FlappingConfig {
    /// Detect flapping.
    pub enabled: bool,
    /// State changes within the window that make an alert flap (upstream: 5).
    pub threshold: u32,
    /// The window in seconds (upstream: 300).
    pub window_seconds: u64,
    /// How long after its last state change a flapping alert stays flapping (upstream: 15 min).
    pub cooldown_minutes: u64,
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl Weekday {
    /// Monday to Sunday.
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];
}

/// Quiet hours: non-critical notifications are held back inside the window and sent when it
/// ends if their alert is still firing (a firing that resolves inside it is never notified).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QuietHours {
    /// Apply quiet hours.
    pub enabled: bool,
    /// Start, minutes after local midnight (0–1439).
    pub start: u16,
    /// End, minutes after local midnight (0–1439); before `start` means the window spans
    /// midnight and belongs to the day it starts on.
    pub end: u16,
    /// Days on which a window starts.
    pub days: Vec<Weekday>,
    /// Local time offset from UTC in minutes (e.g. -300 for New York in winter).
    pub utc_offset_minutes: i16,
}

/// Where an escalation goes (upstream values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EscalationTarget {
    /// Email channels.
    Email,
    /// Webhook channels.
    Webhook,
    /// Apprise channels.
    Apprise,
    /// Every channel.
    All,
}

/// One escalation step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EscalationLevel {
    /// Minutes after the alert started, if still unacknowledged.
    pub after_minutes: u64,
    /// Channels to notify.
    pub notify: EscalationTarget,
}

/// Escalation of unacknowledged alerts (off by default). Levels are numbered from 1 in list
/// order; an acknowledged alert stops escalating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EscalationConfig {
    /// Escalate.
    pub enabled: bool,
    /// Steps, in increasing `afterMinutes`.
    pub levels: Vec<EscalationLevel>,
}

/// Batching of notifications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GroupingConfig {
    /// Batch notifications.
    pub enabled: bool,
    /// Notifications becoming ready within this many seconds of the first go out together.
    pub window_seconds: u64,
}

/// When and how often notifications go out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NotificationPolicy {
    /// Send notifications at all (alerts are tracked either way).
    pub enabled: bool,
    /// Notify when a notified alert resolves.
    pub notify_on_resolve: bool,
    /// Minimum minutes between two firing notifications of the same alert (upstream: 5).
    pub cooldown_minutes: u64,
    /// Maximum firing notifications per alert per hour; 0 = unlimited (upstream: 10).
    pub max_per_hour: u32,
    /// Batching.
    pub grouping: GroupingConfig,
    /// Quiet hours.
    pub quiet_hours: QuietHours,
    /// Escalation.
    pub escalation: EscalationConfig,
}

/// The whole alert configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AlertConfig {
    /// Master switch: off means no alerts at all.
    pub enabled: bool,
    /// Metric thresholds per resource type.
    pub thresholds: BTreeMap<ResourceType, ThresholdSet>,
    /// Time delays.
    pub delays: DelayConfig,
    /// How alerts clear.
    pub recovery: RecoveryConfig,
    /// Level of `powered-state` alerts for stopped guests (upstream: warning).
    pub powered_off_severity: AlertLevel,
    /// Docker rules.
    pub docker: DockerRules,
    /// ZFS pool rules.
    pub storage: StorageRules,
    /// Physical disk rules.
    pub disks: DiskRules,
    /// PBS job rules.
    pub pbs_jobs: PbsJobRules,
    /// Backup age rules.
    pub backups: BackupRules,
    /// Platform-native alerts.
    pub native_alerts: NativeRules,
    /// Families with every alert switched off.
    pub disable_all: FamilySwitches,
    /// Families with offline alerts switched off.
    pub disable_all_offline: FamilySwitches,
    /// Per-resource overrides, by resource id.
    pub overrides: BTreeMap<String, ResourceOverride>,
    /// Flapping detection.
    pub flapping: FlappingConfig,
    /// Notification policy.
    pub notifications: NotificationPolicy,
}
