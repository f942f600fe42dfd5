//! Value column coding: Gorilla XOR with leading/trailing-zero windows, plus a decimal mode.
//!
//! The first value of a column picks its mode (one bit):
//!
//! * **XOR** (`0`): each value is XORed with the previous one. `0` = identical; `10` + bits = the XOR
//!   fits in the previous meaningful-bit window; `11` + 5-bit leading-zero count + 6-bit length − 1 +
//!   bits = new window. Exact for every bit pattern (NaN payloads, ±Inf, −0.0).
//! * **Decimal** (`1` + 4-bit exponent `e`): values that are exactly `n / 10^e` for an integer
//!   `|n| ≤ 2^53` (what collectors produce when they round to a few decimals, and every integral
//!   counter or byte gauge) are coded as the integer `n`, delta to the previous integer, in unary-
//!   prefixed buckets: `0` same, `10`+5, `110`+8, `1110`+13, `11110`+20, `111110`+26, `1111110`+32,
//!   `11111110`+64 bits. Two escapes keep it lossless: `111111110` + 4-bit exponent + 64-bit integer
//!   switches to a new exponent, and `111111111` + 64 raw bits stores a value that has no decimal
//!   form (NaN, −0.0, 1/3) without changing the integer state. A value qualifies only if decoding
//!   reproduces its exact bits.
//!
//! Decimal mode is what makes 1-decimal percentages cost ~1 byte instead of ~6 (their XORs have
//! ~50 meaningful bits because 0.1 is not a binary fraction).

use super::bits::{BitReader, BitWriter};
use super::timestamps::{fits_signed, sign_extend};
use crate::error::{Result, TsdbError};

/// Largest decimal exponent (4 bits).
const MAX_EXP: u8 = 15;
/// Largest integer magnitude accepted in decimal mode (exact in an f64).
const MAX_DECIMAL: f64 = 9_007_199_254_740_992.0;
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];
/// Payload widths of the decimal delta buckets, indexed by unary prefix length.
const DELTA_BITS: [u32; 8] = [0, 5, 8, 13, 20, 26, 32, 64];
/// Unary prefix length of the rescale escape.
const RESCALE: u32 = 8;
/// Unary prefix length of the raw escape (no terminator).
const RAW: u32 = 9;

/// The value decimal mode decodes for integer `n` at exponent `e`.
#[inline]
fn from_decimal(n: i64, e: u8) -> f64 {
    if e == 0 {
        n as f64
    } else {
        n as f64 / POW10[usize::from(e & MAX_EXP)]
    }
}

/// `Some(n)` if `v` decodes bit-identically from integer `n` at exponent `e`.
#[inline]
fn to_decimal(v: f64, e: u8) -> Option<i64> {
    let n = (v * POW10[usize::from(e & MAX_EXP)]).round();
    if n.is_nan() || n.abs() > MAX_DECIMAL {
        return None;
    }
    let n = n as i64;
    (from_decimal(n, e).to_bits() == v.to_bits()).then_some(n)
}

/// Smallest exponent (other than `skip`) at which `v` has an exact decimal form.
fn find_exponent(v: f64, skip: Option<u8>) -> Option<(u8, i64)> {
    (0..=MAX_EXP)
        .filter(|&e| Some(e) != skip)
        .find_map(|e| to_decimal(v, e).map(|n| (e, n)))
}

#[derive(Debug, Clone, Copy)]
enum EncMode {
    Unset,
    Xor {
        prev: u64,
        window: Option<(u32, u32)>,
    },
    Decimal {
        exp: u8,
        prev: i64,
    },
}

/// Streaming encoder for one value column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ValueEncoder {
    mode: EncMode,
}

impl Default for ValueEncoder {
    fn default() -> Self {
        ValueEncoder {
            mode: EncMode::Unset,
        }
    }
}

