//! Panic isolation, explicit stop/restart, duplicates and stale notices.

mod common;

use actix::prelude::*;
use common::*;
use pulse_actors::Supervisor; // shadows actix::prelude::Supervisor
use pulse_actors::*;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[actix_rt::test]
async fn panic_in_handler_kills_only_that_actor() {
    let sup = Supervisor::new(fast("root")).start();
    let (a, b) = (Probe::default(), Probe::default());
    sup.send(StartChild(a.spec("a", RestartPolicy::Permanent)))
        .await
        .unwrap()
        .unwrap();
    sup.send(StartChild(b.spec("b", RestartPolicy::Permanent)))
        .await
        .unwrap()
        .unwrap();
    let (old_a, old_b) = (a.addr(), b.addr());

    // Several panics in a row, all on the system arbiter this test runs on.
    for round in 1..=3 {
        a.addr().do_send(Exit::Panic);
        a.wait_starts(round + 1).await;
    }

    // The sibling is the very same incarnation and still answers.
    assert_eq!(old_b.send(Ping).await.unwrap(), 1);
    assert!(old_b.connected());
    assert_eq!(b.starts(), 1);
    // The panicked incarnation is gone; the new one answers.
    assert!(disconnected(&old_a).await);
    assert_eq!(a.addr().send(Ping).await.unwrap(), 4);
    // The supervisor itself kept running and counted the restarts.
    let node = eventually(&sup, |n| state_of(n, "a") == NodeState::Running).await;
    assert_eq!(node.child("a").unwrap().restarts, 3);
    assert_eq!(node.child("b").unwrap().restarts, 0);
    assert_eq!(node.state, NodeState::Running);
}

#[actix_rt::test]
async fn removed_child_stops_and_leaves_the_tree() {
    let sup = Supervisor::new(fast("root")).start();
    let (gone, kept) = (Probe::default(), Probe::default());
    for (probe, name) in [(&gone, "gone"), (&kept, "kept")] {
        sup.send(StartChild(probe.spec(name, RestartPolicy::Permanent)))
            .await
            .unwrap()
            .unwrap();
    }
    let old = gone.addr();
    sup.send(RemoveChild("gone".into())).await.unwrap().unwrap();
    assert!(disconnected(&old).await);
    sleep(20 * MS).await;
    let node = snapshot(&sup).await;
    assert!(node.child("gone").is_none(), "removed from the tree");
    assert_eq!(state_of(&node, "kept"), NodeState::Running);
    assert_eq!(gone.starts(), 1, "not restarted");
    let err = sup
        .send(RemoveChild("gone".into()))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err, ActorError::UnknownChild("gone".into()));
}

#[actix_rt::test]
async fn explicit_stop_is_not_restarted() {
    let sup = Supervisor::new(fast("root")).start();
    let probe = Probe::default();
    sup.send(StartChild(probe.spec("w", RestartPolicy::Permanent)))
        .await
        .unwrap()
        .unwrap();
    let old = probe.addr();

    // Resolves once the child has actually exited.
    sup.send(StopChild("w".into())).await.unwrap().unwrap();
    assert!(disconnected(&old).await);
    sleep(20 * MS).await;
    let node = snapshot(&sup).await;
    assert_eq!(state_of(&node, "w"), NodeState::Stopped);
    assert_eq!(probe.starts(), 1);
    assert_eq!(node.child("w").unwrap().restarts, 0);

    // Stopping again is a no-op; unknown names are errors.
    sup.send(StopChild("w".into())).await.unwrap().unwrap();
    let err = sup
        .send(StopChild("nope".into()))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err, ActorError::UnknownChild("nope".into()));

    // A stopped child can be replaced by a new start of the same name.
    sup.send(StartChild(probe.spec("w", RestartPolicy::Permanent)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(probe.addr().send(Ping).await.unwrap(), 2);
}

#[actix_rt::test]
async fn stop_during_backoff_cancels_the_restart() {
    let config = fast("root").backoff(Backoff::new(200 * MS, 200 * MS));
    let sup = Supervisor::new(config).start();
    let probe = Probe::default();
    sup.send(StartChild(probe.spec("w", RestartPolicy::Permanent)))
        .await
        .unwrap()
        .unwrap();
    probe.addr().do_send(Exit::Fail);
    eventually(&sup, |n| state_of(n, "w") == NodeState::Restarting).await;
    sup.send(StopChild("w".into())).await.unwrap().unwrap();
    sleep(300 * MS).await;
    assert_eq!(state_of(&snapshot(&sup).await, "w"), NodeState::Stopped);
    assert_eq!(probe.starts(), 1);
}

#[actix_rt::test]
async fn duplicate_names_are_rejected() {
    let sup = Supervisor::new(fast("root")).start();
    let probe = Probe::default();
    sup.send(StartChild(probe.spec("w", RestartPolicy::Permanent)))
        .await
        .unwrap()
        .unwrap();
    let err = sup
        .send(StartChild(probe.spec("w", RestartPolicy::Permanent)))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err, ActorError::DuplicateChild("w".into()));
    assert_eq!(probe.starts(), 1);
}

