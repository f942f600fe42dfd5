//! Deterministic generators of realistic monitoring series, shared by tests, benches and examples
//! (included with `#[path]`; not part of the library API).
//!
//! One series polls every 10 s with a random phase and ±200 ms jitter, as a real poller does:
//! * `Cpu` — percent, mean-reverting random walk, rounded to 1 decimal like collectors do;
//! * `Memory` — used bytes, unchanged on ~70 % of polls, otherwise moving by 4 KiB–4 MiB;
//! * `Network` — bytes/s rounded to integers, idle chatter with occasional multi-MB/s bursts.

#![allow(dead_code)]

/// The kinds of series generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Cpu,
    Memory,
    Network,
}

/// All kinds, for iteration.
pub const KINDS: [Kind; 3] = [Kind::Cpu, Kind::Memory, Kind::Network];

/// Poll interval of generated series.
pub const INTERVAL_MS: i64 = 10_000;
/// Samples in one day at the poll interval.
pub const DAY_SAMPLES: usize = 8_640;

/// SplitMix64: small, fast, deterministic.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in [lo, hi].
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }

    /// Roughly normal (Irwin–Hall of 4), mean 0, sd ~1.
    pub fn normal(&mut self) -> f64 {
        ((0..4).map(|_| self.unit()).sum::<f64>() - 2.0) * 1.732
    }
}

/// Streaming generator of one series.
#[derive(Debug, Clone)]
pub struct SeriesGen {
    kind: Kind,
    rng: Rng,
    next_tick: i64,
    phase: i64,
    value: f64,
    target: f64,
    burst_left: u32,
    burst_level: f64,
}

impl SeriesGen {
    /// A series starting at `start_ms` (plus a random phase within the interval).
    pub fn new(kind: Kind, seed: u64, start_ms: i64) -> Self {
        let mut rng = Rng::new(seed.wrapping_mul(31).wrapping_add(kind as u64));
        let phase = rng.range(0, INTERVAL_MS - 1);
        let (value, target) = match kind {
            Kind::Cpu => {
                let t = rng.unit() * 60.0;
                (t, t)
            }
            Kind::Memory => {
                let v = (rng.range(1, 16) << 30) as f64 * 0.6;
                (v.round(), v.round())
            }
            Kind::Network => (1000.0, 1000.0),
        };
        SeriesGen {
            kind,
            rng,
            next_tick: start_ms,
            phase,
            value,
            target,
            burst_left: 0,
            burst_level: 0.0,
        }
    }

    /// The next `(timestamp, value)` sample.
    pub fn next_sample(&mut self) -> (i64, f64) {
        let ts = self.next_tick + self.phase + self.rng.range(-200, 200);
        self.next_tick += INTERVAL_MS;
        let v = match self.kind {
            Kind::Cpu => {
                if self.rng.unit() < 0.01 {
                    self.target = self.rng.unit() * 80.0;
                }
                self.value += 0.2 * (self.target - self.value) + 1.5 * self.rng.normal();
                self.value = self.value.clamp(0.0, 100.0);
                (self.value * 10.0).round() / 10.0
            }
            Kind::Memory => {
                if self.rng.unit() < 0.3 {
                    let magnitude = 4096.0 * 1024f64.powf(self.rng.unit());
                    let sign = if self.value > self.target { -1.0 } else { 1.0 };
                    let sign = if self.rng.unit() < 0.3 { -sign } else { sign };
                    self.value += (sign * magnitude).round();
                }
                self.value
            }
            Kind::Network => {
                if self.burst_left == 0 && self.rng.unit() < 0.02 {
                    self.burst_left = self.rng.range(3, 30) as u32;
                    self.burst_level = 1e6 * (1.0 + 99.0 * self.rng.unit());
                }
                if self.burst_left > 0 {
                    self.burst_left -= 1;
                    (self.burst_level * (0.8 + 0.4 * self.rng.unit())).round()
                } else {
                    (self.target * (0.5 + self.rng.unit())).round()
                }
            }
        };
        (ts, v)
    }

    /// The next `n` samples.
    pub fn take(&mut self, n: usize) -> Vec<(i64, f64)> {
        (0..n).map(|_| self.next_sample()).collect()
    }
}
