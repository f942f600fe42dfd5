//! Range queries: tier selection, stitching tiers together, downsampling.
//!
//! A query for `[start, end]` uses the finest tier whose retention reaches back to `start`
//! (`retention ≥ now − start`; the coarsest tier if none does). Because rollups lag behind raw data,
//! the part of the range newer than that tier's watermark is filled from the next finer tier, and so
//! on down to raw — so a 24 h chart ends with the latest (even un-flushed) samples. Rows are then
//! reduced to at most `max_points` buckets keeping min and max.

use super::aggregate::{downsample, Point, Row};
use super::read::{read_rows, BundleCache, TierSnapshot};
use super::series::{SeriesState, TailBucket};
use super::{lock, Tsdb};
use crate::error::{Result, TsdbError};

/// Most buckets per series of a bucketed query (the answer holds one value per bucket).
const MAX_BUCKETS: usize = 100_000;

/// Series from which a bucketed query reads on two threads.
const PARALLEL_FROM: usize = 1_024;

/// The bucket grid of a bucketed query.
#[derive(Debug, Clone, Copy)]
struct Grid {
    start: i64,
    step: i64,
    buckets: usize,
}

/// What answers one tier's part of a bucketed query.
enum Part {
    /// Rows read from the tier.
    Tier(TierSnapshot),
    /// The raw tail's running sums.
    Tail(Vec<TailBucket>),
}

/// `(from, to, part)`: a tier's sub-range of a bucketed query and what answers it.
type PartRange = (i64, i64, Part);

/// The part of `[start, end_excl)` tier `tier` answers when `top` is the coarsest tier read: from
/// the next coarser tier's watermark (what is rolled up there comes from there) to its own.
fn tier_range(s: &SeriesState, tier: usize, top: usize, start: i64, end_excl: i64) -> (i64, i64) {
    let lower = if tier == top {
        start
    } else {
        start.max(s.watermark(tier + 1).unwrap_or(i64::MIN))
    };
    let upper = if tier == 0 {
        end_excl
    } else {
        end_excl.min(s.watermark(tier).unwrap_or(i64::MIN))
    };
    (lower, upper)
}

/// In-memory state needed to answer one series' query: `(from, to, tier snapshot)` per tier,
/// coarsest first.
struct SeriesSnapshot {
    parts: Vec<(i64, i64, TierSnapshot)>,
}

impl Tsdb {
    /// Index of the tier a query starting at `start_ms` reads (see module docs).
    pub fn select_tier(&self, start_ms: i64, now_ms: i64) -> usize {
        let age = now_ms.saturating_sub(start_ms);
        self.config
            .tiers
            .iter()
            .position(|t| t.retention_ms >= age)
            .unwrap_or(self.config.tiers.len() - 1)
    }

    /// Points of one series with `start_ms ≤ ts ≤ end_ms`, at most `max_points` of them
    /// (0 = no limit). Unknown series yield an empty vector.
    pub fn query(
        &self,
        key: impl AsRef<[u8]>,
        start_ms: i64,
        end_ms: i64,
        max_points: usize,
        now_ms: i64,
    ) -> Result<Vec<Point>> {
        let mut all = self.query_many(&[key], start_ms, end_ms, max_points, now_ms)?;
        Ok(all.pop().unwrap_or_default())
    }

