//! [`apply_config`]: adopt a new configuration without emitting anything.

use pulse_model::{ResourceType, Timestamp};

use crate::alert::AlertKey;
use crate::reducer::judge::{level, render, threshold_for};
use crate::reducer::lifecycle::next_due;
use crate::reducer::view::RuleView;
use crate::rules::AlertConfig;
use crate::state::{AlertState, Outgoing, Phase, ResourceMeta, Tracker};

/// Adopts `config` silently — saving the configuration never produces an event or a
/// notification:
/// - alerts whose rule is now off disappear with their history (re-enabling starts afresh);
/// - threshold alerts are re-judged against their last value: pending ones that no longer
///   breach are dropped; firing ones that are now below their clear value end without a
///   resolve notification; the others take the new level and threshold;
/// - powered-off and PBS job alerts take the new severity;
/// - held notifications are re-checked against the new policy on the next tick;
/// - containers whose rules are all off forget their restart counts.
///
/// The state's [`AlertState::generation`] moves: the owner saves it.
pub fn apply_config(mut state: AlertState, config: &AlertConfig) -> AlertState {
    let AlertState {
        resources,
        restarts,
        outgoing,
        generation,
        ..
    } = &mut state;
    *generation = generation.wrapping_add(1);
    if outgoing.items.iter().any(|item| item.held.is_some()) {
        outgoing.recheck = Some(Timestamp::MIN);
        for item in &mut outgoing.items {
            item.release = None;
        }
    }
    resources.retain(|_, entry| {
        let view = RuleView::for_meta(config, &entry.meta);
        let meta = &entry.meta;
        entry.trackers.retain_mut(|tracker| {
            if view.key_off(&tracker.key, meta.disk_type.as_deref()) {
                outgoing.forget(&meta.id, &tracker.key);
                return false;
            }
            rejudge(tracker, &view, meta, outgoing);
            true
        });
        entry.set_due(next_due(&entry.trackers, &view));
        entry.worth_keeping()
    });
    restarts.retain(|id, _| {
        !RuleView::new(config, id, Some(ResourceType::AppContainer)).all_disabled()
    });
    state
}

/// Re-judges one alert under the new configuration.
fn rejudge(tracker: &mut Tracker, view: &RuleView, meta: &ResourceMeta, outgoing: &mut Outgoing) {
    let severity = match tracker.key {
        AlertKey::PoweredState => Some(view.powered_off_severity()),
        AlertKey::PbsJob(_) => Some(view.config.pbs_jobs.severity),
        _ => None,
    };
    if let Some(severity) = severity {
        match &mut tracker.phase {
            Phase::Pending { finding, .. } => finding.level = severity,
            Phase::Firing { alert, .. } => alert.level = severity,
            Phase::Idle | Phase::Cleared => {}
        }
        return;
    }
    let Some((threshold, percent)) = threshold_for(&tracker.key, view, meta.disk_type.as_deref())
    else {
        return;
    };
    let key = &tracker.key;
    let ended = match &mut tracker.phase {
        Phase::Pending { finding, .. } => {
            match level(finding.value, &threshold, percent, || None) {
                Some(new) => {
                    finding.level = new;
                    finding.threshold = threshold.trigger;
                    finding.clear = Some(threshold.clear);
                    false
                }
                None => true,
            }
        }
        Phase::Firing { alert, .. } => {
            let prior = alert.level;
            match level(alert.value, &threshold, percent, || Some(prior)) {
                Some(new) => {
                    alert.level = new;
                    alert.threshold = threshold.trigger;
                    alert.metadata.clear_threshold = Some(threshold.clear);
                    render(alert, key);
                    false
                }
                None => {
                    outgoing.forget(&meta.id, key);
                    true
                }
            }
        }
        Phase::Idle | Phase::Cleared => false,
    };
    if ended {
        tracker.phase = Phase::Idle;
    }
}
