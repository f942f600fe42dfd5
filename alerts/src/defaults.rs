//! The upstream defaults (`reference/upstream-pulse.md` §9.2), in one place.

use std::collections::BTreeMap;

use pulse_model::ResourceType;

use crate::alert::AlertLevel;
use crate::rules::{
    AlertConfig, BackupRules, DelayConfig, DiskRules, DockerRules, EscalationConfig,
    EscalationLevel, EscalationTarget, FamilySwitches, FlappingConfig, GroupingConfig, NativeRules,
    NotificationPolicy, PbsJobRules, QuietHours, RecoveryConfig, RestartLoopRule, StorageRules,
    Threshold, ThresholdSet, Weekday,
};

/// CPU 80/75 %.
const CPU: Threshold = Threshold::new(80.0, 75.0);
/// Memory 85/80 %.
const MEMORY: Threshold = Threshold::new(85.0, 80.0);
/// Disk 90/85 %.
const DISK: Threshold = Threshold::new(90.0, 85.0);
/// Container writable layer and TrueNAS/storage usage 85/80 %.
const FILL: Threshold = Threshold::new(85.0, 80.0);
/// Node/host temperature 80/75 °C.
const HOST_TEMPERATURE: Threshold = Threshold::new(80.0, 75.0);
/// Disk temperature (SATA/HDD) 55/50 °C.
const DISK_TEMPERATURE: Threshold = Threshold::new(55.0, 50.0);

/// Default metric thresholds per resource type. Rates (disk/network I/O) are off everywhere, as
/// upstream; `pmg`, `docker-service`, `ceph` and `network-share` have no metric thresholds.
pub(crate) fn thresholds() -> BTreeMap<ResourceType, ThresholdSet> {
    let host = ThresholdSet {
        cpu: Some(CPU),
        memory: Some(MEMORY),
        disk: Some(DISK),
        temperature: Some(HOST_TEMPERATURE),
        ..ThresholdSet::default()
    };
    let guest = ThresholdSet {
        cpu: Some(CPU),
        memory: Some(MEMORY),
        disk: Some(DISK),
        ..ThresholdSet::default()
    };
    let container = ThresholdSet {
        cpu: Some(CPU),
        memory: Some(MEMORY),
        disk: Some(FILL),
        ..ThresholdSet::default()
    };
    let pbs = ThresholdSet {
        cpu: Some(CPU),
        memory: Some(MEMORY),
        ..ThresholdSet::default()
    };
    let storage = ThresholdSet {
        usage: Some(FILL),
        ..ThresholdSet::default()
    };
    let disk = ThresholdSet {
        temperature: Some(DISK_TEMPERATURE),
        ..ThresholdSet::default()
    };
    BTreeMap::from([
        (ResourceType::Agent, host),
        (ResourceType::Vm, guest.clone()),
        (ResourceType::SystemContainer, guest.clone()),
        (ResourceType::AppContainer, container),
        (ResourceType::Pbs, pbs),
        (ResourceType::K8sCluster, guest.clone()),
        (ResourceType::K8sNode, guest.clone()),
        (ResourceType::Pod, guest.clone()),
        (ResourceType::K8sDeployment, guest),
        (ResourceType::Storage, storage),
        (ResourceType::PhysicalDisk, disk),
    ])
}

/// Disk temperature thresholds by disk type: NVMe 70/65, SAS 65/60, SATA 55/50 °C.
pub(crate) fn disk_temperatures() -> BTreeMap<String, Threshold> {
    BTreeMap::from([
        ("nvme".to_owned(), Threshold::new(70.0, 65.0)),
        ("sas".to_owned(), Threshold::new(65.0, 60.0)),
        ("sata".to_owned(), DISK_TEMPERATURE),
    ])
}

impl Default for DelayConfig {
    fn default() -> Self {
        DelayConfig {
            default_seconds: 5,
            by_type: BTreeMap::new(),
            by_alert: BTreeMap::new(),
        }
    }
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        RecoveryConfig {
            observations: 3,
            storage_observations: 2,
            clear_delay_seconds: 0,
        }
    }
}

impl Default for RestartLoopRule {
    fn default() -> Self {
        RestartLoopRule {
            count: 3,
            window_seconds: 300,
        }
    }
}

impl Default for DockerRules {
    fn default() -> Self {
        DockerRules {
            state_alerts: true,
            health_alerts: true,
            oom_alerts: true,
            restart_loop: RestartLoopRule::default(),
            memory_limit: Threshold {
                trigger: 90.0,
                clear: 85.0,
                critical: Some(95.0),
            },
            service_gap: Threshold {
                trigger: 10.0,
                clear: 5.0,
                critical: Some(50.0),
            },
            ignored_container_prefixes: Vec::new(),
        }
    }
}

impl Default for StorageRules {
    fn default() -> Self {
        StorageRules {
            pool_state: true,
            vdev_errors: true,
            scan_errors: true,
        }
    }
}

impl Default for DiskRules {
    fn default() -> Self {
        DiskRules {
            health: true,
            wearout: Threshold::new(90.0, 85.0),
            temperature_by_type: disk_temperatures(),
        }
    }
}

