//! Value column coding: Gorilla XOR with leading/trailing-zero windows, plus a decimal mode.
//!
//! The first value of a column picks its mode (one bit):
//!
//! * **XOR** (`0`): each value is XORed with the previous one. `0` = identical; `10` + bits = the XOR
//!   fits in the previous meaningful-bit window; `11` + 5-bit leading-zero count + 6-bit length − 1 +
//!   bits = new window. Exact for every bit pattern (NaN payloads, ±Inf, −0.0).
//! * **Decimal** (`1` + 5-bit scale `s`, stored as `s + 16`, −16..=15): values that are exactly
//!   `n / 10^s` (or `n × 10^−s` for a negative scale) for an integer `|n| ≤ 2^53` (what
//!   collectors produce when they round to a few decimals or significant digits, and every
//!   integral counter or byte gauge) are coded as the integer `n`, as a delta to the previous
//!   integer: `0` = same integer; `1` + an adaptive Exp-Golomb code of `z = zigzag(delta) − 1`:
//!   with `m = (z >> k) + 1` of bit length `L`, `L − 1` ones and a zero, the `L − 1` low bits of
//!   `m`, then the `k` low bits of `z`. `k` follows the running average bit length of recent
//!   non-zero deltas (see `Rice`), so a noisy 2-decimal percentage costs ~10 bits and a jump of a
//!   byte gauge ~k + 3, while a delta far above the recent ones costs only twice its extra bits
//!   (no unary blow-up). The first integer of a chunk is coded against 0 and does not adapt `k`.
//!   A prefix of 48 ones is an escape followed by a 2-bit kind: `00` + 64-bit `z` (a delta beyond
//!   2^46·2^k), `01` + 5-bit scale + 64-bit integer (switch to a new scale from scratch), `10` +
//!   64 raw bits (a value with no decimal form — NaN, −0.0, 1/3 — which leaves the integer state
//!   unchanged), `11` + 5-bit shift `d` (stored as `d + 16`, not 0): the scale becomes `s + d` and
//!   the previous integer is multiplied by 10^d (or divided by 10^−d, which must be exact), then
//!   a normal entry (never another shift) follows in the new scale.
//!   A value qualifies only if decoding reproduces its exact bits.
//!
//! The encoder starts a chunk at the coarsest scale its first value allows (9,123,000 → 9,123 ×
//! 10^3), shifts finer when a value needs it (9,124,500 → 91,245 × 10^2, one ~56-bit escape
//! instead of a 118-bit restart), and shifts coarser again after 32 non-zero deltas whose integers
//! all kept trailing zeros. Rates kept to 4 significant digits so cost ~10-bit deltas of their
//! significand instead of ~20-bit deltas of the integer.
//!
//! Codec format 2 (still decoded, [`ValueDecoder::new`]) differs only in decimal mode: 4-bit
//! scales 0..=15 in the header and the rescale escape, and no shift escape (kind `11` is invalid).
//!
//! Decimal mode is what makes 1-decimal percentages cost ~1 byte instead of ~6 (their XORs have
//! ~50 meaningful bits because 0.1 is not a binary fraction).

use super::bits::{BitReader, BitWriter};
use crate::error::{Result, TsdbError};

