//! Opening a store: format check and rebuilding in-memory state from persisted heads.
//!
//! The format record `F` is `[store format version][tier count][resolution_ms i64 BE per tier]`.
//! Opening refuses a store written with another store format or other tier resolutions (data would
//! be misread); retentions and chunk policy are free to change. Each chunk additionally carries its
//! own codec version byte.

use std::path::Path;
use std::sync::Mutex;

use super::keys::{decode_ts, parse_series_tier, COUNTERS_KEY, FORMAT_KEY, HEAD, WATERMARK};
use super::series::{tier_columns, SeriesState};
use super::{Inner, TierConfig, Tsdb};
use crate::codec::{decode_chunk, ChunkEncoder};
use crate::error::{Result, TsdbError};

/// Name of the sled tree holding all of the store's keys.
pub const TREE_NAME: &str = "pulse-tsdb";
/// Version of the key layout and record formats.
pub const STORE_FORMAT_VERSION: u8 = 1;

fn format_record(config: &TierConfig) -> Vec<u8> {
    let mut rec = vec![STORE_FORMAT_VERSION, config.tiers.len() as u8];
    for t in &config.tiers {
        rec.extend_from_slice(&t.resolution_ms.to_be_bytes());
    }
    rec
}

impl Tsdb {
    /// Opens (or creates) the store in the `pulse-tsdb` tree of `db`, which may be shared with
    /// other users of the same sled database.
    pub fn open(db: sled::Db, config: TierConfig) -> Result<Tsdb> {
        config.validate()?;
        let tree = db.open_tree(TREE_NAME)?;
        let expected = format_record(&config);
        match tree.get(FORMAT_KEY)? {
            None => {
                tree.insert(FORMAT_KEY, expected)?;
                tree.flush()?;
            }
            Some(found) if found.first() != Some(&STORE_FORMAT_VERSION) => {
                return Err(TsdbError::FormatMismatch(format!(
                    "store format {:?}, this build reads {STORE_FORMAT_VERSION}",
                    found.first()
                )));
            }
            Some(found) if found != expected => {
                return Err(TsdbError::FormatMismatch(
                    "tier count or resolutions differ from the ones the store was created with"
                        .into(),
                ));
            }
            Some(_) => {}
        }
        let mut inner = Inner::default();
        if let Some(v) = tree.get(COUNTERS_KEY)? {
            let arr: [u8; 8] = v[..]
                .try_into()
                .map_err(|_| TsdbError::Corrupt("counters record"))?;
            inner.samples_written = u64::from_be_bytes(arr);
            inner.flushed_samples_written = inner.samples_written;
        }
        for item in tree.scan_prefix([HEAD]) {
            let (k, v) = item?;
            let (series, tier) = parse_series_tier(&k)?;
            let state = series_entry(&mut inner, series, &config)?;
            let t = state
                .tiers
                .get_mut(tier)
                .ok_or(TsdbError::Corrupt("head of unknown tier"))?;
            let chunk = decode_chunk(&v)?;
            if chunk.columns != tier_columns(tier) {
                return Err(TsdbError::Corrupt("head has wrong column count"));
            }
            let mut head = ChunkEncoder::new(chunk.columns, t.head.unit_ms())?;
            for (i, &ts) in chunk.timestamps.iter().enumerate() {
                head.push(
                    ts,
                    &chunk.values[i * chunk.columns..(i + 1) * chunk.columns],
                )?;
            }
            t.head = head;
        }
        for item in tree.scan_prefix([WATERMARK]) {
            let (k, v) = item?;
            let (series, tier) = parse_series_tier(&k)?;
            let state = series_entry(&mut inner, series, &config)?;
            let t = state
                .tiers
                .get_mut(tier)
                .ok_or(TsdbError::Corrupt("watermark of unknown tier"))?;
            t.watermark = Some(decode_ts(&v)?);
            t.flushed_watermark = t.watermark;
        }
        Ok(Tsdb {
            db,
            tree,
            config,
            inner: Mutex::new(inner),
            flush_lock: Mutex::new(()),
        })
    }

    /// Opens (or creates) a sled database at `path` and the store inside it.
    pub fn open_path(path: impl AsRef<Path>, config: TierConfig) -> Result<Tsdb> {
        Tsdb::open(sled::open(path)?, config)
    }
}

fn series_entry<'a>(
    inner: &'a mut Inner,
    series: &[u8],
    config: &TierConfig,
) -> Result<&'a mut SeriesState> {
    inner.seq += 1;
    let id = inner.seq;
    Ok(inner
        .series
        .entry(series.into())
        .or_insert(SeriesState::new(config, id)?))
}
