//! Block files: the sealed chunk payloads (the bulk of the store) in append-only files next to
//! the sled index, one file per tier window (`{tier:02}-{window:016x}.blk`, the window encoded
//! like keys so names sort by time).
//!
//! Why not sled: sled 0.34 cleans a log segment only when at most half of it is live and rewrites
//! whole pages, so values written once and deleted in whole windows still cost 1.5–3× their size
//! on disk. A plain file per window costs exactly its bytes and retention deletes it with one
//! `unlink`.
//!
//! A file is a sequence of records, each one bundle (see bundle.rs):
//!
//! ```text
//! magic "PBK1" | bundle id u32 LE | payload length u32 LE | CRC-32 u32 LE | payload
//! ```
//!
//! The CRC covers id, length and payload. Writers append records at the file's known length and
//! `fsync` the file (and the directory when the file is new) **before** the sled batch that indexes
//! them is applied, so every indexed record is durable. Anything past the last indexed record
//! (a torn record from a crash, or a record whose index never made it) is an orphan: opening the
//! store truncates it away, and deletes files no index entry refers to. Readers check magic, id,
//! length and CRC of every record they fetch from disk: a file deleted by retention (or deleted and
//! created anew for the same window) reads as "gone", a damaged record as [`TsdbError::Corrupt`].
//!
//! Records read by queries are kept in a small cache ([`CACHE_BYTES`], least recently used out
//! first), so repeated queries over the same windows (dashboards refreshing) do not re-read and
//! re-check the same ~60 KiB records; deleting or truncating a file drops its records from the
//! cache. Rollup passes read every series' newest sealed window once or twice and never again, so
//! their reads use the cache but do not fill it ([`Keep::No`]): filled by them, it held up to its
//! whole 32 MiB of raw and minute windows nobody asked for again (docs/performance.md, issue 2).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;

use super::keys::{decode_ts, encode_ts};
use super::lock;
use crate::error::{Result, TsdbError};

/// Record magic (format 1 of block records).
const MAGIC: &[u8; 4] = b"PBK1";
/// Bytes of a record header.
pub(crate) const HEADER: u64 = 16;
/// File name extension of block files.
const EXT: &str = "blk";
/// Largest payload a record may carry (a bundle is at most ~60 KiB; one oversized chunk may exceed
/// that, a chunk holds at most 65,535 samples of at most 4 columns).
const MAX_PAYLOAD: usize = 64 << 20;

/// Bytes of records kept in the read cache.
pub(crate) const CACHE_BYTES: usize = 32 << 20;

/// Whether a record read from its file is kept in the read cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    /// Keep it (queries: dashboards read the same windows again).
    Yes,
    /// Use the cache if it holds the record, but do not add it (rollup passes).
    No,
}

/// Identity of one block file: a tier window.
pub(crate) type FileId = (u8, i64);

/// Where a record lies in the block files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct RecordAddr {
    pub tier: u8,
    pub window: i64,
    pub bundle: u32,
    /// Offset of the record header in its file.
    pub offset: u64,
    /// Payload length.
    pub len: u32,
}

impl RecordAddr {
    /// Offset just past the record.
    pub(crate) fn end(&self) -> u64 {
        self.offset + HEADER + u64::from(self.len)
    }
}

/// A file found on disk by [`Blocks::scan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FoundFile {
    pub id: FileId,
    pub len: u64,
}

/// Recently read records, least recently used out first.
#[derive(Debug, Default)]
struct Cache {
    records: HashMap<RecordAddr, (Arc<[u8]>, u64)>,
    bytes: usize,
    clock: u64,
}

impl Cache {
    fn get(&mut self, addr: &RecordAddr) -> Option<Arc<[u8]>> {
        self.clock += 1;
        let clock = self.clock;
        self.records.get_mut(addr).map(|(r, used)| {
            *used = clock;
            Arc::clone(r)
        })
    }

    fn insert(&mut self, addr: RecordAddr, record: Arc<[u8]>) {
        if record.len() > CACHE_BYTES / 4 {
            return;
        }
        self.clock += 1;
        self.bytes += record.len();
        if let Some((old, _)) = self.records.insert(addr, (record, self.clock)) {
            self.bytes -= old.len();
        }
        if self.bytes > CACHE_BYTES {
            // Evict the older half by use: amortised O(1) per insert.
            let mut uses: Vec<u64> = self.records.values().map(|(_, u)| *u).collect();
            let mid = uses.len() / 2;
            let (_, &mut cut, _) = uses.select_nth_unstable(mid);
            self.records.retain(|_, (_, used)| *used > cut);
            self.bytes = self.records.values().map(|(r, _)| r.len()).sum();
        }
    }