/// Largest decimal scale (value = n / 10^15).
const MAX_SCALE: i8 = 15;
/// Smallest decimal scale of codec format 3 (value = n × 10^16); format 2 has no negative scales.
const MIN_SCALE: i8 = -16;
/// Largest integer magnitude accepted in decimal mode (exact in an f64).
const MAX_DECIMAL: f64 = 9_007_199_254_740_992.0;
const MAX_DECIMAL_INT: i64 = 1 << 53;
const POW10: [f64; 17] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
];
const POW10_INT: [i64; 16] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    100_000_000_000,
    1_000_000_000_000,
    10_000_000_000_000,
    100_000_000_000_000,
    1_000_000_000_000_000,
];
/// Codec format whose value columns have negative scales and the shift escape.
pub(crate) const FORMAT_SHIFT: u8 = 3;
/// Bits of a scale field and of a shift field in format 3 (stored offset by 16).
const SCALE_BITS: u32 = 5;
/// Bits of an exponent field in format 2.
const EXP_BITS_V2: u32 = 4;
/// The encoder moves to a coarser scale after this many consecutive non-zero deltas whose
/// integers all had a trailing decimal zero (so a rate that fell below a power of ten and came
/// back does not keep paying ~3.3 bits per delta for a digit that is always 0).
const COARSEN_AFTER: u32 = 32;
/// A unary prefix of this many ones is an escape (valid prefixes have at most 46; the bit reader
/// sees at most 57 bits at once).
const ESCAPE_Q: u32 = 48;
/// Quotients from this on are sent as escapes.
const MAX_Q: u64 = 1 << 46;
/// Escape kinds (2 bits after the escape prefix).
const ESC_BIG: u64 = 0;
const ESC_RESCALE: u64 = 1;
const ESC_RAW: u64 = 2;
/// Format 3 only: 5-bit signed shift `d` (offset 16) of the scale; the previous integer is
/// multiplied by 10^d (or divided by 10^−d, exactly), then the value follows as a normal entry.
const ESC_SHIFT: u64 = 3;
/// Adaptive code parameter (identical in encoder and decoder): a running average of the bit
/// length of recent non-zero deltas, in 1/16 bits, moving a quarter of the way to each new one.
/// Working in the log domain follows magnitude jumps (a burst starting or ending) within a few
/// samples and tracks the median of heavy-tailed deltas rather than their mean.
#[derive(Debug, Clone, Copy)]
struct Rice {
    /// Average bit length × 16 (at most 64 × 16).
    bits16: u16,
}

impl Rice {
    const START: Rice = Rice { bits16: 4 * 16 };

    /// The Exp-Golomb order: the average bit length less one.
    #[inline]
    fn k(&self) -> u32 {
        ((u32::from(self.bits16) + 8) >> 4)
            .saturating_sub(1)
            .min(58)
    }

    #[inline]
    fn update(&mut self, z: u64) {
        // Both at most 64 × 16, and so is every value between them.
        let target = ((64 - z.leading_zeros()) * 16) as u16;
        let cur = self.bits16;
        self.bits16 = if target >= cur {
            cur + (target - cur) / 4
        } else {
            cur - (cur - target) / 4
        };
    }
}

#[inline]
fn zigzag(d: i64) -> u64 {
    ((d << 1) ^ (d >> 63)) as u64
}

#[inline]
fn unzigzag(z: u64) -> i64 {
    ((z >> 1) as i64) ^ -((z & 1) as i64)
}

/// Writes the escape prefix and kind.
#[inline]
fn write_escape(w: &mut BitWriter, kind: u64) {
    w.write_bits((1u64 << ESCAPE_Q) - 1, ESCAPE_Q);
    w.write_bits(kind, 2);
}

/// The value decimal mode decodes for integer `n` at scale `s`: `n / 10^s`, or `n × 10^−s` for
/// a negative scale (callers keep `s` in `MIN_SCALE..=MAX_SCALE`).
#[inline]
fn from_decimal(n: i64, s: i8) -> f64 {
    match s {
        0 => n as f64,
        1.. => n as f64 / POW10[usize::from(s.unsigned_abs()).min(16)],
        _ => n as f64 * POW10[usize::from(s.unsigned_abs()).min(16)],
    }
}

/// `Some(n)` if `v` decodes bit-identically from integer `n` at scale `s`.
#[inline]
fn to_decimal(v: f64, s: i8) -> Option<i64> {
    let p = POW10[usize::from(s.unsigned_abs()).min(16)];
    let n = if s >= 0 { v * p } else { v / p }.round();
    if n.is_nan() || n.abs() > MAX_DECIMAL {
        return None;
    }
    let n = n as i64;
    (from_decimal(n, s).to_bits() == v.to_bits()).then_some(n)
}

