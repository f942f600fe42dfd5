//! Timestamps: unix milliseconds on the inside, RFC 3339 UTC strings on the wire.
//!
//! The model never reads a clock; every "now" is a [`Timestamp`] passed in by the caller.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ModelError;

/// Milliseconds in one day.
const DAY_MS: i64 = 86_400_000;
/// `0000-01-01T00:00:00.000Z`, the earliest instant with a four-digit year.
const MIN_MS: i64 = -62_167_219_200_000;
/// `9999-12-31T23:59:59.999Z`, the latest instant with a four-digit year.
const MAX_MS: i64 = 253_402_300_799_999;
/// Length of the wire form, e.g. `2026-11-22T10:00:00.123Z`.
const WIRE_LEN: usize = 24;

/// A point in time as unix milliseconds (UTC).
///
/// Serialised as an RFC 3339 UTC string with millisecond precision (`2026-11-22T10:00:00.123Z`), the
/// format of upstream Pulse's `lastSeen`/`updatedAt`. Values are clamped to years 0000–9999, the
/// range RFC 3339 can write; parsing accepts any offset and fractional precision (truncated to
/// milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The Unix epoch, `1970-01-01T00:00:00.000Z`.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// The earliest representable instant, `0000-01-01T00:00:00.000Z`.
    pub const MIN: Timestamp = Timestamp(MIN_MS);
    /// The latest representable instant, `9999-12-31T23:59:59.999Z`.
    pub const MAX: Timestamp = Timestamp(MAX_MS);

    /// Wraps unix milliseconds, clamped to years 0000–9999 so that every timestamp has an
    /// RFC 3339 form and serialising one never fails.
    pub const fn from_millis(ms: i64) -> Self {
        if ms < MIN_MS {
            Timestamp(MIN_MS)
        } else if ms > MAX_MS {
            Timestamp(MAX_MS)
        } else {
            Timestamp(ms)
        }
    }

    /// The unix milliseconds of this instant.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// How many milliseconds `self` lies after `earlier`; zero when it does not (clock skew
    /// between a source and the server never yields a negative age).
    pub fn millis_since(self, earlier: Timestamp) -> u64 {
        u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0)
    }

    /// This instant moved forward by `ms` milliseconds (clamped like [`Timestamp::from_millis`]).
    pub fn plus_millis(self, ms: u64) -> Timestamp {
        Timestamp::from_millis(self.0.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX)))
    }

    /// Writes the RFC 3339 form into a fixed buffer.
    fn to_wire(self) -> [u8; WIRE_LEN] {
        let days = self.0.div_euclid(DAY_MS);
        let in_day = self.0.rem_euclid(DAY_MS);
        let (year, month, day) = civil_from_days(days);
        let (hour, minute) = (in_day / 3_600_000, in_day / 60_000 % 60);
        let (second, milli) = (in_day / 1000 % 60, in_day % 1000);
        let mut out = *b"0000-00-00T00:00:00.000Z";
        put_digits(&mut out[0..4], year);
        put_digits(&mut out[5..7], i64::from(month));
        put_digits(&mut out[8..10], i64::from(day));
        put_digits(&mut out[11..13], hour);
        put_digits(&mut out[14..16], minute);
        put_digits(&mut out[17..19], second);
        put_digits(&mut out[20..23], milli);
        out
    }
}

/// Writes `value` as zero-padded ASCII decimal filling `slot` exactly.
fn put_digits(slot: &mut [u8], mut value: i64) {
    for byte in slot.iter_mut().rev() {
        // `value % 10` is in 0..=9 for the non-negative values written here.
        *byte = b'0' + u8::try_from(value % 10).unwrap_or(0);
        value /= 10;
    }
}

/// Days since 1970-01-01 → proleptic Gregorian (year, month, day) (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

/// Proleptic Gregorian (year, month, day) → days since 1970-01-01.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Number of days in `month` of `year`.
fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A cursor over the ASCII bytes of a timestamp being parsed.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    /// Reads exactly `n` decimal digits.
    fn digits(&mut self, n: usize) -> Option<i64> {
        let slice = self.bytes.get(self.pos..self.pos + n)?;
        let mut value = 0i64;
        for &b in slice {
            if !b.is_ascii_digit() {
                return None;
            }
            value = value * 10 + i64::from(b - b'0');
        }
        self.pos += n;
        Some(value)
    }

    /// Consumes one byte if it is one of `allowed`.
    fn eat(&mut self, allowed: &[u8]) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        if allowed.contains(&b) {
            self.pos += 1;
            Some(b)
        } else {
            None
        }
    }

    /// The next byte without consuming it.
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }
}

/// Parses an RFC 3339 date-time into unix milliseconds; the error says what is wrong.
fn parse_rfc3339(text: &str) -> Result<i64, &'static str> {
    let mut c = Cursor {
        bytes: text.as_bytes(),
        pos: 0,
    };
    let shape = "expected YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)";
    let year = c.digits(4).ok_or(shape)?;
    c.eat(b"-").ok_or(shape)?;
    let month = c.digits(2).ok_or(shape)?;
    c.eat(b"-").ok_or(shape)?;
    let day = c.digits(2).ok_or(shape)?;
    c.eat(b"Tt ").ok_or(shape)?;
    let hour = c.digits(2).ok_or(shape)?;
    c.eat(b":").ok_or(shape)?;
    let minute = c.digits(2).ok_or(shape)?;
    c.eat(b":").ok_or(shape)?;
    let second = c.digits(2).ok_or(shape)?;
    let mut milli = 0i64;
    if c.eat(b".").is_some() {
        let mut scale = 100;
        let start = c.pos;
        while let Some(d) = c.digits(1) {
            milli += d * scale;
            scale /= 10;
        }
        if c.pos == start {
            return Err("empty fractional seconds");
        }
    }
    let offset_minutes = match c.peek() {
        Some(b'Z' | b'z') => {
            c.pos += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            c.pos += 1;
            let oh = c.digits(2).ok_or(shape)?;
            c.eat(b":").ok_or(shape)?;
            let om = c.digits(2).ok_or(shape)?;
            if oh > 23 || om > 59 {
                return Err("offset out of range");
            }
            let total = oh * 60 + om;
            if sign == b'-' {
                -total
            } else {
                total
            }
        }
        _ => return Err("missing time zone offset"),
    };
    if c.pos != c.bytes.len() {
        return Err("trailing characters");
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err("date out of range");
    }
    // Second 60 is RFC 3339's leap second; it is folded into the next minute.
    if hour > 23 || minute > 59 || second > 60 {
        return Err("time out of range");
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Ok(seconds * 1000 + milli)
}

