//! The login limiter (SPEC §13): 10 attempts per minute per IP, and a 15-minute lockout after 5
//! consecutive failures, counted per IP and per username.

use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::bounded::{BoundedMap, Evictable};
use super::rate_limited;
use super::window::WindowLimiter;
use crate::error::Result;

/// The numbers of the login limiter; `Default` is the SPEC's policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginPolicy {
    /// Attempts allowed per IP per `attempt_window` (10).
    pub attempts_per_window: u32,
    /// The window of the attempt rate (1 minute).
    pub attempt_window: Duration,
    /// Consecutive failures (per IP, and per username) that trigger a lockout (5). Failures further
    /// apart than `lockout` do not add up.
    pub max_failures: u32,
    /// How long a lockout lasts (15 minutes).
    pub lockout: Duration,
    /// Most IPs, and most usernames, remembered at once (10 000 each).
    pub max_keys: usize,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        Self {
            attempts_per_window: 10,
            attempt_window: Duration::from_secs(60),
            max_failures: 5,
            lockout: Duration::from_secs(15 * 60),
            max_keys: 10_000,
        }
    }
}

/// Consecutive failures of one IP or username, and its lockout if any.
struct Failures {
    count: u32,
    locked_since: Option<Instant>,
    last_seen: Instant,
    lockout: Duration,
}

impl Failures {
    /// Remaining lockout at `now`, if locked.
    fn locked_for(&self, now: Instant) -> Option<Duration> {
        let since = self.locked_since?;
        let elapsed = now.saturating_duration_since(since);
        (elapsed < self.lockout).then(|| self.lockout - elapsed)
    }

    /// Counts one failure at `now`; locks when the count reaches `max`.
    fn fail(&mut self, now: Instant, max: u32) {
        if self.locked_for(now).is_some() {
            return;
        }
        if self.locked_since.is_some()
            || now.saturating_duration_since(self.last_seen) >= self.lockout
        {
            self.count = 0;
            self.locked_since = None;
        }
        self.count += 1;
        self.last_seen = now;
        if self.count >= max {
            self.locked_since = Some(now);
            self.count = 0;
        }
    }
}

impl Evictable for Failures {
    fn is_idle(&self, now: Instant) -> bool {
        self.locked_for(now).is_none()
            && now.saturating_duration_since(self.last_seen) >= self.lockout
    }

    fn last_seen(&self) -> Instant {
        self.last_seen
    }
}

/// Failure bookkeeping per IP and per username.
struct FailureMaps {
    by_ip: BoundedMap<IpAddr, Failures>,
    by_user: BoundedMap<String, Failures>,
}

/// Guards `POST /api/login`: call [`LoginLimiter::check`] before verifying the password, then
/// [`LoginLimiter::record_failure`] or [`LoginLimiter::record_success`]. Shareable between threads.
pub struct LoginLimiter {
    policy: LoginPolicy,
    attempts: WindowLimiter<IpAddr>,
    failures: Mutex<FailureMaps>,
}

impl LoginLimiter {
    /// A limiter with the given policy (use `LoginPolicy::default()` for the SPEC's numbers).
    pub fn new(policy: LoginPolicy) -> Self {
        Self {
            attempts: WindowLimiter::new(
                policy.attempts_per_window,
                policy.attempt_window,
                policy.max_keys,
            ),
            failures: Mutex::new(FailureMaps {
                by_ip: BoundedMap::new(policy.max_keys),
                by_user: BoundedMap::new(policy.max_keys),
            }),
            policy,
        }
    }

    /// Whether a login attempt from `ip` for `username` may proceed at `now`: `rate_limited` while
    /// either is locked out (retry after the longer of the two lockouts) or when the IP exceeded its
    /// attempt rate; otherwise the attempt is counted.
    pub fn check(&self, ip: IpAddr, username: &str, now: Instant) -> Result<()> {
        {
            let mut maps = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
            let by_ip = maps.by_ip.get_mut(&ip).and_then(|f| f.locked_for(now));
            let by_user = maps
                .by_user
                .get_mut(&username.to_owned())
                .and_then(|f| f.locked_for(now));
            if let Some(wait) = by_ip.max(by_user) {
                return Err(rate_limited(wait));
            }
        }
        self.attempts.check(&ip, now)
    }