impl ValueEncoder {
    /// Codes the next value.
    #[inline]
    pub(crate) fn push(&mut self, w: &mut BitWriter, v: f64) {
        match self.mode {
            EncMode::Unset => match find_exponent(v, None) {
                Some((exp, n)) => {
                    w.write_bits(0b1_0000 | u64::from(exp), 5);
                    write_delta(w, n);
                    self.mode = EncMode::Decimal { exp, prev: n };
                }
                None => {
                    w.write_bit(false);
                    let mut window = None;
                    write_xor(w, v.to_bits(), &mut window);
                    self.mode = EncMode::Xor {
                        prev: v.to_bits(),
                        window,
                    };
                }
            },
            EncMode::Xor {
                ref mut prev,
                ref mut window,
            } => {
                write_xor(w, v.to_bits() ^ *prev, window);
                *prev = v.to_bits();
            }
            EncMode::Decimal {
                ref mut exp,
                ref mut prev,
            } => {
                if let Some(n) = to_decimal(v, *exp) {
                    write_delta(w, n.wrapping_sub(*prev));
                    *prev = n;
                } else if let Some((e, n)) = find_exponent(v, Some(*exp)) {
                    w.write_bits(((1u64 << RESCALE) - 1) << 1, RESCALE + 1);
                    w.write_bits(u64::from(e), 4);
                    w.write_bits(n as u64, 64);
                    *exp = e;
                    *prev = n;
                } else {
                    w.write_bits((1u64 << RAW) - 1, RAW);
                    w.write_bits(v.to_bits(), 64);
                }
            }
        }
    }
}

#[inline]
fn write_delta(w: &mut BitWriter, delta: i64) {
    if delta == 0 {
        w.write_bit(false);
        return;
    }
    for (ones, &bits) in DELTA_BITS.iter().enumerate().skip(1) {
        let ones = ones as u32;
        if bits == 64 {
            w.write_bits(((1u64 << ones) - 1) << 1, ones + 1);
            w.write_bits(delta as u64, 64);
            return;
        }
        if fits_signed(delta, bits) {
            let prefix = ((1u64 << ones) - 1) << 1;
            w.write_bits(
                (prefix << bits) | (delta as u64 & ((1u64 << bits) - 1)),
                ones + 1 + bits,
            );
            return;
        }
    }
}

