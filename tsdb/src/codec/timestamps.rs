//! Delta-of-delta timestamp coding with variable-length buckets.
//!
//! Timestamps are coded in *ticks* (the chunk's time unit). The first tick lives in the chunk header;
//! every later one is coded as the change of the inter-sample delta (`dod`), using the smallest bucket:
//!
//! | prefix   | payload | dod range                 |
//! |----------|---------|---------------------------|
//! | `0`      | –       | 0                         |
//! | `10`     | 3 bits  | −4 … 3                    |
//! | `110`    | 7 bits  | −64 … 63                  |
//! | `1110`   | 12 bits | −2,048 … 2,047            |
//! | `11110`  | 20 bits | −524,288 … 524,287        |
//! | `111110` | 32 bits | ±2^31                     |
//! | `111111` | 64 bits | anything (wrapping)       |
//!
//! The 3-bit bucket is for second-resolution ticks, where poll jitter shows up as ±1 s wobble.
//!
//! All arithmetic wraps, so any `i64` sequence (including decreasing or extreme values) round-trips.

use super::bits::{BitReader, BitWriter};
use crate::error::Result;

/// Payload widths of the buckets, indexed by the number of leading `1` bits in the prefix.
const BUCKET_BITS: [u32; 7] = [0, 3, 7, 12, 20, 32, 64];
/// Prefix of the widest bucket has no terminating zero.
const MAX_PREFIX: u32 = 6;

/// Whether `v` fits in a two's-complement field of `bits` bits.
#[inline]
pub(crate) fn fits_signed(v: i64, bits: u32) -> bool {
    let half = 1i64 << (bits - 1);
    (-half..half).contains(&v)
}

/// Sign-extends the low `bits` bits of `raw`.
#[inline]
pub(crate) fn sign_extend(raw: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((raw << shift) as i64) >> shift
}

/// Streaming encoder state for the timestamp column.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TimestampEncoder {
    prev: i64,
    prev_delta: i64,
}

impl TimestampEncoder {
    /// Starts after the header-stored first tick.
    pub(crate) fn new(first: i64) -> Self {
        TimestampEncoder {
            prev: first,
            prev_delta: 0,
        }
    }

    /// The last tick coded (the first one right after [`TimestampEncoder::new`]).
    #[inline]
    pub(crate) fn last(&self) -> i64 {
        self.prev
    }

    /// Codes the next tick.
    #[inline]
    pub(crate) fn push(&mut self, w: &mut BitWriter, tick: i64) {
        let delta = tick.wrapping_sub(self.prev);
        let dod = delta.wrapping_sub(self.prev_delta);
        self.prev = tick;
        self.prev_delta = delta;
        if dod == 0 {
            w.write_bit(false);
            return;
        }
        for (ones, &bits) in BUCKET_BITS.iter().enumerate().skip(1) {
            let ones = ones as u32;
            if ones == MAX_PREFIX {
                w.write_bits((1 << MAX_PREFIX) - 1, MAX_PREFIX);
                w.write_bits(dod as u64, 64);
                return;
            }
            if fits_signed(dod, bits) {
                let prefix = ((1u64 << ones) - 1) << 1;
                w.write_bits(
                    (prefix << bits) | (dod as u64 & ((1u64 << bits) - 1)),
                    ones + 1 + bits,
                );
                return;
            }
        }
    }
}

/// Streaming decoder state for the timestamp column.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TimestampDecoder {
    prev: i64,
    prev_delta: i64,
}

impl TimestampDecoder {
    /// Starts after the header-stored first tick.
    pub(crate) fn new(first: i64) -> Self {
        TimestampDecoder {
            prev: first,
            prev_delta: 0,
        }
    }

    /// Decodes the next tick.
    #[inline(always)]
    pub(crate) fn next(&mut self, r: &mut BitReader<'_>) -> Result<i64> {
        let ones = r.read_unary(MAX_PREFIX)?;
        let bits = BUCKET_BITS[ones as usize];
        let dod = if bits == 0 {
            0
        } else {
            sign_extend(r.read_bits(bits)?, bits)
        };
        self.prev_delta = self.prev_delta.wrapping_add(dod);
        self.prev = self.prev.wrapping_add(self.prev_delta);
        Ok(self.prev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_edges_round_trip() {
        let mut ticks = vec![0i64];
        let mut t = 0i64;
        let mut d = 0i64;
        for dod in [
            0,
            1,
            -1,
            3,
            -4,
            4,
            -5,
            63,
            -64,
            64,
            -65,
            2047,
            -2048,
            2048,
            524_287,
            -524_289,
            1 << 31,
            i64::MAX,
            i64::MIN,
        ] {
            d = d.wrapping_add(dod);
            t = t.wrapping_add(d);
            ticks.push(t);
        }
        let mut w = BitWriter::default();
        let mut enc = TimestampEncoder::new(ticks[0]);
        for &t in &ticks[1..] {
            enc.push(&mut w, t);
        }
        let mut bytes = Vec::new();
        w.append_to(&mut bytes);
        let mut r = BitReader::new(&bytes);
        let mut dec = TimestampDecoder::new(ticks[0]);
        for &t in &ticks[1..] {
            assert_eq!(dec.next(&mut r).unwrap(), t);
        }
        assert!(r.finish().is_ok());
    }

    #[test]
    fn signed_helpers() {
        assert!(fits_signed(63, 7) && fits_signed(-64, 7));
        assert!(!fits_signed(64, 7) && !fits_signed(-65, 7));
        assert_eq!(sign_extend(0x7F, 7), -1);
        assert_eq!(sign_extend(0x3F, 7), 63);
    }
}
