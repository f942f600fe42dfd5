//! Block files: torn and orphaned records, orphaned files, damaged files, retention deleting
//! whole files, and reopening.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use pulse_tsdb::{TierConfig, TierSpec, Tsdb, TsdbError, BLOCKS_DIR};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
const T0: i64 = 1_700_000_000_000 - 1_700_000_000_000 % DAY;

fn config() -> TierConfig {
    TierConfig {
        tiers: vec![TierSpec::new(1_000, 2 * HOUR), TierSpec::new(MIN, DAY)],
        max_chunk_samples: 60,
        late_tolerance_ms: 0,
    }
}

/// Opens the store, retrying while a just-dropped instance's sled flusher thread still holds the
/// database file lock.
fn open(dir: &Path) -> Tsdb {
    let mut attempts = 0;
    loop {
        match Tsdb::open_path(dir, config()) {
            Err(TsdbError::Storage(e)) if attempts < 50 && e.to_string().contains("lock") => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other.expect("open store"),
        }
    }
}

/// Block files in the store's directory, sorted by name (= tier, then time).
fn block_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir.join(BLOCKS_DIR))
        .expect("blocks dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "blk"))
        .collect();
    files.sort();
    files
}

/// Appends 10 s samples of series `a` and `b` from `from` (inclusive) to `to` (exclusive).
fn write(db: &Tsdb, from: i64, to: i64) {
    let mut t = from;
    while t < to {
        let i = (t - T0) / 10_000;
        db.append("a", t, i as f64).expect("append a");
        db.append("b", t, -(i as f64) / 4.0).expect("append b");
        t += 10_000;
    }
}

fn check(db: &Tsdb, from: i64, to: i64) {
    let points = db.query("a", from, to - 1, 0, to).expect("query");
    assert_eq!(points.len() as i64, (to - from) / 10_000);
    for p in &points {
        assert_eq!(p.value, ((p.ts - T0) / 10_000) as f64);
    }
}

#[test]
fn torn_and_unindexed_records_are_truncated_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(dir.path());
        write(&db, T0, T0 + 2 * HOUR);
        db.flush().unwrap();
        check(&db, T0, T0 + 2 * HOUR);
    }
    let files = block_files(dir.path());
    assert!(files.len() >= 3, "{files:?}");
    let last = files.last().unwrap().clone();
    let len = fs::metadata(&last).unwrap().len();
    // A crash during the next flush: a whole record whose index never made it, then a torn one.
    let mut f = OpenOptions::new().append(true).open(&last).unwrap();
    let mut whole = b"PBK1".to_vec();
    whole.extend_from_slice(&999u32.to_le_bytes());
    whole.extend_from_slice(&3u32.to_le_bytes());
    whole.extend_from_slice(&crc(999, b"xyz").to_le_bytes());
    whole.extend_from_slice(b"xyz");
    f.write_all(&whole).unwrap();
    f.write_all(b"PBK1\x07\x00").unwrap();
    f.sync_all().unwrap();
    drop(f);

    let db = open(dir.path());
    assert_eq!(fs::metadata(&last).unwrap().len(), len, "orphaned tail cut");
    check(&db, T0, T0 + 2 * HOUR);
    // The store keeps appending where the indexed data ends.
    write(&db, T0 + 2 * HOUR, T0 + 3 * HOUR);
    db.flush().unwrap();
    check(&db, T0, T0 + 3 * HOUR);
    drop(db);
    let db = open(dir.path());
    check(&db, T0, T0 + 3 * HOUR);
}

#[test]
fn a_torn_wal_tail_loses_only_the_unfinished_flush() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(dir.path());
        write(&db, T0, T0 + 20 * MIN);
        db.flush().unwrap();
        write(&db, T0 + 20 * MIN, T0 + 25 * MIN);
        db.flush().unwrap();
    }
    let wal_dir = dir.path().join(BLOCKS_DIR).join("wal");
    let mut wal: Vec<PathBuf> = fs::read_dir(&wal_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    wal.sort();
    let last = wal.last().expect("a WAL file holds the open heads").clone();
    let len = fs::metadata(&last).unwrap().len();
    // The next flush's segment, cut short by a crash.
    let mut f = OpenOptions::new().append(true).open(&last).unwrap();
    f.write_all(b"PWL1\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01")
        .unwrap();
    drop(f);

    let db = open(dir.path());
    assert_eq!(fs::metadata(&last).unwrap().len(), len, "torn tail cut");
    check(&db, T0, T0 + 25 * MIN);
    assert_eq!(db.stats().unwrap().samples_written, 2 * 150);
    write(&db, T0 + 25 * MIN, T0 + 40 * MIN);
    db.flush().unwrap();
    drop(db);
    let db = open(dir.path());
    check(&db, T0, T0 + 40 * MIN);
}

