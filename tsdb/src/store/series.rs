//! In-memory state of one series: per tier an open head chunk, chunks sealed since the last flush,
//! references to flushed chunks in bundles, the rollup watermark and (raw tier) what of the head is
//! already in the WAL.
//!
//! Chunks are aligned to windows: a tier's timeline is cut at multiples of its
//! [`TierSpec::max_chunk_span_ms`], a head only holds samples of one window, and a sample of a later
//! window seals it. So every series seals at the same moments, and a window's chunks of all series
//! go to disk together as bundles.

use std::sync::Arc;

use super::aggregate::floor_to;
use super::config::{TierConfig, TierSpec};
use crate::codec::{ChunkDecoder, ChunkEncoder, MAX_COLUMNS};
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

/// A chunk sealed in memory and not yet written to a bundle.
#[derive(Debug, Clone)]
pub(crate) struct PendingChunk {
    /// Timestamp of its first sample.
    pub start: i64,
    /// Timestamp of its last sample.
    pub end: i64,
    /// Sealed at its window's end rather than early for size.
    pub complete: bool,
    /// Encoded chunk.
    pub bytes: Arc<[u8]>,
    /// Store-wide sequence number, used to acknowledge exactly what a flush wrote.
    pub seq: u64,
}

/// A flushed chunk inside a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkRef {
    pub start: i64,
    pub end: i64,
    pub bundle: u32,
    pub offset: u32,
    pub len: u32,
}

/// How much of the raw head the WAL holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct WalState {
    /// Samples of the head already in the WAL.
    pub samples: u32,
    /// Payload bits of the head already in the WAL.
    pub bits: usize,
    /// Segment holding the head's first run (the head pins it and every later segment).
    pub from: Option<u64>,
}

/// One tier of one series.
#[derive(Debug, Clone)]
pub(crate) struct TierState {
    /// Open chunk receiving new samples.
    pub head: ChunkEncoder,
    /// Bumped whenever the head is replaced, so a flush acknowledges only the head it saw.
    pub head_gen: u64,
    /// Chunks sealed since the last flush.
    pub pending: Vec<PendingChunk>,
    /// Flushed chunks, by start time.
    pub refs: Vec<ChunkRef>,
    /// Newest timestamp in sealed chunks (pending or flushed).
    pub last_sealed_end: Option<i64>,
    /// End of the window of the newest flushed chunk: this tier's data before it is durable, so
    /// the finer tier may delete what it rolled into it.
    pub sealed_through: Option<i64>,
    /// Tier ≥ 1: end of the finer tier's range already rolled into this tier.
    pub watermark: Option<i64>,
    /// Raw tier: the head's progress into the WAL.
    pub wal: WalState,
}

impl TierState {
    /// An empty tier using `spec`'s resolution as the chunk time unit.
    pub(crate) fn new(tier: usize, spec: &TierSpec) -> Result<Self> {
        Ok(TierState {
            head: ChunkEncoder::new(tier_columns(tier), spec.resolution_ms)?,
            head_gen: 0,
            pending: Vec::new(),
            refs: Vec::new(),
            last_sealed_end: None,
            sealed_through: None,
            watermark: None,
            wal: WalState::default(),
        })
    }

    /// Newest timestamp held by the tier.
    pub(crate) fn last_ts(&self) -> Option<i64> {
        self.head.last_ts().or(self.last_sealed_end)
    }

    /// Whether the tier holds any data (head, pending or flushed).
    pub(crate) fn has_data(&self) -> bool {
        !self.head.is_empty() || !self.pending.is_empty() || !self.refs.is_empty()
    }

    /// How far this tier is durable once `chunk` is flushed: its window's end when complete, else
    /// just past its last row.
    pub(crate) fn durable_end(spec: &TierSpec, start: i64, end: i64, complete: bool) -> i64 {
        if complete {
            floor_to(start, spec.max_chunk_span_ms).saturating_add(spec.max_chunk_span_ms)
        } else {
            end.saturating_add(spec.resolution_ms)
        }
    }

    /// End of the window the head belongs to.
    pub(crate) fn head_window_end(&self, spec: &TierSpec) -> Option<i64> {
        self.head.first_ts().map(|first| {
            floor_to(first, spec.max_chunk_span_ms).saturating_add(spec.max_chunk_span_ms)
        })
    }

