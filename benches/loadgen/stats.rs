//! Latency percentiles and a small text report.

use std::time::Duration;

/// Collected latencies.
#[derive(Default, Clone)]
pub struct Latencies(pub Vec<Duration>);

impl Latencies {
    /// The p-th percentile (0..=100).
    pub fn percentile(&self, p: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        let mut v = self.0.clone();
        v.sort_unstable();
        let idx = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
        v[idx.min(v.len() - 1)]
    }

    /// One line: count, p50, p90, p99, max.
    pub fn summary(&self) -> String {
        format!(
            "n={} p50={:.1}ms p90={:.1}ms p99={:.1}ms max={:.1}ms",
            self.0.len(),
            ms(self.percentile(50.0)),
            ms(self.percentile(90.0)),
            ms(self.percentile(99.0)),
            ms(self.percentile(100.0)),
        )
    }
}

/// Milliseconds as a float.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Megabytes as a float.
pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
