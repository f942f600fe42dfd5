//! Ingest throughput and latency: host reports posted over keep-alive connections, either as fast
//! as possible (throughput) or paced at a fixed rate (latency percentiles).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::server::ServerProcess;
use crate::stats::{mb, Latencies};

/// Ingest parameters.
pub struct IngestArgs {
    /// Reports per second to pace at; 0 = as fast as possible.
    pub rate: u64,
    /// Concurrent connections.
    pub connections: usize,
    /// Distinct simulated hosts.
    pub hosts: u64,
    /// Measurement duration.
    pub duration: Duration,
}

/// Runs the scenario and prints its figures.
pub async fn run(args: IngestArgs) {
    let server = ServerProcess::start(&[]);
    // Pre-built gzip bodies: the generator's own cost stays out of the measurement.
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..args.hosts)
            .map(|seed| {
                pulse::sim::agents::gzip_json(&pulse::sim::agents::host_report(seed, 0))
                    .unwrap_or_default()
            })
            .collect(),
    );
    let url = format!("{}/api/agents/agent/report", server.base);
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Latencies::default()));
    let started = Instant::now();
    let cpu_before = crate::server::cpu_time_of(server.pid());
    let per_conn_interval = if args.rate > 0 {
        Some(Duration::from_secs_f64(
            args.connections as f64 / args.rate as f64,
        ))
    } else {
        None
    };
    let mut tasks = Vec::new();
    for c in 0..args.connections {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()
            .expect("client");
        let (url, token, bodies) = (url.clone(), server.token.clone(), bodies.clone());
        let (ok, failed, latencies) = (ok.clone(), failed.clone(), latencies.clone());
        let duration = args.duration;
        tasks.push(tokio::spawn(async move {
            let mut local = Vec::new();
            let mut i = c as u64;
            let offset = per_conn_interval
                .map(|p| p.mul_f64(c as f64 / 64.0))
                .unwrap_or_default();
            let begin = Instant::now() + offset;
            let mut n = 0u32;
            while started.elapsed() < duration {
                if let Some(p) = per_conn_interval {
                    tokio::time::sleep_until((begin + p * n).into()).await;
                }
                n += 1;
                let body = bodies[(i % bodies.len() as u64) as usize].clone();
                i += 64;
                let t = Instant::now();
                let res = client
                    .post(&url)
                    .header("X-API-Token", &token)
                    .header("Content-Type", "application/json")
                    .header("Content-Encoding", "gzip")
                    .body(body)
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        ok.fetch_add(1, Ordering::Relaxed);
                        local.push(t.elapsed());
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            if let Ok(mut l) = latencies.lock() {
                l.0.extend(local);
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = crate::server::cpu_time_of(server.pid()).saturating_sub(cpu_before);
    let lat = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    println!(
        "ingest: {} reports in {:.1}s = {:.0}/s ({} failed), {} connections, target rate {}",
        ok.load(Ordering::Relaxed),
        elapsed,
        ok.load(Ordering::Relaxed) as f64 / elapsed,
        failed.load(Ordering::Relaxed),
        args.connections,
        if args.rate == 0 {
            "max".to_owned()
        } else {
            args.rate.to_string()
        }
    );
    println!("ingest: request latency {}", lat.summary());
    println!(
        "ingest: server CPU {:.0} % of one core, RSS {:.1} MB",
        cpu.as_secs_f64() / elapsed * 100.0,
        mb(server.rss_bytes())
    );
}
