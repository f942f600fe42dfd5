//! The one place the monitor reads the wall clock; pure code receives time as a parameter.

use pulse_model::Timestamp;

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The current time as a model timestamp.
pub fn now() -> Timestamp {
    Timestamp::from_millis(now_millis())
}
