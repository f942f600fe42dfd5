//! Reading a time range of one series tier from sealed chunks (disk and memory) and the head.

use std::sync::Arc;

use super::aggregate::Row;
use super::keys::{decode_ts, series_tier_key, with_ts, CHUNK};
use super::series::TierState;
use crate::codec::{ChunkDecoder, MAX_COLUMNS};
use crate::error::Result;

/// A consistent copy of a tier's in-memory part, taken under the store lock so the disk part can be
/// read without it.
#[derive(Debug, Clone)]
pub(crate) struct TierSnapshot {
    head: Option<Vec<u8>>,
    head_first: Option<i64>,
    pending: Vec<(i64, Arc<[u8]>)>,
}

impl TierSnapshot {
    /// Copies the head (encoded) and references the pending sealed chunks.
    pub(crate) fn of(state: &TierState) -> Self {
        TierSnapshot {
            head: (!state.head.is_empty()).then(|| state.head.to_bytes()),
            head_first: state.head.first_ts(),
            pending: state
                .sealed
                .iter()
                .map(|p| (p.start, Arc::clone(&p.bytes)))
                .collect(),
        }
    }
}

enum ChunkBytes {
    Disk(sled::IVec),
    Mem(Arc<[u8]>),
}

impl AsRef<[u8]> for ChunkBytes {
    fn as_ref(&self) -> &[u8] {
        match self {
            ChunkBytes::Disk(v) => v,
            ChunkBytes::Mem(v) => v,
        }
    }
}

/// The tier's chunks (keys under `prefix`) starting before `to`.
fn chunk_range(tree: &sled::Tree, prefix: &[u8], to: i64) -> sled::Iter {
    tree.range(prefix.to_vec()..with_ts(prefix, to))
}

/// Appends the rows of `bytes` with `from <= ts < to` to `out`.
fn decode_range(bytes: &[u8], from: i64, to: i64, out: &mut Vec<Row>) -> Result<()> {
    let mut dec = ChunkDecoder::new(bytes)?;
    let mut cols = [0.0; MAX_COLUMNS];
    let n = dec.columns();
    while let Some(ts) = dec.next_into(&mut cols)? {
        if ts >= to {
            break;
        }
        if ts >= from {
            out.push(Row::from_columns(ts, &cols[..n]));
        }
    }
    Ok(())
}

/// Appends the tier's rows with `from <= ts < to`, in time order, to `out`.
pub(crate) fn read_rows(
    tree: &sled::Tree,
    series: &[u8],
    tier: usize,
    snap: &TierSnapshot,
    from: i64,
    to: i64,
    out: &mut Vec<Row>,
) -> Result<()> {
    if from >= to {
        return Ok(());
    }
    // Sealed chunks are all older than the head: skip them when the head alone covers `from`.
    if snap.head_first.is_none_or(|first| first > from) {
        let prefix = series_tier_key(CHUNK, series, tier);
        let mut chunks: Vec<(i64, ChunkBytes)> = Vec::new();
        // One forward scan from the tier's first chunk: a tier holds few chunks before `from`
        // (retention bounds them), and one sled iterator is cheaper than a point lookup plus another.
        for item in chunk_range(tree, &prefix, to) {
            let (k, v) = item?;
            let start = decode_ts(&k[prefix.len()..])?;
            if start <= from {
                chunks.clear();
            }
            chunks.push((start, ChunkBytes::Disk(v)));
        }
        for (start, bytes) in &snap.pending {
            if *start < to {
                chunks.push((*start, ChunkBytes::Mem(Arc::clone(bytes))));
            }
        }
        chunks.sort_by_key(|c| c.0);
        chunks.dedup_by_key(|c| c.0);
        // Skip chunks that end before `from` (their successor starts at or before it).
        let first_needed = chunks.iter().rposition(|c| c.0 <= from).unwrap_or(0);
        for (_, bytes) in &chunks[first_needed..] {
            decode_range(bytes.as_ref(), from, to, out)?;
        }
    }
    if let Some(head) = &snap.head {
        decode_range(head, from, to, out)?;
    }
    Ok(())
}
