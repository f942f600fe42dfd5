//! A supervisor actor that starts, watches and restarts child actors.
//!
//! Children report their exit through an [`ExitGuard`] they own; the
//! supervisor applies the child's [`RestartPolicy`], delays restarts with a
//! jittered [`Backoff`](crate::Backoff), gives up on a child that restarts
//! too often (escalating to its parent), and never lets one child's
//! failure touch its siblings.

mod child;
mod config;
mod guard;
mod handlers;
mod messages;
mod record;
mod snapshot;
mod spec;

pub use child::{ChildContext, ChildHandle, Shutdown};
pub use config::{SupervisorConfig, DEFAULT_SUPERVISOR_MAILBOX};
pub use guard::{ExitGuard, ExitReason};
pub use messages::{
    Escalation, RemoveChild, RestartChild, Snapshot, StartChild, StopChild, SubtreeSnapshot,
};
pub use spec::{ChildSpec, RestartPolicy, StartFn, DEFAULT_CHILD_MAILBOX};

use crate::error::ActorError;
use crate::node::{unix_ms, NodeState};
use actix::{Actor, ActorContext, AsyncContext, Context, Recipient, Running};
use record::{ChildRecord, Intent, RestartWindow};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{debug, error, info, warn};

/// An actor owning a set of named children and keeping them running
/// according to their restart policies.
///
/// Create a root with `Supervisor::new(config).start()`; nest one with
/// [`ChildSpec::supervisor`].
///
/// Stopping a supervisor first stops all its children and waits (up to
/// the configured shutdown timeout) until they exited, so that its own exit
/// — and a restart by its parent — never overlaps with its old children.
/// A supervisor that is dropped without stopping (a panic, or the system
/// going down) still signals every child to stop.
pub struct Supervisor {
    config: SupervisorConfig,
    phase: Phase,
    children: Vec<ChildRecord>,
    initial: Vec<ChildSpec>,
    escalate_to: Option<Recipient<Escalation>>,
    /// Held only for its `Drop`: reports this supervisor's exit to its parent.
    guard: Option<ExitGuard>,
    next_generation: u64,
    since: u64,
}

impl Supervisor {
    /// A supervisor without children yet.
    pub fn new(config: SupervisorConfig) -> Self {
        Self {
            config,
            phase: Phase::Running,
            children: Vec::new(),
            initial: Vec::new(),
            escalate_to: None,
            guard: None,
            next_generation: 0,
            since: unix_ms(),
        }
    }

    /// Children to start, in order, as soon as the supervisor starts.
    pub fn children(mut self, specs: Vec<ChildSpec>) -> Self {
        self.initial.extend(specs);
        self
    }

    /// Where to send an [`Escalation`] when this supervisor gives up on a
    /// child (nested supervisors escalate to their parent automatically).
    pub fn escalate_to(mut self, recipient: Recipient<Escalation>) -> Self {
        self.escalate_to = Some(recipient);
        self
    }

    /// Makes this supervisor report its own exit to a parent.
    pub(crate) fn supervised_by(mut self, guard: ExitGuard) -> Self {
        self.guard = Some(guard);
        self
    }

    /// Fails if the supervisor is shutting down and takes no new work.
    fn ensure_running(&self) -> Result<(), ActorError> {
        match self.phase {
            Phase::Running => Ok(()),
            Phase::Draining | Phase::Done => Err(ActorError::SupervisorStopping),
        }
    }

    /// Whether any child incarnation is still alive.
    fn has_live_children(&self) -> bool {
        self.children.iter().any(|c| c.handle.is_some())
    }

    /// Asks every child to stop for good and cancels pending restarts.
    fn stop_all_children(&mut self, ctx: &mut Context<Self>) {
        for idx in 0..self.children.len() {
            self.cancel_pending_restart(idx, ctx);
            let record = &mut self.children[idx];
            match record.handle.as_mut() {
                Some(handle) => {
                    record.intent = Intent::Stop;
                    handle.shutdown();
                }
                None if record.state == NodeState::Restarting => record.finish_stopped(),
                None => {}
            }
        }
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.children.iter().position(|c| c.spec.name == name)
    }

