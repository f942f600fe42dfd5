//! Behaviour of the series store: persistence, ordering, rollups, tiers, queries, retention.

use proptest::prelude::*;
use pulse_tsdb::{TierConfig, TierSpec, Tsdb, TsdbError};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
const T0: i64 = 1_700_000_000_000 - 1_700_000_000_000 % DAY;

/// Default tiers with small chunks so tests cross many chunk boundaries.
fn small_chunks() -> TierConfig {
    TierConfig {
        max_chunk_samples: 16,
        ..TierConfig::default()
    }
}

/// Opens the store, retrying while a just-dropped instance's sled flusher thread still holds the
/// database file lock (sled releases it asynchronously, within its 500 ms flush interval).
fn try_open(dir: &tempfile::TempDir, config: TierConfig) -> Result<Tsdb, TsdbError> {
    let mut attempts = 0;
    loop {
        match Tsdb::open_path(dir.path(), config.clone()) {
            Err(TsdbError::Storage(e)) if attempts < 50 && e.to_string().contains("lock") => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

fn open(dir: &tempfile::TempDir, config: TierConfig) -> Tsdb {
    try_open(dir, config).expect("open store")
}

#[test]
fn reopen_keeps_flushed_and_loses_only_unflushed() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(&dir, small_chunks());
        for i in 0..100 {
            db.append("a", T0 + i * 10_000, i as f64).unwrap();
            db.append("b", T0 + i * 10_000, -(i as f64)).unwrap();
        }
        db.flush().unwrap();
        db.append("a", T0 + 100 * 10_000, 100.0).unwrap();
    }
    let db = open(&dir, small_chunks());
    let a = db.query("a", T0, T0 + DAY, 0, T0 + HOUR).unwrap();
    assert_eq!(a.len(), 100);
    assert!(a
        .iter()
        .enumerate()
        .all(|(i, p)| p.ts == T0 + i as i64 * 10_000 && p.value == i as f64));
    assert_eq!(
        db.query("b", T0, T0 + DAY, 0, T0 + HOUR).unwrap().len(),
        100
    );
    assert_eq!(db.stats().unwrap().samples_written, 200);
    // Appending after reopen continues the restored head and respects its order.
    assert!(matches!(
        db.append("a", T0, 0.0),
        Err(TsdbError::OutOfOrder { .. })
    ));
    db.append("a", T0 + 100 * 10_000, 100.0).unwrap();
    db.flush().unwrap();
    drop(db);
    let db = open(&dir, small_chunks());
    assert_eq!(
        db.query("a", T0, T0 + DAY, 0, T0 + HOUR).unwrap().len(),
        101
    );
    assert_eq!(db.series_keys().len(), 2);
}

/// New series are registered in several sled batches when a flush adds many (flush.rs
/// `SERIES_BATCH`); every one of them must come back after a reopen with its samples.
#[test]
fn many_new_series_in_one_flush_all_reopen() {
    const SERIES: usize = 2_345;
    let dir = tempfile::tempdir().unwrap();
    let key = |i: usize| format!("org/r{i:05}/cpu");
    {
        let db = open(&dir, small_chunks());
        for round in 0..3 {
            let batch: Vec<(String, i64, f64)> = (0..SERIES)
                .map(|i| (key(i), T0 + round * 10_000, (i + round as usize) as f64))
                .collect();
            let summary = db.append_batch(&batch);
            assert_eq!(summary.accepted, SERIES);
        }
        db.flush().unwrap();
    }
    let db = open(&dir, small_chunks());
    assert_eq!(db.series_keys().len(), SERIES);
    for i in [0, 999, 1_000, 1_001, 2_000, SERIES - 1] {
        let points = db.query(key(i), T0, T0 + DAY, 0, T0 + HOUR).unwrap();
        let values: Vec<f64> = points.iter().map(|p| p.value).collect();
        assert_eq!(
            values,
            vec![i as f64, (i + 1) as f64, (i + 2) as f64],
            "series {i}"
        );
    }
}

#[test]
fn out_of_order_and_invalid_samples_are_rejected_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir, TierConfig::default());
    db.append("s", T0 + 10_000, 1.0).unwrap();
    let err = db.append("s", T0 + 10_000, 2.0).unwrap_err();
    assert_eq!(err.code(), "tsdb.out_of_order");
    // 1 s raw resolution: 10.4 s rounds onto the stored 10 s sample.
    assert!(db.append("s", T0 + 10_400, 2.0).is_err());
    assert!(db.append("s", T0 + 10_600, 2.0).is_ok());
    let long_key = vec![b'k'; 70_000];
    let summary = db.append_batch(&[
        ("s", T0 + 20_000, 3.0),
        ("s", T0 + 5_000, 4.0),
        ("t", T0, 5.0),
        ("t", i64::MAX, 6.0),
    ]);
    assert_eq!(
        (summary.accepted, summary.out_of_order, summary.invalid),
        (2, 1, 1)
    );
    assert!(matches!(
        db.append(&long_key, T0, 1.0),
        Err(TsdbError::KeyTooLong(70_000))
    ));
    let stats = db.stats().unwrap();
    assert_eq!((stats.samples_written, stats.samples_rejected), (4, 5));
    let pts = db.query("s", T0, T0 + HOUR, 0, T0 + HOUR).unwrap();
    assert_eq!(
        pts.iter().map(|p| p.ts).collect::<Vec<_>>(),
        vec![T0 + 10_000, T0 + 11_000, T0 + 20_000]
    );
}

