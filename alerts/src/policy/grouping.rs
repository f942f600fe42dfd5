//! Grouping and emission: queued notifications go out together once the grouping window
//! (opened by the first one) has passed, one `Notify` per kind listing every item. Held items
//! stay queued and are re-checked on the first tick after they may be released; when their hold
//! has passed they open a new window.

use std::collections::VecDeque;

use pulse_model::Timestamp;

use crate::alert::Alert;
use crate::event::{AlertEvent, NotifyItem, NotifyKind};
use crate::policy::{cooldown, decide, quiet_hours, release_at, Decision};
use crate::reducer::effects::Effects;
use crate::reducer::lifecycle::next_due;
use crate::reducer::view::RuleView;
use crate::state::{Entries, History, OutgoingItem, Phase, Sent, Token, OUTBOX_MAX};

/// Milliseconds per second.
const SECOND_MS: u64 = 1_000;

/// Re-checks and emits queued notifications when due: when the grouping window has passed, or
/// on a tick once a held item may have been released.
pub(crate) fn flush(
    resources: &mut Entries,
    outbox: &mut VecDeque<Sent>,
    fx: &mut Effects,
    tick: bool,
) {
    if fx.outgoing.items.is_empty() {
        if fx.outgoing.opened.is_some() || fx.outgoing.recheck.is_some() {
            fx.outgoing.opened = None;
            fx.outgoing.recheck = None;
            fx.touch();
        }
        return;
    }
    let grouping = &fx.config.notifications.grouping;
    let window = if grouping.enabled {
        grouping.window_seconds.saturating_mul(SECOND_MS)
    } else {
        0
    };
    let now = fx.now;
    let due = fx
        .outgoing
        .opened
        .is_some_and(|opened| now.millis_since(opened) >= window);
    let recheck = tick && fx.outgoing.recheck.is_some_and(|at| now >= at);
    if !due && !recheck {
        return;
    }
    // Reviews are rare (a window closing, a held item falling due) and rewrite the queue.
    fx.touch();
    if !review(resources, fx) {
        fx.outgoing.opened = None;
        return;
    }
    let opened = *fx.outgoing.opened.get_or_insert(now);
    if now.millis_since(opened) < window {
        return;
    }
    emit(resources, outbox, fx);
}

/// Applies the policies to every queued item not known to be held still: drops stale and
/// switched-off ones, marks held ones (with a `Suppressed` event when the reason is new) and
/// notes when the first of them may be released. Returns whether any may go out.
fn review(resources: &Entries, fx: &mut Effects) -> bool {
    let config = fx.config;
    let now = fx.now;
    let quiet = quiet_hours::is_quiet(&config.notifications.quiet_hours, now);
    let empty = History::default();
    let events = &mut fx.events;
    let mut ready = false;
    let mut recheck: Option<Timestamp> = None;
    let mut later = |at: Timestamp| recheck = Some(recheck.map_or(at, |r: Timestamp| r.min(at)));
    fx.outgoing.items.retain_mut(|item| {
        if let Some(release) = item.release.filter(|r| *r > now) {
            later(release);
            return true;
        }
        let Some((alert, history)) = standing(resources, item, &empty) else {
            return false;
        };
        match decide(item.token, alert.level, history, config, quiet, now) {
            Decision::Send => {
                item.held = None;
                item.release = None;
                ready = true;
                true
            }
            Decision::Hold(reason) => {
                let release = release_at(reason, history, config, now);
                later(release);
                if item.held != Some(reason) {
                    events.push(AlertEvent::Suppressed {
                        alert: alert.clone(),
                        reason,
                    });
                }
                item.held = Some(reason);
                item.release = Some(release);
                true
            }
            Decision::Drop(reason) => {
                events.push(AlertEvent::Suppressed {
                    alert: alert.clone(),
                    reason,
                });
                false
            }
        }
    });
    fx.outgoing.recheck = recheck;
    ready
}

/// The alert and history behind a queued item, `None` when the item is stale: its firing ended
/// or was replaced, or (for an escalation) the alert was acknowledged. A resolve item stands on
/// its own.
fn standing<'a>(
    resources: &'a Entries,
    item: &'a OutgoingItem,
    empty: &'a History,
) -> Option<(&'a Alert, &'a History)> {
    if let Some(resolved) = &item.resolved {
        return Some((resolved, empty));
    }
    let tracker = resources
        .get(&item.resource_id)?
        .trackers
        .iter()
        .find(|t| t.key == item.key)?;
    let alert = tracker.firing_alert()?;
    let stale = alert.firing != item.firing
        || (matches!(item.token, Token::Escalated { .. }) && alert.acknowledged);
    (!stale).then_some((alert, &tracker.history))
}

/// Emits every releasable item: resolves first, then firings, then escalations, one `Notify`
/// per kind; records what was sent on the trackers and in the outbox.
fn emit(resources: &mut Entries, outbox: &mut VecDeque<Sent>, fx: &mut Effects) {
    let mut buckets: [Vec<OutgoingItem>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    let mut keep = Vec::new();
    for item in fx.outgoing.items.drain(..) {
        if item.held.is_some() {
            keep.push(item);
        } else {
            buckets[order(item.token.kind())].push(item);
        }
    }
    fx.outgoing.items = keep;
    fx.outgoing.opened = None;
    for bucket in buckets {
        let Some(kind) = bucket.first().map(|item| item.token.kind()) else {
            continue;
        };
        let mut items = Vec::with_capacity(bucket.len());
        for item in bucket {
            let alert = match item.resolved {
                Some(resolved) => Some(*resolved),
                None => mark_sent(resources, &item, fx),
            };
            let Some(alert) = alert else {
                continue;
            };
            let notify_item = NotifyItem {
                event_id: item.token.event_id(&alert.id, item.firing),
                alert,
            };
            if outbox.len() >= OUTBOX_MAX {
                outbox.pop_front();
            }
            outbox.push_back(Sent {
                kind,
                item: notify_item.clone(),
            });
            items.push(notify_item);
        }
        let Some(event_id) = items.first().map(|item| item.event_id.clone()) else {
            continue;
        };
        fx.events.push(AlertEvent::Notify {
            kind,
            event_id,
            items,
        });
    }
}

/// Emission order of the kinds: resolves, firings, escalations.
const fn order(kind: NotifyKind) -> usize {
    match kind {
        NotifyKind::Resolved => 0,
        NotifyKind::Fired => 1,
        NotifyKind::Escalated => 2,
    }
}

/// Records on the tracker that a firing, critical or escalation notification went out; returns
/// the alert as it is now, `None` if it is gone.
fn mark_sent(resources: &mut Entries, item: &OutgoingItem, fx: &Effects) -> Option<Alert> {
    let now = fx.now;
    let entry = resources.get_mut(&item.resource_id)?;
    let tracker = entry.trackers.iter_mut().find(|t| t.key == item.key)?;
    let Phase::Firing { alert, notice, .. } = &mut tracker.phase else {
        return None;
    };
    alert.last_notified = Some(now);
    match item.token {
        Token::Fired => notice.fired = true,
        Token::Critical => notice.critical = true,
        Token::Resolved | Token::Escalated { .. } => {}
    }
    let sent = (**alert).clone();
    if matches!(item.token, Token::Fired | Token::Critical) {
        cooldown::record(&mut tracker.history, now);
    }
    // A notified firing may now escalate.
    let view = RuleView::for_meta(fx.config, &entry.meta);
    entry.set_due(next_due(&entry.trackers, &view));
    Some(sent)
}
