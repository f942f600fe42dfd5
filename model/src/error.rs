//! The single error type of the model crate.

use thiserror::Error;

/// Everything that can go wrong in the pure model: parsing wire values and validating input.
///
/// The model never performs I/O, so every error is about a value that does not fit the model.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ModelError {
    /// A timestamp string is not an RFC 3339 date-time, or lies outside years 0000–9999.
    #[error("invalid timestamp {value:?}: {reason}")]
    InvalidTimestamp {
        /// The rejected input.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A name (resource type, source, status, facet key) is not one of the known values.
    #[error("unknown {kind} {value:?}")]
    UnknownName {
        /// Which kind of name was expected, e.g. `"resource type"`.
        kind: &'static str,
        /// The rejected input.
        value: String,
    },
    /// A source snapshot breaks a rule that ingest relies on.
    #[error("invalid snapshot for {scope:?}: {reason}")]
    InvalidSnapshot {
        /// The snapshot's scope.
        scope: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A resource diff holds an upsert that is not an object with a string `id`.
    #[error("resource upsert #{index} has no string \"id\"")]
    UpsertWithoutId {
        /// Position of the bad upsert in `upserts`.
        index: usize,
    },
}
