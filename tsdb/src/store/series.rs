//! In-memory state of one series: an open head chunk per tier, chunks sealed since the last flush,
//! and rollup watermarks.

use std::sync::Arc;

use super::config::{TierConfig, TierSpec};
use crate::codec::ChunkEncoder;
use crate::error::{Result, TsdbError};

/// Value columns of the raw tier: the sample value.
pub(crate) const RAW_COLUMNS: usize = 1;
/// Value columns of rollup tiers: avg, min, max, count.
pub(crate) const ROLLUP_COLUMNS: usize = 4;

/// Value columns stored by tier `tier`.
pub(crate) fn tier_columns(tier: usize) -> usize {
    if tier == 0 {
        RAW_COLUMNS
    } else {
        ROLLUP_COLUMNS
    }
}

/// A chunk sealed in memory and not yet acknowledged as persisted.
#[derive(Debug, Clone)]
pub(crate) struct PendingChunk {
    /// Timestamp of its first sample (the chunk key's time component).
    pub start: i64,
    /// Encoded chunk.
    pub bytes: Arc<[u8]>,
    /// Store-wide sequence number, used to acknowledge exactly what a flush wrote.
    pub seq: u64,
}

/// One tier of one series.
#[derive(Debug, Clone)]
pub(crate) struct TierState {
    /// Open chunk receiving new samples.
    pub head: ChunkEncoder,
    /// Bumped on every head change; the head is dirty while it differs from `flushed_version`.
    pub head_version: u64,
    /// Last head version known to be on disk.
    pub flushed_version: u64,
    /// Sealed chunks waiting for a flush.
    pub sealed: Vec<PendingChunk>,
    /// Tier ≥ 1: end of the finer tier's range already rolled into this tier.
    pub watermark: Option<i64>,
    /// The watermark as last persisted; retention trusts only this one.
    pub flushed_watermark: Option<i64>,
    /// Retention cannot delete anything from this tier while its cutoff is below this time
    /// (`i64::MIN` = unknown, scan on the next pass). Lets retention skip tiers without disk reads.
    pub next_expiry: i64,
}

impl TierState {
    /// An empty tier using `spec`'s resolution as the chunk time unit.
    pub(crate) fn new(tier: usize, spec: &TierSpec) -> Result<Self> {
        Ok(TierState {
            head: ChunkEncoder::new(tier_columns(tier), spec.resolution_ms)?,
            head_version: 0,
            flushed_version: 0,
            sealed: Vec::new(),
            watermark: None,
            flushed_watermark: None,
            next_expiry: i64::MIN,
        })
    }

    /// Newest timestamp held by the tier (the head is never left empty after a seal, so the head's
    /// last sample is the tier's last sample).
    pub(crate) fn last_ts(&self) -> Option<i64> {
        self.head.last_ts()
    }

    /// Whether the tier holds nothing in memory.
    pub(crate) fn is_empty_in_memory(&self) -> bool {
        self.head.is_empty() && self.sealed.is_empty()
    }

    /// Appends a row, sealing the head first if it is full or would span too long. `ts` must be a
    /// multiple of the tier resolution and strictly newer than the last sample.
    pub(crate) fn push(
        &mut self,
        spec: &TierSpec,
        max_samples: u32,
        ts: i64,
        values: &[f64],
        seq: &mut u64,
    ) -> Result<()> {
        if let Some(last) = self.last_ts() {
            if ts <= last {
                return Err(TsdbError::OutOfOrder { ts, last });
            }
        }
        if self.is_empty_in_memory() {
            self.next_expiry = self.next_expiry.min(ts.saturating_add(1));
        }
        if let Some(first) = self.head.first_ts() {
            if self.head.len() >= max_samples as usize || ts - first >= spec.max_chunk_span_ms {
                let fresh = ChunkEncoder::new(self.head.columns(), self.head.unit_ms())?;
                let full = std::mem::replace(&mut self.head, fresh);
                *seq += 1;
                self.sealed.push(PendingChunk {
                    start: first,
                    bytes: full.to_bytes().into(),
                    seq: *seq,
                });
            }
        }
        self.head.push(ts, values)?;
        self.head_version += 1;
        Ok(())
    }

    /// Empties the head (retention dropped it).
    pub(crate) fn clear_head(&mut self) -> Result<()> {
        self.head = ChunkEncoder::new(self.head.columns(), self.head.unit_ms())?;
        self.head_version += 1;
        Ok(())
    }
}

/// All tiers of one series.
#[derive(Debug, Clone)]
pub(crate) struct SeriesState {
    /// Incarnation id, unique per store process; lets a flush ignore acknowledgements for a series
    /// that retention removed and an append re-created meanwhile.
    pub id: u64,
    /// Index 0 is raw.
    pub tiers: Vec<TierState>,
}

impl SeriesState {
    /// A series with every tier empty.
    pub(crate) fn new(config: &TierConfig, id: u64) -> Result<Self> {
        let tiers = config
            .tiers
            .iter()
            .enumerate()
            .map(|(i, spec)| TierState::new(i, spec))
            .collect::<Result<_>>()?;
        Ok(SeriesState { id, tiers })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_by_count_and_span_and_rejects_old() {
        let cfg = TierConfig::default();
        let spec = TierSpec {
            resolution_ms: 1,
            retention_ms: 1000,
            max_chunk_span_ms: 100,
        };
        let mut t = TierState::new(0, &spec).unwrap();
        let mut seq = 0;
        for ts in [1, 2, 3, 4] {
            t.push(&spec, 3, ts, &[1.0], &mut seq).unwrap();
        }
        assert_eq!((t.sealed.len(), t.head.len()), (1, 1));
        t.push(&spec, 3, 104, &[1.0], &mut seq).unwrap();
        assert_eq!((t.sealed.len(), t.head.len()), (2, 1));
        assert!(matches!(
            t.push(&spec, 3, 104, &[1.0], &mut seq),
            Err(TsdbError::OutOfOrder { ts: 104, last: 104 })
        ));
        assert_eq!(t.sealed[1].start, 4);
        assert!(SeriesState::new(&cfg, 1).unwrap().tiers[0].is_empty_in_memory());
    }
}