/// The coarsest scale (other than `skip`) at which `v` has an exact decimal form: the most
/// trailing zeros dropped for integers, the fewest decimals otherwise.
fn find_scale(v: f64, skip: Option<i8>) -> Option<(i8, i64)> {
    if !v.is_finite() {
        return None;
    }
    let from = if v.fract() == 0.0 { MIN_SCALE } else { 1 };
    (from..=MAX_SCALE)
        .filter(|&s| Some(s) != skip)
        .find_map(|s| to_decimal(v, s).map(|n| (s, n)))
}

/// The next finer scale (at most 15 steps, as a shift field holds) at which `v` is exact and the
/// previous integer `prev` can be rescaled within the decimal range: `(scale, n, rescaled prev)`.
fn find_finer(v: f64, s: i8, prev: i64) -> Option<(i8, i64, i64)> {
    if !v.is_finite() {
        return None;
    }
    let top = (i16::from(s) + 15).min(i16::from(MAX_SCALE)) as i8;
    ((s + 1)..=top).find_map(|t| {
        let n = to_decimal(v, t)?;
        let p = prev.checked_mul(POW10_INT[(t - s) as usize])?;
        (p.abs() <= MAX_DECIMAL_INT).then_some((t, n, p))
    })
}

/// Decimal trailing zeros of `n` (15 for 0: as many as a shift can drop).
#[inline]
fn decimal_zeros(n: i64) -> u32 {
    if n == 0 {
        return 15;
    }
    let mut z = 0;
    let mut n = n;
    while z < 15 && n % 10 == 0 {
        n /= 10;
        z += 1;
    }
    z
}

/// Which coding a column uses (its first value picks it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Unset,
    Xor,
    Decimal,
}

/// No XOR window yet ([`ValueEncoder::window`]).
const NO_WINDOW: (u8, u8) = (u8::MAX, u8::MAX);

/// Streaming encoder for one value column (always the current codec format). Every open chunk
/// holds one per column, so it is kept to 16 bytes: one flat struct whose fields serve the mode
/// the column's first value picked (an enum of per-mode structs took 32).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ValueEncoder {
    /// XOR: the previous value's bits; decimal: the previous integer.
    prev: i64,
    /// Decimal: the adaptive code parameter.
    rice: Rice,
    /// Decimal: the scale.
    scale: i8,
    /// Decimal: consecutive non-zero deltas whose integers all had trailing decimal zeros
    /// (saturating: only whether it reached [`COARSEN_AFTER`] matters).
    run: u8,
    /// Decimal: the fewest trailing zeros among those integers (at most 15).
    zeros: u8,
    mode: Mode,
    /// XOR: leading and trailing zeros of the current window (at most 31 and 63), or
    /// [`NO_WINDOW`].
    window: (u8, u8),
}

impl Default for ValueEncoder {
    fn default() -> Self {
        ValueEncoder {
            prev: 0,
            rice: Rice::START,
            scale: 0,
            run: 0,
            zeros: 15,
            mode: Mode::Unset,
            window: NO_WINDOW,
        }
    }
}

/// Writes the shift escape for `d` (−16..=15, not 0).
#[inline]
fn write_shift(w: &mut BitWriter, d: i8) {
    w.write_bit(true);
    write_escape(w, ESC_SHIFT);
    w.write_bits((i64::from(d) + 16) as u64, SCALE_BITS);
}

