//! Gathering a snapshot of the supervision tree.

use super::child::ChildHandle;
use super::messages::SubtreeSnapshot;
use super::Supervisor;
use crate::node::{ActorNode, NodeState};
use actix::ResponseFuture;
use std::time::Instant;
use tracing::{debug, warn};

/// Share of the remaining budget granted to nested subtrees, so that their
/// own (partial) answers arrive before this supervisor stops waiting.
const NESTED_BUDGET_NUM: u32 = 3;
const NESTED_BUDGET_DEN: u32 = 4;

impl Supervisor {
    /// Builds this supervisor's node, asking children that expose a subtree
    /// for theirs and waiting for them until `deadline` at the latest.
    pub(crate) fn collect(&self, deadline: Instant) -> ResponseFuture<ActorNode> {
        let now = Instant::now();
        let nested_deadline =
            now + deadline.saturating_duration_since(now) * NESTED_BUDGET_NUM / NESTED_BUDGET_DEN;
        // Requests are enqueued right here, so nested subtrees are gathered
        // concurrently even though they are awaited one after another.
        let pending: Vec<_> = self
            .children
            .iter()
            .map(|record| {
                let request =
                    record
                        .handle
                        .as_ref()
                        .and_then(ChildHandle::subtree)
                        .map(|subtree| {
                            subtree.send(SubtreeSnapshot {
                                deadline: nested_deadline,
                            })
                        });
                (record.node(), request)
            })
            .collect();
        let mut node = ActorNode {
            name: self.config.name.clone(),
            kind: self.config.kind.clone(),
            state: NodeState::Running,
            restarts: 0,
            last_error: None,
            since: self.since,
            children: Vec::with_capacity(pending.len()),
        };
        Box::pin(async move {
            for (mut view, request) in pending {
                if let Some(request) = request {
                    match tokio::time::timeout_at(deadline.into(), request).await {
                        Ok(Ok(subtree)) => view.children = subtree.children,
                        Ok(Err(err)) => {
                            debug!(supervisor = %node.name, child = %view.name, %err, "subtree unavailable")
                        }
                        Err(_) => {
                            warn!(supervisor = %node.name, child = %view.name, "subtree snapshot timed out")
                        }
                    }
                }
                node.children.push(view);
            }
            node
        })
    }
}
