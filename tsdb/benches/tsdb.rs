//! Criterion benches for pulse-tsdb: codec throughput, queries, sustained ingest.
//!
//! Besides criterion's wall-clock figures, the ingest bench prints process CPU time per round
//! (all threads, including sled's) and the resulting fraction of one core at a 10 s cadence.

#[path = "../tests/support/realistic.rs"]
mod realistic;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pulse_tsdb::codec::{decode_chunk, ChunkEncoder};
use pulse_tsdb::{TierConfig, Tsdb};
use realistic::{Kind, SeriesGen, DAY_SAMPLES, INTERVAL_MS, KINDS};

const T0: i64 = 1_700_000_000_000 - 1_700_000_000_000 % 86_400_000;
const HOUR: i64 = 3_600_000;

/// Realistic samples (all kinds), timestamps rounded to 1 s, split in 120-sample chunks.
fn realistic_chunks() -> Vec<Vec<(i64, f64)>> {
    KINDS
        .iter()
        .flat_map(|&k| {
            let samples = SeriesGen::new(k, 7, T0).take(DAY_SAMPLES);
            samples
                .chunks(120)
                .map(|c| {
                    c.iter()
                        .map(|&(t, v)| ((t + 500) / 1000 * 1000, v))
                        .collect()
                })
                .collect::<Vec<Vec<(i64, f64)>>>()
        })
        .collect()
}

fn encode(chunks: &[Vec<(i64, f64)>]) -> Vec<Vec<u8>> {
    chunks
        .iter()
        .map(|c| {
            let mut enc = ChunkEncoder::new(1, 1000).expect("encoder");
            for &(t, v) in c {
                enc.push(t, &[v]).expect("push");
            }
            enc.to_bytes()
        })
        .collect()
}

fn codec(c: &mut Criterion) {
    let chunks = realistic_chunks();
    let samples: usize = chunks.iter().map(Vec::len).sum();
    let encoded = encode(&chunks);
    let mut g = c.benchmark_group("codec");
    g.throughput(Throughput::Elements(samples as u64));
    g.bench_function("encode", |b| {
        b.iter(|| black_box(encode(black_box(&chunks))))
    });
    g.bench_function("decode", |b| {
        b.iter(|| {
            for bytes in &encoded {
                black_box(decode_chunk(black_box(bytes)).expect("decode"));
            }
        })
    });
    g.finish();
}

/// A store holding `series` cpu series ingested for `duration` with the production routine:
/// flush each round, rollup + retain every 15 minutes.
fn populated(series: usize, duration: i64) -> (tempfile::TempDir, Tsdb, Vec<String>, i64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Tsdb::open_path(dir.path(), TierConfig::default()).expect("open");
    let keys: Vec<String> = (0..series).map(|s| format!("org/vm{s}/cpu")).collect();
    let mut gens: Vec<SeriesGen> = (0..series)
        .map(|s| SeriesGen::new(Kind::Cpu, s as u64, T0))
        .collect();
    let rounds = duration / INTERVAL_MS;
    let mut now = T0;
    for round in 0..rounds {
        let batch: Vec<(&str, i64, f64)> = keys
            .iter()
            .zip(gens.iter_mut())
            .map(|(k, g)| {
                let (t, v) = g.next_sample();
                (k.as_str(), t, v)
            })
            .collect();
        db.append_batch(&batch);
        now = T0 + (round + 1) * INTERVAL_MS;
        if round % 90 == 89 {
            db.rollup(now).expect("rollup");
            db.flush().expect("flush");
            db.retain(now).expect("retain");
        } else if round % 6 == 5 {
            db.flush().expect("flush");
        }
    }
    db.flush().expect("flush");
    (dir, db, keys, now)
}

