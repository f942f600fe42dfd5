//! Chunk framing: header plus one interleaved bit stream of timestamps and value columns.
//!
//! Layout (format version 3: decimal mode with negative scales, i.e. integers × 10^k, and a scale
//! shift escape; version 2, adaptive Exp-Golomb deltas with scales 0..=15 only, is still decoded
//! because stores on disk hold it):
//!
//! ```text
//! byte 0      format version (3, or 2 for chunks written by earlier builds)
//! byte 1      number of value columns (1..=4)
//! uvarint     time unit in ms (timestamps are stored as ticks = floor(ts / unit))
//! uvarint     sample count
//! ivarint     first tick (zigzag)
//! bits        per sample: [timestamp dod, except for the first sample] then each column's value
//! ```
//!
//! A chunk is self-describing, so every chunk on disk can be decoded without outside context, and a
//! future format can be introduced chunk by chunk. The decoder validates the header, bounds the
//! sample count by the payload size, and requires the payload to end in < 8 zero padding bits, so
//! truncated or trailing-garbage chunks are rejected instead of decoding silently.

use super::bits::{BitReader, BitWriter};
use super::timestamps::{TimestampDecoder, TimestampEncoder};
use super::values::{ValueDecoder, ValueEncoder};
use super::varint::{get_ivarint, get_uvarint, put_ivarint, put_uvarint};
use crate::error::{Result, TsdbError};

/// Chunk format version written by this build.
pub const FORMAT_VERSION: u8 = 3;
/// Oldest chunk format version this build decodes.
pub const OLDEST_READ_VERSION: u8 = 2;
/// Maximum number of value columns in one chunk (avg, min, max, count for rollups).
pub const MAX_COLUMNS: usize = 4;

/// Incrementally encodes samples into a chunk; [`ChunkEncoder::to_bytes`] can snapshot it at any
/// time, which is how open head chunks are persisted and later appended to.
///
/// The store keeps one open encoder per series and tier, so its size is paid per series: the
/// value coder states are sized to the columns ([`ValueStates`]) and the last tick is the
/// timestamp coder's.
#[derive(Debug, Clone)]
pub struct ChunkEncoder {
    unit_ms: i64,
    count: u32,
    first_tick: i64,
    ts: TimestampEncoder,
    values: ValueStates,
    bits: BitWriter,
}

/// One value coder state per column: a single-column (raw) chunk keeps its one state inline, a
/// wider (rollup) chunk its states on the heap behind a thin pointer, so a raw head does not pay
/// for four columns and the enum is 16 bytes (its tag lives in the inline state's spare values).
#[derive(Debug, Clone)]
enum ValueStates {
    One([ValueEncoder; 1]),
    Two(Box<[ValueEncoder; 2]>),
    Three(Box<[ValueEncoder; 3]>),
    Four(Box<[ValueEncoder; 4]>),
}

const _: () = assert!(
    MAX_COLUMNS == 4,
    "ValueStates has a variant per column count"
);

impl ValueStates {
    /// States for `columns` (1..=[`MAX_COLUMNS`]) columns; `None` for any other count.
    fn new(columns: usize) -> Option<Self> {
        let v = ValueEncoder::default();
        Some(match columns {
            1 => ValueStates::One([v]),
            2 => ValueStates::Two(Box::new([v; 2])),
            3 => ValueStates::Three(Box::new([v; 3])),
            4 => ValueStates::Four(Box::new([v; 4])),
            _ => return None,
        })
    }

    #[inline]
    fn as_mut_slice(&mut self) -> &mut [ValueEncoder] {
        match self {
            ValueStates::One(one) => one,
            ValueStates::Two(s) => &mut s[..],
            ValueStates::Three(s) => &mut s[..],
            ValueStates::Four(s) => &mut s[..],
        }
    }

    #[inline]
    fn len(&self) -> usize {
        match self {
            ValueStates::One(_) => 1,
            ValueStates::Two(_) => 2,
            ValueStates::Three(_) => 3,
            ValueStates::Four(_) => 4,
        }
    }
}

impl ChunkEncoder {
    /// Creates an empty chunk with `columns` values per sample and timestamps stored at `unit_ms`
    /// resolution (use 1 for lossless millisecond timestamps).
    pub fn new(columns: usize, unit_ms: i64) -> Result<Self> {
        let values = ValueStates::new(columns).ok_or(TsdbError::InvalidArgument(
            "chunk needs 1 to 4 value columns",
        ))?;
        if unit_ms <= 0 {
            return Err(TsdbError::InvalidArgument(
                "chunk time unit must be positive",
            ));
        }
        Ok(ChunkEncoder {
            unit_ms,
            count: 0,
            first_tick: 0,
            ts: TimestampEncoder::default(),
            values,
            bits: BitWriter::default(),
        })
    }

