//! Fan-out: N resources, 1 % changing per second, M WebSocket clients; change-to-client latency,
//! server RSS over time, and the effect of one client that stops reading.
//!
//! Resources come in as real Docker reports (hosts × containers). Every 100 ms one host is
//! re-reported with 10 of its containers changed; each changed container's status carries the
//! send time, which clients read back from the merge-patches they receive.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::clients::{self, now_micros, FleetStats, MARKER};
use crate::server::ServerProcess;
use crate::stats::mb;

/// Fan-out parameters.
pub struct FanoutArgs {
    /// Docker hosts (each with `containers` containers).
    pub hosts: usize,
    /// Containers per host.
    pub containers: usize,
    /// Reading WebSocket clients.
    pub clients: usize,
    /// Measurement duration.
    pub duration: Duration,
    /// Also connect one client that stops reading.
    pub stalled: Option<Stall>,
}

/// When the stalled client stops reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stall {
    /// It never reads: the worst case, its whole initial state stays unsent.
    AtConnect,
    /// It reads `welcome` and `initialState`, then stops (a tab that freezes).
    AfterInitialState,
}

fn docker_report(host: usize, statuses: &[String], cpu: &[f64]) -> Value {
    let containers: Vec<Value> = statuses
        .iter()
        .enumerate()
        .map(|(j, status)| {
            json!({
                "id": format!("{host:04x}{j:060x}"),
                "name": format!("svc-{host}-{j}"),
                "image": "registry.example/app:1.0",
                "state": "running",
                "status": status,
                "health": "healthy",
                "cpuPercent": cpu[j],
                "memoryUsageBytes": 200_000_000u64 + j as u64,
                "memoryLimitBytes": 1_073_741_824u64,
                "restartCount": 0,
                "uptimeSeconds": 3600
            })
        })
        .collect();
    json!({
        "agent": {"id": format!("loadgen-docker-{host}"), "version": "loadgen", "type": "docker", "intervalSeconds": 30},
        "host": {"hostname": format!("docker-{host}"), "machineId": format!("{host:032x}"), "dockerVersion": "27.0", "totalCpu": 8, "totalMemoryBytes": 34_359_738_368u64},
        "containers": containers
    })
}

async fn post(client: &reqwest::Client, base: &str, token: &str, report: &Value) -> bool {
    let body = pulse::sim::agents::gzip_json(report).unwrap_or_default();
    client
        .post(format!("{base}/api/agents/docker/report"))
        .header("X-API-Token", token)
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(body)
        .send()
        .await
        .map(|r| r.status().is_success())
        .unwrap_or(false)
}

/// Runs the scenario and prints its figures.
pub async fn run(args: FanoutArgs) {
    let server = ServerProcess::start(&[]);
    let addr: std::net::SocketAddr = server.addr.parse().expect("server address");
    let http = reqwest::Client::new();
    let mut statuses: Vec<Vec<String>> =
        vec![vec!["Up 1 hour".to_owned(); args.containers]; args.hosts];
    let mut cpu: Vec<Vec<f64>> = vec![vec![1.0; args.containers]; args.hosts];
    for h in 0..args.hosts {
        assert!(
            post(
                &http,
                &server.base,
                &server.token,
                &docker_report(h, &statuses[h], &cpu[h])
            )
            .await,
            "initial report"
        );
    }
    let resources = args.hosts * (args.containers + 1);
    println!(
        "fanout: {resources} resources ({} docker hosts × {} containers)",
        args.hosts, args.containers
    );

    let stats = Arc::new(FleetStats::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    let connect_started = Instant::now();
    for i in 0..args.clients {
        tasks.push(tokio::spawn(clients::run_reader(
            i,
            addr,
            server.token.clone(),
            stats.clone(),
            stop.clone(),
        )));
        // Browsers do not all arrive in the same millisecond: 50 connects per second.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if let Some(stall) = args.stalled {
        tasks.push(tokio::spawn(clients::run_stalled(
            stall == Stall::AfterInitialState,
            args.clients,
            addr,
            server.token.clone(),
            stop.clone(),
        )));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    println!(
        "fanout: {} clients connected in {:.1}s, RSS {:.1} MB",
        args.clients,
        connect_started.elapsed().as_secs_f64(),
        mb(server.rss_bytes())
    );
    // Discard latencies from the warm-up.
    if let Ok(mut l) = stats.latencies.lock() {
        l.0.clear();
    }

    let started = Instant::now();
    let cpu_before = crate::server::cpu_time_of(server.pid());
    let mut rss_samples = Vec::new();
    let mut tick = 0usize;
    let mut next_sample = Instant::now();
    let changes_per_tick = (resources / 100 / 10).max(1); // 1 %/s in 10 ticks per second
    while started.elapsed() < args.duration {
        let h = tick % args.hosts;
        for k in 0..changes_per_tick.min(args.containers) {
            let j = (tick / args.hosts * changes_per_tick + k) % args.containers;
            statuses[h][j] = format!("{MARKER}{}", now_micros());
            cpu[h][j] = ((tick * 7 + j) % 400) as f64 / 4.0;
        }
        // Markers are stamped just before the report is built and sent (≈1 ms earlier), so the
        // measured latency slightly overstates the server's part.
        let report = docker_report(h, &statuses[h], &cpu[h]);
        if !post(&http, &server.base, &server.token, &report).await {
            eprintln!("fanout: report failed");
        }
        tick += 1;
        if Instant::now() >= next_sample {
            rss_samples.push((started.elapsed().as_secs(), server.rss_bytes()));
            next_sample += Duration::from_secs(10);
        }
        let due = started + Duration::from_millis(100 * tick as u64);
        tokio::time::sleep_until(due.into()).await;
    }
    let cpu_used = crate::server::cpu_time_of(server.pid()).saturating_sub(cpu_before);
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let lat = stats
        .latencies
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default();
    let first = rss_samples
        .iter()
        .find(|(s, _)| *s >= 60)
        .or(rss_samples.first())
        .map(|x| x.1)
        .unwrap_or(0);
    let last = rss_samples.last().map(|x| x.1).unwrap_or(0);
    let peak = rss_samples.iter().map(|x| x.1).max().unwrap_or(0);
    println!("fanout: change-to-client latency {}", lat.summary());
    println!(
        "fanout: server RSS first-minute {:.1} MB, end {:.1} MB, peak {:.1} MB; growth {:+.1} %",
        mb(first),
        mb(last),
        mb(peak),
        if first > 0 {
            (last as f64 / first as f64 - 1.0) * 100.0
        } else {
            0.0
        }
    );
    if args.stalled.is_some() {
        let series: Vec<String> = rss_samples
            .iter()
            .map(|(s, b)| format!("{s} s {:.1}", mb(*b)))
            .collect();
        println!("fanout: server RSS (MB) every 10 s: {}", series.join(", "));
    }
    let deltas = stats.deltas.load(Ordering::Relaxed);
    println!(
        "fanout: delta frames {deltas}, mean {:.0} bytes",
        stats.delta_bytes.load(Ordering::Relaxed) as f64 / deltas.max(1) as f64
    );
    println!(
        "fanout: server CPU {:.1} % of one core; frames {} resyncs {} client errors {}{}",
        cpu_used.as_secs_f64() / args.duration.as_secs_f64() * 100.0,
        stats.frames.load(Ordering::Relaxed),
        stats.resyncs.load(Ordering::Relaxed),
        stats.errors.load(Ordering::Relaxed),
        if args.stalled.is_some() {
            " (with one stalled client)"
        } else {
            ""
        }
    );
}
