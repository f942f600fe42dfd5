//! Storage core of Pulse's metrics history: compressed, tiered time series in append-only block
//! and WAL files, indexed in sled.
//!
//! Domain-free: it knows opaque series keys, millisecond timestamps and `f64` values, nothing about
//! resources. Time is always a parameter (`now_ms`); the crate never reads a clock.
//!
//! * [`codec`] — Gorilla-style chunks: delta-of-delta timestamps, XOR (or exact-decimal) values.
//! * [`Tsdb`] — per-series head chunks in memory, persisted incrementally on [`Tsdb::flush`]
//!   (WAL segments of the bits each head gained, appended to WAL files; sealed chunks once, in
//!   bundles appended to one block file per tier window),
//!   incremental rollups into coarser tiers ([`Tsdb::rollup_step`]), retention of whole windows
//!   ([`Tsdb::retain_step`]), downsampled range queries ([`Tsdb::query`], [`Tsdb::query_many`])
//!   and bucket means for charts of many series ([`Tsdb::query_bucket_means`]).
//!
//! # Running it
//! Append every poll with [`Tsdb::append_batch`] and [`Tsdb::flush`] every few seconds (the flush
//! interval is the most a crash can lose). Every minute or so run [`Tsdb::rollup_step`] with a
//! series budget (e.g. 256) until `done`, flush, then [`Tsdb::retain_step`] until `done`. Each of
//! these holds the store lock for at most one series at a time. After opening a store, run a
//! rollup pass before relying on coarse tiers: open rollup heads are re-derived, not stored.
//!
//! # Decisions
//! * **Ordering**: per series, a sample must be strictly newer than the last stored one; otherwise
//!   [`Tsdb::append`] returns [`TsdbError::OutOfOrder`] and [`Tsdb::append_batch`] drops and counts
//!   it. Chunks stay append-only and re-delivered samples are never duplicated.
//! * **Raw timestamp resolution**: the raw tier stores timestamps rounded to
//!   [`TierSpec::resolution_ms`] (default 1 s). Poll jitter of ±200 ms costs ~14 bits per sample at
//!   millisecond resolution but ~2 bits at 1 s, which is well below chart resolution. Set it to 1
//!   for exact milliseconds.
//! * **Windows**: each tier's chunks are aligned to windows ([`TierSpec::max_chunk_span_ms`]: 30 min
//!   raw, 1 h, 6 h, 7 d), so all series seal together and a window's chunks are written as a few
//!   large records into one block file per tier window, which retention deletes whole.
//! * **Files, not sled, for chunk payloads and the WAL**: sled 0.34 rewrites whole pages and only
//!   cleans log segments below 50 % live data, so payloads kept in it cost 1.5–3× their size on
//!   disk, and a WAL written every flush and deleted minutes later left ~3 B per sample of sled
//!   file (measured, docs/performance.md). Block files cost their bytes plus a 16-byte record
//!   header (magic, bundle id, length, CRC-32) per bundle, WAL files their bytes plus 32 bytes
//!   per segment; sled keeps only bundle indexes, series records and a counter, written only
//!   when chunks seal or series come and go.
//! * **Durability**: a flush writes, each step fsynced before the next: the records of chunks
//!   sealed since the last flush (block files); new series registrations (sled batches of at most
//!   1,000: larger ones leave sled's heap bloated); their index entries and removed series (one
//!   atomic `sled::Batch`, skipped when empty); one WAL segment with the payload bits each raw
//!   head gained since the last flush; then it deletes WAL files no open head needs. Nothing is
//!   rewritten. An index entry thus never names a record that is not durable (a crash in between
//!   leaves unindexed, possibly torn records at a file's end, which reopening truncates), a torn
//!   WAL tail fails its CRC and is cut off on replay, and retention makes index deletions durable
//!   before it deletes block files (a crash there leaves unindexed files, which reopening
//!   deletes). Every record fetched is checked (header and CRC). Rollup heads are not persisted:
//!   after a restart each rollup tier resumes at the end of its sealed chunks and the next rollup
//!   pass re-derives the rest, which retention keeps for that purpose (a finer window is deleted
//!   only once every series in it has the coarser window durable). A `kill -9` therefore loses at
//!   most what was appended since the last completed flush.
//! * **Key layout and versions** (all in the sled tree [`TREE_NAME`], see `store/keys.rs`):
//!   `F` → store format version ([`STORE_FORMAT_VERSION`]) + tier resolutions (checked on open);
//!   `N` → samples-written counter (also carried by every WAL segment); `I id` → series key;
//!   `X tier window id` → a bundle's block record and the chunks in it. Block files live in the
//!   directory given to [`Tsdb::open`], WAL files in its `wal` subdirectory ([`BLOCKS_DIR`]
//!   inside the database directory for [`Tsdb::open_path`]). A store of format 2 (payloads and
//!   WAL in sled) is migrated on open. Every chunk begins with its codec version byte
//!   ([`codec::FORMAT_VERSION`]; chunks from [`codec::OLDEST_READ_VERSION`] on still decode).

pub mod codec;
mod error;
mod series_key;
mod store;

pub use error::{Result, TsdbError};
pub use series_key::SeriesKey;
pub use store::{
    AppendSummary, FlushSummary, Point, RetainProgress, RollupProgress, Stats, TierConfig,
    TierSpec, Tsdb, BLOCKS_DIR, MAX_TIERS, STORE_FORMAT_VERSION, TREE_NAME,
};

/// Bytes of all files under `path`, recursively: what a store (or a data dir holding one) takes
/// on disk, for size measurements.
pub fn bytes_under(path: &std::path::Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            bytes_under(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}
