//! Validation of history and chart queries and the pure shaping of their answers.

use pulse_tsdb::Point;
use serde::Serialize;

use super::metric::Metric;
use crate::error::{Error, Result};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Default and largest `maxPoints` of a history query.
pub const DEFAULT_MAX_POINTS: usize = 500;
/// Largest `maxPoints` accepted.
pub const MAX_POINTS_LIMIT: usize = 10_000;
/// Default points per chart series.
pub const DEFAULT_CHART_POINTS: usize = 30;
/// Largest `points` of a chart query.
pub const MAX_CHART_POINTS: usize = 120;
/// Longest resource id accepted.
const MAX_ID_LEN: usize = 256;

/// The ranges of `/api/metrics-store/history` and their length in ms.
const HISTORY_RANGES: [(&str, i64); 6] = [
    ("1h", HOUR),
    ("6h", 6 * HOUR),
    ("24h", DAY),
    ("7d", 7 * DAY),
    ("30d", 30 * DAY),
    ("90d", 90 * DAY),
];

/// The ranges of `/api/charts`.
const CHART_RANGES: [(&str, i64); 4] = [
    ("1h", HOUR),
    ("6h", 6 * HOUR),
    ("24h", DAY),
    ("7d", 7 * DAY),
];

/// The metrics a chart shows per resource (storage shows its `usage` as `disk`).
pub const CHART_METRICS: [Metric; 5] = [
    Metric::Cpu,
    Metric::Memory,
    Metric::Disk,
    Metric::NetIn,
    Metric::NetOut,
];

fn range_of(table: &[(&'static str, i64)], raw: Option<&str>) -> Result<(&'static str, i64)> {
    let allowed = || table.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
    let raw =
        raw.ok_or_else(|| Error::validation("range", format!("required: one of {}", allowed())))?;
    table
        .iter()
        .find(|(n, _)| *n == raw)
        .copied()
        .ok_or_else(|| Error::validation("range", format!("must be one of {}", allowed())))
}

fn count(field: &str, raw: Option<&str>, default: usize, max: usize) -> Result<usize> {
    match raw {
        None => Ok(default),
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| Error::validation(field, format!("must be an integer from 1 to {max}"))),
    }
}

/// Query string of `/api/metrics-store/history` as received.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawHistoryQuery {
    resource_id: Option<String>,
    metric: Option<String>,
    range: Option<String>,
    max_points: Option<String>,
}

/// A validated history query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    /// The resource.
    pub resource_id: String,
    /// The metric.
    pub metric: Metric,
    /// The range's name.
    pub range: &'static str,
    /// The range's length.
    pub range_ms: i64,
    /// Most points to return.
    pub max_points: usize,
}

impl RawHistoryQuery {
    /// Validates every parameter, naming the first bad one.
    pub fn validate(self) -> Result<HistoryQuery> {
        let resource_id = self
            .resource_id
            .filter(|id| !id.is_empty())
            .ok_or_else(|| Error::validation("resourceId", "required"))?;
        if resource_id.len() > MAX_ID_LEN || resource_id.chars().any(char::is_control) {
            return Err(Error::validation(
                "resourceId",
                format!("at most {MAX_ID_LEN} printable characters"),
            ));
        }
        let names = || Metric::ALL.map(Metric::as_str).join(", ");
        let metric = match self.metric.as_deref() {
            None => {
                return Err(Error::validation(
                    "metric",
                    format!("required: one of {}", names()),
                ))
            }
            Some(m) => Metric::parse(m).ok_or_else(|| {
                Error::validation("metric", format!("must be one of {}", names()))
            })?,
        };
        let (range, range_ms) = range_of(&HISTORY_RANGES, self.range.as_deref())?;
        let max_points = count(
            "maxPoints",
            self.max_points.as_deref(),
            DEFAULT_MAX_POINTS,
            MAX_POINTS_LIMIT,
        )?;
        Ok(HistoryQuery {
            resource_id,
            metric,
            range,
            range_ms,
            max_points,
        })
    }
}

/// Query string of `/api/charts` as received.
#[derive(Debug, Default, serde::Deserialize)]
pub struct RawChartsQuery {
    range: Option<String>,
    points: Option<String>,
}

/// A validated chart query with its aligned bucket grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChartsQuery {
    /// The range's name.
    pub range: &'static str,
    /// Buckets per series.
    pub points: usize,
    /// Bucket width in ms.
    pub step: i64,
}

