//! The storage seam of metrics history: [`MetricsStore`] and its sled implementation on
//! `pulse-tsdb` ([`TsdbStore`]).
//!
//! Series are keyed `org ␟ resourceId ␟ metric` (unit separator, which neither org ids nor resource
//! ids contain), so one store per data dir holds every tenant and a tenant's queries can only ever
//! name its own series: the org part of the key comes from the authenticated request, never from
//! the query string.

use pulse_tsdb::{AppendSummary, Point, Stats, TierConfig, TierSpec, Tsdb};

use super::metric::Metric;
use crate::error::{Error, Result};

/// Separator inside series keys (ASCII unit separator).
const SEP: u8 = 0x1f;

/// One sample on its way into the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Series key (see [`series_key`]).
    pub key: Vec<u8>,
    /// Milliseconds since the Unix epoch.
    pub ts_ms: i64,
    /// The (quantised) value.
    pub value: f64,
}

/// The key of one resource metric of one org.
pub fn series_key(org: &str, resource_id: &str, metric: Metric) -> Vec<u8> {
    let mut k = Vec::with_capacity(org.len() + resource_id.len() + 14);
    k.extend_from_slice(org.as_bytes());
    k.push(SEP);
    k.extend_from_slice(resource_id.as_bytes());
    k.push(SEP);
    k.extend_from_slice(metric.as_str().as_bytes());
    k
}

/// The prefix of every series key of one org.
pub fn org_prefix(org: &str) -> Vec<u8> {
    let mut k = org.as_bytes().to_vec();
    k.push(SEP);
    k
}

/// Splits a key of the org whose prefix is `prefix` into resource id and metric.
pub fn split_key<'a>(prefix: &[u8], key: &'a [u8]) -> Option<(&'a str, Metric)> {
    let rest = key.strip_prefix(prefix)?;
    let cut = rest.iter().position(|&b| b == SEP)?;
    let id = std::str::from_utf8(&rest[..cut]).ok()?;
    let metric = Metric::parse(std::str::from_utf8(&rest[cut + 1..]).ok()?)?;
    Some((id, metric))
}

/// Progress of one maintenance slice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Maintenance {
    /// Rollup buckets written.
    pub buckets: usize,
    /// Chunks deleted by retention.
    pub chunks_deleted: usize,
    /// The pass over every series is complete.
    pub done: bool,
}

/// Where metrics history lives. Implementations are internally synchronised; every method may
/// block on disk and must be called off the async executors (the history service's own thread,
/// or `web::block` from HTTP handlers).
pub trait MetricsStore: Send + Sync + 'static {
    /// Stores samples in memory (durable after the next [`MetricsStore::flush`]); samples not newer
    /// than their series' last one are dropped and counted.
    fn append(&self, samples: &[Sample]) -> AppendSummary;
    /// Makes every appended sample durable.
    fn flush(&self) -> Result<()>;
    /// Runs rollups and retention for at most `budget` series, continuing the current pass.
    fn maintain(&self, now_ms: i64, budget: usize) -> Result<Maintenance>;
    /// Points of each key in `[start, end]`, downsampled to `max_points` (0 = all), from the finest
    /// tier that covers the range.
    fn query_many(
        &self,
        keys: &[Vec<u8>],
        start_ms: i64,
        end_ms: i64,
        max_points: usize,
        now_ms: i64,
    ) -> Result<Vec<Vec<Point>>>;
    /// Per key, the mean of its samples in each of `buckets` buckets of `step_ms` from `start_ms`
    /// (`None`: no finite sample there); rollups count with their sample counts (charts).
    fn bucket_means(
        &self,
        keys: &[Vec<u8>],
        start_ms: i64,
        step_ms: i64,
        buckets: usize,
        now_ms: i64,
    ) -> Result<Vec<Vec<Option<f64>>>>;
    /// Every series key starting with `prefix`, in byte order.
    fn keys_with_prefix(&self, prefix: &[u8]) -> Vec<Vec<u8>>;
    /// Number of series held (cheap).
    fn series_count(&self) -> usize;
    /// Size and activity figures (scans the store: diagnostics only).
    fn stats(&self) -> Result<Stats>;
}

/// Tier retentions of the history store (resolutions are fixed: raw 1 s, 1 min, 1 h, 1 day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Raw samples (default 2 h).
    pub raw_ms: i64,
    /// 1-minute rollups (default 24 h).
    pub minute_ms: i64,
    /// 1-hour rollups (default 7 d).
    pub hour_ms: i64,
    /// 1-day rollups (default 90 d).
    pub day_ms: i64,
}