    /// Appends a row, sealing the head first if it is full or the row starts a later window. `ts`
    /// must be a multiple of the tier resolution and strictly newer than the last sample.
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
        if let Some(first) = self.head.first_ts() {
            let window = spec.max_chunk_span_ms;
            if floor_to(first, window) != floor_to(ts, window) {
                self.seal(seq, true)?;
            } else if self.head.len() >= max_samples as usize {
                self.seal(seq, false)?;
            }
        }
        self.head.push(ts, values)
    }

    /// Moves a non-empty head to the pending chunks and starts a new one; `complete` when its
    /// window is over.
    pub(crate) fn seal(&mut self, seq: &mut u64, complete: bool) -> Result<()> {
        let (Some(start), Some(end)) = (self.head.first_ts(), self.head.last_ts()) else {
            return Ok(());
        };
        let fresh = ChunkEncoder::new(self.head.columns(), self.head.unit_ms())?;
        let full = std::mem::replace(&mut self.head, fresh);
        *seq += 1;
        self.pending.push(PendingChunk {
            start,
            end,
            complete,
            bytes: full.to_bytes().into(),
            seq: *seq,
        });
        self.last_sealed_end = Some(end);
        self.head_gen += 1;
        self.wal = WalState::default();
        Ok(())
    }
}

/// Buckets the raw tail keeps: enough for the rollup lag (watermark = a minute before the last
/// maintenance pass, passes a minute apart, so up to four open minutes) plus one for a slow pass.
pub(crate) const TAIL_BUCKETS: usize = 5;

/// Running sums of the newest raw samples per bucket of the first rollup tier's width, updated on
/// append, so a bucketed query answers the not yet rolled-up tail without decoding the raw head
/// from its start (up to a whole raw window). Consecutive buckets from `base`; 88 bytes per series
/// whatever the sample rate. Non-finite samples are left out, as bucketed queries skip them.
#[derive(Debug, Clone)]
pub(crate) struct RawTail {
    /// Bucket index (`ts.div_euclid(width)`) of slot 0; `None` before the first sample.
    base: Option<i64>,
    /// Every raw sample with `ts >= covered_from` is counted in the slots.
    covered_from: i64,
    sums: [f64; TAIL_BUCKETS],
    counts: [u32; TAIL_BUCKETS],
}

/// One bucket of the raw tail: start, sum and count of its finite samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TailBucket {
    pub start: i64,
    pub sum: f64,
    pub count: u32,
}

impl RawTail {
    fn new() -> Self {
        RawTail {
            base: None,
            covered_from: i64::MAX,
            sums: [0.0; TAIL_BUCKETS],
            counts: [0; TAIL_BUCKETS],
        }
    }

    /// Counts a sample just appended at `ts`; `before` is the tier's newest timestamp before it
    /// (`None`: the tier was empty). Samples arrive strictly in time order.
    pub(crate) fn add(&mut self, width: i64, before: Option<i64>, ts: i64, value: f64) {
        let idx = ts.div_euclid(width);
        let base = match self.base {
            Some(base) => base,
            None => {
                // The first sample seen since the series was created or the store opened: older
                // samples (restored from disk) are not in the slots.
                self.covered_from = before.map_or(i64::MIN, |b| b.saturating_add(1));
                self.base = Some(idx);
                idx
            }
        };
        let Some(slot) = idx.checked_sub(base) else {
            return;
        };
        let slot = if slot >= TAIL_BUCKETS as i64 {
            // Slide forward: the oldest buckets fall out and are no longer covered.
            let shift = slot - (TAIL_BUCKETS as i64 - 1);
            if shift >= TAIL_BUCKETS as i64 {
                self.sums = [0.0; TAIL_BUCKETS];
                self.counts = [0; TAIL_BUCKETS];
            } else {
                let s = shift as usize;
                self.sums.rotate_left(s);
                self.counts.rotate_left(s);
                self.sums[TAIL_BUCKETS - s..].fill(0.0);
                self.counts[TAIL_BUCKETS - s..].fill(0);
            }
            let new_base = base + shift;
            self.base = Some(new_base);
            self.covered_from = self.covered_from.max(new_base.saturating_mul(width));
            TAIL_BUCKETS - 1
        } else if slot < 0 {
            return;
        } else {
            slot as usize
        };
        if value.is_finite() {
            self.sums[slot] += value;
            self.counts[slot] += 1;
        }
    }

    /// Whether no sample was counted and no coverage derived yet (a store just opened).
    fn is_unset(&self) -> bool {
        self.base.is_none() && self.covered_from == i64::MAX
    }

