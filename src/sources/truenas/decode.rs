//! Tolerant readers for the value shapes the TrueNAS middleware uses besides plain numbers (those
//! are [`crate::sources::flex`]'s job):
//!
//! - ZFS properties come as objects `{"value": "ON", "rawvalue": "on", "parsed": true, …}` on
//!   both APIs, sometimes as a bare value;
//! - times come as `{"$date": <ms>}`, as unix seconds or milliseconds (numbers or strings), or
//!   as RFC 3339 text; a property object may wrap any of these.
//!
//! Every reader yields `None` for a value it cannot read, so a quirk never fails an item.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Unix times above this are milliseconds, below it seconds.
const MILLIS_FROM: f64 = 1e11;
/// Members of a property object holding the value, in order of preference for numbers.
const NUMBER_MEMBERS: [&str; 4] = ["parsed", "rawvalue", "raw", "value"];
/// Members of a property object holding the value, in order of preference for text.
const TEXT_MEMBERS: [&str; 4] = ["value", "rawvalue", "raw", "parsed"];

/// A number from a JSON number or a numeric string (never NaN or infinite).
fn number(value: &Value) -> Option<f64> {
    let n = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    n.is_finite().then_some(n)
}

/// A non-negative integer from a number, numeric string or property object.
pub fn prop_u64_value(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| *f >= 0.0 && f.is_finite())
                .map(|f| f as u64)
        }),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<u64>().ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| *f >= 0.0 && f.is_finite())
                    .map(|f| f as u64)
            })
        }
        Value::Object(map) => NUMBER_MEMBERS
            .iter()
            .filter_map(|m| map.get(*m))
            .find_map(prop_u64_value),
        _ => None,
    }
}

/// A boolean from a bool, `0`/`1`, `on`/`off`, `yes`/`no`, `true`/`false`, or a property object.
pub fn prop_bool_value(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|f| f != 0.0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "yes" | "1" => Some(true),
            "off" | "false" | "no" | "0" => Some(false),
            _ => None,
        },
        Value::Object(map) => NUMBER_MEMBERS
            .iter()
            .filter_map(|m| map.get(*m))
            .find_map(prop_bool_value),
        _ => None,
    }
}

/// Text from a string, a number, or a property object.
pub fn prop_string_value(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(map) => TEXT_MEMBERS
            .iter()
            .filter_map(|m| map.get(*m))
            .find_map(prop_string_value),
        _ => None,
    }
}

/// Milliseconds since the epoch from any of the time shapes (see the module docs).
pub fn date_ms_value(value: &Value) -> Option<i64> {
    if let Some(n) = number(value) {
        let ms = if n.abs() >= MILLIS_FROM {
            n
        } else {
            n * 1000.0
        };
        return (ms.abs() < 1e15).then_some(ms as i64);
    }
    match value {
        Value::String(s) => s
            .trim()
            .parse::<pulse_model::Timestamp>()
            .ok()
            .map(pulse_model::Timestamp::as_millis),
        // `$date` is milliseconds by definition, however small.
        Value::Object(map) => match map.get("$date").and_then(number) {
            Some(ms) => (ms.abs() < 1e15).then_some(ms as i64),
            None => ["$date", "parsed", "rawvalue", "value", "raw"]
                .iter()
                .filter_map(|m| map.get(*m))
                .find_map(date_ms_value),
        },
        _ => None,
    }
}

/// `deserialize_with` for [`prop_u64_value`].
pub fn prop_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(prop_u64_value(&Value::deserialize(d)?))
}

/// `deserialize_with` for [`prop_bool_value`].
pub fn prop_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(prop_bool_value(&Value::deserialize(d)?))
}

/// `deserialize_with` for [`prop_string_value`].
pub fn prop_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(prop_string_value(&Value::deserialize(d)?))
}

/// `deserialize_with` for [`date_ms_value`].
pub fn date_ms<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(date_ms_value(&Value::deserialize(d)?))
}

/// `deserialize_with` for an id that may be a number or a string (VM ids, alert ids, task ids).
pub fn id_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) if !s.is_empty() => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(serde::de::Error::custom(
            "expected an id (string or number)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn properties() {
        assert_eq!(
            prop_u64_value(&json!({"parsed": 42, "rawvalue": "42", "value": "42B"})),
            Some(42)
        );
        assert_eq!(prop_u64_value(&json!({"rawvalue": "1024"})), Some(1024));
        assert_eq!(
            prop_u64_value(&json!({"parsed": null, "rawvalue": "7"})),
            Some(7)
        );
        assert_eq!(prop_u64_value(&json!("12.0")), Some(12));
        assert_eq!(prop_u64_value(&json!(-3)), None);
        assert_eq!(prop_u64_value(&json!({"value": "1.5G"})), None);
        assert_eq!(
            prop_bool_value(&json!({"value": "ON", "rawvalue": "on", "parsed": true})),
            Some(true)
        );
        assert_eq!(prop_bool_value(&json!({"value": "OFF"})), Some(false));
        assert_eq!(prop_bool_value(&json!("yes")), Some(true));
        assert_eq!(prop_bool_value(&json!("maybe")), None);
        assert_eq!(
            prop_string_value(&json!({"value": "LZ4", "rawvalue": "lz4"})).as_deref(),
            Some("LZ4")
        );
        assert_eq!(prop_string_value(&json!(5)).as_deref(), Some("5"));
        assert_eq!(prop_string_value(&json!(null)), None);
    }

    #[test]
    fn dates() {
        let ms = 1_700_000_000_000_i64;
        assert_eq!(date_ms_value(&json!({"$date": ms})), Some(ms));
        assert_eq!(date_ms_value(&json!({"$date": 5_000})), Some(5_000));
        assert_eq!(date_ms_value(&json!(1_700_000_000)), Some(ms));
        assert_eq!(date_ms_value(&json!("1700000000")), Some(ms));
        assert_eq!(
            date_ms_value(&json!({"parsed": {"$date": ms}, "rawvalue": "1700000000"})),
            Some(ms)
        );
        assert_eq!(
            date_ms_value(&json!({"rawvalue": "1700000000", "value": "Tue Nov 14 22:13 2023"})),
            Some(ms)
        );
        assert_eq!(date_ms_value(&json!("2023-11-14T22:13:20Z")), Some(ms));
        assert_eq!(date_ms_value(&json!("yesterday")), None);
        assert_eq!(date_ms_value(&json!(1e300)), None);
    }
}
