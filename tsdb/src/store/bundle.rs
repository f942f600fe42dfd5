//! Bundles: the sealed chunks of many series for one tier window, written once as one block
//! record (at most [`BUNDLE_TARGET_BYTES`], see blocks.rs) plus a small index value in sled.
//!
//! Bundle payload: `[version]` then the chunks back to back. Index value (version 2):
//! `[2] record offset (uvarint) payload length (uvarint) count (uvarint)` then per chunk
//! `series (uvarint) start−window (ivarint) (end−start)·2+complete (uvarint) len (uvarint)`, where
//! `complete` says the chunk was sealed at its window's end (not early for size); offsets inside
//! the payload follow from the lengths. Opening the store reads only indexes, never chunk data.
//! Version 1 (store format 2) had no record address: the payload was a sled value of its own.

use crate::codec::varint::{get_ivarint, get_uvarint, put_ivarint, put_uvarint};
use crate::error::{Result, TsdbError};

/// Bundle payload format version.
const VERSION: u8 = 1;
/// Index format version of store format 3 (with the block record address).
const INDEX_VERSION: u8 = 2;
/// Index format version of store format 2 (payload in sled), read only to migrate.
const LEGACY_INDEX_VERSION: u8 = 1;
/// Bundles are cut before they would exceed this (a few reads of a query share one record).
pub(crate) const BUNDLE_TARGET_BYTES: usize = 60 * 1024;

/// One chunk going into a bundle.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<'a> {
    pub series: u32,
    pub start: i64,
    pub end: i64,
    /// The chunk holds its window to the end (not sealed early for size).
    pub complete: bool,
    pub bytes: &'a [u8],
}

/// Where a chunk lies inside its bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Located {
    pub series: u32,
    pub start: i64,
    pub end: i64,
    pub complete: bool,
    pub offset: u32,
    pub len: u32,
}

/// Encodes one bundle payload and the body of its index (see [`index_value`]); `entries` must fit
/// one bundle.
pub(crate) fn encode(window: i64, entries: &[Entry<'_>]) -> (Vec<u8>, Vec<u8>) {
    let size: usize = entries.iter().map(|e| e.bytes.len()).sum();
    let mut data = Vec::with_capacity(1 + size);
    let mut index = Vec::with_capacity(4 + entries.len() * 8);
    data.push(VERSION);
    put_uvarint(&mut index, entries.len() as u64);
    for e in entries {
        data.extend_from_slice(e.bytes);
        put_uvarint(&mut index, u64::from(e.series));
        put_ivarint(&mut index, e.start.wrapping_sub(window));
        put_uvarint(
            &mut index,
            ((e.end.wrapping_sub(e.start) as u64) << 1) | u64::from(e.complete),
        );
        put_uvarint(&mut index, e.bytes.len() as u64);
    }
    (data, index)
}

/// Splits `entries` into groups that each fit one bundle (an oversized chunk gets its own).
pub(crate) fn split<'a, 'b>(entries: &'b [Entry<'a>]) -> Vec<&'b [Entry<'a>]> {
    let mut groups = Vec::new();
    let (mut from, mut size) = (0, 0);
    for (i, e) in entries.iter().enumerate() {
        if i > from && size + e.bytes.len() > BUNDLE_TARGET_BYTES {
            groups.push(&entries[from..i]);
            from = i;
            size = 0;
        }
        size += e.bytes.len();
    }
    if from < entries.len() {
        groups.push(&entries[from..]);
    }
    groups
}

/// The index value of a bundle whose payload is the block record at `offset` of `len` bytes.
pub(crate) fn index_value(offset: u64, len: u32, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(body.len() + 12);
    v.push(INDEX_VERSION);
    put_uvarint(&mut v, offset);
    put_uvarint(&mut v, u64::from(len));
    v.extend_from_slice(body);
    v
}

/// A decoded index value: the block record `(offset, payload length)` (`None` in a legacy
/// index of store format 2) and the chunks.
pub(crate) type Index = (Option<(u64, u32)>, Vec<Located>);

/// Decodes an index value of either version.
pub(crate) fn decode_index(window: i64, bytes: &[u8]) -> Result<Index> {
    let bad = TsdbError::Corrupt("malformed bundle index");
    let (&version, mut rest) = bytes.split_first().ok_or(bad)?;
    let record = match version {
        INDEX_VERSION => {
            let offset = get_uvarint(&mut rest)?;
            let len = u32::try_from(get_uvarint(&mut rest)?)
                .map_err(|_| TsdbError::Corrupt("bundle length out of range"))?;
            Some((offset, len))
        }
        LEGACY_INDEX_VERSION => None,
        v => return Err(TsdbError::UnsupportedVersion(v)),
    };
    Ok((record, decode_body(window, rest)?))
}

