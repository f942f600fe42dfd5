//! The supervisor's bookkeeping for one child.

use super::child::ChildHandle;
use super::spec::ChildSpec;
use crate::node::{unix_ms, ActorNode, NodeState};
use actix::SpawnHandle;
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Restart times within the intensity period, to detect restart storms.
#[derive(Debug)]
pub(crate) struct RestartWindow {
    max_restarts: u32,
    period: Duration,
    times: VecDeque<Instant>,
}

impl RestartWindow {
    pub(crate) fn new(max_restarts: u32, period: Duration) -> Self {
        Self {
            max_restarts,
            period,
            times: VecDeque::new(),
        }
    }

    /// Records a restart at `now`; false if that makes more than
    /// `max_restarts` within the period.
    pub(crate) fn admit(&mut self, now: Instant) -> bool {
        while self
            .times
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > self.period)
        {
            self.times.pop_front();
        }
        self.times.push_back(now);
        self.times.len() <= self.max_restarts as usize
    }

    /// Forgets past restarts (after a manual restart).
    pub(crate) fn reset(&mut self) {
        self.times.clear();
    }
}

/// What was explicitly asked of a running child, applied when it exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Intent {
    /// Nothing: an exit goes through the restart policy.
    None,
    /// `StopChild`: stay stopped.
    Stop,
    /// `RestartChild`: start again at once.
    Restart,
}

/// One child as the supervisor sees it.
#[derive(Debug)]
pub(crate) struct ChildRecord {
    pub(crate) spec: ChildSpec,
    pub(crate) state: NodeState,
    pub(crate) since: u64,
    pub(crate) generation: u64,
    pub(crate) handle: Option<ChildHandle>,
    pub(crate) restarts: u32,
    pub(crate) consecutive: u32,
    pub(crate) started_at: Instant,
    pub(crate) last_error: Option<String>,
    pub(crate) window: RestartWindow,
    pub(crate) pending_restart: Option<SpawnHandle>,
    pub(crate) intent: Intent,
    pub(crate) stop_waiters: Vec<oneshot::Sender<()>>,
}

impl ChildRecord {
    pub(crate) fn new(spec: ChildSpec, window: RestartWindow) -> Self {
        Self {
            spec,
            state: NodeState::Starting,
            since: unix_ms(),
            generation: 0,
            handle: None,
            restarts: 0,
            consecutive: 0,
            started_at: Instant::now(),
            last_error: None,
            window,
            pending_restart: None,
            intent: Intent::None,
            stop_waiters: Vec::new(),
        }
    }

    /// Whether the child is up or about to be.
    pub(crate) fn is_active(&self) -> bool {
        matches!(
            self.state,
            NodeState::Starting | NodeState::Running | NodeState::Restarting
        )
    }

    pub(crate) fn set_state(&mut self, state: NodeState) {
        self.state = state;
        self.since = unix_ms();
    }

    /// Marks the child stopped and releases everyone waiting for that.
    pub(crate) fn finish_stopped(&mut self) {
        self.set_state(NodeState::Stopped);
        for waiter in self.stop_waiters.drain(..) {
            let _ = waiter.send(());
        }
    }

    /// The supervisor's own view of the child, without grandchildren.
    pub(crate) fn node(&self) -> ActorNode {
        ActorNode {
            name: self.spec.name.clone(),
            kind: self.spec.kind.clone(),
            state: self.state,
            restarts: self.restarts,
            last_error: self.last_error.clone(),
            since: self.since,
            children: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_allows_max_restarts_per_period() {
        let mut w = RestartWindow::new(3, Duration::from_secs(10));
        let t0 = Instant::now();
        assert!(w.admit(t0));
        assert!(w.admit(t0 + Duration::from_secs(1)));
        assert!(w.admit(t0 + Duration::from_secs(2)));
        assert!(!w.admit(t0 + Duration::from_secs(3)));
    }

    #[test]
    fn window_forgets_old_restarts() {
        let mut w = RestartWindow::new(2, Duration::from_secs(10));
        let t0 = Instant::now();
        assert!(w.admit(t0));
        assert!(w.admit(t0 + Duration::from_secs(5)));
        assert!(w.admit(t0 + Duration::from_secs(11)));
        assert!(!w.admit(t0 + Duration::from_secs(12)));
        w.reset();
        assert!(w.admit(t0 + Duration::from_secs(13)));
    }

    #[test]
    fn zero_max_restarts_never_admits() {
        let mut w = RestartWindow::new(0, Duration::from_secs(1));
        assert!(!w.admit(Instant::now()));
    }
}