fn queries(c: &mut Criterion) {
    let mut g = c.benchmark_group("query");
    g.sample_size(20);
    let (_dir, db, keys, now) = populated(1, 24 * HOUR);
    let key = &keys[0];
    let n = db
        .query(key, now - 24 * HOUR, now, 0, now)
        .expect("query")
        .len();
    eprintln!("24h query: {n} rows before downsampling (1-min tier + raw tail)");
    g.bench_function("24h_one_series_500_points", |b| {
        b.iter(|| {
            black_box(
                db.query(key, now - 24 * HOUR, now, 500, now)
                    .expect("query"),
            )
        })
    });
    drop(db);

    let (_dir, db, keys, now) = populated(1_000, 2 * HOUR);
    let stats = db.stats().expect("stats");
    eprintln!(
        "query_many store: {} series, {} chunks on disk, {} heads",
        stats.series, stats.chunks, stats.heads
    );
    g.bench_function("1h_1000_series_60_points", |b| {
        b.iter(|| {
            black_box(
                db.query_many(&keys, now - HOUR, now, 60, now)
                    .expect("query_many"),
            )
        })
    });
    g.finish();
}

/// Process CPU time (all threads).
fn cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes to the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn ingest(c: &mut Criterion) {
    const SERIES: usize = 70_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Tsdb::open_path(dir.path(), TierConfig::default()).expect("open");
    let keys: Vec<String> = (0..SERIES / 7)
        .flat_map(|r| {
            [
                "cpu",
                "memory",
                "disk",
                "netIn",
                "netOut",
                "diskRead",
                "diskWrite",
            ]
            .map(|m| format!("org/resource-{r:05}/{m}"))
        })
        .collect();
    let mut round = 0i64;
    let (mut append_wall, mut flush_wall) = (Duration::ZERO, Duration::ZERO);
    let mut one_round = |db: &Tsdb| {
        let start = Instant::now();
        let ts = T0 + round * INTERVAL_MS;
        let batch: Vec<(&str, i64, f64)> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                (
                    k.as_str(),
                    ts + (i as i64 % 97),
                    ((i as i64 * 7 + round) % 1000) as f64 / 10.0,
                )
            })
            .collect();
        db.append_batch(&batch);
        let appended = Instant::now();
        db.flush().expect("flush");
        append_wall += appended - start;
        flush_wall += appended.elapsed();
        round += 1;
    };
    // Reach steady state: heads of all series partly filled, chunks being sealed.
    for _ in 0..150 {
        one_round(&db);
    }
    let mut g = c.benchmark_group("ingest");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    let mut cpu_total = Duration::ZERO;
    let mut wall_total = Duration::ZERO;
    let mut rounds = 0u32;
    g.bench_function("70k_series_round_append_and_flush", |b| {
        b.iter_custom(|iters| {
            let cpu0 = cpu_time();
            let start = Instant::now();
            for _ in 0..iters {
                one_round(&db);
            }
            let wall = start.elapsed();
            cpu_total += cpu_time() - cpu0;
            wall_total += wall;
            rounds += iters as u32;
            wall
        })
    });
    g.finish();
    let cpu = cpu_total / rounds.max(1);
    let all_rounds = round.max(1) as u32;
    eprintln!(
        "ingest split (all {all_rounds} rounds, wall): build batch + append {:?}/round, flush {:?}/round",
        append_wall / all_rounds,
        flush_wall / all_rounds
    );
    eprintln!(
        "ingest: {rounds} rounds of 70,000 appends + flush: wall {:?}/round, CPU {:?}/round = {:.1} % of one core at a 10 s cadence",
        wall_total / rounds.max(1),
        cpu,
        cpu.as_secs_f64() / 10.0 * 100.0
    );
    let now = T0 + round * INTERVAL_MS;
    let start = Instant::now();
    let cpu0 = cpu_time();
    let progress = db.rollup(now).expect("rollup");
    eprintln!(
        "rollup pass over {} series ({} buckets): wall {:?}, CPU {:?}",
        progress.series,
        progress.buckets,
        start.elapsed(),
        cpu_time() - cpu0
    );
    let start = Instant::now();
    db.flush().expect("flush");
    let retained = db.retain(now).expect("retain");
    eprintln!(
        "flush after rollup + retain pass over {} series: wall {:?}",
        retained.series,
        start.elapsed()
    );
    let stats = db.stats().expect("stats");
    eprintln!(
        "ingest store: {} samples, {} chunks, logical {:.2} B/sample, sled {:.2} B/sample",
        stats.samples_written,
        stats.chunks,
        stats.logical_bytes as f64 / stats.samples_written as f64,
        stats.bytes_on_disk as f64 / stats.samples_written as f64
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    targets = codec, queries, ingest
}
criterion_main!(benches);
