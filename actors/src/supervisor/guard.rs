//! How a child tells its supervisor that it exited, and why.

use super::Supervisor;
use actix::{Addr, Message};
use std::fmt;

/// Why one incarnation of a child ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitReason {
    /// The child stopped on its own or on request, without reporting a failure.
    Normal,
    /// The child called [`ExitGuard::fail`] before stopping, or its start failed.
    Failed(String),
    /// The child was dropped while its thread was panicking.
    Panicked,
}

impl ExitReason {
    /// Whether this exit counts as abnormal for [`RestartPolicy::Transient`](super::RestartPolicy::Transient).
    pub fn is_abnormal(&self) -> bool {
        !matches!(self, ExitReason::Normal)
    }

    /// The text recorded as the child's `lastError`, if abnormal.
    pub(crate) fn error_text(&self) -> Option<String> {
        match self {
            ExitReason::Normal => None,
            ExitReason::Failed(reason) => Some(reason.clone()),
            ExitReason::Panicked => Some("panicked".to_owned()),
        }
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Normal => f.write_str("normal exit"),
            ExitReason::Failed(reason) => write!(f, "failed: {reason}"),
            ExitReason::Panicked => f.write_str("panicked"),
        }
    }
}

/// Exit notice from a child's [`ExitGuard`] to its supervisor.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct ChildExited {
    pub(crate) name: String,
    pub(crate) generation: u64,
    pub(crate) reason: ExitReason,
}

/// Reports a child's exit to its supervisor when dropped.
///
/// A supervised actor stores the guard as a field. When the actor is
/// dropped — after stopping normally, after [`fail`](Self::fail) and
/// `ctx.stop()`, or while unwinding from a panic inside a handler — the
/// guard sends the matching [`ExitReason`] to the supervisor. Each guard
/// carries the generation of the incarnation it belongs to, so a late
/// notice from an old incarnation is ignored.
///
/// Dropping the guard early (or never storing it) reports the child as
/// exited right away.
pub struct ExitGuard {
    supervisor: Option<Addr<Supervisor>>,
    name: String,
    generation: u64,
    failure: Option<String>,
}

impl ExitGuard {
    /// A guard for the given incarnation of a supervised child.
    pub(crate) fn new(supervisor: Addr<Supervisor>, name: String, generation: u64) -> Self {
        Self {
            supervisor: Some(supervisor),
            name,
            generation,
            failure: None,
        }
    }

    /// A guard that reports to nobody, for running a supervisable actor
    /// on its own (in tests or tools).
    pub fn unsupervised(name: impl Into<String>) -> Self {
        Self {
            supervisor: None,
            name: name.into(),
            generation: 0,
            failure: None,
        }
    }

    /// Records that the child is failing; the exit is reported as
    /// [`ExitReason::Failed`] once the actor stops. Call `ctx.stop()` next.
    /// A later call replaces the reason.
    pub fn fail(&mut self, reason: impl Into<String>) {
        self.failure = Some(reason.into());
    }

    /// The child's name within its supervisor.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Debug for ExitGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExitGuard")
            .field("name", &self.name)
            .field("generation", &self.generation)
            .field("supervised", &self.supervisor.is_some())
            .field("failure", &self.failure)
            .finish()
    }
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        let reason = if std::thread::panicking() {
            ExitReason::Panicked
        } else {
            self.failure
                .take()
                .map_or(ExitReason::Normal, ExitReason::Failed)
        };
        if let Some(supervisor) = self.supervisor.take() {
            // `do_send` ignores mailbox capacity and never panics; a dead
            // supervisor simply drops the notice.
            supervisor.do_send(ChildExited {
                name: std::mem::take(&mut self.name),
                generation: self.generation,
                reason,
            });
        }
    }
}
