//! Test actors and helpers shared by the integration tests.
#![allow(dead_code)]

use actix::prelude::*;
use pulse_actors::Supervisor; // shadows actix::prelude::Supervisor
use pulse_actors::*;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const MS: Duration = Duration::from_millis(1);

/// A supervisor config with millisecond backoff and generous intensity.
pub fn fast(name: &str) -> SupervisorConfig {
    SupervisorConfig::new(name)
        .backoff(Backoff::new(MS, 5 * MS))
        .intensity(100, Duration::from_secs(10))
}

/// A supervised test actor that exits on command.
pub struct Worker {
    guard: ExitGuard,
    incarnation: u32,
}

impl Actor for Worker {
    type Context = Context<Self>;
}

/// Makes a [`Worker`] exit in a given way.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub enum Exit {
    /// `ctx.stop()` without failure.
    Normal,
    /// `guard.fail("boom")` then `ctx.stop()`.
    Fail,
    /// `panic!` inside the handler.
    Panic,
}

impl Handler<Exit> for Worker {
    type Result = ();

    fn handle(&mut self, exit: Exit, ctx: &mut Context<Self>) {
        match exit {
            Exit::Normal => ctx.stop(),
            Exit::Fail => {
                self.guard.fail("boom");
                ctx.stop();
            }
            Exit::Panic => panic!("worker {} told to panic", self.guard.name()),
        }
    }
}

/// Answers with the worker's incarnation number (1 = first start).
#[derive(Debug, Message)]
#[rtype(result = "u32")]
pub struct Ping;

impl Handler<Ping> for Worker {
    type Result = u32;

    fn handle(&mut self, _: Ping, _: &mut Context<Self>) -> u32 {
        self.incarnation
    }
}

/// Counts starts of a worker child and remembers its current address.
#[derive(Clone, Default)]
pub struct Probe {
    starts: Arc<AtomicU32>,
    current: Arc<Mutex<Option<Addr<Worker>>>>,
    started_at: Arc<Mutex<Vec<Instant>>>,
    overlaps: Arc<AtomicU32>,
}

impl Probe {
    pub fn spec(&self, name: &str, policy: RestartPolicy) -> ChildSpec {
        let probe = self.clone();
        ChildSpec::new(name, "worker", policy, move |cx: ChildContext| {
            let incarnation = probe.starts.fetch_add(1, Ordering::SeqCst) + 1;
            probe.started_at.lock().unwrap().push(Instant::now());
            if probe
                .current
                .lock()
                .unwrap()
                .as_ref()
                .is_some_and(|prev| prev.connected())
            {
                probe.overlaps.fetch_add(1, Ordering::SeqCst);
            }
            let (addr, handle) = cx.start_actor(|guard| Worker { guard, incarnation });
            *probe.current.lock().unwrap() = Some(addr);
            Ok(handle)
        })
    }

    pub fn starts(&self) -> u32 {
        self.starts.load(Ordering::SeqCst)
    }

    pub fn addr(&self) -> Addr<Worker> {
        self.current
            .lock()
            .unwrap()
            .clone()
            .expect("worker started")
    }

    /// How many starts happened while the previous incarnation was alive.
    pub fn overlaps(&self) -> u32 {
        self.overlaps.load(Ordering::SeqCst)
    }

    pub fn start_times(&self) -> Vec<Instant> {
        self.started_at.lock().unwrap().clone()
    }

    /// Waits until the worker has been started `n` times.
    pub async fn wait_starts(&self, n: u32) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.starts() < n {
            assert!(
                Instant::now() < deadline,
                "only {} starts, wanted {n}",
                self.starts()
            );
            sleep(MS).await;
        }
    }
}

/// A leaf that fails right after starting, every time.
pub struct Crashy {
    guard: ExitGuard,
}

impl Actor for Crashy {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.guard.fail("crashed on start");
        ctx.stop();
    }
}

/// A spec for a [`Crashy`] child that counts its starts.
pub fn crashy(name: &str, starts: Arc<AtomicU32>) -> ChildSpec {
    ChildSpec::new(
        name,
        "crashy",
        RestartPolicy::Permanent,
        move |cx: ChildContext| {
            starts.fetch_add(1, Ordering::SeqCst);
            Ok(cx.start_actor(|guard| Crashy { guard }).1)
        },
    )
}

/// Collects escalations that reach the root.
#[derive(Default)]
pub struct EscalationSink {
    pub seen: Arc<Mutex<Vec<Escalation>>>,
}

impl Actor for EscalationSink {
    type Context = Context<Self>;
}

impl Handler<Escalation> for EscalationSink {
    type Result = ();

    fn handle(&mut self, msg: Escalation, _: &mut Context<Self>) {
        self.seen.lock().unwrap().push(msg);
    }
}

pub async fn sleep(d: Duration) {
    actix_rt::time::sleep(d).await;
}

pub async fn snapshot(sup: &Addr<Supervisor>) -> ActorNode {
    sup.send(Snapshot).await.expect("supervisor alive")
}

/// Polls snapshots until `pred` holds (or panics after 5 s).
pub async fn eventually(sup: &Addr<Supervisor>, pred: impl Fn(&ActorNode) -> bool) -> ActorNode {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let node = snapshot(sup).await;
        if pred(&node) {
            return node;
        }
        assert!(
            Instant::now() < deadline,
            "condition never held; last snapshot: {node:#?}"
        );
        sleep(2 * MS).await;
    }
}

/// The state of child `name` in a snapshot.
pub fn state_of(node: &ActorNode, name: &str) -> NodeState {
    node.child(name).expect("child in snapshot").state
}

/// Waits until `addr`'s actor is gone (its mailbox closed); false after 1 s.
pub async fn disconnected<A: Actor>(addr: &Addr<A>) -> bool {
    let deadline = Instant::now() + Duration::from_secs(1);
    while addr.connected() {
        if Instant::now() > deadline {
            return false;
        }
        sleep(MS).await;
    }
    true
}
