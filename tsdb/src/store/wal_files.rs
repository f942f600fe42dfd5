//! WAL files: the WAL segments (see wal.rs) in append-only files in the `wal` directory next to
//! the block files, named `{first segment:016x}.wal`; a file takes up to [`SEGMENTS_PER_FILE`] consecutive segments.
//!
//! Why not sled (as in store format 2): every flush writes a segment and a few minutes later
//! deletes it, and sled 0.34 keeps such churn on disk until a log segment is at most half live; it
//! cost ~3 B per sample of sled file for ~1.3 B of data. In files, a segment costs its bytes until
//! the whole file is past every open head's first run, and then one `unlink`.
//!
//! Record (one per segment part):
//!
//! ```text
//! magic "PWL1" | segment u64 LE | part u16 LE | parts u16 LE | samples written u64 LE |
//! payload length u32 LE | CRC-32 u32 LE (of everything after the magic but the CRC, and the payload) | payload
//! ```
//!
//! A flush appends its segment's records and fsyncs the file (and the directory when the file is
//! new) as its **last** step, after the block records and the sled index it depends on; the
//! segment is what makes the flush's head samples durable. Replaying reads the files in order and
//! stops at the first record that is torn or fails its CRC, or at a segment missing parts: that
//! is where a crash cut the last flush short. The rest of that file is truncated and later files
//! (none can be valid) are deleted.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::lock;
use crate::error::{Result, TsdbError};

/// Record magic.
const MAGIC: &[u8; 4] = b"PWL1";
/// Bytes of a record header.
const HEADER: usize = 32;
/// File name extension.
const EXT: &str = "wal";
/// Segments per file before a new file is started (about 10 minutes of 10 s flushes), so files
/// become obsolete, and are deleted, while the raw window of their heads is still open.
pub(crate) const SEGMENTS_PER_FILE: u64 = 64;
/// A file is also closed once it is this large.
const MAX_FILE_BYTES: u64 = 16 << 20;
/// Largest payload of one record (parts are ~60 KiB).
const MAX_PAYLOAD: usize = 16 << 20;

/// One segment read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    pub seq: u64,
    pub parts: Vec<Vec<u8>>,
    pub samples_written: u64,
}

/// A WAL file.
#[derive(Debug, Clone, Copy)]
struct FileMeta {
    last_seq: u64,
    len: u64,
    segments: u64,
}

#[derive(Debug, Default)]
struct State {
    /// Files by first segment.
    files: BTreeMap<u64, FileMeta>,
    /// The file appends go to (its first segment); `None` starts a new file.
    current: Option<u64>,
}

/// The WAL file directory.
#[derive(Debug)]
pub(crate) struct WalFiles {
    dir: PathBuf,
    state: Mutex<State>,
}

fn file_name(first: u64) -> String {
    format!("{first:016x}.{EXT}")
}

fn parse_file_name(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(EXT)?.strip_suffix('.')?;
    (stem.len() == 16)
        .then(|| u64::from_str_radix(stem, 16).ok())
        .flatten()
}

/// Encodes the records of one segment.
fn encode(seq: u64, samples_written: u64, parts: &[Vec<u8>]) -> Result<Vec<u8>> {
    let count = u16::try_from(parts.len())
        .map_err(|_| TsdbError::InvalidArgument("WAL segment has too many parts"))?;
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len() + HEADER).sum());
    for (i, payload) in parts.iter().enumerate() {
        let len = u32::try_from(payload.len())
            .ok()
            .filter(|&l| l as usize <= MAX_PAYLOAD)
            .ok_or(TsdbError::InvalidArgument("WAL part too large"))?;
        let mut fields = Vec::with_capacity(24);
        fields.extend_from_slice(&seq.to_le_bytes());
        fields.extend_from_slice(&(i as u16).to_le_bytes());
        fields.extend_from_slice(&count.to_le_bytes());
        fields.extend_from_slice(&samples_written.to_le_bytes());
        fields.extend_from_slice(&len.to_le_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(&fields);
        crc.update(payload);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&fields);
        out.extend_from_slice(&crc.finalize().to_le_bytes());
        out.extend_from_slice(payload);
    }
    Ok(out)
}

/// One record as parsed.
struct Parsed<'a> {
    seq: u64,
    part: u16,
    parts: u16,
    written: u64,
    payload: &'a [u8],
    /// Offset just past the record.
    next: usize,
}

