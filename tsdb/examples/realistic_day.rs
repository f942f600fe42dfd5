//! Prints bytes/sample for a realistic day of 10 s samples (cpu %, memory bytes, network bytes/s,
//! ±200 ms poll jitter): codec only (120-sample chunks, ms and 1 s timestamp resolution) and the
//! whole store (block files, sled index and WAL, sled overhead: the sum of the sizes of all files in
//! its directory) after a day of ingest with a flush every 10 s (`FLUSH_ROUNDS=n`: every
//! n × 10 s; `VERBOSE=1` prints the store's figures).
//!
//! `cargo run --release -p pulse-tsdb --example realistic_day [series_per_kind]`

#[path = "../tests/support/realistic.rs"]
mod realistic;

use pulse_tsdb::codec::ChunkEncoder;
use pulse_tsdb::{TierConfig, TierSpec, Tsdb};
use realistic::{Kind, SeriesGen, DAY_SAMPLES, INTERVAL_MS, KINDS};

const START: i64 = 1_700_000_000_000;
const DAY: i64 = 86_400_000;

fn codec_bytes(kind: Kind, series: u64, unit_ms: i64) -> usize {
    let mut total = 0;
    for s in 0..series {
        let samples = SeriesGen::new(kind, s, START).take(DAY_SAMPLES);
        for chunk in samples.chunks(120) {
            let mut enc = ChunkEncoder::new(1, unit_ms).expect("valid encoder");
            for &(t, v) in chunk {
                let t = (t + unit_ms / 2).div_euclid(unit_ms) * unit_ms;
                enc.push(t, &[v]).expect("one column");
            }
            total += enc.encoded_len();
        }
    }
    total
}

/// Logical, sled-reported and all-files bytes per sample, and the sample count.
fn store_bytes(kinds: &[Kind], series: u64) -> (f64, f64, f64, u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = TierConfig {
        tiers: vec![TierSpec::new(1_000, 2 * DAY)],
        ..TierConfig::default()
    };
    let db = Tsdb::open_path(dir.path(), config).expect("open");
    let (keys, mut gens): (Vec<String>, Vec<SeriesGen>) = kinds
        .iter()
        .flat_map(|&k| {
            (0..series).map(move |s| (format!("org/r{s}/{k:?}"), SeriesGen::new(k, s, START)))
        })
        .unzip();
    let mut batch = Vec::with_capacity(gens.len());
    for round in 0..DAY_SAMPLES {
        batch.clear();
        for (key, g) in keys.iter().zip(gens.iter_mut()) {
            let (t, v) = g.next_sample();
            batch.push((key.as_str(), t, v));
        }
        db.append_batch(&batch);
        if round % flush_every() == flush_every() - 1 {
            db.flush().expect("flush");
        }
    }
    db.flush().expect("flush");
    let stats = db.stats().expect("stats");
    if std::env::var("VERBOSE").is_ok() {
        println!("    {stats:?}");
    }
    let n = stats.samples_written as f64;
    (
        stats.logical_bytes as f64 / n,
        stats.bytes_on_disk as f64 / n,
        pulse_tsdb::bytes_under(dir.path()).expect("data dir size") as f64 / n,
        stats.samples_written,
    )
}

/// Rounds (10 s each) between flushes: `FLUSH_ROUNDS` or 1 (the server flushes every 5 s).
fn flush_every() -> usize {
    std::env::var("FLUSH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1)
}

fn main() {
    let series: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let samples = (series as usize * DAY_SAMPLES) as f64;
    println!(
        "realistic day: {series} series per kind x {DAY_SAMPLES} samples ({} s interval, ±200 ms jitter)",
        INTERVAL_MS / 1000
    );
    println!("codec bytes/sample (120-sample chunks incl. headers):");
    let mut combined = [0usize; 2];
    for kind in KINDS {
        let ms = codec_bytes(kind, series, 1);
        let s = codec_bytes(kind, series, 1_000);
        combined[0] += ms;
        combined[1] += s;
        println!(
            "  {kind:<8?} ms timestamps {:.3}   1 s timestamps {:.3}",
            ms as f64 / samples,
            s as f64 / samples
        );
    }
    println!(
        "  combined ms timestamps {:.3}   1 s timestamps {:.3}",
        combined[0] as f64 / (3.0 * samples),
        combined[1] as f64 / (3.0 * samples)
    );
    println!(
        "store bytes/sample (raw tier, 1 s resolution, flush every {} s):",
        flush_every() * 10
    );
    for kind in KINDS {
        let (logical, disk, files, n) = store_bytes(&[kind], series);
        println!(
            "  {kind:<8?} logical {logical:.3}   on disk (sled + blocks) {disk:.3}   all files {files:.3}   ({n} samples)"
        );
    }
    let (logical, disk, files, n) = store_bytes(&KINDS, series);
    println!(
        "  combined logical {logical:.3}   on disk (sled + blocks) {disk:.3}   all files {files:.3}   ({n} samples)"
    );
}
