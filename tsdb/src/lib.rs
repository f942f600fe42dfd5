//! Storage core of Pulse's metrics history: compressed, tiered time series on sled.
//!
//! Domain-free: it knows opaque series keys, millisecond timestamps and `f64` values, nothing about
//! resources. Time is always a parameter (`now_ms`); the crate never reads a clock.
//!
//! * [`codec`] — Gorilla-style chunks: delta-of-delta timestamps, XOR (or exact-decimal) values.
//! * [`Tsdb`] — per-series head chunks in memory, sealed chunks and heads persisted to sled on
//!   [`Tsdb::flush`], incremental rollups into coarser tiers ([`Tsdb::rollup_step`]), retention
//!   ([`Tsdb::retain_step`]) and downsampled range queries ([`Tsdb::query`], [`Tsdb::query_many`]).
//!
//! # Running it
//! Append every poll with [`Tsdb::append_batch`] and [`Tsdb::flush`] every few seconds (the flush
//! interval is the most a crash can lose). Every few minutes run [`Tsdb::rollup_step`] and then
//! [`Tsdb::retain_step`] with a series budget (e.g. 1,000) until `done`, yielding in between, then
//! flush. Each of these holds the store lock for at most one series at a time.
//!
//! # Decisions
//! * **Ordering**: per series, a sample must be strictly newer than the last stored one; otherwise
//!   [`Tsdb::append`] returns [`TsdbError::OutOfOrder`] and [`Tsdb::append_batch`] drops and counts
//!   it. Chunks stay append-only and re-delivered samples are never duplicated.
//! * **Raw timestamp resolution**: the raw tier stores timestamps rounded to
//!   [`TierSpec::resolution_ms`] (default 1 s). Poll jitter of ±200 ms costs ~14 bits per sample at
//!   millisecond resolution but ~2 bits at 1 s, which is well below chart resolution. Set it to 1
//!   for exact milliseconds.
//! * **Durability**: a flush is one atomic `sled::Batch` followed by an fsync; chunk keys are written
//!   once and never modified, a seal writes the sealed chunk and the new head together, rollup output
//!   and its watermark land together, and retention only deletes data that a *persisted* watermark
//!   has already rolled up. A `kill -9` therefore loses at most what was appended since the last
//!   completed flush, and reopening needs no repair.
//! * **Key layout and versions** (all in the sled tree [`TREE_NAME`]; `s` = u16 length + series key
//!   bytes, `t` = tier byte, timestamps sign-flipped big-endian so byte order is time order):
//!   `F` → store format version ([`STORE_FORMAT_VERSION`]) + tier resolutions (checked on open);
//!   `N` → samples-written counter; `H s t` → open head chunk (rewritten by flush);
//!   `W s t` → rollup watermark; `C s t start` → sealed chunk (immutable). Every chunk begins with
//!   its codec version byte ([`codec::FORMAT_VERSION`]).

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
