//! The `/api/charts` answer: every resource of one org with its chart metrics on one aligned
//! bucket grid, written straight into the response buffer (no intermediate JSON tree: for 1,000
//! resources that is 150,000 numbers and 1.1 MB).
//!
//! Shape: `{"range","start","end","step","points","resources":{id:{metric:[value|null, …]}}}`,
//! resources by id and metrics by name; a series without any value in the range is left out, and
//! so is a resource without any series. Storage resources store their utilisation as `usage`; it
//! is shown as `disk`.

use std::collections::BTreeMap;

use super::metric::Metric;
use super::query::{ChartsQuery, CHART_METRICS};
use super::store::{org_prefix, split_key, MetricsStore};
use crate::error::{Error, Result};

/// The chart metrics in the order they are written (by name).
const ORDER: [Metric; 5] = [
    Metric::Cpu,
    Metric::Disk,
    Metric::Memory,
    Metric::NetIn,
    Metric::NetOut,
];

/// Builds the `/api/charts` body for `org` at `now_ms`. Blocks on the store: call it off the
/// async executors.
pub fn charts_body(
    store: &dyn MetricsStore,
    org: &str,
    q: &ChartsQuery,
    now_ms: i64,
) -> Result<Vec<u8>> {
    let (start, end) = q.grid(now_ms);
    let prefix = org_prefix(org);
    let wanted = |m: Metric| CHART_METRICS.contains(&m) || m == Metric::Usage;
    let keys: Vec<Vec<u8>> = store
        .keys_with_prefix(&prefix)
        .into_iter()
        .filter(|k| split_key(&prefix, k).is_some_and(|(_, m)| wanted(m)))
        .collect();
    let means = store.bucket_means(&keys, start, q.step, q.points, now_ms)?;
    if means.len() != keys.len() {
        return Err(Error::Internal(
            "charts: store answered another key count".into(),
        ));
    }
    // Per resource, the series (index into `means`) of each metric in `ORDER`.
    let mut resources: BTreeMap<&str, [Option<usize>; 5]> = BTreeMap::new();
    let mut usage: Vec<(&str, usize)> = Vec::new();
    for (i, (key, buckets)) in keys.iter().zip(&means).enumerate() {
        let Some((id, metric)) = split_key(&prefix, key) else {
            continue;
        };
        if buckets.iter().all(Option::is_none) {
            continue;
        }
        if metric == Metric::Usage {
            usage.push((id, i));
        } else if let Some(slot) = ORDER.iter().position(|&m| m == metric) {
            resources.entry(id).or_default()[slot] = Some(i);
        }
    }
    let disk = ORDER.iter().position(|&m| m == Metric::Disk).unwrap_or(1);
    for (id, i) in usage {
        let entry = resources.entry(id).or_default();
        entry[disk].get_or_insert(i);
    }

    let series: usize = resources.values().flatten().flatten().count();
    let mut out = Vec::with_capacity(256 + resources.len() * 64 + series * (q.points * 6 + 16));
    out.extend_from_slice(b"{\"range\":");
    write_str(&mut out, q.range)?;
    for (name, n) in [("start", start), ("end", end), ("step", q.step)] {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
        out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    }
    out.extend_from_slice(b",\"points\":");
    out.extend_from_slice(itoa::Buffer::new().format(q.points).as_bytes());
    out.extend_from_slice(b",\"resources\":{");
    for (r, (id, slots)) in resources.iter().enumerate() {
        if r > 0 {
            out.push(b',');
        }
        write_str(&mut out, id)?;
        out.extend_from_slice(b":{");
        let present = ORDER
            .iter()
            .zip(slots)
            .filter_map(|(m, s)| Some((m, (*s)?)));
        for (n, (metric, i)) in present.enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.push(b'"');
            out.extend_from_slice(metric.as_str().as_bytes());
            out.extend_from_slice(b"\":[");
            for (b, v) in means[i].iter().enumerate() {
                if b > 0 {
                    out.push(b',');
                }
                match v {
                    Some(v) => write_chart_value(&mut out, *v),
                    None => out.extend_from_slice(b"null"),
                }
            }
            out.push(b']');
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"}}");
    Ok(out)
}

