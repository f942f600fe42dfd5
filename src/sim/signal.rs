//! Deterministic signal models for the simulated agents: every value is a pure function of
//! `(seed, tick, salt)`, computed in O(1) (no state, no replay of earlier ticks), and shaped like
//! what real hosts report rather than like independent noise.
//!
//! What real hosts look like, and so what the models do:
//! * **CPU** ([`cpu`]): a per-host typical load, slow wander over minutes to hours, and bursts
//!   (a job, a build, a backup) that lift the load for a few samples and drop back; on top, the
//!   sampling noise of a utilisation averaged over one interval, a few percent of the level.
//!   Successive samples are close; bursts are steps.
//! * **Memory** ([`memory`]): used memory drifts slowly (caches and heaps grow and shrink over
//!   hours), changes in steps when a service starts, stops or is restarted, and otherwise moves
//!   by a few MB between samples (allocation churn), i.e. hundredths of a percent.
//! * **Counters** ([`counter`]: network and disk bytes, I/O operations): strictly increasing, with
//!   a rate that wanders around its mean over minutes, varies ±5 % between samples, and has
//!   bursts of several times the mean for a few samples (a transfer, a flush), after which the
//!   rate runs below the mean for a while, so the long-run mean holds.
//!
//! How, in O(1): smooth value noise (random knots every `period` ticks, smoothstep between them)
//! gives autocorrelated wander; bursts are placed per fixed slot of ticks from the slot's own
//! random draws. A counter is `base + per_tick · (tick + F(tick))` with `F` bounded, so its rate
//! `per_tick · (1 + F(tick + 1) − F(tick))` is whatever shape `F`'s slope has, and the slopes are
//! bounded so that the rate stays positive (the counter strictly increases).

