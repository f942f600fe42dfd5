//! Metrics history measurements (issue 6), each on the real code paths:
//!
//! * `history-size`: a simulated day of 10 s samples from the simulated agents (host reports
//!   through the real agent normaliser, the history writer's sample extraction and
//!   quantisation) into the real store with a flush every 10 s; prints logical bytes, the store's
//!   on-disk figure (sled + block files) and the sum of all file sizes in the data dir per sample.
//! * `history-ingest`: 10,000 resources × 7 metrics every 10 s (simulated clock, as fast as it
//!   goes): sample extraction, appends, a flush every 5 s and a rollup/retention pass every
//!   60 s; prints CPU time per simulated second as a share of one core.
//! * `history-charts`: 1,000 resources with an hour of history written into a data dir, then
//!   the real server process started on it and `/api/charts?range=1h` timed over HTTP.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pulse::history::metric::samples_of_parts;
use pulse::history::store::{series_key, MetricsStore, Sample};
use pulse::history::{Metric, Retention, TsdbStore};
use pulse::model::Timestamp;
use pulse::sim::agents::host_report;
use pulse::sources::agent::{parse_host, AgentIngestor};

use crate::server::{cpu_time_of, ServerProcess};
use crate::stats::Latencies;

const T0: i64 = 1_767_225_600_000;
const STEP: i64 = 10_000;
const DAY_TICKS: i64 = 8_640;

fn open_store(dir: &std::path::Path, retention: Retention) -> TsdbStore {
    TsdbStore::open(
        sled::open(dir).expect("sled"),
        &dir.join("blocks"),
        retention,
    )
    .expect("store")
}

/// A day of simulated hosts into a store that keeps raw samples for the whole day.
pub fn size(hosts: u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let day = Retention {
        raw_ms: 2 * 86_400_000,
        minute_ms: 2 * 86_400_000,
        hour_ms: 7 * 86_400_000,
        day_ms: 90 * 86_400_000,
    };
    let store = open_store(dir.path(), day);
    let mut ingest = AgentIngestor::new("default");
    let mut per_metric = std::collections::BTreeMap::<Metric, u64>::new();
    // Every series' samples as the writer produced them, for the codec cost per metric.
    let mut by_series = std::collections::BTreeMap::<(u64, String, Metric), Vec<(i64, f64)>>::new();
    let started = Instant::now();
    for tick in 0..DAY_TICKS {
        let now = T0 + tick * STEP;
        let mut batch = Vec::new();
        for seed in 0..hosts {
            // Every host reports once per 10 s with its own phase.
            let at = now + (seed as i64 * 997) % STEP;
            let json = serde_json::to_vec(&host_report(seed, tick as u64)).expect("json");
            let report = parse_host(&json).expect("host report");
            let (snapshot, _) = ingest
                .host(report, Timestamp::from_millis(at))
                .expect("ingest");
            for record in &snapshot.records {
                let id = format!("agent-{seed:016x}-{}", record.source_id);
                for (metric, value) in
                    samples_of_parts(record.resource_type, &record.metrics, record.temperature)
                {
                    *per_metric.entry(metric).or_default() += 1;
                    by_series
                        .entry((seed, record.source_id.to_string(), metric))
                        .or_default()
                        .push((at, value));
                    batch.push(Sample {
                        key: series_key("default", &id, metric),
                        ts_ms: at,
                        value,
                    });
                }
            }
        }
        store.append(&batch);
        store.flush().expect("flush");
    }
    let stats = store.stats().expect("stats");
    let files = pulse_tsdb::bytes_under(dir.path()).expect("data dir size");
    let n = stats.samples_written as f64;
    println!(
        "history-size: {hosts} simulated hosts, one day of 10 s reports ({:.0} s to run)",
        started.elapsed().as_secs_f64()
    );
    println!("  samples per metric: {per_metric:?}");
    println!(
        "  {} samples in {} series: logical {:.3} B/sample (WAL {:.3}), on disk (sled + blocks) {:.3} B/sample",
        stats.samples_written,
        stats.series,
        stats.logical_bytes as f64 / n,
        stats.wal_bytes as f64 / n,
        stats.bytes_on_disk as f64 / n
    );
    println!(
        "  block files {:.3} B/sample; all files in the data dir (sled + blocks) {:.3} B/sample ({files} bytes)",
        stats.block_bytes as f64 / n,
        files as f64 / n
    );
    println!("  {stats:?}");
    // Codec alone, per metric: each series in raw-window chunks (30 min = 180 samples), 1 s
    // timestamps, like the store's raw tier.
    let mut codec = std::collections::BTreeMap::<Metric, (usize, usize)>::new();
    for ((_, _, metric), samples) in &by_series {
        let entry = codec.entry(*metric).or_default();
        for chunk in samples.chunks(180) {
            let mut enc = pulse_tsdb::codec::ChunkEncoder::new(1, 1_000).expect("encoder");
            for &(ts, v) in chunk {
                let ts = (ts + 500).div_euclid(1_000) * 1_000;
                enc.push(ts, &[v]).expect("push");
            }
            entry.0 += enc.encoded_len();
            entry.1 += chunk.len();
        }
    }
    let per: Vec<String> = codec
        .iter()
        .map(|(m, (bytes, n))| format!("{} {:.2}", m.as_str(), *bytes as f64 / *n as f64))
        .collect();
    println!("  codec alone, B/sample by metric: {}", per.join(", "));
}

/// Deterministic per-resource noise in `0..1`.
fn noise(a: u64, b: u64) -> f64 {
    let mut z = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 31)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// The seven metrics of resource `r` at round `k`: percentages with two decimals, rates rounded
