//! TrueNAS poll cost: one appliance with many pools, datasets and snapshots, polled over
//! JSON-RPC/WSS and normalised; reports the time per poll and the RSS increase of the polling
//! process. The simulator runs in a child process (this binary re-executed with the internal
//! `truenas-sim` scenario), so the memory figure is the client's alone.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pulse::config::Secret;
use pulse::sim::truenas::{TruenasSim, TruenasSimConfig};
use pulse::sources::tls::TlsMode;
use pulse::sources::truenas::{normalise_truenas, TruenasAuth, TruenasClient, TruenasSettings};
use pulse_model::{RegistryState, Timestamp};

use crate::stats::{mb, ms, Latencies};

/// Size of the simulated appliance and how often to poll it.
pub struct TruenasArgs {
    /// Pools.
    pub pools: usize,
    /// Datasets.
    pub datasets: usize,
    /// Snapshots.
    pub snapshots: usize,
    /// Measured polls.
    pub polls: usize,
}

/// The child: starts a sized simulator, prints `host fingerprint username api_key` on one line
/// and serves until its stdin closes.
pub fn serve_simulator(pools: usize, datasets: usize, snapshots: usize) {
    let sim = TruenasSim::start(TruenasSimConfig {
        workers: 1,
        ..TruenasSimConfig::sized(pools, datasets, snapshots)
    })
    .expect("simulator starts");
    let creds = sim.credentials();
    println!(
        "{} {} {} {}",
        sim.host(),
        sim.fingerprint(),
        creds.username,
        creds.api_key
    );
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
}

/// A `/proc/self/status` field in bytes.
fn status_bytes(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// The wall clock as a model timestamp.
fn now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    Timestamp::from_millis(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// The parent: measures `args.polls` polls against a child simulator.
pub async fn run(args: TruenasArgs) {
    let exe = std::env::current_exe().expect("own path");
    let mut child = Command::new(exe)
        .args([
            "truenas-sim",
            "--pools",
            &args.pools.to_string(),
            "--datasets",
            &args.datasets.to_string(),
            "--snapshots",
            &args.snapshots.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("simulator process");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("simulator announces itself");
    let parts: Vec<&str> = line.split_whitespace().collect();
    let [host, fingerprint, username, key] = parts[..] else {
        panic!("unexpected simulator line {line:?}");
    };
    let settings = TruenasSettings::new(
        "bench",
        host,
        TruenasAuth::ApiKey {
            username: Some(username.to_owned()),
            key: Secret::new(key),
        },
        TlsMode::Pinned(fingerprint.parse().expect("fingerprint")),
    )
    .expect("settings")
    .with_timeout(Duration::from_secs(60));
    let client = TruenasClient::new(settings).expect("client");
    let mut registry = RegistryState::new();
    // Warm up: session, allocator pools, the registry at its working size.
    for _ in 0..2 {
        let poll = client.poll(now()).await.expect("warm-up poll");
        registry.ingest(normalise_truenas(&poll, "bench", now()), now());
    }
    let baseline = status_bytes("VmRSS:");
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let (mut polls, mut normalise, mut ingest) = (
        Latencies::default(),
        Latencies::default(),
        Latencies::default(),
    );
    let mut records = 0;
    let mut snapshots = 0;
    for _ in 0..args.polls {
        let started = Instant::now();
        let poll = client.poll(now()).await.expect("poll");
        polls.0.push(started.elapsed());
        assert!(poll.failures.is_empty(), "{:?}", poll.failures);
        snapshots = poll.snapshots.as_ref().map_or(0, |s| s.total);
        let started = Instant::now();
        let snapshot = normalise_truenas(&poll, "bench", now());
        normalise.0.push(started.elapsed());
        records = snapshot.records.len();
        let started = Instant::now();
        registry.ingest(snapshot, now());
        ingest.0.push(started.elapsed());
    }
    let peak = status_bytes("VmHWM:");
    let end = status_bytes("VmRSS:");
    drop(child.stdin.take());
    let _ = child.wait();
    println!(
        "truenas: {} pools, {} datasets, {snapshots} snapshots → {records} records",
        args.pools, args.datasets
    );
    println!("truenas: poll (fetch + decode)   {}", polls.summary());
    println!("truenas: normalise               {}", normalise.summary());
    println!("truenas: registry ingest + diff  {}", ingest.summary());
    println!(
        "truenas: RSS baseline {:.1} MB, peak during polls +{:.1} MB, after +{:.1} MB",
        mb(baseline),
        mb(peak.saturating_sub(baseline)),
        mb(end.saturating_sub(baseline))
    );
    println!(
        "truenas: worst poll + normalise {:.0} ms",
        ms(polls.percentile(100.0) + normalise.percentile(100.0))
    );
}
