//! Notification policies: whether a queued notification goes out now, waits, or is dropped.

pub(crate) mod cooldown;
pub(crate) mod escalation;
pub(crate) mod flapping;
pub(crate) mod grouping;
pub(crate) mod quiet_hours;

use pulse_model::Timestamp;

use crate::alert::AlertLevel;
use crate::event::SuppressReason;
use crate::rules::AlertConfig;
use crate::state::{History, Token};

/// What happens to a queued notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// It may go out.
    Send,
    /// It waits; the reason may pass.
    Hold(SuppressReason),
    /// It never goes out.
    Drop(SuppressReason),
}

/// Decides about the notification `token` for an alert of `level` with `history`; `quiet` says
/// whether quiet hours are in force. Order: switched off, flapping, quiet hours, cooldown and
/// hourly cap. Resolve notifications are only ever held by quiet hours: a notified firing always
/// gets its resolve.
pub(crate) fn decide(
    token: Token,
    level: AlertLevel,
    history: &History,
    config: &AlertConfig,
    quiet: bool,
    now: Timestamp,
) -> Decision {
    if !config.notifications.enabled {
        return Decision::Drop(SuppressReason::NotificationsDisabled);
    }
    let firing = matches!(token, Token::Fired | Token::Critical);
    if firing && flapping::is_flapping(history, &config.flapping, now) {
        return Decision::Hold(SuppressReason::Flapping);
    }
    if quiet && level != AlertLevel::Critical {
        return Decision::Hold(SuppressReason::QuietHours);
    }
    match cooldown::hold(token, history, &config.notifications, now) {
        Some(reason) => Decision::Hold(reason),
        None => Decision::Send,
    }
}

/// Milliseconds per minute.
const MINUTE_MS: u64 = 60_000;
/// Milliseconds per hour.
const HOUR_MS: u64 = 3_600_000;

/// The earliest time a notification held for `reason` may be released, so held items are only
/// re-checked when something can have changed (quiet hours: every minute).
pub(crate) fn release_at(
    reason: SuppressReason,
    history: &History,
    config: &AlertConfig,
    now: Timestamp,
) -> Timestamp {
    let next_minute = || {
        let into = u64::try_from(now.as_millis().rem_euclid(60_000)).unwrap_or(0);
        now.plus_millis(MINUTE_MS - into)
    };
    match reason {
        SuppressReason::Flapping => history.flapping_until.unwrap_or_else(next_minute),
        SuppressReason::Cooldown => history.notified.last().map_or_else(next_minute, |last| {
            last.plus_millis(
                config
                    .notifications
                    .cooldown_minutes
                    .saturating_mul(MINUTE_MS),
            )
        }),
        SuppressReason::RateLimit => history
            .notified
            .iter()
            .find(|t| now.millis_since(**t) < HOUR_MS)
            .map_or_else(next_minute, |oldest| oldest.plus_millis(HOUR_MS)),
        SuppressReason::QuietHours | SuppressReason::NotificationsDisabled => next_minute(),
    }
}
