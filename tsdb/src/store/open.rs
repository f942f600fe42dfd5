//! Opening a store: format check (migrating store format 2), then rebuilding in-memory state from
//! series records, bundle indexes and WAL segments, and reconciling the block files with the
//! index.
//!
//! The format record `F` is `[store format version][tier count][resolution_ms i64 BE per tier]`.
//! Opening refuses a store written with another store format or other tier resolutions (data would
//! be misread); retentions, windows and chunk policy are free to change. Each chunk additionally
//! carries its own codec version byte.
//!
//! Store format 2 kept bundle payloads (`B` keys) and WAL segments (`L` keys) as sled values;
//! opening such a store migrates it to format 3: every payload is appended to its window's block
//! file and every segment to a WAL file, the files are fsynced, then one sled batch rewrites the
//! indexes, deletes the `B` and `L` values and updates `F`. A crash before that batch leaves a
//! format 2 store whose block and WAL files are all leftovers; the next open deletes them and
//! migrates again.
//!
//! Reconciling: a block file no index entry refers to is deleted, bytes past the last indexed
//! record are truncated (a torn or unindexed record of a crashed flush), and an index entry whose
//! record lies past its file's end or fails its header check (only possible if the files were
//! damaged or removed from outside) is dropped, so a damaged directory never stops the store
//! from opening.
//!
//! Raw heads are rebuilt by concatenating their WAL runs; rows a sealed chunk already holds are
//! dropped (a head sealed by the flush that also deleted nothing may still have runs in live
//! segments). Rollup heads are not persisted: each rollup tier's watermark restarts at the end of
//! its durable chunks and the next rollup pass re-derives the rest from the finer tier, which
//! retention has kept for exactly that.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;

use super::blocks::{Blocks, FileId, RecordAddr};
use super::bundle::{self, Located};
use super::keys::{
    bundle_key, parse_bundle_key, parse_segment_key, parse_series_key, BUNDLE, COUNTERS_KEY,
    FORMAT_KEY, INDEX, SEGMENT, SERIES,
};
use super::refs::Loc;
use super::series::{SeriesState, TierState, RAW_COLUMNS};
use super::wal_files::WalFiles;
use super::{BundleMeta, Inner, TierConfig, Tsdb};
use crate::codec::{assemble_chunk, decode_chunk, ChunkEncoder};
use crate::error::{Result, TsdbError};

/// Name of the sled tree holding all of the store's keys.
pub const TREE_NAME: &str = "pulse-tsdb";
/// Version of the key layout and record formats (2: bundles and WAL segments in sled; 3: bundle
/// payloads in block files).
pub const STORE_FORMAT_VERSION: u8 = 3;
/// The previous store format, migrated on open.
const LEGACY_FORMAT_VERSION: u8 = 2;
/// Name of the directory of block and WAL files [`Tsdb::open_path`] creates inside the database
/// directory.
pub const BLOCKS_DIR: &str = "blocks";
/// Subdirectory of the WAL files.
const WAL_DIR: &str = "wal";

fn format_record(config: &TierConfig) -> Vec<u8> {
    format_record_of(STORE_FORMAT_VERSION, config)
}

fn format_record_of(version: u8, config: &TierConfig) -> Vec<u8> {
    let mut rec = vec![version, config.tiers.len() as u8];
    for t in &config.tiers {
        rec.extend_from_slice(&t.resolution_ms.to_be_bytes());
    }
    rec
}

/// A raw head being rebuilt from WAL runs.
#[derive(Default)]
struct Replay {
    /// Codec format of the head's bits (from the WAL segment version of its first run).
    codec: u8,
    first_tick: i64,
    samples: u32,
    pieces: Vec<(Vec<u8>, usize)>,
}

/// An index entry read on open.
struct Indexed {
    tier: u8,
    window: i64,
    id: u32,
    offset: u64,
    len: u32,
    located: Vec<Located>,
}