/// like the writer does.
fn values(r: u64, k: u64) -> [(Metric, f64); 7] {
    let wave = |salt: u64, lo: f64, hi: f64| {
        let slow = 0.5 + 0.4 * ((k as f64) / 40.0 + noise(r, salt) * std::f64::consts::TAU).sin();
        lo + (hi - lo) * (slow + 0.1 * (noise(r ^ salt, k) - 0.5))
    };
    [
        (Metric::Cpu, Metric::Cpu.quantise(wave(1, 2.0, 90.0))),
        (Metric::Memory, Metric::Memory.quantise(wave(2, 20.0, 80.0))),
        (Metric::Disk, Metric::Disk.quantise(40.0 + k as f64 * 1e-4)),
        (Metric::NetIn, Metric::NetIn.quantise(wave(3, 1e3, 5e6))),
        (Metric::NetOut, Metric::NetOut.quantise(wave(4, 1e3, 2e6))),
        (
            Metric::DiskRead,
            Metric::DiskRead.quantise(wave(5, 0.0, 3e6)),
        ),
        (
            Metric::DiskWrite,
            Metric::DiskWrite.quantise(wave(6, 0.0, 8e6)),
        ),
    ]
}

/// Sustained ingest CPU share.
pub fn ingest(resources: u64, rounds: u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn MetricsStore> = Arc::new(open_store(dir.path(), Retention::default()));
    let ids: Vec<String> = (0..resources).map(|r| format!("vm-{r:016x}")).collect();
    let me = std::process::id();
    // Warm-up: one hour, so heads, bundles and rollups are in their steady state.
    let warmup = 360;
    let mut cpu_start = Duration::ZERO;
    let mut wall_start = Instant::now();
    for k in 0..warmup + rounds {
        if k == warmup {
            cpu_start = cpu_time_of(me);
            wall_start = Instant::now();
        }
        let now = T0 + k as i64 * STEP;
        let mut batch = Vec::with_capacity(2048);
        for (r, id) in ids.iter().enumerate() {
            for (metric, value) in values(r as u64, k) {
                batch.push(Sample {
                    key: series_key("default", id, metric),
                    ts_ms: now + (r as i64 * 13) % STEP,
                    value,
                });
            }
            if batch.len() >= 2048 {
                store.append(&batch);
                batch.clear();
            }
        }
        store.append(&batch);
        // Two flushes per 10 s round (the default 5 s interval), maintenance every 60 s.
        store.flush().expect("flush");
        store.flush().expect("flush");
        if k % 6 == 5 {
            loop {
                if store.maintain(now, 256).expect("maintain").done {
                    break;
                }
            }
        }
    }
    let cpu = cpu_time_of(me).saturating_sub(cpu_start);
    let simulated = Duration::from_secs(rounds * 10);
    println!(
        "history-ingest: {resources} resources × 7 metrics every 10 s, {rounds} rounds after a 1 h warm-up"
    );
    println!(
        "  CPU {:.2} s for {} s of simulated time = {:.2} % of one core (wall {:.1} s)",
        cpu.as_secs_f64(),
        simulated.as_secs(),
        100.0 * cpu.as_secs_f64() / simulated.as_secs_f64(),
        wall_start.elapsed().as_secs_f64()
    );
    println!("  {:?}", store.stats().expect("stats"));
}

/// `/api/charts?range=1h` latency for `resources` resources with an hour of history.
pub async fn charts(resources: u64, requests: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    {
        let store = pulse::store::Store::open(dir.path()).expect("data dir");
        let history = TsdbStore::open(
            store.sled_db(),
            &store.data_dir().join(pulse::history::store::BLOCKS_DIR),
            Retention::default(),
        )
        .expect("history");
        let start = now - 3_600_000;
        for k in 0..360u64 {
            let t = start + k as i64 * STEP;
            let batch: Vec<Sample> = (0..resources)
                .flat_map(|r| {
                    let id = format!("vm-{r:016x}");
                    values(r, k)
                        .into_iter()
                        .filter(|(m, _)| m.as_str() != "diskRead" && m.as_str() != "diskWrite")
                        .map(move |(metric, value)| Sample {
                            key: series_key("default", &id, metric),
                            ts_ms: t,
                            value,
                        })
                })
                .collect();
            history.append(&batch);
            if k % 30 == 29 {
                history.flush().expect("flush");
            }
        }
        history.flush().expect("flush");
    }
    let server = ServerProcess::start_in(dir, &[]);
    let url = format!("{}/api/charts?range=1h", server.base);
    println!("history-charts: /api/charts?range=1h, {resources} resources × 5 metrics, 1 h of 10 s samples");
    for gzip in [true, false] {
        let client = reqwest::Client::builder()
            .gzip(gzip)
            .build()
            .expect("client");
        let (lat, size) = time_charts(&client, &url, &server.token, resources, requests).await;
        println!(
            "  {} {} (body {} bytes)",
            if gzip { "gzip: " } else { "plain:" },
            lat.summary(),
            size
        );
    }
}

async fn time_charts(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    resources: u64,
    requests: usize,
) -> (Latencies, usize) {
    let mut lat = Latencies(Vec::new());
    let mut size = 0;
    for i in 0..requests + 5 {
        let started = Instant::now();
        let body = client
            .get(url)
            .header("X-API-Token", token)
            .send()
            .await
            .expect("request")
            .bytes()
            .await
            .expect("body");
        if i >= 5 {
            lat.0.push(started.elapsed());
        }
        size = body.len();
        if i == 0 {
            let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
            let n = v["resources"].as_object().map_or(0, |r| r.len());
            assert_eq!(n as u64, resources, "every resource charted");
        }
    }
    (lat, size)
}
