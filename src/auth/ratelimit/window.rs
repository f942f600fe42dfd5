//! A sliding-window limiter: at most N events per window per key (e.g. 30 WebSocket connects per
//! minute per IP).

use std::collections::VecDeque;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::bounded::{BoundedMap, Evictable};
use super::rate_limited;
use crate::error::Result;

/// The recent events of one key, oldest first (never more than the limit).
struct Hits {
    times: VecDeque<Instant>,
    window: Duration,
    last_seen: Instant,
}

impl Hits {
    /// Forgets events that left the window.
    fn expire(&mut self, now: Instant) {
        while self
            .times
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= self.window)
        {
            self.times.pop_front();
        }
    }
}

impl Evictable for Hits {
    fn is_idle(&self, now: Instant) -> bool {
        self.times
            .back()
            .is_none_or(|&t| now.saturating_duration_since(t) >= self.window)
    }

    fn last_seen(&self) -> Instant {
        self.last_seen
    }
}

/// At most `limit` events per sliding `window` per key, tracking at most `max_keys` keys. Shareable
/// between threads (`&self` methods).
pub struct WindowLimiter<K> {
    limit: usize,
    window: Duration,
    keys: Mutex<BoundedMap<K, Hits>>,
}

impl<K: Hash + Eq + Clone> WindowLimiter<K> {
    /// A limiter allowing `limit` events per `window` per key (a limit of 0 refuses everything),
    /// remembering at most `max_keys` keys (the least recently seen are forgotten first).
    pub fn new(limit: u32, window: Duration, max_keys: usize) -> Self {
        Self {
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            window,
            keys: Mutex::new(BoundedMap::new(max_keys)),
        }
    }

    /// Records an event for `key` at `now` if allowed; otherwise `rate_limited` with the seconds until
    /// the oldest event leaves the window (the refused event is not counted).
    pub fn check(&self, key: &K, now: Instant) -> Result<()> {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        let window = self.window;
        let hits = keys.entry(key, now, || Hits {
            times: VecDeque::new(),
            window,
            last_seen: now,
        });
        hits.last_seen = now;
        hits.expire(now);
        if hits.times.len() >= self.limit {
            let waited = hits
                .times
                .front()
                .map_or(Duration::ZERO, |&t| now.saturating_duration_since(t));
            return Err(rate_limited(self.window.saturating_sub(waited)));
        }
        hits.times.push_back(now);
        Ok(())
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

    #[test]
    fn allows_n_per_window_then_slides() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let limiter = WindowLimiter::new(3, Duration::from_secs(60), 100);
        limiter.check(&"ip", at(0)).unwrap();
        limiter.check(&"ip", at(10)).unwrap();
        limiter.check(&"ip", at(20)).unwrap();
        assert_eq!(retry(limiter.check(&"ip", at(30))), 30);
        assert_eq!(retry(limiter.check(&"ip", at(59))), 1);
        limiter.check(&"other", at(59)).unwrap();
        limiter.check(&"ip", at(60)).unwrap();
        assert_eq!(retry(limiter.check(&"ip", at(61))), 9);
        limiter.check(&"ip", at(200)).unwrap();
    }

    #[test]
    fn sub_second_waits_round_up() {
        let t0 = Instant::now();
        let limiter = WindowLimiter::new(1, Duration::from_secs(60), 10);
        limiter.check(&1, t0).unwrap();
        let r = limiter.check(&1, t0 + Duration::from_millis(59_500));
        assert_eq!(retry(r), 1);
        let r = limiter.check(&1, t0 + Duration::from_millis(500));
        assert_eq!(retry(r), 60);
    }

    #[test]
    fn zero_limit_refuses_and_memory_is_bounded() {
        let t0 = Instant::now();
        let none = WindowLimiter::new(0, Duration::from_secs(60), 10);
        assert_eq!(retry(none.check(&1, t0)), 60);

        let limiter = WindowLimiter::new(1, Duration::from_secs(60), 50);
        for ip in 0..10_000u32 {
            limiter.check(&ip, t0).unwrap();
        }
        let len = limiter.keys.lock().unwrap().len();
        assert!(len <= 50, "{len}");
        assert_eq!(retry(limiter.check(&9_999, t0)), 60, "recent keys are kept");
    }
}