#[actix_rt::test]
async fn restart_child_restarts_running_and_stopped_children() {
    let sup = Supervisor::new(fast("root")).start();
    let probe = Probe::default();
    sup.send(StartChild(probe.spec("w", RestartPolicy::Temporary)))
        .await
        .unwrap()
        .unwrap();

    // Running: stopped and started again right away, even though temporary.
    sup.send(RestartChild("w".into())).await.unwrap().unwrap();
    probe.wait_starts(2).await;
    assert_eq!(probe.addr().send(Ping).await.unwrap(), 2);

    // Stopped: started again.
    sup.send(StopChild("w".into())).await.unwrap().unwrap();
    sup.send(RestartChild("w".into())).await.unwrap().unwrap();
    assert_eq!(probe.starts(), 3);
    let node = eventually(&sup, |n| state_of(n, "w") == NodeState::Running).await;
    assert_eq!(node.child("w").unwrap().restarts, 2);

    let err = sup
        .send(RestartChild("nope".into()))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err, ActorError::UnknownChild("nope".into()));
}

#[actix_rt::test]
async fn late_notice_from_an_old_incarnation_is_ignored() {
    // Attempt 1 hands its guard to the test and fails to start; attempt 2
    // runs. Dropping the first guard afterwards must not touch attempt 2.
    let stash: Arc<Mutex<Option<ExitGuard>>> = Arc::default();
    let attempts = Arc::new(AtomicU32::new(0));
    let (slot, counter) = (stash.clone(), attempts.clone());
    let spec = ChildSpec::new(
        "w",
        "worker",
        RestartPolicy::Permanent,
        move |cx: ChildContext| {
            if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                *slot.lock().unwrap() = Some(cx.guard());
                return Err("first attempt fails".into());
            }
            Ok(cx.start_actor(|guard| Idle { _guard: guard }).1)
        },
    );
    let sup = Supervisor::new(fast("root")).start();
    assert!(sup.send(StartChild(spec)).await.unwrap().is_err());
    eventually(&sup, |n| state_of(n, "w") == NodeState::Running).await;

    let mut old_guard = stash.lock().unwrap().take().expect("first guard");
    old_guard.fail("late notice");
    drop(old_guard);
    sleep(30 * MS).await;

    let node = snapshot(&sup).await;
    let child = node.child("w").unwrap();
    assert_eq!(child.state, NodeState::Running);
    assert_eq!(child.restarts, 1);
    assert_eq!(child.last_error.as_deref(), Some("first attempt fails"));
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
}

/// A leaf that only holds its guard.
struct Idle {
    _guard: ExitGuard,
}

impl Actor for Idle {
    type Context = Context<Self>;
}

/// A leaf living on its own arbiter thread, stopped via `Handler<Shutdown>`.
struct Remote {
    guard: ExitGuard,
}

impl Actor for Remote {
    type Context = Context<Self>;
}

impl Handler<Shutdown> for Remote {
    type Result = ();

