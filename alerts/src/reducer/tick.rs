//! `Signal::Tick`: time-driven transitions (delays, clear delays, escalation) and pruning of
//! idle history.

use pulse_model::Timestamp;

use crate::reducer::effects::Effects;
use crate::reducer::lifecycle::{advance, next_due};
use crate::reducer::view::RuleView;
use crate::rules::AlertConfig;
use crate::state::{Entries, Phase};

/// Milliseconds per second.
const SECOND_MS: u64 = 1_000;
/// Milliseconds per minute.
const MINUTE_MS: u64 = 60_000;
/// Milliseconds per hour.
const HOUR_MS: u64 = 3_600_000;
/// How often idle trackers are swept.
const SWEEP_MS: u64 = 60_000;

/// Advances the trackers of every resource with something due; at most once a minute, drops
/// idle trackers whose history no policy needs any more (and entries left with nothing to keep).
pub(crate) fn run(resources: &mut Entries, swept_at: &mut Option<Timestamp>, fx: &mut Effects) {
    let now = fx.now;
    let sweep = swept_at.is_none_or(|at| now.millis_since(at) >= SWEEP_MS);
    if sweep {
        *swept_at = Some(now);
    }
    let retention = retention_ms(fx.config);
    let mut dropped = false;
    for entry in resources.values_mut() {
        if entry.due.is_some_and(|due| due <= now) {
            let view = RuleView::for_meta(fx.config, &entry.meta);
            // A rule switched off since the last observation never fires or resolves loudly.
            let meta = &entry.meta;
            let outgoing = &mut *fx.outgoing;
            let before = entry.trackers.len();
            entry.trackers.retain(|t| {
                let off = view.key_off(&t.key, meta.disk_type.as_deref());
                if off {
                    outgoing.forget(&meta.id, &t.key);
                }
                !off
            });
            if entry.trackers.len() != before {
                fx.touch();
                dropped |= !entry.worth_keeping();
            }
            for tracker in &mut entry.trackers {
                advance(&entry.meta, tracker, &view, fx);
            }
            if entry.set_due(next_due(&entry.trackers, &view)) {
                fx.touch();
            }
        }
        if sweep {
            let before = entry.trackers.len();
            entry.trackers.retain(|t| {
                !matches!(t.phase, Phase::Idle)
                    || t.history
                        .latest()
                        .is_some_and(|latest| now.millis_since(latest) < retention)
            });
            if entry.trackers.len() != before {
                fx.touch();
                dropped |= !entry.worth_keeping();
            }
        }
    }
    if dropped {
        resources.retain(|_, entry| entry.worth_keeping());
    }
}

/// How long an idle tracker's history matters: the longest of the flapping window and
/// cooldown, the notification cooldown and the hourly cap.
fn retention_ms(config: &AlertConfig) -> u64 {
    let flapping = &config.flapping;
    [
        flapping.window_seconds.saturating_mul(SECOND_MS),
        flapping.cooldown_minutes.saturating_mul(MINUTE_MS),
        config
            .notifications
            .cooldown_minutes
            .saturating_mul(MINUTE_MS),
        HOUR_MS,
    ]
    .into_iter()
    .max()
    .unwrap_or(HOUR_MS)
}
