//! Value types shared by the report schemas. Each carries its own rule, enforced while the JSON is
//! deserialised, so a bad value is rejected at its position (and the error names its path):
//!
//! - [`List`]: an array of at most `MAX` entries; `null` or absent is empty.
//! - [`Dict`]: a JSON object of at most `MAX` entries; `null` or absent is empty.
//! - [`Bytes`]: a byte count, non-negative and at most 10¹⁸.
//! - [`Percent`]: a percentage in 0..=100; up to 100.5 is accepted and clamped to 100 (rounding
//!   overshoot of agents that compute `used / total`), beyond that it is rejected.
//! - [`Gauge`]: a non-negative number of at most 10¹², for loads and per-core CPU percentages.
//! - [`time`]: optional RFC 3339 timestamps where `""` and Go's zero time mean "absent".

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Prefix of the error raised when a [`List`] exceeds its bound; the path of such an error names
/// the list, not the entry past the bound.
pub(super) const LIST_TOO_LONG: &str = "too many entries";
/// Prefix of the error raised when a [`Dict`] exceeds its bound; the path of such an error names
/// the object, not the member past the bound.
pub(super) const DICT_TOO_LONG: &str = "too many members";

/// Largest accepted byte count (10¹⁸ B = 1 EB): anything above is a corrupt counter.
pub const MAX_BYTES: u64 = 1_000_000_000_000_000_000;
/// Largest accepted [`Gauge`].
pub const MAX_GAUGE: f64 = 1e12;
/// Percentages up to this are clamped to 100 instead of rejected.
pub const PERCENT_TOLERANCE: f64 = 100.5;

/// A JSON array of at most `MAX` entries. `null` and an absent field are the empty list; more
/// than `MAX` entries is an error naming the field (entries past the bound are never stored).
#[derive(Debug, Clone, PartialEq)]
pub struct List<T, const MAX: usize>(Vec<T>);

impl<T, const MAX: usize> Default for List<T, MAX> {
    fn default() -> Self {
        List(Vec::new())
    }
}

impl<T, const MAX: usize> Deref for List<T, MAX> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<'a, T, const MAX: usize> IntoIterator for &'a List<T, MAX> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'de, T: Deserialize<'de>, const MAX: usize> Deserialize<'de> for List<T, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_option(Nullable(ListVisitor::<T, MAX>(PhantomData)))
    }
}

/// Reads the entries of a [`List`], failing on entry `MAX + 1`.
struct ListVisitor<T, const MAX: usize>(PhantomData<T>);

impl<'de, T: Deserialize<'de>, const MAX: usize> Visitor<'de> for ListVisitor<T, MAX> {
    type Value = List<T, MAX>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array of at most {MAX} entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX).min(64));
        while items.len() < MAX {
            match seq.next_element()? {
                Some(item) => items.push(item),
                None => return Ok(List(items)),
            }
        }
        match seq.next_element::<IgnoredAny>()? {
            Some(_) => Err(de::Error::custom(format_args!(
                "{LIST_TOO_LONG}: at most {MAX} allowed"
            ))),
            None => Ok(List(items)),
        }
    }
}

/// A JSON object with string keys (labels, sensor readings) of at most `MAX` entries; `null` or
/// absent is empty. Values must have type `V`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dict<V, const MAX: usize>(BTreeMap<String, V>);

impl<V, const MAX: usize> Default for Dict<V, MAX> {
    fn default() -> Self {
        Dict(BTreeMap::new())
    }
}

impl<V, const MAX: usize> Deref for Dict<V, MAX> {
    type Target = BTreeMap<String, V>;

    fn deref(&self) -> &BTreeMap<String, V> {
        &self.0
    }
}

impl<'de, V: Deserialize<'de>, const MAX: usize> Deserialize<'de> for Dict<V, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_option(Nullable(DictVisitor::<V, MAX>(PhantomData)))
    }
}

/// Reads the entries of a [`Dict`], failing on entry `MAX + 1`.
struct DictVisitor<V, const MAX: usize>(PhantomData<V>);

impl<'de, V: Deserialize<'de>, const MAX: usize> Visitor<'de> for DictVisitor<V, MAX> {
    type Value = Dict<V, MAX>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object of at most {MAX} entries")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.len() == MAX && !out.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "{DICT_TOO_LONG}: at most {MAX} allowed"
                )));
            }
            out.insert(key, map.next_value()?);
        }
        Ok(Dict(out))
    }
}

/// Adapts a collection visitor to `deserialize_option`, so that `null` is the empty collection.
struct Nullable<V>(V);