/// The body of a legacy (version 1) index value, for migration.
pub(crate) fn legacy_body(bytes: &[u8]) -> Result<&[u8]> {
    match bytes.split_first() {
        Some((&LEGACY_INDEX_VERSION, body)) => Ok(body),
        Some((&v, _)) => Err(TsdbError::UnsupportedVersion(v)),
        None => Err(TsdbError::Corrupt("malformed bundle index")),
    }
}

/// Decodes the chunk list of an index value (its body, after the version and record address).
pub(crate) fn decode_body(window: i64, mut bytes: &[u8]) -> Result<Vec<Located>> {
    let count = get_uvarint(&mut bytes)?;
    if count > bytes.len() as u64 {
        return Err(TsdbError::Corrupt("bundle index count exceeds its size"));
    }
    let mut out = Vec::with_capacity(count as usize);
    let mut offset: u64 = 1;
    for _ in 0..count {
        let series = u32::try_from(get_uvarint(&mut bytes)?)
            .map_err(|_| TsdbError::Corrupt("series id out of range"))?;
        let start = window.wrapping_add(get_ivarint(&mut bytes)?);
        let span = get_uvarint(&mut bytes)?;
        let end = start.wrapping_add((span >> 1) as i64);
        let complete = span & 1 == 1;
        let len = get_uvarint(&mut bytes)?;
        let (o, l) = (u32::try_from(offset), u32::try_from(len));
        let (Ok(offset32), Ok(len32)) = (o, l) else {
            return Err(TsdbError::Corrupt("bundle offset out of range"));
        };
        out.push(Located {
            series,
            start,
            end,
            complete,
            offset: offset32,
            len: len32,
        });
        offset += len;
    }
    if !bytes.is_empty() {
        return Err(TsdbError::Corrupt("trailing bytes in bundle index"));
    }
    Ok(out)
}

/// The chunk bytes a [`Located`] entry points at inside bundle `data`.
pub(crate) fn slice(data: &[u8], offset: u32, len: u32) -> Result<&[u8]> {
    let from = offset as usize;
    data.get(from..from + len as usize)
        .ok_or(TsdbError::Corrupt("chunk outside its bundle"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundles_round_trip_and_split_by_size() {
        let a = vec![1u8; 10];
        let b = vec![2u8; 20];
        let entries = [
            Entry {
                series: 3,
                start: 1_000,
                end: 1_900,
                complete: true,
                bytes: &a,
            },
            Entry {
                series: 70_000,
                start: 1_500,
                end: 1_500,
                complete: false,
                bytes: &b,
            },
        ];
        let (data, body) = encode(1_000, &entries);
        let index = index_value(300, data.len() as u32, &body);
        let (record, located) = decode_index(1_000, &index).unwrap();
        assert_eq!(record, Some((300, data.len() as u32)));
        let mut legacy = vec![LEGACY_INDEX_VERSION];
        legacy.extend_from_slice(&body);
        assert_eq!(
            decode_index(1_000, &legacy).unwrap(),
            (None, located.clone())
        );
        assert_eq!(legacy_body(&legacy).unwrap(), &body[..]);
        assert!(legacy_body(&index).is_err());
        assert!(decode_index(1_000, &[9]).is_err());
        assert_eq!(located.len(), 2);
        assert_eq!(
            (located[1].series, located[1].start, located[1].end),
            (70_000, 1_500, 1_500)
        );
        assert!(located[0].complete && !located[1].complete);
        assert_eq!(
            slice(&data, located[0].offset, located[0].len).unwrap(),
            &a[..]
        );
        assert_eq!(
            slice(&data, located[1].offset, located[1].len).unwrap(),
            &b[..]
        );
        assert!(slice(&data, located[1].offset, 99).is_err());
        assert!(decode_index(1_000, &index[..index.len() - 1]).is_err());
        let mut longer = index.clone();
        longer.push(0);
        assert!(decode_index(1_000, &longer).is_err());

        let big = vec![0u8; BUNDLE_TARGET_BYTES / 2 + 1];
        let many: Vec<Entry<'_>> = (0..5)
            .map(|i| Entry {
                series: i,
                start: 0,
                end: 0,
                complete: true,
                bytes: &big,
            })
            .collect();
        let groups = split(&many);
        assert_eq!(groups.len(), 5);
        assert_eq!(split(&entries).len(), 1);
        assert!(split(&[]).is_empty());
    }
}
