//! [`AlertConfig::validate`]: every value in range, every pair consistent, errors naming the
//! JSON path of the offending key.

use crate::alert::{AlertKey, MetricKind};
use crate::error::AlertError;
use crate::rules::{AlertConfig, Threshold, ThresholdSet};

/// Disk types that `disks.temperatureByType` accepts.
const DISK_TYPES: [&str; 5] = ["nvme", "sas", "sata", "ssd", "hdd"];
/// Longest time delay accepted (one day).
const MAX_DELAY_SECONDS: u64 = 86_400;
/// Longest grouping window accepted (one hour).
const MAX_GROUPING_SECONDS: u64 = 3_600;
/// Furthest offset from UTC accepted (±14 h).
const MAX_UTC_OFFSET_MINUTES: i16 = 14 * 60;
/// Minutes in a day.
const DAY_MINUTES: u16 = 1_440;

impl AlertConfig {
    /// Checks the configuration; the error names the first offending key, e.g.
    /// `thresholds.vm.cpu.clear: must be below trigger (80)`.
    pub fn validate(&self) -> Result<(), AlertError> {
        for (resource_type, set) in &self.thresholds {
            check_set(&format!("thresholds.{resource_type}"), set)?;
        }
        check_delays(self)?;
        check_recovery(self)?;
        check_docker(self)?;
        check_disks(self)?;
        check_backups(self)?;
        for (id, entry) in &self.overrides {
            let path = format!("overrides.{id}");
            check_set(&format!("{path}.thresholds"), &entry.thresholds)?;
            for (i, name) in entry.disabled_alerts.iter().enumerate() {
                known_type(&format!("{path}.disabledAlerts[{i}]"), name)?;
            }
        }
        check_flapping(self)?;
        check_notifications(self)
    }
}

/// Checks every threshold of a set.
fn check_set(path: &str, set: &ThresholdSet) -> Result<(), AlertError> {
    for kind in MetricKind::ALL {
        if let Some(threshold) = set.get(kind) {
            check_threshold(
                &format!("{path}.{}", kind.as_str()),
                threshold,
                kind.is_percent(),
            )?;
        }
    }
    Ok(())
}

/// Checks one threshold: finite, non-negative, clear below trigger, critical not below trigger,
/// percentages at most 100. A trigger of 0 means off and needs nothing else.
fn check_threshold(path: &str, t: &Threshold, percent: bool) -> Result<(), AlertError> {
    for (name, value) in [("trigger", t.trigger), ("clear", t.clear)] {
        if !value.is_finite() || value < 0.0 {
            return Err(AlertError::invalid(
                format!("{path}.{name}"),
                format!("must be a number ≥ 0, got {value}"),
            ));
        }
    }
    if !t.is_enabled() {
        return Ok(());
    }
    if percent && t.trigger > 100.0 {
        return Err(AlertError::invalid(
            format!("{path}.trigger"),
            format!("a percentage must be at most 100, got {}", t.trigger),
        ));
    }
    if t.clear >= t.trigger {
        return Err(AlertError::invalid(
            format!("{path}.clear"),
            format!("must be below trigger ({}), got {}", t.trigger, t.clear),
        ));
    }
    if let Some(critical) = t.critical {
        if !critical.is_finite() || critical < t.trigger || (percent && critical > 100.0) {
            let range = if percent { " and at most 100" } else { "" };
            return Err(AlertError::invalid(
                format!("{path}.critical"),
                format!(
                    "must be at least trigger ({}){range}, got {critical}",
                    t.trigger
                ),
            ));
        }
    }
    Ok(())
}

/// Checks that `name` is an alert type.
fn known_type(path: &str, name: &str) -> Result<(), AlertError> {
    if AlertKey::is_known_type(name) {
        Ok(())
    } else {
        Err(AlertError::invalid(
            path,
            format!("unknown alert type `{name}`"),
        ))
    }
}

/// Checks that a duration is at most `max`.
fn at_most(path: &str, value: u64, max: u64) -> Result<(), AlertError> {
    if value > max {
        Err(AlertError::invalid(
            path,
            format!("must be at most {max}, got {value}"),
        ))
    } else {
        Ok(())
    }
}

/// Checks that a count is at least `min`.
fn at_least(path: &str, value: u64, min: u64) -> Result<(), AlertError> {
    if value < min {
        Err(AlertError::invalid(
            path,
            format!("must be at least {min}, got {value}"),
        ))
    } else {
        Ok(())
    }
}

/// Checks the time delays.
fn check_delays(config: &AlertConfig) -> Result<(), AlertError> {
    let delays = &config.delays;
    at_most(
        "delays.defaultSeconds",
        delays.default_seconds,
        MAX_DELAY_SECONDS,
    )?;
    for (resource_type, seconds) in &delays.by_type {
        at_most(
            &format!("delays.byType.{resource_type}"),
            *seconds,
            MAX_DELAY_SECONDS,
        )?;
    }
    for (resource_type, by_alert) in &delays.by_alert {
        for (name, seconds) in by_alert {
            let path = format!("delays.byAlert.{resource_type}.{name}");
            known_type(&path, name)?;
            at_most(&path, *seconds, MAX_DELAY_SECONDS)?;
        }
    }
    Ok(())
}

