//! Platform-native alerts (TrueNAS `alert.list`) mirrored as Pulse alerts `native-<id>`.
//!
//! Each `NativeAlerts` signal is the full current list for a resource: alerts not dismissed
//! whose level maps (CRITICAL/ERROR/ALERT → critical, WARNING/WARN → warning) fire at once (the
//! platform already applied its own delay); INFO, NOTICE and other levels are ignored; alerts
//! missing from the list, or dismissed, resolve.

use crate::alert::{AlertKey, AlertLevel};
use crate::reducer::effects::Effects;
use crate::reducer::judge::{Finding, Verdict};
use crate::reducer::lifecycle::{apply, next_due};
use crate::reducer::view::RuleView;
use crate::signal::NativeAlert;
use crate::state::{Entries, ResourceAlerts, ResourceMeta};

/// Replaces the native alerts of `resource_id` with `alerts`. A resource without an entry (not
/// an observed agent, no alerts) gets one only if an alert fires; an entry left with nothing to
/// keep is dropped.
pub(crate) fn replace(
    resources: &mut Entries,
    resource_id: &str,
    alerts: &[NativeAlert],
    fx: &mut Effects,
) {
    let known = resources.contains_key(resource_id);
    if !known {
        let entry = ResourceAlerts::new(ResourceMeta::bare(resource_id));
        resources.insert(resource_id.to_owned(), entry);
    }
    let Some(entry) = resources.get_mut(resource_id) else {
        return;
    };
    let view = RuleView::for_meta(fx.config, &entry.meta);
    let disabled = view.disabled(&AlertKey::Native(String::new()));
    let mut current: Vec<&str> = Vec::new();
    for native in alerts.iter().filter(|a| !a.dismissed) {
        let Some(level) = map_level(&native.level) else {
            continue;
        };
        current.push(&native.id);
        let verdict = if disabled {
            Verdict::Disabled
        } else {
            let mut finding = Finding::flag(level, Some(native.message.clone()));
            finding.source = (!native.source.is_empty()).then(|| native.source.clone());
            Verdict::Breach(finding)
        };
        let key = AlertKey::Native(native.id.clone());
        apply(&entry.meta, &mut entry.trackers, key, verdict, &view, fx);
    }
    let gone: Vec<AlertKey> = entry
        .trackers
        .iter()
        .filter(|t| matches!(&t.key, AlertKey::Native(id) if !current.contains(&id.as_str())))
        .map(|t| t.key.clone())
        .collect();
    for key in gone {
        let verdict = if disabled {
            Verdict::Disabled
        } else {
            Verdict::Ok
        };
        apply(&entry.meta, &mut entry.trackers, key, verdict, &view, fx);
    }
    if entry.set_due(next_due(&entry.trackers, &view)) {
        fx.touch();
    }
    if !entry.worth_keeping() {
        resources.remove(resource_id);
        if known {
            fx.touch();
        }
    }
}

/// The Pulse level of a native level (platforms §4.4), `None` for levels that are not alerts.
pub(crate) fn map_level(level: &str) -> Option<AlertLevel> {
    let level = level.trim();
    let is = |word: &str| level.eq_ignore_ascii_case(word);
    if is("CRITICAL") || is("ERROR") || is("ALERT") {
        Some(AlertLevel::Critical)
    } else if is("WARNING") || is("WARN") {
        Some(AlertLevel::Warning)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_as_truenas_does() {
        assert_eq!(map_level("CRITICAL"), Some(AlertLevel::Critical));
        assert_eq!(map_level("error"), Some(AlertLevel::Critical));
        assert_eq!(map_level("ALERT"), Some(AlertLevel::Critical));
        assert_eq!(map_level("WARNING"), Some(AlertLevel::Warning));
        assert_eq!(map_level("Warn"), Some(AlertLevel::Warning));
        assert_eq!(map_level("INFO"), None);
        assert_eq!(map_level("NOTICE"), None);
        assert_eq!(map_level("EMERGENCY"), None);
    }
}
