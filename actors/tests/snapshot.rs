//! Snapshot contents: states, counters, nesting, JSON shape, timeouts.

mod common;

use actix::prelude::*;
use common::*;
use pulse_actors::Supervisor; // shadows actix::prelude::Supervisor
use pulse_actors::*;
use std::time::{Duration, Instant};

#[actix_rt::test]
async fn snapshot_reports_restarts_and_last_error() {
    let sup = Supervisor::new(fast("root").kind("root")).start();
    let probe = Probe::default();
    sup.send(StartChild(probe.spec("w", RestartPolicy::Permanent)))
        .await
        .unwrap()
        .unwrap();
    let before = snapshot(&sup).await;
    let child = before.child("w").unwrap().clone();
    assert_eq!(
        (child.state, child.restarts, child.last_error.clone()),
        (NodeState::Running, 0, None)
    );
    assert_eq!(child.kind, "worker");
    assert!(child.since > 1_600_000_000_000, "since is unix ms");

    probe.addr().do_send(Exit::Fail);
    probe.wait_starts(2).await;
    probe.addr().do_send(Exit::Panic);
    probe.wait_starts(3).await;
    let after = eventually(&sup, |n| state_of(n, "w") == NodeState::Running).await;
    let child = after.child("w").unwrap();
    assert_eq!(child.restarts, 2);
    assert_eq!(child.last_error.as_deref(), Some("panicked"));
    assert!(child.since >= before.child("w").unwrap().since);
    assert_eq!((after.name.as_str(), after.kind.as_str()), ("root", "root"));
}

#[actix_rt::test]
async fn snapshot_serialises_camel_case() {
    let sup = Supervisor::new(fast("root")).start();
    let probe = Probe::default();
    sup.send(StartChild(probe.spec("w", RestartPolicy::Transient)))
        .await
        .unwrap()
        .unwrap();
    sup.send(StopChild("w".into())).await.unwrap().unwrap();
    let json = serde_json::to_value(snapshot(&sup).await).unwrap();
    let child = &json["children"][0];
    assert_eq!(child["name"], "w");
    assert_eq!(child["state"], "stopped");
    assert_eq!(child["restarts"], 0);
    assert!(child["lastError"].is_null());
    assert!(child["since"].is_u64());
    assert_eq!(json["state"], "running");
    assert_eq!(json["kind"], "supervisor");
    let keys: Vec<_> = child.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys.len(), 7, "{keys:?}");
    // And back.
    let parsed: ActorNode = serde_json::from_value(json).unwrap();
    assert_eq!(parsed.child("w").unwrap().state, NodeState::Stopped);
}

#[actix_rt::test]
async fn nested_supervisors_appear_in_the_tree() {
    let root = Supervisor::new(fast("root")).start();
    let (registry, collector) = (Probe::default(), Probe::default());
    let (r, c) = (registry.clone(), collector.clone());
    let tenant = fast("tenant:default").kind("tenant");
    let spec = ChildSpec::supervisor(tenant, RestartPolicy::Permanent, move |_tenant| {
        vec![
            r.spec("registry", RestartPolicy::Permanent),
            c.spec("collector", RestartPolicy::Transient),
        ]
    });
    root.send(StartChild(spec)).await.unwrap().unwrap();
    let leaf = Probe::default();
    root.send(StartChild(leaf.spec("web", RestartPolicy::Permanent)))
        .await
        .unwrap()
        .unwrap();

    registry.addr().do_send(Exit::Fail);
    let tree = eventually(&root, |n| {
        n.find(&["tenant:default", "registry"])
            .is_some_and(|r| r.restarts == 1 && r.state == NodeState::Running)
    })
    .await;
    let names: Vec<_> = tree.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["tenant:default", "web"]);
    let tenant = tree.child("tenant:default").unwrap();
    assert_eq!(
        (tenant.kind.as_str(), tenant.state),
        ("tenant", NodeState::Running)
    );
    let inner: Vec<_> = tenant
        .children
        .iter()
        .map(|c| (c.name.as_str(), c.kind.as_str()))
        .collect();
    assert_eq!(inner, [("registry", "worker"), ("collector", "worker")]);
    assert_eq!(
        tree.find(&["tenant:default", "registry"])
            .unwrap()
            .last_error
            .as_deref(),
        Some("boom")
    );
    assert!(tree.child("web").unwrap().children.is_empty());
}

