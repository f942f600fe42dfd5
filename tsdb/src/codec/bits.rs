//! Bit-granular writer and reader used by the chunk codec.
//!
//! Bits are packed most-significant first. The writer buffers up to 64 bits in a register and spills
//! whole big-endian words; the reader loads 64-bit windows so most reads are a shift and a mask.
//! The reader never panics: reading past the end returns [`TsdbError::Corrupt`].

use crate::error::{Result, TsdbError};

/// Appends bit fields to a growable byte buffer.
///
/// Past 128 bytes the buffer grows a size class at a time ([`class_capacity`]) rather than
/// doubling: the store keeps an open writer per series and tier for up to a whole window, and
/// doubling left a quarter to a half of each one unused on average (docs/performance.md, issue 2).
#[derive(Debug, Clone, Default)]
pub(crate) struct BitWriter {
    buf: Vec<u8>,
    /// Pending bits, left-aligned: the next bit goes to position `63 - used`.
    acc: u64,
    /// Number of valid bits in `acc` (always < 64).
    used: u32,
}

/// The capacity a buffer that needs `needed` bytes grows to: a power of two up to 128 bytes (at
/// most 64 bytes spare, and few reallocations while a chunk starts: size-class steps there cost
/// the codec's encode bench 6 %), then the next allocator size class (four per doubling: 160,
/// 192, 224, 256, 320, …, as mimalloc and jemalloc have them), so the spare room is under a
/// quarter of the buffer.
fn class_capacity(needed: usize) -> usize {
    if needed <= 128 {
        return needed.max(16).next_power_of_two();
    }
    let log2 = usize::BITS - 1 - (needed - 1).leading_zeros();
    needed.next_multiple_of(1 << (log2 - 2))
}

impl BitWriter {
    /// A writer with room for `bytes` bytes (for temporaries of known size).
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        BitWriter {
            buf: Vec::with_capacity(bytes),
            ..BitWriter::default()
        }
    }

    /// Makes room for 8 more bytes, growing to the next size class.
    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let len = self.buf.len();
        self.buf.reserve_exact(class_capacity(len + 8) - len);
    }

    /// Writes the low `n` bits of `value` (`n` ≤ 64), most significant first.
    #[inline]
    pub(crate) fn write_bits(&mut self, value: u64, n: u32) {
        debug_assert!(n <= 64);
        if n == 0 {
            return;
        }
        let value = if n == 64 {
            value
        } else {
            value & ((1u64 << n) - 1)
        };
        let free = 64 - self.used;
        if n < free {
            self.acc |= value << (free - n);
            self.used += n;
        } else {
            let spill = n - free;
            self.acc |= value >> spill;
            if self.buf.capacity() - self.buf.len() < 8 {
                self.grow();
            }
            self.buf.extend_from_slice(&self.acc.to_be_bytes());
            self.acc = if spill == 0 { 0 } else { value << (64 - spill) };
            self.used = spill;
        }
    }

    /// Writes a single bit.
    #[inline]
    pub(crate) fn write_bit(&mut self, bit: bool) {
        self.write_bits(u64::from(bit), 1);
    }

    /// Number of bytes [`BitWriter::append_to`] would append (bits rounded up to whole bytes).
    pub(crate) fn byte_len(&self) -> usize {
        self.buf.len() + self.used.div_ceil(8) as usize
    }

    /// Number of bits written.
    pub(crate) fn bit_len(&self) -> usize {
        self.buf.len() * 8 + self.used as usize
    }

    /// The bits `from..to` (of those written), packed most-significant first and zero-padded.
    /// Out-of-range bounds are clamped.
    pub(crate) fn copy_bits(&self, from: usize, to: usize) -> Vec<u8> {
        let to = to.min(self.bit_len());
        if from >= to {
            return Vec::new();
        }
        let first = from / 8;
        let mut bytes = Vec::with_capacity((to - first * 8).div_ceil(8) + 8);
        if first < self.buf.len() {
            bytes.extend_from_slice(&self.buf[first..]);
        }
        let tail = self.acc.to_be_bytes();
        let skip_tail = first.saturating_sub(self.buf.len());
        bytes.extend_from_slice(&tail[skip_tail..self.used.div_ceil(8) as usize]);
        let mut r = BitReader::new(&bytes);
        let mut out = BitWriter::with_capacity((to - from).div_ceil(64) * 8);
        // In range by construction: `bytes` holds every bit from `first * 8` to `bit_len`.
        let _ = r.read_bits((from - first * 8) as u32);
        out.append_reader(&mut r, to - from);
        let mut packed = Vec::with_capacity(out.byte_len());
        out.append_to(&mut packed);
        packed
    }

    /// Copies `n` bits from `r` (stopping early if it runs out).
    pub(crate) fn append_reader(&mut self, r: &mut BitReader<'_>, n: usize) {
        let mut left = n;
        while left > 0 {
            let take = left.min(56) as u32;
            let Ok(v) = r.read_bits(take) else {
                return;
            };
            self.write_bits(v, take);
            left -= take as usize;
        }
    }

    /// Appends the written bits to `out`, zero-padding the final partial byte.
    pub(crate) fn append_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.buf);
        let tail = self.acc.to_be_bytes();
        out.extend_from_slice(&tail[..self.used.div_ceil(8) as usize]);
    }
}

