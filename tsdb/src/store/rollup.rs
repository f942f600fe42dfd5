//! Incremental rollups: finished buckets of each tier are computed from the next finer tier.
//!
//! Per series and tier ≥ 1 the store remembers a watermark `W`: every finer-tier row older than `W`
//! has been rolled. A step reads the finer tier in `[W, limit)`, where `limit` is the start of the
//! current (unfinished) bucket at `now − late_tolerance_ms`, appends one avg/min/max/count row per
//! non-empty bucket to the tier's head and sets `W = limit`. Tiers cascade within one series (raw →
//! 1 min → 1 h → 1 d), and a coarser tier never rolls past its source tier's watermark.
//!
//! # Running it
//! Call [`Tsdb::rollup_step`] periodically (e.g. every few minutes) with a `max_series` budget and
//! repeat until [`RollupProgress::done`], yielding between calls; each series is processed under
//! the store lock on its own, so appends are blocked for at most one series' work (a few tens of µs).
//! Run it before [`Tsdb::retain`], and [`Tsdb::flush`] afterwards: the flush seals and persists
//! rollup windows the watermark has passed, and retention never deletes finer data whose coarser
//! window is not durable yet (rollup heads are re-derived from it after a restart).

use serde::{Deserialize, Serialize};

use super::aggregate::{aggregate, floor_to};
use super::read::{read_rows, BundleCache, TierSnapshot};
use super::{lock, Inner, Tsdb};
use crate::error::Result;

/// Progress of a rollup pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollupProgress {
    /// Series processed by this call.
    pub series: usize,
    /// Rollup rows (buckets) appended by this call.
    pub buckets: usize,
    /// The pass reached the last series; the next call starts a new pass.
    pub done: bool,
}

impl Tsdb {
    /// Rolls up at most `max_series` series, continuing where the previous call stopped.
    /// `now_ms` is the current time; only buckets that ended `late_tolerance_ms` before it are
    /// finalized.
    pub fn rollup_step(&self, now_ms: i64, max_series: usize) -> Result<RollupProgress> {
        let mut progress = RollupProgress::default();
        let mut cache = BundleCache::for_rollup();
        while progress.series < max_series {
            let mut inner = lock(&self.inner);
            let Some(key) = inner.series.next_key(inner.rollup_cursor.as_deref()) else {
                inner.rollup_cursor = None;
                progress.done = true;
                break;
            };
            progress.buckets += self.rollup_series(&mut inner, &mut cache, &key, now_ms)?;
            inner.rollup_cursor = Some(key);
            progress.series += 1;
        }
        Ok(progress)
    }

    /// A complete rollup pass over every series (restarting any partial pass).
    pub fn rollup(&self, now_ms: i64) -> Result<RollupProgress> {
        lock(&self.inner).rollup_cursor = None;
        self.rollup_step(now_ms, usize::MAX)
    }

    fn rollup_series(
        &self,
        inner: &mut Inner,
        cache: &mut BundleCache,
        key: &[u8],
        now_ms: i64,
    ) -> Result<usize> {
        let Inner {
            series,
            seq,
            bundles,
            ..
        } = inner;
        let Some(state) = series.get_mut(key) else {
            return Ok(0);
        };
        if let Some(width) = self.config.tiers.get(1).map(|t| t.resolution_ms) {
            // After a restart the first pass derives the raw tail queries read (see series.rs).
            state.init_tail(width)?;
        }
        let mut written = 0;
        let finished_at = now_ms.saturating_sub(self.config.late_tolerance_ms);
        // A raw head whose window is over is sealed here too, so a series that stopped reporting
        // does not keep an open head (and the WAL segments it pins) forever.
        let raw = &self.config.tiers[0];
        if state
            .raw()
            .head_window_end(raw)
            .is_some_and(|end| end <= finished_at)
        {
            state.seal_raw(seq, true)?;
        }
        for tier in 1..self.config.tiers.len() {
            let spec = &self.config.tiers[tier];
            let width = spec.resolution_ms;
            let mut limit = floor_to(finished_at, width);
            if tier >= 2 {
                match state.watermark(tier - 1) {
                    Some(source_done) => limit = limit.min(floor_to(source_done, width)),
                    None => continue,
                }
            }
            let from = state.watermark(tier).unwrap_or(i64::MIN);
            let Some(source) = state.tier(tier - 1).filter(|t| t.has_data()) else {
                continue;
            };
            if from >= limit {
                continue;
            }
            let snap = TierSnapshot::of(bundles, tier - 1, Some(source), from, limit);
            let mut rows = Vec::new();
            read_rows(&self.blocks, cache, &snap, from, limit, &mut rows)?;
            // A tier is created by its first row: until then nothing finer is finished, and the
            // next pass reads the same (empty) range again.
            if rows.is_empty() && state.tier(tier).is_none() {
                continue;
            }
            let max = self.config.max_chunk_samples;
            let t = state.rollup_mut_or_create(tier, &self.config)?;
            for bucket in aggregate(&rows, |ts| floor_to(ts, width)) {
                t.push(spec, max, bucket.ts, &bucket.columns(), seq)?;
                written += 1;
            }
            t.watermark.set(limit);
            if t.head_window_end(spec).is_some_and(|end| end <= limit) {
                t.seal(seq, true)?;
            }
        }
        Ok(written)
    }
}