impl ValueEncoder {
    /// Codes the next value.
    #[inline]
    pub(crate) fn push(&mut self, w: &mut BitWriter, v: f64) {
        match self.mode {
            Mode::Decimal => self.push_decimal(w, v),
            Mode::Xor => {
                write_xor(w, v.to_bits() ^ self.prev as u64, &mut self.window);
                self.prev = v.to_bits() as i64;
            }
            Mode::Unset => match find_scale(v, None) {
                Some((scale, n)) => {
                    w.write_bit(true);
                    w.write_bits((i64::from(scale) + 16) as u64, SCALE_BITS);
                    // The first integer is coded against 0 without adapting `k`: its size says
                    // nothing about the deltas that follow.
                    let mut first = Rice::START;
                    write_delta(w, n, &mut first);
                    self.mode = Mode::Decimal;
                    self.scale = scale;
                    self.prev = n;
                }
                None => {
                    w.write_bit(false);
                    write_xor(w, v.to_bits(), &mut self.window);
                    self.mode = Mode::Xor;
                    self.prev = v.to_bits() as i64;
                }
            },
        }
    }

    /// Decimal mode: if the integers have kept trailing zeros long enough, the coarser
    /// `(scale, n)` for `n`.
    #[inline]
    fn coarser(&self, v: f64, n: i64) -> Option<(i8, i64)> {
        if u32::from(self.run) < COARSEN_AFTER {
            return None;
        }
        let room = (i16::from(self.scale) - i16::from(MIN_SCALE)).max(0) as u32;
        let d = u32::from(self.zeros)
            .min(decimal_zeros(self.prev))
            .min(decimal_zeros(n))
            .min(room);
        if d == 0 {
            return None;
        }
        let t = self.scale - d as i8;
        let nc = to_decimal(v, t)?;
        (nc.checked_mul(POW10_INT[d as usize]) == Some(n)).then_some((t, nc))
    }

    #[inline]
    fn push_decimal(&mut self, w: &mut BitWriter, v: f64) {
        if let Some(n) = to_decimal(v, self.scale) {
            if let Some((t, nc)) = self.coarser(v, n) {
                let d = self.scale - t;
                write_shift(w, -d);
                self.prev /= POW10_INT[d as usize];
                self.scale = t;
                self.restart_run();
                write_delta(w, nc.wrapping_sub(self.prev), &mut self.rice);
                self.prev = nc;
                return;
            }
            let delta = n.wrapping_sub(self.prev);
            write_delta(w, delta, &mut self.rice);
            if delta != 0 {
                let z = decimal_zeros(n);
                if z == 0 {
                    self.restart_run();
                } else {
                    self.run = self.run.saturating_add(1);
                    // At most 15 (decimal_zeros).
                    self.zeros = self.zeros.min(z as u8);
                }
            }
            self.prev = n;
        } else if let Some((t, n, p)) = find_finer(v, self.scale, self.prev) {
            write_shift(w, t - self.scale);
            self.scale = t;
            self.restart_run();
            write_delta(w, n.wrapping_sub(p), &mut self.rice);
            self.prev = n;
        } else if let Some((t, n)) = find_scale(v, Some(self.scale)) {
            w.write_bit(true);
            write_escape(w, ESC_RESCALE);
            w.write_bits((i64::from(t) + 16) as u64, SCALE_BITS);
            w.write_bits(n as u64, 64);
            self.scale = t;
            self.prev = n;
            self.restart_run();
        } else {
            w.write_bit(true);
            write_escape(w, ESC_RAW);
            w.write_bits(v.to_bits(), 64);
        }
    }

    #[inline]
    fn restart_run(&mut self) {
        self.run = 0;
        self.zeros = 15;
    }
}

/// `0` for an unchanged integer, else `1` + the adaptive Exp-Golomb code of `zigzag(delta) − 1`.
#[inline]
fn write_delta(w: &mut BitWriter, delta: i64, rice: &mut Rice) {
    if delta == 0 {
        w.write_bit(false);
        return;
    }
    w.write_bit(true);
    let z = zigzag(delta) - 1;
    let k = rice.k();
    let q = z >> k;
    if q < MAX_Q {
        let m = q + 1;
        let len = 64 - m.leading_zeros();
        // len − 1 ones and a zero, then m without its top bit.
        w.write_bits(((1u64 << (len - 1)) - 1) << 1, len);
        w.write_bits(m, len - 1);
        if k > 0 {
            w.write_bits(z, k);
        }
    } else {
        write_escape(w, ESC_BIG);
        w.write_bits(z, 64);
    }
    rice.update(z);
}

