//! Heap held per series by an open store: 70,000 series (10,000 resources × 7 metrics) with the
//! server's default tiers, after 30 minutes of 10 s samples (one raw window; `ROUNDS` changes
//! it), flushed every round, on a sled database with the server's 16 MiB page cache. Counts the
//! bytes the live allocations requested, sled's included; run with
//! `cargo run --release -p pulse-tsdb --example series_memory`.

#[path = "common/counting.rs"]
mod counting;

use counting::live_bytes;
use pulse_tsdb::{TierConfig, Tsdb};

const SERIES: usize = 70_000;
const START: i64 = 1_800_000_000_000;

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache: u64 = std::env::var("SLED_CACHE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let sled = sled::Config::new()
        .path(dir.path().join("db"))
        .cache_capacity(cache * 1024 * 1024)
        .open()
        .expect("sled");
    let db = Tsdb::open(sled, dir.path().join("blocks"), TierConfig::default()).expect("open");
    let base = live_bytes();
    let keys: Vec<String> = (0..SERIES)
        .map(|i| format!("default/app-container-{:016x}/{}", i / 7, i % 7))
        .collect();
    let keys_bytes = live_bytes() - base;
    let rounds: i64 = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(180);
    for round in 0..rounds {
        let batch: Vec<(&str, i64, f64)> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_str(), START + round * 10_000, (i % 100) as f64 + 0.25))
            .collect();
        let before = live_bytes();
        db.append_batch(&batch);
        let appended = live_bytes();
        drop(batch);
        db.flush().expect("flush");
        if round == 0 {
            println!(
                "first round: append +{:.1} MB, flush +{:.1} MB",
                (appended - before) as f64 / 1e6,
                (live_bytes() - appended) as f64 / 1e6
            );
        }
        if round == 0 || round == rounds - 1 {
            let live = live_bytes() - base - keys_bytes;
            println!(
                "after {} rounds: {:.1} MB live heap in the store = {} bytes per series",
                round + 1,
                live as f64 / 1e6,
                live / SERIES as isize
            );
        }
    }
}