    fn handle(&mut self, _: Shutdown, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

impl Handler<Exit> for Remote {
    type Result = ();

    fn handle(&mut self, exit: Exit, ctx: &mut Context<Self>) {
        match exit {
            Exit::Panic => panic!("remote panic"),
            Exit::Fail => {
                self.guard.fail("remote failure");
                ctx.stop();
            }
            Exit::Normal => ctx.stop(),
        }
    }
}

#[actix_rt::test]
async fn child_on_another_arbiter_is_supervised_too() {
    let arbiter = Arbiter::new();
    let handle = arbiter.handle();
    let current: Arc<Mutex<Option<Addr<Remote>>>> = Arc::default();
    let slot = current.clone();
    let spec = ChildSpec::new(
        "remote",
        "worker",
        RestartPolicy::Transient,
        move |cx: ChildContext| {
            let guard = cx.guard();
            let addr = Remote::start_in_arbiter(&handle, move |_| Remote { guard });
            *slot.lock().unwrap() = Some(addr.clone());
            Ok(ChildHandle::actor(addr))
        },
    );
    let sup = Supervisor::new(fast("root")).start();
    sup.send(StartChild(spec)).await.unwrap().unwrap();

    let first = current.lock().unwrap().clone().unwrap();
    first.do_send(Exit::Panic);
    let node = eventually(&sup, |n| n.child("remote").unwrap().restarts == 1).await;
    assert_eq!(
        node.child("remote").unwrap().last_error.as_deref(),
        Some("panicked")
    );
    eventually(&sup, |n| state_of(n, "remote") == NodeState::Running).await;

    let second = current.lock().unwrap().clone().unwrap();
    sup.send(StopChild("remote".into())).await.unwrap().unwrap();
    // The actor (and its guard) is dropped just before its mailbox, so on
    // another thread the mailbox may close a moment after the reply.
    assert!(disconnected(&second).await);
    assert_eq!(
        state_of(&snapshot(&sup).await, "remote"),
        NodeState::Stopped
    );
    arbiter.stop();
}

#[actix_rt::test]
async fn stopping_the_supervisor_stops_its_children() {
    let sup = Supervisor::new(fast("root")).start();
    let (a, b) = (Probe::default(), Probe::default());
    sup.send(StartChild(a.spec("a", RestartPolicy::Permanent)))
        .await
        .unwrap()
        .unwrap();
    sup.send(StartChild(b.spec("b", RestartPolicy::Permanent)))
        .await
        .unwrap()
        .unwrap();
    let (wa, wb) = (a.addr(), b.addr());
    sup.send(Shutdown).await.unwrap();
    assert!(disconnected(&wa).await && disconnected(&wb).await);
    sleep(20 * MS).await;
    assert_eq!((a.starts(), b.starts()), (1, 1));
}

#[actix_rt::test]
async fn mailbox_capacity_is_applied() {
    let sup = Supervisor::new(fast("root").mailbox_capacity(3)).start();
    let probe = Probe::default();
    sup.send(StartChild(
        probe
            .spec("w", RestartPolicy::Permanent)
            .mailbox_capacity(2),
    ))
    .await
    .unwrap()
    .unwrap();
    // A bounded mailbox refuses `try_send` once full (the actor cannot run
    // while this test holds the thread).
    let worker = probe.addr();
    let accepted = (0..10).filter(|_| worker.try_send(Ping).is_ok()).count();
    assert_eq!(accepted, 2);
    let accepted = (0..10).filter(|_| sup.try_send(Snapshot).is_ok()).count();
    assert_eq!(accepted, 3);
}

/// A child that ignores shutdown requests.
struct Stubborn {
    _guard: ExitGuard,
}

impl Actor for Stubborn {
    type Context = Context<Self>;
}

impl Handler<Shutdown> for Stubborn {
    type Result = ();

    fn handle(&mut self, _: Shutdown, _: &mut Context<Self>) {}
}

fn stubborn(name: &str) -> ChildSpec {
    ChildSpec::new(
        name,
        "stubborn",
        RestartPolicy::Permanent,
        |cx: ChildContext| {
            let guard = cx.guard();
            Ok(ChildHandle::actor(Stubborn { _guard: guard }.start()))
        },
    )
}

#[actix_rt::test]
async fn shutdown_waits_for_children_but_not_forever() {
    let root = Supervisor::new(fast("root")).start();
    let tenant = fast("tenant").shutdown_timeout(60 * MS);
    let spec = ChildSpec::supervisor(tenant, RestartPolicy::Permanent, |_| vec![stubborn("mule")]);
    root.send(StartChild(spec)).await.unwrap().unwrap();
    eventually(&root, |n| n.find(&["tenant", "mule"]).is_some()).await;

    let started = Instant::now();
    root.send(StopChild("tenant".into()))
        .await
        .unwrap()
        .unwrap();
    let took = started.elapsed();
    assert!(took >= 55 * MS && took < 1000 * MS, "took {took:?}");
    assert_eq!(
        state_of(&snapshot(&root).await, "tenant"),
        NodeState::Stopped
    );
}

#[actix_rt::test]
async fn a_stopping_supervisor_takes_no_new_work() {
    let sup = Supervisor::new(fast("root").shutdown_timeout(100 * MS)).start();
    sup.send(StartChild(stubborn("mule")))
        .await
        .unwrap()
        .unwrap();
    sup.send(Shutdown).await.unwrap();

    let probe = Probe::default();
    let err = sup
        .send(StartChild(probe.spec("late", RestartPolicy::Permanent)))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err, ActorError::SupervisorStopping);
    let err = sup
        .send(RestartChild("mule".into()))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err, ActorError::SupervisorStopping);
    assert_eq!(probe.starts(), 0);
    assert!(
        disconnected(&sup).await,
        "stopped after the shutdown timeout"
    );
}