/// Codes an XOR; `window` is the current window's leading and trailing zeros, or [`NO_WINDOW`]
/// (never used: no XOR has 255 leading zeros).
#[inline]
fn write_xor(w: &mut BitWriter, xor: u64, window: &mut (u8, u8)) {
    if xor == 0 {
        w.write_bit(false);
        return;
    }
    let lead = xor.leading_zeros().min(31);
    let trail = xor.trailing_zeros();
    match (u32::from(window.0), u32::from(window.1)) {
        (wl, wt) if lead >= wl && trail >= wt => {
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
            // lead ≤ 31, trail ≤ 63 (xor is not 0).
            *window = (lead as u8, trail as u8);
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
        scale: i8,
        prev: i64,
        rice: Rice,
    },
}

/// Streaming decoder for one value column of a given codec format (2 or 3).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ValueDecoder {
    mode: DecMode,
    /// Whether the column is codec format 3 (5-bit signed scales, shift escape).
    shifts: bool,
}

impl Default for ValueDecoder {
    fn default() -> Self {
        ValueDecoder::new(FORMAT_SHIFT)
    }
}

/// Reads a scale field: 4 bits (0..=15) in format 2, 5 bits offset by 16 in format 3.
#[inline]
fn read_scale(r: &mut BitReader<'_>, shifts: bool) -> Result<i8> {
    Ok(if shifts {
        r.read_bits(SCALE_BITS)? as i8 - 16
    } else {
        r.read_bits(EXP_BITS_V2)? as i8
    })
}

impl ValueDecoder {
    /// A decoder for columns written by codec `format` (2 or 3; the chunk header checked it).
    pub(crate) fn new(format: u8) -> Self {
        ValueDecoder {
            mode: DecMode::Unset,
            shifts: format >= FORMAT_SHIFT,
        }
    }

    /// Decodes the next value.
    #[inline]
    pub(crate) fn next(&mut self, r: &mut BitReader<'_>) -> Result<f64> {
        if let DecMode::Unset = self.mode {
            if r.read_bit()? {
                self.mode = DecMode::Decimal {
                    scale: read_scale(r, self.shifts)?,
                    prev: 0,
                    rice: Rice::START,
                };
                let v = self.next(r)?;
                // The first integer does not adapt `k` (see the encoder).
                if let DecMode::Decimal { ref mut rice, .. } = self.mode {
                    *rice = Rice::START;
                }
                return Ok(v);
            }
            self.mode = DecMode::Xor {
                prev: 0,
                window: None,
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
                ref mut scale,
                ref mut prev,
                ref mut rice,
            } => decode_decimal(r, scale, prev, rice, self.shifts, true),
            DecMode::Unset => Err(TsdbError::Corrupt("value column without mode")),
        }
    }
}