    /// Appends one sample. `ts_ms` is floored to the chunk's time unit; `values` must have exactly
    /// one entry per column. Any timestamp order is accepted by the codec itself.
    #[inline]
    pub fn push(&mut self, ts_ms: i64, values: &[f64]) -> Result<()> {
        let states = self.values.as_mut_slice();
        if values.len() != states.len() {
            return Err(TsdbError::InvalidArgument(
                "value count differs from chunk columns",
            ));
        }
        if self.count == u32::MAX {
            return Err(TsdbError::InvalidArgument("chunk is full"));
        }
        let tick = ts_ms.div_euclid(self.unit_ms);
        if self.count == 0 {
            self.first_tick = tick;
            self.ts = TimestampEncoder::new(tick);
        } else {
            self.ts.push(&mut self.bits, tick);
        }
        for (enc, &v) in states.iter_mut().zip(values) {
            enc.push(&mut self.bits, v);
        }
        self.count += 1;
        Ok(())
    }

    /// Number of samples in the chunk.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether no sample has been pushed.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Number of value columns per sample.
    pub fn columns(&self) -> usize {
        self.values.len()
    }

    /// Timestamp resolution in milliseconds.
    pub fn unit_ms(&self) -> i64 {
        self.unit_ms
    }

    /// Timestamp of the first sample as it will decode (floored to the unit).
    pub fn first_ts(&self) -> Option<i64> {
        (self.count > 0).then(|| self.first_tick.wrapping_mul(self.unit_ms))
    }

    /// Timestamp of the last sample as it will decode (floored to the unit).
    pub fn last_ts(&self) -> Option<i64> {
        (self.count > 0).then(|| self.ts.last().wrapping_mul(self.unit_ms))
    }

    fn write_header(&self, out: &mut Vec<u8>) {
        out.push(FORMAT_VERSION);
        out.push(self.columns() as u8);
        put_uvarint(out, self.unit_ms as u64);
        put_uvarint(out, u64::from(self.count));
        put_ivarint(out, self.first_tick);
    }

    /// Size in bytes of [`ChunkEncoder::to_bytes`].
    pub fn encoded_len(&self) -> usize {
        let mut header = Vec::with_capacity(32);
        self.write_header(&mut header);
        header.len() + self.bits.byte_len()
    }

    /// Bits of sample data written so far (the payload after the header).
    pub fn bit_len(&self) -> usize {
        self.bits.bit_len()
    }

    /// Payload bits `from..to`, packed and zero-padded: with [`assemble_chunk`] this persists a
    /// head incrementally (only the bits added since the last flush).
    pub fn payload_bits(&self, from: usize, to: usize) -> Vec<u8> {
        self.bits.copy_bits(from, to)
    }

    /// The first sample's tick (timestamp / unit), the header field payload bits depend on.
    pub fn first_tick(&self) -> i64 {
        self.first_tick
    }

    /// Appends the encoded chunk to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        self.write_header(out);
        self.bits.append_to(out);
    }

    /// The encoded chunk as it stands now; pushing more samples later is still possible.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24 + self.bits.byte_len());
        self.write_to(&mut out);
        out
    }
}

/// Builds a chunk from its parts: header fields plus payload pieces `(bytes, bit count)` in order
/// (as [`ChunkEncoder::payload_bits`] produced them). `version` is the codec format of the encoder
/// that wrote the bits ([`FORMAT_VERSION`] for this build; persisted bits of an older build keep
/// theirs). The result decodes like the original chunk.
pub fn assemble_chunk(
    version: u8,
    columns: usize,
    unit_ms: i64,
    count: u32,
    first_tick: i64,
    pieces: &[(&[u8], usize)],
) -> Vec<u8> {
    let total: usize = pieces.iter().map(|(_, n)| n).sum();
    let mut bits = BitWriter::with_capacity(total.div_ceil(64) * 8);
    for (bytes, n) in pieces {
        bits.append_reader(&mut BitReader::new(bytes), *n);
    }
    let mut out = Vec::with_capacity(24 + bits.byte_len());
    out.push(version);
    out.push(columns as u8);
    put_uvarint(&mut out, unit_ms.max(1) as u64);
    put_uvarint(&mut out, u64::from(count));
    put_ivarint(&mut out, first_tick);
    bits.append_to(&mut out);
    out
}

/// Streaming decoder over an encoded chunk. It never panics on malformed input.
#[derive(Debug, Clone)]
pub struct ChunkDecoder<'a> {
    reader: BitReader<'a>,
    columns: usize,
    unit_ms: i64,
    count: u32,
    decoded: u32,
    first_tick: i64,
    ts: TimestampDecoder,
    values: [ValueDecoder; MAX_COLUMNS],
}

