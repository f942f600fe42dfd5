//! Soak: many simulated agents reporting on a short interval for a long time; the server's RSS
//! must stay flat.

use std::time::{Duration, Instant};

use pulse::sim::agents::SimFleet;

use crate::server::ServerProcess;
use crate::stats::mb;

/// Runs `agents` host agents at `interval` for `duration` and prints RSS over time.
pub async fn run(agents: usize, interval: Duration, duration: Duration) {
    let server = ServerProcess::start(&[]);
    let fleet = SimFleet::uniform(agents, 0, 0, interval)
        .start(&server.base, &server.token)
        .expect("fleet starts");
    let started = Instant::now();
    let mut samples = Vec::new();
    while started.elapsed() < duration {
        tokio::time::sleep(Duration::from_secs(30)).await;
        let rss = server.rss_bytes();
        samples.push((started.elapsed().as_secs(), rss));
        println!(
            "soak: t={:>5}s RSS {:.1} MB, reports sent {} failed {}",
            started.elapsed().as_secs(),
            mb(rss),
            fleet.sent(),
            fleet.failed()
        );
    }
    // Compare the end with the level after the first two minutes (warm-up: allocator pools,
    // rate baselines and the registry reach their working size).
    let base = samples
        .iter()
        .find(|(t, _)| *t >= 120)
        .or(samples.first())
        .map(|s| s.1)
        .unwrap_or(0);
    let end = samples.last().map(|s| s.1).unwrap_or(0);
    println!(
        "soak: {agents} agents every {:?} for {:?}: RSS {:.1} MB at 2 min → {:.1} MB at end ({:+.1} %), {} reports, {} failed",
        interval,
        duration,
        mb(base),
        mb(end),
        if base > 0 { (end as f64 / base as f64 - 1.0) * 100.0 } else { 0.0 },
        fleet.sent(),
        fleet.failed()
    );
}
