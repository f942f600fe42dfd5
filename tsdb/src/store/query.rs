//! Range queries: tier selection, stitching tiers together, downsampling.
//!
//! A query for `[start, end]` uses the finest tier whose retention reaches back to `start`
//! (`retention ≥ now − start`; the coarsest tier if none does). Because rollups lag behind raw data,
//! the part of the range newer than that tier's watermark is filled from the next finer tier, and so
//! on down to raw — so a 24 h chart ends with the latest (even un-flushed) samples. Rows are then
//! reduced to at most `max_points` buckets keeping min and max.

use super::aggregate::{downsample, Point, Row};
use super::read::{read_rows, TierSnapshot};
use super::{lock, Tsdb};
use crate::error::Result;

/// In-memory state needed to answer one series' query.
struct SeriesSnapshot {
    tiers: Vec<TierSnapshot>,
    watermarks: Vec<Option<i64>>,
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
        if start_ms > end_ms {
            return Ok(vec![Vec::new(); keys.len()]);
        }
        let top = self.select_tier(start_ms, now_ms);
        let snapshots: Vec<Option<SeriesSnapshot>> = {
            let inner = lock(&self.inner);
            keys.iter()
                .map(|k| {
                    inner.series.get(k.as_ref()).map(|s| SeriesSnapshot {
                        tiers: s.tiers[..=top].iter().map(TierSnapshot::of).collect(),
                        watermarks: s.tiers[..=top].iter().map(|t| t.watermark).collect(),
                    })
                })
                .collect()
        };
        let end_excl = end_ms.saturating_add(1);
        let mut rows: Vec<Row> = Vec::new();
        let mut out = Vec::with_capacity(keys.len());
        for (key, snap) in keys.iter().zip(&snapshots) {
            let Some(snap) = snap else {
                out.push(Vec::new());
                continue;
            };
            rows.clear();
            for tier in (0..=top).rev() {
                let lower = if tier == top {
                    start_ms
                } else {
                    start_ms.max(snap.watermarks[tier + 1].unwrap_or(i64::MIN))
                };
                let upper = if tier == 0 {
                    end_excl
                } else {
                    end_excl.min(snap.watermarks[tier].unwrap_or(i64::MIN))
                };
                read_rows(
                    &self.tree,
                    key.as_ref(),
                    tier,
                    &snap.tiers[tier],
                    lower,
                    upper,
                    &mut rows,
                )?;
            }
            out.push(downsample(&rows, start_ms, end_ms, max_points));
        }
        Ok(out)
    }
}
