//! `Tsdb::query_bucket_means` (the charts query) against a naive mean of the raw samples in each
//! bucket: while rollups lag, stall and catch up, across a restart, for series that stop
//! reporting, report in bursts or never existed, and for grids the raw tail cannot serve.
//! (Non-finite samples: the raw tail skips them like raw reads do, `store::series` unit tests.)

use pulse_tsdb::{TierConfig, Tsdb, TsdbError};

const SEC: i64 = 1_000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
const T0: i64 = 1_700_000_000_000 - 1_700_000_000_000 % DAY;

fn open(dir: &tempfile::TempDir) -> Tsdb {
    let mut attempts = 0;
    loop {
        match Tsdb::open_path(dir.path(), TierConfig::default()) {
            Err(TsdbError::Storage(e)) if attempts < 50 && e.to_string().contains("lock") => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other.expect("open store"),
        }
    }
}

/// The mean of the finite samples with `ts <= now` in each bucket.
fn naive(samples: &[(i64, f64)], start: i64, step: i64, n: usize, now: i64) -> Vec<Option<f64>> {
    (0..n as i64)
        .map(|i| {
            let (lo, hi) = (start + i * step, start + (i + 1) * step);
            let vals: Vec<f64> = samples
                .iter()
                .filter(|(t, v)| *t >= lo && *t < hi && *t <= now && v.is_finite())
                .map(|(_, v)| *v)
                .collect();
            (!vals.is_empty()).then(|| vals.iter().sum::<f64>() / vals.len() as f64)
        })
        .collect()
}

/// The grid `/api/charts` uses: `n` buckets of `step`, the last one holding `now`.
fn grid(now: i64, step: i64, n: usize) -> i64 {
    (now.div_euclid(step) + 1) * step - n as i64 * step
}

/// Values that are multiples of 1/4, four samples a minute: every mean (of raw samples, of
/// rollups weighted by count) is exact, so answers compare with `==`.
fn value(series: usize, k: i64) -> f64 {
    ((k * 7 + series as i64 * 13) % 400) as f64 / 4.0
}

#[test]
fn bucket_means_equal_naive_means_through_lag_restart_and_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = open(&dir);
    let keys = ["a", "b", "c", "d"];
    let mut samples: Vec<Vec<(i64, f64)>> = vec![Vec::new(); keys.len()];
    let mut checked = 0;
    for k in 0..(2 * HOUR / (15 * SEC)) {
        let now = T0 + k * 15 * SEC;
        for (s, key) in keys.iter().enumerate() {
            let keep = match s {
                // Stops reporting after 70 minutes.
                1 => now < T0 + 70 * MIN,
                // Every second minute only.
                3 => (now / MIN) % 2 == 0,
                _ => true,
            };
            if !keep {
                continue;
            }
            // Bursts: series c jumps eightfold now and then (means stay within 7 digits).
            let v = if s == 2 && k % 7 == 3 {
                value(s, k) * 8.0
            } else {
                value(s, k)
            };
            db.append(key, now, v).unwrap();
            samples[s].push((now, v));
        }
        // Maintenance a minute apart (5 s past the minute), except for a 12-minute stall.
        let stalled = (80 * MIN..92 * MIN).contains(&(now - T0));
        if now % MIN == 5 * SEC && !stalled || now % MIN == 0 && k % 20 == 0 {
            db.rollup(now).unwrap();
            db.flush().unwrap();
            db.retain(now).unwrap();
        }
        if now == T0 + 100 * MIN {
            db.flush().unwrap();
            drop(db);
            db = open(&dir);
            // A restart re-derives rollup heads in its first pass.
            db.rollup(now).unwrap();
        }
        if k % 3 != 1 || now < T0 + 5 * MIN {
            continue;
        }
        // The 1 h chart (30 × 2 min, minute rollups plus the raw tail), the 6 h chart
        // (30 × 12 min) and a grid finer than a minute (raw only).
        for (step, n) in [(2 * MIN, 30), (12 * MIN, 30), (100 * SEC, 36)] {
            let start = grid(now, step, n);
            let mut all: Vec<&str> = keys.to_vec();
            all.push("never");
            let got = db.query_bucket_means(&all, start, step, n, now).unwrap();
            for (s, key) in keys.iter().enumerate() {
                let want = naive(&samples[s], start, step, n, now);
                assert_eq!(
                    got[s],
                    want,
                    "{key} at +{} s, step {step}",
                    (now - T0) / 1000
                );
            }
            assert_eq!(got[keys.len()], vec![None; n], "unknown series");
            checked += 1;
        }
    }
    assert!(checked > 300, "{checked}");
}

#[test]
fn unaligned_grids_and_bad_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    let mut samples = Vec::new();
    for k in 0..400 {
        let t = T0 + k * 10 * SEC;
        db.append("x", t, value(0, k)).unwrap();
        samples.push((t, value(0, k)));
        if k % 6 == 5 {
            db.rollup(t).unwrap();
        }
    }
    let now = T0 + 400 * 10 * SEC;
    // A grid starting off the minute: the raw tail cannot serve it, the tiers still do. Minute
    // rows fall into the bucket their start is in; the last rollup (at +3,950 s) reached
    // +3,840 s, after which raw samples count at their own time.
    let start = T0 + 30 * SEC;
    let got = db
        .query_bucket_means(&["x"], start, 2 * MIN, 30, now)
        .unwrap();
    let watermark = T0 + 3_840 * SEC;
    let as_read: Vec<(i64, f64)> = samples
        .iter()
        .map(|&(t, v)| (if t < watermark { t - t % MIN } else { t }, v))
        .collect();
    // Six samples a minute: rollup averages keep 7 significant digits.
    let want = naive(&as_read, start, 2 * MIN, 30, now);
    for (g, w) in got[0].iter().zip(&want) {
        let (g, w) = (g.expect("a value"), w.expect("a value"));
        assert!((g - w).abs() <= w.abs() * 1e-6, "{g} vs {w}");
    }
    let raw_only = db
        .query_bucket_means(&["x"], start, 50 * SEC, 60, now)
        .unwrap();
    assert_eq!(raw_only[0], naive(&samples, start, 50 * SEC, 60, now));
    for (step, n) in [(0, 30), (-MIN, 30), (MIN, 0), (SEC, 100_001)] {
        assert!(matches!(
            db.query_bucket_means(&["x"], T0, step, n, now),
            Err(TsdbError::InvalidArgument(_))
        ));
    }
    assert!(db
        .query_bucket_means(&["x"], i64::MAX - MIN, MIN, 30, now)
        .is_err());
}
