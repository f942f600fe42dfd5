//! Metrics history (SPEC §9): per-tenant writers fed by registry diffs, one compressed tiered
//! store per data dir, the queries behind `/api/metrics-store/history` and `/api/charts`, the
//! `/metrics/resources` exposition and the Prometheus remote_write sink.
//!
//! ```text
//! registry ─diff─▶ hub ─▶ HistoryWriter (per tenant actor) ─batch─▶ bounded channel ─▶ store thread
//!                                 │                                   (append, flush, rollup, retain)
//!                                 ├─▶ Latest (newest values) ─▶ /metrics/resources
//!                                 └─▶ RemoteQueue ─▶ RemoteWriter task ─▶ remote_write receiver
//! ```

pub mod charts;
pub mod latest;
pub mod metric;
pub mod query;
pub mod remote_write;
pub mod service;
pub mod store;
pub mod writer;

pub use latest::Latest;
pub use metric::Metric;
pub use service::{HistoryService, HistorySink, HistoryTuning};
pub use store::{MetricsStore, Retention, TsdbStore};
pub use writer::HistoryWriter;