impl<'de, V> Visitor<'de> for Nullable<V>
where
    V: Visitor<'de>,
    V::Value: Default,
{
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(V::Value::default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(V::Value::default())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self.0)
    }
}

/// Deserialises a nested object where `null` means "all defaults" (Go agents send `null` for nil
/// pointers). Use as `#[serde(deserialize_with = "nullable")]`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// Defines a number newtype whose visitor accepts any JSON number and applies `$check`.
macro_rules! checked_number {
    ($(#[$meta:meta])* $name:ident($inner:ty), $expecting:literal, $check:path) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
        pub struct $name(pub $inner);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                /// Visitor applying the type's rule to any JSON number.
                struct NumberVisitor;

                impl Visitor<'_> for NumberVisitor {
                    type Value = $name;

                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }

                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$name, E> {
                        $check(Number::Unsigned(v)).map($name).map_err(E::custom)
                    }

                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$name, E> {
                        $check(Number::Signed(v)).map($name).map_err(E::custom)
                    }

                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$name, E> {
                        $check(Number::Float(v)).map($name).map_err(E::custom)
                    }
                }

                deserializer.deserialize_any(NumberVisitor)
            }
        }
    };
}

/// A JSON number as the deserialiser saw it.
#[derive(Debug, Clone, Copy)]
enum Number {
    /// A non-negative integer.
    Unsigned(u64),
    /// A negative integer.
    Signed(i64),
    /// A number with a fraction or exponent.
    Float(f64),
}

impl Number {
    /// The value as a float (exact for every accepted magnitude that matters here).
    fn as_f64(self) -> f64 {
        match self {
            Number::Unsigned(v) => v as f64,
            Number::Signed(v) => v as f64,
            Number::Float(v) => v,
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Unsigned(v) => write!(f, "{v}"),
            Number::Signed(v) => write!(f, "{v}"),
            Number::Float(v) => write!(f, "{v}"),
        }
    }
}

checked_number!(
    /// A byte count: a non-negative integer of at most [`MAX_BYTES`] (a float is truncated).
    Bytes(u64),
    "a byte count (a non-negative integer)",
    check_bytes
);

checked_number!(
    /// A percentage in 0..=100 (see the module docs for the tolerance).
    Percent(f64),
    "a percentage between 0 and 100",
    check_percent
);

checked_number!(
    /// A non-negative measurement of at most [`MAX_GAUGE`].
    Gauge(f64),
    "a non-negative number",
    check_gauge
);

/// Rule of [`Bytes`].
fn check_bytes(n: Number) -> Result<u64, String> {
    let value = match n {
        Number::Unsigned(v) => v,
        Number::Signed(v) => {
            u64::try_from(v).map_err(|_| format!("must not be negative, got {n}"))?
        }
        Number::Float(v) if v < 0.0 => return Err(format!("must not be negative, got {n}")),
        // In range (checked below), so the truncating conversion is exact enough for a count.
        Number::Float(v) if v <= MAX_BYTES as f64 => v as u64,
        Number::Float(_) => u64::MAX,
    };
    if value > MAX_BYTES {
        return Err(format!("implausibly large byte count {n} (limit 10^18)"));
    }
    Ok(value)
}

/// Rule of [`Percent`].
fn check_percent(n: Number) -> Result<f64, String> {
    let value = n.as_f64();
    if value < 0.0 {
        return Err(format!("must be between 0 and 100, got {n}"));
    }
    if value > PERCENT_TOLERANCE {
        return Err(format!("must be between 0 and 100, got {n}"));
    }
    Ok(value.min(100.0))
}

/// Rule of [`Gauge`].
fn check_gauge(n: Number) -> Result<f64, String> {
    let value = n.as_f64();
    if value < 0.0 {
        return Err(format!("must not be negative, got {n}"));
    }
    if value > MAX_GAUGE {
        return Err(format!("implausibly large value {n}"));
    }
    Ok(value)
}

/// Optional RFC 3339 timestamps.
pub mod time {
    use std::fmt;

    use pulse_model::Timestamp;
    use serde::de::{self, Deserializer, Visitor};

    /// Unix milliseconds of Go's zero `time.Time` (`0001-01-01T00:00:00Z`) and earlier: agents
    /// send it for "never".
    const GO_ZERO_TIME_MS: i64 = -62_135_596_800_000;

