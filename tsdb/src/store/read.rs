//! Reading a time range of one series tier from flushed chunks (bundles in block files), pending
//! chunks (memory) and the head.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::aggregate::Row;
use super::blocks::{Blocks, Keep, RecordAddr};
use super::bundle;
use super::refs::ChunkRef;
use super::series::TierState;
use super::BundleMeta;
use crate::codec::{ChunkDecoder, MAX_COLUMNS};
use crate::error::Result;

/// A consistent copy of what a tier read needs, taken under the store lock so bundles can be read
/// without it.
#[derive(Debug, Clone)]
pub(crate) struct TierSnapshot {
    head: Option<Vec<u8>>,
    pending: Vec<(i64, Arc<[u8]>)>,
    /// Flushed chunks: a lower bound of the start, the reference and the bundle record.
    refs: Vec<(i64, ChunkRef, RecordAddr)>,
}

impl TierSnapshot {
    /// Copies the head (encoded), references the pending chunks and resolves bundle addresses.
    /// A tier not created yet (`None`) is empty.
    pub(crate) fn of(
        bundles: &BTreeMap<u32, BundleMeta>,
        tier: usize,
        state: Option<&TierState>,
        from: i64,
        to: i64,
    ) -> Self {
        let Some(state) = state else {
            return TierSnapshot {
                head: None,
                pending: Vec::new(),
                refs: Vec::new(),
            };
        };
        let overlaps = |start: i64, end: i64| start < to && end >= from;
        TierSnapshot {
            head: (!state.head.is_empty()
                && state.head.last_ts().is_some_and(|last| last >= from)
                && state.head.first_ts().is_some_and(|first| first < to))
            .then(|| state.head.to_bytes()),
            pending: state
                .pending
                .iter()
                .filter(|p| overlaps(p.start, p.end))
                .map(|p| (p.start, Arc::clone(&p.bytes)))
                .collect(),
            refs: state
                .refs
                .overlapping(from, to, state.last_sealed_end.get())
                .filter_map(|(lo, r)| {
                    let meta = bundles.get(&r.bundle)?;
                    debug_assert_eq!(usize::from(meta.tier), tier);
                    Some((lo, r, meta.addr(r.bundle)))
                })
                .collect(),
        }
    }
}

/// Bundles read during one query or rollup call, shared by the series that live in them.
pub(crate) struct BundleCache {
    bundles: HashMap<RecordAddr, Arc<[u8]>>,
    /// Whether records read from their files go to the store-wide read cache too.
    keep: Keep,
}

impl BundleCache {
    /// For a query: what it reads is kept in the store-wide read cache.
    pub(crate) fn for_query() -> Self {
        BundleCache {
            bundles: HashMap::new(),
            keep: Keep::Yes,
        }
    }

    /// For a rollup pass: what it reads from files is not kept beyond this call (see blocks.rs).
    pub(crate) fn for_rollup() -> Self {
        BundleCache {
            bundles: HashMap::new(),
            keep: Keep::No,
        }
    }

    fn get(&mut self, blocks: &Blocks, addr: &RecordAddr) -> Result<Option<Arc<[u8]>>> {
        if let Some(v) = self.bundles.get(addr) {
            return Ok(Some(Arc::clone(v)));
        }
        let Some(found) = blocks.read(addr, self.keep)? else {
            return Ok(None);
        };
        self.bundles.insert(*addr, Arc::clone(&found));
        Ok(Some(found))
    }
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
    blocks: &Blocks,
    cache: &mut BundleCache,
    snap: &TierSnapshot,
    from: i64,
    to: i64,
    out: &mut Vec<Row>,
) -> Result<()> {
    if from >= to {
        return Ok(());
    }
    enum Source<'a> {
        Disk(&'a ChunkRef, &'a RecordAddr),
        Mem(&'a Arc<[u8]>),
    }
    let mut chunks: Vec<(i64, Source<'_>)> = snap
        .refs
        .iter()
        .map(|(lo, r, k)| (*lo, Source::Disk(r, k)))
        .chain(snap.pending.iter().map(|(s, b)| (*s, Source::Mem(b))))
        .collect();
    chunks.sort_by_key(|c| c.0);
    for (_, source) in chunks {
        match source {
            Source::Disk(r, key) => {
                // A bundle deleted by retention after the snapshot was taken: its data has expired.
                let Some(data) = cache.get(blocks, key)? else {
                    continue;
                };
                let (offset, len) = r.loc.range(data.len());
                let bytes = bundle::slice(&data, offset, len)?;
                decode_range(bytes, from, to, out)?;
            }
            Source::Mem(bytes) => decode_range(bytes, from, to, out)?,
        }
    }
    if let Some(head) = &snap.head {
        decode_range(head, from, to, out)?;
    }
    Ok(())
}