/// The record in `bytes` at `at`, or `None` when the bytes there are not a whole valid record.
fn parse(bytes: &[u8], at: usize) -> Option<Parsed<'_>> {
    let header = bytes.get(at..at + HEADER)?;
    if &header[..4] != MAGIC {
        return None;
    }
    let u64_at = |i: usize| u64::from_le_bytes(header[i..i + 8].try_into().unwrap_or([0; 8]));
    let u16_at = |i: usize| u16::from_le_bytes([header[i], header[i + 1]]);
    let u32_at =
        |i: usize| u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    let (seq, part, parts, written) = (u64_at(4), u16_at(12), u16_at(14), u64_at(16));
    let len = u32_at(24) as usize;
    let payload = bytes.get(at + HEADER..at + HEADER + len)?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&header[4..28]);
    crc.update(payload);
    (crc.finalize() == u32_at(28) && part < parts).then_some(Parsed {
        seq,
        part,
        parts,
        written,
        payload,
        next: at + HEADER + len,
    })
}

impl WalFiles {
    /// Opens (creating if needed) the WAL directory; call [`WalFiles::replay`] before appending.
    pub(crate) fn open(dir: &Path) -> Result<WalFiles> {
        std::fs::create_dir_all(dir)?;
        Ok(WalFiles {
            dir: dir.to_path_buf(),
            state: Mutex::new(State::default()),
        })
    }

    fn path(&self, first: u64) -> PathBuf {
        self.dir.join(file_name(first))
    }

    fn sync_dir(&self) -> Result<()> {
        File::open(&self.dir)?.sync_all()?;
        Ok(())
    }

