//! In-memory state of one series: per tier an open head chunk, chunks sealed since the last flush,
//! references to flushed chunks in bundles and the rollup watermark, plus what of the raw head is
//! already in the WAL. This is paid per series, so it is kept small: rollup tiers exist only once
//! they receive data, and the size test pins the structs every series holds.
//!
//! Chunks are aligned to windows: a tier's timeline is cut at multiples of its
//! [`TierSpec::max_chunk_span_ms`], a head only holds samples of one window, and a sample of a later
//! window seals it. So every series seals at the same moments, and a window's chunks of all series
//! go to disk together as bundles.

use std::sync::Arc;

use super::aggregate::floor_to;
use super::config::{TierConfig, TierSpec};
use super::refs::ChunkRefs;
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

/// Chunks sealed since the last flush. Every flush empties the list, so it is almost always empty,
/// and an empty list is a null pointer: 8 bytes per tier instead of an empty `Vec`'s 24.
// The box is the point: an 8-byte handle for a list that exists only between a seal and a flush.
#[allow(clippy::box_collection)]
#[derive(Debug, Clone, Default)]
pub(crate) struct Pending(Option<Box<Vec<PendingChunk>>>);

impl Pending {
    /// The chunks, oldest first.
    pub(crate) fn as_slice(&self) -> &[PendingChunk] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }

    /// The chunks, oldest first.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, PendingChunk> {
        self.as_slice().iter()
    }

    /// Number of chunks.
    pub(crate) fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether there is none.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    fn push(&mut self, chunk: PendingChunk) {
        let list = self.0.get_or_insert_with(Box::default);
        // Exactly one more slot: a tier seals about once per window, and the next flush empties
        // the list, so an amortized growth buffer would mostly sit empty.
        list.reserve_exact(1);
        list.push(chunk);
    }

    /// Drops chunk `seq`, releasing the list once it is empty.
    fn ack(&mut self, seq: u64) {
        if let Some(list) = &mut self.0 {
            list.retain(|p| p.seq != seq);
            if list.is_empty() {
                self.0 = None;
            }
        }
    }
}

/// An optional timestamp in 8 bytes instead of 16: `i64::MIN` stands for none. Stored timestamps
/// are within ±2^62 (`TS_LIMIT`) and everything derived from them (window ends, rollup limits)
/// stays far from `i64::MIN`, so the sentinel never stands for a real value. With it, "none" also
/// orders before every timestamp, so [`OptTs::raise`] is a plain `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OptTs(i64);

impl OptTs {
    /// No timestamp.
    pub(crate) const NONE: OptTs = OptTs(i64::MIN);

    /// The timestamp, if set.
    #[inline]
    pub(crate) fn get(self) -> Option<i64> {
        (self.0 != i64::MIN).then_some(self.0)
    }

    /// Sets the timestamp (`i64::MIN` would read back as none).
    #[inline]
    pub(crate) fn set(&mut self, ts: i64) {
        self.0 = ts;
    }

    /// Sets the timestamp to `ts` if it is unset or older.
    #[inline]
    pub(crate) fn raise(&mut self, ts: i64) {
        self.0 = self.0.max(ts);
    }
}

/// No WAL segment (segment numbers count up from 0 by one per flush, so they never reach it).
const NO_SEGMENT: u64 = u64::MAX;

/// How much of the raw head the WAL holds (kept once per series: only the raw tier is written to
/// the WAL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WalState {
    /// Samples of the head already in the WAL.
    pub samples: u32,
    /// Bumped (wrapping) whenever the raw head is replaced, so a flush acknowledges only the head
    /// it saw: fooling the equality check would take 2^32 seals of one series while one flush
    /// writes, and every seal needs a newer sample.
    pub head_gen: u32,
    /// Payload bits of the head already in the WAL.
    pub bits: usize,
    /// Segment holding the head's first run (the head pins it and every later segment), or
    /// [`NO_SEGMENT`].
    from: u64,
}

impl Default for WalState {
    fn default() -> Self {
        WalState {
            samples: 0,
            head_gen: 0,
            bits: 0,
            from: NO_SEGMENT,
        }
    }
}

impl WalState {
    /// Segment holding the head's first run.
    pub(crate) fn first_segment(&self) -> Option<u64> {
        (self.from != NO_SEGMENT).then_some(self.from)
    }

