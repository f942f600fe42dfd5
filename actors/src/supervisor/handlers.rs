//! The supervisor's message handlers.

use super::guard::ChildExited;
use super::messages::{
    Escalation, RemoveChild, RestartChild, Snapshot, StartChild, StopChild, SubtreeSnapshot,
};
use super::record::Intent;
use super::{Shutdown, Supervisor};
use crate::error::ActorError;
use crate::node::{ActorNode, NodeState};
use actix::{
    ActorContext, ActorFutureExt, Context, Handler, ResponseActFuture, ResponseFuture, WrapFuture,
};
use std::future::ready;
use std::time::Instant;
use tokio::sync::oneshot;
use tracing::debug;

impl Handler<StartChild> for Supervisor {
    type Result = Result<(), ActorError>;

    fn handle(&mut self, StartChild(spec): StartChild, ctx: &mut Context<Self>) -> Self::Result {
        self.start_child(spec, ctx)
    }
}

impl Handler<StopChild> for Supervisor {
    type Result = ResponseFuture<Result<(), ActorError>>;

    fn handle(&mut self, StopChild(name): StopChild, ctx: &mut Context<Self>) -> Self::Result {
        let Some(idx) = self.position(&name) else {
            return Box::pin(ready(Err(ActorError::UnknownChild(name))));
        };
        match self.children[idx].state {
            NodeState::Starting | NodeState::Running => {
                let record = &mut self.children[idx];
                record.intent = Intent::Stop;
                let (tx, rx) = oneshot::channel();
                record.stop_waiters.push(tx);
                if let Some(handle) = record.handle.as_mut() {
                    handle.shutdown();
                }
                Box::pin(async move { rx.await.map_err(|_| ActorError::SupervisorStopping) })
            }
            NodeState::Restarting => {
                self.cancel_pending_restart(idx, ctx);
                self.children[idx].finish_stopped();
                Box::pin(ready(Ok(())))
            }
            NodeState::Stopped | NodeState::Failed => Box::pin(ready(Ok(()))),
        }
    }
}

impl Handler<RemoveChild> for Supervisor {
    type Result = ResponseActFuture<Self, Result<(), ActorError>>;

    fn handle(&mut self, RemoveChild(name): RemoveChild, ctx: &mut Context<Self>) -> Self::Result {
        let stopping = <Self as Handler<StopChild>>::handle(self, StopChild(name.clone()), ctx);
        Box::pin(stopping.into_actor(self).map(move |result, act, _| {
            result?;
            // Only a finished record is dropped: a concurrent StartChild of the same name wins.
            if let Some(idx) = act
                .position(&name)
                .filter(|&i| !act.children[i].is_active())
            {
                act.children.remove(idx);
            }
            Ok(())
        }))
    }
}

impl Handler<RestartChild> for Supervisor {
    type Result = Result<(), ActorError>;

    fn handle(
        &mut self,
        RestartChild(name): RestartChild,
        ctx: &mut Context<Self>,
    ) -> Self::Result {
        self.ensure_running()?;
        let idx = self.position(&name).ok_or(ActorError::UnknownChild(name))?;
        let record = &mut self.children[idx];
        match record.state {
            NodeState::Starting | NodeState::Running => {
                if record.intent == Intent::None {
                    record.intent = Intent::Restart;
                    if let Some(handle) = record.handle.as_mut() {
                        handle.shutdown();
                    }
                }
                Ok(())
            }
            NodeState::Restarting => {
                self.cancel_pending_restart(idx, ctx);
                self.relaunch(idx, ctx)
            }
            NodeState::Stopped | NodeState::Failed => {
                record.window.reset();
                record.consecutive = 0;
                self.relaunch(idx, ctx)
            }
        }
    }
}

impl Handler<Snapshot> for Supervisor {
    type Result = ResponseFuture<ActorNode>;

    fn handle(&mut self, _: Snapshot, _: &mut Context<Self>) -> Self::Result {
        self.collect(Instant::now() + self.config.snapshot_timeout)
    }
}

impl Handler<SubtreeSnapshot> for Supervisor {
    type Result = ResponseFuture<ActorNode>;

    fn handle(&mut self, msg: SubtreeSnapshot, _: &mut Context<Self>) -> Self::Result {
        self.collect(msg.deadline)
    }
}

impl Handler<Escalation> for Supervisor {
    type Result = ();

    fn handle(&mut self, mut msg: Escalation, _: &mut Context<Self>) {
        debug!(supervisor = %self.config.name, path = ?msg.path, "forwarding escalation");
        msg.path.insert(0, self.config.name.clone());
        self.escalate(msg);
    }
}

impl Handler<ChildExited> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: ChildExited, ctx: &mut Context<Self>) {
        let current = self.position(&msg.name).filter(|&idx| {
            let record = &self.children[idx];
            record.generation == msg.generation && record.handle.is_some()
        });
        let Some(idx) = current else {
            debug!(supervisor = %self.config.name, child = %msg.name, generation = msg.generation, "ignoring stale exit notice");
            return;
        };
        let uptime = self.children[idx].started_at.elapsed();
        self.on_exit(idx, msg.reason, uptime, ctx);
    }
}

impl Handler<Shutdown> for Supervisor {
    type Result = ();

    fn handle(&mut self, _: Shutdown, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}
