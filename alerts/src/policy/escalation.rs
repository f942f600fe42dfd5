//! Escalation: a notified, unacknowledged, stable alert reaches level N once it has been
//! active for that level's `afterMinutes`; acknowledging it stops escalation.

use pulse_model::Timestamp;

use crate::alert::Alert;
use crate::event::AlertEvent;
use crate::policy::flapping;
use crate::reducer::effects::Effects;
use crate::rules::AlertConfig;
use crate::state::{Notice, Phase, ResourceMeta, Token, Tracker};

/// Milliseconds per minute.
const MINUTE_MS: u64 = 60_000;

/// When the alert's next escalation level falls due, if it can escalate at all.
pub(crate) fn due_at(config: &AlertConfig, alert: &Alert, notice: &Notice) -> Option<Timestamp> {
    let escalation = &config.notifications.escalation;
    if !escalation.enabled || !notice.fired || alert.acknowledged {
        return None;
    }
    let reached = usize::try_from(alert.last_escalation.unwrap_or(0)).unwrap_or(usize::MAX);
    let next = escalation.levels.get(reached)?;
    Some(
        alert
            .start_time
            .plus_millis(next.after_minutes.saturating_mul(MINUTE_MS)),
    )
}

/// Escalates a firing alert to the highest level now due, if above the one reached.
pub(crate) fn check(meta: &ResourceMeta, tracker: &mut Tracker, fx: &mut Effects) {
    let config = &fx.config.notifications.escalation;
    if !config.enabled {
        return;
    }
    let flapping = flapping::is_flapping(&tracker.history, &fx.config.flapping, fx.now);
    let Phase::Firing { alert, notice, .. } = &mut tracker.phase else {
        return;
    };
    if !notice.fired || alert.acknowledged || flapping {
        return;
    }
    let active = fx.now.millis_since(alert.start_time);
    let due = config
        .levels
        .iter()
        .enumerate()
        .rfind(|(_, level)| level.after_minutes.saturating_mul(MINUTE_MS) <= active);
    let Some((index, level)) = due else {
        return;
    };
    let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
    if alert
        .last_escalation
        .is_some_and(|reached| reached >= number)
    {
        return;
    }
    alert.last_escalation = Some(number);
    alert.escalation_times.push(fx.now);
    fx.touch();
    fx.events.push(AlertEvent::Escalated {
        alert: (**alert).clone(),
        level: number,
        notify: level.notify,
    });
    fx.queue(
        Token::Escalated { level: number },
        &meta.id,
        &tracker.key,
        alert.firing,
        None,
    );
}
