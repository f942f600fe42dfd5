//! Child specifications: what to start, and when to restart it.

use super::child::{ChildContext, ChildHandle};
use super::config::SupervisorConfig;
use super::guard::{ExitGuard, ExitReason};
use super::Supervisor;
use actix::{Actor, Addr, AsyncContext, Context};
use serde::Serialize;
use std::fmt;
use std::sync::Arc;

/// Default mailbox capacity of a child actor (actix's own default is 16).
pub const DEFAULT_CHILD_MAILBOX: usize = 64;

/// When a child is restarted after it exits (Erlang/OTP semantics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RestartPolicy {
    /// Always restarted, whatever the exit reason.
    Permanent,
    /// Restarted only after an abnormal exit (failure or panic).
    Transient,
    /// Never restarted.
    Temporary,
}

impl RestartPolicy {
    /// Whether a child with this policy is restarted after exiting for `reason`.
    pub fn restarts_after(self, reason: &ExitReason) -> bool {
        match self {
            RestartPolicy::Permanent => true,
            RestartPolicy::Transient => reason.is_abnormal(),
            RestartPolicy::Temporary => false,
        }
    }
}

/// The function that starts one incarnation of a child.
pub type StartFn = dyn Fn(ChildContext) -> Result<ChildHandle, String> + Send + Sync;

/// Describes a child: its name, kind, restart policy and how to start it.
///
/// The start function runs inside the supervisor (on its arbiter) for the
/// first start and for every restart, so it must not block.
#[derive(Clone)]
pub struct ChildSpec {
    pub(crate) name: String,
    pub(crate) kind: String,
    pub(crate) policy: RestartPolicy,
    pub(crate) mailbox_capacity: usize,
    pub(crate) start: Arc<StartFn>,
}

impl ChildSpec {
    /// A child started by an arbitrary start function.
    ///
    /// The function must hand the context's [`ExitGuard`] to the child
    /// (see [`ChildContext::guard`] and [`ChildContext::start_actor`]) and
    /// return a [`ChildHandle`], or an error text if it could not start.
    pub fn new<F>(
        name: impl Into<String>,
        kind: impl Into<String>,
        policy: RestartPolicy,
        start: F,
    ) -> Self
    where
        F: Fn(ChildContext) -> Result<ChildHandle, String> + Send + Sync + 'static,
    {
        Self {
            name: name.into(),
            kind: kind.into(),
            policy,
            mailbox_capacity: DEFAULT_CHILD_MAILBOX,
            start: Arc::new(start),
        }
    }

    /// A leaf actor built by `make` from its exit guard and started on the
    /// supervisor's arbiter; no `Handler<Shutdown>` is needed.
    pub fn actor<A, F>(
        name: impl Into<String>,
        kind: impl Into<String>,
        policy: RestartPolicy,
        make: F,
    ) -> Self
    where
        A: Actor<Context = Context<A>>,
        F: Fn(ExitGuard) -> A + Send + Sync + 'static,
    {
        Self::new(name, kind, policy, move |cx| Ok(cx.start_actor(&make).1))
    }

    /// A nested supervisor named and configured by `config`.
    ///
    /// On every (re)start a fresh [`Supervisor`] is created, `init` is
    /// called with its address to produce its initial children, and
    /// escalations are forwarded to the parent. Its subtree appears in the
    /// parent's snapshots.
    pub fn supervisor<F>(config: SupervisorConfig, policy: RestartPolicy, init: F) -> Self
    where
        F: Fn(&Addr<Supervisor>) -> Vec<ChildSpec> + Send + Sync + 'static,
    {
        let name = config.name.clone();
        let kind = config.kind.clone();
        let mailbox_capacity = config.mailbox_capacity;
        let spec = Self::new(name, kind, policy, move |cx: ChildContext| {
            let config = config.clone();
            let parent = cx.supervisor().clone().recipient();
            let guard = cx.guard();
            let addr = Supervisor::create(|ctx| {
                let children = init(&ctx.address());
                Supervisor::new(config)
                    .children(children)
                    .escalate_to(parent)
                    .supervised_by(guard)
            });
            let subtree = addr.clone().recipient();
            Ok(ChildHandle::actor(addr).with_subtree(subtree))
        });
        spec.mailbox_capacity(mailbox_capacity)
    }

    /// Sets the mailbox capacity handed to the start function.
    pub fn mailbox_capacity(mut self, capacity: usize) -> Self {
        self.mailbox_capacity = capacity;
        self
    }

    /// The child's name, unique among its siblings.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The child's free-form kind.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The child's restart policy.
    pub fn policy(&self) -> RestartPolicy {
        self.policy
    }
}

impl fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("policy", &self.policy)
            .field("mailbox_capacity", &self.mailbox_capacity)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_restart_semantics() {
        use ExitReason::*;
        use RestartPolicy::*;
        let failed = Failed("x".into());
        assert!(Permanent.restarts_after(&Normal));
        assert!(Permanent.restarts_after(&failed));
        assert!(Permanent.restarts_after(&Panicked));
        assert!(!Transient.restarts_after(&Normal));
        assert!(Transient.restarts_after(&failed));
        assert!(Transient.restarts_after(&Panicked));
        assert!(!Temporary.restarts_after(&Normal));
        assert!(!Temporary.restarts_after(&failed));
        assert!(!Temporary.restarts_after(&Panicked));
    }
}
