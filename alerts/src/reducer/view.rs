//! The configuration as it applies to one resource: its type's thresholds, its override, the
//! family switches, delays and recovery counts.

use pulse_model::ResourceType;

use crate::alert::{AlertKey, AlertLevel, MetricKind};
use crate::rules::{AlertConfig, ResourceOverride, Threshold, ThresholdSet};
use crate::state::ResourceMeta;

/// Milliseconds per second.
const SECOND_MS: u64 = 1_000;

/// [`AlertConfig`] seen from one resource.
pub(crate) struct RuleView<'a> {
    /// The whole configuration.
    pub config: &'a AlertConfig,
    /// The resource's type, when known.
    pub resource_type: Option<ResourceType>,
    /// The resource's override.
    overrides: Option<&'a ResourceOverride>,
    /// The type's thresholds.
    type_set: Option<&'a ThresholdSet>,
}

impl<'a> RuleView<'a> {
    /// The view for the resource described by `meta`.
    pub fn for_meta(config: &'a AlertConfig, meta: &ResourceMeta) -> Self {
        RuleView::new(config, &meta.id, meta.resource_type)
    }

    /// The view for resource `id` of type `resource_type` (unknown for resources only seen
    /// through native alerts).
    pub fn new(config: &'a AlertConfig, id: &str, resource_type: Option<ResourceType>) -> Self {
        let overrides = if config.overrides.is_empty() {
            None
        } else {
            config.overrides.get(id)
        };
        let type_set = resource_type.and_then(|t| config.thresholds.get(&t));
        RuleView {
            config,
            resource_type,
            overrides,
            type_set,
        }
    }

    /// Whether every alert of the resource is off (master switch, override, family switch).
    pub fn all_disabled(&self) -> bool {
        !self.config.enabled
            || self.overrides.is_some_and(|o| o.disabled)
            || self
                .resource_type
                .is_some_and(|t| self.config.disable_all.covers(t))
    }

    /// Whether the rule behind `key` is off for this resource. Metric thresholds are checked by
    /// [`RuleView::metric_threshold`] instead.
    pub fn disabled(&self, key: &AlertKey) -> bool {
        if self.all_disabled() {
            return true;
        }
        let name = key.alert_type();
        if let Some(o) = self.overrides {
            if o.disabled_alerts.iter().any(|d| d == name) {
                return true;
            }
            if key.is_offline() && o.disable_connectivity {
                return true;
            }
        }
        if key.is_offline()
            && self
                .resource_type
                .is_some_and(|t| self.config.disable_all_offline.covers(t))
        {
            return true;
        }
        let config = self.config;
        match key {
            AlertKey::ContainerState => !config.docker.state_alerts,
            AlertKey::ContainerHealth => !config.docker.health_alerts,
            AlertKey::OomKill => !config.docker.oom_alerts,
            AlertKey::MemoryLimit => !config.docker.memory_limit.is_enabled(),
            AlertKey::ServiceGap => !config.docker.service_gap.is_enabled(),
            AlertKey::PoolState => !config.storage.pool_state,
            AlertKey::VdevErrors => !config.storage.vdev_errors,
            AlertKey::ScanErrors => !config.storage.scan_errors,
            AlertKey::DiskHealth => !config.disks.health,
            AlertKey::DiskWearout => !config.disks.wearout.is_enabled(),
            AlertKey::PbsJob(_) => !config.pbs_jobs.enabled,
            AlertKey::BackupAge => !config.backups.enabled,
            AlertKey::Native(_) => !config.native_alerts.enabled,
            AlertKey::Metric(_)
            | AlertKey::Connectivity
            | AlertKey::SourceOffline(_)
            | AlertKey::PoweredState
            | AlertKey::RestartLoop => false,
        }
    }

    /// Whether the rule behind `key` is off for this resource, metric thresholds included
    /// (`disk_type` picks a physical disk's temperature threshold).
    pub fn key_off(&self, key: &AlertKey, disk_type: Option<&str>) -> bool {
        match key {
            AlertKey::Metric(kind) => {
                self.all_disabled() || self.metric_threshold(*kind, disk_type).is_none()
            }
            other => self.disabled(other),
        }
    }

    /// The threshold of a metric for this resource, `None` when off: the override's if it has
    /// one, else for a physical disk's temperature the one for its (lower-case) disk type, else
    /// the type's.
    pub fn metric_threshold(&self, kind: MetricKind, disk_type: Option<&str>) -> Option<Threshold> {
        let name = kind.as_str();
        if let Some(o) = self.overrides {
            if o.disabled_alerts.iter().any(|d| d == name) {
                return None;
            }
            if let Some(t) = o.thresholds.get(kind) {
                return t.is_enabled().then_some(*t);
            }
        }
        if kind == MetricKind::Temperature && self.resource_type == Some(ResourceType::PhysicalDisk)
        {
            let by_type = disk_type.and_then(|d| self.config.disks.temperature_by_type.get(d));
            if let Some(t) = by_type {
                return t.is_enabled().then_some(*t);
            }
        }
        self.type_set?.get(kind).filter(|t| t.is_enabled()).copied()
    }

    /// The time delay of `key` in milliseconds (native alerts: none, the platform decided).
    pub fn delay_ms(&self, key: &AlertKey) -> u64 {
        if matches!(key, AlertKey::Native(_)) {
            return 0;
        }
        let delays = &self.config.delays;
        let seconds = self
            .resource_type
            .and_then(|t| {
                delays
                    .by_alert
                    .get(&t)
                    .and_then(|m| m.get(key.alert_type()))
                    .or_else(|| delays.by_type.get(&t))
            })
            .copied()
            .unwrap_or(delays.default_seconds);
        seconds.saturating_mul(SECOND_MS)
    }

    /// Consecutive good observations needed before a firing `key` resolves.
    pub fn recovery_needed(&self, key: &AlertKey) -> u32 {
        let recovery = &self.config.recovery;
        let storage = self.resource_type == Some(ResourceType::Storage);
        let needed = match key {
            AlertKey::Connectivity | AlertKey::SourceOffline(_) if storage => {
                recovery.storage_observations
            }
            AlertKey::Connectivity | AlertKey::SourceOffline(_) => recovery.observations,
            AlertKey::PoolState => recovery.storage_observations,
            _ => 1,
        };
        needed.max(1)
    }

    /// How long a firing `key` must stay good before it resolves, in milliseconds (threshold
    /// rules only).
    pub fn clear_delay_ms(&self, key: &AlertKey) -> u64 {
        match key {
            AlertKey::Metric(_)
            | AlertKey::MemoryLimit
            | AlertKey::ServiceGap
            | AlertKey::DiskWearout => self
                .config
                .recovery
                .clear_delay_seconds
                .saturating_mul(SECOND_MS),
            _ => 0,
        }
    }

    /// Level of this guest's `powered-state` alert.
    pub fn powered_off_severity(&self) -> AlertLevel {
        self.overrides
            .and_then(|o| o.powered_off_severity)
            .unwrap_or(self.config.powered_off_severity)
    }
}
