//! Supervisor configuration.

use crate::backoff::Backoff;
use std::time::Duration;

/// Default mailbox capacity of a supervisor.
pub const DEFAULT_SUPERVISOR_MAILBOX: usize = 256;

/// Name, restart limits, backoff and timeouts of one supervisor.
#[derive(Debug, Clone, PartialEq)]
pub struct SupervisorConfig {
    pub(crate) name: String,
    pub(crate) kind: String,
    pub(crate) max_restarts: u32,
    pub(crate) period: Duration,
    pub(crate) backoff: Backoff,
    pub(crate) stable_after: Option<Duration>,
    pub(crate) mailbox_capacity: usize,
    pub(crate) snapshot_timeout: Duration,
    pub(crate) shutdown_timeout: Duration,
}

impl SupervisorConfig {
    /// Defaults: kind `"supervisor"`, at most 5 restarts per child within
    /// 60 s, backoff 100 ms doubling to 30 s, a child counts as stable
    /// after running for the backoff cap, mailbox of 256, snapshots bounded
    /// by 2 s, children given 5 s to stop when the supervisor stops.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            kind: "supervisor".to_owned(),
            max_restarts: 5,
            period: Duration::from_secs(60),
            backoff: Backoff::new(Duration::from_millis(100), Duration::from_secs(30)),
            stable_after: None,
            mailbox_capacity: DEFAULT_SUPERVISOR_MAILBOX,
            snapshot_timeout: Duration::from_secs(2),
            shutdown_timeout: Duration::from_secs(5),
        }
    }

    /// Sets the kind shown in snapshots (e.g. `"tenant"`).
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = kind.into();
        self
    }

    /// Gives up on a child that needs more than `max_restarts` restarts
    /// within `period`.
    pub fn intensity(mut self, max_restarts: u32, period: Duration) -> Self {
        self.max_restarts = max_restarts;
        self.period = period;
        self
    }

    /// Sets the backoff between consecutive restarts of a child.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// A child that ran at least this long before exiting restarts from the
    /// backoff's base delay again (default: the backoff cap).
    pub fn stable_after(mut self, uptime: Duration) -> Self {
        self.stable_after = Some(uptime);
        self
    }

    /// Sets the supervisor's own mailbox capacity.
    pub fn mailbox_capacity(mut self, capacity: usize) -> Self {
        self.mailbox_capacity = capacity;
        self
    }

    /// Bounds how long a snapshot waits for nested subtrees.
    pub fn snapshot_timeout(mut self, timeout: Duration) -> Self {
        self.snapshot_timeout = timeout;
        self
    }

    /// Bounds how long a stopping supervisor waits for its children to exit
    /// before it stops anyway (dropping, and so signalling, the stragglers).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// The supervisor's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The uptime after which a child's backoff starts over.
    pub(crate) fn stable_after_or_default(&self) -> Duration {
        self.stable_after.unwrap_or(self.backoff.cap())
    }
}
