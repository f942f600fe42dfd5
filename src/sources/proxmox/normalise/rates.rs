//! Byte rates from the cumulative guest counters (`netin`, `netout`, `diskread`, `diskwrite`).
//!
//! [`GuestRates`] remembers the last sample per guest under a node-independent key
//! (`pve:<instance>:<type>:<vmid>`, reference §1.6), so a live migration keeps the baseline. A rate
//! exists only when it can be trusted: not for a first sample, not for a counter that went
//! backwards (guest restart: the new value becomes the baseline), not over a non-positive or
//! longer-than-[`MAX_INTERVAL_MS`] interval, and never above [`MAX_RATE`] — the shared rule of
//! [`rate_between`]. Samples not refreshed for [`MAX_INTERVAL_MS`] are dropped by
//! [`GuestRates::sweep`], so memory follows the guest count.

use std::collections::HashMap;

use pulse_model::Timestamp;

use crate::sources::rates::rate_between;
pub use crate::sources::rates::{MAX_INTERVAL_MS, MAX_RATE};

/// The four cumulative counters of a guest, in `netin, netout, diskread, diskwrite` order.
pub type Counters = [Option<u64>; 4];
/// The matching rates in bytes per second.
pub type Rates = [Option<f64>; 4];

/// One remembered sample.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Timestamp,
    counters: Counters,
}

/// Per-guest counter baselines (see the module docs).
#[derive(Debug, Default)]
pub struct GuestRates {
    samples: HashMap<String, Sample>,
}

impl GuestRates {
    /// An empty tracker.
    pub fn new() -> Self {
        GuestRates::default()
    }

    /// The rate key of a guest: node-independent so migration keeps the baseline.
    pub fn key(instance: &str, kind: &str, vmid: u64) -> String {
        format!("pve:{instance}:{kind}:{vmid}")
    }

    /// Records `counters` observed at `at` and returns the rates since the previous sample.
    pub fn observe(&mut self, key: &str, at: Timestamp, counters: Counters) -> Rates {
        let Some(previous) = self.samples.get_mut(key) else {
            self.samples.insert(key.to_owned(), Sample { at, counters });
            return [None; 4];
        };
        if at <= previous.at {
            // The same (or an older) observation again: keep the baseline, report nothing.
            return [None; 4];
        }
        let mut rates = [None; 4];
        for (rate, (now, before)) in rates
            .iter_mut()
            .zip(counters.iter().zip(previous.counters.iter()))
        {
            if let (Some(now), Some(before)) = (now, before) {
                *rate = rate_between(*before, previous.at, *now, at);
            }
        }
        *previous = Sample { at, counters };
        rates
    }

    /// Drops baselines not refreshed within [`MAX_INTERVAL_MS`] before `now`.
    pub fn sweep(&mut self, now: Timestamp) {
        self.samples
            .retain(|_, s| now.as_millis() - s.at.as_millis() <= MAX_INTERVAL_MS);
    }

    /// How many baselines are remembered.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether no baseline is remembered.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_millis(s * 1000)
    }

    #[test]
    fn rates_across_polls_resets_and_gaps() {
        let mut rates = GuestRates::new();
        let key = GuestRates::key("a", "qemu", 100);
        assert_eq!(key, "pve:a:qemu:100");
        assert_eq!(
            rates.observe(&key, at(0), [Some(1000), Some(0), None, Some(5)]),
            [None; 4]
        );
        assert_eq!(
            rates.observe(&key, at(10), [Some(2000), Some(100), Some(7), Some(5)]),
            [Some(100.0), Some(10.0), None, Some(0.0)]
        );
        // Same timestamp again: no rate, baseline kept.
        assert_eq!(
            rates.observe(&key, at(10), [Some(9000), None, None, None]),
            [None; 4]
        );
        // Counter reset (guest restarted): no negative rate, new baseline.
        assert_eq!(
            rates.observe(&key, at(20), [Some(50), Some(200), Some(7), Some(5)]),
            [None, Some(10.0), Some(0.0), Some(0.0)]
        );
        assert_eq!(
            rates.observe(&key, at(30), [Some(150), Some(200), Some(7), Some(5)]),
            [Some(10.0), Some(0.0), Some(0.0), Some(0.0)]
        );
        // A gap longer than the maximum interval: no rate, new baseline.
        assert_eq!(
            rates.observe(&key, at(30 + 601), [Some(10_000), None, None, None]),
            [None; 4]
        );
        // Implausible jump: no rate.
        assert_eq!(
            rates.observe(&key, at(632), [Some(u64::MAX), None, None, None])[0],
            None
        );
    }

    #[test]
    fn sweep_bounds_memory() {
        let mut rates = GuestRates::new();
        rates.observe("x", at(0), [Some(1); 4]);
        rates.observe("y", at(500), [Some(1); 4]);
        rates.sweep(at(700));
        assert_eq!(rates.len(), 1);
        assert!(!rates.is_empty());
    }
}
