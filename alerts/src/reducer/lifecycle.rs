//! The life of one alert key, shared by every rule: idle → pending (time delay) → firing →
//! (recovery observations, clear delay) → resolved; level changes; silent removal when the rule
//! is switched off.

use std::borrow::Cow;
use std::mem;

use pulse_model::Timestamp;

use crate::alert::{Alert, AlertKey, AlertLevel, AlertMetadata};
use crate::event::AlertEvent;
use crate::policy::{escalation, flapping};
use crate::reducer::effects::Effects;
use crate::reducer::judge::{describe, render, Finding, Verdict};
use crate::reducer::view::RuleView;
use crate::state::{Notice, Phase, Recovery, ResourceMeta, Token, Tracker};

/// The level of `key`'s alert when it is firing or cleared (for hysteresis), `None` otherwise.
pub(crate) fn prior(trackers: &[Tracker], key: &AlertKey) -> Option<AlertLevel> {
    trackers
        .iter()
        .find(|t| t.key == *key)
        .and_then(|t| match &t.phase {
            Phase::Firing { alert, .. } => Some(alert.level),
            Phase::Cleared => Some(AlertLevel::Warning),
            Phase::Idle | Phase::Pending { .. } => None,
        })
}

/// Whether `key` is pending or firing (then its message need not be rebuilt).
pub(crate) fn has_alert(trackers: &[Tracker], key: &AlertKey) -> bool {
    trackers.iter().any(|t| t.key == *key && t.is_active())
}

/// Applies a rule's verdict about `key`.
pub(crate) fn apply(
    meta: &ResourceMeta,
    trackers: &mut Vec<Tracker>,
    key: AlertKey,
    verdict: Verdict,
    view: &RuleView,
    fx: &mut Effects,
) {
    let found = trackers.iter().position(|t| t.key == key);
    match (verdict, found) {
        (Verdict::Unknown, _) | (Verdict::Ok | Verdict::Disabled, None) => {}
        (Verdict::Disabled, Some(i)) => {
            let tracker = trackers.swap_remove(i);
            fx.outgoing.forget(&meta.id, &tracker.key);
            fx.touch();
        }
        (Verdict::Ok, Some(i)) => on_ok(meta, &mut trackers[i], view, fx),
        (Verdict::Breach(finding), Some(i)) => on_breach(meta, &mut trackers[i], finding, view, fx),
        (Verdict::Breach(finding), None) => {
            fx.touch();
            trackers.push(Tracker::new(key));
            let last = trackers.len() - 1;
            on_breach(meta, &mut trackers[last], finding, view, fx);
        }
    }
}

/// Drops every tracker silently (all rules switched off for the resource).
pub(crate) fn forget_all(meta: &ResourceMeta, trackers: &mut Vec<Tracker>, fx: &mut Effects) {
    if !trackers.is_empty() {
        fx.touch();
    }
    for tracker in trackers.drain(..) {
        fx.outgoing.forget(&meta.id, &tracker.key);
    }
}

/// Advances a tracker on time alone: an elapsed delay fires, an elapsed clear delay resolves,
/// a firing alert may escalate.
pub(crate) fn advance(
    meta: &ResourceMeta,
    tracker: &mut Tracker,
    view: &RuleView,
    fx: &mut Effects,
) {
    match &tracker.phase {
        Phase::Pending { .. } => fire_if_due(meta, tracker, view, fx),
        Phase::Firing { recovery, .. } => {
            if recovered(recovery, &tracker.key, view, fx.now) {
                resolve(meta, tracker, fx);
            } else {
                escalation::check(meta, tracker, fx);
            }
        }
        Phase::Idle | Phase::Cleared => {}
    }
}

/// The earliest time a tick has something to do for these trackers.
pub(crate) fn next_due(trackers: &[Tracker], view: &RuleView) -> Option<Timestamp> {
    trackers
        .iter()
        .filter_map(|tracker| match &tracker.phase {
            Phase::Pending { since, .. } => Some(since.plus_millis(view.delay_ms(&tracker.key))),
            Phase::Firing {
                alert,
                recovery,
                notice,
            } => {
                let clearing = recovery
                    .ok_since
                    .filter(|_| recovery.ok_count >= view.recovery_needed(&tracker.key))
                    .map(|since| since.plus_millis(view.clear_delay_ms(&tracker.key)));
                let escalating = escalation::due_at(view.config, alert, notice);
                clearing.into_iter().chain(escalating).min()
            }
            Phase::Idle | Phase::Cleared => None,
        })
        .min()
}

/// The condition holds.
fn on_breach(
    meta: &ResourceMeta,
    tracker: &mut Tracker,
    mut finding: Finding,
    view: &RuleView,
    fx: &mut Effects,
) {
    let now = fx.now;
    if !matches!(tracker.phase, Phase::Cleared) {
        fx.touch();
    }
    match &mut tracker.phase {
        Phase::Idle => {
            let firing = tracker.history.next_firing(now);
            tracker.phase = Phase::Pending {
                since: now,
                firing,
                finding,
            };
            fire_if_due(meta, tracker, view, fx);
        }
        Phase::Pending { finding: last, .. } => {
            if finding.message.is_none() {
                finding.message = last.message.take();
            }
            if finding.source.is_none() {
                finding.source = last.source.take();
            }
            *last = finding;
            fire_if_due(meta, tracker, view, fx);
        }
        Phase::Firing {
            alert,
            recovery,
            notice,
        } => {
            *recovery = Recovery::default();
            let previous = alert.level;
            update(alert, finding, now);
            if alert.level != previous {
                render(alert, &tracker.key);
                fx.events.push(AlertEvent::LevelChanged {
                    alert: (**alert).clone(),
                    previous,
                });
                let news = alert.level == AlertLevel::Critical
                    && notice.fired
                    && !notice.critical
                    && !alert.acknowledged;
                if news {
                    notice.critical = true;
                    fx.queue(Token::Critical, &meta.id, &tracker.key, alert.firing, None);
                }
            }
        }
        Phase::Cleared => {}
    }
}

