//! Bucket aggregation shared by rollups and query downsampling.
//!
//! Averages are weighted by count (`Σ avg·count / Σ count`), so re-aggregating rollups gives the
//! same mean as aggregating the raw samples. `min`/`max` use `f64::min`/`f64::max`, which ignore NaN;
//! a NaN sample makes its bucket's average NaN.

use serde::{Deserialize, Serialize};

/// One query result point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Start of the point's bucket (raw samples: the sample timestamp), ms since the Unix epoch.
    pub ts: i64,
    /// Count-weighted average of the samples in the bucket.
    pub value: f64,
    /// Smallest sample in the bucket.
    pub min: f64,
    /// Largest sample in the bucket.
    pub max: f64,
}

/// A stored row in any tier: a raw sample is `avg = min = max = value, count = 1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Row {
    pub ts: i64,
    pub avg: f64,
    pub min: f64,
    pub max: f64,
    pub count: f64,
}

impl Row {
    /// Builds a row from a decoded chunk row (1 column raw, 4 columns avg/min/max/count).
    #[inline]
    pub(crate) fn from_columns(ts: i64, cols: &[f64]) -> Row {
        match *cols {
            [avg, min, max, count] => Row {
                ts,
                avg,
                min,
                max,
                count,
            },
            _ => {
                let v = cols.first().copied().unwrap_or(f64::NAN);
                Row {
                    ts,
                    avg: v,
                    min: v,
                    max: v,
                    count: 1.0,
                }
            }
        }
    }

    /// The row as rollup chunk columns.
    pub(crate) fn columns(&self) -> [f64; 4] {
        [self.avg, self.min, self.max, self.count]
    }
}

/// Running aggregate of one bucket.
#[derive(Debug, Clone, Copy)]
struct Acc {
    start: i64,
    sum: f64,
    min: f64,
    max: f64,
    count: f64,
}

impl Acc {
    fn new(start: i64, r: &Row) -> Acc {
        Acc {
            start,
            sum: r.avg * r.count,
            min: r.min,
            max: r.max,
            count: r.count,
        }
    }

    fn add(&mut self, r: &Row) {
        self.sum += r.avg * r.count;
        self.min = self.min.min(r.min);
        self.max = self.max.max(r.max);
        self.count += r.count;
    }

    fn finish(self) -> Row {
        // Rounding never takes the average outside [min, max] (NaN bounds compare false).
        let avg = round_significant(self.sum / self.count, AVG_DIGITS);
        let avg = if avg < self.min {
            self.min
        } else if avg > self.max {
            self.max
        } else {
            avg
        };
        Row {
            ts: self.start,
            avg,
            min: self.min,
            max: self.max,
            count: self.count,
        }
    }
}

/// Significant digits kept of a bucket average. An exact average of two-decimal samples usually
/// has no short decimal form, so the codec would store it as 64 raw bits; at 7 digits (relative
/// error ≤ 5·10⁻⁷, far below any source's precision) it codes like the samples themselves.
const AVG_DIGITS: i32 = 7;

/// `v` rounded to `digits` significant decimal digits. Only where the power of ten involved is
/// exact in an `f64` (up to 10²²); other values, non-finite ones and zero are returned unchanged.
pub(crate) fn round_significant(v: f64, digits: i32) -> f64 {
    if !v.is_finite() || v == 0.0 {
        return v;
    }
    let decimals = digits - 1 - v.abs().log10().floor() as i32;
    if !(-22..=22).contains(&decimals) {
        return v;
    }
    let scale = 10f64.powi(decimals.abs());
    if decimals >= 0 {
        (v * scale).round() / scale
    } else {
        (v / scale).round() * scale
    }
}

