//! Retention: deleting whole bundles (one tier window of many series) older than each tier's
//! retention, then the block files left without bundles, and forgetting series left without data.
//!
//! A bundle of tier `t` covering window `[w, w + span)` is deleted once `w + span ≤ now − retention`
//! and, unless `t` is the coarsest tier, every series in it has tier `t + 1` durable (sealed and
//! flushed) through `w + span` — so nothing is deleted before its rollup is on disk, and a rollup
//! head lost in a crash can always be re-derived. No chunk is decoded.
//!
//! # Running it
//! Call [`Tsdb::retain_step`] with a `max_series` budget until [`RetainProgress::done`]: the first
//! call of a pass deletes expired bundles (one sled batch, made durable before any block file
//! goes, so no index entry ever names a deleted file; a crash in between leaves orphaned files
//! that reopening deletes), later calls forget empty series in
//! budgeted slices. Forgotten series' records are deleted by the next [`Tsdb::flush`].

use serde::{Deserialize, Serialize};

use super::keys::{bundle_key, INDEX};
use super::{lock, Tsdb};
use crate::error::Result;

/// Progress of a retention pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetainProgress {
    /// Series examined by this call.
    pub series: usize,
    /// Sealed chunks deleted (in deleted bundles).
    pub chunks_deleted: usize,
    /// Bundles deleted.
    pub bundles_deleted: usize,
    /// Block files deleted (every bundle in them was deleted).
    pub files_deleted: usize,
    /// Series forgotten because every tier became empty.
    pub series_removed: usize,
    /// The pass reached the last series; the next call starts a new pass.
    pub done: bool,
}

impl Tsdb {
    /// Applies retention, continuing the current pass (see the module docs).
    pub fn retain_step(&self, now_ms: i64, max_series: usize) -> Result<RetainProgress> {
        let _serial = lock(&self.flush_lock);
        let mut progress = RetainProgress::default();
        if lock(&self.inner).retain_cursor.is_none() {
            self.delete_expired_bundles(now_ms, &mut progress)?;
        }
        let mut inner = lock(&self.inner);
        while progress.series < max_series {
            let Some(key) = inner.series.next_key(inner.retain_cursor.as_deref()) else {
                inner.retain_cursor = None;
                progress.done = true;
                break;
            };
            progress.series += 1;
            let empty = inner.series.get(&key).is_some_and(|s| s.is_empty());
            if empty {
                if let Some(state) = inner.series.remove(&key) {
                    inner.removed_ids.push(state.id);
                    progress.series_removed += 1;
                }
            }
            inner.retain_cursor = Some(key);
        }
        Ok(progress)
    }

    /// A complete retention pass over every series (restarting any partial pass).
    pub fn retain(&self, now_ms: i64) -> Result<RetainProgress> {
        lock(&self.inner).retain_cursor = None;
        self.retain_step(now_ms, usize::MAX)
    }

    fn delete_expired_bundles(&self, now_ms: i64, progress: &mut RetainProgress) -> Result<()> {
        let tiers = &self.config.tiers;
        let expired: Vec<(u32, u8, i64)> = {
            let inner = lock(&self.inner);
            inner
                .bundles
                .iter()
                .filter(|(_, meta)| {
                    let t = usize::from(meta.tier);
                    let Some(spec) = tiers.get(t) else {
                        return false;
                    };
                    let end = meta.window.saturating_add(spec.max_chunk_span_ms);
                    if end > now_ms.saturating_sub(spec.retention_ms) {
                        return false;
                    }
                    if t + 1 == tiers.len() {
                        return true;
                    }
                    meta.series.iter().all(|id| {
                        let coarser = inner
                            .series
                            .by_id(*id)
                            .map(|s| s.tier(t + 1).and_then(|c| c.sealed_through.get()));
                        match coarser {
                            // Forgotten series: nothing left to protect.
                            None => true,
                            // A coarser tier not created yet has nothing durable.
                            Some(through) => through.is_some_and(|d| d >= end),
                        }
                    })
                })
                .map(|(&id, meta)| (id, meta.tier, meta.window))
                .collect()
        };
        if expired.is_empty() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for &(id, tier, window) in &expired {
            batch.remove(&bundle_key(INDEX, tier, window, id)[..]);
        }
        self.tree.apply_batch(batch)?;
        self.tree.flush()?;
        let mut inner = lock(&self.inner);
        for &(id, tier, _) in &expired {
            let Some(meta) = inner.bundles.remove(&id) else {
                continue;
            };
            progress.bundles_deleted += 1;
            for series in meta.series {
                let tier = inner
                    .series
                    .by_id_mut(series)
                    .and_then(|s| s.tier_mut(usize::from(tier)));
                if let Some(t) = tier {
                    progress.chunks_deleted += t.refs.retain_bundles(|b| b != id);
                }
            }
        }
        let mut files: Vec<(u8, i64)> = expired.iter().map(|&(_, t, w)| (t, w)).collect();
        files.sort_unstable();
        files.dedup();
        files.retain(|&(t, w)| !inner.bundles.values().any(|m| m.tier == t && m.window == w));
        drop(inner);
        for &file in &files {
            self.blocks.remove(file)?;
        }
        if !files.is_empty() {
            self.blocks.sync_dir()?;
        }
        progress.files_deleted += files.len();
        Ok(())
    }
}