/// Naive reference: per-bucket avg/min/max/count straight from raw samples.
fn reference(samples: &[(i64, f64)], width: i64, until: i64) -> Vec<(i64, f64, f64, f64, f64)> {
    let mut out: Vec<(i64, f64, f64, f64, f64)> = Vec::new();
    for &(t, v) in samples.iter().filter(|s| s.0 < until) {
        let b = t.div_euclid(width) * width;
        match out.last_mut() {
            Some(last) if last.0 == b => {
                last.1 += v;
                last.2 = last.2.min(v);
                last.3 = last.3.max(v);
                last.4 += 1.0;
            }
            _ => out.push((b, v, v, v, 1.0)),
        }
    }
    for b in &mut out {
        b.1 /= b.4;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn rollups_match_naive_reference(
        steps in proptest::collection::vec((1i64..40_000, -1_000_000i64..1_000_000), 1..1500),
        rollup_every in 1usize..400,
        flush_every in 1usize..300,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let config = TierConfig { late_tolerance_ms: 0, ..small_chunks() };
        let db = open(&dir, config);
        let mut t = T0;
        let mut samples = Vec::new();
        for (i, (dt, dv)) in steps.iter().enumerate() {
            t += dt * 1000;
            let v = *dv as f64 / 100.0;
            db.append("k", t, v).unwrap();
            samples.push((t, v));
            if i % rollup_every == 0 {
                db.rollup(t).unwrap();
            }
            if i % flush_every == 0 {
                db.flush().unwrap();
            }
        }
        let now = t + 1;
        db.rollup(now).unwrap();
        db.flush().unwrap();
        // Re-open: sealed rollup windows persist, open rollup heads are re-derived from the raw
        // tier by the next pass, with the same result.
        drop(db);
        let db = open(&dir, TierConfig { late_tolerance_ms: 0, ..small_chunks() });
        db.rollup(now).unwrap();
        for (tier, width) in [(1usize, MIN), (2, HOUR)] {
            let until = now.div_euclid(width) * width;
            let want = reference(&samples, width, until);
            // Query far in the future so the tier is selected; restrict to rolled range.
            let query_now = T0 + [0, DAY, 7 * DAY][tier];
            prop_assert_eq!(db.select_tier(T0, query_now), tier);
            let got = db.query("k", T0, until - 1, 0, query_now).unwrap();
            prop_assert_eq!(got.len(), want.len(), "tier {}", tier);
            for (g, w) in got.iter().zip(&want) {
                prop_assert_eq!(g.ts, w.0);
                prop_assert_eq!(g.min, w.2);
                prop_assert_eq!(g.max, w.3);
                // Averages keep 7 significant digits (see aggregate.rs).
                prop_assert!((g.value - w.1).abs() <= 1e-6 * w.1.abs().max(1.0), "avg {} vs {}", g.value, w.1);
            }
        }
    }
}

#[test]
fn tier_selection_follows_retention() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir, TierConfig::default());
    let now = T0 + 30 * DAY;
    assert_eq!(db.select_tier(now - HOUR, now), 0);
    assert_eq!(db.select_tier(now - 2 * HOUR, now), 0);
    assert_eq!(db.select_tier(now - 2 * HOUR - 1, now), 1);
    assert_eq!(db.select_tier(now - DAY, now), 1);
    assert_eq!(db.select_tier(now - 7 * DAY, now), 2);
    assert_eq!(db.select_tier(now - 30 * DAY, now), 3);
    assert_eq!(db.select_tier(now - 365 * DAY, now), 3);
    assert_eq!(db.select_tier(now + HOUR, now), 0);
}

