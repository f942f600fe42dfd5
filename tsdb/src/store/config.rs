//! Tier configuration: resolutions, retentions and chunk sealing policy.

use serde::{Deserialize, Serialize};

use crate::error::{Result, TsdbError};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// Most tiers a store may have (the tier index is one byte in keys; 8 is plenty).
pub const MAX_TIERS: usize = 8;

/// One storage tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierSpec {
    /// Tier 0 (raw): timestamps are rounded to the nearest multiple of this (1 = exact ms).
    /// Tiers ≥ 1: rollup bucket width; must be a multiple of the previous tier's resolution.
    pub resolution_ms: i64,
    /// Data older than `now − retention_ms` is deleted by [`crate::Tsdb::retain`], whole windows at
    /// a time (so up to one window longer is kept, and a finer tier is kept until the coarser
    /// tier's window holding its rollup is sealed). Also drives query tier selection.
    pub retention_ms: i64,
    /// Window length: chunks are aligned to multiples of it (a sample of a later window seals the
    /// head), and a window's chunks of all series are written together as bundles.
    pub max_chunk_span_ms: i64,
}

impl TierSpec {
    /// A tier with the default window for its resolution: 30 min for raw samples, 1 h for minute
    /// rollups, 6 h for hourly and 7 d for daily ones (at most half the retention). Short windows
    /// of the rollup tiers bound how long the finer tier must outlive its retention.
    pub fn new(resolution_ms: i64, retention_ms: i64) -> Self {
        let window = if resolution_ms < MINUTE {
            30 * MINUTE
        } else if resolution_ms < HOUR {
            HOUR
        } else if resolution_ms < DAY {
            6 * HOUR
        } else {
            7 * DAY
        };
        TierSpec {
            resolution_ms,
            retention_ms,
            max_chunk_span_ms: window.min(retention_ms / 2).max(resolution_ms),
        }
    }
}

/// The full tier layout plus chunking and rollup policy.
///
/// Resolutions (and the tier count) are recorded in the store on first open and must not change
/// afterwards; retentions, chunk sizes and the lateness allowance may change freely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierConfig {
    /// Tiers from finest (raw, index 0) to coarsest.
    pub tiers: Vec<TierSpec>,
    /// A head chunk is sealed once it holds this many samples.
    pub max_chunk_samples: u32,
    /// Rollup only finalizes buckets that ended at least this long before `now`, so slightly late
    /// samples still make it into the rollup. Samples older than a finalized bucket stay raw-only.
    /// A flush also seals raw heads whose window ended this long before the newest sample.
    pub late_tolerance_ms: i64,
}

impl Default for TierConfig {
    /// Upstream defaults: raw 2 h (timestamps at 1 s resolution), 1-minute 24 h, 1-hour 7 d,
    /// 1-day 90 d; at most 1,024 samples per chunk; 1 minute lateness allowance.
    fn default() -> Self {
        TierConfig {
            tiers: vec![
                TierSpec::new(1_000, 2 * HOUR),
                TierSpec::new(MINUTE, DAY),
                TierSpec::new(HOUR, 7 * DAY),
                TierSpec::new(DAY, 90 * DAY),
            ],
            max_chunk_samples: 1024,
            late_tolerance_ms: MINUTE,
        }
    }
}

impl TierConfig {
    /// Checks the layout: 1..=8 tiers, positive durations, each coarser resolution a strict multiple
    /// of the finer one, and 1..=65,535 samples per chunk.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(TsdbError::InvalidConfig(msg));
        if self.tiers.is_empty() || self.tiers.len() > MAX_TIERS {
            return bad(format!(
                "need 1 to {MAX_TIERS} tiers, got {}",
                self.tiers.len()
            ));
        }
        for (i, t) in self.tiers.iter().enumerate() {
            if t.resolution_ms <= 0 || t.retention_ms <= 0 || t.max_chunk_span_ms <= 0 {
                return bad(format!("tier {i}: durations must be positive"));
            }
            if i > 0 {
                let finer = self.tiers[i - 1].resolution_ms;
                if t.resolution_ms <= finer || t.resolution_ms % finer != 0 {
                    return bad(format!(
                        "tier {i}: resolution {} must be a larger multiple of {finer}",
                        t.resolution_ms
                    ));
                }
            }
        }
        if self.max_chunk_samples == 0 || self.max_chunk_samples > u32::from(u16::MAX) {
            return bad("max_chunk_samples must be 1..=65535".into());
        }
        if self.late_tolerance_ms < 0 {
            return bad("late_tolerance_ms must not be negative".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_bad_layouts_are_rejected() {
        assert!(TierConfig::default().validate().is_ok());
        let mut c = TierConfig::default();
        c.tiers[2].resolution_ms = 90_000;
        assert!(c.validate().is_err());
        let mut c = TierConfig::default();
        c.tiers.clear();
        assert!(c.validate().is_err());
        let c = TierConfig {
            max_chunk_samples: 0,
            ..TierConfig::default()
        };
        assert!(c.validate().is_err());
        let mut c = TierConfig::default();
        c.tiers[0].retention_ms = 0;
        assert_eq!(c.validate().unwrap_err().code(), "tsdb.invalid_config");
    }
}