#[inline]
fn write_xor(w: &mut BitWriter, xor: u64, window: &mut Option<(u32, u32)>) {
    if xor == 0 {
        w.write_bit(false);
        return;
    }
    let lead = xor.leading_zeros().min(31);
    let trail = xor.trailing_zeros();
    match *window {
        Some((wl, wt)) if lead >= wl && trail >= wt => {
            w.write_bits(0b10, 2);
            w.write_bits(xor >> wt, 64 - wl - wt);
        }
        _ => {
            let meaningful = 64 - lead - trail;
            w.write_bits(
                (0b11 << 11) | (u64::from(lead) << 6) | u64::from(meaningful - 1),
                13,
            );
            w.write_bits(xor >> trail, meaningful);
            *window = Some((lead, trail));
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum DecMode {
    Unset,
    Xor {
        prev: u64,
        window: Option<(u32, u32)>,
    },
    Decimal {
        exp: u8,
        prev: i64,
    },
}

/// Streaming decoder for one value column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ValueDecoder {
    mode: DecMode,
}

impl Default for ValueDecoder {
    fn default() -> Self {
        ValueDecoder {
            mode: DecMode::Unset,
        }
    }
}

impl ValueDecoder {
    /// Decodes the next value.
    #[inline]
    pub(crate) fn next(&mut self, r: &mut BitReader<'_>) -> Result<f64> {
        if let DecMode::Unset = self.mode {
            self.mode = if r.read_bit()? {
                DecMode::Decimal {
                    exp: r.read_bits(4)? as u8,
                    prev: 0,
                }
            } else {
                DecMode::Xor {
                    prev: 0,
                    window: None,
                }
            };
        }
        match self.mode {
            DecMode::Xor {
                ref mut prev,
                ref mut window,
            } => {
                *prev ^= read_xor(r, window)?;
                Ok(f64::from_bits(*prev))
            }
            DecMode::Decimal {
                ref mut exp,
                ref mut prev,
            } => {
                let ones = r.read_unary(RAW)?;
                if ones == RAW {
                    return Ok(f64::from_bits(r.read_bits(64)?));
                }
                if ones == RESCALE {
                    *exp = r.read_bits(4)? as u8;
                    *prev = r.read_bits(64)? as i64;
                } else {
                    let bits = DELTA_BITS[ones as usize];
                    if bits != 0 {
                        let raw = r.read_bits(bits)?;
                        let delta = if bits == 64 {
                            raw as i64
                        } else {
                            sign_extend(raw, bits)
                        };
                        *prev = prev.wrapping_add(delta);
                    }
                }
                Ok(from_decimal(*prev, *exp))
            }
            DecMode::Unset => Err(TsdbError::Corrupt("value column without mode")),
        }
    }
}

#[inline]
fn read_xor(r: &mut BitReader<'_>, window: &mut Option<(u32, u32)>) -> Result<u64> {
    if !r.read_bit()? {
        return Ok(0);
    }
    if !r.read_bit()? {
        let (wl, wt) = window.ok_or(TsdbError::Corrupt("xor window reused before set"))?;
        return Ok(r.read_bits(64 - wl - wt)? << wt);
    }
    let head = r.read_bits(11)?;
    let lead = (head >> 6) as u32;
    let meaningful = (head & 0x3F) as u32 + 1;
    if lead + meaningful > 64 {
        return Err(TsdbError::Corrupt("xor window exceeds 64 bits"));
    }
    let trail = 64 - lead - meaningful;
    *window = Some((lead, trail));
    Ok(r.read_bits(meaningful)? << trail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(values: &[f64]) -> usize {
        let mut w = BitWriter::default();
        let mut enc = ValueEncoder::default();
        for &v in values {
            enc.push(&mut w, v);
        }
        let mut bytes = Vec::new();
        w.append_to(&mut bytes);
        let mut r = BitReader::new(&bytes);
        let mut dec = ValueDecoder::default();
        for &v in values {
            assert_eq!(
                dec.next(&mut r).unwrap().to_bits(),
                v.to_bits(),
                "value {v}"
            );
        }
        assert!(r.finish().is_ok());
        bytes.len()
    }

    #[test]
    fn decimal_detection_is_exact() {
        assert_eq!(to_decimal(23.4, 1), Some(234));
        assert_eq!(to_decimal(23.4, 0), None);
        assert_eq!(to_decimal(-0.0, 0), None);
        assert_eq!(to_decimal(f64::NAN, 3), None);
        assert_eq!(to_decimal(1e300, 0), None);
        assert_eq!(find_exponent(0.125, None), Some((3, 125)));
        assert_eq!(find_exponent(1.0 / 3.0, None), None);
    }

    #[test]
    fn special_values_round_trip_in_both_modes() {
        let specials = [
            f64::NAN,
            f64::from_bits(0x7FF0_0000_0000_0001),
            f64::from_bits(0xFFF8_DEAD_BEEF_0001),
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
            5e-324,
        ];
        round_trip(&specials);
        let mut decimal_first = vec![1.5, 1.5, 2.25];
        decimal_first.extend_from_slice(&specials);
        decimal_first.extend_from_slice(&[1e15, -1e15, 0.1, 9_007_199_254_740_993.0, 7.0]);
        round_trip(&decimal_first);
    }

    #[test]
    fn one_decimal_walk_is_compact() {
        let values: Vec<f64> = (0..120)
            .map(|i| ((20.0 + ((i * 7919) % 37) as f64 * 0.3) * 10.0).round() / 10.0)
            .collect();
        let bytes = round_trip(&values);
        assert!(bytes < 120 * 2, "{bytes} bytes for 120 one-decimal values");
    }
}
