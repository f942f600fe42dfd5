//! WAL segments: how open raw head chunks are persisted without rewriting them.
//!
//! Each flush appends one segment holding, for every raw head that grew, only the payload bits
//! added since the previous flush (a head's bit stream is append-only, see
//! [`crate::codec::ChunkEncoder::payload_bits`]). When a head is sealed its chunk goes into a bundle
//! in the same flush, and segments older than every open head's first run are no longer needed
//! (their WAL files are deleted, see wal_files.rs). On open, runs are concatenated per series and
//! the heads decoded back.
//!
//! Part layout: `[version]` (2: the payload bits are codec format 3; 1, written by earlier builds:
//! codec format 2, still replayed) then runs sorted by series id: `id−previous id (uvarint) flags (u8:
//! bit 0 = the run starts a new head) [first tick (ivarint) if new] samples (uvarint) bits (uvarint)
//! payload (⌈bits/8⌉ bytes)`. A segment is split into parts of at most [`PART_TARGET_BYTES`].

use crate::codec::varint::{get_ivarint, get_uvarint, put_ivarint, put_uvarint};
use crate::error::{Result, TsdbError};

/// Segment format version: 2 = payload bits of codec format 3 (written by this build).
const VERSION: u8 = 2;
/// Segment version 1 holds payload bits of codec format 2 (earlier builds); still replayed.
const VERSION_CODEC_2: u8 = 1;
/// Parts are cut before they would exceed this.
const PART_TARGET_BYTES: usize = 60 * 1024;
/// Flag: the run starts a new head.
const NEW_HEAD: u8 = 1;

/// Bits appended to one raw head since the last flush.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Run {
    pub series: u32,
    /// `Some(first tick)` when the run starts a new head.
    pub new_head: Option<i64>,
    pub samples: u32,
    pub bits: usize,
    pub payload: Vec<u8>,
}

/// Encodes runs (any order) into segment parts.
pub(crate) fn encode(runs: &mut [Run]) -> Vec<Vec<u8>> {
    runs.sort_by_key(|r| r.series);
    let mut parts = Vec::new();
    let mut part = vec![VERSION];
    let mut prev = 0u32;
    for r in runs.iter() {
        if part.len() > 1 && part.len() + r.payload.len() + 24 > PART_TARGET_BYTES {
            parts.push(std::mem::replace(&mut part, vec![VERSION]));
            prev = 0;
        }
        put_uvarint(&mut part, u64::from(r.series - prev));
        prev = r.series;
        match r.new_head {
            Some(first) => {
                part.push(NEW_HEAD);
                put_ivarint(&mut part, first);
            }
            None => part.push(0),
        }
        put_uvarint(&mut part, u64::from(r.samples));
        put_uvarint(&mut part, r.bits as u64);
        part.extend_from_slice(&r.payload);
    }
    if part.len() > 1 {
        parts.push(part);
    }
    parts
}

/// Decodes one part: the codec format of its payload bits, and its runs.
pub(crate) fn decode(mut bytes: &[u8]) -> Result<(u8, Vec<Run>)> {
    let (&version, rest) = bytes
        .split_first()
        .ok_or(TsdbError::Corrupt("empty WAL segment"))?;
    let codec = match version {
        VERSION => crate::codec::FORMAT_VERSION,
        VERSION_CODEC_2 => 2,
        v => return Err(TsdbError::UnsupportedVersion(v)),
    };
    bytes = rest;
    let mut runs = Vec::new();
    let mut prev = 0u64;
    while !bytes.is_empty() {
        let series = prev + get_uvarint(&mut bytes)?;
        prev = series;
        let series =
            u32::try_from(series).map_err(|_| TsdbError::Corrupt("WAL series id out of range"))?;
        let (&flags, rest) = bytes
            .split_first()
            .ok_or(TsdbError::Corrupt("WAL run truncated"))?;
        bytes = rest;
        let new_head = if flags & NEW_HEAD != 0 {
            Some(get_ivarint(&mut bytes)?)
        } else {
            None
        };
        let samples = u32::try_from(get_uvarint(&mut bytes)?)
            .map_err(|_| TsdbError::Corrupt("WAL sample count out of range"))?;
        let bits = usize::try_from(get_uvarint(&mut bytes)?)
            .map_err(|_| TsdbError::Corrupt("WAL bit count out of range"))?;
        let len = bits.div_ceil(8);
        if len > bytes.len() {
            return Err(TsdbError::Corrupt("WAL run truncated"));
        }
        let (payload, rest) = bytes.split_at(len);
        bytes = rest;
        runs.push(Run {
            series,
            new_head,
            samples,
            bits,
            payload: payload.to_vec(),
        });
    }
    Ok((codec, runs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_round_trip_sorted_and_split() {
        let mut runs = vec![
            Run {
                series: 9,
                new_head: None,
                samples: 1,
                bits: 3,
                payload: vec![0b1010_0000],
            },
            Run {
                series: 2,
                new_head: Some(-17),
                samples: 2,
                bits: 9,
                payload: vec![0xFF, 0x80],
            },
        ];
        let parts = encode(&mut runs);
        assert_eq!(parts.len(), 1);
        assert_eq!(
            decode(&parts[0]).unwrap(),
            (crate::codec::FORMAT_VERSION, runs.clone())
        );
        let mut old = parts[0].clone();
        old[0] = VERSION_CODEC_2;
        assert_eq!(decode(&old).unwrap().0, 2);
        assert_eq!(runs[0].series, 2);
        assert!(decode(&parts[0][..parts[0].len() - 1]).is_err());
        assert!(decode(&[]).is_err());

        let mut many: Vec<Run> = (0..100)
            .map(|i| Run {
                series: i,
                new_head: None,
                samples: 1,
                bits: 8_000,
                payload: vec![7; 1_000],
            })
            .collect();
        let parts = encode(&mut many);
        assert!(parts.len() > 1 && parts.iter().all(|p| p.len() <= PART_TARGET_BYTES));
        let back: Vec<Run> = parts.iter().flat_map(|p| decode(p).unwrap().1).collect();
        assert_eq!(back, many);
    }
}
