//! Restart backoff, restart intensity, giving up and escalation.

mod common;

use actix::prelude::*;
use common::*;
use pulse_actors::Supervisor; // shadows actix::prelude::Supervisor
use pulse_actors::*;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[actix_rt::test]
async fn gives_up_after_intensity_and_escalates() {
    let sink = EscalationSink::default();
    let seen = sink.seen.clone();
    let config = fast("root").intensity(2, Duration::from_secs(10));
    let sup = Supervisor::new(config)
        .escalate_to(sink.start().recipient())
        .start();
    let sibling = Probe::default();
    sup.send(StartChild(sibling.spec("steady", RestartPolicy::Permanent)))
        .await
        .unwrap()
        .unwrap();
    let starts = Arc::new(AtomicU32::new(0));
    sup.send(StartChild(crashy("flaky", starts.clone())))
        .await
        .unwrap()
        .unwrap();

    let node = eventually(&sup, |n| state_of(n, "flaky") == NodeState::Failed).await;
    let flaky = node.child("flaky").unwrap();
    assert_eq!(flaky.restarts, 2);
    assert_eq!(flaky.last_error.as_deref(), Some("crashed on start"));
    sleep(30 * MS).await;
    assert_eq!(
        starts.load(Ordering::SeqCst),
        3,
        "no restarts after giving up"
    );

    let escalations = seen.lock().unwrap().clone();
    assert_eq!(
        escalations,
        vec![Escalation {
            path: vec!["root".into(), "flaky".into()],
            reason: "failed: crashed on start".into(),
            restarts: 2,
        }]
    );
    // The sibling never noticed.
    assert_eq!(state_of(&node, "steady"), NodeState::Running);
    assert_eq!(sibling.starts(), 1);
    assert_eq!(sibling.addr().send(Ping).await.unwrap(), 1);

    // An explicit restart revives the child with a fresh intensity budget.
    sup.send(RestartChild("flaky".into()))
        .await
        .unwrap()
        .unwrap();
    eventually(&sup, |n| {
        state_of(n, "flaky") == NodeState::Failed && n.child("flaky").unwrap().restarts == 5
    })
    .await;
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[actix_rt::test]
async fn nested_escalation_carries_the_full_path() {
    let sink = EscalationSink::default();
    let seen = sink.seen.clone();
    let root = Supervisor::new(fast("root"))
        .escalate_to(sink.start().recipient())
        .start();
    let starts = Arc::new(AtomicU32::new(0));
    let tenant = fast("tenant:default")
        .kind("tenant")
        .intensity(1, Duration::from_secs(10));
    let spec = ChildSpec::supervisor(tenant, RestartPolicy::Permanent, move |_| {
        vec![crashy("registry", starts.clone())]
    });
    root.send(StartChild(spec)).await.unwrap().unwrap();

    let node = eventually(&root, |n| {
        n.find(&["tenant:default", "registry"])
            .is_some_and(|r| r.state == NodeState::Failed)
    })
    .await;
    for _ in 0..100 {
        if !seen.lock().unwrap().is_empty() {
            break;
        }
        sleep(2 * MS).await;
    }
    let escalation = seen.lock().unwrap()[0].clone();
    assert_eq!(escalation.path, vec!["root", "tenant:default", "registry"]);
    assert_eq!(escalation.restarts, 1);
    // Giving up on a grandchild does not take the tenant supervisor down.
    let tenant = node.child("tenant:default").unwrap();
    assert_eq!(tenant.state, NodeState::Running);
    assert_eq!(tenant.restarts, 0);
}

#[actix_rt::test]
async fn restarts_are_delayed_by_exponential_backoff() {
    let config = SupervisorConfig::new("root")
        .backoff(Backoff::new(20 * MS, 80 * MS))
        .intensity(100, Duration::from_secs(10));
    let sup = Supervisor::new(config).start();
    let probe = Probe::default();
    sup.send(StartChild(probe.spec("w", RestartPolicy::Permanent)))
        .await
        .unwrap()
        .unwrap();
    for n in 1..=5 {
        probe.wait_starts(n).await;
        probe.addr().do_send(Exit::Fail);
    }
    probe.wait_starts(6).await;
    let times = probe.start_times();
    let gaps: Vec<_> = times.windows(2).map(|w| w[1] - w[0]).collect();
    let expected = [20, 40, 80, 80, 80];
    for (gap, want) in gaps.iter().zip(expected) {
        assert!(
            *gap >= want * MS,
            "gaps {gaps:?} shorter than backoff {expected:?}"
        );
        assert!(
            *gap < (want + 60) * MS,
            "gaps {gaps:?} much longer than backoff {expected:?}"
        );
    }
}

#[actix_rt::test]
async fn backoff_starts_over_once_a_child_was_stable() {
    let config = SupervisorConfig::new("root")
        .backoff(Backoff::new(10 * MS, Duration::from_secs(1)))
        .stable_after(40 * MS)
        .intensity(100, Duration::from_secs(10));
    let sup = Supervisor::new(config).start();
    let probe = Probe::default();
    sup.send(StartChild(probe.spec("w", RestartPolicy::Permanent)))
        .await
        .unwrap()
        .unwrap();
    let mut gaps = Vec::new();
    for n in 1..=5 {
        probe.wait_starts(n).await;
        sleep(50 * MS).await; // stable
        let crashed = std::time::Instant::now();
        // A failure rather than a panic: the panic hook's backtrace capture
        // can take longer than the delays measured here.
        probe.addr().do_send(Exit::Fail);
        probe.wait_starts(n + 1).await;
        gaps.push(crashed.elapsed());
    }
    // Without the reset the fifth delay would be 160 ms.
    assert!(gaps.iter().all(|g| *g < 100 * MS), "{gaps:?}");
}
