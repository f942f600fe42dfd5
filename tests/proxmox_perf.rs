//! Cost of one poll of a 20-node / 800-guest cluster: fetch, decode, normalise, registry merge.
//! Run with `cargo test --release --test perf -- --ignored --nocapture`.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::proxmox::token_settings;
use pulse::sim::pve::{PveSim, PveSimConfig};
use pulse::sources::proxmox::client::{decode_data, decode_list};
use pulse::sources::proxmox::normalise::PveNormaliser;
use pulse::sources::proxmox::pve::types::{
    ClusterStatusEntry, GuestResource, NodeEntry, NodeStatus, NodeStorage, PhysicalDisk, Task,
    ZfsPool,
};
use pulse::sources::proxmox::pve::{poll_pve, PollPlan, PveClient};
use pulse_model::{RegistryState, Timestamp};

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis();
    Timestamp::from_millis(i64::try_from(ms).expect("ms"))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "measurement; run in release with --ignored --nocapture"]
async fn large_cluster_poll_cost() {
    let sim = PveSim::start(PveSimConfig {
        workers: 2,
        ..PveSimConfig::sized(20, 800)
    })
    .expect("sim");
    let client = PveClient::new(&[token_settings(
        &sim.url(),
        sim.credentials(),
        sim.fingerprint(),
    )])
    .expect("client");
    let mut normaliser = PveNormaliser::new("bench");
    let mut registry = RegistryState::new();
    let warm = poll_pve(&client, PollPlan::default())
        .await
        .expect("warm-up");
    registry.ingest(normaliser.normalise(&warm, now()), now());
    registry.take_diff();
    tokio::time::sleep(Duration::from_millis(1000)).await;

    // Whole poll on this (single) runtime thread: TLS, HTTP, decode.
    let (cpu0, wall0) = (thread_cpu(), Instant::now());
    let poll = poll_pve(&client, PollPlan::default()).await.expect("poll");
    let (poll_cpu, poll_wall) = (thread_cpu() - cpu0, wall0.elapsed());
    assert_eq!(poll.guests.len(), 800);
    assert_eq!(poll.nodes.len(), 20);

    // Decode alone, on the raw bodies of the same endpoints.
    let api = client.api();
    let mut bodies = Vec::new();
    for path in ["/nodes", "/cluster/status", "/cluster/resources?type=vm"] {
        bodies.push((
            path.to_owned(),
            api.get_bytes(path, None).await.expect("body"),
        ));
    }
    for n in 1..=20 {
        for suffix in [
            "status",
            "storage",
            "disks/zfs",
            "disks/list",
            "tasks?typefilter=vzdump&source=all&limit=200",
        ] {
            let path = format!("/nodes/pve{n}/{suffix}");
            let body = api.get_bytes(&path, None).await.expect("body");
            bodies.push((path, body));
        }
    }
    let body_bytes: usize = bodies.iter().map(|(_, b)| b.len()).sum();
    let cpu0 = thread_cpu();
    let mut decoded = 0usize;
    for (path, body) in &bodies {
        decoded += match path.as_str() {
            "/nodes" => decode_list::<NodeEntry>(path, body)
                .expect("nodes")
                .items
                .len(),
            "/cluster/status" => decode_list::<ClusterStatusEntry>(path, body)
                .expect("cs")
                .items
                .len(),
            "/cluster/resources?type=vm" => decode_list::<GuestResource>(path, body)
                .expect("guests")
                .items
                .len(),
            p if p.ends_with("/status") => usize::from(decode_data::<NodeStatus>(p, body).is_ok()),
            p if p.ends_with("/storage") => decode_list::<NodeStorage>(p, body)
                .expect("storage")
                .items
                .len(),
            p if p.ends_with("/zfs") => decode_list::<ZfsPool>(p, body).expect("zfs").items.len(),
            p if p.ends_with("/list") => decode_list::<PhysicalDisk>(p, body)
                .expect("disks")
                .items
                .len(),
            p => decode_list::<Task>(p, body).expect("tasks").items.len(),
        };
    }
    let decode_cpu = thread_cpu() - cpu0;

    let t = now();
    let cpu0 = thread_cpu();
    let snapshot = normaliser.normalise(&poll, t);
    let normalise_cpu = thread_cpu() - cpu0;
    let records = snapshot.records.len();

    let cpu0 = thread_cpu();
    registry.ingest(snapshot, t);
    let diff = registry.take_diff();
    let merge_cpu = thread_cpu() - cpu0;

    println!(
        "PVE 20 nodes / 800 guests: {} requests' bodies = {:.1} KiB; full poll wall {:.1} ms, client-thread CPU {:.1} ms (TLS+HTTP+decode); \
         decode alone {:.2} ms ({decoded} items); normalise {:.2} ms ({records} records); registry ingest+diff {:.2} ms ({} upserts)",
        bodies.len(),
        body_bytes as f64 / 1024.0,
        ms(poll_wall),
        ms(poll_cpu),
        ms(decode_cpu),
        ms(normalise_cpu),
        ms(merge_cpu),
        diff.upserts.len(),
    );
    assert!(ms(decode_cpu + normalise_cpu + merge_cpu) <= 50.0);
}