    fn forget(&mut self, id: FileId) {
        self.records.retain(|a, _| (a.tier, a.window) != id);
        self.bytes = self.records.values().map(|(r, _)| r.len()).sum();
    }
}

/// The block file directory.
#[derive(Debug)]
pub(crate) struct Blocks {
    dir: PathBuf,
    /// Length of every file written or adopted in this process (where the next record goes).
    lens: Mutex<HashMap<FileId, u64>>,
    cache: Mutex<Cache>,
}

/// The name of the file of `id`.
fn file_name((tier, window): FileId) -> String {
    let w = u64::from_be_bytes(encode_ts(window));
    format!("{tier:02}-{w:016x}.{EXT}")
}

/// Parses a block file name; `None` for any other file.
fn parse_file_name(name: &str) -> Option<FileId> {
    let stem = name.strip_suffix(EXT)?.strip_suffix('.')?;
    let (tier, window) = stem.split_once('-')?;
    if tier.len() != 2 || window.len() != 16 {
        return None;
    }
    let tier = tier.parse::<u8>().ok()?;
    let w = u64::from_str_radix(window, 16).ok()?;
    Some((tier, decode_ts(&w.to_be_bytes()).ok()?))
}

/// Encodes one record.
fn record(bundle: u32, payload: &[u8]) -> Result<Vec<u8>> {
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|&l| l as usize <= MAX_PAYLOAD)
        .ok_or(TsdbError::InvalidArgument("block record too large"))?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&bundle.to_le_bytes());
    crc.update(&len.to_le_bytes());
    crc.update(payload);
    let mut out = Vec::with_capacity(HEADER as usize + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&bundle.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.extend_from_slice(payload);
    Ok(out)
}

/// Little-endian word `i` of a record header.
fn word(header: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]])
}

/// Whether `header` is the header of the record `addr` names.
fn header_matches(addr: &RecordAddr, header: &[u8]) -> bool {
    header.len() >= HEADER as usize
        && &header[..4] == MAGIC
        && word(header, 4) == addr.bundle
        && word(header, 8) == addr.len
}

/// Checks a record read at `addr`: `Ok(None)` when it is not the record the address names (its
/// file was deleted and recreated), `Err` when it is but its bytes are damaged.
fn check(addr: &RecordAddr, mut bytes: Vec<u8>) -> Result<Option<Vec<u8>>> {
    let header = &bytes[..HEADER as usize];
    if !header_matches(addr, header) {
        return Ok(None);
    }
    let stored = word(header, 12);
    let mut crc = crc32fast::Hasher::new();
    crc.update(&header[4..12]);
    crc.update(&bytes[HEADER as usize..]);
    if crc.finalize() != stored {
        return Err(TsdbError::Corrupt("block record checksum mismatch"));
    }
    bytes.drain(..HEADER as usize);
    Ok(Some(bytes))
}

impl Blocks {
    /// Opens (creating if needed) the block directory.
    pub(crate) fn open(dir: &Path) -> Result<Blocks> {
        std::fs::create_dir_all(dir)?;
        Ok(Blocks {
            dir: dir.to_path_buf(),
            lens: Mutex::new(HashMap::new()),
            cache: Mutex::new(Cache::default()),
        })
    }

    fn path(&self, id: FileId) -> PathBuf {
        self.dir.join(file_name(id))
    }

