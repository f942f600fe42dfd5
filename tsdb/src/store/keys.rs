//! On-disk key layout inside the store's sled tree.
//!
//! ```text
//! "F"                                   store format record (see open.rs)
//! "N"                                   counters (samples written, u64 BE)
//! "H" len:u16 key tier:u8               open head chunk of a series tier (rewritten on flush)
//! "W" len:u16 key tier:u8               rollup watermark of tier ≥ 1 (i64 BE): finer data < W is rolled
//! "C" len:u16 key tier:u8 start:8       sealed chunk, start = first sample ts (sign-flipped BE)
//! ```
//!
//! The length prefix keeps series prefix-free (`a` never matches `ab`), and the sign-flipped
//! big-endian timestamp makes sled's byte order equal time order, so a time range is one range scan.

use crate::error::{Result, TsdbError};

/// Format record key.
pub(crate) const FORMAT_KEY: &[u8] = b"F";
/// Counters record key.
pub(crate) const COUNTERS_KEY: &[u8] = b"N";
/// Kind byte of head keys.
pub(crate) const HEAD: u8 = b'H';
/// Kind byte of watermark keys.
pub(crate) const WATERMARK: u8 = b'W';
/// Kind byte of sealed chunk keys.
pub(crate) const CHUNK: u8 = b'C';

/// `kind len key tier` — the full head/watermark key and the prefix of a tier's chunk keys.
pub(crate) fn series_tier_key(kind: u8, series: &[u8], tier: usize) -> Vec<u8> {
    let mut k = Vec::with_capacity(4 + series.len() + 8);
    k.push(kind);
    k.extend_from_slice(&(series.len() as u16).to_be_bytes());
    k.extend_from_slice(series);
    k.push(tier as u8);
    k
}

/// Order-preserving encoding of a timestamp.
pub(crate) fn encode_ts(ts: i64) -> [u8; 8] {
    ((ts as u64) ^ (1 << 63)).to_be_bytes()
}

/// Inverse of [`encode_ts`].
pub(crate) fn decode_ts(bytes: &[u8]) -> Result<i64> {
    let arr: [u8; 8] = bytes
        .try_into()
        .map_err(|_| TsdbError::Corrupt("timestamp field is not 8 bytes"))?;
    Ok((u64::from_be_bytes(arr) ^ (1 << 63)) as i64)
}

/// `prefix ++ encode_ts(ts)`.
pub(crate) fn with_ts(prefix: &[u8], ts: i64) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + 8);
    k.extend_from_slice(prefix);
    k.extend_from_slice(&encode_ts(ts));
    k
}

/// Splits a head or watermark key into series bytes and tier index.
pub(crate) fn parse_series_tier(key: &[u8]) -> Result<(&[u8], usize)> {
    let bad = TsdbError::Corrupt("malformed series key in store");
    let len = key.get(1..3).ok_or(bad)?;
    let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
    if key.len() != 3 + len + 1 {
        return Err(TsdbError::Corrupt("malformed series key in store"));
    }
    Ok((&key[3..3 + len], usize::from(key[3 + len])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_sort_bytewise_and_keys_parse() {
        let ts = [i64::MIN, -5, -1, 0, 1, 1_700_000_000_000, i64::MAX];
        for w in ts.windows(2) {
            assert!(encode_ts(w[0]) < encode_ts(w[1]));
        }
        for t in ts {
            assert_eq!(decode_ts(&encode_ts(t)).unwrap(), t);
        }
        let k = series_tier_key(HEAD, b"org/r1/cpu", 2);
        assert_eq!(parse_series_tier(&k).unwrap(), (&b"org/r1/cpu"[..], 2));
        assert!(parse_series_tier(&k[..k.len() - 1]).is_err());
        assert!(decode_ts(b"short").is_err());
        let a = series_tier_key(CHUNK, b"a", 0);
        let ab = series_tier_key(CHUNK, b"ab", 0);
        assert!(!ab.starts_with(&a));
    }
}