    /// Derives the tail of a store just opened from the raw head restored from the WAL: every
    /// sample from the head's first one on is in the head. Does nothing once the tail is set.
    pub(crate) fn init_from(&mut self, width: i64, raw: &TierState) -> Result<()> {
        if !self.is_unset() {
            return Ok(());
        }
        let Some(first) = raw.head.first_ts() else {
            self.covered_from = raw.last_ts().map_or(i64::MIN, |l| l.saturating_add(1));
            return Ok(());
        };
        let bytes = raw.head.to_bytes();
        let mut dec = ChunkDecoder::new(&bytes)?;
        let mut cols = [0.0; MAX_COLUMNS];
        let mut before = Some(first.saturating_sub(1));
        while let Some(ts) = dec.next_into(&mut cols)? {
            self.add(width, before, ts, cols[0]);
            before = Some(ts);
        }
        Ok(())
    }

    /// The non-empty buckets inside `[from, to)` if they hold every raw sample there: `from` must
    /// be a bucket boundary at or after what the tail covers, and `to` a bucket boundary or past
    /// the tier's newest sample `last`. `None` means: read the tier instead.
    pub(crate) fn buckets(
        &self,
        width: i64,
        from: i64,
        to: i64,
        last: Option<i64>,
    ) -> Option<Vec<TailBucket>> {
        let aligned = |t: i64| t.rem_euclid(width) == 0;
        let to_ok = aligned(to) || last.is_none_or(|l| l < to);
        if from < self.covered_from || !aligned(from) || !to_ok {
            return None;
        }
        let Some(base) = self.base else {
            return Some(Vec::new());
        };
        Some(
            (0..TAIL_BUCKETS)
                .filter(|&i| self.counts[i] > 0)
                .map(|i| TailBucket {
                    start: (base + i as i64).saturating_mul(width),
                    sum: self.sums[i],
                    count: self.counts[i],
                })
                .filter(|b| b.start >= from && b.start < to)
                .collect(),
        )
    }
}

/// All tiers of one series.
#[derive(Debug, Clone)]
pub(crate) struct SeriesState {
    /// Persistent series id (chunk and WAL records name series by it).
    pub id: u32,
    /// Index 0 is raw.
    pub tiers: Vec<TierState>,
    /// Running sums of the raw samples not yet rolled up (when there is a rollup tier).
    pub tail: RawTail,
}

impl SeriesState {
    /// A series with every tier empty.
    pub(crate) fn new(config: &TierConfig, id: u32) -> Result<Self> {
        let tiers = config
            .tiers
            .iter()
            .enumerate()
            .map(|(i, spec)| TierState::new(i, spec))
            .collect::<Result<_>>()?;
        Ok(SeriesState {
            id,
            tiers,
            tail: RawTail::new(),
        })
    }

    /// Appends a raw sample (see [`TierState::push`]) and counts it in the raw tail, whose buckets
    /// are the first rollup tier's width (`tail_width`; `None` without rollup tiers).
    pub(crate) fn push_raw(
        &mut self,
        spec: &TierSpec,
        max_samples: u32,
        ts: i64,
        value: f64,
        seq: &mut u64,
        tail_width: Option<i64>,
    ) -> Result<()> {
        let before = self.tiers[0].last_ts();
        self.tiers[0].push(spec, max_samples, ts, &[value], seq)?;
        if let Some(width) = tail_width {
            self.tail.add(width, before, ts, value);
        }
        Ok(())
    }

