//! Re-notification cooldown and hourly cap per alert: a firing notification waits until the
//! cooldown since the alert's previous one has passed and the alert is below its hourly cap.

use pulse_model::Timestamp;

use crate::event::SuppressReason;
use crate::rules::NotificationPolicy;
use crate::state::{History, Token};

/// Milliseconds per minute.
const MINUTE_MS: u64 = 60_000;
/// Milliseconds per hour.
const HOUR_MS: u64 = 3_600_000;

/// Why the notification `token` must wait, if it must. The cooldown applies to firing
/// notifications (a became-critical notification is news and skips it); the hourly cap to both.
pub(crate) fn hold(
    token: Token,
    history: &History,
    policy: &NotificationPolicy,
    now: Timestamp,
) -> Option<SuppressReason> {
    if !matches!(token, Token::Fired | Token::Critical) {
        return None;
    }
    let cooldown = policy.cooldown_minutes.saturating_mul(MINUTE_MS);
    let cooling = history
        .notified
        .last()
        .is_some_and(|last| now.millis_since(*last) < cooldown);
    if token == Token::Fired && cooling {
        return Some(SuppressReason::Cooldown);
    }
    let recent = history
        .notified
        .iter()
        .filter(|t| now.millis_since(**t) < HOUR_MS)
        .count();
    if policy.max_per_hour > 0 && recent >= policy.max_per_hour as usize {
        return Some(SuppressReason::RateLimit);
    }
    None
}

/// Records a firing notification sent at `now`, forgetting those older than an hour.
pub(crate) fn record(history: &mut History, now: Timestamp) {
    history.notified.retain(|t| now.millis_since(*t) < HOUR_MS);
    history.notified.push(now);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cooldown_then_cap() {
        let policy = NotificationPolicy {
            max_per_hour: 2,
            ..NotificationPolicy::default()
        };
        let t = |m: i64| Timestamp::from_millis(m * 60_000);
        let mut history = History::default();
        assert_eq!(hold(Token::Fired, &history, &policy, t(0)), None);
        record(&mut history, t(0));
        assert_eq!(
            hold(Token::Fired, &history, &policy, t(4)),
            Some(SuppressReason::Cooldown)
        );
        assert_eq!(hold(Token::Critical, &history, &policy, t(4)), None);
        assert_eq!(hold(Token::Resolved, &history, &policy, t(1)), None);
        assert_eq!(hold(Token::Fired, &history, &policy, t(5)), None);
        record(&mut history, t(10));
        assert_eq!(
            hold(Token::Fired, &history, &policy, t(20)),
            Some(SuppressReason::RateLimit)
        );
        assert_eq!(hold(Token::Fired, &history, &policy, t(61)), None);
        let unlimited = NotificationPolicy {
            max_per_hour: 0,
            ..policy
        };
        assert_eq!(hold(Token::Fired, &history, &unlimited, t(20)), None);
    }
}
