//! Pulse's domain-free actor runtime on top of actix 0.13.
//!
//! * [`Supervisor`] — owns named children described by [`ChildSpec`]s,
//!   restarts them per [`RestartPolicy`] with a jittered [`Backoff`], gives
//!   up (and escalates) after too many restarts, nests, and reports a
//!   serialisable [`ActorNode`] tree on [`Snapshot`].
//! * [`Hub`] — non-blocking fan-out to bounded, lag-aware [`Subscription`]s
//!   (usable as actix streams directly or via [`Subscription::events`]).
//! * [`PeriodicSchedule`] and [`run_periodic`] — non-overlapping periodic
//!   work inside an actor, with jitter and failure backoff.
//!
//! # Supervising a leaf and a nested supervisor
//!
//! A supervised actor keeps the [`ExitGuard`] it is given; dropping the
//! actor (normal stop, `guard.fail(..)` + stop, or a panic in a handler)
//! tells the supervisor how it exited.
//!
//! ```
//! use actix::prelude::*;
//! use pulse_actors::{
//!     ActorNode, Backoff, ChildSpec, ExitGuard, NodeState, RestartPolicy, Snapshot, StartChild,
//!     Supervisor, SupervisorConfig,
//! };
//! use std::time::Duration;
//!
//! struct Registry {
//!     _guard: ExitGuard,
//! }
//! impl Actor for Registry {
//!     type Context = Context<Self>;
//! }
//!
//! # fn main() {
//! System::new().block_on(async {
//!     let config = SupervisorConfig::new("root")
//!         .intensity(10, Duration::from_secs(60))
//!         .backoff(Backoff::new(Duration::from_millis(100), Duration::from_secs(300)).jitter(0.2));
//!     let root = Supervisor::new(config).start();
//!
//!     // A leaf in one line: build the actor from its guard.
//!     let leaf = ChildSpec::actor("registry", "registry", RestartPolicy::Permanent, |guard| {
//!         Registry { _guard: guard }
//!     });
//!     root.send(StartChild(leaf)).await.unwrap().unwrap();
//!
//!     // A nested supervisor whose initial children come from a closure
//!     // (called again on every restart of the tenant supervisor).
//!     let tenant = SupervisorConfig::new("tenant:default").kind("tenant");
//!     let nested = ChildSpec::supervisor(tenant, RestartPolicy::Permanent, |_tenant_addr| {
//!         vec![ChildSpec::actor("registry", "registry", RestartPolicy::Permanent, |guard| {
//!             Registry { _guard: guard }
//!         })]
//!     });
//!     root.send(StartChild(nested)).await.unwrap().unwrap();
//!
//!     let tree: ActorNode = root.send(Snapshot).await.unwrap();
//!     let inner = tree.find(&["tenant:default", "registry"]).unwrap();
//!     assert_eq!(inner.state, NodeState::Running);
//!     println!("{}", serde_json::to_string(&tree).unwrap());
//! });
//! # }
//! ```
//!
//! When the start function needs the actor's address (to publish it
//! elsewhere), use [`ChildSpec::new`] with [`ChildContext::start_actor`]:
//!
//! ```
//! # use actix::prelude::*;
//! # use pulse_actors::{ChildContext, ChildSpec, ExitGuard, RestartPolicy};
//! # struct Registry { _guard: ExitGuard }
//! # impl Actor for Registry { type Context = Context<Self>; }
//! let spec = ChildSpec::new("registry", "registry", RestartPolicy::Permanent, |cx: ChildContext| {
//!     let (_addr, handle) = cx.start_actor(|guard| Registry { _guard: guard });
//!     // ... hand `_addr` to whoever needs the current incarnation ...
//!     Ok(handle)
//! });
//! # let _ = spec;
//! ```
//!
//! Note that `actix::prelude` also exports an (unrelated) `Supervisor`;
//! import this crate's types by name rather than with a glob next to it.
//!
//! # Panics in handlers
//!
//! A panic inside an actix handler unwinds out of that actor's task; tokio
//! catches it at the task boundary, so only that actor dies and the
//! supervisor and its siblings keep running. While unwinding, actix still
//! calls the dying actor's `stopping()` and `stopped()` and then drops it,
//! so the guard reports [`ExitReason::Panicked`]. A second panic in
//! `stopping()`/`stopped()` during that unwinding aborts the whole process,
//! so keep those hooks panic-free.

#![warn(missing_docs)]

mod backoff;
mod error;
mod hub;
mod node;
mod schedule;
mod supervisor;

pub use backoff::Backoff;
pub use error::ActorError;
pub use hub::{Hub, HubEvent, HubEvents, PublishReport, Subscription};
pub use node::{ActorNode, NodeState};
pub use schedule::{run_periodic, Outcome, PeriodicSchedule};
pub use supervisor::{
    ChildContext, ChildHandle, ChildSpec, Escalation, ExitGuard, ExitReason, RemoveChild,
    RestartChild, RestartPolicy, Shutdown, Snapshot, StartChild, StartFn, StopChild,
    SubtreeSnapshot, Supervisor, SupervisorConfig, DEFAULT_CHILD_MAILBOX,
    DEFAULT_SUPERVISOR_MAILBOX,
};
