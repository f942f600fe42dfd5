//! Compression on realistic series (see `support/realistic.rs`): guards the bytes/sample figures
//! against regressions and prints them (`cargo test --test realistic -- --nocapture`).

#[path = "support/realistic.rs"]
mod realistic;

use pulse_tsdb::codec::{decode_chunk, ChunkEncoder};
use pulse_tsdb::{TierConfig, TierSpec, Tsdb};
use realistic::{Kind, SeriesGen, DAY_SAMPLES, KINDS};

const START: i64 = 1_700_000_000_000;
const SERIES: u64 = 10;

/// Codec bytes/sample for a day of `kind` in 120-sample chunks at 1 s timestamp resolution.
fn codec_bytes_per_sample(kind: Kind) -> f64 {
    let mut bytes = 0;
    for s in 0..SERIES {
        let samples = SeriesGen::new(kind, s, START).take(DAY_SAMPLES);
        for chunk in samples.chunks(120) {
            let mut enc = ChunkEncoder::new(1, 1000).unwrap();
            let rounded: Vec<(i64, f64)> = chunk
                .iter()
                .map(|&(t, v)| ((t + 500) / 1000 * 1000, v))
                .collect();
            for &(t, v) in &rounded {
                enc.push(t, &[v]).unwrap();
            }
            let encoded = enc.to_bytes();
            let back = decode_chunk(&encoded).unwrap();
            assert_eq!(
                back.timestamps,
                rounded.iter().map(|s| s.0).collect::<Vec<_>>()
            );
            assert!(back
                .values
                .iter()
                .zip(&rounded)
                .all(|(a, b)| a.to_bits() == b.1.to_bits()));
            bytes += encoded.len();
        }
    }
    bytes as f64 / (SERIES as usize * DAY_SAMPLES) as f64
}

#[test]
fn codec_bytes_per_sample_on_a_realistic_day() {
    let limits = [(Kind::Cpu, 1.3), (Kind::Memory, 1.4), (Kind::Network, 2.6)];
    let mut total = 0.0;
    for (kind, limit) in limits {
        let b = codec_bytes_per_sample(kind);
        println!("codec {kind:?}: {b:.3} bytes/sample");
        assert!(b <= limit, "{kind:?}: {b:.3} > {limit}");
        total += b;
    }
    println!("codec combined: {:.3} bytes/sample", total / 3.0);
    assert!(total / 3.0 <= 1.75);
}

#[test]
fn store_bytes_per_sample_on_a_realistic_day() {
    let dir = tempfile::tempdir().unwrap();
    let config = TierConfig {
        tiers: vec![TierSpec::new(1_000, 2 * 86_400_000)],
        ..TierConfig::default()
    };
    let db = Tsdb::open_path(dir.path(), config).unwrap();
    let (keys, mut gens): (Vec<String>, Vec<SeriesGen>) = KINDS
        .iter()
        .flat_map(|&k| {
            (0..SERIES).map(move |s| (format!("org/r{s}/{k:?}"), SeriesGen::new(k, s, START)))
        })
        .unzip();
    for round in 0..DAY_SAMPLES {
        let batch: Vec<(&str, i64, f64)> = keys
            .iter()
            .zip(gens.iter_mut())
            .map(|(k, g)| {
                let (t, v) = g.next_sample();
                (k.as_str(), t, v)
            })
            .collect();
        assert_eq!(db.append_batch(&batch).accepted, keys.len());
        if round % 60 == 59 {
            db.flush().unwrap();
        }
    }
    db.flush().unwrap();
    let stats = db.stats().unwrap();
    let logical = stats.logical_bytes as f64 / stats.samples_written as f64;
    let on_disk = stats.bytes_on_disk as f64 / stats.samples_written as f64;
    println!(
        "store: {} samples, {} chunks, logical {logical:.3} bytes/sample, sled on disk {on_disk:.3} bytes/sample",
        stats.samples_written, stats.chunks
    );
    assert_eq!(stats.samples_written, 3 * SERIES * DAY_SAMPLES as u64);
    assert!(logical <= 1.9, "{logical}");
}

/// Logical store bytes of a day of `kind` (10 series) with the given tiers, after a rollup pass.
fn day_logical_bytes(kind: Kind, tiers: Vec<TierSpec>) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let config = TierConfig {
        tiers,
        ..TierConfig::default()
    };
    let db = Tsdb::open_path(dir.path(), config).unwrap();
    let mut gens: Vec<SeriesGen> = (0..SERIES)
        .map(|s| SeriesGen::new(kind, s, START))
        .collect();
    let mut last = START;
    for round in 0..DAY_SAMPLES {
        for (s, g) in gens.iter_mut().enumerate() {
            let (t, v) = g.next_sample();
            last = last.max(t);
            db.append(format!("org/r{s}"), t, v).unwrap();
        }
        if round % 360 == 359 {
            db.rollup(last).unwrap();
            db.flush().unwrap();
        }
    }
    db.rollup(last + 120_000).unwrap();
    db.flush().unwrap();
    db.stats().unwrap().logical_bytes
}

#[test]
fn minute_rollups_cost_a_few_bytes_per_row() {
    const DAY: i64 = 86_400_000;
    let raw = TierSpec::new(1_000, 2 * DAY);
    for (kind, limit) in [(Kind::Cpu, 9.0), (Kind::Memory, 9.0), (Kind::Network, 14.0)] {
        let raw_only = day_logical_bytes(kind, vec![raw]);
        let with_minutes = day_logical_bytes(kind, vec![raw, TierSpec::new(60_000, 2 * DAY)]);
        let per_row = (with_minutes - raw_only) as f64 / (SERIES as f64 * 1440.0);
        println!("minute tier {kind:?}: {per_row:.2} bytes per avg/min/max/count row");
        assert!(per_row <= limit, "{kind:?}: {per_row:.2} > {limit}");
    }
}
