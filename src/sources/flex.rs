//! Tolerant decoding of platform JSON (SPEC §7: "numbers that arrive as strings, missing optional
//! fields and unknown fields are accepted; one malformed item is skipped and counted").
//!
//! Neither Proxmox's Perl and Rust API servers nor TrueNAS's middleware are consistent about
//! types: byte counts sometimes come as strings, `loadavg` as an array of strings, booleans as
//! `0`/`1`, a `vmid` as a string, a disk's `wearout` as `"N/A"`. The `deserialize_with` helpers
//! here accept every such form and yield `None` for values that carry no number (`""`, `"N/A"`,
//! `null`), so a quirk never fails a poll. [`decode_items`] decodes a list item by item and
//! counts the ones it had to skip; [`Listing`] does the same as a field or a whole document.

use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

/// A JSON scalar as Proxmox may send a number: number, numeric string, or nothing useful.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Scalar {
    /// An unsigned integer.
    Unsigned(u64),
    /// A negative integer.
    Signed(i64),
    /// A float (also integers written with a fraction or exponent).
    Float(f64),
    /// `null`, an empty or non-numeric string, or a structure: no number.
    Nothing,
}

impl Scalar {
    /// Reads a number out of a string (trimmed; integers stay exact).
    fn parse(s: &str) -> Scalar {
        let s = s.trim();
        if let Ok(u) = s.parse::<u64>() {
            Scalar::Unsigned(u)
        } else if let Ok(i) = s.parse::<i64>() {
            Scalar::Signed(i)
        } else {
            match s.parse::<f64>() {
                Ok(f) if f.is_finite() => Scalar::Float(f),
                _ => Scalar::Nothing,
            }
        }
    }

    /// As a float, when finite.
    fn as_f64(self) -> Option<f64> {
        match self {
            Scalar::Unsigned(u) => Some(u as f64),
            Scalar::Signed(i) => Some(i as f64),
            Scalar::Float(f) if f.is_finite() => Some(f),
            _ => None,
        }
    }

    /// As a non-negative integer (floats truncated; negatives give nothing).
    fn as_u64(self) -> Option<u64> {
        match self {
            Scalar::Unsigned(u) => Some(u),
            Scalar::Signed(_) | Scalar::Nothing => None,
            Scalar::Float(f) if f.is_finite() && f >= 0.0 && f < u64::MAX as f64 => Some(f as u64),
            Scalar::Float(_) => None,
        }
    }

    /// As a signed integer (floats truncated).
    fn as_i64(self) -> Option<i64> {
        match self {
            Scalar::Unsigned(u) => i64::try_from(u).ok(),
            Scalar::Signed(i) => Some(i),
            Scalar::Float(f) if f.is_finite() && f.abs() < i64::MAX as f64 => Some(f as i64),
            _ => None,
        }
    }
}

/// Visits any JSON value and keeps what looks like a number.
struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or a numeric string")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Unsigned(u64::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Unsigned(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(u64::try_from(v).map_or(Scalar::Signed(v), Scalar::Unsigned))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::parse(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Nothing)
    }
    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Nothing)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(Scalar::Nothing)
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Scalar::Nothing)
    }
}

/// Reads a [`Scalar`] from any JSON value.
fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
    d.deserialize_any(ScalarVisitor)
}

/// `Option<f64>` from a number, a numeric string, or anything else as `None`.
pub fn f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    scalar(d).map(Scalar::as_f64)
}

/// `Option<u64>` from a number (fraction truncated), a numeric string, or anything else as `None`.
pub fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    scalar(d).map(Scalar::as_u64)
}

/// `Option<i64>` like [`u64()`], allowing negatives.
pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    scalar(d).map(Scalar::as_i64)
}

/// A required non-negative integer (a `vmid`): number or numeric string; anything else is an
/// error, which makes the whole item malformed.
pub fn required_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    scalar(d)?
        .as_u64()
        .ok_or_else(|| de::Error::custom("expected a non-negative integer"))
}

/// A required integer (a timestamp): number or numeric string; anything else makes the item
/// malformed.
pub fn required_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    scalar(d)?
        .as_i64()
        .ok_or_else(|| de::Error::custom("expected an integer"))
}

/// `bool` from `true`/`false`, `0`/`1`, `"0"`/`"1"`, `"true"`/`"false"`/`"yes"`/`"no"`;
/// anything else (or absent, with `#[serde(default)]`) is `false`.
pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct BoolVisitor;
    impl<'de> Visitor<'de> for BoolVisitor {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a boolean, 0/1 or a boolean string")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
            Ok(v != 0)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
            Ok(v != 0)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
            Ok(v != 0.0)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
            Ok(matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "1" | "true" | "yes" | "on"
            ))
        }
        fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_none<E: de::Error>(self) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
            d.deserialize_any(BoolVisitor)
        }
    }
    d.deserialize_any(BoolVisitor)
}

/// `Option<String>` from a string or a number (ids and versions sometimes arrive as numbers);
/// `null` and structures are `None`.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

/// Load averages from an array of numbers or numeric strings, or from one string like
/// `"0.15 0.20 0.18"`; unreadable entries are dropped.
pub fn loadavg<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .iter()
            .filter_map(|v| match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => Scalar::parse(s).as_f64(),
                _ => None,
            })
            .collect(),
        Value::String(s) => s
            .split([' ', ','])
            .filter_map(|p| Scalar::parse(p).as_f64())
            .collect(),
        _ => Vec::new(),
    })
}

