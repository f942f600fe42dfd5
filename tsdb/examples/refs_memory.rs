//! Heap held per series per retained window by flushed chunk references: 2,000 series with one
//! sample a minute on a single tier of 10-minute windows (so windows accumulate quickly), flushed
//! every window. Measures live heap after 24 and after 144 windows; the difference divided by
//! series × 120 windows is what each further retained window costs a series (its chunk reference,
//! its share of the bundle bookkeeping). sled's page cache is capped at 1 MiB so it is full at
//! both points. Run with `cargo run --release -p pulse-tsdb --example refs_memory`.

#[path = "common/counting.rs"]
mod counting;

use counting::live_bytes;
use pulse_tsdb::{TierConfig, TierSpec, Tsdb};

const SERIES: usize = 2_000;
const START: i64 = 1_800_000_000_000;
const MIN: i64 = 60_000;
const WINDOW: i64 = 10 * MIN;

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sled = sled::Config::new()
        .path(dir.path().join("db"))
        .cache_capacity(1024 * 1024)
        .open()
        .expect("sled");
    let config = TierConfig {
        tiers: vec![TierSpec {
            resolution_ms: 1_000,
            retention_ms: 30 * 24 * 60 * MIN,
            max_chunk_span_ms: WINDOW,
        }],
        max_chunk_samples: 1024,
        late_tolerance_ms: 0,
    };
    let db = Tsdb::open(sled, dir.path().join("blocks"), config).expect("open");
    let keys: Vec<String> = (0..SERIES).map(|i| format!("host-{i:05}/cpu")).collect();
    let mut at_24 = 0;
    for minute in 0..=144 * 10 {
        let ts = START + minute * MIN;
        let batch: Vec<(&str, i64, f64)> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_str(), ts, (i as i64 + minute) as f64 % 97.0))
            .collect();
        db.append_batch(&batch);
        drop(batch);
        if minute % 10 == 0 {
            db.flush().expect("flush");
        }
        if minute == 24 * 10 {
            at_24 = live_bytes();
        }
    }
    let at_144 = live_bytes();
    let chunks = db.stats().expect("stats").chunks;
    println!(
        "{SERIES} series, {chunks} chunks on disk; live heap +{:.2} MB over 120 windows = {:.1} bytes per series per retained window",
        (at_144 - at_24) as f64 / 1e6,
        (at_144 - at_24) as f64 / (SERIES as f64 * 120.0)
    );
}