    /// Records the segment holding the head's first run.
    pub(crate) fn set_first_segment(&mut self, segment: u64) {
        self.from = segment;
    }

    /// A new head starts: nothing of it is in the WAL.
    fn restart(&mut self) {
        *self = WalState {
            head_gen: self.head_gen.wrapping_add(1),
            ..WalState::default()
        };
    }
}

/// One tier of one series. Every series pays for its raw tier and for each rollup tier that has
/// received data, so this stays small (see the size test).
#[derive(Debug, Clone)]
pub(crate) struct TierState {
    /// Open chunk receiving new samples.
    pub head: ChunkEncoder,
    /// Chunks sealed since the last flush.
    pub pending: Pending,
    /// Flushed chunks, by start time (12 bytes each, see refs.rs).
    pub refs: ChunkRefs,
    /// Newest timestamp in sealed chunks (pending or flushed).
    pub last_sealed_end: OptTs,
    /// End of the window of the newest flushed chunk: this tier's data before it is durable, so
    /// the finer tier may delete what it rolled into it.
    pub sealed_through: OptTs,
    /// Tier ≥ 1: end of the finer tier's range already rolled into this tier.
    pub watermark: OptTs,
}

impl TierState {
    /// An empty tier using `spec`'s resolution as the chunk time unit.
    pub(crate) fn new(tier: usize, spec: &TierSpec) -> Result<Self> {
        Ok(TierState {
            head: ChunkEncoder::new(tier_columns(tier), spec.resolution_ms)?,
            pending: Pending::default(),
            refs: ChunkRefs::default(),
            last_sealed_end: OptTs::NONE,
            sealed_through: OptTs::NONE,
            watermark: OptTs::NONE,
        })
    }