/// Checks the recovery settings.
fn check_recovery(config: &AlertConfig) -> Result<(), AlertError> {
    let recovery = &config.recovery;
    at_least("recovery.observations", u64::from(recovery.observations), 1)?;
    at_most(
        "recovery.observations",
        u64::from(recovery.observations),
        100,
    )?;
    at_least(
        "recovery.storageObservations",
        u64::from(recovery.storage_observations),
        1,
    )?;
    at_most(
        "recovery.storageObservations",
        u64::from(recovery.storage_observations),
        100,
    )?;
    at_most(
        "recovery.clearDelaySeconds",
        recovery.clear_delay_seconds,
        MAX_DELAY_SECONDS,
    )
}

/// Checks the Docker rules.
fn check_docker(config: &AlertConfig) -> Result<(), AlertError> {
    let docker = &config.docker;
    at_least(
        "docker.restartLoop.count",
        u64::from(docker.restart_loop.count),
        1,
    )?;
    at_least(
        "docker.restartLoop.windowSeconds",
        docker.restart_loop.window_seconds,
        1,
    )?;
    at_most(
        "docker.restartLoop.windowSeconds",
        docker.restart_loop.window_seconds,
        MAX_DELAY_SECONDS,
    )?;
    check_threshold("docker.memoryLimit", &docker.memory_limit, true)?;
    check_threshold("docker.serviceGap", &docker.service_gap, true)
}

/// Checks the physical disk rules.
fn check_disks(config: &AlertConfig) -> Result<(), AlertError> {
    check_threshold("disks.wearout", &config.disks.wearout, true)?;
    for (disk_type, threshold) in &config.disks.temperature_by_type {
        let path = format!("disks.temperatureByType.{disk_type}");
        if !DISK_TYPES.contains(&disk_type.as_str()) {
            return Err(AlertError::invalid(
                path,
                format!(
                    "unknown disk type, expected one of {}",
                    DISK_TYPES.join(", ")
                ),
            ));
        }
        check_threshold(&path, threshold, false)?;
    }
    Ok(())
}

/// Checks the backup age rules.
fn check_backups(config: &AlertConfig) -> Result<(), AlertError> {
    let backups = &config.backups;
    at_least("backups.warningHours", backups.warning_hours, 1)?;
    if backups.critical_hours < backups.warning_hours {
        return Err(AlertError::invalid(
            "backups.criticalHours",
            format!(
                "must be at least warningHours ({}), got {}",
                backups.warning_hours, backups.critical_hours
            ),
        ));
    }
    Ok(())
}

/// Checks flapping detection.
fn check_flapping(config: &AlertConfig) -> Result<(), AlertError> {
    let flapping = &config.flapping;
    at_least("flapping.threshold", u64::from(flapping.threshold), 2)?;
    at_least("flapping.windowSeconds", flapping.window_seconds, 1)?;
    at_most(
        "flapping.windowSeconds",
        flapping.window_seconds,
        MAX_DELAY_SECONDS,
    )?;
    at_most("flapping.cooldownMinutes", flapping.cooldown_minutes, 1_440)
}

