//! Crash safety: a writer killed with SIGKILL loses at most what it appended after its last flush,
//! and the store reopens cleanly.
//!
//! The test re-runs this test binary as a child (selected by `PULSE_TSDB_KILL9_DIR`) that appends,
//! rolls up and flushes in a loop, printing the round number after each completed flush. The parent
//! kills it mid-loop, reopens the store and checks every round up to the last printed one.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use pulse_tsdb::{TierConfig, Tsdb};

const ENV_DIR: &str = "PULSE_TSDB_KILL9_DIR";
const SERIES: usize = 40;
const T0: i64 = 1_700_000_000_000;
const STEP: i64 = 10_000;

fn config() -> TierConfig {
    TierConfig {
        max_chunk_samples: 8,
        late_tolerance_ms: 0,
        ..TierConfig::default()
    }
}

fn value(series: usize, round: i64) -> f64 {
    (series as i64 * 1000 + round) as f64 / 10.0
}

/// Child side: runs only when spawned by the parent test.
#[test]
fn kill9_child_writer() {
    let Ok(dir) = std::env::var(ENV_DIR) else {
        return;
    };
    let db = Tsdb::open_path(&dir, config()).expect("child open");
    let keys: Vec<String> = (0..SERIES).map(|s| format!("org/r{s}/cpu")).collect();
    let start = db
        .query(&keys[SERIES - 1], T0, i64::MAX / 4, 0, T0)
        .expect("child query")
        .len() as i64;
    let batch = |round: i64| -> Vec<(&str, i64, f64)> {
        keys.iter()
            .enumerate()
            .map(|(s, k)| (k.as_str(), T0 + round * STEP, value(s, round)))
            .collect()
    };
    for round in start.. {
        // The first half may already hold this round from the previous iteration.
        db.append_batch(&batch(round));
        if round % 7 == 0 {
            db.rollup(T0 + round * STEP).expect("rollup");
        }
        db.flush().expect("flush");
        println!("FLUSHED {round}");
        // Unflushed appends in flight when the kill lands.
        db.append_batch(&batch(round + 1)[..SERIES / 2]);
    }
}

#[test]
fn kill9_loses_at_most_unflushed_samples() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut last_total = 0;
    for _attempt in 0..3 {
        let mut child = Command::new(&exe)
            .args([
                "kill9_child_writer",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(ENV_DIR, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut last = None;
        let target = last_total + 40;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(n) = line.strip_prefix("FLUSHED ") {
                let n: i64 = n.parse().unwrap();
                last = Some(n);
                if n >= target {
                    break;
                }
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let last = last.expect("child flushed at least once");

        let db = Tsdb::open_path(dir.path(), config()).expect("store reopens after SIGKILL");
        let now = T0 + (last + 1) * STEP;
        for s in 0..SERIES {
            let pts = db
                .query(format!("org/r{s}/cpu"), T0, now + STEP, 0, T0)
                .unwrap();
            assert!(
                pts.len() as i64 > last,
                "series {s}: {} points, last flushed round {last}",
                pts.len()
            );
            for (round, p) in pts.iter().enumerate() {
                assert_eq!(p.ts, T0 + round as i64 * STEP);
                assert_eq!(p.value, value(s, round as i64));
            }
        }
        assert!(db.stats().unwrap().samples_written >= (SERIES as u64) * (last as u64 + 1));
        last_total = last;
    }
}
