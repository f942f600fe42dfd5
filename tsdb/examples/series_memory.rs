//! Heap held per series by an open store with the server's default tiers, counting the live
//! allocations (sled's included) both as requested and rounded up to mimalloc's size classes
//! (what the server really pays). Run with `cargo run --release -p pulse-tsdb --example
//! series_memory`. Two situations:
//!
//! Samples come from the realistic generators (cpu, memory and network series in turn, polled
//! every 10 s with jitter), so head chunks grow as they do in the server.
//!
//! * default: `SERIES` series (70,000: 10,000 resources × 7 metrics) with one sample every 10 s
//!   for `ROUNDS` rounds (180 = 30 minutes, one raw window; 60 = the 10-minute state), flushed
//!   every round, on a sled database with the server's 16 MiB page cache. Reports the heap after
//!   the first round, after the last one (raw tier only), and after one rollup pass and flush
//!   (raw + minute tier, what every series holds a few minutes after it started).
//! * `DAY=1`: the day-old state, every tier allocated. `SERIES` series (default 2,000) for `HOURS`
//!   hours (default 26, starting on a day boundary, so the first day is rolled into the day tier)
//!   with a rollup pass and flush every minute and a retention pass every hour, as the server runs
//!   them; sled's page cache is capped at 1 MiB (`SLED_CACHE_MB`) so it is full early. The figure
//!   includes the retained chunk references and bundle member lists.

#[path = "common/counting.rs"]
mod counting;
#[path = "../tests/support/realistic.rs"]
mod realistic;

use counting::{live_bytes, live_class_bytes};
use pulse_tsdb::{TierConfig, Tsdb};
use realistic::{SeriesGen, KINDS};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
/// An hour boundary (and 00:00 of a day in `DAY` mode after flooring).
const START: i64 = 1_800_000_000_000;
const STEP: i64 = 10_000;

/// Live heap at one moment: requested bytes and bytes in size classes.
#[derive(Clone, Copy)]
struct Heap {
    requested: isize,
    classes: isize,
}

fn heap() -> Heap {
    Heap {
        requested: live_bytes(),
        classes: live_class_bytes(),
    }
}

fn env(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Prints the heap grown since `base` per series.
fn report(label: &str, base: Heap, series: usize) {
    let now = heap();
    let (req, cls) = (now.requested - base.requested, now.classes - base.classes);
    println!(
        "{label}: {:.1} MB live heap in the store = {} B/series requested, {} B/series in mimalloc size classes",
        cls as f64 / 1e6,
        req / series as isize,
        cls / series as isize
    );
}

fn open(dir: &tempfile::TempDir, cache_mb: i64) -> Tsdb {
    let sled = sled::Config::new()
        .path(dir.path().join("db"))
        .cache_capacity(cache_mb as u64 * 1024 * 1024)
        .open()
        .expect("sled");
    Tsdb::open(sled, dir.path().join("blocks"), TierConfig::default()).expect("open")
}

/// The series: keys and their generators (allocated before the heap is first read).
struct Load {
    keys: Vec<String>,
    gens: Vec<SeriesGen>,
}

impl Load {
    fn new(series: usize, start: i64) -> Load {
        Load {
            keys: (0..series)
                .map(|i| format!("default/app-container-{:016x}/{}", i / 7, i % 7))
                .collect(),
            gens: (0..series)
                .map(|i| SeriesGen::new(KINDS[i % KINDS.len()], i as u64, start))
                .collect(),
        }
    }

    /// Appends every series' next sample (within 10 s after the previous round's).
    fn append_round(&mut self, db: &Tsdb) {
        let batch: Vec<(&str, i64, f64)> = self
            .keys
            .iter()
            .zip(&mut self.gens)
            .map(|(k, g)| {
                let (ts, v) = g.next_sample();
                (k.as_str(), ts, v)
            })
            .collect();
        db.append_batch(&batch);
    }
}

fn main() {
    if env("DAY", 0) != 0 {
        day_old();
    } else {
        minutes();
    }
}

fn minutes() {
    let series = env("SERIES", 70_000) as usize;
    let rounds = env("ROUNDS", 180);
    let dir = tempfile::tempdir().expect("tempdir");
    let db = open(&dir, env("SLED_CACHE_MB", 16));
    let mut load = Load::new(series, START);
    let base = heap();
    for round in 0..rounds {
        load.append_round(&db);
        db.flush().expect("flush");
        if round == 0 {
            report("after 1 round", base, series);
        }
    }
    report(&format!("after {rounds} rounds, raw only"), base, series);
    // The server's maintenance pass, a minute apart: rolls the finished minutes (all but the
    // lateness allowance) into the minute tier, which every series then holds.
    let p = db.rollup(START + rounds * STEP).expect("rollup");
    db.flush().expect("flush");
    report(
        &format!(
            "after a rollup pass ({} minute rows per series), raw + minute",
            p.buckets / series
        ),
        base,
        series,
    );
}

fn day_old() {
    let series = env("SERIES", 2_000) as usize;
    let hours = env("HOURS", 26);
    let dir = tempfile::tempdir().expect("tempdir");
    let db = open(&dir, env("SLED_CACHE_MB", 1));
    let start = START - START.rem_euclid(DAY);
    let mut load = Load::new(series, start);
    let base = heap();
    let rounds = hours * HOUR / STEP;
    for round in 0..rounds {
        load.append_round(&db);
        let now = start + (round + 1) * STEP;
        if now % MIN == 0 {
            db.rollup(now).expect("rollup");
            if now % HOUR == 0 {
                db.retain(now).expect("retain");
            }
            db.flush().expect("flush");
        }
    }
    let chunks = db.stats().expect("stats").chunks;
    println!(
        "{series} series after {hours} h: {:.1} flushed chunks per series",
        chunks as f64 / series as f64
    );
    report("day-old, all tiers", base, series);
}