/// Checks the notification policy: cooldown, grouping, quiet hours, escalation.
fn check_notifications(config: &AlertConfig) -> Result<(), AlertError> {
    let policy = &config.notifications;
    at_most(
        "notifications.cooldownMinutes",
        policy.cooldown_minutes,
        1_440,
    )?;
    at_most(
        "notifications.grouping.windowSeconds",
        policy.grouping.window_seconds,
        MAX_GROUPING_SECONDS,
    )?;
    let quiet = &policy.quiet_hours;
    for (name, minute) in [("start", quiet.start), ("end", quiet.end)] {
        if minute >= DAY_MINUTES {
            return Err(AlertError::invalid(
                format!("notifications.quietHours.{name}"),
                format!("must be a minute of the day (0–1439), got {minute}"),
            ));
        }
    }
    if quiet.utc_offset_minutes.abs() > MAX_UTC_OFFSET_MINUTES {
        return Err(AlertError::invalid(
            "notifications.quietHours.utcOffsetMinutes",
            format!(
                "must be within ±{MAX_UTC_OFFSET_MINUTES}, got {}",
                quiet.utc_offset_minutes
            ),
        ));
    }
    if quiet.enabled && quiet.start == quiet.end {
        return Err(AlertError::invalid(
            "notifications.quietHours.end",
            "must differ from start",
        ));
    }
    if quiet.enabled && quiet.days.is_empty() {
        return Err(AlertError::invalid(
            "notifications.quietHours.days",
            "must name at least one day when quiet hours are enabled",
        ));
    }
    let mut previous = 0;
    for (i, level) in policy.escalation.levels.iter().enumerate() {
        let path = format!("notifications.escalation.levels[{i}].afterMinutes");
        if level.after_minutes <= previous {
            let reason = if i == 0 {
                format!("must be at least 1, got {}", level.after_minutes)
            } else {
                format!(
                    "must be greater than the previous level's ({previous}), got {}",
                    level.after_minutes
                )
            };
            return Err(AlertError::invalid(path, reason));
        }
        previous = level.after_minutes;
    }
    if policy.escalation.enabled && policy.escalation.levels.is_empty() {
        return Err(AlertError::invalid(
            "notifications.escalation.levels",
            "must have at least one level when escalation is enabled",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{EscalationLevel, EscalationTarget, ResourceOverride};
    use pulse_model::ResourceType;

    /// The field named by a failed validation.
    fn field_of(config: &AlertConfig) -> String {
        match config.validate() {
            Err(AlertError::InvalidConfig { field, .. }) => field,
            Ok(()) => "ok".into(),
        }
    }

    #[test]
    fn clear_not_below_trigger_names_the_field() {
        let mut config = AlertConfig::default();
        if let Some(set) = config.thresholds.get_mut(&ResourceType::Vm) {
            set.cpu = Some(Threshold::new(80.0, 80.0));
        }
        assert_eq!(field_of(&config), "thresholds.vm.cpu.clear");
        let message = config.validate().expect_err("invalid").to_string();
        assert!(message.contains("must be below trigger (80)"), "{message}");
    }

    #[test]
    fn disabled_threshold_needs_nothing_else() {
        let mut config = AlertConfig::default();
        if let Some(set) = config.thresholds.get_mut(&ResourceType::Vm) {
            set.cpu = Some(Threshold::new(0.0, 0.0));
        }
        assert_eq!(field_of(&config), "ok");
    }

    #[test]
    fn ranges_are_checked() {
        let mut config = AlertConfig::default();
        if let Some(set) = config.thresholds.get_mut(&ResourceType::Agent) {
            set.memory = Some(Threshold::new(120.0, 80.0));
        }
        assert_eq!(field_of(&config), "thresholds.agent.memory.trigger");

        let mut config = AlertConfig::default();
        config.docker.memory_limit.critical = Some(80.0);
        assert_eq!(field_of(&config), "docker.memoryLimit.critical");

        let mut config = AlertConfig::default();
        config.notifications.quiet_hours.start = 1440;
        assert_eq!(field_of(&config), "notifications.quietHours.start");

        let mut config = AlertConfig::default();
        config.notifications.quiet_hours.utc_offset_minutes = 900;
        assert_eq!(
            field_of(&config),
            "notifications.quietHours.utcOffsetMinutes"
        );

        let mut config = AlertConfig::default();
        config.flapping.threshold = 1;
        assert_eq!(field_of(&config), "flapping.threshold");

        let mut config = AlertConfig::default();
        config.backups.critical_hours = 1;
        assert_eq!(field_of(&config), "backups.criticalHours");

        let mut config = AlertConfig::default();
        config.recovery.observations = 0;
        assert_eq!(field_of(&config), "recovery.observations");

        let mut config = AlertConfig::default();
        config
            .disks
            .temperature_by_type
            .insert("floppy".into(), Threshold::new(50.0, 40.0));
        assert_eq!(field_of(&config), "disks.temperatureByType.floppy");
    }

    #[test]
    fn escalation_levels_must_increase() {
        let mut config = AlertConfig::default();
        config
            .notifications
            .escalation
            .levels
            .push(EscalationLevel {
                after_minutes: 60,
                notify: EscalationTarget::Email,
            });
        assert_eq!(
            field_of(&config),
            "notifications.escalation.levels[3].afterMinutes"
        );
    }

    #[test]
    fn overrides_are_checked() {
        let mut config = AlertConfig::default();
        config.overrides.insert(
            "vm-1".into(),
            ResourceOverride {
                disabled_alerts: vec!["cpu".into(), "nonsense".into()],
                ..ResourceOverride::default()
            },
        );
        assert_eq!(field_of(&config), "overrides.vm-1.disabledAlerts[1]");
        config.overrides.insert(
            "vm-1".into(),
            ResourceOverride {
                thresholds: ThresholdSet {
                    disk: Some(Threshold::new(50.0, 60.0)),
                    ..ThresholdSet::default()
                },
                ..ResourceOverride::default()
            },
        );
        assert_eq!(field_of(&config), "overrides.vm-1.thresholds.disk.clear");
    }

    #[test]
    fn delay_keys_must_be_alert_types() {
        let mut config = AlertConfig::default();
        config
            .delays
            .by_alert
            .entry(ResourceType::Vm)
            .or_default()
            .insert("cpus".into(), 30);
        assert_eq!(field_of(&config), "delays.byAlert.vm.cpus");
    }
}
