//! Signals from people and from the notifier: acknowledge, unacknowledge, clear, resource
//! removal, delivery confirmations and restart.

use std::collections::VecDeque;

use crate::event::AlertEvent;
use crate::reducer::effects::Effects;
use crate::reducer::lifecycle::{next_due, resolve};
use crate::reducer::view::RuleView;
use crate::state::{locate, Entries, Phase, ResourceAlerts, RestartLog, Sent, Token};

/// The resource holding the firing alert `alert_id`, and the index of its tracker.
fn firing<'a>(
    resources: &'a mut Entries,
    alert_id: &str,
) -> Option<(&'a mut ResourceAlerts, usize)> {
    let resource_id = locate(resources, alert_id)?;
    let entry = resources.get_mut(resource_id)?;
    let index = entry
        .trackers
        .iter()
        .position(|t| t.firing_alert().is_some_and(|a| a.id == alert_id))?;
    Some((entry, index))
}

/// Acknowledges a firing alert: it stops escalating (queued escalations are withdrawn).
pub(crate) fn acknowledge(resources: &mut Entries, alert_id: &str, user: &str, fx: &mut Effects) {
    let Some((entry, index)) = firing(resources, alert_id) else {
        return;
    };
    let tracker = &mut entry.trackers[index];
    let Phase::Firing { alert, .. } = &mut tracker.phase else {
        return;
    };
    if alert.acknowledged {
        return;
    }
    fx.touch();
    alert.acknowledged = true;
    alert.ack_time = Some(fx.now);
    alert.ack_user = Some(user.to_owned());
    fx.events.push(AlertEvent::Acknowledged {
        alert: (**alert).clone(),
    });
    let key = &tracker.key;
    fx.outgoing.items.retain(|item| {
        !(matches!(item.token, Token::Escalated { .. })
            && item.key == *key
            && item.resource_id == entry.meta.id)
    });
    let view = RuleView::for_meta(fx.config, &entry.meta);
    entry.set_due(next_due(&entry.trackers, &view));
}

/// Withdraws an acknowledgement; escalation resumes.
pub(crate) fn unacknowledge(resources: &mut Entries, alert_id: &str, fx: &mut Effects) {
    let Some((entry, index)) = firing(resources, alert_id) else {
        return;
    };
    let Phase::Firing { alert, .. } = &mut entry.trackers[index].phase else {
        return;
    };
    if !alert.acknowledged {
        return;
    }
    fx.touch();
    alert.acknowledged = false;
    alert.ack_time = None;
    alert.ack_user = None;
    fx.events.push(AlertEvent::Unacknowledged {
        alert: (**alert).clone(),
    });
    let view = RuleView::for_meta(fx.config, &entry.meta);
    entry.set_due(next_due(&entry.trackers, &view));
}

/// Clears a firing alert by hand: no resolve notification; quiet until its condition goes
/// away.
pub(crate) fn clear(resources: &mut Entries, alert_id: &str, fx: &mut Effects) {
    let Some((entry, index)) = firing(resources, alert_id) else {
        return;
    };
    let tracker = &mut entry.trackers[index];
    let Phase::Firing { mut alert, .. } = std::mem::replace(&mut tracker.phase, Phase::Cleared)
    else {
        return;
    };
    fx.touch();
    alert.resolved_time = Some(fx.now);
    fx.outgoing.forget(&entry.meta.id, &tracker.key);
    fx.events.push(AlertEvent::Cleared {
        alert: (*alert).clone(),
    });
    fx.remember_resolved(*alert);
    let view = RuleView::for_meta(fx.config, &entry.meta);
    entry.set_due(next_due(&entry.trackers, &view));
}

/// Forgets a removed resource (its entry and restart counts); its firing alerts resolve
/// (notified ones with a resolve notification).
pub(crate) fn remove(
    resources: &mut Entries,
    restarts: &mut RestartLog,
    id: &str,
    fx: &mut Effects,
) {
    if restarts.remove(id).is_some() {
        fx.touch();
    }
    let Some(mut entry) = resources.remove(id) else {
        return;
    };
    fx.touch();
    for tracker in &mut entry.trackers {
        resolve(&entry.meta, tracker, fx);
        fx.outgoing.forget(&entry.meta.id, &tracker.key);
    }
}

/// Marks `<alertId>:<event>` delivered.
pub(crate) fn delivered(
    outbox: &mut VecDeque<Sent>,
    alert_id: &str,
    event: &str,
    fx: &mut Effects,
) {
    let before = outbox.len();
    outbox.retain(|sent| {
        let id = &sent.item.event_id;
        let matches = id
            .strip_prefix(alert_id)
            .and_then(|rest| rest.strip_prefix(':'))
            .is_some_and(|rest| rest == event);
        !matches
    });
    if outbox.len() != before {
        fx.touch();
    }
}

/// Emits every unconfirmed notification item again, one `Notify` each, with its original
/// event id.
pub(crate) fn restarted(outbox: &VecDeque<Sent>, fx: &mut Effects) {
    for sent in outbox {
        fx.events.push(AlertEvent::Notify {
            kind: sent.kind,
            event_id: sent.item.event_id.clone(),
            items: vec![sent.item.clone()],
        });
    }
}
