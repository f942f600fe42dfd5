//! The crate's one error type.

use thiserror::Error;

/// What can go wrong in the alert core. The reducer itself is total (every signal in every state
/// has a defined outcome), so the only failure is a configuration that does not make sense.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AlertError {
    /// A configuration value is out of range or inconsistent with another one.
    #[error("invalid alert configuration `{field}`: {reason}")]
    InvalidConfig {
        /// JSON path of the offending key, e.g. `thresholds.vm.cpu.clear`.
        field: String,
        /// What is wrong and what is allowed.
        reason: String,
    },
}

impl AlertError {
    /// An [`AlertError::InvalidConfig`] for `field`.
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        AlertError::InvalidConfig {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
