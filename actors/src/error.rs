//! The crate's single error type.

use thiserror::Error;

/// Errors returned by the supervisor's request messages.
///
/// Transport failures (a stopped or overloaded mailbox) are reported by
/// actix itself as [`actix::MailboxError`] around these results.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ActorError {
    /// No child with this name is known to the supervisor.
    #[error("no child named `{0}`")]
    UnknownChild(String),
    /// A child with this name is already starting, running or restarting.
    #[error("child `{0}` is already active")]
    DuplicateChild(String),
    /// The child's start function returned an error or panicked.
    ///
    /// The child stays registered and is handled like any other abnormal
    /// exit, so its restart policy may schedule further attempts.
    #[error("child `{name}` failed to start: {reason}")]
    StartFailed {
        /// Name of the child that failed to start.
        name: String,
        /// Error text returned by the start function.
        reason: String,
    },
    /// The supervisor is shutting down (or gone) and takes no new work.
    #[error("the supervisor is stopping")]
    SupervisorStopping,
}