/// One decimal-mode entry. `shift_ok` is false right after a shift, so a stream cannot chain
/// shifts (the encoder always follows one with a value).
#[inline]
fn decode_decimal(
    r: &mut BitReader<'_>,
    scale: &mut i8,
    prev: &mut i64,
    rice: &mut Rice,
    shifts: bool,
    shift_ok: bool,
) -> Result<f64> {
    // Fast path: the flag, the prefix, `m` and the low bits from one peeked word.
    let (word, avail) = r.peek();
    if word >> 63 == 0 && avail >= 1 {
        r.skip(1);
        return Ok(from_decimal(*prev, *scale));
    }
    let ones = (!(word << 1)).leading_zeros();
    let k = rice.k();
    let len = 2 + 2 * ones + k;
    if ones < ESCAPE_Q && len <= 64 && len as usize <= avail {
        let body = word << (2 + ones);
        let m_low = if ones > 0 { body >> (64 - ones) } else { 0 };
        let low = if k > 0 { (body << ones) >> (64 - k) } else { 0 };
        let z = ((((1u64 << ones) | m_low) - 1) << k) | low;
        r.skip(len);
        rice.update(z);
        *prev = prev.wrapping_add(unzigzag(z.wrapping_add(1)));
        return Ok(from_decimal(*prev, *scale));
    }
    if !r.read_bit()? {
        return Ok(from_decimal(*prev, *scale));
    }
    let ones = r.read_unary(ESCAPE_Q)?;
    let z = if ones < ESCAPE_Q {
        let m = (1u64 << ones) | r.read_bits(ones)?;
        let k = rice.k();
        let low = if k > 0 { r.read_bits(k)? } else { 0 };
        ((m - 1) << k) | low
    } else {
        match r.read_bits(2)? {
            ESC_BIG => r.read_bits(64)?,
            ESC_RESCALE => {
                *scale = read_scale(r, shifts)?;
                *prev = r.read_bits(64)? as i64;
                return Ok(from_decimal(*prev, *scale));
            }
            ESC_RAW => return Ok(f64::from_bits(r.read_bits(64)?)),
            ESC_SHIFT if shifts && shift_ok => {
                let d = r.read_bits(SCALE_BITS)? as i8 - 16;
                let to = i16::from(*scale) + i16::from(d);
                if d == 0 || to < i16::from(MIN_SCALE) || to > i16::from(MAX_SCALE) {
                    return Err(TsdbError::Corrupt("bad decimal scale shift"));
                }
                let p = POW10_INT[usize::from(d.unsigned_abs()).min(15)];
                *prev = if d > 0 {
                    prev.checked_mul(p)
                        .ok_or(TsdbError::Corrupt("decimal shift overflows"))?
                } else if *prev % p == 0 {
                    *prev / p
                } else {
                    return Err(TsdbError::Corrupt("decimal shift drops digits"));
                };
                *scale = to as i8;
                return decode_decimal(r, scale, prev, rice, shifts, false);
            }
            _ => return Err(TsdbError::Corrupt("unknown decimal escape")),
        }
    };
    rice.update(z);
    *prev = prev.wrapping_add(unzigzag(z.wrapping_add(1)));
    Ok(from_decimal(*prev, *scale))
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

    #[test]
    fn a_column_state_is_sixteen_bytes() {
        // One per column of every open chunk: 16 bytes inline for a raw head, 64 on the heap for
        // a rollup head (docs/performance.md, issue 2).
        assert_eq!(std::mem::size_of::<ValueEncoder>(), 16);
        // Its run counter saturates: 600 deltas that all keep a trailing zero at the coarsest
        // scale, where nothing can be dropped.
        let values: Vec<f64> = (0..600).map(|i| f64::from(10 + i % 50) * 1e17).collect();
        round_trip(&values);
        let mut w = BitWriter::default();
        let mut enc = ValueEncoder::default();
        for &v in &values {
            enc.push(&mut w, v);
        }
        assert_eq!(enc.mode, Mode::Decimal);
        assert_eq!((enc.scale, enc.run), (MIN_SCALE, u8::MAX));
    }

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
        assert_eq!(find_scale(0.125, None), Some((3, 125)));
        assert_eq!(find_scale(1.0 / 3.0, None), None);
        assert_eq!(to_decimal(9_123_000.0, -3), Some(9_123));
        assert_eq!(to_decimal(9_123_400.0, -3), None);
        assert_eq!(find_scale(9_123_000.0, None), Some((-3, 9_123)));
        assert_eq!(find_scale(1e20, None), Some((-16, 10_000)));
        assert_eq!(find_scale(0.0, None), Some((-16, 0)));
        assert_eq!(find_scale(f64::INFINITY, None), None);
        assert_eq!(
            find_finer(9_124_500.0, -3, 9_123),
            Some((-2, 91_245, 91_230))
        );
        assert_eq!(decimal_zeros(120), 1);
        assert_eq!(decimal_zeros(0), 15);
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

    /// Rates kept to 4 significant digits, wandering across powers of ten.
    fn four_digit_rates(n: usize, mean: f64) -> Vec<f64> {
        let mut level = mean;
        (0..n)
            .map(|i| {
                let wobble = ((i * 7919) % 101) as f64 / 1000.0 - 0.05;
                level *= 1.0 + wobble;
                let digits = level.log10().floor() as i32 - 3;
                let p = 10f64.powi(digits);
                (level / p).round() * p
            })
            .collect()
    }

    #[test]
    fn trailing_zero_integers_code_their_significand() {
        let rates = four_digit_rates(180, 9_000_000.0);
        assert!(rates.iter().all(|&v| to_decimal(v, -2).is_some()));
        let bytes = round_trip(&rates);
        // ±5 % of a 4-digit significand is ~9 bits; as plain integers ~20.
        assert!(bytes * 8 < 180 * 13, "{bytes} bytes for 180 rates");
    }

    #[test]
    fn scales_shift_finer_and_back_coarser() {
        // Starts coarse (the first value has 6 zeros), must refine, then stays at a multiple of
        // 1000 long enough to coarsen again, then refines to decimals and meets specials.
        let mut values = vec![5_000_000.0, 5_123_000.0, 5_123_400.0];
        values.extend((0..80).map(|i| 5_000_000.0 + f64::from((i * 37) % 90) * 1000.0));
        values.extend([
            0.25,
            0.0,
            -0.0,
            f64::NAN,
            1e300,
            7e22,
            -3.5e-7,
            12.0,
            f64::MAX,
        ]);
        values.extend((0..40).map(|i| f64::from(i % 7) * 1e15));
        round_trip(&values);
        let mut w = BitWriter::default();
        let mut enc = ValueEncoder::default();
        for &v in &values[..83] {
            enc.push(&mut w, v);
        }
        assert_eq!(enc.mode, Mode::Decimal);
        assert_eq!(enc.scale, -3, "coarsened back to thousands");
    }

    #[test]
    fn malformed_shifts_are_errors() {
        // Decimal column at scale 0 holding 7, then a shift by `d`, then another entry.
        let stream = |d: i8, then_shift: bool| {
            let mut w = BitWriter::default();
            w.write_bit(true);
            w.write_bits(16, SCALE_BITS);
            write_delta(&mut w, 7, &mut Rice::START.clone());
            write_shift(&mut w, d);
            if then_shift {
                write_shift(&mut w, 1);
            }
            w.write_bit(false);
            let mut bytes = Vec::new();
            w.append_to(&mut bytes);
            let mut r = BitReader::new(&bytes);
            let mut dec = ValueDecoder::default();
            assert_eq!(dec.next(&mut r).expect("first"), 7.0);
            dec.next(&mut r)
        };
        assert_eq!(stream(2, false).expect("shift by 2"), 7.0);
        assert!(stream(-1, false).is_err(), "7 has no trailing zero");
        assert!(stream(0, false).is_err(), "a zero shift");
        assert!(stream(1, true).is_err(), "chained shifts");
        // A format 2 column has no shift escape.
        let mut w = BitWriter::default();
        w.write_bit(true);
        w.write_bits(0, EXP_BITS_V2);
        write_delta(&mut w, 7, &mut Rice::START.clone());
        write_shift(&mut w, 1);
        w.write_bit(false);
        let mut bytes = Vec::new();
        w.append_to(&mut bytes);
        let mut r = BitReader::new(&bytes);
        let mut dec = ValueDecoder::new(2);
        assert_eq!(dec.next(&mut r).expect("first"), 7.0);
        assert!(dec.next(&mut r).is_err());
    }
}