    /// Newest timestamp held by the tier.
    pub(crate) fn last_ts(&self) -> Option<i64> {
        self.head.last_ts().or(self.last_sealed_end.get())
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
    /// must be a multiple of the tier resolution and strictly newer than the last sample. Returns
    /// whether a head was sealed. Raw samples go through [`SeriesState::push_raw`], which keeps
    /// the WAL progress in step.
    pub(crate) fn push(
        &mut self,
        spec: &TierSpec,
        max_samples: u32,
        ts: i64,
        values: &[f64],
        seq: &mut u64,
    ) -> Result<bool> {
        if let Some(last) = self.last_ts() {
            if ts <= last {
                return Err(TsdbError::OutOfOrder { ts, last });
            }
        }
        let mut sealed = false;
        if let Some(first) = self.head.first_ts() {
            let window = spec.max_chunk_span_ms;
            if floor_to(first, window) != floor_to(ts, window) {
                sealed = self.seal(seq, true)?;
            } else if self.head.len() >= max_samples as usize {
                sealed = self.seal(seq, false)?;
            }
        }
        self.head.push(ts, values)?;
        Ok(sealed)
    }

    /// Moves a non-empty head to the pending chunks and starts a new one; `complete` when its
    /// window is over. Returns whether there was a head to seal. The raw tier is sealed through
    /// [`SeriesState::seal_raw`], which also restarts the WAL progress.
    pub(crate) fn seal(&mut self, seq: &mut u64, complete: bool) -> Result<bool> {
        let (Some(start), Some(end)) = (self.head.first_ts(), self.head.last_ts()) else {
            return Ok(false);
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
        self.last_sealed_end.set(end);
        Ok(true)
    }

    /// Drops the pending chunk `seq` (a flush wrote it), releasing the buffer once none is left.
    pub(crate) fn ack_pending(&mut self, seq: u64) {
        self.pending.ack(seq);
    }
}

/// Buckets the raw tail keeps: enough for the rollup lag (watermark = a minute before the last
/// maintenance pass, passes a minute apart, so up to four open minutes) plus one for a slow pass.
pub(crate) const TAIL_BUCKETS: usize = 5;

/// Running sums of the newest raw samples per bucket of the first rollup tier's width, updated on
/// append, so a bucketed query answers the not yet rolled-up tail without decoding the raw head
/// from its start (up to a whole raw window). Consecutive buckets from `base`; 72 bytes per series
/// whatever the sample rate. Non-finite samples are left out, as bucketed queries skip them.
#[derive(Debug, Clone)]
pub(crate) struct RawTail {
    /// Bucket index (`ts.div_euclid(width)`) of slot 0, or [`NO_BUCKET`] before the first sample.
    base: i64,
    /// Every raw sample with `ts >= covered_from` is counted in the slots.
    covered_from: i64,
    sums: [f64; TAIL_BUCKETS],
    /// Samples per bucket. A bucket that would count more than `u16::MAX` (a first rollup tier
    /// over 65,535 raw resolutions wide) stops being covered, and queries read the tier instead.
    counts: [u16; TAIL_BUCKETS],
}

/// [`RawTail::base`] before the first sample (bucket indexes of timestamps within ±2^62 never
/// reach it).
const NO_BUCKET: i64 = i64::MIN;

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
            base: NO_BUCKET,
            covered_from: i64::MAX,
            sums: [0.0; TAIL_BUCKETS],
            counts: [0; TAIL_BUCKETS],
        }
    }

    /// Counts a sample just appended at `ts`; `before` is the tier's newest timestamp before it
    /// (`None`: the tier was empty). Samples arrive strictly in time order.
    pub(crate) fn add(&mut self, width: i64, before: Option<i64>, ts: i64, value: f64) {
        let idx = ts.div_euclid(width);
        if self.base == NO_BUCKET {
            // The first sample seen since the series was created or the store opened: older
            // samples (restored from disk) are not in the slots.
            self.covered_from = before.map_or(i64::MIN, |b| b.saturating_add(1));
            self.base = idx;
        }
        let base = self.base;
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
            self.base = new_base;
            self.covered_from = self.covered_from.max(new_base.saturating_mul(width));
            TAIL_BUCKETS - 1
        } else if slot < 0 {
            return;
        } else {
            slot as usize
        };
        if value.is_finite() {
            match self.counts[slot].checked_add(1) {
                Some(count) => {
                    self.sums[slot] += value;
                    self.counts[slot] = count;
                }
                // Too many samples to count: this bucket and those before it are not covered.
                None => {
                    let end = (self.base + slot as i64 + 1).saturating_mul(width);
                    self.covered_from = self.covered_from.max(end);
                }
            }
        }
    }

    /// Whether no sample was counted and no coverage derived yet (a store just opened).
    fn is_unset(&self) -> bool {
        self.base == NO_BUCKET && self.covered_from == i64::MAX
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
        if self.base == NO_BUCKET {
            return Some(Vec::new());
        }
        let base = self.base;
        Some(
            (0..TAIL_BUCKETS)
                .filter(|&i| self.counts[i] > 0)
                .map(|i| TailBucket {
                    start: (base + i as i64).saturating_mul(width),
                    sum: self.sums[i],
                    count: u32::from(self.counts[i]),
                })
                .filter(|b| b.start >= from && b.start < to)
                .collect(),
        )
    }
}

/// All tiers of one series. The raw tier is always there; rollup tiers are created when they
/// first receive data (a rollup row or, on open, a flushed chunk), so a series with only raw data
/// does not pay for them. A tier not created yet is empty: no data, no watermark.
#[derive(Debug, Clone)]
pub(crate) struct SeriesState {
    /// Persistent series id (chunk and WAL records name series by it).
    pub id: u32,
    /// The raw head's progress into the WAL.
    pub wal: WalState,
    /// Running sums of the raw samples not yet rolled up (when there is a rollup tier).
    pub tail: RawTail,
    /// Tier 0.
    raw: TierState,
    /// Tiers 1..=len (a boxed slice: no spare capacity, 16 bytes).
    rollups: Box<[TierState]>,
}

impl SeriesState {
    /// A series with every tier empty (only the raw one allocated).
    pub(crate) fn new(config: &TierConfig, id: u32) -> Result<Self> {
        Ok(SeriesState {
            id,
            wal: WalState::default(),
            tail: RawTail::new(),
            raw: TierState::new(0, &config.tiers[0])?,
            rollups: Box::default(),
        })
    }

    /// The raw tier.
    pub(crate) fn raw(&self) -> &TierState {
        &self.raw
    }