    /// Every block file in the directory with its length (other files are left alone).
    pub(crate) fn scan(&self) -> Result<Vec<FoundFile>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let Some(id) = entry.file_name().to_str().and_then(parse_file_name) else {
                continue;
            };
            out.push(FoundFile {
                id,
                len: entry.metadata()?.len(),
            });
        }
        out.sort_by_key(|f| f.id);
        Ok(out)
    }

    /// Total bytes of all block files.
    pub(crate) fn total_bytes(&self) -> Result<(u64, u64)> {
        let files = self.scan()?;
        Ok((files.len() as u64, files.iter().map(|f| f.len).sum()))
    }

    /// Records that `id` is `len` bytes long (after opening: its indexed extent).
    pub(crate) fn adopt(&self, id: FileId, len: u64) {
        lock(&self.lens).insert(id, len);
    }

    /// Cuts an orphaned tail off file `id` (durably) and adopts the new length.
    pub(crate) fn truncate(&self, id: FileId, len: u64) -> Result<()> {
        let file = OpenOptions::new().write(true).open(self.path(id))?;
        file.set_len(len)?;
        file.sync_all()?;
        lock(&self.cache).forget(id);
        self.adopt(id, len);
        Ok(())
    }

    /// Deletes file `id` (a missing file is fine) and forgets its length.
    pub(crate) fn remove(&self, id: FileId) -> Result<()> {
        lock(&self.lens).remove(&id);
        lock(&self.cache).forget(id);
        match std::fs::remove_file(self.path(id)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Makes file creations and deletions durable.
    pub(crate) fn sync_dir(&self) -> Result<()> {
        File::open(&self.dir)?.sync_all()?;
        Ok(())
    }

    /// Appends one record per `(bundle, payload)` to file `id` and makes them durable; returns
    /// their addresses. Called only under the store's flush lock (one writer at a time).
    pub(crate) fn append(&self, id: FileId, records: &[(u32, &[u8])]) -> Result<Vec<RecordAddr>> {
        let start = lock(&self.lens).get(&id).copied();
        let created = start.is_none();
        let mut offset = start.unwrap_or(0);
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(created)
            .open(self.path(id))?;
        let mut addrs = Vec::with_capacity(records.len());
        let mut buf = Vec::new();
        for &(bundle, payload) in records {
            let rec = record(bundle, payload)?;
            addrs.push(RecordAddr {
                tier: id.0,
                window: id.1,
                bundle,
                offset: offset + buf.len() as u64,
                len: payload.len() as u32,
            });
            buf.extend_from_slice(&rec);
        }
        // Written at the known length: a failed earlier append's garbage is overwritten.
        file.write_all_at(&buf, offset)?;
        file.sync_data()?;
        if created {
            self.sync_dir()?;
        }
        offset += buf.len() as u64;
        lock(&self.lens).insert(id, offset);
        Ok(addrs)
    }

    /// Whether each of `addrs` (all in file `id`, which is `len` bytes long) lies inside the file
    /// and starts with the header it should have. Opens the file once; payloads are not read.
    pub(crate) fn headers_ok(
        &self,
        id: FileId,
        len: u64,
        addrs: &[RecordAddr],
    ) -> Result<Vec<bool>> {
        let file = File::open(self.path(id))?;
        let mut out = Vec::with_capacity(addrs.len());
        let mut header = [0u8; HEADER as usize];
        for addr in addrs {
            let ok = addr.end() <= len
                && file.read_exact_at(&mut header, addr.offset).is_ok()
                && header_matches(addr, &header);
            out.push(ok);
        }
        Ok(out)
    }

    /// The payload of the record at `addr` (from the cache or the file, kept in the cache as
    /// `keep` says); `None` when the record is gone (retention deleted its file since the caller
    /// looked it up).
    pub(crate) fn read(&self, addr: &RecordAddr, keep: Keep) -> Result<Option<Arc<[u8]>>> {
        if let Some(hit) = lock(&self.cache).get(addr) {
            return Ok(Some(hit));
        }
        let Some(record) = self.read_file(addr)? else {
            return Ok(None);
        };
        let record: Arc<[u8]> = record.into();
        if keep == Keep::Yes {
            lock(&self.cache).insert(*addr, Arc::clone(&record));
        }
        Ok(Some(record))
    }

    /// Reads and checks the record at `addr` from its file.
    fn read_file(&self, addr: &RecordAddr) -> Result<Option<Vec<u8>>> {
        let file = match File::open(self.path((addr.tier, addr.window))) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let mut bytes = vec![0u8; HEADER as usize + addr.len as usize];
        match file.read_exact_at(&mut bytes, addr.offset) {
            Ok(()) => check(addr, bytes),
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
impl Blocks {
    /// [`Blocks::read`] keeping the record (what queries do).
    pub(crate) fn read_kept(&self, addr: &RecordAddr) -> Result<Option<Arc<[u8]>>> {
        self.read(addr, Keep::Yes)
    }

    /// Bytes of records in the read cache.
    pub(crate) fn cached_bytes(&self) -> usize {
        lock(&self.cache).bytes
    }
}

/// Writes `bytes` (test helper for damaging files).
#[cfg(test)]
pub(crate) fn overwrite(path: &Path, offset: u64, bytes: &[u8]) -> std::io::Result<()> {
    let f = OpenOptions::new().write(true).open(path)?;
    f.write_all_at(bytes, offset)?;
    f.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sort_by_time() {
        for id in [(0u8, i64::MIN), (3, -1), (1, 0), (7, 1_700_000_000_000)] {
            assert_eq!(parse_file_name(&file_name(id)), Some(id));
        }
        assert!(file_name((0, -5)) < file_name((0, 5)));
        assert_eq!(parse_file_name("00-00.blk"), None);
        assert_eq!(parse_file_name("notes.txt"), None);
        assert_eq!(parse_file_name("xx-0000000000000000.blk"), None);
    }

    #[test]
    fn records_append_read_back_and_detect_damage() {
        let dir = tempfile::tempdir().unwrap();
        let blocks = Blocks::open(dir.path()).unwrap();
        let id = (0u8, 1_800_000i64);
        let a = blocks.append(id, &[(1, b"hello"), (2, b"")]).unwrap();
        let b = blocks.append(id, &[(3, b"world!")]).unwrap();
        assert_eq!(a[1].offset, HEADER + 5);
        assert_eq!(b[0].offset, a[1].end());
        assert_eq!(&blocks.read_kept(&a[0]).unwrap().unwrap()[..], b"hello");
        assert_eq!(&blocks.read_kept(&a[1]).unwrap().unwrap()[..], b"");
        assert_eq!(&blocks.read_kept(&b[0]).unwrap().unwrap()[..], b"world!");
        assert_eq!(blocks.total_bytes().unwrap(), (1, b[0].end()));
        let found = blocks.scan().unwrap();
        assert_eq!(
            found,
            vec![FoundFile {
                id,
                len: b[0].end()
            }]
        );

        // A flipped payload byte is corruption; a wrong id means "not this record".
        let path = blocks.path(id);
        overwrite(&path, b[0].offset + HEADER + 1, b"X").unwrap();
        // Served from the cache until the cache lets go; the file itself fails its CRC.
        assert_eq!(&blocks.read_kept(&b[0]).unwrap().unwrap()[..], b"world!");
        assert!(matches!(
            blocks.read_file(&b[0]),
            Err(TsdbError::Corrupt(_))
        ));
        lock(&blocks.cache).forget(id);
        assert!(matches!(
            blocks.read_kept(&b[0]),
            Err(TsdbError::Corrupt(_))
        ));
        let other = RecordAddr { bundle: 9, ..a[0] };
        assert!(blocks.read_kept(&other).unwrap().is_none());
        let beyond = RecordAddr {
            offset: 1 << 20,
            ..a[0]
        };
        assert!(blocks.read_kept(&beyond).unwrap().is_none());

        // Truncation and removal.
        blocks.truncate(id, a[1].end()).unwrap();
        assert!(blocks.read_kept(&b[0]).unwrap().is_none());
        let c = blocks.append(id, &[(4, b"again")]).unwrap();
        assert_eq!(c[0].offset, a[1].end());
        blocks.remove(id).unwrap();
        blocks.remove(id).unwrap();
        assert!(blocks.read_kept(&a[0]).unwrap().is_none());
        assert!(blocks.scan().unwrap().is_empty());
        // A new file for the same window starts empty, and stale addresses read as gone.
        let d = blocks.append(id, &[(5, b"fresh")]).unwrap();
        assert_eq!(d[0].offset, 0);
        assert!(blocks.read_kept(&a[0]).unwrap().is_none());

        // A read that does not keep the record leaves the cache as it was, but uses it.
        let e = blocks.append(id, &[(6, b"passing")]).unwrap();
        assert_eq!(
            &blocks.read(&e[0], Keep::No).unwrap().unwrap()[..],
            b"passing"
        );
        assert!(lock(&blocks.cache).get(&e[0]).is_none());
        assert_eq!(&blocks.read_kept(&e[0]).unwrap().unwrap()[..], b"passing");
        overwrite(&blocks.path(id), e[0].offset + HEADER, b"X").unwrap();
        assert_eq!(
            &blocks.read(&e[0], Keep::No).unwrap().unwrap()[..],
            b"passing"
        );

        // The cache stays within its budget.
        let mut cache = Cache::default();
        let big: Arc<[u8]> = vec![0u8; CACHE_BYTES / 8].into();
        for i in 0..40 {
            cache.insert(RecordAddr { bundle: i, ..a[0] }, Arc::clone(&big));
            assert!(cache.bytes <= CACHE_BYTES);
        }
        assert!(cache.get(&RecordAddr { bundle: 39, ..a[0] }).is_some());
    }
}