/// Writes `s` as a JSON string.
fn write_str(out: &mut Vec<u8>, s: &str) -> Result<()> {
    serde_json::to_writer(out, s).map_err(|e| Error::Internal(format!("charts: {e}")))
}

/// Powers of ten that are exact in an `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A sparkline value: `v` rounded to three significant digits but at most two decimals (one
/// rounding) — more than a chart can show, and it keeps the answer for a thousand resources
/// small. `None` for values it does not shorten (non-finite, or ≥ 10²²).
pub fn chart_digits(v: f64) -> Option<(bool, u64, i32)> {
    if !v.is_finite() {
        return None;
    }
    let a = v.abs();
    // Decimal places kept: 2 below 10, then one fewer per power of ten (negative: zeros).
    let places = if a < 10.0 {
        2
    } else if a < 100.0 {
        1
    } else if a < 1_000.0 {
        0
    } else {
        let e = POW10.iter().rposition(|&p| p <= a)?;
        if e + 1 >= POW10.len() {
            return None;
        }
        2 - e as i32
    };
    let n = if places >= 0 {
        (a * POW10[places as usize]).round()
    } else {
        (a / POW10[(-places) as usize]).round()
    };
    Some((v < 0.0 && n > 0.0, n as u64, places))
}

/// The number [`chart_digits`] describes, as an `f64`.
pub fn chart_value(v: f64) -> f64 {
    match chart_digits(v) {
        Some((neg, n, places)) => {
            let x = if places >= 0 {
                n as f64 / POW10[places as usize]
            } else {
                n as f64 * POW10[(-places) as usize]
            };
            if neg {
                -x
            } else {
                x
            }
        }
        None => v,
    }
}

/// Writes [`chart_value`] of `v` as a JSON number (`null` if not finite), without trailing zeros.
pub fn write_chart_value(out: &mut Vec<u8>, v: f64) {
    let Some((neg, n, places)) = chart_digits(v) else {
        if v.is_finite() {
            out.extend_from_slice(&float_json(v));
        } else {
            out.extend_from_slice(b"null");
        }
        return;
    };
    if neg {
        out.push(b'-');
    }
    let mut buf = itoa::Buffer::new();
    if places <= 0 {
        out.extend_from_slice(buf.format(n).as_bytes());
        if n > 0 {
            out.resize(out.len() + (-places) as usize, b'0');
        }
        return;
    }
    let scale = if places == 1 { 10 } else { 100 };
    let (int, mut frac, mut width) = (n / scale, n % scale, places);
    out.extend_from_slice(buf.format(int).as_bytes());
    while width > 0 && frac % 10 == 0 && frac > 0 {
        frac /= 10;
        width -= 1;
    }
    if frac > 0 {
        out.push(b'.');
        if width == 2 && frac < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(buf.format(frac).as_bytes());
    }
}

/// A finite float in JSON (for values beyond what [`chart_digits`] shortens).
fn float_json(v: f64) -> Vec<u8> {
    serde_json::to_vec(&v).unwrap_or_else(|_| b"null".to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: f64) -> String {
        let mut out = Vec::new();
        write_chart_value(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn chart_values_keep_three_digits_and_two_decimals() {
        let cases = [
            (0.0, "0"),
            (-0.0, "0"),
            (45.349, "45.3"),
            (45.35, "45.4"),
            (9.996, "10"),
            (99.96, "100"),
            (0.123_456, "0.12"),
            (0.05, "0.05"),
            (0.004, "0"),
            (0.006, "0.01"),
            (-0.004, "0"),
            (1.5, "1.5"),
            (3.0, "3"),
            (-12.34, "-12.3"),
            (1_234_567.0, "1230000"),
            (999.6, "1000"),
            (9_996.0, "10000"),
            (2.5e21, "2500000000000000000000"),
            (1e300, "1e+300"),
            (f64::NAN, "null"),
            (f64::INFINITY, "null"),
        ];
        for (v, want) in cases {
            assert_eq!(text(v), want, "{v}");
            let parsed: f64 = serde_json::from_str(want).unwrap_or(f64::NAN);
            if v.is_finite() {
                assert_eq!(parsed, chart_value(v), "{v}");
            }
        }
    }
}