#[actix_rt::test]
async fn restarting_a_nested_supervisor_restarts_its_subtree() {
    let root = Supervisor::new(fast("root")).start();
    let registry = Probe::default();
    let r = registry.clone();
    let spec = ChildSpec::supervisor(fast("tenant"), RestartPolicy::Permanent, move |_| {
        vec![r.spec("registry", RestartPolicy::Permanent)]
    });
    root.send(StartChild(spec)).await.unwrap().unwrap();
    let old = registry.addr();

    root.send(RestartChild("tenant".into()))
        .await
        .unwrap()
        .unwrap();
    registry.wait_starts(2).await;
    let tree = eventually(&root, |n| {
        n.find(&["tenant", "registry"])
            .is_some_and(|r| r.state == NodeState::Running)
    })
    .await;
    assert!(!old.connected(), "old subtree was stopped first");
    assert_eq!(registry.overlaps(), 0);
    assert_eq!(tree.child("tenant").unwrap().restarts, 1);
    // A fresh supervisor: the grandchild's counters start over.
    assert_eq!(tree.find(&["tenant", "registry"]).unwrap().restarts, 0);

    root.send(StopChild("tenant".into()))
        .await
        .unwrap()
        .unwrap();
    let tree = snapshot(&root).await;
    assert_eq!(state_of(&tree, "tenant"), NodeState::Stopped);
    assert!(tree.child("tenant").unwrap().children.is_empty());
    assert!(
        !registry.addr().connected(),
        "StopChild of a subtree resolves after its leaves are gone"
    );
}

/// A leaf that claims a subtree but never answers for it in time.
struct Stuck {
    _guard: ExitGuard,
}

impl Actor for Stuck {
    type Context = Context<Self>;
}

impl Handler<SubtreeSnapshot> for Stuck {
    type Result = ResponseFuture<ActorNode>;

    fn handle(&mut self, _: SubtreeSnapshot, _: &mut Context<Self>) -> Self::Result {
        Box::pin(async {
            actix_rt::time::sleep(Duration::from_secs(30)).await;
            unreachable!("the snapshot gave up long before")
        })
    }
}

#[actix_rt::test]
async fn a_stuck_subtree_cannot_hang_the_snapshot() {
    let root = Supervisor::new(fast("root").snapshot_timeout(100 * MS)).start();
    let stuck = ChildSpec::new(
        "stuck",
        "custom",
        RestartPolicy::Permanent,
        |cx: ChildContext| {
            let (addr, handle) = cx.start_actor(|guard| Stuck { _guard: guard });
            Ok(handle.with_subtree(addr.recipient()))
        },
    );
    root.send(StartChild(stuck)).await.unwrap().unwrap();
    let nested = ChildSpec::supervisor(fast("tenant"), RestartPolicy::Permanent, |_| {
        vec![ChildSpec::new(
            "inner-stuck",
            "custom",
            RestartPolicy::Permanent,
            |cx: ChildContext| {
                let (addr, handle) = cx.start_actor(|guard| Stuck { _guard: guard });
                Ok(handle.with_subtree(addr.recipient()))
            },
        )]
    });
    root.send(StartChild(nested)).await.unwrap().unwrap();

    let started = Instant::now();
    let tree = snapshot(&root).await;
    let took = started.elapsed();
    assert!(took >= 90 * MS && took < 500 * MS, "took {took:?}");
    assert_eq!(state_of(&tree, "stuck"), NodeState::Running);
    assert!(tree.child("stuck").unwrap().children.is_empty());
    // The nested supervisor answered within its shorter budget, so its own
    // (partial) subtree is present.
    assert_eq!(
        tree.find(&["tenant", "inner-stuck"]).unwrap().state,
        NodeState::Running
    );
}
