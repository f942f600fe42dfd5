//! Storage core of Pulse's metrics history: compressed, tiered time series on sled.
//!
//! Domain-free: it knows opaque series keys, millisecond timestamps and `f64` values, nothing about
//! resources. Time is always a parameter (`now_ms`); the crate never reads a clock.
//!
//! * [`codec`] — Gorilla-style chunks: delta-of-delta timestamps, XOR (or exact-decimal) values.
//! * [`Tsdb`] — per-series head chunks in memory, persisted incrementally on [`Tsdb::flush`]
//!   (WAL segments of the bits each head gained; sealed chunks once, in time-keyed bundles),
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
//!   large values. sled 0.34 rewrites whole pages and only cleans log segments below 50 % live
//!   data; scattered small chunk keys cost 2.3–3.7× their size on disk, time-keyed bundles
//!   about 2× (measured, docs/performance.md).
//! * **Durability**: a flush is one atomic `sled::Batch` followed by an fsync, and it writes only
//!   what is new: the payload bits each raw head gained since the last flush (one WAL segment),
//!   chunks sealed since (bundles), and deletions of segments no open head needs. Nothing is
//!   rewritten. Rollup heads are not persisted: after a restart each rollup tier resumes at the
//!   end of its sealed chunks and the next rollup pass re-derives the rest, which retention keeps
//!   for that purpose (a finer window is deleted only once every series in it has the coarser
//!   window durable). A `kill -9` therefore loses at most what was appended since the last
//!   completed flush, and reopening needs no repair.
//! * **Key layout and versions** (all in the sled tree [`TREE_NAME`], see `store/keys.rs`):
//!   `F` → store format version ([`STORE_FORMAT_VERSION`]) + tier resolutions (checked on open);
//!   `N` → samples-written counter; `I id` → series key; `B tier window id` → bundle of chunks and
//!   `X tier window id` → its index; `L seq part` → WAL segment. Every chunk begins with its codec
//!   version byte ([`codec::FORMAT_VERSION`]).

pub mod codec;
mod error;
mod series_key;
mod store;

pub use error::{Result, TsdbError};
pub use series_key::SeriesKey;
pub use store::{
    AppendSummary, FlushSummary, Point, RetainProgress, RollupProgress, Stats, TierConfig,
    TierSpec, Tsdb, MAX_TIERS, STORE_FORMAT_VERSION, TREE_NAME,
};
