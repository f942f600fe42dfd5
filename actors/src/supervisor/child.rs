//! What a child's start function receives and returns.

use super::guard::ExitGuard;
use super::{SubtreeSnapshot, Supervisor};
use actix::dev::ToEnvelope;
use actix::fut::{wrap_future, ActorFutureExt};
use actix::{Actor, ActorContext, Addr, AsyncContext, Context, Handler, Message, Recipient};
use std::fmt;
use tokio::sync::oneshot;

/// Asks a child actor to stop.
///
/// Implement `Handler<Shutdown>` (usually just `ctx.stop()`) only for
/// actors wrapped with [`ChildHandle::actor`]; actors started through
/// [`ChildContext::start_actor`] are stopped without it.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct Shutdown;

/// Everything a start function needs to start one incarnation of a child.
pub struct ChildContext {
    name: String,
    supervisor: Addr<Supervisor>,
    mailbox_capacity: usize,
    guard: ExitGuard,
}

impl ChildContext {
    pub(crate) fn new(
        name: String,
        generation: u64,
        supervisor: Addr<Supervisor>,
        mailbox_capacity: usize,
    ) -> Self {
        let guard = ExitGuard::new(supervisor.clone(), name.clone(), generation);
        Self {
            name,
            supervisor,
            mailbox_capacity,
            guard,
        }
    }

    /// The child's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The supervisor starting this child.
    pub fn supervisor(&self) -> &Addr<Supervisor> {
        &self.supervisor
    }

    /// The mailbox capacity requested by the child's spec; apply it with
    /// `ctx.set_mailbox_capacity` when starting the actor by hand.
    pub fn mailbox_capacity(&self) -> usize {
        self.mailbox_capacity
    }

    /// Takes the exit guard, to be stored in the child actor.
    pub fn guard(self) -> ExitGuard {
        self.guard
    }

    /// Starts a leaf actor on the current arbiter, built by `make` from the
    /// exit guard, with the spec's mailbox capacity.
    ///
    /// The returned handle stops the actor without needing a
    /// `Handler<Shutdown>`. The stop link also keeps the actor alive when
    /// all its addresses are dropped, as a supervised actor should be.
    pub fn start_actor<A, F>(self, make: F) -> (Addr<A>, ChildHandle)
    where
        A: Actor<Context = Context<A>>,
        F: FnOnce(ExitGuard) -> A,
    {
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let capacity = self.mailbox_capacity;
        let guard = self.guard;
        let addr = A::create(move |ctx| {
            ctx.set_mailbox_capacity(capacity);
            // Resolves on an explicit stop and when the handle is dropped.
            ctx.spawn(wrap_future(stop_rx).map(|_, _: &mut A, ctx: &mut Context<A>| ctx.stop()));
            make(guard)
        });
        (addr, ChildHandle::new(StopLink::Signal(Some(stop_tx))))
    }
}

impl fmt::Debug for ChildContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildContext")
            .field("name", &self.name)
            .field("mailbox_capacity", &self.mailbox_capacity)
            .field("guard", &self.guard)
            .finish()
    }
}

/// How the supervisor asks a child to stop.
enum StopLink {
    /// Oneshot watched by a future spawned in the child's context.
    Signal(Option<oneshot::Sender<()>>),
    /// A child that handles [`Shutdown`] itself.
    Message(Recipient<Shutdown>),
}

/// The supervisor's grip on a running child: a way to stop it and,
/// optionally, a way to snapshot its subtree.
///
/// Dropping the handle asks the child to stop, so a child never outlives
/// its supervisor, even if the supervisor itself panics.
pub struct ChildHandle {
    stop: StopLink,
    subtree: Option<Recipient<SubtreeSnapshot>>,
}

impl ChildHandle {
    fn new(stop: StopLink) -> Self {
        Self {
            stop,
            subtree: None,
        }
    }

    /// Wraps an actor that handles [`Shutdown`], e.g. one started on
    /// another arbiter.
    pub fn actor<A>(addr: Addr<A>) -> Self
    where
        A: Handler<Shutdown>,
        A::Context: ToEnvelope<A, Shutdown>,
    {
        Self::recipient(addr.recipient())
    }

    /// Wraps any recipient of [`Shutdown`].
    pub fn recipient(recipient: Recipient<Shutdown>) -> Self {
        Self::new(StopLink::Message(recipient))
    }

    /// Declares that the child exposes its own subtree: snapshots ask it
    /// for its children (bounded by the snapshot deadline).
    pub fn with_subtree(mut self, subtree: Recipient<SubtreeSnapshot>) -> Self {
        self.subtree = Some(subtree);
        self
    }

    /// The child's subtree recipient, if it has one.
    pub(crate) fn subtree(&self) -> Option<&Recipient<SubtreeSnapshot>> {
        self.subtree.as_ref()
    }

    /// Asks the child to stop; repeated calls are harmless.
    pub(crate) fn shutdown(&mut self) {
        match &mut self.stop {
            StopLink::Signal(tx) => {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(());
                }
            }
            StopLink::Message(recipient) => recipient.do_send(Shutdown),
        }
    }
}

impl fmt::Debug for ChildHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stop = match &self.stop {
            StopLink::Signal(_) => "signal",
            StopLink::Message(_) => "message",
        };
        f.debug_struct("ChildHandle")
            .field("stop", &stop)
            .field("subtree", &self.subtree.is_some())
            .finish()
    }
}

impl Drop for ChildHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}
