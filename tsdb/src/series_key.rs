//! The opaque series identifier.

use std::fmt;

/// Identifies one time series, e.g. `org/resourceId/metric`. The store treats it as opaque bytes
/// (at most 65,535); ordering is bytewise.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesKey(Box<[u8]>);

impl SeriesKey {
    /// Wraps raw key bytes.
    pub fn new(bytes: impl Into<Box<[u8]>>) -> Self {
        SeriesKey(bytes.into())
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for SeriesKey {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<&str> for SeriesKey {
    fn from(s: &str) -> Self {
        SeriesKey(s.as_bytes().into())
    }
}

impl From<String> for SeriesKey {
    fn from(s: String) -> Self {
        SeriesKey(s.into_bytes().into_boxed_slice())
    }
}

impl From<&[u8]> for SeriesKey {
    fn from(b: &[u8]) -> Self {
        SeriesKey(b.into())
    }
}

impl From<Vec<u8>> for SeriesKey {
    fn from(b: Vec<u8>) -> Self {
        SeriesKey(b.into_boxed_slice())
    }
}

impl fmt::Debug for SeriesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SeriesKey({:?})", String::from_utf8_lossy(&self.0))
    }
}

impl fmt::Display for SeriesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}