    /// WAL files on disk, by first segment.
    fn scan(&self) -> Result<Vec<u64>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            if let Some(first) = entry?.file_name().to_str().and_then(parse_file_name) {
                out.push(first);
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    /// Deletes every WAL file (before migrating a store that had its WAL in sled).
    pub(crate) fn clear(&self) -> Result<()> {
        for first in self.scan()? {
            std::fs::remove_file(self.path(first))?;
        }
        *lock(&self.state) = State::default();
        self.sync_dir()
    }

    /// Reads every complete segment, in order, cutting off what a crash left torn (see the
    /// module docs). Segments come back in sequence order.
    pub(crate) fn replay(&self) -> Result<Vec<Segment>> {
        let mut segments: Vec<Segment> = Vec::new();
        let mut state = State::default();
        let mut cut = false;
        for first in self.scan()? {
            let path = self.path(first);
            if cut {
                std::fs::remove_file(&path)?;
                continue;
            }
            let bytes = std::fs::read(&path)?;
            let mut at = 0;
            let mut good = 0;
            let mut meta = FileMeta {
                last_seq: first,
                len: 0,
                segments: 0,
            };
            let mut open: Option<Segment> = None;
            while at < bytes.len() {
                let Some(Parsed {
                    seq,
                    part,
                    parts,
                    written,
                    payload,
                    next,
                }) = parse(&bytes, at)
                else {
                    cut = true;
                    break;
                };
                let fits = match &open {
                    Some(s) => s.seq == seq && s.parts.len() == usize::from(part),
                    None => part == 0 && segments.last().is_none_or(|l| seq > l.seq),
                };
                if !fits {
                    cut = true;
                    break;
                }
                let s = open.get_or_insert_with(|| Segment {
                    seq,
                    parts: Vec::new(),
                    samples_written: written,
                });
                s.parts.push(payload.to_vec());
                at = next;
                if s.parts.len() == usize::from(parts) {
                    if let Some(done) = open.take() {
                        meta.last_seq = done.seq;
                        meta.segments += 1;
                        segments.push(done);
                    }
                    good = at;
                }
            }
            if open.is_some() {
                cut = true;
            }
            if good < bytes.len() {
                cut = true;
                let file = OpenOptions::new().write(true).open(&path)?;
                file.set_len(good as u64)?;
                file.sync_all()?;
            }
            if good == 0 {
                std::fs::remove_file(&path)?;
                continue;
            }
            meta.len = good as u64;
            state.files.insert(first, meta);
        }
        self.sync_dir()?;
        *lock(&self.state) = state;
        Ok(segments)
    }

    /// Appends segment `seq` (its parts, and the store's samples-written counter) and makes it
    /// durable; returns the bytes written. `seq` must be larger than every segment before it.
    pub(crate) fn append(
        &self,
        seq: u64,
        samples_written: u64,
        parts: &[Vec<u8>],
    ) -> Result<usize> {
        let bytes = encode(seq, samples_written, parts)?;
        let mut state = lock(&self.state);
        let current = state.current.and_then(|first| {
            let meta = state.files.get(&first)?;
            (meta.segments < SEGMENTS_PER_FILE && meta.len < MAX_FILE_BYTES).then_some(first)
        });
        let (first, offset, created) = match current {
            Some(first) => (first, state.files.get(&first).map_or(0, |m| m.len), false),
            None => (seq, 0, true),
        };
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(created)
            .open(self.path(first))?;
        file.write_all_at(&bytes, offset)?;
        file.sync_data()?;
        if created {
            self.sync_dir()?;
        }
        let meta = state.files.entry(first).or_insert(FileMeta {
            last_seq: seq,
            len: 0,
            segments: 0,
        });
        meta.last_seq = seq;
        meta.len = offset + bytes.len() as u64;
        meta.segments += 1;
        state.current = Some(first);
        Ok(bytes.len())
    }

    /// Deletes the files whose segments are all below `low_water` (no open head needs them).
    /// Returns the files deleted.
    pub(crate) fn remove_below(&self, low_water: u64) -> Result<usize> {
        let mut state = lock(&self.state);
        let obsolete: Vec<u64> = state
            .files
            .iter()
            .filter(|(_, m)| m.last_seq < low_water)
            .map(|(&first, _)| first)
            .collect();
        for first in &obsolete {
            match std::fs::remove_file(self.path(*first)) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
            state.files.remove(first);
            if state.current == Some(*first) {
                state.current = None;
            }
        }
        if !obsolete.is_empty() {
            // Deleted for good: a resurrected file would replay heads sealed since.
            self.sync_dir()?;
        }
        Ok(obsolete.len())
    }

    /// `(files, bytes)` of the WAL.
    pub(crate) fn total_bytes(&self) -> (u64, u64) {
        let state = lock(&self.state);
        (
            state.files.len() as u64,
            state.files.values().map(|m| m.len).sum(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(n: usize, fill: u8) -> Vec<Vec<u8>> {
        (0..n).map(|i| vec![fill; 10 + i]).collect()
    }

    #[test]
    fn segments_round_trip_rotate_and_go() {
        let dir = tempfile::tempdir().unwrap();
        let wal = WalFiles::open(dir.path()).unwrap();
        assert!(wal.replay().unwrap().is_empty());
        for seq in 0..SEGMENTS_PER_FILE + 3 {
            wal.append(seq, seq * 10, &parts(1 + (seq % 3) as usize, seq as u8))
                .unwrap();
        }
        assert_eq!(wal.total_bytes().0, 2);
        let back = WalFiles::open(dir.path()).unwrap().replay().unwrap();
        assert_eq!(back.len() as u64, SEGMENTS_PER_FILE + 3);
        assert_eq!(back[5].parts, parts(3, 5));
        assert_eq!(back[5].samples_written, 50);
        // Files wholly below the low-water mark go; the current one stays while it is needed.
        assert_eq!(wal.remove_below(SEGMENTS_PER_FILE).unwrap(), 1);
        assert_eq!(wal.remove_below(SEGMENTS_PER_FILE).unwrap(), 0);
        let back = WalFiles::open(dir.path()).unwrap().replay().unwrap();
        assert_eq!(back.first().unwrap().seq, SEGMENTS_PER_FILE);
        assert_eq!(file_name(7), "0000000000000007.wal");
        assert_eq!(parse_file_name("0000000000000007.wal"), Some(7));
        assert_eq!(parse_file_name("7.wal"), None);
    }

    #[test]
    fn a_torn_or_damaged_tail_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let wal = WalFiles::open(dir.path()).unwrap();
        wal.replay().unwrap();
        wal.append(1, 1, &parts(1, 1)).unwrap();
        wal.append(2, 2, &parts(2, 2)).unwrap();
        let path = dir.path().join(file_name(1));
        let good = std::fs::metadata(&path).unwrap().len();
        // A segment whose second part never made it, then a torn header.
        let mut tail = encode(3, 3, &parts(2, 3)).unwrap();
        tail.truncate(HEADER + 10);
        tail.extend_from_slice(b"PWL1\x04");
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.write_all_at(&tail, good).unwrap();
        drop(f);
        // A later file cannot be valid after a cut.
        std::fs::write(
            dir.path().join(file_name(9)),
            encode(9, 9, &parts(1, 9)).unwrap(),
        )
        .unwrap();

        let wal = WalFiles::open(dir.path()).unwrap();
        let back = wal.replay().unwrap();
        assert_eq!(back.iter().map(|s| s.seq).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), good);
        assert!(!dir.path().join(file_name(9)).exists());
        // Appending continues after the cut, in a new file.
        wal.append(3, 3, &parts(1, 3)).unwrap();
        let back = WalFiles::open(dir.path()).unwrap().replay().unwrap();
        assert_eq!(back.len(), 3);

        // A flipped payload byte fails the CRC: that segment and everything after it are dropped.
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 3;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let back = WalFiles::open(dir.path()).unwrap().replay().unwrap();
        assert_eq!(back.iter().map(|s| s.seq).collect::<Vec<_>>(), vec![1]);
    }
}
