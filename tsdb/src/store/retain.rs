//! Retention: deleting whole chunks older than each tier's retention.
//!
//! A chunk's samples all lie before the start of the next chunk (or of the head), so a chunk is
//! deleted once that successor start is at or before the cutoff `now − retention` — no decoding
//! needed. The cutoff of a tier that feeds a coarser tier is further capped by the coarser tier's
//! *persisted* rollup watermark, so data is never deleted before its rollup is durable. A head
//! entirely past the cutoff is dropped too, and a series left with no data at all is forgotten.
//!
//! # Running it
//! Like rollups: call [`Tsdb::retain_step`] with a `max_series` budget until
//! [`RetainProgress::done`]; each series is handled under the lock on its own and chunk deletions
//! are applied as one sled batch per call. Deletions of heads and forgotten series become durable
//! with the next [`Tsdb::flush`].

use serde::{Deserialize, Serialize};

use super::keys::{decode_ts, series_tier_key, CHUNK};
use super::rollup::next_key;
use super::{lock, Inner, Tsdb};
use crate::codec::decode_chunk;
use crate::error::Result;

/// Progress of a retention pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetainProgress {
    /// Series processed by this call.
    pub series: usize,
    /// Sealed chunks deleted (on disk or pending in memory).
    pub chunks_deleted: usize,
    /// Series forgotten because every tier became empty.
    pub series_removed: usize,
    /// The pass reached the last series; the next call starts a new pass.
    pub done: bool,
}

impl Tsdb {
    /// Applies retention to at most `max_series` series, continuing where the previous call stopped.
    pub fn retain_step(&self, now_ms: i64, max_series: usize) -> Result<RetainProgress> {
        let mut progress = RetainProgress::default();
        let mut batch = sled::Batch::default();
        while progress.series < max_series {
            let mut inner = lock(&self.inner);
            let Some(key) = next_key(&inner.series, inner.retain_cursor.as_deref()) else {
                inner.retain_cursor = None;
                progress.done = true;
                break;
            };
            self.retain_series(&mut inner, &key, now_ms, &mut batch, &mut progress)?;
            inner.retain_cursor = Some(key);
            progress.series += 1;
        }
        self.tree.apply_batch(batch)?;
        Ok(progress)
    }

    /// A complete retention pass over every series (restarting any partial pass).
    pub fn retain(&self, now_ms: i64) -> Result<RetainProgress> {
        lock(&self.inner).retain_cursor = None;
        self.retain_step(now_ms, usize::MAX)
    }

    fn retain_series(
        &self,
        inner: &mut Inner,
        key: &[u8],
        now_ms: i64,
        batch: &mut sled::Batch,
        progress: &mut RetainProgress,
    ) -> Result<()> {
        let Some(state) = inner.series.get_mut(key) else {
            return Ok(());
        };
        let tiers = self.config.tiers.len();
        let mut series_empty = true;
        for tier in 0..tiers {
            let cutoff = now_ms.saturating_sub(self.config.tiers[tier].retention_ms);
            let guard = match state.tiers.get(tier + 1) {
                Some(coarser) => coarser.flushed_watermark.unwrap_or(i64::MIN),
                None => i64::MAX,
            };
            let cutoff = cutoff.min(guard);
            let t = &mut state.tiers[tier];
            if cutoff < t.next_expiry {
                // i64::MAX marks a tier found empty that nothing was appended to since.
                series_empty &= t.next_expiry == i64::MAX;
                continue;
            }
            let prefix = series_tier_key(CHUNK, key, tier);
            // One scan: disk chunks starting before the cutoff, then the next two (so the
            // successor of the oldest surviving chunk is known too).
            let mut old = Vec::new();
            let mut later: Vec<i64> = Vec::new();
            for item in self.tree.scan_prefix(&prefix) {
                let (k, _) = item?;
                let start = decode_ts(&k[prefix.len()..])?;
                if start < cutoff {
                    old.push((start, k));
                } else {
                    later.push(start);
                    if later.len() == 2 {
                        break;
                    }
                }
            }
            later.extend(t.sealed.iter().map(|p| p.start));
            later.extend(t.head.first_ts());
            let mut starts: Vec<i64> = old.iter().map(|(s, _)| *s).chain(later).collect();
            starts.sort_unstable();
            starts.dedup();
            let successor = |start: i64| starts.iter().copied().find(|&s| s > start);
            let mut deleted: Vec<i64> = Vec::new();
            for (start, k) in &old {
                let end = match successor(*start) {
                    Some(next) => next,
                    None => match self.tree.get(k)? {
                        Some(bytes) => decode_chunk(&bytes)?
                            .timestamps
                            .last()
                            .map_or(i64::MIN, |last| last.saturating_add(1)),
                        None => i64::MIN,
                    },
                };
                if end <= cutoff {
                    batch.remove(k.clone());
                    deleted.push(*start);
                }
            }
            t.sealed.retain(|p| {
                let keep = successor(p.start).is_none_or(|next| next > cutoff);
                if !keep {
                    deleted.push(p.start);
                }
                keep
            });
            deleted.sort_unstable();
            deleted.dedup();
            progress.chunks_deleted += deleted.len();
            if t.head.last_ts().is_some_and(|last| last < cutoff) {
                deleted.extend(t.head.first_ts());
                t.clear_head()?;
            }
            // Earliest moment the oldest remaining data can expire: the start of the second
            // remaining chunk, or the end of the head when only the head remains.
            let remaining: Vec<i64> = starts
                .iter()
                .copied()
                .filter(|s| deleted.binary_search(s).is_err())
                .take(2)
                .collect();
            t.next_expiry = match remaining[..] {
                [] => i64::MAX,
                [_, second, ..] => second,
                [only] if t.head.first_ts() == Some(only) => {
                    t.head.last_ts().map_or(i64::MIN, |l| l.saturating_add(1))
                }
                [_] => i64::MIN,
            };
            series_empty &= remaining.is_empty();
        }
        if series_empty {
            inner.series.remove(key);
            inner.removed.push(key.into());
            progress.series_removed += 1;
        }
        Ok(())
    }
}
