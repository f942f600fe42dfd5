//! Flapping: an alert that fires and resolves too often within a window is "flapping"; its
//! firing notifications wait until it has been stable for the cooldown.

use pulse_model::Timestamp;

use crate::rules::FlappingConfig;
use crate::state::History;

/// Milliseconds per second.
const SECOND_MS: u64 = 1_000;
/// Milliseconds per minute.
const MINUTE_MS: u64 = 60_000;

/// Records a fire or resolve at `now`; reaching the threshold within the window makes (or keeps)
/// the alert flapping until `now + cooldown`.
pub(crate) fn record_transition(history: &mut History, config: &FlappingConfig, now: Timestamp) {
    let window = config.window_seconds.saturating_mul(SECOND_MS);
    history
        .transitions
        .retain(|t| now.millis_since(*t) < window);
    history.transitions.push(now);
    if config.enabled && history.transitions.len() >= config.threshold as usize {
        history.flapping_until =
            Some(now.plus_millis(config.cooldown_minutes.saturating_mul(MINUTE_MS)));
    }
}

/// Whether the alert is flapping at `now`.
pub(crate) fn is_flapping(history: &History, config: &FlappingConfig, now: Timestamp) -> bool {
    config.enabled && history.flapping_until.is_some_and(|until| now < until)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_changes_in_five_minutes_flap_until_stable() {
        let config = FlappingConfig::default();
        let mut history = History::default();
        let t = |s: i64| Timestamp::from_millis(s * 1000);
        for s in [0, 30, 60, 90] {
            record_transition(&mut history, &config, t(s));
            assert!(!is_flapping(&history, &config, t(s)));
        }
        record_transition(&mut history, &config, t(120));
        assert!(is_flapping(&history, &config, t(121)));
        assert!(is_flapping(&history, &config, t(120 + 899)));
        assert!(!is_flapping(&history, &config, t(120 + 900)));
        // Changes spread wider than the window never flap.
        let mut calm = History::default();
        for s in (0..10).map(|i| i * 100) {
            record_transition(&mut calm, &config, t(s));
        }
        assert!(!is_flapping(&calm, &config, t(1000)));
        let off = FlappingConfig {
            enabled: false,
            ..config
        };
        assert!(!is_flapping(&history, &off, t(121)));
    }
}