/// Reads bit fields from a byte slice written by [`BitWriter`].
#[derive(Debug, Clone)]
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// Position of the next bit to read.
    pos: usize,
    len_bits: usize,
}

const TRUNCATED: TsdbError = TsdbError::Corrupt("bit stream truncated");

impl<'a> BitReader<'a> {
    /// Starts reading at the first bit of `data`.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        BitReader {
            data,
            pos: 0,
            len_bits: data.len().saturating_mul(8),
        }
    }

    /// Bits left to read (including final padding).
    pub(crate) fn remaining(&self) -> usize {
        self.len_bits - self.pos
    }

    /// The next 64 bits from the current position, left-aligned, zero-filled past the end.
    #[inline]
    fn peek_word(&self) -> u64 {
        let byte = self.pos / 8;
        let shift = (self.pos % 8) as u32;
        let word = match self.data.get(byte..byte + 8) {
            Some(bytes) => {
                let mut w = [0u8; 8];
                w.copy_from_slice(bytes);
                u64::from_be_bytes(w)
            }
            None => {
                let mut w = [0u8; 8];
                let tail = self.data.get(byte..).unwrap_or(&[]);
                w[..tail.len()].copy_from_slice(tail);
                u64::from_be_bytes(w)
            }
        };
        word << shift
    }

    /// Reads `n` bits (`n` ≤ 64) as an unsigned integer.
    #[inline]
    pub(crate) fn read_bits(&mut self, n: u32) -> Result<u64> {
        if n == 0 {
            return Ok(0);
        }
        if self.remaining() < n as usize {
            return Err(TRUNCATED);
        }
        if n <= 56 {
            Ok(self.take(n))
        } else {
            // Not recursive, so the common case inlines into the decoders.
            let hi = self.take(n - 32);
            let lo = self.take(32);
            Ok((hi << 32) | lo)
        }
    }

    /// Reads `n` (1..=56) bits the caller has checked are there.
    #[inline]
    fn take(&mut self, n: u32) -> u64 {
        let v = self.peek_word() >> (64 - n);
        self.pos += n as usize;
        v
    }

    /// The next bits, left-aligned in a word, without consuming them, and how many of them are
    /// real (at most 57: a word read at an odd bit position holds no more): for decoders that
    /// parse a whole short code at once.
    #[inline]
    pub(crate) fn peek(&self) -> (u64, usize) {
        (self.peek_word(), self.remaining().min(57))
    }

    /// Consumes `n` bits already parsed from [`BitReader::peek`] (`n` ≤ the bits it reported).
    #[inline]
    pub(crate) fn skip(&mut self, n: u32) {
        self.pos += n as usize;
    }

    /// Reads one bit.
    #[inline]
    pub(crate) fn read_bit(&mut self) -> Result<bool> {
        Ok(self.read_bits(1)? == 1)
    }

    /// Reads a unary prefix: counts consecutive `1` bits, stopping at a `0` (consumed) or after `max`
    /// ones (no terminator is read then). Returns the number of ones. `max` must be at most 57:
    /// that is what one peeked word is guaranteed to hold.
    #[inline]
    pub(crate) fn read_unary(&mut self, max: u32) -> Result<u32> {
        debug_assert!(max <= 57);
        let ones = (!self.peek_word()).leading_zeros().min(max);
        let consumed = if ones < max { ones + 1 } else { max };
        if self.remaining() < consumed as usize {
            return Err(TRUNCATED);
        }
        self.pos += consumed as usize;
        Ok(ones)
    }

    /// Checks that only zero padding (fewer than 8 bits) is left, as a well-formed stream ends.
    pub(crate) fn finish(&mut self) -> Result<()> {
        let left = self.remaining();
        if left >= 8 {
            return Err(TsdbError::Corrupt("trailing bytes after last sample"));
        }
        if self.read_bits(left as u32)? != 0 {
            return Err(TsdbError::Corrupt("non-zero padding after last sample"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn buffers_grow_a_size_class_at_a_time() {
        let classes: Vec<usize> = [
            1, 8, 16, 17, 48, 64, 65, 80, 81, 128, 129, 200, 257, 1000, 4097,
        ]
        .into_iter()
        .map(class_capacity)
        .collect();
        assert_eq!(
            classes,
            [16, 16, 16, 32, 64, 64, 128, 128, 128, 128, 160, 224, 320, 1024, 5120]
        );
        // Past 128 bytes, an open head's spare room stays under a quarter of its buffer (plus
        // one word).
        let mut w = BitWriter::default();
        for i in 0..20_000u64 {
            w.write_bits(i, 13);
            let (len, cap) = (w.buf.len(), w.buf.capacity());
            let spare = if cap <= 128 { cap / 2 } else { cap / 4 };
            assert!(cap - len <= spare + 8, "{len} of {cap}");
        }
    }

    proptest! {
        #[test]
        fn round_trips_arbitrary_fields(fields in proptest::collection::vec((any::<u64>(), 0u32..=64), 0..200)) {
            let mut w = BitWriter::default();
            for &(v, n) in &fields {
                w.write_bits(v, n);
            }
            let mut bytes = Vec::new();
            w.append_to(&mut bytes);
            prop_assert_eq!(bytes.len(), w.byte_len());
            let mut r = BitReader::new(&bytes);
            for &(v, n) in &fields {
                let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
                prop_assert_eq!(r.read_bits(n).unwrap(), v & mask);
            }
            prop_assert!(r.finish().is_ok());
        }
    }

    proptest! {
        #[test]
        fn copied_ranges_concatenate_to_the_whole(fields in proptest::collection::vec((any::<u64>(), 0u32..=64), 0..60),
                                                  cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..5)) {
            let mut w = BitWriter::default();
            for &(v, n) in &fields {
                w.write_bits(v, n);
            }
            let total = w.bit_len();
            let mut bounds: Vec<usize> = cuts.iter().map(|c| c.index(total + 1)).collect();
            bounds.push(0);
            bounds.push(total);
            bounds.sort_unstable();
            let mut joined = BitWriter::default();
            for pair in bounds.windows(2) {
                let part = w.copy_bits(pair[0], pair[1]);
                joined.append_reader(&mut BitReader::new(&part), pair[1] - pair[0]);
            }
            let (mut a, mut b) = (Vec::new(), Vec::new());
            w.append_to(&mut a);
            joined.append_to(&mut b);
            prop_assert_eq!(a, b);
            prop_assert_eq!(joined.bit_len(), total);
        }
    }

    #[test]
    fn unary_and_truncation() {
        let mut w = BitWriter::default();
        w.write_bits(0b1110, 4);
        w.write_bits(0b11111, 5);
        w.write_bit(true);
        let mut bytes = Vec::new();
        w.append_to(&mut bytes);
        let mut r = BitReader::new(&bytes);
        assert_eq!(r.read_unary(5).unwrap(), 3);
        assert_eq!(r.read_unary(5).unwrap(), 5);
        assert!(r.read_bit().unwrap());
        assert!(r.finish().is_ok());
        let mut r = BitReader::new(&bytes);
        assert!(r.read_bits(17).is_err());
        let mut r = BitReader::new(&[0xFF]);
        assert!(r.read_unary(9).is_err());
        let mut r = BitReader::new(&[0x00, 0x00]);
        assert!(r.finish().is_err());
        let mut r = BitReader::new(&[0x01]);
        assert!(r.finish().is_err());
    }
}
