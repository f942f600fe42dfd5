//! The series store: [`Tsdb`] keeps an open head chunk per series and tier in memory, persists heads
//! and sealed chunks to sled on [`Tsdb::flush`], rolls finer tiers into coarser ones, enforces
//! retention and answers range queries.
//!
//! Concurrency: all methods take `&self`; a `Tsdb` can be shared behind an `Arc`. In-memory state
//! sits behind one mutex that every operation holds only briefly: appends for one sample or batch,
//! flush only while snapshotting dirty state (the sled write and fsync run outside it), rollup and
//! retention for one series at a time, queries only to copy the heads of the series they read.

mod aggregate;
mod config;
mod flush;
mod keys;
mod open;
mod query;
mod read;
mod retain;
mod rollup;
mod series;

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

pub use aggregate::Point;
pub use config::{TierConfig, TierSpec, MAX_TIERS};
pub use flush::FlushSummary;
pub use open::{STORE_FORMAT_VERSION, TREE_NAME};
pub use retain::RetainProgress;
pub use rollup::RollupProgress;

use crate::error::{Result, TsdbError};
use crate::series_key::SeriesKey;
use aggregate::floor_to;
use series::SeriesState;

/// Timestamps accepted by the store: ±2^62 ms (±146 million years), which keeps all internal
/// arithmetic free of overflow.
const TS_LIMIT: i64 = 1 << 62;

/// Compressed, tiered time-series store on a sled tree.
#[derive(Debug)]
pub struct Tsdb {
    db: sled::Db,
    tree: sled::Tree,
    config: TierConfig,
    inner: Mutex<Inner>,
    /// Serializes flushes so their sled batches land in snapshot order.
    flush_lock: Mutex<()>,
}

/// Mutable in-memory state.
#[derive(Debug, Default)]
struct Inner {
    series: BTreeMap<Box<[u8]>, SeriesState>,
    /// Series dropped by retention whose head and watermark keys the next flush deletes.
    removed: Vec<Box<[u8]>>,
    samples_written: u64,
    flushed_samples_written: u64,
    samples_rejected: u64,
    /// Sequence for pending chunks and series incarnations.
    seq: u64,
    rollup_cursor: Option<Box<[u8]>>,
    retain_cursor: Option<Box<[u8]>>,
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
    /// Chunks sealed in memory and not yet flushed.
    pub pending_chunks: u64,
    /// Open head chunks holding at least one sample.
    pub heads: u64,
    /// Sum of key and value lengths of everything this store keeps in its sled tree.
    pub logical_bytes: u64,
    /// sled's on-disk size of the whole database (includes other trees sharing the `sled::Db`, and
    /// sled's own log overhead).
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
        let Inner { series, seq, .. } = inner;
        let max = self.config.max_chunk_samples;
        if let Some(state) = series.get_mut(key) {
            return state.tiers[0].push(raw, max, ts, &[value], seq);
        }
        *seq += 1;
        let state = series
            .entry(key.into())
            .or_insert(SeriesState::new(&self.config, *seq)?);
        state.tiers[0].push(raw, max, ts, &[value], seq)
    }

    /// Keys of all series currently known, in byte order.
    pub fn series_keys(&self) -> Vec<SeriesKey> {
        lock(&self.inner)
            .series
            .keys()
            .map(|k| SeriesKey::from(&k[..]))
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
            .range::<[u8], _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.to_vec())
            .collect()
    }

    /// Size and activity figures. Counting chunks scans the store's keys, so this is O(chunks):
    /// call it for diagnostics, not on a hot path.
    pub fn stats(&self) -> Result<Stats> {
        let mut stats = {
            let inner = lock(&self.inner);
            let tiers = inner.series.values().flat_map(|s| s.tiers.iter());
            let (mut pending, mut heads) = (0u64, 0u64);
            for t in tiers {
                pending += t.sealed.len() as u64;
                heads += u64::from(!t.head.is_empty());
            }
            Stats {
                series: inner.series.len() as u64,
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
            stats.chunks += u64::from(k.first() == Some(&keys::CHUNK));
        }
        stats.bytes_on_disk = self.db.size_on_disk()?;
        Ok(stats)
    }
}