impl<'a> ChunkDecoder<'a> {
    /// Parses and validates the chunk header.
    pub fn new(bytes: &'a [u8]) -> Result<Self> {
        let (&version, rest) = bytes
            .split_first()
            .ok_or(TsdbError::Corrupt("empty chunk"))?;
        if !(OLDEST_READ_VERSION..=FORMAT_VERSION).contains(&version) {
            return Err(TsdbError::UnsupportedVersion(version));
        }
        let (&columns, mut rest) = rest
            .split_first()
            .ok_or(TsdbError::Corrupt("chunk header truncated"))?;
        let columns = usize::from(columns);
        if columns == 0 || columns > MAX_COLUMNS {
            return Err(TsdbError::Corrupt("bad column count"));
        }
        let unit_ms = get_uvarint(&mut rest)?;
        if unit_ms == 0 || unit_ms > i64::MAX as u64 {
            return Err(TsdbError::Corrupt("bad time unit"));
        }
        let count = u32::try_from(get_uvarint(&mut rest)?)
            .map_err(|_| TsdbError::Corrupt("bad sample count"))?;
        let first_tick = get_ivarint(&mut rest)?;
        let reader = BitReader::new(rest);
        // Every sample costs at least one bit per column, plus one timestamp bit after the first.
        let min_bits = if count == 0 {
            0
        } else {
            (u64::from(count) - 1) * (columns as u64 + 1) + columns as u64
        };
        if min_bits > reader.remaining() as u64 {
            return Err(TsdbError::Corrupt("sample count exceeds payload"));
        }
        Ok(ChunkDecoder {
            reader,
            columns,
            unit_ms: unit_ms as i64,
            count,
            decoded: 0,
            first_tick,
            ts: TimestampDecoder::new(first_tick),
            values: [ValueDecoder::new(version); MAX_COLUMNS],
        })
    }

    /// Number of value columns per sample.
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// Number of samples the header announces.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether the chunk holds no samples.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Timestamp resolution in milliseconds.
    pub fn unit_ms(&self) -> i64 {
        self.unit_ms
    }

    /// Timestamp of the first sample, from the header.
    pub fn first_ts(&self) -> Option<i64> {
        (self.count > 0).then(|| self.first_tick.wrapping_mul(self.unit_ms))
    }

    /// Decodes the next sample's values into `out[..columns]` and returns its timestamp, or `None`
    /// after the last sample (at which point the end of the payload has been validated).
    #[inline(always)]
    pub fn next_into(&mut self, out: &mut [f64]) -> Result<Option<i64>> {
        if out.len() < self.columns {
            return Err(TsdbError::InvalidArgument(
                "output slice shorter than columns",
            ));
        }
        if self.decoded == self.count {
            self.reader.finish()?;
            return Ok(None);
        }
        let tick = if self.decoded == 0 {
            self.first_tick
        } else {
            self.ts.next(&mut self.reader)?
        };
        for (dec, slot) in self.values[..self.columns].iter_mut().zip(out.iter_mut()) {
            *slot = dec.next(&mut self.reader)?;
        }
        self.decoded += 1;
        Ok(Some(tick.wrapping_mul(self.unit_ms)))
    }
}

/// A fully decoded chunk: `values` is row-major, `columns` entries per timestamp.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedChunk {
    /// Number of value columns per sample.
    pub columns: usize,
    /// Sample timestamps in stored order.
    pub timestamps: Vec<i64>,
    /// Sample values, `columns` per timestamp.
    pub values: Vec<f64>,
}