/// A deterministic pseudo-random number in `0.0..1.0` for `(seed, tick, salt)` (SplitMix64).
pub(crate) fn noise(seed: u64, tick: u64, salt: u64) -> f64 {
    let mut z = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(tick.wrapping_mul(0xBF58_476D_1CE4_E5B9))
        .wrapping_add(salt.wrapping_mul(0x94D0_49BB_1331_11EB));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Salts of the independent random streams one signal draws from (mixed into the caller's salt).
const KNOTS: u64 = 0x1000;
const BURST: u64 = 0x2000;
const STEP: u64 = 0x3000;
const JITTER: u64 = 0x4000;

/// Smooth value noise in `-1.0..=1.0`: a random knot every `period` ticks, smoothstep between
/// knots (slope at most `3 / period` per tick).
fn smooth(seed: u64, tick: u64, salt: u64, period: u64) -> f64 {
    let period = period.max(1);
    // A per-stream offset so the knots of different signals are not aligned.
    let shifted = tick + (noise(seed, 0, salt ^ KNOTS) * period as f64) as u64;
    let k = shifted / period;
    let f = (shifted % period) as f64 / period as f64;
    let a = 2.0 * noise(seed, k, salt ^ KNOTS) - 1.0;
    let b = 2.0 * noise(seed, k + 1, salt ^ KNOTS) - 1.0;
    a + (b - a) * f * f * (3.0 - 2.0 * f)
}

/// Symmetric sampling noise in `-1.0..1.0`, independent per tick.
fn jitter(seed: u64, tick: u64, salt: u64) -> f64 {
    2.0 * noise(seed, tick, salt ^ JITTER) - 1.0
}

/// A burst in the slot of `tick`: `(start, length, height in 0..1)` of the slot's burst, if it has
/// one (slots of `slot` ticks, one in `1 / chance` has a burst of 2–`max_len` ticks).
fn burst(
    seed: u64,
    tick: u64,
    salt: u64,
    slot: u64,
    chance: f64,
    max_len: u64,
) -> Option<(u64, u64, f64)> {
    let s = tick / slot;
    let salt = salt ^ BURST;
    if noise(seed, s, salt) >= chance {
        return None;
    }
    let len = 2 + (noise(seed, s, salt + 1) * (max_len.saturating_sub(1)) as f64) as u64;
    let room = slot.saturating_sub(len).max(1);
    let start = s * slot + (noise(seed, s, salt + 2) * (room / 2) as f64) as u64;
    Some((start, len, noise(seed, s, salt + 3)))
}

/// The CPU load of a host as a fraction of its range, without sampling noise (what a
/// temperature sensor follows): typical level + slow wander + bursts, in `0.0..=1.0`.
pub(crate) fn cpu_level(seed: u64, tick: u64, salt: u64) -> f64 {
    let typical = 0.1 + 0.4 * noise(seed, 0, salt);
    let wander = 0.12 * smooth(seed, tick, salt, 360) + 0.05 * smooth(seed, tick, salt + 1, 30);
    let lift = match burst(seed, tick, salt, 60, 0.25, 15) {
        Some((start, len, height)) if (start..start + len).contains(&tick) => 0.2 + 0.4 * height,
        _ => 0.0,
    };
    (typical + wander + lift).clamp(0.0, 1.0)
}

/// CPU utilisation between `low` and `high` (see the module docs): [`cpu_level`] plus the
/// sampling noise of an interval average, ±(0.3 % of the range + 4 % of the level).
pub(crate) fn cpu(seed: u64, tick: u64, salt: u64, low: f64, high: f64) -> f64 {
    let level = cpu_level(seed, tick, salt);
    let noisy = level + jitter(seed, tick, salt) * (0.003 + 0.04 * level);
    low + (high - low) * noisy.clamp(0.0, 1.0)
}

/// Memory in use between `low` and `high` (fractions or bytes; see the module docs): a per-host
/// typical level, slow drift (hours), a step every few hours when a service starts or stops, and
/// ±0.02 % of the range of churn between samples.
pub(crate) fn memory(seed: u64, tick: u64, salt: u64, low: f64, high: f64) -> f64 {
    let typical = 0.3 + 0.4 * noise(seed, 0, salt);
    let drift = 0.1 * smooth(seed, tick, salt, 2_880);
    // Service level: constant over slots of 720 ticks, a new level in about half of them.
    let slot = tick / 720;
    let changed = |s: u64| noise(seed, s, salt ^ STEP) < 0.5;
    let mut s = slot;
    while s > 0 && !changed(s) && slot - s < 8 {
        s -= 1;
    }
    let step = 0.12 * (noise(seed, s, salt ^ STEP ^ 1) - 0.5);
    let churn = 0.000_2 * jitter(seed, tick, salt);
    let value = (typical + drift + step + churn).clamp(0.0, 1.0);
    low + (high - low) * value
}

/// A cumulative counter growing by `per_tick` per tick on average, strictly increasing, with an
/// autocorrelated, bursty rate (see the module docs).
pub(crate) fn counter(seed: u64, tick: u64, salt: u64, base: u64, per_tick: u64) -> u64 {
    let f = rate_offset(seed, tick, salt);
    let total = tick as f64 + f;
    base.saturating_add((total.max(0.0) * per_tick as f64) as u64)
        .saturating_add(tick)
        .max(1)
}

/// `F(tick)` of [`counter`]: bounded, with `F(t + 1) − F(t) > −0.8` for every `t` (wander slopes
/// ≤ 0.3 + 0.15, sampling noise ≤ 0.05, burst payback ≤ 32 / 116 < 0.28).
fn rate_offset(seed: u64, tick: u64, salt: u64) -> f64 {
    // Wander: minutes (period 120) and tens of seconds (period 20).
    let wander = 12.0 * smooth(seed, tick, salt, 120) + 1.0 * smooth(seed, tick, salt + 1, 20);
    let sample = 0.025 * jitter(seed, tick, salt);
    // A burst adding 1–4× the mean rate for 2–8 ticks, paid back over the rest of its slot.
    const SLOT: u64 = 240;
    let payback = match burst(seed, tick, salt, SLOT, 0.5, 8) {
        Some((start, len, height)) => {
            let extra = (1.0 + 3.0 * height) * len as f64;
            let end = start + len;
            let slot_end = (tick / SLOT + 1) * SLOT;
            if tick < start {
                0.0
            } else if tick < end {
                extra * (tick - start) as f64 / len as f64
            } else {
                // Back to zero at the slot's end (the burst ends by mid-slot + len / 2).
                extra * (slot_end - tick) as f64 / (slot_end - end) as f64
            }
        }
        None => 0.0,
    };
    wander + sample + payback
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mean absolute change between consecutive ticks over `n` ticks.
    fn mean_step(n: u64, f: impl Fn(u64) -> f64) -> f64 {
        (1..n).map(|t| (f(t) - f(t - 1)).abs()).sum::<f64>() / (n - 1) as f64
    }

    #[test]
    fn signals_are_deterministic_and_in_range() {
        for seed in 0..20 {
            for tick in (0..20_000).step_by(7) {
                let c = cpu(seed, tick, 1, 3.0, 85.0);
                assert!((3.0..=85.0).contains(&c), "{c}");
                assert_eq!(c, cpu(seed, tick, 1, 3.0, 85.0));
                let m = memory(seed, tick, 2, 0.25, 0.8);
                assert!((0.25..=0.8).contains(&m), "{m}");
                assert!((0.0..=1.0).contains(&cpu_level(seed, tick, 1)));
            }
        }
    }

    #[test]
    fn counters_strictly_increase_with_the_mean_rate() {
        for seed in 0..10 {
            let mut previous = 0;
            let mut rates = Vec::new();
            for tick in 0..10_000 {
                let c = counter(seed, tick, 8, 500 << 30, 90_000_000);
                assert!(c > previous, "seed {seed} tick {tick}");
                if tick > 0 {
                    rates.push((c - previous) as f64);
                }
                previous = c;
            }
            let mean = rates.iter().sum::<f64>() / rates.len() as f64;
            assert!((mean / 9e7 - 1.0).abs() < 0.01, "{mean}");
            let max = rates.iter().cloned().fold(0.0, f64::max);
            assert!(max > 2.5 * mean, "bursts: max {max} mean {mean}");
        }
    }

    #[test]
    fn successive_samples_are_autocorrelated_not_independent() {
        // For independent draws the mean step is about a third of the spread; real gauges move
        // much less between samples than over a day.
        let n = 8_640;
        for seed in 0..5 {
            let c = |t| cpu(seed, t, 1, 0.0, 100.0);
            let m = |t| memory(seed, t, 2, 0.0, 100.0);
            let spread = |f: &dyn Fn(u64) -> f64| {
                let v: Vec<f64> = (0..n).map(f).collect();
                v.iter().cloned().fold(f64::MIN, f64::max)
                    - v.iter().cloned().fold(f64::MAX, f64::min)
            };
            assert!(mean_step(n, c) < spread(&c) / 10.0);
            assert!(mean_step(n, m) < spread(&m) / 50.0);
            assert!(
                mean_step(n, m) < 0.05,
                "memory moves by hundredths of a percent"
            );
        }
    }
}
