//! The Pulse load generator: real server process, real clients on loopback.
//!
//! ```text
//! cargo bench --bench loadgen -- fanout [--clients 500] [--hosts 100] [--containers 100] [--seconds 600] [--stalled | --stalled-after-initial]
//! cargo bench --bench loadgen -- ingest [--rate 0|N] [--connections 32] [--seconds 30]
//! cargo bench --bench loadgen -- soak [--agents 200] [--interval-ms 2000] [--minutes 30]
//! cargo bench --bench loadgen -- truenas [--pools 50] [--datasets 2000] [--snapshots 10000] [--polls 10]
//! cargo bench --bench loadgen -- alerts [--rate 1000] [--crossings 5] [--seconds 60]
//! cargo bench --bench loadgen -- queue [--hosts 2500] [--webhooks 4]
//! cargo bench --bench loadgen -- history-size [--hosts 30]
//! cargo bench --bench loadgen -- history-ingest [--resources 10000] [--rounds 60]
//! cargo bench --bench loadgen -- history-charts [--resources 1000] [--requests 50]
//! ```
//! Without a scenario (as in a plain `cargo bench`), it prints this usage and exits.

mod alerts;
mod clients;
mod fanout;
mod history;
mod ingest;
mod server;
mod soak;
mod stats;
mod truenas;

use std::time::Duration;

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn num(args: &[String], name: &str, default: u64) -> u64 {
    flag(args, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    match args.first().map(String::as_str) {
        Some("fanout") => rt.block_on(fanout::run(fanout::FanoutArgs {
            hosts: num(&args, "--hosts", 100) as usize,
            containers: num(&args, "--containers", 100) as usize,
            clients: num(&args, "--clients", 500) as usize,
            duration: Duration::from_secs(num(&args, "--seconds", 600)),
            stalled: if args.iter().any(|a| a == "--stalled-after-initial") {
                Some(fanout::Stall::AfterInitialState)
            } else if args.iter().any(|a| a == "--stalled") {
                Some(fanout::Stall::AtConnect)
            } else {
                None
            },
        })),
        Some("ingest") => rt.block_on(ingest::run(ingest::IngestArgs {
            rate: num(&args, "--rate", 0),
            connections: num(&args, "--connections", 32) as usize,
            hosts: num(&args, "--hosts", 1000),
            duration: Duration::from_secs(num(&args, "--seconds", 30)),
        })),
        Some("soak") => rt.block_on(soak::run(
            num(&args, "--agents", 200) as usize,
            Duration::from_millis(num(&args, "--interval-ms", 2000)),
            Duration::from_secs(num(&args, "--minutes", 30) * 60),
        )),
        Some("truenas") => rt.block_on(truenas::run(truenas::TruenasArgs {
            pools: num(&args, "--pools", 50) as usize,
            datasets: num(&args, "--datasets", 2000) as usize,
            snapshots: num(&args, "--snapshots", 10_000) as usize,
            polls: num(&args, "--polls", 10) as usize,
        })),
        // Internal: the simulator process of the `truenas` scenario.
        Some("truenas-sim") => truenas::serve_simulator(
            num(&args, "--pools", 50) as usize,
            num(&args, "--datasets", 2000) as usize,
            num(&args, "--snapshots", 10_000) as usize,
        ),
        Some("alerts") => rt.block_on(alerts::run_latency(
            num(&args, "--rate", 1000).max(1),
            num(&args, "--crossings", 5).max(1),
            num(&args, "--seconds", 60).max(5),
        )),
        Some("queue") => rt.block_on(alerts::run_queue(
            num(&args, "--hosts", 2500),
            num(&args, "--webhooks", 4).max(1) as usize,
        )),
        Some("history-size") => history::size(num(&args, "--hosts", 30)),
        Some("history-ingest") => {
            history::ingest(num(&args, "--resources", 10_000), num(&args, "--rounds", 60))
        }
        Some("history-charts") => rt.block_on(history::charts(
            num(&args, "--resources", 1000),
            num(&args, "--requests", 50) as usize,
        )),
        _ => println!(
            "loadgen: pass a scenario after `--`: fanout | ingest | soak | truenas | alerts | queue | history-size | history-ingest | history-charts (see benches/loadgen/main.rs)"
        ),
    }
}
