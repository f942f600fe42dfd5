//! PBS with 200,000 snapshots: the streamed listing keeps client memory bounded. Alone in its
//! test binary so the process's peak RSS belongs to this poll (the simulator runs in-process and
//! streams too, so the figure covers both sides).

mod common;

use std::time::Instant;

use common::proxmox::token_settings;
use pulse::sim::pbs::{PbsSim, PbsSimConfig};
use pulse::sources::proxmox::normalise::normalise_pbs;
use pulse::sources::proxmox::pbs::{poll_pbs, PbsClient, PbsPollPlan};
use pulse_model::Timestamp;

/// A `/proc/self/status` field in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("field")
}

#[tokio::test]
async fn two_hundred_thousand_snapshots_in_bounded_memory() {
    let sim = PbsSim::start(PbsSimConfig::default()).expect("sim");
    sim.set_snapshot_count(200_000);
    let client = PbsClient::new(
        &token_settings(&sim.url(), sim.credentials(), sim.fingerprint())
            .with_timeout(std::time::Duration::from_secs(60)),
    )
    .expect("client");
    // Warm up connections and allocator pools with a small poll.
    poll_pbs(
        &client,
        PbsPollPlan {
            inventory: false,
            jobs: true,
        },
    )
    .await
    .expect("warm-up");
    let baseline = status_kib("VmRSS:");
    // Reset the peak so VmHWM measures this poll only.
    std::fs::write("/proc/self/clear_refs", "5").expect("reset peak RSS");
    let started = Instant::now();
    let poll = poll_pbs(&client, PbsPollPlan::default())
        .await
        .expect("poll");
    let elapsed = started.elapsed();
    let peak = status_kib("VmHWM:");
    let snapshot = normalise_pbs(&poll, "backup", Timestamp::EPOCH);
    let total: u64 = poll
        .datastores
        .iter()
        .flat_map(|d| &d.namespaces)
        .map(|n| n.snapshots.snapshots)
        .sum();
    let groups: usize = poll
        .datastores
        .iter()
        .flat_map(|d| &d.namespaces)
        .map(|n| n.snapshots.groups.len())
        .sum();
    let growth_mib = peak.saturating_sub(baseline) as f64 / 1024.0;
    println!(
        "PBS 200k snapshots: {total} snapshots in {groups} groups, poll {:.2} s, peak RSS growth {growth_mib:.1} MiB (baseline {} MiB)",
        elapsed.as_secs_f64(),
        baseline / 1024
    );
    assert_eq!(total, 200_000);
    assert_eq!(poll.skipped, 0);
    assert_eq!(
        snapshot.records[1].facets[&pulse_model::FacetKey::Pbs]["snapshotCount"],
        170_000
    );
    assert!(growth_mib <= 50.0, "peak RSS grew by {growth_mib:.1} MiB");
    assert!(elapsed.as_secs_f64() <= if cfg!(debug_assertions) { 60.0 } else { 10.0 });
}
