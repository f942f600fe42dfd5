//! Range queries: tier selection, stitching tiers together, downsampling.
//!
//! A query for `[start, end]` uses the finest tier whose retention reaches back to `start`
//! (`retention ≥ now − start`; the coarsest tier if none does). Because rollups lag behind raw data,
//! the part of the range newer than that tier's watermark is filled from the next finer tier, and so
//! on down to raw — so a 24 h chart ends with the latest (even un-flushed) samples. Rows are then
//! reduced to at most `max_points` buckets keeping min and max.

use super::aggregate::{downsample, Point, Row};
use super::read::{read_rows, BundleCache, TierSnapshot};
use super::{lock, Tsdb};
use crate::error::Result;

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

    /// [`Tsdb::query_many`] for callers that bucket the result themselves at `resolution_ms`
    /// (charts): reads the coarsest tier whose resolution is at most that and whose retention
    /// covers the range (never a finer one than [`Tsdb::select_tier`] picks), so an hour of
    /// 2-minute buckets decodes minute rollups instead of raw samples. The not yet rolled-up tail
    /// still comes from finer tiers.
    pub fn query_many_at_resolution<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        start_ms: i64,
        end_ms: i64,
        resolution_ms: i64,
        now_ms: i64,
    ) -> Result<Vec<Vec<Point>>> {
        let age = now_ms.saturating_sub(start_ms);
        let mut top = self.select_tier(start_ms, now_ms);
        while let Some(next) = self.config.tiers.get(top + 1) {
            if next.resolution_ms > resolution_ms || next.retention_ms < age {
                break;
            }
            top += 1;
        }
        self.query_tiers(keys, start_ms, end_ms, 0, top)
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
                            let lower = if tier == top {
                                start_ms
                            } else {
                                start_ms.max(s.tiers[tier + 1].watermark.unwrap_or(i64::MIN))
                            };
                            let upper = if tier == 0 {
                                end_excl
                            } else {
                                end_excl.min(s.tiers[tier].watermark.unwrap_or(i64::MIN))
                            };
                            let snap = TierSnapshot::of(
                                &inner.bundles,
                                tier,
                                &s.tiers[tier],
                                lower,
                                upper,
                            );
                            (lower, upper, snap)
                        })
                        .collect();
                    Some(SeriesSnapshot { parts })
                })
                .collect()
        };
        let mut cache = BundleCache::default();
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
