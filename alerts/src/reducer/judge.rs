//! What a rule concludes about one alert key of one resource ([`Verdict`]), and the threshold
//! arithmetic shared by every numeric rule: hysteresis, critical level, messages.

use serde::{Deserialize, Serialize};

use crate::alert::{Alert, AlertKey, AlertLevel};
use crate::reducer::view::RuleView;
use crate::rules::Threshold;
use crate::text::push_number;

/// A rule's conclusion for one alert key in one observation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    /// The condition holds.
    Breach(Finding),
    /// The condition does not hold.
    Ok,
    /// No data this time: nothing changes.
    Unknown,
    /// The rule is switched off: the alert disappears silently, with its history.
    Disabled,
}

/// Details of a breach (also what a pending alert remembers until it fires).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Finding {
    /// Severity.
    pub level: AlertLevel,
    /// Measured value (0 without one).
    pub value: f64,
    /// Threshold crossed (0 without one).
    pub threshold: f64,
    /// Clear value of a hysteresis threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear: Option<f64>,
    /// The message, for rules whose message is not rendered from the value (see [`render`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Origin of a native or PBS job alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Finding {
    /// A breach without a measurement; `message` may be `None` when the alert already exists
    /// (it keeps its message, sparing the formatting on every observation).
    pub fn flag(level: AlertLevel, message: Option<String>) -> Self {
        Finding {
            level,
            value: 0.0,
            threshold: 0.0,
            clear: None,
            message,
            source: None,
        }
    }

    /// A breach with a count or measurement and its message.
    pub fn counted(level: AlertLevel, value: f64, threshold: f64, message: String) -> Self {
        Finding {
            value,
            threshold,
            ..Finding::flag(level, Some(message))
        }
    }
}

/// The level of `value` against `t`, or `None` when it does not breach. `prior` gives the level
/// of the alert when it is already firing: then it clears only below `clear`, and a critical
/// alert drops to warning only once below `critical − (trigger − clear)`. `prior` is only asked
/// when the value lies in one of those hysteresis bands (finding it costs a lookup).
pub(crate) fn level(
    value: f64,
    t: &Threshold,
    percent: bool,
    prior: impl FnOnce() -> Option<AlertLevel>,
) -> Option<AlertLevel> {
    if !value.is_finite() {
        return None;
    }
    let critical = t.critical_level(percent);
    let margin = (t.trigger - t.clear).max(0.0);
    let banded = value < t.trigger || (value < critical && value >= critical - margin);
    let prior = if banded { prior() } else { None };
    let bound = match prior {
        Some(_) => t.clear.min(t.trigger),
        None => t.trigger,
    };
    if value < bound {
        return None;
    }
    let stays_critical = prior == Some(AlertLevel::Critical) && value >= critical - margin;
    Some(if value >= critical || stays_critical {
        AlertLevel::Critical
    } else {
        AlertLevel::Warning
    })
}

/// The verdict of `value` against `t`; the message is rendered from the key.
pub(crate) fn threshold_verdict(
    value: f64,
    t: &Threshold,
    percent: bool,
    prior: impl FnOnce() -> Option<AlertLevel>,
) -> Verdict {
    match level(value, t, percent, prior) {
        Some(level) => Verdict::Breach(Finding {
            level,
            value,
            threshold: t.trigger,
            clear: Some(t.clear),
            message: None,
            source: None,
        }),
        None => Verdict::Ok,
    }
}