    /// Whether no tier holds anything.
    pub(crate) fn is_empty(&self) -> bool {
        self.tiers.iter().all(|t| !t.has_data())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_by_count_and_window_and_rejects_old() {
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
        assert_eq!((t.pending.len(), t.head.len()), (1, 1));
        t.push(&spec, 3, 99, &[1.0], &mut seq).unwrap();
        assert_eq!((t.pending.len(), t.head.len()), (1, 2));
        // 100 starts the next window.
        t.push(&spec, 3, 100, &[1.0], &mut seq).unwrap();
        assert_eq!((t.pending.len(), t.head.len()), (2, 1));
        assert_eq!((t.pending[1].start, t.pending[1].end), (4, 99));
        assert!(matches!(
            t.push(&spec, 3, 100, &[1.0], &mut seq),
            Err(TsdbError::OutOfOrder { ts: 100, last: 100 })
        ));
        assert_eq!(t.head_window_end(&spec), Some(200));
        t.seal(&mut seq, true).unwrap();
        assert!(t.head.is_empty() && t.last_ts() == Some(100));
        assert!(t.push(&spec, 3, 100, &[1.0], &mut seq).is_err());
        assert!(SeriesState::new(&cfg, 1).unwrap().is_empty());
    }

    #[test]
    fn raw_tail_covers_only_what_it_counted() {
        // What every series pays for it (docs/performance.md).
        assert!(std::mem::size_of::<RawTail>() <= 88);
        let w = 60;
        let sums = |t: &RawTail, from, to, last| {
            t.buckets(w, from, to, last).map(|b| {
                b.iter()
                    .map(|b| (b.start, b.sum, b.count))
                    .collect::<Vec<_>>()
            })
        };
        // A new series: everything from its first sample on.
        let mut t = RawTail::new();
        assert_eq!(sums(&t, 0, 600, None), None);
        t.add(w, None, 10, 1.0);
        t.add(w, Some(10), 70, 2.0);
        t.add(w, Some(70), 80, f64::NAN);
        t.add(w, Some(80), 90, 4.0);
        assert_eq!(
            sums(&t, 0, 600, Some(90)),
            Some(vec![(0, 1.0, 1), (60, 6.0, 2)])
        );
        assert_eq!(sums(&t, 60, 120, Some(90)), Some(vec![(60, 6.0, 2)]));
        // Unaligned bounds, or an end inside the newest bucket, need the tier.
        assert_eq!(sums(&t, 30, 600, Some(90)), None);
        assert_eq!(sums(&t, 0, 85, Some(90)), None);
        assert_eq!(
            sums(&t, 0, 91, Some(90)),
            Some(vec![(0, 1.0, 1), (60, 6.0, 2)])
        );
        // Sliding past five buckets drops the oldest and what they covered.
        t.add(w, Some(90), 300, 5.0);
        assert_eq!(sums(&t, 0, 600, Some(300)), None);
        assert_eq!(
            sums(&t, 60, 600, Some(300)),
            Some(vec![(60, 6.0, 2), (300, 5.0, 1)])
        );
        t.add(w, Some(300), 1_000, 7.0);
        assert_eq!(sums(&t, 60, 1_200, Some(1_000)), None);
        assert_eq!(sums(&t, 780, 1_200, Some(1_000)), Some(vec![(960, 7.0, 1)]));
        // Restored samples (the tier was not empty before the first add) are not counted.
        let mut r = RawTail::new();
        r.add(w, Some(100), 110, 3.0);
        assert_eq!(sums(&r, 60, 600, Some(110)), None);
        assert_eq!(sums(&r, 120, 600, Some(110)), Some(vec![]));
        r.add(w, Some(110), 130, 4.0);
        assert_eq!(sums(&r, 120, 600, Some(130)), Some(vec![(120, 4.0, 1)]));
    }

    #[test]
    fn raw_tail_is_derived_from_a_restored_head() {
        let spec = TierSpec {
            resolution_ms: 1,
            retention_ms: 100_000,
            max_chunk_span_ms: 10_000,
        };
        let mut raw = TierState::new(0, &spec).unwrap();
        let mut seq = 0;
        for ts in [30, 50, 70, 130] {
            raw.push(&spec, 100, ts, &[ts as f64], &mut seq).unwrap();
        }
        let mut t = RawTail::new();
        t.init_from(60, &raw).unwrap();
        let got = t.buckets(60, 60, 600, raw.last_ts()).unwrap();
        assert_eq!(
            got.iter()
                .map(|b| (b.start, b.sum, b.count))
                .collect::<Vec<_>>(),
            vec![(60, 70.0, 1), (120, 130.0, 1)]
        );
        // The head's first sample is mid-bucket: that bucket's older samples may be sealed.
        assert_eq!(t.buckets(60, 0, 600, raw.last_ts()), None);
        // Set once: a second call changes nothing.
        t.init_from(60, &TierState::new(0, &spec).unwrap()).unwrap();
        assert_eq!(t.buckets(60, 60, 600, raw.last_ts()).unwrap(), got);
        let mut empty = RawTail::new();
        empty
            .init_from(60, &TierState::new(0, &spec).unwrap())
            .unwrap();
        assert_eq!(empty.buckets(60, 0, 600, None), Some(vec![]));
    }
}
