//! Byte rates from cumulative counters (SPEC §4: "a counter reset never produces a negative or
//! huge rate"), for every source: [`rate_between`] is the one rule, [`CounterRates`] a keyed
//! tracker for single counters (agents), and the Proxmox guest tracker keeps four counters per
//! guest with the same rule.
//!
//! Agents report counters (bytes received, bytes read) that only grow until the host, container or
//! interface restarts. [`CounterRates`] remembers the last sample per counter and turns the next
//! one into bytes per second. A rate is produced only when it is trustworthy: no rate for a first
//! sample, after a reset (the counter went backwards), for a non-positive or over-long interval,
//! or when the result is implausible; in each of those cases the new sample becomes the baseline.
//!
//! Memory is bounded: [`CounterRates::sweep`] drops counters not observed for an hour, and a hard
//! cap on entries evicts the oldest tenth when reached.

use std::collections::HashMap;

use pulse_model::Timestamp;

/// Longest interval between two samples that still yields a rate (10 minutes).
pub const MAX_INTERVAL_MS: i64 = 10 * 60 * 1000;
/// Counters not observed for this long are dropped by [`CounterRates::sweep`] (1 hour).
pub const IDLE_EVICT_MS: u64 = 60 * 60 * 1000;
/// Default hard cap on remembered counters.
pub const DEFAULT_CAPACITY: usize = 1_000_000;
/// Largest plausible rate (10¹² B/s = 8 Tbit/s); anything above is a counter glitch.
pub const MAX_RATE: f64 = 1e12;

/// One remembered sample.
#[derive(Debug, Clone, Copy)]
struct Sample {
    /// Counter value.
    value: u64,
    /// When it was observed.
    at: Timestamp,
}

/// Derives per-second rates from cumulative counters keyed by name (e.g.
/// `agent:<id>:net:eth0:rx`).
#[derive(Debug)]
pub struct CounterRates {
    /// Last sample per counter key.
    samples: HashMap<String, Sample>,
    /// Most counters remembered.
    capacity: usize,
}

impl Default for CounterRates {
    fn default() -> Self {
        Self::new()
    }
}

impl CounterRates {
    /// An empty tracker with the [`DEFAULT_CAPACITY`].
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }

    /// An empty tracker remembering at most `capacity` counters (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        CounterRates {
            samples: HashMap::new(),
            capacity: capacity.max(1),
        }
    }

    /// Records `value` of counter `key` at `at` and returns its rate per second since the previous
    /// sample, or `None` when there is no trustworthy rate (see the module docs). The sample
    /// always becomes the new baseline.
    pub fn observe(&mut self, key: &str, value: u64, at: Timestamp) -> Option<f64> {
        let current = Sample { value, at };
        if let Some(previous) = self.samples.get_mut(key) {
            let previous = std::mem::replace(previous, current);
            return rate(previous, current);
        }
        if self.samples.len() >= self.capacity {
            self.evict_oldest();
        }
        self.samples.insert(key.to_owned(), current);
        None
    }

    /// Drops counters not observed for [`IDLE_EVICT_MS`] before `now`.
    pub fn sweep(&mut self, now: Timestamp) {
        self.samples
            .retain(|_, sample| now.millis_since(sample.at) <= IDLE_EVICT_MS);
    }

    /// Number of remembered counters.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether no counter is remembered.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Drops the oldest tenth of the counters (at least one), making room at the cap.
    fn evict_oldest(&mut self) {
        let count = (self.capacity / 10).clamp(1, self.samples.len());
        let mut times: Vec<i64> = self.samples.values().map(|s| s.at.as_millis()).collect();
        let (_, cutoff, _) = times.select_nth_unstable(count - 1);
        let cutoff = *cutoff;
        // Everything strictly older than the cutoff goes; ties at the cutoff fill the rest.
        self.samples.retain(|_, s| s.at.as_millis() >= cutoff);
        let mut ties = count.saturating_sub(times.len() - self.samples.len());
        self.samples.retain(|_, s| {
            if ties > 0 && s.at.as_millis() == cutoff {
                ties -= 1;
                false
            } else {
                true
            }
        });
    }
}

/// The rate between two samples, if trustworthy.
fn rate(previous: Sample, current: Sample) -> Option<f64> {
    rate_between(previous.value, previous.at, current.value, current.at)
}