/// Items of a list that decoded, and how many had to be skipped as malformed.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing<T> {
    /// The items that decoded, in the order received.
    pub items: Vec<T>,
    /// How many items were malformed and left out.
    pub skipped: usize,
}

impl<T> Default for Listing<T> {
    fn default() -> Self {
        Listing {
            items: Vec::new(),
            skipped: 0,
        }
    }
}

/// A list decoded in place, element by element: `null` is an empty list, an element that does not
/// decode as `T` is skipped and counted. Only one element is held as a [`Value`] at a time, so a
/// large list costs its items, not a document tree.
impl<'de, T: DeserializeOwned> Deserialize<'de> for Listing<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// Folds the elements of a sequence into a [`Listing`].
        struct ListingVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: DeserializeOwned> Visitor<'de> for ListingVisitor<T> {
            type Value = Listing<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Listing<T>, E> {
                Ok(Listing::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Listing<T>, E> {
                Ok(Listing::default())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Listing<T>, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Listing<T>, A::Error> {
                let mut listing = Listing {
                    items: Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096)),
                    skipped: 0,
                };
                while let Some(element) = seq.next_element::<Value>()? {
                    match T::deserialize(element) {
                        Ok(item) => listing.items.push(item),
                        Err(_) => listing.skipped += 1,
                    }
                }
                Ok(listing)
            }
        }
        d.deserialize_any(ListingVisitor(std::marker::PhantomData))
    }
}

/// Decodes each element of a JSON array on its own: one malformed element is skipped and
/// counted, never the whole list. A non-array value is an error message.
pub fn decode_items<T: DeserializeOwned>(value: &Value) -> Result<Listing<T>, String> {
    let Value::Array(elements) = value else {
        return Err(format!("expected a list, got {}", kind_of(value)));
    };
    let mut listing = Listing {
        items: Vec::with_capacity(elements.len()),
        skipped: 0,
    };
    for element in elements {
        match T::deserialize(element) {
            Ok(item) => listing.items.push(item),
            Err(_) => listing.skipped += 1,
        }
    }
    Ok(listing)
}

/// A short name for the JSON kind of `value`, for messages.
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Sample {
        #[serde(deserialize_with = "required_u64")]
        vmid: u64,
        #[serde(default, deserialize_with = "u64")]
        mem: Option<u64>,
        #[serde(default, deserialize_with = "f64")]
        cpu: Option<f64>,
        #[serde(default, deserialize_with = "i64")]
        delta: Option<i64>,
        #[serde(default, deserialize_with = "bool")]
        template: bool,
        #[serde(default, deserialize_with = "loadavg")]
        loadavg: Vec<f64>,
        #[serde(default, deserialize_with = "string")]
        name: Option<String>,
    }

    #[test]
    fn accepts_the_quirks() {
        let s: Sample = serde_json::from_value(json!({
            "vmid": "101", "mem": "2048", "cpu": "0.5", "delta": "-3", "template": "1",
            "loadavg": ["0.15", 0.2, "x"], "name": 42, "unknown": {"x": 1}
        }))
        .expect("decode");
        assert_eq!(
            s,
            Sample {
                vmid: 101,
                mem: Some(2048),
                cpu: Some(0.5),
                delta: Some(-3),
                template: true,
                loadavg: vec![0.15, 0.2],
                name: Some("42".into()),
            }
        );
        let s: Sample = serde_json::from_value(json!({
            "vmid": 7.0, "mem": "N/A", "cpu": null, "template": 0, "loadavg": "1.0 2.0 3.0"
        }))
        .expect("decode");
        assert_eq!(s.vmid, 7);
        assert_eq!((s.mem, s.cpu, s.template), (None, None, false));
        assert_eq!(s.loadavg, vec![1.0, 2.0, 3.0]);
        assert_eq!(s.name, None);
        let exact: Sample =
            serde_json::from_value(json!({"vmid": 1, "mem": u64::MAX})).expect("decode");
        assert_eq!(exact.mem, Some(u64::MAX));
    }

    #[test]
    fn malformed_items_are_skipped_and_counted() {
        let list = json!([{"vmid": 100}, {"vmid": {"bad": 1}}, "garbage", {"vmid": "102"}]);
        let listing = decode_items::<Sample>(&list).expect("list");
        assert_eq!(listing.items.len(), 2);
        assert_eq!(listing.skipped, 2);
        assert!(decode_items::<Sample>(&json!({"vmid": 1})).is_err());
        let listing: Listing<Sample> = serde_json::from_str(
            r#"[{"vmid": 100}, {"vmid": {"bad": 1}}, "garbage", {"vmid": "102"}]"#,
        )
        .expect("listing");
        assert_eq!((listing.items.len(), listing.skipped), (2, 2));
        let empty: Listing<Sample> = serde_json::from_str("null").expect("null");
        assert_eq!((empty.items.len(), empty.skipped), (0, 0));
        assert!(serde_json::from_str::<Listing<Sample>>(r#"{"vmid": 1}"#).is_err());
    }
}