#[test]
fn day_query_reads_minute_tier_and_stitches_unrolled_raw_tail() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir, TierConfig::default());
    let mut t = T0;
    for i in 0..(6 * 360) {
        t = T0 + i * 10_000;
        db.append("cpu", t, (i % 100) as f64).unwrap();
        if i % 90 == 0 {
            db.rollup(t).unwrap();
            db.flush().unwrap();
        }
    }
    let now = t + 1;
    let pts = db.query("cpu", now - DAY, now, 0, now).unwrap();
    // 1-minute points up to the last rollup watermark, then raw 10 s samples.
    let minute: Vec<_> = pts
        .iter()
        .filter(|p| p.ts % MIN == 0 && p.min != p.max)
        .collect();
    assert!(minute.len() > 300, "{} minute points", minute.len());
    let last = pts.last().unwrap();
    assert_eq!((last.ts, last.value), (t, ((6 * 360 - 1) % 100) as f64));
    assert!(pts.windows(2).all(|w| w[0].ts < w[1].ts));
    let raw_tail = pts
        .iter()
        .filter(|p| p.ts > now - 20 * MIN && p.ts % MIN != 0)
        .count();
    assert!(raw_tail > 0);
    // Global min and max survive downsampling to 10 points.
    let few = db.query("cpu", now - DAY, now, 10, now).unwrap();
    assert!(few.len() <= 10);
    assert_eq!(few.iter().map(|p| p.max).fold(f64::MIN, f64::max), 99.0);
    assert_eq!(few.iter().map(|p| p.min).fold(f64::MAX, f64::min), 0.0);
    // Unknown series and empty ranges.
    assert!(db
        .query("nope", now - DAY, now, 10, now)
        .unwrap()
        .is_empty());
    assert!(db.query("cpu", now, now - 1, 10, now).unwrap().is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn downsampling_keeps_global_min_and_max(
        values in proptest::collection::vec(-1e6f64..1e6, 1..600),
        max_points in 1usize..50,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir, small_chunks());
        for (i, v) in values.iter().enumerate() {
            db.append("x", T0 + i as i64 * 1000, *v).unwrap();
        }
        let end = T0 + values.len() as i64 * 1000;
        let pts = db.query("x", T0, end, max_points, end).unwrap();
        prop_assert!(pts.len() <= max_points);
        let max = values.iter().copied().fold(f64::MIN, f64::max);
        let min = values.iter().copied().fold(f64::MAX, f64::min);
        prop_assert_eq!(pts.iter().map(|p| p.max).fold(f64::MIN, f64::max), max);
        prop_assert_eq!(pts.iter().map(|p| p.min).fold(f64::MAX, f64::min), min);
        prop_assert!(pts.iter().all(|p| p.min <= p.value && p.value <= p.max));
        prop_assert!(pts.windows(2).all(|w| w[0].ts < w[1].ts));
    }
}

#[test]
fn retention_deletes_old_chunks_keeps_new_and_waits_for_rollup() {
    let dir = tempfile::tempdir().unwrap();
    let config = TierConfig {
        tiers: vec![TierSpec::new(1_000, 2 * HOUR), TierSpec::new(MIN, DAY)],
        max_chunk_samples: 30,
        late_tolerance_ms: 0,
    };
    let db = open(&dir, config.clone());
    let end = T0 + 6 * HOUR;
    let mut t = T0;
    while t < end {
        db.append("m", t, 1.0).unwrap();
        t += 10_000;
    }
    db.flush().unwrap();
    let chunks_before = db.stats().unwrap().chunks;
    // Not rolled up yet: raw must survive retention.
    let p = db.retain(end).unwrap();
    assert_eq!(p.chunks_deleted, 0);
    assert_eq!(db.query("m", T0, end, 0, end).unwrap().len(), 6 * 360);
    // Rolled but not flushed: still kept.
    db.rollup(end).unwrap();
    assert_eq!(db.retain(end).unwrap().chunks_deleted, 0);
    db.flush().unwrap();
    let p = db.retain(end).unwrap();
    assert!(p.done && p.chunks_deleted > 0);
    let stats = db.stats().unwrap();
    // Raw windows ending by now − 2 h went (8 windows of 30 min, 6 chunks each); the flush after
    // the rollup sealed six 1-hour minute-tier windows of 60 rows, 2 chunks each, and the rollup
    // sealed the raw head, whose window is over.
    assert_eq!((p.bundles_deleted, p.chunks_deleted), (8, 48));
    assert_eq!(
        stats.chunks,
        chunks_before - p.chunks_deleted as u64 + 12 + 1,
        "{chunks_before} {p:?}"
    );
    // Everything from the last 2 h is still there at full resolution...
    let recent = db.query("m", end - 2 * HOUR, end, 0, end).unwrap();
    assert_eq!(recent.len(), 2 * 360);
    // ...older raw chunks are gone (at most one chunk span of extra data is kept)...
    let mut probe = Vec::new();
    for p in db.query("m", T0, end - 2 * HOUR - 1, 0, T0).unwrap() {
        probe.push(p.ts);
    }
    assert!(probe.len() < 30 + 1, "{} raw points survived", probe.len());
    // ...but the day view still covers the whole range from the minute tier.
    let day = db.query("m", T0, end, 0, end).unwrap();
    assert_eq!(day.first().unwrap().ts, T0);
    drop(db);
    let db = open(&dir, config.clone());
    assert_eq!(
        db.query("m", end - 2 * HOUR, end, 0, end).unwrap().len(),
        2 * 360
    );
    // Far in the future every tier expires and the series is forgotten.
    let later = end + 30 * DAY;
    db.rollup(later).unwrap();
    db.flush().unwrap();
    let p = db.retain(later).unwrap();
    assert_eq!(p.series_removed, 1);
    db.flush().unwrap();
    let stats = db.stats().unwrap();
    assert_eq!((stats.series, stats.chunks, stats.heads), (0, 0, 0));
    drop(db);
    let db = open(&dir, config);
    assert!(db.series_keys().is_empty());
}

