//! The series store: [`Tsdb`] keeps an open head chunk per series and tier in memory, persists
//! them incrementally through WAL segments and sealed chunks through window bundles on
//! [`Tsdb::flush`], rolls finer tiers into coarser ones, enforces retention and answers range
//! queries.
//!
//! Concurrency: all methods take `&self`; a `Tsdb` can be shared behind an `Arc`. In-memory state
//! sits behind one mutex that every operation holds only briefly: appends for one sample or batch,
//! flush only while snapshotting dirty state (the sled write and fsync run outside it), rollup and
//! retention for one series at a time, queries only to copy the heads of the series they read.

pub(crate) mod aggregate;
mod blocks;
mod bundle;
mod config;
mod flush;
mod keys;
mod open;
mod query;
mod read;
mod refs;
mod retain;
mod rollup;
mod series;
mod table;
mod wal;
mod wal_files;

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

pub use aggregate::Point;
pub use config::{TierConfig, TierSpec, MAX_TIERS};
pub use flush::FlushSummary;
pub use open::{BLOCKS_DIR, STORE_FORMAT_VERSION, TREE_NAME};
pub use retain::RetainProgress;
pub use rollup::RollupProgress;

use crate::error::{Result, TsdbError};
use crate::series_key::SeriesKey;
use aggregate::floor_to;
use blocks::{Blocks, RecordAddr};
use series::SeriesState;
use table::SeriesTable;
use wal_files::WalFiles;

/// Timestamps accepted by the store: ±2^62 ms (±146 million years), which keeps all internal
/// arithmetic free of overflow.
const TS_LIMIT: i64 = 1 << 62;

/// Compressed, tiered time-series store: chunk payloads in block files, everything else in a sled
/// tree.
#[derive(Debug)]
pub struct Tsdb {
    db: sled::Db,
    tree: sled::Tree,
    blocks: Blocks,
    wal: WalFiles,
    config: TierConfig,
    inner: Mutex<Inner>,
    /// Serializes flushes and retention so their sled batches land in snapshot order.
    flush_lock: Mutex<()>,
}

/// A bundle on disk.
#[derive(Debug, Clone)]
struct BundleMeta {
    tier: u8,
    window: i64,
    /// Series with a chunk in it.
    series: Vec<u32>,
    /// Offset of its record in the window's block file.
    offset: u64,
    /// Payload length of the record.
    len: u32,
}

impl BundleMeta {
    /// Address of the bundle's block record (`id` is the bundle's id).
    fn addr(&self, id: u32) -> RecordAddr {
        RecordAddr {
            tier: self.tier,
            window: self.window,
            bundle: id,
            offset: self.offset,
            len: self.len,
        }
    }
}

/// Mutable in-memory state.
#[derive(Debug, Default)]
struct Inner {
    /// Every series, by key, id and slot.
    series: SeriesTable,
    next_id: u32,
    /// Ids (with their keys) whose `I` record the next flush writes.
    new_ids: Vec<(u32, Box<[u8]>)>,
    /// Ids of forgotten series whose `I` record the next flush deletes.
    removed_ids: Vec<u32>,
    bundles: BTreeMap<u32, BundleMeta>,
    next_bundle: u32,
    /// Live WAL segments: sequence → number of parts.
    segments: BTreeMap<u64, u16>,
    next_segment: u64,
    /// Newest raw timestamp appended (the store's notion of "now" for sealing idle heads).
    newest: Option<i64>,
    samples_written: u64,
    flushed_samples_written: u64,
    samples_rejected: u64,
    /// Sequence for pending chunks.
    seq: u64,
    rollup_cursor: Option<Box<[u8]>>,
    retain_cursor: Option<Box<[u8]>>,
}