impl Default for Retention {
    fn default() -> Self {
        const H: i64 = 3_600_000;
        Retention {
            raw_ms: 2 * H,
            minute_ms: 24 * H,
            hour_ms: 7 * 24 * H,
            day_ms: 90 * 24 * H,
        }
    }
}

impl Retention {
    /// The tsdb tier layout for these retentions.
    pub fn tier_config(&self) -> TierConfig {
        TierConfig {
            tiers: vec![
                TierSpec::new(1_000, self.raw_ms),
                TierSpec::new(60_000, self.minute_ms),
                TierSpec::new(3_600_000, self.hour_ms),
                TierSpec::new(86_400_000, self.day_ms),
            ],
            ..TierConfig::default()
        }
    }
}

/// Directory of the history's block files (chunk payloads) inside the data dir.
pub const BLOCKS_DIR: &str = "history";

/// [`MetricsStore`] on `pulse-tsdb`: its index and WAL inside the data dir's sled database, chunk
/// payloads in block files under `data_dir/history`.
pub struct TsdbStore {
    tsdb: Tsdb,
}

impl TsdbStore {
    /// Opens the store in `db` (shared with the rest of the server's data) with its block files
    /// in `blocks_dir` (created if needed). A store written by the previous store format is
    /// migrated; one of an unknown format fails with `tsdb.format_mismatch` in the message.
    pub fn open(
        db: sled::Db,
        blocks_dir: &std::path::Path,
        retention: Retention,
    ) -> Result<TsdbStore> {
        let tsdb = Tsdb::open(db, blocks_dir, retention.tier_config()).map_err(tsdb_error)?;
        Ok(TsdbStore { tsdb })
    }
}

/// Maps a storage-layer failure to the crate error (logged server-side; clients see 500).
pub fn tsdb_error(e: pulse_tsdb::TsdbError) -> Error {
    Error::Store(format!("metrics history: {e} ({})", e.code()))
}

impl MetricsStore for TsdbStore {
    fn append(&self, samples: &[Sample]) -> AppendSummary {
        let batch: Vec<(&[u8], i64, f64)> = samples
            .iter()
            .map(|s| (s.key.as_slice(), s.ts_ms, s.value))
            .collect();
        self.tsdb.append_batch(&batch)
    }

    fn flush(&self) -> Result<()> {
        self.tsdb.flush().map(|_| ()).map_err(tsdb_error)
    }

    fn maintain(&self, now_ms: i64, budget: usize) -> Result<Maintenance> {
        let rolled = self.tsdb.rollup_step(now_ms, budget).map_err(tsdb_error)?;
        let mut out = Maintenance {
            buckets: rolled.buckets,
            ..Maintenance::default()
        };
        if rolled.done {
            // Retention trusts only persisted rollup watermarks: flush the pass's output first.
            self.flush()?;
            loop {
                let kept = self.tsdb.retain_step(now_ms, budget).map_err(tsdb_error)?;
                out.chunks_deleted += kept.chunks_deleted;
                if kept.done {
                    break;
                }
            }
            out.done = true;
        }
        Ok(out)
    }

    fn query_many(
        &self,
        keys: &[Vec<u8>],
        start_ms: i64,
        end_ms: i64,
        max_points: usize,
        now_ms: i64,
    ) -> Result<Vec<Vec<Point>>> {
        self.tsdb
            .query_many(keys, start_ms, end_ms, max_points, now_ms)
            .map_err(tsdb_error)
    }

    fn bucket_means(
        &self,
        keys: &[Vec<u8>],
        start_ms: i64,
        step_ms: i64,
        buckets: usize,
        now_ms: i64,
    ) -> Result<Vec<Vec<Option<f64>>>> {
        self.tsdb
            .query_bucket_means(keys, start_ms, step_ms, buckets, now_ms)
            .map_err(tsdb_error)
    }

    fn keys_with_prefix(&self, prefix: &[u8]) -> Vec<Vec<u8>> {
        self.tsdb.series_keys_with_prefix(prefix)
    }

    fn series_count(&self) -> usize {
        self.tsdb.series_count()
    }

    fn stats(&self) -> Result<Stats> {
        self.tsdb.stats().map_err(tsdb_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_back_and_orgs_do_not_overlap() {
        let k = series_key("acme", "vm-0123456789abcdef", Metric::NetIn);
        assert_eq!(
            split_key(&org_prefix("acme"), &k),
            Some(("vm-0123456789abcdef", Metric::NetIn))
        );
        assert_eq!(split_key(&org_prefix("acm"), &k), None);
        assert_eq!(split_key(&org_prefix("acme"), b"acme\x1fbad"), None);
    }
}