#[test]
fn budgeted_steps_cover_every_series() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir, TierConfig::default());
    for s in 0..25 {
        for i in 0..20 {
            db.append(format!("s{s}"), T0 + i * 10_000, 1.0).unwrap();
        }
    }
    let now = T0 + HOUR;
    let mut visited = 0;
    let mut calls = 0;
    loop {
        let p = db.rollup_step(now, 7).unwrap();
        visited += p.series;
        calls += 1;
        if p.done {
            break;
        }
    }
    assert_eq!((visited, calls), (25, 4));
    let p = db.retain_step(now, 100).unwrap();
    assert_eq!((p.series, p.done), (25, true));
    let pts = db
        .query_many(&["s3", "missing", "s24"], now - DAY, now, 0, now)
        .unwrap();
    assert_eq!(pts.len(), 3);
    assert_eq!(pts[0].len(), 4, "4 minute buckets of 20 samples");
    assert!(pts[1].is_empty());
    assert_eq!(pts[0], pts[2]);
}

#[test]
fn changed_tier_layout_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(&dir, TierConfig::default()));
    let mut other = TierConfig::default();
    other.tiers[1].resolution_ms = 5 * MIN;
    let err = try_open(&dir, other).unwrap_err();
    assert_eq!(err.code(), "tsdb.format_mismatch");
    let mut longer = TierConfig::default();
    longer.tiers[0].retention_ms = 6 * HOUR;
    drop(open(&dir, longer));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn retention_never_drops_data_inside_the_window(
        gaps in proptest::collection::vec(1i64..120, 50..1500),
        maintain_every in 5usize..200,
    ) {
        let retention = 30 * MIN;
        let span = 10 * MIN;
        let config = TierConfig {
            tiers: vec![
                TierSpec { resolution_ms: 1_000, retention_ms: retention, max_chunk_span_ms: span },
                TierSpec::new(MIN, DAY),
            ],
            max_chunk_samples: 20,
            late_tolerance_ms: 0,
        };
        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir, config.clone());
        let mut t = T0;
        let mut samples = Vec::new();
        for (i, gap) in gaps.iter().enumerate() {
            t += gap * 1000;
            db.append("r", t, i as f64).unwrap();
            samples.push(t);
            if i % maintain_every == 0 {
                db.rollup(t).unwrap();
                db.flush().unwrap();
                db.retain(t).unwrap();
                let raw: Vec<i64> = db.query("r", i64::MIN / 4, t, 0, i64::MIN / 4).unwrap().iter().map(|p| p.ts).collect();
                let must_keep: Vec<i64> = samples.iter().copied().filter(|&s| s >= t - retention).collect();
                prop_assert!(raw.ends_with(&must_keep), "kept {} of {}", raw.len(), must_keep.len());
                // Whole chunks only: nothing older than one chunk (span + gap) beyond the cutoff.
                if let Some(&oldest) = raw.first() {
                    prop_assert!(oldest >= t - retention - span - 120_000, "oldest {} cutoff {}", oldest, t - retention);
                }
                prop_assert!(samples.ends_with(&raw));
            }
        }
        db.flush().unwrap();
        drop(db);
        let db = open(&dir, config);
        let raw: Vec<i64> = db.query("r", i64::MIN / 4, t, 0, i64::MIN / 4).unwrap().iter().map(|p| p.ts).collect();
        let must_keep: Vec<i64> = samples.iter().copied().filter(|&s| s >= t - retention).collect();
        prop_assert!(raw.ends_with(&must_keep) && samples.ends_with(&raw));
    }
}