/// Bytes per second from counter value `before` at `before_at` to `now` at `now_at`, or `None`
/// when untrustworthy: a non-positive or longer-than-[`MAX_INTERVAL_MS`] interval, a counter that
/// went backwards (reset), or a result above [`MAX_RATE`].
pub fn rate_between(before: u64, before_at: Timestamp, now: u64, now_at: Timestamp) -> Option<f64> {
    let elapsed_ms = now_at.as_millis().checked_sub(before_at.as_millis())?;
    if elapsed_ms <= 0 || elapsed_ms > MAX_INTERVAL_MS {
        return None;
    }
    let delta = now.checked_sub(before)?;
    let per_second = delta as f64 * 1000.0 / elapsed_ms as f64;
    (per_second.is_finite() && per_second <= MAX_RATE).then_some(per_second)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_millis(1_700_000_000_000 + seconds * 1000)
    }

    #[test]
    fn first_sample_has_no_rate_then_bytes_per_second() {
        let mut rates = CounterRates::new();
        assert_eq!(rates.observe("k", 1_000, at(0)), None);
        assert_eq!(rates.observe("k", 31_000, at(30)), Some(1_000.0));
        assert_eq!(rates.observe("k", 31_000, at(60)), Some(0.0));
    }

    #[test]
    fn reset_rebaselines() {
        let mut rates = CounterRates::new();
        rates.observe("k", 5_000_000, at(0));
        assert_eq!(
            rates.observe("k", 100, at(30)),
            None,
            "counter went backwards"
        );
        assert_eq!(
            rates.observe("k", 3_100, at(60)),
            Some(100.0),
            "new baseline"
        );
    }

    #[test]
    fn bad_intervals_rebaseline() {
        let mut rates = CounterRates::new();
        rates.observe("k", 0, at(0));
        assert_eq!(rates.observe("k", 10, at(0)), None, "zero interval");
        assert_eq!(rates.observe("k", 20, at(-5)), None, "clock went back");
        assert_eq!(
            rates.observe("k", 20 + 601 * 7, at(596)),
            None,
            "over 10 minutes"
        );
        assert_eq!(rates.observe("k", 20 + 601 * 7 + 70, at(606)), Some(7.0));
    }

    #[test]
    fn implausible_jumps_give_no_rate() {
        let mut rates = CounterRates::new();
        rates.observe("k", 0, at(0));
        assert_eq!(rates.observe("k", u64::MAX, at(1)), None);
    }

    #[test]
    fn counters_are_independent() {
        let mut rates = CounterRates::new();
        rates.observe("rx", 0, at(0));
        rates.observe("tx", 0, at(0));
        assert_eq!(rates.observe("rx", 100, at(10)), Some(10.0));
        assert_eq!(rates.observe("tx", 200, at(10)), Some(20.0));
    }

    #[test]
    fn sweep_drops_idle_counters() {
        let mut rates = CounterRates::new();
        rates.observe("old", 1, at(0));
        rates.observe("new", 1, at(3000));
        rates.sweep(at(3601));
        assert_eq!(rates.len(), 1);
        assert_eq!(
            rates.observe("old", 2, at(3602)),
            None,
            "forgotten: a first sample again"
        );
        rates.sweep(at(100_000));
        assert!(rates.is_empty());
    }

    #[test]
    fn hard_cap_evicts_the_oldest() {
        let mut rates = CounterRates::with_capacity(100);
        for i in 0..100 {
            rates.observe(&format!("k{i}"), 0, at(i));
        }
        assert_eq!(rates.len(), 100);
        rates.observe("fresh", 0, at(200));
        assert_eq!(rates.len(), 91, "ten oldest evicted, one added");
        assert_eq!(rates.observe("k0", 10, at(201)), None, "k0 was evicted");
        assert_eq!(rates.observe("k99", 101, at(200)), Some(1.0), "k99 kept");
    }

    #[test]
    fn hard_cap_with_equal_times_still_bounds() {
        let mut rates = CounterRates::with_capacity(10);
        for i in 0..1000 {
            rates.observe(&format!("k{i}"), 0, at(0));
            assert!(rates.len() <= 10);
        }
    }

    proptest! {
        #[test]
        fn rates_are_never_negative_nan_or_absurd(
            steps in proptest::collection::vec(
                (0u8..4, 0u64..1_000_000_000_000, -5_000i64..700_000),
                1..200,
            )
        ) {
            let mut rates = CounterRates::with_capacity(2);
            let mut value = 0u64;
            let mut now = 1_700_000_000_000i64;
            for (i, (kind, delta, dt)) in steps.into_iter().enumerate() {
                value = match kind {
                    0 => delta % 1000,                          // reset
                    1 => value.saturating_add(delta),            // growth
                    2 => u64::MAX - delta,                       // near wrap
                    _ => value,                                  // idle
                };
                now += dt;
                let key = ["a", "b", "c"][i % 3];
                if let Some(r) = rates.observe(key, value, Timestamp::from_millis(now)) {
                    prop_assert!(r.is_finite());
                    prop_assert!(r >= 0.0);
                    prop_assert!(r <= MAX_RATE);
                }
                prop_assert!(rates.len() <= 2);
            }
        }
    }
}