    /// Registers `spec` (replacing a finished child of the same name) and starts it.
    fn start_child(&mut self, spec: ChildSpec, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        self.ensure_running()?;
        let record = ChildRecord::new(
            spec,
            RestartWindow::new(self.config.max_restarts, self.config.period),
        );
        let idx = match self.position(&record.spec.name) {
            Some(idx) if self.children[idx].is_active() => {
                return Err(ActorError::DuplicateChild(record.spec.name));
            }
            Some(idx) => {
                self.children[idx] = record;
                idx
            }
            None => {
                self.children.push(record);
                self.children.len() - 1
            }
        };
        self.start_or_recover(idx, ctx)
    }

    /// Starts child `idx` again, counting a restart.
    fn relaunch(&mut self, idx: usize, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        let record = &mut self.children[idx];
        record.restarts = record.restarts.saturating_add(1);
        self.start_or_recover(idx, ctx)
    }

    /// Starts child `idx`; a failed start is treated as an abnormal exit.
    fn start_or_recover(&mut self, idx: usize, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        let Err(reason) = self.launch(idx, ctx) else {
            return Ok(());
        };
        let name = self.children[idx].spec.name.clone();
        warn!(supervisor = %self.config.name, child = %name, %reason, "child failed to start");
        self.on_exit(idx, ExitReason::Failed(reason.clone()), Duration::ZERO, ctx);
        Err(ActorError::StartFailed { name, reason })
    }

    /// Runs the start function of child `idx` as a new incarnation.
    fn launch(&mut self, idx: usize, ctx: &mut Context<Self>) -> Result<(), String> {
        self.next_generation += 1;
        let generation = self.next_generation;
        let record = &mut self.children[idx];
        record.generation = generation;
        record.intent = Intent::None;
        record.set_state(NodeState::Starting);
        let cx = ChildContext::new(
            record.spec.name.clone(),
            generation,
            ctx.address(),
            record.spec.mailbox_capacity,
        );
        let start = Arc::clone(&record.spec.start);
        let result = match catch_unwind(AssertUnwindSafe(|| start(cx))) {
            Ok(result) => result,
            Err(_) => Err("start function panicked".to_owned()),
        };
        match result {
            Ok(handle) => {
                record.handle = Some(handle);
                record.started_at = Instant::now();
                record.set_state(NodeState::Running);
                info!(supervisor = %self.config.name, child = %record.spec.name, generation, "child started");
                Ok(())
            }
            Err(reason) => {
                // The context's guard was dropped with the failed start; a
                // new generation turns its exit notice into a stale one.
                self.next_generation += 1;
                record.generation = self.next_generation;
                Err(reason)
            }
        }
    }

    /// Applies the exit of child `idx`'s current incarnation.
    fn on_exit(
        &mut self,
        idx: usize,
        reason: ExitReason,
        uptime: Duration,
        ctx: &mut Context<Self>,
    ) {
        let stable_after = self.config.stable_after_or_default();
        let record = &mut self.children[idx];
        record.handle = None;
        if let Some(text) = reason.error_text() {
            record.last_error = Some(text);
        }
        let name = record.spec.name.clone();
        match std::mem::replace(&mut record.intent, Intent::None) {
            Intent::Stop => {
                record.finish_stopped();
                info!(supervisor = %self.config.name, child = %name, %reason, "child stopped on request");
                if self.phase == Phase::Draining && !self.has_live_children() {
                    self.phase = Phase::Done;
                    ctx.stop();
                }
                return;
            }
            Intent::Restart => {
                // A failed start is logged and handled inside.
                let _ = self.relaunch(idx, ctx);
                return;
            }
            Intent::None => {}
        }
        if !record.spec.policy.restarts_after(&reason) {
            if reason.is_abnormal() {
                record.set_state(NodeState::Failed);
                warn!(supervisor = %self.config.name, child = %name, %reason, "child exited; not restarted by policy");
            } else {
                record.finish_stopped();
                info!(supervisor = %self.config.name, child = %name, "child finished");
            }
            return;
        }
        if uptime >= stable_after {
            record.consecutive = 0;
        }
        if !record.window.admit(Instant::now()) {
            record.set_state(NodeState::Failed);
            let restarts = record.restarts;
            error!(supervisor = %self.config.name, child = %name, restarts, %reason, "restart intensity exceeded; giving up on child");
            self.escalate(Escalation {
                path: vec![self.config.name.clone(), name],
                reason: reason.to_string(),
                restarts,
            });
            return;
        }
        if !timers_available() {
            // The runtime is shutting down (actors are dropped with it): nothing to restart into.
            record.finish_stopped();
            return;
        }
        let delay = self.config.backoff.delay(record.consecutive);
        record.consecutive = record.consecutive.saturating_add(1);
        record.set_state(NodeState::Restarting);
        warn!(supervisor = %self.config.name, child = %name, %reason, ?delay, "child exited; restarting");
        let generation = record.generation;
        let timer = ctx.run_later(delay, move |act, ctx| {
            act.restart_due(&name, generation, ctx)
        });
        self.children[idx].pending_restart = Some(timer);
    }

