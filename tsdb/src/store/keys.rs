//! On-disk key layout inside the store's sled tree (store format 3).
//!
//! ```text
//! "F"                                  store format record (see open.rs)
//! "N"                                  counters (samples written, u64 BE)
//! "I" id:u32                           series key of series id `id`
//! "X" tier:u8 window:8 bundle:u32      a bundle's index: its block record (file offset, length)
//!                                      and the series, time span and offset of each chunk in it
//! "B" tier:u8 window:8 bundle:u32      store format 2 only: the bundle payload (now in block files,
//!                                      see blocks.rs); read once to migrate
//! "L" seq:u64 part:u16                 store format 2 only: WAL segment (now in WAL files, see
//!                                      wal_files.rs); read once to migrate
//! ```
//!
//! Timestamps are sign-flipped big-endian so byte order is time order: index entries are appended
//! at the right edge of the tree in time order and retention deletes whole windows as contiguous
//! key ranges.

use crate::error::{Result, TsdbError};

/// Format record key.
pub(crate) const FORMAT_KEY: &[u8] = b"F";
/// Counters record key.
pub(crate) const COUNTERS_KEY: &[u8] = b"N";
/// Kind byte of series-id records.
pub(crate) const SERIES: u8 = b'I';
/// Kind byte of bundle payloads of store format 2 (migrated on open).
pub(crate) const BUNDLE: u8 = b'B';
/// Kind byte of bundle indexes.
pub(crate) const INDEX: u8 = b'X';
/// Kind byte of WAL segments of store format 2 (migrated on open).
pub(crate) const SEGMENT: u8 = b'L';

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

/// `"I" id`.
pub(crate) fn series_key(id: u32) -> [u8; 5] {
    let mut k = [SERIES, 0, 0, 0, 0];
    k[1..].copy_from_slice(&id.to_be_bytes());
    k
}

/// Parses an `"I"` key.
pub(crate) fn parse_series_key(key: &[u8]) -> Result<u32> {
    match key {
        [SERIES, rest @ ..] => {
            Ok(u32::from_be_bytes(rest.try_into().map_err(|_| {
                TsdbError::Corrupt("malformed series id key")
            })?))
        }
        _ => Err(TsdbError::Corrupt("malformed series id key")),
    }
}

/// `kind tier window bundle` for [`BUNDLE`] and [`INDEX`] keys.
pub(crate) fn bundle_key(kind: u8, tier: u8, window: i64, bundle: u32) -> [u8; 14] {
    let mut k = [0u8; 14];
    k[0] = kind;
    k[1] = tier;
    k[2..10].copy_from_slice(&encode_ts(window));
    k[10..].copy_from_slice(&bundle.to_be_bytes());
    k
}

/// Parses a bundle or index key into `(tier, window, bundle)`.
pub(crate) fn parse_bundle_key(key: &[u8]) -> Result<(u8, i64, u32)> {
    if key.len() != 14 {
        return Err(TsdbError::Corrupt("malformed bundle key"));
    }
    let bundle = u32::from_be_bytes([key[10], key[11], key[12], key[13]]);
    Ok((key[1], decode_ts(&key[2..10])?, bundle))
}

/// `"L" seq part`.
#[cfg(test)]
pub(crate) fn segment_key(seq: u64, part: u16) -> [u8; 11] {
    let mut k = [0u8; 11];
    k[0] = SEGMENT;
    k[1..9].copy_from_slice(&seq.to_be_bytes());
    k[9..].copy_from_slice(&part.to_be_bytes());
    k
}

/// Parses a segment key into `(seq, part)`.
pub(crate) fn parse_segment_key(key: &[u8]) -> Result<(u64, u16)> {
    if key.len() != 11 || key[0] != SEGMENT {
        return Err(TsdbError::Corrupt("malformed segment key"));
    }
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&key[1..9]);
    Ok((
        u64::from_be_bytes(seq),
        u16::from_be_bytes([key[9], key[10]]),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_sort_by_time() {
        let ts = [i64::MIN, -5, -1, 0, 1, 1_700_000_000_000, i64::MAX];
        for w in ts.windows(2) {
            assert!(encode_ts(w[0]) < encode_ts(w[1]));
            assert!(bundle_key(BUNDLE, 0, w[0], 9) < bundle_key(BUNDLE, 0, w[1], 0));
        }
        for t in ts {
            assert_eq!(decode_ts(&encode_ts(t)).unwrap(), t);
        }
        assert_eq!(parse_series_key(&series_key(77)).unwrap(), 77);
        assert!(parse_series_key(b"I12").is_err());
        let k = bundle_key(INDEX, 2, -3, 5);
        assert_eq!(parse_bundle_key(&k).unwrap(), (2, -3, 5));
        assert!(parse_bundle_key(&k[..13]).is_err());
        assert_eq!(parse_segment_key(&segment_key(9, 2)).unwrap(), (9, 2));
        assert!(segment_key(1, 9) < segment_key(2, 0));
        assert!(parse_segment_key(b"L").is_err());
        assert!(decode_ts(b"short").is_err());
    }
}