    /// [`Tsdb::query`] for many series at once (e.g. every resource's sparkline): one lock
    /// acquisition for all in-memory state, then per-series range scans. Results are in `keys` order.
    pub fn query_many<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        start_ms: i64,
        end_ms: i64,
        max_points: usize,
        now_ms: i64,
    ) -> Result<Vec<Vec<Point>>> {
        let top = self.select_tier(start_ms, now_ms);
        self.query_tiers(keys, start_ms, end_ms, max_points, top)
    }

    /// The coarsest tier with a resolution of at most `resolution_ms` whose retention covers a
    /// range starting at `start_ms` (never finer than [`Tsdb::select_tier`]), so an hour of
    /// 2-minute buckets decodes minute rollups instead of raw samples.
    fn tier_for_resolution(&self, start_ms: i64, resolution_ms: i64, now_ms: i64) -> usize {
        let age = now_ms.saturating_sub(start_ms);
        let mut top = self.select_tier(start_ms, now_ms);
        while let Some(next) = self.config.tiers.get(top + 1) {
            if next.resolution_ms > resolution_ms || next.retention_ms < age {
                break;
            }
            top += 1;
        }
        top
    }

    /// Per key, the mean of its samples in each of `buckets` buckets of `step_ms` from `start_ms`
    /// (`None`: no finite sample in the bucket) — what a chart of every resource needs. Reads the
    /// coarsest tiers with a resolution of at most `step_ms / 2` that cover the range; rollup rows count with
    /// their sample count, so a bucket's mean is that of the raw samples in it (to the rollups'
    /// 7 significant digits) whichever tiers answer it. The not yet rolled-up tail comes from the
    /// per-series running sums kept on append when the bucket grid is aligned to the first rollup
    /// tier (it is for every chart range), so no raw head is decoded. Rows are assigned by their
    /// start: a rollup row wider than a bucket falls into the bucket its start is in.
    pub fn query_bucket_means<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        start_ms: i64,
        step_ms: i64,
        buckets: usize,
        now_ms: i64,
    ) -> Result<Vec<Vec<Option<f64>>>> {
        if step_ms <= 0 || !(1..=MAX_BUCKETS).contains(&buckets) {
            return Err(TsdbError::InvalidArgument(
                "bucket query needs a positive step and 1 to 100,000 buckets",
            ));
        }
        let end_excl = i64::try_from(buckets)
            .ok()
            .and_then(|n| step_ms.checked_mul(n))
            .and_then(|span| start_ms.checked_add(span))
            .ok_or(TsdbError::InvalidArgument("bucket grid overflows"))?;
        let top = self.tier_for_resolution(start_ms, step_ms / 2, now_ms);
        // The tail's buckets must each fall into one query bucket.
        let tail_width = self
            .config
            .tiers
            .get(1)
            .map(|t| t.resolution_ms)
            .filter(|&w| top > 0 && step_ms % w == 0 && start_ms.rem_euclid(w) == 0);
        let snapshots: Vec<Option<Vec<PartRange>>> = {
            let inner = lock(&self.inner);
            keys.iter()
                .map(|k| {
                    let s = inner.series.get(k.as_ref())?;
                    let mut parts = Vec::with_capacity(top + 1);
                    for tier in (0..=top).rev() {
                        let (lower, upper) = tier_range(s, tier, top, start_ms, end_excl);
                        if lower >= upper {
                            continue;
                        }
                        let tail = tail_width
                            .filter(|_| tier == 0)
                            .and_then(|w| s.tail.buckets(w, lower, upper, s.raw().last_ts()));
                        let part = match tail {
                            Some(b) => Part::Tail(b),
                            None => Part::Tier(TierSnapshot::of(
                                &inner.bundles,
                                tier,
                                s.tier(tier),
                                lower,
                                upper,
                            )),
                        };
                        parts.push((lower, upper, part));
                    }
                    Some(parts)
                })
                .collect()
        };
        let grid = Grid {
            start: start_ms,
            step: step_ms,
            buckets,
        };
        if snapshots.len() < PARALLEL_FROM {
            return self.bucket_means_of(&snapshots, grid);
        }
        // Decoding dominates a query over thousands of series: read the second half on one more
        // thread (the store lock is not held here).
        let (first, second) = snapshots.split_at(snapshots.len() / 2);
        let (a, b) = std::thread::scope(|scope| {
            let helper = scope.spawn(|| self.bucket_means_of(second, grid));
            let a = self.bucket_means_of(first, grid);
            let b = helper
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (a, b)
        });
        let mut out = a?;
        out.extend(b?);
        Ok(out)
    }

    /// Bucket means of the series whose parts were snapshot (see [`Tsdb::query_bucket_means`]).
    fn bucket_means_of(
        &self,
        snapshots: &[Option<Vec<PartRange>>],
        grid: Grid,
    ) -> Result<Vec<Vec<Option<f64>>>> {
        let Grid {
            start,
            step,
            buckets,
        } = grid;
        let mut cache = BundleCache::for_query();
        let mut rows: Vec<Row> = Vec::new();
        let mut sums = vec![(0.0f64, 0.0f64); buckets];
        let mut out = Vec::with_capacity(snapshots.len());
        let slot = |ts: i64| {
            (ts >= start)
                .then(|| ((ts - start) / step) as usize)
                .filter(|&i| i < buckets)
        };
        for parts in snapshots {
            let Some(parts) = parts else {
                out.push(vec![None; buckets]);
                continue;
            };
            sums.fill((0.0, 0.0));
            for (lower, upper, part) in parts {
                match part {
                    Part::Tier(snap) => {
                        rows.clear();
                        read_rows(&self.blocks, &mut cache, snap, *lower, *upper, &mut rows)?;
                        for r in &rows {
                            if let Some(i) = slot(r.ts).filter(|_| r.avg.is_finite()) {
                                sums[i].0 += r.avg * r.count;
                                sums[i].1 += r.count;
                            }
                        }
                    }
                    Part::Tail(tail) => {
                        for b in tail {
                            if let Some(i) = slot(b.start) {
                                sums[i].0 += b.sum;
                                sums[i].1 += f64::from(b.count);
                            }
                        }
                    }
                }
            }
            out.push(
                sums.iter()
                    .map(|&(sum, n)| (n > 0.0).then(|| sum / n))
                    .collect(),
            );
        }
        Ok(out)
    }

    fn query_tiers<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        start_ms: i64,
        end_ms: i64,
        max_points: usize,
        top: usize,
    ) -> Result<Vec<Vec<Point>>> {
        if start_ms > end_ms {
            return Ok(vec![Vec::new(); keys.len()]);
        }
        let end_excl = end_ms.saturating_add(1);
        // Per series, per tier from coarse to fine: the sub-range it answers and its snapshot.
        let snapshots: Vec<Option<SeriesSnapshot>> = {
            let inner = lock(&self.inner);
            keys.iter()
                .map(|k| {
                    let s = inner.series.get(k.as_ref())?;
                    let parts = (0..=top)
                        .rev()
                        .map(|tier| {
                            let (lower, upper) = tier_range(s, tier, top, start_ms, end_excl);
                            let snap =
                                TierSnapshot::of(&inner.bundles, tier, s.tier(tier), lower, upper);
                            (lower, upper, snap)
                        })
                        .collect();
                    Some(SeriesSnapshot { parts })
                })
                .collect()
        };
        let mut cache = BundleCache::for_query();
        let mut rows: Vec<Row> = Vec::new();
        let mut out = Vec::with_capacity(keys.len());
        for snap in &snapshots {
            let Some(snap) = snap else {
                out.push(Vec::new());
                continue;
            };
            rows.clear();
            for (lower, upper, tier) in &snap.parts {
                read_rows(&self.blocks, &mut cache, tier, *lower, *upper, &mut rows)?;
            }
            out.push(downsample(&rows, start_ms, end_ms, max_points));
        }
        Ok(out)
    }
}