/// The hysteresis threshold governing a numeric key, and whether it is a percentage; `None`
/// for keys that are not threshold rules or whose threshold is off.
pub(crate) fn threshold_for(
    key: &AlertKey,
    view: &RuleView,
    disk_type: Option<&str>,
) -> Option<(Threshold, bool)> {
    let config = view.config;
    let (threshold, percent) = match key {
        AlertKey::Metric(kind) => (view.metric_threshold(*kind, disk_type)?, kind.is_percent()),
        AlertKey::MemoryLimit => (config.docker.memory_limit, true),
        AlertKey::ServiceGap => (config.docker.service_gap, true),
        AlertKey::DiskWearout => (config.disks.wearout, true),
        AlertKey::BackupAge => {
            // Hours; no hysteresis: it clears as soon as a newer backup exists.
            let warning = config.backups.warning_hours as f64;
            let threshold = Threshold {
                trigger: warning,
                clear: warning,
                critical: Some(config.backups.critical_hours as f64),
            };
            (threshold, false)
        }
        _ => return None,
    };
    threshold.is_enabled().then_some((threshold, percent))
}

/// Label and unit of keys whose message is rendered from value and threshold.
pub(crate) fn describe(key: &AlertKey) -> Option<(&'static str, &'static str)> {
    match key {
        AlertKey::Metric(kind) => Some((kind.label(), kind.unit())),
        AlertKey::MemoryLimit => Some(("Memory use of its limit", "%")),
        AlertKey::ServiceGap => Some(("Missing tasks", "%")),
        AlertKey::DiskWearout => Some(("Rated life used", "%")),
        AlertKey::BackupAge => Some(("Age of the newest backup", "h")),
        _ => None,
    }
}

/// Re-renders the message of a threshold alert from its current value and threshold, e.g.
/// `CPU usage on web01 at 85.3% (threshold 80%)`. Other alerts keep their rule's message.
/// Built by hand into the message's own buffer: this runs on every firing and level change.
pub(crate) fn render(alert: &mut Alert, key: &AlertKey) {
    let Some((label, unit)) = describe(key) else {
        return;
    };
    let message = &mut alert.message;
    message.clear();
    message.push_str(label);
    message.push_str(" on ");
    message.push_str(&alert.resource_name);
    message.push_str(" at ");
    push_number(message, alert.value);
    message.push_str(unit);
    message.push_str(" (threshold ");
    push_number(message, alert.threshold);
    message.push_str(unit);
    message.push(')');
}

#[cfg(test)]
mod tests {
    use super::*;

    const CPU: Threshold = Threshold::new(80.0, 75.0);

    #[test]
    fn hysteresis_and_levels() {
        let idle = || None;
        let warning = || Some(AlertLevel::Warning);
        let critical = || Some(AlertLevel::Critical);
        assert_eq!(level(79.9, &CPU, true, idle), None);
        assert_eq!(level(80.0, &CPU, true, idle), Some(AlertLevel::Warning));
        assert_eq!(level(90.0, &CPU, true, idle), Some(AlertLevel::Critical));
        // Firing: stays until below clear.
        assert_eq!(level(76.0, &CPU, true, warning), Some(AlertLevel::Warning));
        assert_eq!(level(74.9, &CPU, true, warning), None);
        // Critical drops to warning only below critical − 5.
        assert_eq!(
            level(86.0, &CPU, true, critical),
            Some(AlertLevel::Critical)
        );
        assert_eq!(level(84.0, &CPU, true, critical), Some(AlertLevel::Warning));
        assert_eq!(level(f64::NAN, &CPU, true, idle), None);
    }

    #[test]
    fn prior_is_only_asked_inside_a_band() {
        let asked = std::cell::Cell::new(0);
        let ask = || {
            asked.set(asked.get() + 1);
            Some(AlertLevel::Warning)
        };
        assert_eq!(level(82.0, &CPU, true, ask), Some(AlertLevel::Warning));
        assert_eq!(level(95.0, &CPU, true, ask), Some(AlertLevel::Critical));
        assert_eq!(asked.get(), 0);
        assert_eq!(level(77.0, &CPU, true, ask), Some(AlertLevel::Warning));
        assert_eq!(level(87.0, &CPU, true, ask), Some(AlertLevel::Warning));
        assert_eq!(asked.get(), 2);
    }
}
