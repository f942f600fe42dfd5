//! Fault knobs of the TrueNAS simulator, adjustable while it runs (share them with `Arc`). Method
//! knobs take JSON-RPC method names and apply to the REST twin of the method too.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Runtime-adjustable faults.
#[derive(Debug)]
pub struct TruenasFaults {
    auth_failure: AtomicBool,
    websocket_disabled: AtomicBool,
    notifications: AtomicBool,
    generation: AtomicU64,
    disconnect_every: AtomicU64,
    requests: AtomicU64,
    logins: AtomicU64,
    failing: Mutex<HashSet<String>>,
    unknown: Mutex<HashSet<String>>,
    slow: Mutex<HashMap<String, Duration>>,
    calls: Mutex<HashMap<String, u64>>,
}

impl Default for TruenasFaults {
    fn default() -> Self {
        TruenasFaults {
            auth_failure: AtomicBool::new(false),
            websocket_disabled: AtomicBool::new(false),
            notifications: AtomicBool::new(true),
            generation: AtomicU64::new(0),
            disconnect_every: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            logins: AtomicU64::new(0),
            failing: Mutex::new(HashSet::new()),
            unknown: Mutex::new(HashSet::new()),
            slow: Mutex::new(HashMap::new()),
            calls: Mutex::new(HashMap::new()),
        }
    }
}

impl TruenasFaults {
    /// Rejects every login (`AUTH_ERR`, `false`, REST 401).
    pub fn set_auth_failure(&self, on: bool) {
        self.auth_failure.store(on, Ordering::SeqCst);
    }

    /// Answers `/api/current` with 404 even on a version that has it.
    pub fn set_websocket_disabled(&self, on: bool) {
        self.websocket_disabled.store(on, Ordering::SeqCst);
    }

    /// Interleaves notifications with answers (on by default, as a real appliance does).
    pub fn set_notifications(&self, on: bool) {
        self.notifications.store(on, Ordering::SeqCst);
    }

    /// Drops every open WebSocket session: each closes at its next request, unanswered.
    pub fn drop_connections(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Closes a session, unanswered, on every `n`-th request it receives (0: never).
    pub fn set_disconnect_every(&self, n: u64) {
        self.disconnect_every.store(n, Ordering::SeqCst);
    }

    /// Makes `method` answer with a middleware error (JSON-RPC `-32001`, REST 500).
    pub fn set_failing(&self, method: &str, on: bool) {
        toggle(&self.failing, method, on);
    }

    /// Makes `method` unknown (JSON-RPC `-32601`, REST 404).
    pub fn set_unknown(&self, method: &str, on: bool) {
        toggle(&self.unknown, method, on);
    }

    /// Delays the answer of `method` by `delay` (zero removes the delay).
    pub fn set_slow(&self, method: &str, delay: Duration) {
        let mut slow = self.slow.lock().unwrap_or_else(PoisonError::into_inner);
        if delay.is_zero() {
            slow.remove(method);
        } else {
            slow.insert(method.to_owned(), delay);
        }
    }

    /// Turns every fault off (counters are kept).
    pub fn clear(&self) {
        self.set_auth_failure(false);
        self.set_websocket_disabled(false);
        self.set_disconnect_every(0);
        self.failing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.unknown
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.slow
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Requests received (JSON-RPC messages and REST requests).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Successful logins (one per WebSocket session).
    pub fn logins(&self) -> u64 {
        self.logins.load(Ordering::SeqCst)
    }

    /// How often `method` was called.
    pub fn calls(&self, method: &str) -> u64 {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(method)
            .copied()
            .unwrap_or(0)
    }

    /// Counts a request for `method`.
    pub(super) fn count(&self, method: &str) {
        self.requests.fetch_add(1, Ordering::SeqCst);
        *self
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(method.to_owned())
            .or_default() += 1;
    }

    /// Counts a successful login.
    pub(super) fn count_login(&self) {
        self.logins.fetch_add(1, Ordering::SeqCst);
    }

    /// Whether logins are refused.
    pub(super) fn auth_failure(&self) -> bool {
        self.auth_failure.load(Ordering::SeqCst)
    }

    /// Whether `/api/current` is switched off.
    pub(super) fn websocket_disabled(&self) -> bool {
        self.websocket_disabled.load(Ordering::SeqCst)
    }

    /// Whether notifications are interleaved.
    pub(super) fn notifications(&self) -> bool {
        self.notifications.load(Ordering::SeqCst)
    }

    /// The current connection generation.
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The disconnect period (0: never).
    pub(super) fn disconnect_every(&self) -> u64 {
        self.disconnect_every.load(Ordering::SeqCst)
    }

    /// Whether `method` fails.
    pub(super) fn is_failing(&self, method: &str) -> bool {
        self.failing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(method)
    }

    /// Whether `method` is unknown.
    pub(super) fn is_unknown(&self, method: &str) -> bool {
        self.unknown
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(method)
    }

    /// The delay of `method`, if any.
    pub(super) fn delay(&self, method: &str) -> Option<Duration> {
        self.slow
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(method)
            .copied()
    }
}

/// Adds or removes `method` in `set`.
fn toggle(set: &Mutex<HashSet<String>>, method: &str, on: bool) {
    let mut set = set.lock().unwrap_or_else(PoisonError::into_inner);
    if on {
        set.insert(method.to_owned());
    } else {
        set.remove(method);
    }
}