/// Aggregates time-ordered `rows` into buckets; `bucket_of(ts)` gives a row's bucket start.
pub(crate) fn aggregate(rows: &[Row], bucket_of: impl Fn(i64) -> i64) -> Vec<Row> {
    let mut out = Vec::new();
    let mut acc: Option<Acc> = None;
    for r in rows {
        let b = bucket_of(r.ts);
        match acc.as_mut() {
            Some(a) if a.start == b => a.add(r),
            _ => {
                if let Some(done) = acc.take() {
                    out.push(done.finish());
                }
                acc = Some(Acc::new(b, r));
            }
        }
    }
    out.extend(acc.map(Acc::finish));
    out
}

/// Floors `ts` to a multiple of `width` (> 0), saturating at the i64 range.
pub(crate) fn floor_to(ts: i64, width: i64) -> i64 {
    let f = i128::from(ts).div_euclid(i128::from(width)) * i128::from(width);
    i64::try_from(f).unwrap_or(i64::MIN)
}

/// Reduces time-ordered rows in `[start, end]` to at most `max_points` points of equal-width
/// buckets anchored at `start` (`max_points == 0` means no limit). Each bucket keeps its min and
/// max, so the global extremes always survive.
pub(crate) fn downsample(rows: &[Row], start: i64, end: i64, max_points: usize) -> Vec<Point> {
    let to_point = |r: &Row| Point {
        ts: r.ts,
        value: r.avg,
        min: r.min,
        max: r.max,
    };
    if max_points == 0 || rows.len() <= max_points {
        return rows.iter().map(to_point).collect();
    }
    let span = i128::from(end) - i128::from(start) + 1;
    let points = max_points as i128;
    let width = ((span + points - 1) / points).max(1);
    let bucket_of = |ts: i64| {
        let b = i128::from(start) + (i128::from(ts) - i128::from(start)).div_euclid(width) * width;
        i64::try_from(b).unwrap_or(start)
    };
    aggregate(rows, bucket_of).iter().map(to_point).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(ts: i64, v: f64) -> Row {
        Row::from_columns(ts, &[v])
    }

    #[test]
    fn aggregates_weighted() {
        let rows = [
            Row::from_columns(0, &[2.0, 1.0, 3.0, 2.0]),
            Row::from_columns(10, &[5.0, 5.0, 5.0, 1.0]),
            raw(60, 7.0),
        ];
        let out = aggregate(&rows, |t| floor_to(t, 60));
        assert_eq!(out.len(), 2);
        assert_eq!(
            (out[0].avg, out[0].min, out[0].max, out[0].count),
            (3.0, 1.0, 5.0, 3.0)
        );
        assert_eq!(out[1].ts, 60);
        assert_eq!(floor_to(-1, 60), -60);
        assert_eq!(floor_to(i64::MIN, 7), i64::MIN);
    }

    #[test]
    fn averages_are_rounded_to_seven_significant_digits() {
        assert_eq!(round_significant(37.123_333_333_333_3, 7), 37.123_33);
        assert_eq!(round_significant(-0.000_123_456_789, 7), -0.000_123_456_8);
        assert_eq!(round_significant(1e300, 7), 1e300);
        assert!(round_significant(f64::NAN, 7).is_nan());
        let rows = [
            Row::from_columns(0, &[1.01]),
            Row::from_columns(1, &[1.02]),
            Row::from_columns(2, &[1.04]),
        ];
        assert_eq!(aggregate(&rows, |_| 0)[0].avg, 1.023_333);
    }

    #[test]
    fn downsample_bounds_points_and_keeps_extremes() {
        let rows: Vec<Row> = (0..1000).map(|i| raw(i, ((i * 37) % 101) as f64)).collect();
        let pts = downsample(&rows, 0, 999, 7);
        assert!(pts.len() <= 7);
        assert_eq!(pts.iter().map(|p| p.max).fold(f64::MIN, f64::max), 100.0);
        assert_eq!(pts.iter().map(|p| p.min).fold(f64::MAX, f64::min), 0.0);
        assert_eq!(downsample(&rows, 0, 999, 0).len(), 1000);
        assert_eq!(downsample(&rows[..3], 0, 999, 7).len(), 3);
        assert!(downsample(&rows, i64::MIN, i64::MAX, 3).len() <= 3);
    }
}