    /// The raw tier for changes that do not seal it (see [`SeriesState::seal_raw`]).
    pub(crate) fn raw_mut(&mut self) -> &mut TierState {
        &mut self.raw
    }

    /// Tier `tier`, or `None` if it was never created (an empty tier).
    pub(crate) fn tier(&self, tier: usize) -> Option<&TierState> {
        match tier {
            0 => Some(&self.raw),
            _ => self.rollups.get(tier - 1),
        }
    }

    /// Tier `tier` for changes that do not seal it (a raw head is sealed only through
    /// [`SeriesState::seal_raw`] and [`SeriesState::push_raw`]).
    pub(crate) fn tier_mut(&mut self, tier: usize) -> Option<&mut TierState> {
        match tier {
            0 => Some(&mut self.raw),
            _ => self.rollups.get_mut(tier - 1),
        }
    }

    /// Rollup tier `tier` (≥ 1), created (with any missing finer rollup tiers) if needed.
    pub(crate) fn rollup_mut_or_create(
        &mut self,
        tier: usize,
        config: &TierConfig,
    ) -> Result<&mut TierState> {
        if tier == 0 || tier >= config.tiers.len() {
            return Err(TsdbError::InvalidArgument("not a rollup tier"));
        }
        if self.rollups.len() < tier {
            // At most once per rollup tier in a series' life.
            let mut rollups = Vec::with_capacity(tier);
            rollups.extend(std::mem::take(&mut self.rollups));
            while rollups.len() < tier {
                let t = rollups.len() + 1;
                rollups.push(TierState::new(t, &config.tiers[t])?);
            }
            self.rollups = rollups.into_boxed_slice();
        }
        self.rollups
            .get_mut(tier - 1)
            .ok_or(TsdbError::InvalidArgument("not a rollup tier"))
    }

    /// The tiers created so far, finest first, with their index.
    pub(crate) fn tiers(&self) -> impl Iterator<Item = (usize, &TierState)> {
        std::iter::once(&self.raw).chain(&*self.rollups).enumerate()
    }

    /// The rollup tiers created so far, with their index (≥ 1).
    pub(crate) fn rollups_mut(&mut self) -> impl Iterator<Item = (usize, &mut TierState)> {
        self.rollups.iter_mut().enumerate().map(|(i, t)| (i + 1, t))
    }

    /// Rollup watermark of tier `tier` (`None` for raw, or a tier not created or never rolled).
    pub(crate) fn watermark(&self, tier: usize) -> Option<i64> {
        self.tier(tier).and_then(|t| t.watermark.get())
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
        let before = self.raw.last_ts();
        if self.raw.push(spec, max_samples, ts, &[value], seq)? {
            self.wal.restart();
        }
        if let Some(width) = tail_width {
            self.tail.add(width, before, ts, value);
        }
        Ok(())
    }

    /// Derives the raw tail of a store just opened from the restored raw head (see
    /// [`RawTail::init_from`]).
    pub(crate) fn init_tail(&mut self, width: i64) -> Result<()> {
        self.tail.init_from(width, &self.raw)
    }

    /// Seals the raw head (see [`TierState::seal`]); the next head starts anew in the WAL.
    pub(crate) fn seal_raw(&mut self, seq: &mut u64, complete: bool) -> Result<()> {
        if self.raw.seal(seq, complete)? {
            self.wal.restart();
        }
        Ok(())
    }