impl FromStr for Timestamp {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_rfc3339(s)
            .map(Timestamp::from_millis)
            .map_err(|reason| ModelError::InvalidTimestamp {
                value: s.to_owned(),
                reason,
            })
    }
}

impl fmt::Display for Timestamp {
    /// The RFC 3339 wire form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let buf = self.to_wire();
        f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let buf = self.to_wire();
        let text = std::str::from_utf8(&buf).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(text)
    }
}

/// Visitor reading an RFC 3339 string.
struct TimestampVisitor;

impl Visitor<'_> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 date-time string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
        v.parse().map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TimestampVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("valid timestamp")
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(Timestamp::EPOCH.to_string(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Timestamp::from_millis(1_795_860_000_123).to_string(),
            "2026-11-28T10:00:00.123Z"
        );
        assert_eq!(
            Timestamp::from_millis(-1).to_string(),
            "1969-12-31T23:59:59.999Z"
        );
        assert_eq!(
            Timestamp::from_millis(MIN_MS).to_string(),
            "0000-01-01T00:00:00.000Z"
        );
        assert_eq!(
            Timestamp::from_millis(MAX_MS).to_string(),
            "9999-12-31T23:59:59.999Z"
        );
        assert_eq!(
            Timestamp::from_millis(951_782_400_000).to_string(),
            "2000-02-29T00:00:00.000Z"
        );
    }

    #[test]
    fn serde_uses_rfc3339_strings() {
        let t = Timestamp::from_millis(1_795_860_000_123);
        let json = serde_json::to_string(&t).expect("serialise");
        assert_eq!(json, "\"2026-11-28T10:00:00.123Z\"");
        let back: Timestamp = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, t);
    }

    #[test]
    fn out_of_range_clamps() {
        assert_eq!(Timestamp::from_millis(i64::MAX), Timestamp::MAX);
        assert_eq!(Timestamp::from_millis(i64::MIN), Timestamp::MIN);
        assert_eq!(ts("0000-01-01T00:00:00+01:00"), Timestamp::MIN);
        assert_eq!(
            serde_json::to_string(&Timestamp::from_millis(MAX_MS + 1)).expect("serialise"),
            "\"9999-12-31T23:59:59.999Z\""
        );
    }

    #[test]
    fn parses_offsets_and_fractions() {
        assert_eq!(ts("1970-01-01T00:00:00Z"), Timestamp::EPOCH);
        assert_eq!(ts("1970-01-01T01:00:00+01:00"), Timestamp::EPOCH);
        assert_eq!(ts("1969-12-31T23:30:00-00:30"), Timestamp::EPOCH);
        assert_eq!(ts("1970-01-01t00:00:00.5z").as_millis(), 500);
        assert_eq!(ts("1970-01-01 00:00:00.123456789Z").as_millis(), 123);
        assert_eq!(ts("1970-01-01T00:00:00.04Z").as_millis(), 40);
        assert_eq!(ts("1998-12-31T23:59:60Z"), ts("1999-01-01T00:00:00Z"));
    }

    #[test]
    fn rejects_malformed_input() {
        for bad in [
            "",
            "1970-01-01",
            "1970-01-01T00:00:00",
            "1970-01-01T00:00:00.Z",
            "1970-13-01T00:00:00Z",
            "1970-02-30T00:00:00Z",
            "2100-02-29T00:00:00Z",
            "1970-01-01T24:00:00Z",
            "1970-01-01T00:00:00+24:00",
            "1970-01-01T00:00:00Zx",
            "70-01-01T00:00:00Z",
        ] {
            let err = bad.parse::<Timestamp>();
            assert!(
                matches!(err, Err(ModelError::InvalidTimestamp { .. })),
                "{bad:?} should be rejected"
            );
        }
        assert!(serde_json::from_str::<Timestamp>("12345").is_err());
    }

    #[test]
    fn age_never_negative() {
        let t = Timestamp::from_millis(1000);
        assert_eq!(t.millis_since(Timestamp::from_millis(400)), 600);
        assert_eq!(Timestamp::from_millis(400).millis_since(t), 0);
        assert_eq!(t.plus_millis(5).as_millis(), 1005);
        assert_eq!(Timestamp::MAX.plus_millis(u64::MAX), Timestamp::MAX);
    }

    proptest! {
        #[test]
        fn roundtrips_and_matches_the_time_crate(ms in MIN_MS..=MAX_MS) {
            let t = Timestamp::from_millis(ms);
            let text = t.to_string();
            prop_assert_eq!(text.parse::<Timestamp>(), Ok(t));
            let nanos = i128::from(ms) * 1_000_000;
            let reference = time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
                .expect("in range");
            let expected = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                reference.year(),
                u8::from(reference.month()),
                reference.day(),
                reference.hour(),
                reference.minute(),
                reference.second(),
                reference.millisecond()
            );
            prop_assert_eq!(text, expected);
        }
    }
}