impl Inner {
    /// The series of `key`, created (with a fresh id) if needed.
    fn series_mut(&mut self, key: &[u8], config: &TierConfig) -> Result<&mut SeriesState> {
        if !self.series.contains_key(key) {
            let id = self.next_id;
            self.next_id = self
                .next_id
                .checked_add(1)
                .ok_or(TsdbError::InvalidArgument("series id space exhausted"))?;
            self.series.insert(key, SeriesState::new(config, id)?)?;
            self.new_ids.push((id, key.into()));
        }
        self.series
            .get_mut(key)
            .ok_or(TsdbError::InvalidArgument("series vanished"))
    }
}

/// Outcome of [`Tsdb::append_batch`]: rejected samples are dropped and counted, the rest stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendSummary {
    /// Samples stored.
    pub accepted: usize,
    /// Samples dropped because they were not newer than their series' last sample.
    pub out_of_order: usize,
    /// Samples dropped for an over-long key or an out-of-range timestamp.
    pub invalid: usize,
}

/// Store size and activity figures (see [`Tsdb::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Series currently known.
    pub series: u64,
    /// Sealed chunks on disk.
    pub chunks: u64,
    /// Bundles on disk.
    pub bundles: u64,
    /// Live WAL segments.
    pub segments: u64,
    /// Chunks sealed in memory and not yet flushed.
    pub pending_chunks: u64,
    /// Open head chunks holding at least one sample.
    pub heads: u64,
    /// Sum of key and value lengths of everything this store keeps in its sled tree, plus the
    /// block and WAL files' bytes.
    pub logical_bytes: u64,
    /// Of which WAL files.
    pub wal_bytes: u64,
    /// Of which block files (chunk payloads with their record headers).
    pub block_bytes: u64,
    /// Block files on disk.
    pub block_files: u64,
    /// sled's on-disk size of the whole database (includes other trees sharing the `sled::Db`, and
    /// sled's own log overhead) plus the block and WAL files.
    pub bytes_on_disk: u64,
    /// Raw samples accepted, persisted across restarts as of the last flush.
    pub samples_written: u64,
    /// Samples rejected since this process opened the store.
    pub samples_rejected: u64,
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it (state changes are applied
/// in an order that leaves it usable).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Tsdb {
    /// The configuration the store was opened with.
    pub fn config(&self) -> &TierConfig {
        &self.config
    }

    /// Appends one raw sample. The timestamp is rounded to the raw tier's resolution and must be
    /// strictly newer than the series' last sample, otherwise [`TsdbError::OutOfOrder`] is returned
    /// and nothing is stored (a re-delivered or late sample is never silently merged).
    pub fn append(&self, key: impl AsRef<[u8]>, ts_ms: i64, value: f64) -> Result<()> {
        let mut inner = lock(&self.inner);
        self.append_locked(&mut inner, key.as_ref(), ts_ms, value)
    }

    /// Appends many samples under one lock acquisition. Invalid or out-of-order samples are dropped
    /// and counted (also in [`Stats::samples_rejected`]); the others are stored, in slice order.
    pub fn append_batch<K: AsRef<[u8]>>(&self, samples: &[(K, i64, f64)]) -> AppendSummary {
        let mut inner = lock(&self.inner);
        let mut summary = AppendSummary::default();
        for (key, ts, value) in samples {
            match self.append_locked(&mut inner, key.as_ref(), *ts, *value) {
                Ok(()) => summary.accepted += 1,
                Err(TsdbError::OutOfOrder { .. }) => summary.out_of_order += 1,
                Err(_) => summary.invalid += 1,
            }
        }
        summary
    }

    fn append_locked(&self, inner: &mut Inner, key: &[u8], ts_ms: i64, value: f64) -> Result<()> {
        let result = self.try_append(inner, key, ts_ms, value);
        match result {
            Ok(()) => inner.samples_written += 1,
            Err(_) => inner.samples_rejected += 1,
        }
        result
    }

    fn try_append(&self, inner: &mut Inner, key: &[u8], ts_ms: i64, value: f64) -> Result<()> {
        if key.len() > usize::from(u16::MAX) {
            return Err(TsdbError::KeyTooLong(key.len()));
        }
        if !(-TS_LIMIT..=TS_LIMIT).contains(&ts_ms) {
            return Err(TsdbError::InvalidTimestamp(ts_ms));
        }
        let raw = &self.config.tiers[0];
        let ts = floor_to(ts_ms + raw.resolution_ms / 2, raw.resolution_ms);
        let max = self.config.max_chunk_samples;
        let mut seq = inner.seq;
        let tail_width = self.config.tiers.get(1).map(|t| t.resolution_ms);
        let state = inner.series_mut(key, &self.config)?;
        let result = state.push_raw(raw, max, ts, value, &mut seq, tail_width);
        inner.seq = seq;
        if result.is_ok() {
            inner.newest = Some(inner.newest.map_or(ts, |n| n.max(ts)));
        }
        result
    }

    /// Keys of all series currently known, in byte order.
    pub fn series_keys(&self) -> Vec<SeriesKey> {
        lock(&self.inner)
            .series
            .keys()
            .map(SeriesKey::from)
            .collect()
    }

    /// Number of series currently known.
    pub fn series_count(&self) -> usize {
        lock(&self.inner).series.len()
    }

    /// Keys of the series whose key starts with `prefix`, in byte order (e.g. one tenant's series).
    pub fn series_keys_with_prefix(&self, prefix: &[u8]) -> Vec<Vec<u8>> {
        let inner = lock(&self.inner);
        inner
            .series
            .keys_from(prefix)
            .take_while(|k| k.starts_with(prefix))
            .map(<[u8]>::to_vec)
            .collect()
    }

    /// Size and activity figures. Summing logical bytes scans the store's keys, so this is
    /// O(keys): call it for diagnostics, not on a hot path.
    pub fn stats(&self) -> Result<Stats> {
        let mut stats = {
            let inner = lock(&self.inner);
            let tiers = inner.series.values().flat_map(|s| s.tiers());
            let (mut pending, mut heads, mut chunks) = (0u64, 0u64, 0u64);
            for (_, t) in tiers {
                pending += t.pending.len() as u64;
                heads += u64::from(!t.head.is_empty());
                chunks += t.refs.len() as u64;
            }
            Stats {
                series: inner.series.len() as u64,
                chunks,
                bundles: inner.bundles.len() as u64,
                segments: inner.segments.len() as u64,
                pending_chunks: pending,
                heads,
                samples_written: inner.samples_written,
                samples_rejected: inner.samples_rejected,
                ..Stats::default()
            }
        };
        for item in self.tree.iter() {
            let (k, v) = item?;
            stats.logical_bytes += (k.len() + v.len()) as u64;
        }
        let (files, bytes) = self.blocks.total_bytes()?;
        stats.block_files = files;
        stats.block_bytes = bytes;
        stats.wal_bytes = self.wal.total_bytes().1;
        stats.logical_bytes += bytes + stats.wal_bytes;
        stats.bytes_on_disk = self.db.size_on_disk()? + bytes + stats.wal_bytes;
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    //! Rollup tiers are allocated when they first receive data; every path treats a tier not
    //! created yet as empty.

    use super::*;

    const MIN: i64 = 60_000;
    const HOUR: i64 = 60 * MIN;
    const DAY: i64 = 24 * HOUR;
    /// A day boundary.
    const T0: i64 = 1_699_920_000_000;

    /// Opens the store, retrying while a just-dropped instance's sled still holds the lock.
    fn open(dir: &tempfile::TempDir, config: &TierConfig) -> Tsdb {
        for _ in 0..100 {
            match Tsdb::open_path(dir.path(), config.clone()) {
                Err(TsdbError::Storage(e)) if e.to_string().contains("lock") => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => return other.expect("open store"),
            }
        }
        panic!("sled stays locked");
    }

    /// Indexes of the tiers `key` has allocated.
    fn tiers_of(db: &Tsdb, key: &str) -> Vec<usize> {
        let inner = lock(&db.inner);
        let state = inner.series.get(key.as_bytes()).expect("series");
        state.tiers().map(|(i, _)| i).collect()
    }

    fn values(points: &[Point]) -> Vec<(i64, f64)> {
        points.iter().map(|p| (p.ts, p.value)).collect()
    }

    #[test]
    fn a_series_with_only_raw_data_has_no_rollup_tiers_and_answers_every_query() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = open(&dir, &TierConfig::default());
        for i in 0..30 {
            db.append("a", T0 + i * 10_000, i as f64).expect("append");
        }
        let now = T0 + 5 * MIN;
        db.append("b", now - 30_000, 7.0).expect("append");
        assert_eq!(tiers_of(&db, "a"), vec![0]);
        // Whichever tier a range selects, the raw tier answers what no rollup tier holds.
        let raw = db.query("a", T0, now, 0, now).expect("query");
        assert_eq!(raw.len(), 30);
        for later in [now + 3 * HOUR, now + 2 * DAY, now + 30 * DAY] {
            assert_eq!(db.query("a", T0, now, 0, later).expect("query"), raw);
        }
        let means = db
            .query_bucket_means(&["a", "b"], T0, 2 * MIN, 3, now)
            .expect("bucket means");
        assert_eq!(
            means,
            vec![
                vec![Some(5.5), Some(17.5), Some(26.5)],
                vec![None, None, Some(7.0)]
            ]
        );
        db.flush().expect("flush");

        // Four minutes of "a" are finished (1 min lateness): the minute tier is created with
        // their rows. No hour is finished, and "b" has only unfinished samples.
        let p = db.rollup(now).expect("rollup");
        assert_eq!(p.buckets, 4);
        assert_eq!(tiers_of(&db, "a"), vec![0, 1]);
        assert_eq!(tiers_of(&db, "b"), vec![0]);
        let again = db
            .query_bucket_means(&["a", "b"], T0, 2 * MIN, 3, now)
            .expect("bucket means");
        assert_eq!(again, means);
        // A range the minute tier answers: its four rows, then the raw samples after them.
        let day = db.query("a", T0, now, 0, now + 3 * HOUR).expect("query");
        let mut want = vec![(T0, 2.5), (T0 + MIN, 8.5), (T0 + 2 * MIN, 14.5)];
        want.push((T0 + 3 * MIN, 20.5));
        want.extend((24..30).map(|i| (T0 + i * 10_000, i as f64)));
        assert_eq!(values(&day), want);
        assert_eq!(
            values(&db.query("b", T0, now, 0, now + 30 * DAY).expect("query")),
            vec![(now - 30_000, 7.0)]
        );
        let stats = db.stats().expect("stats");
        assert_eq!((stats.series, stats.heads), (2, 3));
    }

    #[test]
    fn reopening_creates_the_tiers_with_flushed_chunks_and_rollups_rederive_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = TierConfig::default();
        let now = T0 + 3 * HOUR;
        let ranges = [now, now + 2 * DAY, now + 30 * DAY];
        let before: Vec<Vec<Point>> = {
            let db = open(&dir, &config);
            for i in 0..3 * 360 {
                db.append("a", T0 + i * 10_000, (i % 50) as f64)
                    .expect("append");
            }
            db.append("b", now - 20_000, 7.0).expect("append");
            db.rollup(now).expect("rollup");
            db.flush().expect("flush");
            // Hours 0 and 1 are rolled into the hour tier; no day is finished.
            assert_eq!(tiers_of(&db, "a"), vec![0, 1, 2]);
            assert_eq!(tiers_of(&db, "b"), vec![0]);
            ranges
                .iter()
                .map(|&at| db.query("a", T0, now, 0, at).expect("query"))
                .collect()
        };
        let db = open(&dir, &config);
        // The minute tier has flushed chunks (its first two windows); the hour tier's only data
        // was its open head, which is not persisted.
        assert_eq!(tiers_of(&db, "a"), vec![0, 1]);
        assert_eq!(tiers_of(&db, "b"), vec![0]);
        {
            let inner = lock(&db.inner);
            let a = inner.series.get(&b"a"[..]).expect("a");
            assert_eq!(a.watermark(1), Some(T0 + 2 * HOUR));
            assert_eq!(a.watermark(2), None);
        }
        assert_eq!(
            values(&db.query("b", T0, now, 0, now).expect("query")),
            vec![(now - 20_000, 7.0)]
        );
        db.rollup(now).expect("rollup");
        assert_eq!(tiers_of(&db, "a"), vec![0, 1, 2]);
        for (at, want) in ranges.iter().zip(&before) {
            assert_eq!(&db.query("a", T0, now, 0, *at).expect("query"), want);
        }
    }

    #[test]
    fn retention_keeps_data_whose_coarser_tier_is_not_created_yet() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = TierConfig {
            tiers: vec![
                TierSpec::new(1_000, 2 * HOUR),
                TierSpec::new(MIN, DAY),
                TierSpec::new(HOUR, 7 * DAY),
            ],
            max_chunk_samples: 1024,
            late_tolerance_ms: 0,
        };
        let db = open(&dir, &config);
        for i in 0..360 {
            db.append("c", T0 + i * 10_000, 1.0).expect("append");
        }
        db.flush().expect("flush");
        let later = T0 + 10 * DAY;
        // The raw window is long expired, but nothing of it is rolled up.
        let p = db.retain(later).expect("retain");
        assert_eq!((p.bundles_deleted, p.series_removed), (0, 0));
        assert_eq!(tiers_of(&db, "c"), vec![0]);
        assert_eq!(
            db.query("c", T0, T0 + HOUR, 0, T0 + HOUR)
                .expect("query")
                .len(),
            360
        );
        // Rolled up and flushed, every tier's data is durable in the next one and expires.
        db.rollup(later).expect("rollup");
        assert_eq!(tiers_of(&db, "c"), vec![0, 1, 2]);
        db.flush().expect("flush");
        let p = db.retain(later).expect("retain");
        assert_eq!((p.bundles_deleted, p.series_removed), (4, 1));
        db.flush().expect("flush");
        drop(db);
        let db = open(&dir, &config);
        assert_eq!(db.series_count(), 0);
    }

    #[test]
    fn rollup_passes_do_not_fill_the_read_cache_and_queries_do() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = open(&dir, &TierConfig::default());
        let window = TierConfig::default().tiers[0].max_chunk_span_ms;
        // Two raw windows: the first one sealed and flushed before any rollup pass, so the pass
        // reads it from its block file.
        for i in 0..2 * window / 10_000 {
            for key in ["a", "b"] {
                db.append(key, T0 + i * 10_000, (i % 7) as f64)
                    .expect("append");
            }
        }
        db.flush().expect("flush");
        assert!(db.stats().expect("stats").chunks >= 2);
        let p = db.rollup(T0 + 2 * window).expect("rollup");
        assert!(p.buckets >= 2 * 59, "{p:?}");
        assert_eq!(db.blocks.cached_bytes(), 0);
        // A query of the same window keeps what it read.
        let rows = db
            .query("a", T0, T0 + window - 1, 0, T0 + window)
            .expect("query");
        assert_eq!(rows.len() as i64, window / 10_000);
        assert!(db.blocks.cached_bytes() > 0);
    }

    /// Every series' flushed chunk references per tier, as `(key, tier, [(start bound, ref)])`.
    type RefLists = Vec<(Vec<u8>, usize, Vec<(i64, refs::ChunkRef)>)>;

    fn ref_lists(db: &Tsdb) -> RefLists {
        let inner = lock(&db.inner);
        let mut out = Vec::new();
        for (key, s) in inner.series.iter() {
            for (tier, t) in s.tiers() {
                out.push((key.to_vec(), tier, t.refs.iter().collect()));
            }
        }
        out
    }

    #[test]
    fn compact_chunk_refs_survive_reopening_and_retention() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Short windows, several chunks per raw window (5 samples each), many windows.
        let config = TierConfig {
            tiers: vec![
                TierSpec {
                    resolution_ms: 1_000,
                    retention_ms: 20 * MIN,
                    max_chunk_span_ms: 2 * MIN,
                },
                TierSpec {
                    resolution_ms: MIN,
                    retention_ms: 2 * HOUR,
                    max_chunk_span_ms: 10 * MIN,
                },
            ],
            max_chunk_samples: 5,
            late_tolerance_ms: 0,
        };
        let keys = ["a", "b", "c"];
        let mut now = T0;
        let ranges = |now: i64| {
            [
                (now - 15 * MIN, now),
                (now - 7 * MIN - 3_000, now - 5 * MIN + 1),
                (now - 2 * HOUR, now),
                (now - 90 * MIN, now - 30 * MIN),
            ]
        };
        let answers = |db: &Tsdb, now: i64| -> Vec<Vec<Vec<Point>>> {
            ranges(now)
                .iter()
                .map(|&(from, to)| db.query_many(&keys, from, to, 0, now).expect("query"))
                .collect()
        };
        let (refs_before, answers_before) = {
            let db = open(&dir, &config);
            for i in 0..360 {
                now = T0 + i * 10_000;
                for (k, key) in keys.iter().enumerate() {
                    // "c" skips every third sample: chunks end at different times.
                    if k == 2 && i % 3 == 0 {
                        continue;
                    }
                    db.append(key, now, (i * (k as i64 + 1) % 17) as f64)
                        .expect("append");
                }
                if i % 7 == 6 {
                    db.rollup(now).expect("rollup");
                    db.flush().expect("flush");
                }
            }
            db.rollup(now).expect("rollup");
            db.flush().expect("flush");
            let lists = ref_lists(&db);
            let raw_chunks: usize = lists
                .iter()
                .filter(|(_, t, _)| *t == 0)
                .map(|(_, _, r)| r.len())
                .sum();
            assert!(raw_chunks > 3 * 60, "{raw_chunks} raw chunks");
            (lists, answers(&db, now))
        };
        let db = open(&dir, &config);
        assert_eq!(ref_lists(&db), refs_before);
        // Rollup heads are not persisted: the next pass re-derives them (see open.rs).
        db.rollup(now).expect("rollup");
        assert!(answers(&db, now) == answers_before, "answers changed");

        // Retention drops the expired raw windows' references, and only those.
        let chunks = db.stats().expect("stats").chunks;
        let p = db.retain(now).expect("retain");
        assert!(p.bundles_deleted > 0 && p.chunks_deleted > 0);
        assert_eq!(
            db.stats().expect("stats").chunks,
            chunks - p.chunks_deleted as u64
        );
        let kept = ref_lists(&db);
        let limit = now - 20 * MIN - 2 * MIN;
        for ((key, tier, after), (_, _, before)) in kept.iter().zip(&refs_before) {
            if *tier == 0 {
                assert!(after.len() < before.len(), "{key:?}");
                assert!(after.iter().all(|(lo, _)| *lo >= limit));
                // The newest references are kept, with the same (exact) starts.
                let view = |r: &[(i64, refs::ChunkRef)]| -> Vec<_> {
                    r.iter().map(|(lo, c)| (*lo, c.bundle, c.loc)).collect()
                };
                assert_eq!(view(after), view(&before[before.len() - after.len()..]));
            } else {
                assert_eq!(after, before);
            }
        }
        let retained = answers(&db, now);
        assert!(
            retained[..2] == answers_before[..2],
            "retained answers changed"
        );
        db.flush().expect("flush");
        drop(db);
        let db = open(&dir, &config);
        assert_eq!(ref_lists(&db), kept);
        db.rollup(now).expect("rollup");
        assert!(answers(&db, now) == retained, "answers changed");
    }
}
