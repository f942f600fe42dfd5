//! The crate's single error type.

use thiserror::Error;

/// Every failure `pulse-tsdb` can report.
///
/// [`TsdbError::code`] returns a stable, machine-readable string for each variant so callers can map
/// errors to API responses or metrics without matching on display text.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TsdbError {
    /// A chunk or store record failed structural validation (truncated, bad header, trailing garbage).
    #[error("corrupt data: {0}")]
    Corrupt(&'static str),
    /// A chunk was written by a format version this build does not understand.
    #[error("unsupported chunk format version {0}")]
    UnsupportedVersion(u8),
    /// A sample was not strictly newer than the last stored sample of its series (after timestamp
    /// quantization); it was not stored.
    #[error("out-of-order sample: timestamp {ts} is not after the last stored timestamp {last}")]
    OutOfOrder {
        /// The (quantized) timestamp that was rejected.
        ts: i64,
        /// The newest timestamp already stored for the series.
        last: i64,
    },
    /// A timestamp outside the supported range (±2^62 ms) was given.
    #[error("timestamp {0} is outside the supported range of ±2^62 ms")]
    InvalidTimestamp(i64),
    /// A series key longer than 65,535 bytes was given.
    #[error("series key is {0} bytes; the maximum is 65535")]
    KeyTooLong(usize),
    /// The tier configuration is inconsistent (see [`crate::TierConfig::validate`]).
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// An argument to a codec call was malformed (e.g. wrong number of column values).
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
    /// The store on disk was written with an incompatible layout or tier resolutions.
    #[error("store format mismatch: {0}")]
    FormatMismatch(String),
    /// The underlying sled database failed.
    #[error("storage error: {0}")]
    Storage(#[from] sled::Error),
    /// Reading or writing a block file failed.
    #[error("block file I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl TsdbError {
    /// Stable error code, e.g. `tsdb.out_of_order`. Codes never change once released.
    pub fn code(&self) -> &'static str {
        match self {
            TsdbError::Corrupt(_) => "tsdb.corrupt",
            TsdbError::UnsupportedVersion(_) => "tsdb.unsupported_version",
            TsdbError::OutOfOrder { .. } => "tsdb.out_of_order",
            TsdbError::InvalidTimestamp(_) => "tsdb.invalid_timestamp",
            TsdbError::KeyTooLong(_) => "tsdb.key_too_long",
            TsdbError::InvalidConfig(_) => "tsdb.invalid_config",
            TsdbError::InvalidArgument(_) => "tsdb.invalid_argument",
            TsdbError::FormatMismatch(_) => "tsdb.format_mismatch",
            TsdbError::Storage(_) => "tsdb.storage",
            TsdbError::Io(_) => "tsdb.io",
        }
    }
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, TsdbError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_distinct() {
        let all = [
            TsdbError::Corrupt("x"),
            TsdbError::UnsupportedVersion(9),
            TsdbError::OutOfOrder { ts: 1, last: 2 },
            TsdbError::InvalidTimestamp(0),
            TsdbError::KeyTooLong(70_000),
            TsdbError::InvalidConfig("x".into()),
            TsdbError::InvalidArgument("x"),
            TsdbError::FormatMismatch("x".into()),
            TsdbError::Storage(sled::Error::Unsupported("x".into())),
            TsdbError::Io(std::io::Error::other("x")),
        ];
        let codes: std::collections::BTreeSet<_> = all.iter().map(TsdbError::code).collect();
        assert_eq!(codes.len(), all.len());
        assert!(codes.iter().all(|c| c.starts_with("tsdb.")));
        assert_eq!(all[2].code(), "tsdb.out_of_order");
    }
}
