//! Quiet hours: a daily local-time window, on chosen weekdays, in which non-critical
//! notifications wait.

use pulse_model::Timestamp;

use crate::rules::{QuietHours, Weekday};

/// Milliseconds per day.
const DAY_MS: i64 = 86_400_000;
/// Milliseconds per minute.
const MINUTE_MS: i64 = 60_000;

/// Whether `now` lies inside quiet hours. A window whose end is before its start spans midnight
/// and counts for the weekday on which it started (Fri 22:00–Sat 08:00 is Friday's).
pub(crate) fn is_quiet(quiet: &QuietHours, now: Timestamp) -> bool {
    if !quiet.enabled || quiet.start == quiet.end {
        return false;
    }
    let local = now
        .as_millis()
        .saturating_add(i64::from(quiet.utc_offset_minutes) * MINUTE_MS);
    let day = local.div_euclid(DAY_MS);
    let minute = local.rem_euclid(DAY_MS) / MINUTE_MS;
    let (start, end) = (i64::from(quiet.start), i64::from(quiet.end));
    let on = |day: i64| quiet.days.contains(&weekday(day));
    if start < end {
        minute >= start && minute < end && on(day)
    } else if minute >= start {
        on(day)
    } else if minute < end {
        on(day - 1)
    } else {
        false
    }
}

/// The weekday of a day counted from 1970-01-01 (a Thursday).
fn weekday(day: i64) -> Weekday {
    let index = usize::try_from((day + 3).rem_euclid(7)).unwrap_or(0);
    Weekday::ALL[index]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-01-02 is a Friday.
    fn at(day_of_jan_2026: i64, hour: i64, minute: i64) -> Timestamp {
        let jan_1 = 1_767_225_600_000_i64;
        Timestamp::from_millis(
            jan_1 + (day_of_jan_2026 - 1) * DAY_MS + hour * 3_600_000 + minute * MINUTE_MS,
        )
    }

    #[test]
    fn weekdays_are_right() {
        assert_eq!(weekday(0), Weekday::Thursday);
        assert_eq!(weekday(at(2, 0, 0).as_millis() / DAY_MS), Weekday::Friday);
    }

    #[test]
    fn window_spanning_midnight_belongs_to_its_start_day() {
        let quiet = QuietHours {
            enabled: true,
            utc_offset_minutes: 0,
            ..QuietHours::default()
        };
        // Friday 23:00 and Saturday 03:00 (Friday's window) are quiet.
        assert!(is_quiet(&quiet, at(2, 23, 0)));
        assert!(is_quiet(&quiet, at(3, 3, 0)));
        // Saturday 23:00 and Monday 03:00 (Sunday's window) are not.
        assert!(!is_quiet(&quiet, at(3, 23, 0)));
        assert!(!is_quiet(&quiet, at(5, 3, 0)));
        // Tuesday 08:00 is the end: not quiet; 07:59 is.
        assert!(!is_quiet(&quiet, at(6, 8, 0)));
        assert!(is_quiet(&quiet, at(6, 7, 59)));
        assert!(!is_quiet(&quiet, at(6, 12, 0)));
    }

    #[test]
    fn offset_shifts_the_window() {
        let quiet = QuietHours {
            enabled: true,
            ..QuietHours::default()
        };
        // -300: 22:00 New York (winter) is 03:00 UTC the next day.
        assert!(is_quiet(&quiet, at(3, 3, 30)));
        assert!(!is_quiet(&quiet, at(2, 23, 0)));
        let off = QuietHours::default();
        assert!(!is_quiet(&off, at(3, 3, 30)));
    }

    #[test]
    fn daytime_window() {
        let quiet = QuietHours {
            enabled: true,
            start: 9 * 60,
            end: 17 * 60,
            days: vec![Weekday::Friday],
            utc_offset_minutes: 0,
        };
        assert!(is_quiet(&quiet, at(2, 9, 0)));
        assert!(!is_quiet(&quiet, at(2, 17, 0)));
        assert!(!is_quiet(&quiet, at(3, 10, 0)));
    }
}