#[test]
fn concurrent_appends_flushes_and_maintenance_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = std::sync::Arc::new(open(&dir, small_chunks()));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let db = std::sync::Arc::clone(&db);
            std::thread::spawn(move || {
                for i in 0..2000i64 {
                    db.append(format!("w{w}"), T0 + i * 10_000, i as f64)
                        .unwrap();
                }
            })
        })
        .collect();
    let maint = {
        let db = std::sync::Arc::clone(&db);
        std::thread::spawn(move || {
            for step in 0..200i64 {
                // Stays inside the raw retention window, so nothing may disappear.
                let now = T0 + step * 30_000;
                db.rollup_step(now, 2).unwrap();
                db.flush().unwrap();
                db.retain_step(now, 2).unwrap();
                let _ = db
                    .query_many(&["w0", "w1", "w2"], now - DAY, now, 50, now)
                    .unwrap();
            }
        })
    };
    for w in writers {
        w.join().unwrap();
    }
    maint.join().unwrap();
    db.flush().unwrap();
    drop(db);
    let db = open(&dir, small_chunks());
    for w in 0..3 {
        let pts = db.query(format!("w{w}"), T0, T0 + DAY, 0, T0).unwrap();
        assert_eq!(pts.len(), 2000, "writer {w}");
        assert!(pts.iter().enumerate().all(|(i, p)| p.value == i as f64));
    }
}

#[test]
fn flushes_write_only_new_samples_and_sealing_frees_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir, TierConfig::default());
    let keys: Vec<String> = (0..300).map(|s| format!("org/r{s}/cpu")).collect();
    let value = |s: usize, round: i64| ((s as i64 * 37 + round * 11) % 10_000) as f64 / 100.0;
    for round in 0..60i64 {
        for (s, k) in keys.iter().enumerate() {
            db.append(k, T0 + round * 10_000, value(s, round)).unwrap();
        }
        let f = db.flush().unwrap();
        assert_eq!((f.heads, f.chunks), (300, 0), "round {round}");
        if round > 0 {
            // Only the bits added since the last flush: a few bytes per sample, however long
            // the heads have grown.
            assert!(f.bytes < 300 * 8 + 200, "round {round}: {f:?}");
        }
    }
    assert_eq!(db.stats().unwrap().segments, 60);
    // The next 30-minute window seals every head: the chunks go out in bundles and every
    // segment before the new heads' first run is deleted in the same batch.
    for (s, k) in keys.iter().enumerate() {
        db.append(k, T0 + 30 * MIN, value(s, 60)).unwrap();
    }
    let f = db.flush().unwrap();
    assert_eq!((f.chunks, f.segments_deleted), (300, 60), "{f:?}");
    assert!(f.bundles >= 1);
    let stats = db.stats().unwrap();
    assert_eq!((stats.segments, stats.chunks, stats.heads), (1, 300, 300));
    drop(db);
    let db = open(&dir, TierConfig::default());
    for (s, k) in keys.iter().enumerate() {
        let pts = db.query(k, T0, T0 + HOUR, 0, T0 + HOUR).unwrap();
        assert_eq!(pts.len(), 61, "{k}");
        assert_eq!(pts[60].value, value(s, 60));
        assert_eq!(pts[59].ts, T0 + 59 * 10_000);
    }
}

#[test]
fn idle_heads_are_sealed_so_they_pin_no_wal() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir, TierConfig::default());
    db.append("idle", T0, 1.0).unwrap();
    db.append("busy", T0, 1.0).unwrap();
    db.flush().unwrap();
    // Only "busy" keeps reporting; once its samples are a window (plus the lateness allowance)
    // past the idle head's window, a flush seals the idle head.
    let mut t = T0;
    while t < T0 + 32 * MIN {
        t += 10_000;
        db.append("busy", t, 2.0).unwrap();
        db.flush().unwrap();
    }
    let stats = db.stats().unwrap();
    assert_eq!(stats.heads, 1, "{stats:?}");
    // Both heads now started in the current window: only its segments are left.
    assert!(stats.segments <= 13, "{stats:?}");
    assert_eq!(db.query("idle", T0, t, 0, t).unwrap().len(), 1);
}