    /// Deserialises an optional RFC 3339 timestamp; `null`, `""` and Go's zero time are `None`.
    /// Use as `#[serde(deserialize_with = "time::optional")]`.
    pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        // Parsing inside the visitor (not after it returned) lets `serde_json` attach the
        // position of the string to the error, which names the field.
        d.deserialize_option(OptionalTime)
    }

    /// Visitor of an optional timestamp string.
    struct OptionalTime;

    impl<'de> Visitor<'de> for OptionalTime {
        type Value = Option<Timestamp>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an RFC 3339 date-time string")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(self)
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
            if text.trim().is_empty() {
                return Ok(None);
            }
            let at: Timestamp = text.parse().map_err(E::custom)?;
            Ok((at.as_millis() > GO_ZERO_TIME_MS).then_some(at))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Probe {
        list: List<u64, 3>,
        labels: Dict<String, 2>,
        bytes: Option<Bytes>,
        percent: Option<Percent>,
        gauge: Option<Gauge>,
        #[serde(deserialize_with = "time::optional")]
        at: Option<pulse_model::Timestamp>,
    }

    fn probe(json: &str) -> Result<Probe, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn lists_accept_null_and_absence_and_enforce_the_bound() {
        assert!(probe(r#"{}"#).expect("absent").list.is_empty());
        assert!(probe(r#"{"list":null}"#).expect("null").list.is_empty());
        assert_eq!(&*probe(r#"{"list":[1,2,3]}"#).expect("3").list, &[1, 2, 3]);
        let err = probe(r#"{"list":[1,2,3,4]}"#).expect_err("4");
        assert!(err.starts_with(LIST_TOO_LONG), "{err}");
        assert!(probe(r#"{"list":{"a":1}}"#).is_err());
        assert!(probe(r#"{"list":["x"]}"#).is_err());
    }

    #[test]
    fn labels_accept_null_and_enforce_the_bound() {
        assert!(probe(r#"{"labels":null}"#).expect("null").labels.is_empty());
        let two = probe(r#"{"labels":{"a":"1","b":"2"}}"#).expect("two");
        assert_eq!(two.labels.get("b").map(String::as_str), Some("2"));
        assert!(probe(r#"{"labels":{"a":"1","b":"2","c":"3"}}"#).is_err());
        assert!(probe(r#"{"labels":{"a":1}}"#).is_err());
    }

    #[test]
    fn byte_counts() {
        assert_eq!(probe(r#"{"bytes":0}"#).expect("0").bytes, Some(Bytes(0)));
        assert_eq!(
            probe(r#"{"bytes":1.5e3}"#).expect("float").bytes,
            Some(Bytes(1500))
        );
        assert_eq!(probe(r#"{"bytes":null}"#).expect("null").bytes, None);
        for bad in [
            "-1",
            "-0.5",
            "1e19",
            "18446744073709551615",
            "\"12\"",
            "true",
        ] {
            assert!(probe(&format!(r#"{{"bytes":{bad}}}"#)).is_err(), "{bad}");
        }
    }

    #[test]
    fn percentages_clamp_tiny_overshoot_only() {
        assert_eq!(
            probe(r#"{"percent":42}"#).expect("int").percent,
            Some(Percent(42.0))
        );
        assert_eq!(
            probe(r#"{"percent":100.4}"#).expect("over").percent,
            Some(Percent(100.0))
        );
        for bad in ["-0.1", "100.6", "1000", "\"50\""] {
            let err = probe(&format!(r#"{{"percent":{bad}}}"#)).expect_err(bad);
            assert!(
                err.contains("between 0 and 100") || err.contains("invalid type"),
                "{err}"
            );
        }
    }

    #[test]
    fn gauges() {
        assert_eq!(
            probe(r#"{"gauge":350.5}"#).expect("ok").gauge,
            Some(Gauge(350.5))
        );
        assert!(probe(r#"{"gauge":-1}"#).is_err());
        assert!(probe(r#"{"gauge":1e13}"#).is_err());
    }

    #[test]
    fn timestamps() {
        let at = probe(r#"{"at":"2026-11-22T10:00:00.123456789+01:00"}"#)
            .expect("ok")
            .at;
        assert_eq!(
            at.map(|t| t.to_string()).as_deref(),
            Some("2026-11-22T09:00:00.123Z")
        );
        for absent in [r#""""#, "null", r#""0001-01-01T00:00:00Z""#] {
            assert_eq!(
                probe(&format!(r#"{{"at":{absent}}}"#)).expect(absent).at,
                None
            );
        }
        assert!(probe(r#"{"at":"yesterday"}"#).is_err());
        assert!(probe(r#"{"at":5}"#).is_err());
    }
}