    /// Performs a backoff restart unless it was cancelled or superseded.
    fn restart_due(&mut self, name: &str, generation: u64, ctx: &mut Context<Self>) {
        let Some(idx) = self.position(name) else {
            return;
        };
        let record = &mut self.children[idx];
        if record.generation != generation || record.state != NodeState::Restarting {
            return;
        }
        record.pending_restart = None;
        // A failed start is logged and handled inside.
        let _ = self.relaunch(idx, ctx);
    }

    /// Cancels a scheduled backoff restart of child `idx`, if any.
    fn cancel_pending_restart(&mut self, idx: usize, ctx: &mut Context<Self>) {
        if let Some(timer) = self.children[idx].pending_restart.take() {
            ctx.cancel_future(timer);
        }
    }

    /// Hands an escalation to the parent, if there is one.
    fn escalate(&self, escalation: Escalation) {
        match &self.escalate_to {
            Some(parent) => parent.do_send(escalation),
            None => {
                debug!(supervisor = %self.config.name, path = ?escalation.path, "no parent to escalate to")
            }
        }
    }
}

impl Actor for Supervisor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(self.config.mailbox_capacity);
        self.since = unix_ms();
        info!(supervisor = %self.config.name, "supervisor started");
        for spec in std::mem::take(&mut self.initial) {
            // Failures are logged and handled by the child's policy.
            let _ = self.start_child(spec, ctx);
        }
    }

    fn stopping(&mut self, ctx: &mut Self::Context) -> Running {
        if std::thread::panicking() || !timers_available() {
            // Unwinding from a panic, or dropped with a runtime that is shutting down: run no more
            // handlers and arm no timers. Dropping the child handles with `self` still signals
            // every child.
            return Running::Stop;
        }
        if self.phase == Phase::Running {
            self.phase = Phase::Draining;
            self.stop_all_children(ctx);
            if self.has_live_children() {
                info!(supervisor = %self.config.name, "stopping; waiting for children to exit");
                ctx.run_later(self.config.shutdown_timeout, |act, ctx| {
                    if act.phase == Phase::Draining {
                        warn!(supervisor = %act.config.name, "children did not stop in time; stopping anyway");
                        act.phase = Phase::Done;
                        ctx.stop();
                    }
                });
            }
        }
        if self.phase == Phase::Draining && self.has_live_children() {
            Running::Continue
        } else {
            self.phase = Phase::Done;
            Running::Stop
        }
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        info!(supervisor = %self.config.name, "supervisor stopped");
    }
}

/// Where a supervisor is in its own lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Accepting work and restarting children.
    Running,
    /// Stopping: waiting for children to exit, accepting no new work.
    Draining,
    /// Children are gone (or timed out); the supervisor stops.
    Done,
}

/// Whether a Tokio runtime (and so its timer) is current. It is not while the actor system is
/// being dropped, when actix still runs `stopping()` and exit notices of dying actors.
fn timers_available() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}