/// The condition does not hold.
fn on_ok(meta: &ResourceMeta, tracker: &mut Tracker, view: &RuleView, fx: &mut Effects) {
    if !matches!(tracker.phase, Phase::Idle) {
        fx.touch();
    }
    match &mut tracker.phase {
        Phase::Idle => {}
        Phase::Pending { .. } | Phase::Cleared => tracker.phase = Phase::Idle,
        Phase::Firing { recovery, .. } => {
            recovery.ok_count = recovery.ok_count.saturating_add(1);
            recovery.ok_since.get_or_insert(fx.now);
            if recovered(recovery, &tracker.key, view, fx.now) {
                resolve(meta, tracker, fx);
            }
        }
    }
}

/// Whether enough good observations, spread over the clear delay, were seen.
fn recovered(recovery: &Recovery, key: &AlertKey, view: &RuleView, now: Timestamp) -> bool {
    recovery.ok_count >= view.recovery_needed(key)
        && recovery
            .ok_since
            .is_some_and(|since| now.millis_since(since) >= view.clear_delay_ms(key))
}

/// Fires a pending alert whose time delay has elapsed.
fn fire_if_due(meta: &ResourceMeta, tracker: &mut Tracker, view: &RuleView, fx: &mut Effects) {
    let due = match &tracker.phase {
        Phase::Pending { since, .. } => fx.now.millis_since(*since) >= view.delay_ms(&tracker.key),
        _ => false,
    };
    if !due {
        return;
    }
    let Phase::Pending {
        since,
        firing,
        finding,
    } = mem::replace(&mut tracker.phase, Phase::Idle)
    else {
        return;
    };
    fx.touch();
    let mut alert = Box::new(new_alert(
        meta,
        &tracker.key,
        finding,
        firing,
        since,
        fx.now,
    ));
    render(&mut alert, &tracker.key);
    flapping::record_transition(&mut tracker.history, &fx.config.flapping, fx.now);
    fx.events.push(AlertEvent::Fired {
        alert: (*alert).clone(),
    });
    fx.queue(Token::Fired, &meta.id, &tracker.key, firing, None);
    tracker.phase = Phase::Firing {
        alert,
        recovery: Recovery::default(),
        notice: Notice::default(),
    };
}

/// Resolves a firing alert; a resolve notification is queued only when the firing was
/// notified, so each notified firing gets exactly one (and a firing whose notification was
/// still queued or held never gets one).
pub(crate) fn resolve(meta: &ResourceMeta, tracker: &mut Tracker, fx: &mut Effects) {
    let Phase::Firing {
        mut alert, notice, ..
    } = mem::replace(&mut tracker.phase, Phase::Idle)
    else {
        return;
    };
    fx.touch();
    alert.resolved_time = Some(fx.now);
    flapping::record_transition(&mut tracker.history, &fx.config.flapping, fx.now);
    // Unsent firing, critical or escalation items of this firing are now stale: the next
    // review drops them (cheaper than searching the queue on every resolve).
    fx.events.push(AlertEvent::Resolved {
        alert: (*alert).clone(),
    });
    if notice.fired && fx.config.notifications.notify_on_resolve {
        let resolved = Box::new((*alert).clone());
        fx.queue(
            Token::Resolved,
            &meta.id,
            &tracker.key,
            alert.firing,
            Some(resolved),
        );
    }
    fx.remember_resolved(*alert);
}

/// The alert a pending key becomes when it fires.
fn new_alert(
    meta: &ResourceMeta,
    key: &AlertKey,
    finding: Finding,
    firing: i64,
    since: Timestamp,
    now: Timestamp,
) -> Alert {
    let suffix = key.suffix();
    let mut id = String::with_capacity(meta.id.len() + 1 + suffix.len());
    id.push_str(&meta.id);
    id.push('-');
    id.push_str(&suffix);
    Alert {
        id,
        alert_type: Cow::Borrowed(key.alert_type()),
        level: finding.level,
        resource_id: meta.id.clone(),
        resource_name: meta.name.clone(),
        resource_type: meta.resource_type,
        node: meta.node.clone(),
        instance: meta.instance.clone(),
        message: finding.message.unwrap_or_default(),
        value: finding.value,
        threshold: finding.threshold,
        start_time: since,
        last_seen: now,
        acknowledged: false,
        ack_time: None,
        ack_user: None,
        metadata: AlertMetadata {
            clear_threshold: finding.clear,
            unit: describe(key).map(|(_, unit)| Cow::Borrowed(unit)),
            source: finding.source,
        },
        last_notified: None,
        last_escalation: None,
        escalation_times: Vec::new(),
        firing,
        resolved_time: None,
    }
}

/// Refreshes a firing alert from a new breach.
fn update(alert: &mut Alert, finding: Finding, now: Timestamp) {
    alert.level = finding.level;
    alert.value = finding.value;
    alert.threshold = finding.threshold;
    alert.last_seen = now;
    alert.metadata.clear_threshold = finding.clear;
    if let Some(message) = finding.message {
        if alert.message != message {
            alert.message = message;
        }
    }
    if finding.source.is_some() && alert.metadata.source != finding.source {
        alert.metadata.source = finding.source;
    }
}