impl Default for PbsJobRules {
    fn default() -> Self {
        PbsJobRules {
            enabled: true,
            severity: AlertLevel::Warning,
        }
    }
}

impl Default for BackupRules {
    fn default() -> Self {
        BackupRules {
            enabled: false,
            warning_hours: 7 * 24,
            critical_hours: 14 * 24,
        }
    }
}

impl Default for NativeRules {
    fn default() -> Self {
        NativeRules { enabled: true }
    }
}

impl Default for FlappingConfig {
    fn default() -> Self {
        FlappingConfig {
            enabled: true,
            threshold: 5,
            window_seconds: 300,
            cooldown_minutes: 15,
        }
    }
}

impl Default for QuietHours {
    fn default() -> Self {
        QuietHours {
            enabled: false,
            start: 22 * 60,
            end: 8 * 60,
            days: Weekday::ALL[..5].to_vec(),
            utc_offset_minutes: -300,
        }
    }
}

impl Default for EscalationConfig {
    fn default() -> Self {
        let level = |after_minutes, notify| EscalationLevel {
            after_minutes,
            notify,
        };
        EscalationConfig {
            enabled: false,
            levels: vec![
                level(15, EscalationTarget::Email),
                level(30, EscalationTarget::Webhook),
                level(60, EscalationTarget::All),
            ],
        }
    }
}

impl Default for GroupingConfig {
    fn default() -> Self {
        GroupingConfig {
            enabled: true,
            window_seconds: 30,
        }
    }
}

impl Default for NotificationPolicy {
    fn default() -> Self {
        NotificationPolicy {
            enabled: true,
            notify_on_resolve: true,
            cooldown_minutes: 5,
            max_per_hour: 10,
            grouping: GroupingConfig::default(),
            quiet_hours: QuietHours::default(),
            escalation: EscalationConfig::default(),
        }
    }
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            enabled: true,
            thresholds: thresholds(),
            delays: DelayConfig::default(),
            recovery: RecoveryConfig::default(),
            powered_off_severity: AlertLevel::Warning,
            docker: DockerRules::default(),
            storage: StorageRules::default(),
            disks: DiskRules::default(),
            pbs_jobs: PbsJobRules::default(),
            backups: BackupRules::default(),
            native_alerts: NativeRules::default(),
            disable_all: FamilySwitches::default(),
            disable_all_offline: FamilySwitches::default(),
            overrides: BTreeMap::new(),
            flapping: FlappingConfig::default(),
            notifications: NotificationPolicy::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::MetricKind;

    #[test]
    fn upstream_numbers() {
        let config = AlertConfig::default();
        let vm = &config.thresholds[&ResourceType::Vm];
        assert_eq!(vm.cpu, Some(Threshold::new(80.0, 75.0)));
        assert_eq!(vm.memory, Some(Threshold::new(85.0, 80.0)));
        assert_eq!(vm.disk, Some(Threshold::new(90.0, 85.0)));
        assert_eq!(vm.get(MetricKind::DiskRead), None);
        let node = &config.thresholds[&ResourceType::Agent];
        assert_eq!(node.temperature, Some(Threshold::new(80.0, 75.0)));
        let container = &config.thresholds[&ResourceType::AppContainer];
        assert_eq!(container.disk, Some(Threshold::new(85.0, 80.0)));
        assert_eq!(
            config.thresholds[&ResourceType::Storage].usage,
            Some(Threshold::new(85.0, 80.0))
        );
        assert_eq!(config.delays.default_seconds, 5);
        assert_eq!(config.recovery.observations, 3);
        assert_eq!(config.recovery.storage_observations, 2);
        assert_eq!(config.docker.restart_loop.count, 3);
        assert_eq!(config.docker.restart_loop.window_seconds, 300);
        assert_eq!(config.flapping.threshold, 5);
        assert_eq!(config.notifications.cooldown_minutes, 5);
        assert_eq!(config.notifications.grouping.window_seconds, 30);
        assert!(!config.backups.enabled);
        assert_eq!(
            config.disks.temperature_by_type["nvme"],
            Threshold::new(70.0, 65.0)
        );
        assert!(config.validate().is_ok());
    }

    #[test]
    fn critical_is_trigger_plus_ten_capped_for_percent() {
        assert_eq!(Threshold::new(80.0, 75.0).critical_level(true), 90.0);
        assert_eq!(Threshold::new(95.0, 90.0).critical_level(true), 99.0);
        assert_eq!(Threshold::new(95.0, 90.0).critical_level(false), 105.0);
        let explicit = Threshold {
            critical: Some(97.0),
            ..Threshold::new(90.0, 85.0)
        };
        assert_eq!(explicit.critical_level(true), 97.0);
    }

    #[test]
    fn empty_json_is_the_default_config() {
        let config: AlertConfig = serde_json::from_str("{}").expect("parse");
        assert_eq!(config, AlertConfig::default());
        let json = serde_json::to_value(&config).expect("serialise");
        let back: AlertConfig = serde_json::from_value(json).expect("parse");
        assert_eq!(back, config);
    }
}
