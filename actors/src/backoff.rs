//! Jittered exponential backoff.
//!
//! Used by the supervisor to space out restarts and by
//! [`PeriodicSchedule`](crate::PeriodicSchedule) to slow down failing polls.

use rand::Rng;
use std::time::Duration;

/// Exponential backoff with a base, a cap and optional proportional jitter.
///
/// Attempt `n` has the nominal delay `min(cap, base * 2^n)`. With a jitter
/// fraction `f` the actual delay is drawn uniformly from
/// `(nominal * (1 - f), nominal]`, so jitter only ever shortens a delay:
/// it never exceeds the cap and it is never zero while `base > 0`.
/// A fraction of `1.0` is "full jitter".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    jitter: f64,
}

impl Backoff {
    /// Creates a backoff without jitter.
    ///
    /// The cap is a hard limit: a `base` larger than `cap` is lowered to it.
    pub fn new(base: Duration, cap: Duration) -> Self {
        Self {
            base: base.min(cap),
            cap,
            jitter: 0.0,
        }
    }

    /// Sets the jitter fraction, clamped to `0.0..=1.0` (NaN counts as 0).
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.jitter = if fraction.is_nan() {
            0.0
        } else {
            fraction.clamp(0.0, 1.0)
        };
        self
    }

    /// The delay of attempt 0.
    pub fn base(&self) -> Duration {
        self.base
    }

    /// The largest delay this backoff ever returns.
    pub fn cap(&self) -> Duration {
        self.cap
    }

    /// The configured jitter fraction.
    pub fn jitter_fraction(&self) -> f64 {
        self.jitter
    }

    /// The un-jittered delay of `attempt`: `min(cap, base * 2^attempt)`.
    pub fn nominal(&self, attempt: u32) -> Duration {
        1u32.checked_shl(attempt)
            .and_then(|factor| self.base.checked_mul(factor))
            .map_or(self.cap, |delay| delay.min(self.cap))
    }

    /// The jittered delay of `attempt`, using the thread-local RNG.
    pub fn delay(&self, attempt: u32) -> Duration {
        self.delay_with(attempt, &mut rand::thread_rng())
    }

    /// The jittered delay of `attempt`, drawing jitter from `rng`.
    ///
    /// Pass a seeded RNG (e.g. `StdRng::seed_from_u64`) for reproducible
    /// delays in tests.
    pub fn delay_with<R: Rng + ?Sized>(&self, attempt: u32, rng: &mut R) -> Duration {
        shorten(self.nominal(attempt), self.jitter, rng)
    }
}

/// Shortens `nominal` by a random share of up to `fraction` of it, keeping
/// the result above zero whenever `nominal` is.
pub(crate) fn shorten<R: Rng + ?Sized>(nominal: Duration, fraction: f64, rng: &mut R) -> Duration {
    if fraction <= 0.0 || nominal.is_zero() {
        return nominal;
    }
    let cut = nominal.mul_f64(fraction * rng.gen::<f64>());
    nominal.saturating_sub(cut).max(Duration::from_nanos(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn doubles_from_base_and_caps() {
        let b = Backoff::new(100 * MS, 1000 * MS);
        let got: Vec<_> = (0..6).map(|n| b.delay(n)).collect();
        assert_eq!(
            got,
            vec![100 * MS, 200 * MS, 400 * MS, 800 * MS, 1000 * MS, 1000 * MS]
        );
    }

    #[test]
    fn huge_attempts_saturate_at_cap() {
        let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(300));
        for n in [31, 32, 63, 64, u32::MAX] {
            assert_eq!(b.nominal(n), Duration::from_secs(300));
        }
        let max = Backoff::new(Duration::MAX, Duration::MAX);
        assert_eq!(max.nominal(5), Duration::MAX);
    }

    #[test]
    fn base_above_cap_is_lowered() {
        let b = Backoff::new(10 * MS, 5 * MS);
        assert_eq!(b.base(), 5 * MS);
        assert_eq!(b.delay(0), 5 * MS);
    }

    #[test]
    fn proportional_jitter_stays_in_band() {
        let b = Backoff::new(100 * MS, 10_000 * MS).jitter(0.25);
        let mut rng = StdRng::seed_from_u64(7);
        for attempt in 0..8 {
            let nominal = b.nominal(attempt);
            let mut distinct = std::collections::HashSet::new();
            for _ in 0..200 {
                let d = b.delay_with(attempt, &mut rng);
                assert!(d <= nominal, "{d:?} > {nominal:?}");
                assert!(d >= nominal.mul_f64(0.75), "{d:?} below band");
                distinct.insert(d);
            }
            assert!(distinct.len() > 50, "jitter should spread delays");
        }
    }

    #[test]
    fn full_jitter_never_zero_never_above_cap() {
        let b = Backoff::new(Duration::from_nanos(1), 3 * MS).jitter(1.0);
        let mut rng = StdRng::seed_from_u64(1);
        for attempt in 0..40 {
            for _ in 0..100 {
                let d = b.delay_with(attempt, &mut rng);
                assert!(d > Duration::ZERO);
                assert!(d <= 3 * MS);
            }
        }
    }

    #[test]
    fn seeded_rng_is_reproducible() {
        let b = Backoff::new(10 * MS, Duration::from_secs(1)).jitter(0.5);
        let run = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (0..10)
                .map(|n| b.delay_with(n, &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
    }

    #[test]
    fn jitter_fraction_is_clamped() {
        assert_eq!(Backoff::new(MS, MS).jitter(3.0).jitter_fraction(), 1.0);
        assert_eq!(Backoff::new(MS, MS).jitter(-1.0).jitter_fraction(), 0.0);
        assert_eq!(Backoff::new(MS, MS).jitter(f64::NAN).jitter_fraction(), 0.0);
    }

    #[test]
    fn zero_base_gives_zero() {
        let b = Backoff::new(Duration::ZERO, MS).jitter(1.0);
        assert_eq!(b.delay(0), Duration::ZERO);
        assert_eq!(b.delay(3), Duration::ZERO);
    }
}
