//! Tolerant readers for the free-form JSON facets of a resource: numbers may arrive as strings,
//! booleans as `0`/`1` or strings, keys in camelCase or the platform's own spelling.

use pulse_model::{Resource, Timestamp};
use serde_json::{Map, Value};

/// Unix timestamps above this are taken as milliseconds, below as seconds.
const MILLIS_FROM: f64 = 1e11;

/// The facet object under `key` (`docker`, `storage`, `truenas`, `physicalDisk`, `pbs`,
/// `proxmox`, …).
pub(crate) fn object<'a>(resource: &'a Resource, key: &str) -> Option<&'a Map<String, Value>> {
    resource.facets.get(key)?.as_object()
}

/// The first of `names` present in `object`, not null.
pub(crate) fn field<'a>(object: &'a Map<String, Value>, names: &[&str]) -> Option<&'a Value> {
    names
        .iter()
        .find_map(|name| object.get(*name).filter(|v| !v.is_null()))
}

/// A string field.
pub(crate) fn text<'a>(object: &'a Map<String, Value>, names: &[&str]) -> Option<&'a str> {
    field(object, names)?.as_str()
}

/// A numeric field: a JSON number or a string holding one; never NaN or infinite.
pub(crate) fn number(object: &Map<String, Value>, names: &[&str]) -> Option<f64> {
    as_number(field(object, names)?)
}

/// A JSON number or numeric string as a finite `f64`.
pub(crate) fn as_number(value: &Value) -> Option<f64> {
    let n = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    n.is_finite().then_some(n)
}

/// A boolean field: `true`/`false`, `1`/`0`, or those as strings.
pub(crate) fn flag(object: &Map<String, Value>, names: &[&str]) -> Option<bool> {
    match field(object, names)? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|v| v != 0.0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A time field: unix seconds (or milliseconds when above 10^11) as a number or numeric
/// string, or an RFC 3339 string.
pub(crate) fn time(object: &Map<String, Value>, names: &[&str]) -> Option<Timestamp> {
    let value = field(object, names)?;
    if let Some(n) = as_number(value) {
        let ms = if n.abs() >= MILLIS_FROM {
            n
        } else {
            n * 1000.0
        };
        // Clamped to the representable range by `from_millis`; the cast saturates.
        return Some(Timestamp::from_millis(ms as i64));
    }
    value.as_str()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn tolerant_reading() {
        let o = obj(json!({
            "a": 3, "b": "4.5", "c": "x", "d": true, "e": "1", "f": null, "g": 0,
            "t1": 1_700_000_000, "t2": 1_700_000_000_000_i64, "t3": "2026-01-01T00:00:00Z"
        }));
        assert_eq!(number(&o, &["a"]), Some(3.0));
        assert_eq!(number(&o, &["b"]), Some(4.5));
        assert_eq!(number(&o, &["c"]), None);
        assert_eq!(number(&o, &["f", "a"]), Some(3.0));
        assert_eq!(flag(&o, &["d"]), Some(true));
        assert_eq!(flag(&o, &["e"]), Some(true));
        assert_eq!(flag(&o, &["g"]), Some(false));
        assert_eq!(text(&o, &["c"]), Some("x"));
        let t = Timestamp::from_millis(1_700_000_000_000);
        assert_eq!(time(&o, &["t1"]), Some(t));
        assert_eq!(time(&o, &["t2"]), Some(t));
        assert_eq!(
            time(&o, &["t3"]).map(Timestamp::as_millis),
            Some(1_767_225_600_000)
        );
    }
}