impl Indexed {
    fn addr(&self) -> RecordAddr {
        RecordAddr {
            tier: self.tier,
            window: self.window,
            bundle: self.id,
            offset: self.offset,
            len: self.len,
        }
    }
}

impl Tsdb {
    /// Opens (or creates) the store in the `pulse-tsdb` tree of `db`, which may be shared with
    /// other users of the same sled database, with its block files in `blocks_dir` and its WAL
    /// files in `blocks_dir/wal` (created if needed; the store owns every `*.blk` and `wal/*.wal`
    /// file there). A store of the previous format is
    /// migrated; one of another format fails with [`TsdbError::FormatMismatch`].
    pub fn open(db: sled::Db, blocks_dir: impl AsRef<Path>, config: TierConfig) -> Result<Tsdb> {
        config.validate()?;
        let tree = db.open_tree(TREE_NAME)?;
        let blocks = Blocks::open(blocks_dir.as_ref())?;
        let wal = WalFiles::open(&blocks_dir.as_ref().join(WAL_DIR))?;
        let expected = format_record(&config);
        match tree.get(FORMAT_KEY)? {
            None => {
                tree.insert(FORMAT_KEY, expected)?;
                tree.flush()?;
            }
            Some(found) if found.first() == Some(&LEGACY_FORMAT_VERSION) => {
                if found[1..] != expected[1..] {
                    return Err(resolutions_differ());
                }
                migrate(&tree, &blocks, &wal, &expected)?;
            }
            Some(found) if found.first() != Some(&STORE_FORMAT_VERSION) => {
                return Err(TsdbError::FormatMismatch(format!(
                    "store format {:?}, this build reads {STORE_FORMAT_VERSION} and migrates \
                     {LEGACY_FORMAT_VERSION}",
                    found.first()
                )));
            }
            Some(found) if found != expected => return Err(resolutions_differ()),
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
        let indexed = reconcile(&tree, &blocks, read_indexes(&tree)?)?;
        load_bundles(indexed, &config, &mut inner)?;
        replay_wal(&wal, &config, &mut inner)?;
        Ok(Tsdb {
            db,
            tree,
            blocks,
            wal,
            config,
            inner: Mutex::new(inner),
            flush_lock: Mutex::new(()),
        })
    }

    /// Opens (or creates) a sled database at `path` and the store inside it, with its block and
    /// WAL files in `path/blocks`.
    pub fn open_path(path: impl AsRef<Path>, config: TierConfig) -> Result<Tsdb> {
        let path = path.as_ref();
        Tsdb::open(sled::open(path)?, path.join(BLOCKS_DIR), config)
    }
}

fn resolutions_differ() -> TsdbError {
    TsdbError::FormatMismatch(
        "tier count or resolutions differ from the ones the store was created with".into(),
    )
}

/// Migrates a store format 2 tree (see the module docs).
fn migrate(tree: &sled::Tree, blocks: &Blocks, wal: &WalFiles, format: &[u8]) -> Result<()> {
    // Nothing in the block and WAL directories belongs to the store yet: leftovers of an
    // interrupted migration.
    for file in blocks.scan()? {
        blocks.remove(file.id)?;
    }
    wal.clear()?;
    let mut batch = sled::Batch::default();
    // WAL segments.
    let written = match tree.get(COUNTERS_KEY)? {
        Some(v) => u64::from_be_bytes(
            v[..]
                .try_into()
                .map_err(|_| TsdbError::Corrupt("counters record"))?,
        ),
        None => 0,
    };
    let mut segment: Option<(u64, Vec<Vec<u8>>)> = None;
    for item in tree.scan_prefix([SEGMENT]) {
        let (k, v) = item?;
        let (seq, _) = parse_segment_key(&k)?;
        batch.remove(k);
        match &mut segment {
            Some((s, parts)) if *s == seq => parts.push(v.to_vec()),
            _ => {
                if let Some((s, parts)) = segment.take() {
                    wal.append(s, written, &parts)?;
                }
                segment = Some((seq, vec![v.to_vec()]));
            }
        }
    }
    if let Some((s, parts)) = segment {
        wal.append(s, written, &parts)?;
    }
    let mut pending: Vec<(u32, Vec<u8>, Vec<u8>)> = Vec::new();
    let mut file: Option<FileId> = None;
    let mut write = |file: FileId, pending: &mut Vec<(u32, Vec<u8>, Vec<u8>)>| -> Result<()> {
        let records: Vec<(u32, &[u8])> = pending.iter().map(|(id, d, _)| (*id, &d[..])).collect();
        let addrs = blocks.append(file, &records)?;
        for ((id, _, body), addr) in pending.iter().zip(addrs) {
            let index = bundle::index_value(addr.offset, addr.len, body);
            batch.insert(&bundle_key(INDEX, file.0, file.1, *id)[..], index);
            batch.remove(&bundle_key(BUNDLE, file.0, file.1, *id)[..]);
        }
        pending.clear();
        Ok(())
    };
    for item in tree.scan_prefix([INDEX]) {
        let (k, v) = item?;
        let (tier, window, id) = parse_bundle_key(&k)?;
        let body = bundle::legacy_body(&v)?.to_vec();
        let data = tree
            .get(bundle_key(BUNDLE, tier, window, id))?
            .ok_or(TsdbError::Corrupt("legacy bundle without data"))?;
        if file.is_some_and(|f| f != (tier, window)) {
            if let Some(f) = file {
                write(f, &mut pending)?;
            }
        }
        file = Some((tier, window));
        pending.push((id, data.to_vec(), body));
    }
    if let Some(f) = file {
        write(f, &mut pending)?;
    }
    blocks.sync_dir()?;
    batch.insert(FORMAT_KEY, format);
    tree.apply_batch(batch)?;
    tree.flush()?;
    Ok(())
}

/// Every index entry of the tree.
fn read_indexes(tree: &sled::Tree) -> Result<Vec<Indexed>> {
    let mut out = Vec::new();
    for item in tree.scan_prefix([INDEX]) {
        let (k, v) = item?;
        let (tier, window, id) = parse_bundle_key(&k)?;
        let (record, located) = bundle::decode_index(window, &v)?;
        let (offset, len) = record.ok_or(TsdbError::Corrupt("bundle index without a record"))?;
        out.push(Indexed {
            tier,
            window,
            id,
            offset,
            len,
            located,
        });
    }
    Ok(out)
}

/// Makes the block files and the index agree (see the module docs); returns the entries kept.
fn reconcile(tree: &sled::Tree, blocks: &Blocks, indexed: Vec<Indexed>) -> Result<Vec<Indexed>> {
    let files: HashMap<FileId, u64> = blocks.scan()?.into_iter().map(|f| (f.id, f.len)).collect();
    let mut kept = Vec::with_capacity(indexed.len());
    let mut dropped = sled::Batch::default();
    let mut any_dropped = false;
    let mut extent: HashMap<FileId, u64> = HashMap::new();
    let mut rest = indexed;
    while !rest.is_empty() {
        // Index entries come grouped by file (keys sort by tier, window).
        let file = (rest[0].tier, rest[0].window);
        let n = rest
            .iter()
            .take_while(|e| (e.tier, e.window) == file)
            .count();
        let tail = rest.split_off(n);
        let group = std::mem::replace(&mut rest, tail);
        let len = files.get(&file).copied().unwrap_or(0);
        let addrs: Vec<RecordAddr> = group.iter().map(Indexed::addr).collect();
        let ok = if files.contains_key(&file) {
            blocks.headers_ok(file, len, &addrs)?
        } else {
            vec![false; addrs.len()]
        };
        for ((entry, addr), ok) in group.into_iter().zip(addrs).zip(ok) {
            if ok {
                let e = extent.entry(file).or_default();
                *e = (*e).max(addr.end());
                kept.push(entry);
            } else {
                dropped.remove(&bundle_key(INDEX, entry.tier, entry.window, entry.id)[..]);
                any_dropped = true;
            }
        }
    }
    if any_dropped {
        tree.apply_batch(dropped)?;
        tree.flush()?;
    }
    let mut removed = false;
    for (&file, &len) in &files {
        match extent.get(&file) {
            None => {
                blocks.remove(file)?;
                removed = true;
            }
            Some(&end) if end < len => blocks.truncate(file, end)?,
            Some(&end) => blocks.adopt(file, end),
        }
    }
    if removed {
        blocks.sync_dir()?;
    }
    Ok(kept)
}

fn load_series(tree: &sled::Tree, config: &TierConfig, inner: &mut Inner) -> Result<()> {
    for item in tree.scan_prefix([SERIES]) {
        let (k, v) = item?;
        let id = parse_series_key(&k)?;
        inner.series.insert(&v, SeriesState::new(config, id)?)?;
        inner.next_id = inner.next_id.max(id.saturating_add(1));
    }
    Ok(())
}

fn load_bundles(indexed: Vec<Indexed>, config: &TierConfig, inner: &mut Inner) -> Result<()> {
    for entry in indexed {
        let Indexed {
            tier,
            window,
            id,
            offset,
            len,
            located,
        } = entry;
        let t_index = usize::from(tier);
        let spec = config
            .tiers
            .get(t_index)
            .ok_or(TsdbError::Corrupt("bundle of unknown tier"))?;
        let mut members = Vec::with_capacity(located.len());
        for loc in located {
            members.push(loc.series);
            let Some(state) = inner.series.by_id_mut(loc.series) else {
                continue;
            };
            // A rollup tier with a chunk on disk has received data: created here.
            let t = match t_index {
                0 => state.raw_mut(),
                _ => state.rollup_mut_or_create(t_index, config)?,
            };
            t.refs
                .insert(loc.start, id, Loc::new(loc.offset, loc.len, len)?);
            t.last_sealed_end.raise(loc.end);
            let durable = TierState::durable_end(spec, loc.start, loc.end, loc.complete);
            t.sealed_through.raise(durable);
        }
        members.dedup();
        inner.bundles.insert(
            id,
            BundleMeta {
                tier,
                window,
                series: members,
                offset,
                len,
            },
        );
        inner.next_bundle = inner.next_bundle.max(id.wrapping_add(1));
    }
    for state in inner.series.values_mut() {
        for (_, t) in state.rollups_mut() {
            t.watermark = t.sealed_through;
        }
    }
    Ok(())
}

fn replay_wal(wal: &WalFiles, config: &TierConfig, inner: &mut Inner) -> Result<()> {
    let mut heads: HashMap<u32, Replay> = HashMap::new();
    let mut segments: BTreeMap<u64, u16> = BTreeMap::new();
    for segment in wal.replay()? {
        segments.insert(segment.seq, segment.parts.len() as u16);
        inner.samples_written = inner.samples_written.max(segment.samples_written);
        inner.flushed_samples_written = inner.samples_written;
        for part in &segment.parts {
            let (codec, runs) = super::wal::decode(part)?;
            for run in runs {
                let head = heads.entry(run.series).or_default();
                match run.new_head {
                    Some(first_tick) => {
                        *head = Replay {
                            codec,
                            first_tick,
                            ..Replay::default()
                        }
                    }
                    None if head.pieces.is_empty() && head.samples == 0 => {
                        // The head's start was in a segment already deleted: it was sealed since.
                        continue;
                    }
                    // A restarted build rewrites every restored head as a new run, so one head's
                    // bits never mix codec formats.
                    None if head.codec != codec => {
                        return Err(TsdbError::Corrupt("WAL head continues in another codec"))
                    }
                    None => {}
                }
                head.samples = head.samples.saturating_add(run.samples);
                head.pieces.push((run.payload, run.bits));
            }
        }
    }
    inner.next_segment = segments.keys().next_back().map_or(0, |s| s + 1);
    inner.segments = segments;
    let raw = &config.tiers[0];
    for (id, replay) in heads {
        let Some(state) = inner.series.by_id_mut(id) else {
            continue;
        };
        let pieces: Vec<(&[u8], usize)> = replay
            .pieces
            .iter()
            .map(|(b, n)| (b.as_slice(), *n))
            .collect();
        let bytes = assemble_chunk(
            replay.codec,
            RAW_COLUMNS,
            raw.resolution_ms,
            replay.samples,
            replay.first_tick,
            &pieces,
        );
        let chunk = decode_chunk(&bytes)?;
        let t = state.raw_mut();
        let sealed_end = t.last_sealed_end.get();
        let mut head = ChunkEncoder::new(RAW_COLUMNS, raw.resolution_ms)?;
        for (&ts, &v) in chunk.timestamps.iter().zip(&chunk.values) {
            if sealed_end.is_none_or(|end| ts > end) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::varint::get_uvarint;
    use crate::store::keys::segment_key;

    const T0: i64 = 1_699_920_000_000;

    fn sled_open(path: &Path) -> sled::Db {
        for _ in 0..100 {
            match sled::open(path) {
                Ok(db) => return db,
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
            }
        }
        panic!("sled stays locked");
    }

    /// Rewrites a format 3 store the way store format 2 kept it: payloads as `B` values, version 1
    /// indexes, no block files.
    fn downgrade(path: &Path) {
        let db = sled_open(path);
        let tree = db.open_tree(TREE_NAME).unwrap();
        let blocks = Blocks::open(&path.join(BLOCKS_DIR)).unwrap();
        let mut batch = sled::Batch::default();
        for item in tree.scan_prefix([INDEX]) {
            let (k, v) = item.unwrap();
            let (tier, window, id) = parse_bundle_key(&k).unwrap();
            let mut rest = &v[1..];
            let offset = get_uvarint(&mut rest).unwrap();
            let len = get_uvarint(&mut rest).unwrap() as u32;
            let addr = RecordAddr {
                tier,
                window,
                bundle: id,
                offset,
                len,
            };
            let payload = blocks.read_kept(&addr).unwrap().unwrap().to_vec();
            let mut legacy = vec![1u8];
            legacy.extend_from_slice(rest);
            batch.insert(&bundle_key(BUNDLE, tier, window, id)[..], payload);
            batch.insert(&k, legacy);
        }
        let wal = WalFiles::open(&path.join(BLOCKS_DIR).join(WAL_DIR)).unwrap();
        let segments = wal.replay().unwrap();
        assert!(!segments.is_empty(), "the test store has an open head");
        for seg in segments {
            for (i, part) in seg.parts.iter().enumerate() {
                batch.insert(&segment_key(seg.seq, i as u16)[..], part.clone());
            }
        }
        let mut format = tree.get(FORMAT_KEY).unwrap().unwrap().to_vec();
        format[0] = LEGACY_FORMAT_VERSION;
        batch.insert(FORMAT_KEY, format);
        tree.apply_batch(batch).unwrap();
        tree.flush().unwrap();
        for file in blocks.scan().unwrap() {
            blocks.remove(file.id).unwrap();
        }
        wal.clear().unwrap();
    }

    fn write_day_part(path: &Path) -> Vec<f64> {
        let db = Tsdb::open_path(path, TierConfig::default()).unwrap();
        for i in 0..720 {
            db.append("a", T0 + i * 10_000, (i % 97) as f64 / 4.0)
                .unwrap();
        }
        db.rollup(T0 + 720 * 10_000).unwrap();
        db.flush().unwrap();
        let now = T0 + 720 * 10_000;
        db.query("a", T0, now, 0, now)
            .unwrap()
            .iter()
            .map(|p| p.value)
            .collect()
    }

    #[test]
    fn wal_heads_written_by_codec_format_2_replay_as_format_2() {
        use crate::codec::format2_fixtures::{rows, DECIMAL, DECIMAL_FIRST_TICK, DECIMAL_HEADER};
        let dir = tempfile::tempdir().unwrap();
        {
            let db = Tsdb::open_path(dir.path(), TierConfig::default()).unwrap();
            db.append("a", T0, 1.0).unwrap();
            db.flush().unwrap();
        }
        // Rewrite the WAL as an earlier build left it: a segment version 1 part whose run holds
        // codec format 2 bits (captured from that encoder) for the head of "a".
        let wal = WalFiles::open(&dir.path().join(BLOCKS_DIR).join(WAL_DIR)).unwrap();
        let segments = wal.replay().unwrap();
        let last = segments.last().expect("a flushed segment");
        let (codec, runs) = super::super::wal::decode(&last.parts[0]).unwrap();
        assert_eq!(codec, crate::codec::FORMAT_VERSION);
        let payload = &DECIMAL[DECIMAL_HEADER..];
        let mut old = vec![super::super::wal::Run {
            series: runs[0].series,
            new_head: Some(DECIMAL_FIRST_TICK),
            samples: rows().len() as u32,
            bits: payload.len() * 8,
            payload: payload.to_vec(),
        }];
        let mut parts = super::super::wal::encode(&mut old);
        parts[0][0] = 1;
        wal.clear().unwrap();
        wal.append(last.seq, last.samples_written, &parts).unwrap();
        drop(wal);

        let db = Tsdb::open_path(dir.path(), TierConfig::default()).unwrap();
        let inner = crate::store::lock(&db.inner);
        let head = inner
            .series
            .values()
            .find(|s| !s.raw().head.is_empty())
            .expect("the replayed head");
        let got = crate::codec::decode_chunk(&head.raw().head.to_bytes()).unwrap();
        let want: Vec<u64> = rows().iter().map(|r| r.1.to_bits()).collect();
        assert_eq!(
            got.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            want
        );
    }

    #[test]
    fn a_format_2_store_is_migrated_and_an_unknown_format_refused() {
        let dir = tempfile::tempdir().unwrap();
        let before = write_day_part(dir.path());
        assert_eq!(before.len(), 720);
        downgrade(dir.path());
        // Leftovers of an interrupted earlier migration attempt.
        std::fs::write(
            dir.path().join(BLOCKS_DIR).join("00-8000000000000000.blk"),
            b"junk",
        )
        .unwrap();

        let db = Tsdb::open(
            sled_open(dir.path()),
            dir.path().join(BLOCKS_DIR),
            TierConfig::default(),
        )
        .unwrap();
        let now = T0 + 720 * 10_000;
        let after: Vec<f64> = db
            .query("a", T0, now, 0, now)
            .unwrap()
            .iter()
            .map(|p| p.value)
            .collect();
        assert_eq!(after, before);
        assert_eq!(
            db.tree.scan_prefix([BUNDLE]).count(),
            0,
            "legacy payloads gone"
        );
        let format = db.tree.get(FORMAT_KEY).unwrap().unwrap();
        assert_eq!(format[0], STORE_FORMAT_VERSION);
        let stats = db.stats().unwrap();
        assert!(stats.block_files >= 2 && stats.block_bytes > 0);
        assert!(!dir
            .path()
            .join(BLOCKS_DIR)
            .join("00-8000000000000000.blk")
            .exists());
        // A store from a format this build does not know is refused with a clear error.
        db.tree.insert(FORMAT_KEY, &[9u8, 4][..]).unwrap();
        db.tree.flush().unwrap();
        drop(db);
        let err = Tsdb::open(
            sled_open(dir.path()),
            dir.path().join(BLOCKS_DIR),
            TierConfig::default(),
        )
        .unwrap_err();
        assert_eq!(err.code(), "tsdb.format_mismatch");
        assert!(err.to_string().contains("this build reads 3"), "{err}");
    }
}
