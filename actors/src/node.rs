//! The serialisable supervision tree returned by a snapshot.

use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

/// Lifecycle state of a node in the supervision tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeState {
    /// The start function is running.
    Starting,
    /// The child is up.
    Running,
    /// The child exited and a restart is scheduled after a backoff delay.
    Restarting,
    /// The child exited normally or was stopped on request, and is not restarted.
    Stopped,
    /// The child exited abnormally and is not restarted (policy, or the
    /// supervisor gave up after too many restarts).
    Failed,
}

/// One actor in a supervision-tree snapshot; a supervisor lists its children.
///
/// Serialises with camelCase keys, e.g.
/// `{"name":"registry","kind":"registry","state":"running","restarts":0,
///   "lastError":null,"since":1700000000000,"children":[]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorNode {
    /// Unique name among its siblings.
    pub name: String,
    /// Free-form category, e.g. `"registry"` or `"collector"`.
    pub kind: String,
    /// Current lifecycle state.
    pub state: NodeState,
    /// How many times the supervisor restarted this child.
    pub restarts: u32,
    /// The most recent abnormal exit reason, if any.
    pub last_error: Option<String>,
    /// Unix time in milliseconds of the last state change.
    pub since: u64,
    /// Children, for supervisors and other actors that expose a subtree.
    pub children: Vec<ActorNode>,
}

impl ActorNode {
    /// The direct child called `name`, if any.
    pub fn child(&self, name: &str) -> Option<&ActorNode> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The descendant reached by following `path` of child names.
    pub fn find(&self, path: &[&str]) -> Option<&ActorNode> {
        path.iter().try_fold(self, |node, name| node.child(name))
    }
}

/// The current Unix time in milliseconds (0 if the clock is before 1970).
pub(crate) fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