/// CRC-32 of a record as the store computes it (id, length, payload).
fn crc(id: u32, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&id.to_le_bytes());
    h.update(&(payload.len() as u32).to_le_bytes());
    h.update(payload);
    h.finalize()
}

#[test]
fn orphaned_files_are_deleted_and_foreign_files_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(dir.path());
        write(&db, T0, T0 + HOUR);
        db.flush().unwrap();
    }
    let blocks = dir.path().join(BLOCKS_DIR);
    // A file of a crashed flush (written, never indexed) and one left by a retention pass that
    // crashed after making its index deletions durable.
    let orphan = blocks.join("00-8000000000000000.blk");
    fs::write(&orphan, b"PBK1 torn").unwrap();
    let empty = blocks.join("01-8000000000000000.blk");
    fs::write(&empty, b"").unwrap();
    let foreign = blocks.join("README");
    fs::write(&foreign, b"not ours").unwrap();
    let before = block_files(dir.path()).len();

    let db = open(dir.path());
    assert!(!orphan.exists() && !empty.exists());
    assert!(foreign.exists());
    assert_eq!(block_files(dir.path()).len(), before - 2);
    check(&db, T0, T0 + HOUR);
}

#[test]
fn damaged_or_missing_files_do_not_stop_the_store_from_opening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(dir.path());
        write(&db, T0, T0 + 2 * HOUR);
        db.flush().unwrap();
    }
    let files = block_files(dir.path());
    // Raw windows are the first files (tier 00): remove the first, cut the second short.
    fs::remove_file(&files[0]).unwrap();
    let f = OpenOptions::new().write(true).open(&files[1]).unwrap();
    f.set_len(10).unwrap();
    drop(f);

    let db = open(dir.path());
    // Those two windows (1 h) are gone, the rest is intact.
    check(&db, T0 + HOUR, T0 + 2 * HOUR);
    assert!(db.query("a", T0, T0 + HOUR - 1, 0, T0).unwrap().is_empty());
    assert!(!files[1].exists(), "file without indexed records removed");
    drop(db);
    let db = open(dir.path());
    check(&db, T0 + HOUR, T0 + 2 * HOUR);
}

#[test]
fn a_damaged_record_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(dir.path());
        write(&db, T0, T0 + HOUR);
        db.flush().unwrap();
    }
    let first = block_files(dir.path())[0].clone();
    let mut bytes = fs::read(&first).unwrap();
    let at = bytes.len() - 5;
    bytes[at] ^= 0x55;
    fs::write(&first, &bytes).unwrap();
    let db = open(dir.path());
    let err = db.query("a", T0, T0 + HOUR, 0, T0 + HOUR).unwrap_err();
    assert_eq!(err.code(), "tsdb.corrupt");
}

#[test]
fn retention_deletes_whole_block_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let end = T0 + 6 * HOUR;
    write(&db, T0, end);
    db.flush().unwrap();
    db.rollup(end).unwrap();
    db.flush().unwrap();
    let before = db.stats().unwrap();
    // 12 raw windows (the last one's head sealed by the rollup, flushed) and 6 minute windows.
    assert_eq!(before.block_files, 12 + 6);
    assert_eq!(block_files(dir.path()).len(), 18);
    let p = db.retain(end).unwrap();
    // Raw windows ending by now − 2 h: 8 files.
    assert_eq!(p.files_deleted, 8);
    let after = db.stats().unwrap();
    assert_eq!(after.block_files, before.block_files - 8);
    assert_eq!(block_files(dir.path()).len(), 10);
    assert!(after.block_bytes < before.block_bytes);
    assert!(after.bytes_on_disk >= after.block_bytes);
    check(&db, end - 2 * HOUR, end);
    drop(db);
    let db = open(dir.path());
    check(&db, end - 2 * HOUR, end);
    assert_eq!(block_files(dir.path()).len(), 10);
}

#[test]
fn blocks_dir_can_live_outside_the_database() {
    let db_dir = tempfile::tempdir().unwrap();
    let blocks = tempfile::tempdir().unwrap();
    {
        let db = Tsdb::open(sled::open(db_dir.path()).unwrap(), blocks.path(), config()).unwrap();
        write(&db, T0, T0 + HOUR);
        db.flush().unwrap();
    }
    assert!(fs::read_dir(blocks.path()).unwrap().count() >= 2);
    let mut attempts = 0;
    let db = loop {
        match sled::open(db_dir.path()) {
            Ok(s) => break Tsdb::open(s, blocks.path(), config()).unwrap(),
            Err(_) if attempts < 50 => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => panic!("{e}"),
        }
    };
    check(&db, T0, T0 + HOUR);
}
