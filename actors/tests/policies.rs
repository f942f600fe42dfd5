//! Restart policies across normal exit, failure and panic.

mod common;

use actix::prelude::*;
use common::*;
use pulse_actors::Supervisor;
use pulse_actors::*; // shadows actix::prelude::Supervisor

/// Starts one worker with `policy`, makes it exit with `exit`, and checks
/// whether it was restarted and what the snapshot says.
async fn check(
    policy: RestartPolicy,
    exit: Exit,
    restarted: bool,
    state: NodeState,
    error: Option<&str>,
) {
    let sup = Supervisor::new(fast("root")).start();
    let probe = Probe::default();
    sup.send(StartChild(probe.spec("w", policy)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(probe.addr().send(Ping).await.unwrap(), 1);

    probe.addr().do_send(exit);
    let node = if restarted {
        probe.wait_starts(2).await;
        eventually(&sup, |n| state_of(n, "w") == NodeState::Running).await
    } else {
        eventually(&sup, |n| state_of(n, "w") == state).await
    };
    // Give a wrongly scheduled restart time to happen.
    sleep(20 * MS).await;
    let expected_starts = if restarted { 2 } else { 1 };
    assert_eq!(probe.starts(), expected_starts, "{policy:?} after {exit:?}");
    assert_eq!(
        probe.overlaps(),
        0,
        "restarted while the old incarnation lived"
    );
    let child = node.child("w").unwrap();
    assert_eq!(child.state, state, "{policy:?} after {exit:?}");
    assert_eq!(child.restarts, u32::from(restarted));
    assert_eq!(child.last_error.as_deref(), error);
    if restarted {
        assert_eq!(probe.addr().send(Ping).await.unwrap(), 2);
    }
}

#[actix_rt::test]
async fn permanent_restarts_after_normal_exit() {
    check(
        RestartPolicy::Permanent,
        Exit::Normal,
        true,
        NodeState::Running,
        None,
    )
    .await;
}

#[actix_rt::test]
async fn permanent_restarts_after_failure() {
    check(
        RestartPolicy::Permanent,
        Exit::Fail,
        true,
        NodeState::Running,
        Some("boom"),
    )
    .await;
}

#[actix_rt::test]
async fn permanent_restarts_after_panic() {
    check(
        RestartPolicy::Permanent,
        Exit::Panic,
        true,
        NodeState::Running,
        Some("panicked"),
    )
    .await;
}

#[actix_rt::test]
async fn transient_stays_stopped_after_normal_exit() {
    check(
        RestartPolicy::Transient,
        Exit::Normal,
        false,
        NodeState::Stopped,
        None,
    )
    .await;
}

#[actix_rt::test]
async fn transient_restarts_after_failure() {
    check(
        RestartPolicy::Transient,
        Exit::Fail,
        true,
        NodeState::Running,
        Some("boom"),
    )
    .await;
}

#[actix_rt::test]
async fn transient_restarts_after_panic() {
    check(
        RestartPolicy::Transient,
        Exit::Panic,
        true,
        NodeState::Running,
        Some("panicked"),
    )
    .await;
}

#[actix_rt::test]
async fn temporary_stays_stopped_after_normal_exit() {
    check(
        RestartPolicy::Temporary,
        Exit::Normal,
        false,
        NodeState::Stopped,
        None,
    )
    .await;
}

#[actix_rt::test]
async fn temporary_fails_after_failure() {
    check(
        RestartPolicy::Temporary,
        Exit::Fail,
        false,
        NodeState::Failed,
        Some("boom"),
    )
    .await;
}

#[actix_rt::test]
async fn temporary_fails_after_panic() {
    check(
        RestartPolicy::Temporary,
        Exit::Panic,
        false,
        NodeState::Failed,
        Some("panicked"),
    )
    .await;
}

#[actix_rt::test]
async fn failed_start_is_reported_and_retried_by_policy() {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    let sup = Supervisor::new(fast("root")).start();
    let attempts = Arc::new(AtomicU32::new(0));
    let counter = attempts.clone();
    let spec = ChildSpec::new(
        "flaky",
        "worker",
        RestartPolicy::Transient,
        move |cx: ChildContext| match counter.fetch_add(1, Ordering::SeqCst) {
            0 => Err("port busy".to_owned()),
            1 => panic!("start function blew up"),
            _ => Ok(cx.start_actor(|guard| Crashy2 { _guard: guard }).1),
        },
    );
    let err = sup.send(StartChild(spec)).await.unwrap().unwrap_err();
    assert_eq!(
        err,
        ActorError::StartFailed {
            name: "flaky".into(),
            reason: "port busy".into()
        }
    );
    let node = eventually(&sup, |n| state_of(n, "flaky") == NodeState::Running).await;
    let child = node.child("flaky").unwrap();
    assert_eq!(child.restarts, 2);
    assert_eq!(child.last_error.as_deref(), Some("start function panicked"));
    sleep(20 * MS).await;
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        3,
        "stale notices from failed starts must be ignored"
    );
}

/// A leaf that just runs.
struct Crashy2 {
    _guard: ExitGuard,
}

impl Actor for Crashy2 {
    type Context = Context<Self>;
}