impl RawChartsQuery {
    /// Validates `range` (default 1h) and `points` (default 30, at most 120).
    pub fn validate(self) -> Result<ChartsQuery> {
        let (range, range_ms) =
            range_of(&CHART_RANGES, Some(self.range.as_deref().unwrap_or("1h")))?;
        let points = count(
            "points",
            self.points.as_deref(),
            DEFAULT_CHART_POINTS,
            MAX_CHART_POINTS,
        )?;
        let step = (range_ms / points as i64).max(1_000);
        Ok(ChartsQuery {
            range,
            points,
            step,
        })
    }
}

impl ChartsQuery {
    /// The grid at `now_ms`: `start` is a multiple of `step` and the last bucket holds `now`, so
    /// repeated calls within one step return the same buckets.
    pub fn grid(&self, now_ms: i64) -> (i64, i64) {
        let end = (now_ms.div_euclid(self.step) + 1) * self.step;
        (end - self.points as i64 * self.step, end)
    }
}

/// One point of a history answer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HistoryPoint {
    /// Bucket start (raw: sample time), ms.
    pub timestamp: i64,
    /// Average.
    pub value: f64,
    /// Minimum.
    pub min: f64,
    /// Maximum.
    pub max: f64,
}

/// Store points as API points; non-finite values (JSON has none) are left out.
pub fn history_points(points: &[Point]) -> Vec<HistoryPoint> {
    points
        .iter()
        .filter(|p| p.value.is_finite() && p.min.is_finite() && p.max.is_finite())
        .map(|p| HistoryPoint {
            timestamp: p.ts,
            value: p.value,
            min: p.min,
            max: p.max,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(
        resource: Option<&str>,
        metric: Option<&str>,
        range: Option<&str>,
        max: Option<&str>,
    ) -> RawHistoryQuery {
        RawHistoryQuery {
            resource_id: resource.map(Into::into),
            metric: metric.map(Into::into),
            range: range.map(Into::into),
            max_points: max.map(Into::into),
        }
    }

    fn field(e: Error) -> String {
        match e {
            Error::Validation { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn history_query_names_the_bad_parameter() {
        let ok = raw(Some("vm-1"), Some("cpu"), Some("24h"), None)
            .validate()
            .unwrap();
        assert_eq!((ok.range_ms, ok.max_points), (DAY, DEFAULT_MAX_POINTS));
        let cases = [
            (raw(None, Some("cpu"), Some("1h"), None), "resourceId"),
            (raw(Some("vm"), Some("CPU"), Some("1h"), None), "metric"),
            (raw(Some("vm"), None, Some("1h"), None), "metric"),
            (raw(Some("vm"), Some("cpu"), Some("2h"), None), "range"),
            (raw(Some("vm"), Some("cpu"), None, None), "range"),
            (
                raw(Some("vm"), Some("cpu"), Some("1h"), Some("0")),
                "maxPoints",
            ),
            (
                raw(Some("vm"), Some("cpu"), Some("1h"), Some("-3")),
                "maxPoints",
            ),
            (
                raw(Some("vm"), Some("cpu"), Some("1h"), Some("10001")),
                "maxPoints",
            ),
            (
                raw(Some("vm"), Some("cpu"), Some("1h"), Some("1e3")),
                "maxPoints",
            ),
            (
                raw(Some(&"x".repeat(300)), Some("cpu"), Some("1h"), None),
                "resourceId",
            ),
        ];
        for (q, want) in cases {
            assert_eq!(field(q.validate().unwrap_err()), want);
        }
    }

    #[test]
    fn chart_grid_is_aligned_and_holds_now() {
        let q = RawChartsQuery {
            range: None,
            points: None,
        }
        .validate()
        .unwrap();
        assert_eq!((q.range, q.points, q.step), ("1h", 30, 120_000));
        let (start, end) = q.grid(1_000_000_123);
        assert_eq!(start % q.step, 0);
        assert_eq!(end - start, HOUR);
        assert!(start < 1_000_000_123 && 1_000_000_123 < end);
        let bad = RawChartsQuery {
            range: Some("90d".into()),
            points: None,
        }
        .validate();
        assert_eq!(field(bad.unwrap_err()), "range");
        let bad = RawChartsQuery {
            range: None,
            points: Some("121".into()),
        }
        .validate();
        assert_eq!(field(bad.unwrap_err()), "points");
    }
}