    /// Records a failed login (wrong password or unknown user) for both the IP and the username.
    pub fn record_failure(&self, ip: IpAddr, username: &str, now: Instant) {
        let mut maps = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let (max, lockout) = (self.policy.max_failures, self.policy.lockout);
        let fresh = || Failures {
            count: 0,
            locked_since: None,
            last_seen: now,
            lockout,
        };
        maps.by_ip.entry(&ip, now, fresh).fail(now, max);
        maps.by_user
            .entry(&username.to_owned(), now, fresh)
            .fail(now, max);
    }

    /// Records a successful login: the consecutive failures of the IP and the username start over.
    pub fn record_success(&self, ip: IpAddr, username: &str) {
        let mut maps = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        maps.by_ip.remove(&ip);
        maps.by_user.remove(&username.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn retry(r: Result<()>) -> u64 {
        match r {
            Err(Error::RateLimited { retry_after_secs }) => retry_after_secs,
            other => panic!("expected rate_limited, got {other:?}"),
        }
    }

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    #[test]
    fn ten_attempts_per_minute_per_ip() {
        let t0 = Instant::now();
        let limiter = LoginLimiter::new(LoginPolicy::default());
        for i in 0..10 {
            limiter.check(ip(1), &format!("user{i}"), t0).unwrap();
        }
        assert_eq!(
            retry(limiter.check(ip(1), "user", t0 + Duration::from_secs(1))),
            59
        );
        limiter.check(ip(2), "user", t0).unwrap();
        limiter
            .check(ip(1), "user", t0 + Duration::from_secs(60))
            .unwrap();
    }

    #[test]
    fn five_failures_lock_the_ip_and_the_username_for_15_minutes() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let limiter = LoginLimiter::new(LoginPolicy::default());
        for i in 0..4 {
            limiter.check(ip(1), "alice", at(i * 20)).unwrap();
            limiter.record_failure(ip(1), "alice", at(i * 20));
        }
        limiter.check(ip(1), "alice", at(80)).unwrap();
        limiter.record_failure(ip(1), "alice", at(80));

        assert_eq!(retry(limiter.check(ip(1), "bob", at(81))), 899, "IP locked");
        assert_eq!(
            retry(limiter.check(ip(2), "alice", at(81))),
            899,
            "username locked"
        );
        limiter.check(ip(2), "bob", at(81)).unwrap();
        assert_eq!(retry(limiter.check(ip(1), "alice", at(80 + 899))), 1);
        limiter.check(ip(1), "alice", at(80 + 900)).unwrap();
        limiter.record_failure(ip(1), "alice", at(80 + 900));
        limiter.check(ip(1), "alice", at(80 + 901)).unwrap();
    }

    #[test]
    fn success_resets_and_spread_out_failures_do_not_add_up() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let limiter = LoginLimiter::new(LoginPolicy::default());
        for i in 0..4 {
            limiter.record_failure(ip(1), "alice", at(i));
        }
        limiter.record_success(ip(1), "alice");
        for i in 0..4 {
            limiter.record_failure(ip(1), "alice", at(10 + i));
        }
        limiter.check(ip(1), "alice", at(20)).unwrap();

        for i in 0..10 {
            limiter.record_failure(ip(3), "carol", at(1_000 * (i + 1)));
        }
        limiter.check(ip(3), "carol", at(20_000)).unwrap();
    }

    #[test]
    fn lockout_wait_is_the_longer_of_ip_and_username() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let limiter = LoginLimiter::new(LoginPolicy::default());
        for i in 0..5 {
            limiter.record_failure(ip(1), &format!("u{i}"), at(0));
        }
        for i in 0..5 {
            limiter.record_failure(ip(i + 10), "alice", at(100));
        }
        assert_eq!(retry(limiter.check(ip(1), "alice", at(100))), 900);
        assert_eq!(retry(limiter.check(ip(1), "bob", at(100))), 800);
    }

    #[test]
    fn memory_is_bounded() {
        let t0 = Instant::now();
        let policy = LoginPolicy {
            max_keys: 100,
            ..LoginPolicy::default()
        };
        let limiter = LoginLimiter::new(policy);
        for n in 0..5_000u32 {
            let addr = IpAddr::from(n.to_be_bytes());
            limiter.record_failure(addr, &n.to_string(), t0);
        }
        let maps = limiter.failures.lock().unwrap();
        assert!(maps.by_ip.len() <= 100 && maps.by_user.len() <= 100);
    }
}