/// Decodes a whole chunk, validating it end to end.
pub fn decode_chunk(bytes: &[u8]) -> Result<DecodedChunk> {
    let mut dec = ChunkDecoder::new(bytes)?;
    let columns = dec.columns();
    let mut timestamps = Vec::with_capacity(dec.len());
    let mut values = Vec::with_capacity(dec.len() * columns);
    let mut row = [0.0; MAX_COLUMNS];
    while let Some(ts) = dec.next_into(&mut row)? {
        timestamps.push(ts);
        values.extend_from_slice(&row[..columns]);
    }
    Ok(DecodedChunk {
        columns,
        timestamps,
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::aggregate::round_significant;
    use proptest::prelude::*;

    fn encode(samples: &[(i64, f64)], unit: i64) -> Vec<u8> {
        let mut enc = ChunkEncoder::new(1, unit).unwrap();
        for &(t, v) in samples {
            enc.push(t, &[v]).unwrap();
        }
        assert_eq!(enc.encoded_len(), enc.to_bytes().len());
        enc.to_bytes()
    }

    fn any_f64() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<u64>().prop_map(f64::from_bits),
            Just(f64::NAN),
            Just(-0.0),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            (-100_000i64..100_000).prop_map(|n| n as f64 / 10.0),
            (0u64..1 << 40).prop_map(|n| n as f64),
            // Integers × 10^k (trailing zeros: the negative scales of format 3), both signs.
            (-99_999i64..100_000, 0i32..23).prop_map(|(n, k)| n as f64 * 10f64.powi(k)),
            (1i64..10_000, -8i32..20).prop_map(|(n, k)| n as f64 * 10f64.powi(k)),
            Just(f64::MAX),
            Just(f64::MIN_POSITIVE),
            Just(5e-324),
        ]
    }

    /// A value repeated a few times (runs of zero deltas) or a random one.
    fn repeating_f64() -> impl Strategy<Value = Vec<f64>> {
        (any_f64(), 1usize..6).prop_map(|(v, n)| vec![v; n])
    }

    fn any_ts() -> impl Strategy<Value = i64> {
        prop_oneof![
            any::<i64>(),
            (1_600_000_000_000i64..1_800_000_000_000),
            Just(i64::MIN),
            Just(i64::MAX),
        ]
    }

    proptest! {
        #[test]
        fn round_trips_arbitrary_samples(samples in proptest::collection::vec((any_ts(), any_f64()), 0..300)) {
            let bytes = encode(&samples, 1);
            let decoded = decode_chunk(&bytes).unwrap();
            prop_assert_eq!(decoded.timestamps.len(), samples.len());
            for (i, &(t, v)) in samples.iter().enumerate() {
                prop_assert_eq!(decoded.timestamps[i], t);
                prop_assert_eq!(decoded.values[i].to_bits(), v.to_bits());
            }
        }

        #[test]
        fn round_trips_irregular_series(start in 1_600_000_000_000i64..1_700_000_000_000,
                                        steps in proptest::collection::vec((0i64..100_000, -1000i64..1000), 1..500)) {
            let mut t = start;
            let mut v = 0i64;
            let mut samples = Vec::new();
            for (dt, dv) in steps {
                t += dt;
                v += dv;
                samples.push((t, v as f64 / 10.0));
            }
            let bytes = encode(&samples, 1);
            let decoded = decode_chunk(&bytes).unwrap();
            let got: Vec<(i64, u64)> = decoded.timestamps.iter().zip(&decoded.values).map(|(&t, v)| (t, v.to_bits())).collect();
            let want: Vec<(i64, u64)> = samples.iter().map(|&(t, v)| (t, v.to_bits())).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn round_trips_repeated_rates_at_irregular_times(start in 1_600_000_000_000i64..1_700_000_000_000,
                                                         runs in proptest::collection::vec((0i64..100_000, repeating_f64()), 1..120),
                                                         unit in prop_oneof![Just(1i64), Just(1000)]) {
            let mut t = start;
            let mut samples = Vec::new();
            for (dt, values) in runs {
                for v in values {
                    t += dt;
                    samples.push((t, v));
                }
            }
            let bytes = encode(&samples, unit);
            prop_assert_eq!(bytes[0], FORMAT_VERSION);
            let decoded = decode_chunk(&bytes).unwrap();
            let got: Vec<(i64, u64)> = decoded.timestamps.iter().zip(&decoded.values).map(|(&t, v)| (t, v.to_bits())).collect();
            let want: Vec<(i64, u64)> = samples.iter().map(|&(t, v)| (t.div_euclid(unit) * unit, v.to_bits())).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn round_trips_four_digit_rates(start in 1_600_000_000_000i64..1_700_000_000_000,
                                        steps in proptest::collection::vec((1i64..60_000, 1u64..10_000, -2i32..12), 1..400)) {
            // What the writer stores for byte rates: 4 significant digits at any magnitude, which
            // moves the decimal scale up and down.
            let mut t = start;
            let samples: Vec<(i64, f64)> = steps
                .iter()
                .map(|&(dt, sig, k)| {
                    t += dt;
                    (t, sig as f64 * 10f64.powi(k))
                })
                .collect();
            let decoded = decode_chunk(&encode(&samples, 1)).unwrap();
            let got: Vec<u64> = decoded.values.iter().map(|v| v.to_bits()).collect();
            let want: Vec<u64> = samples.iter().map(|s| s.1.to_bits()).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = decode_chunk(&bytes);
            for version in OLDEST_READ_VERSION..=FORMAT_VERSION {
                let mut framed = vec![version, 1 + bytes.first().copied().unwrap_or(0) % 4];
                framed.extend_from_slice(&bytes);
                let _ = decode_chunk(&framed);
            }
        }

        #[test]
        fn truncation_and_trailing_garbage_are_errors(samples in proptest::collection::vec((any_ts(), any_f64()), 1..100), cut in any::<proptest::sample::Index>()) {
            let bytes = encode(&samples, 1);
            let cut = cut.index(bytes.len());
            prop_assert!(decode_chunk(&bytes[..cut]).is_err());
            let mut longer = bytes.clone();
            longer.push(0);
            prop_assert!(decode_chunk(&longer).is_err());
        }

        #[test]
        fn multi_column_round_trip(rows in proptest::collection::vec((-(1i64 << 50)..(1i64 << 50), any_f64(), any_f64(), any_f64(), any_f64()), 0..100)) {
            let mut enc = ChunkEncoder::new(4, 60_000).unwrap();
            for &(t, a, b, c, d) in &rows {
                enc.push(t.div_euclid(60_000).wrapping_mul(60_000), &[a, b, c, d]).unwrap();
            }
            let decoded = decode_chunk(&enc.to_bytes()).unwrap();
            prop_assert_eq!(decoded.columns, 4);
            for (i, &(t, a, b, c, d)) in rows.iter().enumerate() {
                prop_assert_eq!(decoded.timestamps[i], t.div_euclid(60_000).wrapping_mul(60_000));
                let row: Vec<u64> = decoded.values[i * 4..i * 4 + 4].iter().map(|v| v.to_bits()).collect();
                prop_assert_eq!(row, vec![a.to_bits(), b.to_bits(), c.to_bits(), d.to_bits()]);
            }
        }
    }

    proptest! {
        #[test]
        fn assembled_pieces_decode_like_the_whole(samples in proptest::collection::vec((0i64..1_000_000, any_f64()), 1..200),
                                                  cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..4)) {
            let mut enc = ChunkEncoder::new(1, 1000).unwrap();
            let mut t = 1_700_000_000_000i64;
            let mut marks = vec![(0usize, 0usize)];
            let mut cut_at: Vec<usize> = cuts.iter().map(|c| c.index(samples.len())).collect();
            cut_at.sort_unstable();
            for (i, &(dt, v)) in samples.iter().enumerate() {
                t += dt;
                enc.push(t, &[v]).unwrap();
                if cut_at.contains(&(i + 1)) {
                    marks.push((i + 1, enc.bit_len()));
                }
            }
            marks.push((samples.len(), enc.bit_len()));
            let pieces: Vec<(Vec<u8>, usize)> = marks
                .windows(2)
                .map(|w| (enc.payload_bits(w[0].1, w[1].1), w[1].1 - w[0].1))
                .collect();
            let refs: Vec<(&[u8], usize)> = pieces.iter().map(|(b, n)| (b.as_slice(), *n)).collect();
            let whole = assemble_chunk(FORMAT_VERSION, 1, 1000, samples.len() as u32, enc.first_tick(), &refs);
            prop_assert_eq!(whole, enc.to_bytes());
        }
    }

    #[test]
    fn header_fields_and_errors() {
        let bytes = encode(&[(10_400, 1.0), (20_600, 2.0)], 1000);
        let dec = ChunkDecoder::new(&bytes).unwrap();
        assert_eq!((dec.len(), dec.columns(), dec.unit_ms()), (2, 1, 1000));
        assert_eq!(dec.first_ts(), Some(10_000));
        assert_eq!(
            decode_chunk(&bytes).unwrap().timestamps,
            vec![10_000, 20_000]
        );
        let mut wrong = bytes.clone();
        wrong[0] = 9;
        assert!(matches!(
            decode_chunk(&wrong),
            Err(TsdbError::UnsupportedVersion(9))
        ));
        assert!(ChunkEncoder::new(0, 1).is_err());
        assert!(ChunkEncoder::new(1, 0).is_err());
        let mut enc = ChunkEncoder::new(2, 1).unwrap();
        assert!(enc.push(1, &[1.0]).is_err());
        let empty = ChunkEncoder::new(1, 1).unwrap();
        assert!(empty.first_ts().is_none() && empty.is_empty());
        assert!(decode_chunk(&empty.to_bytes())
            .unwrap()
            .timestamps
            .is_empty());
    }

    #[test]
    fn encoders_hold_one_value_state_per_column() {
        // Every series keeps an open raw encoder (docs/performance.md, issue 2).
        assert!(std::mem::size_of::<ChunkEncoder>() <= 96);
        for columns in 1..=MAX_COLUMNS {
            let mut enc = ChunkEncoder::new(columns, 1000).unwrap();
            assert_eq!(enc.columns(), columns);
            let row: Vec<f64> = (0..columns).map(|c| c as f64 + 0.5).collect();
            enc.push(5_000, &row).unwrap();
            enc.push(9_000, &row).unwrap();
            assert!(enc.push(10_000, &row[..columns - 1]).is_err());
            assert_eq!((enc.first_ts(), enc.last_ts()), (Some(5_000), Some(9_000)));
            let dec = decode_chunk(&enc.to_bytes()).unwrap();
            assert_eq!(dec.columns, columns);
            assert_eq!(dec.values, [row.clone(), row].concat());
        }
    }

    /// Deterministic rows exercising every coding path: 1-decimal percentages, 4-significant-digit
    /// rates (scale shifts both ways), byte gauges, repeats, non-decimal values (NaN, ±Inf, −0.0,
    /// 1/3, huge and tiny), XOR columns, jittered, irregular and out-of-order timestamps.
    fn golden_rows(columns: usize, n: usize, seed: u64) -> Vec<(i64, Vec<f64>)> {
        let mut state = seed;
        let mut next = move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let mut t = 1_700_000_000_000i64;
        let mut level = [40.0f64, 9_123_000.0, 6.0e9, 1.0];
        (0..n)
            .map(|i| {
                let r = next();
                t += match r % 50 {
                    0 => -3_000,
                    1 => 600_000,
                    _ => 10_000 + (r >> 8) as i64 % 401 - 200,
                };
                let row = (0..columns)
                    .map(|c| {
                        let r = next();
                        let kind = (c + (i / 40)) % 4;
                        match (r % 97, kind) {
                            (0, _) => f64::NAN,
                            (1, _) => -0.0,
                            (2, _) => f64::INFINITY,
                            (3, _) => 1.0 / 3.0,
                            (4, _) => f64::from_bits(next()),
                            (5, _) => 1e300,
                            (6, _) => 5e-324,
                            (x, _) if x < 30 => level[kind],
                            (_, 0) => {
                                level[0] = (level[0] + ((r >> 16) % 41) as f64 / 10.0 - 2.0)
                                    .clamp(0.0, 100.0);
                                (level[0] * 10.0).round() / 10.0
                            }
                            (_, 1) => {
                                let f = 1.0 + (((r >> 16) % 2001) as f64 - 1000.0) / 10_000.0;
                                // 4 significant digits, as the server stores rates.
                                level[1] = round_significant(level[1] * f, 4);
                                level[1]
                            }
                            (_, 2) => {
                                level[2] += (((r >> 16) % 8192) as f64 - 4096.0) * 4096.0;
                                level[2]
                            }
                            _ => f64::from_bits(0x4000_0000_0000_0000 ^ (r >> 20)),
                        }
                    })
                    .collect();
                (t, row)
            })
            .collect()
    }

    /// The encoder's in-memory layout may change, its bytes may not: stores hold them (and WAL
    /// runs are its payload bits). The checksum was taken from the encoder before the issue-2
    /// layout changes.
    #[test]
    fn encoded_bytes_are_unchanged() {
        let mut crc = crc32fast::Hasher::new();
        let mut total = 0;
        for (columns, unit) in [(1, 1), (1, 1000), (4, 60_000), (2, 1), (3, 1000)] {
            for seed in 0..8u64 {
                let rows =
                    golden_rows(columns, 20 + 150 * seed as usize, seed + 7 * columns as u64);
                let mut enc = ChunkEncoder::new(columns, unit).unwrap();
                let mut marks = vec![0];
                for (i, (t, row)) in rows.iter().enumerate() {
                    enc.push(*t, row).unwrap();
                    if i % 37 == 36 {
                        marks.push(enc.bit_len());
                    }
                }
                marks.push(enc.bit_len());
                let bytes = enc.to_bytes();
                assert_eq!(bytes.len(), enc.encoded_len());
                let dec = decode_chunk(&bytes).unwrap();
                let want: Vec<u64> = rows
                    .iter()
                    .flat_map(|(_, r)| r.iter().map(|v| v.to_bits()))
                    .collect();
                let got: Vec<u64> = dec.values.iter().map(|v| v.to_bits()).collect();
                assert_eq!(got, want);
                crc.update(&bytes);
                total += bytes.len();
                // The WAL's incremental pieces, reassembled.
                let pieces: Vec<(Vec<u8>, usize)> = marks
                    .windows(2)
                    .map(|w| (enc.payload_bits(w[0], w[1]), w[1] - w[0]))
                    .collect();
                for (p, _) in &pieces {
                    crc.update(p);
                }
                let refs: Vec<(&[u8], usize)> =
                    pieces.iter().map(|(b, n)| (b.as_slice(), *n)).collect();
                let whole = assemble_chunk(
                    FORMAT_VERSION,
                    columns,
                    unit,
                    rows.len() as u32,
                    enc.first_tick(),
                    &refs,
                );
                assert_eq!(whole, bytes);
            }
        }
        assert_eq!((total, crc.finalize()), (307_575, 524_661_375));
    }

    #[test]
    fn repeated_values_cost_about_two_bits() {
        let samples: Vec<(i64, f64)> = (0..1000)
            .map(|i| (1_700_000_000_000 + i * 10_000, 42.5))
            .collect();
        let bytes = encode(&samples, 1);
        assert!(bytes.len() < 1000 / 4 + 40, "{} bytes", bytes.len());
    }
}

#[cfg(test)]
pub(crate) mod format2 {
    //! Chunks written by the codec format 2 encoder (captured from the build before format 3):
    //! stores on disk hold them, so this build must decode them bit-exactly forever.

    use super::*;

    /// The samples of the single-column fixtures.
    pub(crate) fn rows() -> Vec<(i64, f64)> {
        vec![
            (1_700_000_000_000, 9_123_000.0),
            (1_700_000_010_000, 9_124_500.0),
            (1_700_000_020_000, 9_124_500.0),
            (1_700_000_031_000, 23.45),
            (1_700_000_040_000, f64::NAN),
            (1_700_000_050_000, -0.0),
            (1_700_000_060_000, f64::INFINITY),
            (1_700_000_070_000, 1.0 / 3.0),
            (1_700_000_069_000, -17.0),
            (1_700_000_080_000, 1e300),
            (1_700_000_090_000, 12_000_000_000.0),
        ]
    }

    /// Decimal mode from the first value, exponent rescales and raw escapes; 1 s unit.
    pub(crate) const DECIMAL: &[u8] = &[
        2, 1, 232, 7, 11, 128, 196, 159, 213, 12, 135, 255, 255, 225, 102, 151, 124, 43, 254, 119,
        228, 127, 255, 255, 255, 255, 255, 233, 0, 0, 0, 0, 0, 0, 4, 148, 219, 255, 255, 255, 255,
        255, 255, 63, 252, 0, 0, 0, 0, 0, 0, 71, 255, 255, 255, 255, 255, 255, 64, 0, 0, 0, 0, 0,
        0, 0, 63, 255, 255, 255, 255, 255, 243, 255, 128, 0, 0, 0, 0, 0, 3, 255, 255, 255, 255,
        255, 255, 31, 234, 170, 170, 170, 170, 170, 170, 238, 191, 239, 184, 195, 63, 255, 255,
        255, 255, 255, 243, 241, 191, 33, 228, 64, 3, 172, 229, 255, 255, 255, 255, 248, 93, 150,
        75, 155, 142,
    ];
    /// Header bytes of [`DECIMAL`]: version, columns, unit 1000 (2), count, first tick (5).
    pub(crate) const DECIMAL_HEADER: usize = 10;
    /// The first tick (seconds) of [`DECIMAL`].
    pub(crate) const DECIMAL_FIRST_TICK: i64 = 1_700_000_000;
    /// The same rows in reverse order at 1 ms resolution.
    const REVERSED: &[u8] = &[
        2, 1, 1, 11, 160, 158, 182, 254, 249, 98, 135, 255, 255, 255, 249, 150, 130, 240, 7, 247,
        236, 120, 127, 255, 255, 255, 255, 255, 231, 227, 126, 67, 200, 128, 7, 89, 206, 193, 143,
        255, 255, 255, 243, 45, 5, 224, 81, 224, 46, 224, 255, 255, 255, 255, 255, 255, 199, 250,
        170, 170, 170, 170, 170, 170, 190, 253, 80, 143, 255, 255, 255, 255, 255, 252, 255, 224, 0,
        0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 208, 0, 0, 0, 0, 0, 0, 0, 15, 255, 255, 255,
        255, 255, 252, 255, 240, 0, 0, 0, 0, 0, 1, 199, 209, 255, 255, 255, 255, 255, 255, 72, 0,
        0, 0, 0, 0, 0, 36, 167, 160, 195, 255, 255, 214, 98, 220, 166, 241, 244, 28, 201, 239, 0,
    ];
    /// Two columns: `1 / (v + 3)` (XOR mode) and `v`.
    const TWO_COLUMNS: &[u8] = &[
        2, 2, 1, 11, 128, 160, 171, 254, 249, 98, 98, 243, 231, 214, 200, 205, 4, 238, 5, 176, 255,
        255, 252, 44, 210, 239, 224, 39, 16, 128, 0, 7, 195, 31, 36, 81, 233, 255, 59, 241, 199,
        209, 3, 188, 96, 114, 190, 185, 5, 255, 255, 255, 255, 255, 255, 254, 144, 0, 0, 0, 0, 0,
        0, 73, 79, 65, 134, 31, 32, 45, 173, 187, 72, 27, 25, 167, 255, 255, 255, 255, 255, 255,
        159, 254, 0, 0, 0, 0, 0, 0, 56, 250, 48, 253, 0, 181, 85, 85, 85, 85, 85, 87, 255, 255,
        255, 255, 255, 255, 64, 0, 0, 0, 0, 0, 0, 0, 39, 250, 170, 170, 170, 170, 170, 170, 191,
        255, 255, 255, 255, 255, 249, 255, 192, 0, 0, 0, 0, 0, 1, 63, 211, 51, 51, 51, 51, 51, 51,
        255, 255, 255, 255, 255, 255, 199, 250, 170, 170, 170, 170, 170, 170, 190, 253, 80, 140,
        31, 192, 48, 189, 11, 208, 189, 11, 208, 255, 190, 227, 192, 93, 193, 95, 11, 147, 157,
        168, 88, 235, 229, 255, 255, 255, 255, 255, 255, 231, 227, 126, 67, 200, 128, 7, 89, 206,
        193, 136, 241, 206, 24, 64, 139, 143, 12, 67, 255, 255, 255, 255, 133, 217, 100, 185, 184,
        224,
    ];
    /// A four-column rollup-like chunk at 1 min resolution.
    const ROLLUP: &[u8] = &[
        2, 4, 224, 212, 3, 5, 172, 212, 130, 27, 191, 255, 255, 253, 173, 230, 140, 99, 134, 95,
        254, 54, 70, 8, 255, 255, 254, 49, 45, 7, 125, 59, 27, 255, 254, 49, 45, 255, 122, 182, 55,
        255, 198, 39, 159, 238, 205, 141, 255, 140, 107, 63, 221, 155, 24,
    ];

    fn bits(values: &[f64]) -> Vec<u64> {
        values.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn format_2_chunks_still_decode_bit_exactly() {
        let rows = rows();
        let floor = |t: i64| t.div_euclid(1000) * 1000;
        let values: Vec<f64> = rows.iter().map(|r| r.1).collect();

        let dec = decode_chunk(DECIMAL).expect("format 2 decimal chunk");
        assert_eq!(DECIMAL[0], 2);
        let ts: Vec<i64> = rows.iter().map(|r| floor(r.0)).collect();
        assert_eq!(dec.timestamps, ts);
        assert_eq!(bits(&dec.values), bits(&values));

        let dec = decode_chunk(REVERSED).expect("format 2 reversed chunk");
        let ts: Vec<i64> = rows.iter().rev().map(|r| r.0).collect();
        let rev: Vec<f64> = values.iter().rev().copied().collect();
        assert_eq!(dec.timestamps, ts);
        assert_eq!(bits(&dec.values), bits(&rev));

        let dec = decode_chunk(TWO_COLUMNS).expect("format 2 two-column chunk");
        let both: Vec<f64> = values.iter().flat_map(|&v| [1.0 / (v + 3.0), v]).collect();
        assert_eq!(dec.columns, 2);
        assert_eq!(bits(&dec.values), bits(&both));

        let dec = decode_chunk(ROLLUP).expect("format 2 rollup chunk");
        let want: Vec<f64> = (0..5i64)
            .flat_map(|i| [12.3456789 + i as f64, 0.5, 99.25 - i as f64, (6 * i) as f64])
            .collect();
        let ts: Vec<i64> = (0..5i64)
            .map(|i| (1_700_000_040_000 + i * 60_000) / 60_000 * 60_000)
            .collect();
        assert_eq!(dec.timestamps, ts);
        assert_eq!(bits(&dec.values), bits(&want));
    }

    #[test]
    fn format_2_pieces_assemble_as_format_2() {
        // A persisted head's bits keep their codec format (WAL replay after an upgrade).
        let payload = &DECIMAL[DECIMAL_HEADER..];
        let tick = DECIMAL_FIRST_TICK;
        let whole = assemble_chunk(2, 1, 1000, 11, tick, &[(payload, payload.len() * 8)]);
        assert_eq!(whole, DECIMAL);
        // Labelled with the current format the same bits do not mean the same values.
        let mut wrong = whole.clone();
        wrong[0] = FORMAT_VERSION;
        let want = bits(&decode_chunk(DECIMAL).expect("fixture").values);
        assert_ne!(
            decode_chunk(&wrong).ok().map(|d| bits(&d.values)),
            Some(want)
        );
    }
}
