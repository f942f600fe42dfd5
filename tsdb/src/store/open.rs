//! Opening a store: format check, then rebuilding in-memory state from series records, bundle
//! indexes and WAL segments.
//!
//! The format record `F` is `[store format version][tier count][resolution_ms i64 BE per tier]`.
//! Opening refuses a store written with another store format or other tier resolutions (data would
//! be misread); retentions, windows and chunk policy are free to change. Each chunk additionally
//! carries its own codec version byte.
//!
//! Raw heads are rebuilt by concatenating their WAL runs; rows a sealed chunk already holds are
//! dropped (a head sealed by the flush that also deleted nothing may still have runs in live
//! segments). Rollup heads are not persisted: each rollup tier's watermark restarts at the end of
//! its durable chunks and the next rollup pass re-derives the rest from the finer tier, which
//! retention has kept for exactly that.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;

use super::bundle;
use super::keys::{
    parse_bundle_key, parse_segment_key, parse_series_key, COUNTERS_KEY, FORMAT_KEY, INDEX,
    SEGMENT, SERIES,
};
use super::series::{ChunkRef, SeriesState, TierState, RAW_COLUMNS};
use super::{BundleMeta, Inner, TierConfig, Tsdb};
use crate::codec::{assemble_chunk, decode_chunk, ChunkEncoder};
use crate::error::{Result, TsdbError};

/// Name of the sled tree holding all of the store's keys.
pub const TREE_NAME: &str = "pulse-tsdb";
/// Version of the key layout and record formats (2: bundles and WAL segments).
pub const STORE_FORMAT_VERSION: u8 = 2;

fn format_record(config: &TierConfig) -> Vec<u8> {
    let mut rec = vec![STORE_FORMAT_VERSION, config.tiers.len() as u8];
    for t in &config.tiers {
        rec.extend_from_slice(&t.resolution_ms.to_be_bytes());
    }
    rec
}

/// A raw head being rebuilt from WAL runs.
#[derive(Default)]
struct Replay {
    first_tick: i64,
    samples: u32,
    pieces: Vec<(Vec<u8>, usize)>,
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
        load_series(&tree, &config, &mut inner)?;
        load_bundles(&tree, &config, &mut inner)?;
        replay_wal(&tree, &config, &mut inner)?;
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

fn load_series(tree: &sled::Tree, config: &TierConfig, inner: &mut Inner) -> Result<()> {
    for item in tree.scan_prefix([SERIES]) {
        let (k, v) = item?;
        let id = parse_series_key(&k)?;
        let key: Box<[u8]> = v.to_vec().into_boxed_slice();
        inner
            .series
            .insert(key.clone(), SeriesState::new(config, id)?);
        inner.by_id.insert(id, key);
        inner.next_id = inner.next_id.max(id.saturating_add(1));
    }
    Ok(())
}

fn load_bundles(tree: &sled::Tree, config: &TierConfig, inner: &mut Inner) -> Result<()> {
    for item in tree.scan_prefix([INDEX]) {
        let (k, v) = item?;
        let (tier, window, id) = parse_bundle_key(&k)?;
        let spec = config
            .tiers
            .get(usize::from(tier))
            .ok_or(TsdbError::Corrupt("bundle of unknown tier"))?;
        let located = bundle::decode_index(window, &v)?;
        let mut members = Vec::with_capacity(located.len());
        for loc in located {
            members.push(loc.series);
            let Some(key) = inner.by_id.get(&loc.series) else {
                continue;
            };
            let Some(state) = inner.series.get_mut(key) else {
                continue;
            };
            let t = &mut state.tiers[usize::from(tier)];
            t.refs.push(ChunkRef {
                start: loc.start,
                end: loc.end,
                bundle: id,
                offset: loc.offset,
                len: loc.len,
            });
            t.last_sealed_end = Some(t.last_sealed_end.map_or(loc.end, |e| e.max(loc.end)));
            let durable = TierState::durable_end(spec, loc.start, loc.end, loc.complete);
            t.sealed_through = Some(t.sealed_through.map_or(durable, |s| s.max(durable)));
        }
        members.dedup();
        inner.bundles.insert(
            id,
            BundleMeta {
                tier,
                window,
                series: members,
            },
        );
        inner.next_bundle = inner.next_bundle.max(id.wrapping_add(1));
    }
    for state in inner.series.values_mut() {
        for (tier, t) in state.tiers.iter_mut().enumerate() {
            t.refs.sort_by_key(|r| r.start);
            if tier > 0 {
                t.watermark = t.sealed_through;
            }
        }
    }
    Ok(())
}

fn replay_wal(tree: &sled::Tree, config: &TierConfig, inner: &mut Inner) -> Result<()> {
    let mut heads: HashMap<u32, Replay> = HashMap::new();
    let mut segments: BTreeMap<u64, u16> = BTreeMap::new();
    for item in tree.scan_prefix([SEGMENT]) {
        let (k, v) = item?;
        let (seq, part) = parse_segment_key(&k)?;
        let parts = segments.entry(seq).or_default();
        *parts = (*parts).max(part + 1);
        for run in super::wal::decode(&v)? {
            let head = heads.entry(run.series).or_default();
            match run.new_head {
                Some(first_tick) => {
                    *head = Replay {
                        first_tick,
                        ..Replay::default()
                    }
                }
                None if head.pieces.is_empty() && head.samples == 0 => {
                    // The head's start was in a segment already deleted: it was sealed since.
                    continue;
                }
                None => {}
            }
            head.samples = head.samples.saturating_add(run.samples);
            head.pieces.push((run.payload, run.bits));
        }
    }
    inner.next_segment = segments.keys().next_back().map_or(0, |s| s + 1);
    inner.segments = segments;
    let raw = &config.tiers[0];
    for (id, replay) in heads {
        let Some(key) = inner.by_id.get(&id) else {
            continue;
        };
        let Some(state) = inner.series.get_mut(key) else {
            continue;
        };
        let pieces: Vec<(&[u8], usize)> = replay
            .pieces
            .iter()
            .map(|(b, n)| (b.as_slice(), *n))
            .collect();
        let bytes = assemble_chunk(
            RAW_COLUMNS,
            raw.resolution_ms,
            replay.samples,
            replay.first_tick,
            &pieces,
        );
        let chunk = decode_chunk(&bytes)?;
        let t = &mut state.tiers[0];
        let mut head = ChunkEncoder::new(RAW_COLUMNS, raw.resolution_ms)?;
        for (&ts, &v) in chunk.timestamps.iter().zip(&chunk.values) {
            if t.last_sealed_end.is_none_or(|end| ts > end) {
                head.push(ts, &[v])?;
            }
        }
        // The WAL state starts empty: the next flush writes the whole head as a new run.
        t.head = head;
        if let Some(last) = t.head.last_ts() {
            inner.newest = Some(inner.newest.map_or(last, |n| n.max(last)));
        }
    }
    Ok(())
}
