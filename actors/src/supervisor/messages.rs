//! Requests a supervisor answers, and the escalation it emits.

use super::spec::ChildSpec;
use crate::error::ActorError;
use crate::node::ActorNode;
use actix::Message;
use std::time::Instant;

/// Registers and starts a child.
///
/// Fails with [`ActorError::DuplicateChild`] if a child of that name is
/// active (a stopped or failed child of that name is replaced), and with
/// [`ActorError::SupervisorStopping`] while the supervisor shuts down. A start
/// error is returned as [`ActorError::StartFailed`], and the child is then
/// handled by its restart policy like any abnormal exit.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), ActorError>")]
pub struct StartChild(pub ChildSpec);

/// Stops a child by name; it is not restarted.
///
/// Resolves once the child has actually exited (or at once if it was not
/// running); for a nested supervisor, once its whole subtree has exited
/// or its shutdown timeout passed. A child that ignores the stop request keeps the reply
/// pending, so callers may bound it with `.timeout(..)`.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), ActorError>")]
pub struct StopChild(pub String);

/// Stops a child by name (as [`StopChild`]) and then forgets it: it leaves the supervisor's
/// children and snapshots, as for a removed endpoint. Resolves once it is gone.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), ActorError>")]
pub struct RemoveChild(pub String);

/// Restarts a child by name, right away and without backoff.
///
/// A running child is asked to stop and started again once it exited
/// (unless a stop is already pending, which wins); a child waiting for a
/// backoff restart, or stopped, or given up on, starts now, with its
/// restart-intensity history cleared if it was stopped or failed.
/// Resolves once the restart has been initiated.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), ActorError>")]
pub struct RestartChild(pub String);

/// Asks for the supervision tree rooted at this supervisor.
///
/// Nested subtrees are gathered asynchronously and bounded by the
/// supervisor's snapshot timeout; a subtree that does not answer in time
/// is shown without its children.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "ActorNode")]
pub struct Snapshot;

/// Asks a nested supervisor (or any actor exposing a subtree) for its
/// node, answering before `deadline`.
///
/// Sent by a parent's snapshot to children whose [`ChildHandle`](super::ChildHandle)
/// declares a subtree. The parent keeps its own view of the child's state
/// and only takes the `children` of the answer.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "ActorNode")]
pub struct SubtreeSnapshot {
    /// When the asking supervisor stops waiting.
    pub deadline: Instant,
}

/// A supervisor gave up on a child after too many restarts.
///
/// Sent to the supervisor's escalation recipient; nested supervisors
/// forward it to their parent with their own name prepended to `path`.
#[derive(Debug, Clone, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct Escalation {
    /// Names from the outermost supervisor that forwarded it down to the
    /// child given up on, e.g. `["root", "tenant:default", "registry"]`.
    pub path: Vec<String>,
    /// The exit that exceeded the restart intensity.
    pub reason: String,
    /// How many restarts the child had before the supervisor gave up.
    pub restarts: u32,
}