    /// Whether no tier holds anything.
    pub(crate) fn is_empty(&self) -> bool {
        self.tiers().all(|(_, t)| !t.has_data())
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
        let second = &t.pending.as_slice()[1];
        assert_eq!((second.start, second.end), (4, 99));
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
    fn per_series_structs_stay_small() {
        use std::mem::size_of;
        // What every series pays (docs/performance.md, issue 2): its state with the raw tier
        // inline, and per rollup tier that has data a `TierState` plus four column states.
        assert_eq!(size_of::<OptTs>(), 8);
        assert!(size_of::<WalState>() <= 24);
        // The chunk references' base and unit (refs.rs) add 8 bytes per tier to save 16 per chunk.
        assert!(size_of::<super::ChunkRefs>() <= 32);
        assert_eq!(size_of::<Pending>(), 8);
        assert!(size_of::<TierState>() <= 160);
        assert!(size_of::<SeriesState>() <= 280);
    }

    #[test]
    fn optional_timestamps_use_a_sentinel() {
        let mut t = OptTs::NONE;
        assert_eq!(t.get(), None);
        t.raise(-5);
        assert_eq!(t.get(), Some(-5));
        t.raise(-9);
        assert_eq!(t.get(), Some(-5));
        t.set(-1 << 62);
        assert_eq!(t.get(), Some(-1 << 62));
    }

    #[test]
    fn rollup_tiers_are_created_on_demand() {
        let cfg = TierConfig::default();
        let mut s = SeriesState::new(&cfg, 7).unwrap();
        assert_eq!(s.tiers().count(), 1);
        assert!(s.tier(1).is_none() && s.tier_mut(3).is_none());
        assert_eq!(s.watermark(1), None);
        s.rollup_mut_or_create(2, &cfg)
            .unwrap()
            .watermark
            .set(3_600_000);
        let made: Vec<(usize, usize)> = s.tiers().map(|(i, t)| (i, t.head.columns())).collect();
        assert_eq!(made, vec![(0, 1), (1, 4), (2, 4)]);
        assert_eq!((s.watermark(1), s.watermark(2)), (None, Some(3_600_000)));
        assert!(s.tier(3).is_none());
        assert!(s.rollup_mut_or_create(0, &cfg).is_err());
        assert!(s.rollup_mut_or_create(4, &cfg).is_err());
        // Asking again returns the same tier.
        assert_eq!(
            s.rollup_mut_or_create(2, &cfg).unwrap().watermark.get(),
            Some(3_600_000)
        );
        assert_eq!(s.rollups.len(), 2);
        assert!(s.is_empty());
    }

    #[test]
    fn sealing_the_raw_head_restarts_its_wal_progress() {
        let cfg = TierConfig::default();
        let raw = cfg.tiers[0];
        let window = raw.max_chunk_span_ms;
        let mut s = SeriesState::new(&cfg, 1).unwrap();
        let mut seq = 0;
        s.push_raw(&raw, 1024, 0, 1.0, &mut seq, None).unwrap();
        s.wal.samples = 1;
        s.wal.bits = 9;
        s.wal.head_gen = u32::MAX;
        s.wal.set_first_segment(3);
        // Same window: the head goes on, and so does its WAL progress.
        s.push_raw(&raw, 1024, 1_000, 2.0, &mut seq, None).unwrap();
        assert_eq!((s.wal.samples, s.wal.first_segment()), (1, Some(3)));
        // The next window seals it: a new head with nothing in the WAL (the generation wraps).
        s.push_raw(&raw, 1024, window, 3.0, &mut seq, None).unwrap();
        assert_eq!(s.wal, WalState::default());
        s.wal.samples = 1;
        s.seal_raw(&mut seq, true).unwrap();
        assert_eq!((s.wal.samples, s.wal.head_gen), (0, 1));
        // Nothing to seal: the generation stays.
        s.seal_raw(&mut seq, true).unwrap();
        assert_eq!(s.wal.head_gen, 1);
        assert_eq!(s.raw().pending.len(), 2);
        // Acknowledged chunks release the pending buffer.
        let seqs: Vec<u64> = s.raw().pending.iter().map(|p| p.seq).collect();
        for q in seqs {
            s.raw_mut().ack_pending(q);
        }
        assert!(s.raw().pending.0.is_none());
    }

    #[test]
    fn raw_tail_covers_only_what_it_counted() {
        // What every series pays for it (docs/performance.md).
        assert!(std::mem::size_of::<RawTail>() <= 72);
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
        // A bucket with more samples than its count holds is no longer covered; later ones are.
        let wide = 100_000;
        let mut o = RawTail::new();
        for ts in 0..70_000 {
            o.add(wide, (ts > 0).then(|| ts - 1), ts, 1.0);
        }
        o.add(wide, Some(69_999), 100_000, 2.0);
        assert_eq!(o.buckets(wide, 0, 200_000, Some(100_000)), None);
        let later = o.buckets(wide, 100_000, 200_000, Some(100_000)).unwrap();
        assert_eq!(
            later
                .iter()
                .map(|b| (b.start, b.sum, b.count))
                .collect::<Vec<_>>(),
            vec![(100_000, 2.0, 1)]
        );
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
