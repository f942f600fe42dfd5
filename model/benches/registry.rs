//! Registry benchmarks: (a) ingest a 1,000-record snapshot with 5 % changed records and take the
//! diff (target ≤ 1 ms median); (b) serialise 10,000 realistic resources to a JSON array string
//! (target ≤ 30 ms).
//!
//! The ingest bench runs twice: in wall time, and in the benchmark thread's CPU time. The
//! reference machine is shared (two cores, other builds running), and wall time there also
//! counts the time the thread waited for a core; the CPU-time figure is the work itself.

use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use pulse_model::{
    FacetKey, MetricKind, MetricValue, ParentRef, RegistryState, ResourceType, Source,
    SourceRecord, SourceSnapshot, Status, Timestamp,
};
use serde_json::json;

/// The server binary runs on mimalloc; measure with the same allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const T0: Timestamp = Timestamp::from_millis(1_800_000_000_000);

fn metric(
    value: f64,
    used: Option<u64>,
    total: Option<u64>,
    unit: &'static str,
) -> Option<MetricValue> {
    Some(MetricValue {
        value: Some(value),
        used,
        total,
        percent: Some(value),
        unit: unit.into(),
    })
}

/// A Proxmox-like record: every 100th is a node, the rest guests on the preceding node.
fn record(cluster: usize, i: usize, cpu: f64) -> SourceRecord {
    let node = i / 100 * 100;
    let is_node = i == node;
    let source_id = format!("c{cluster}-{i}");
    let (resource_type, name) = if is_node {
        (ResourceType::Agent, format!("pve{cluster}-{i}"))
    } else if i % 3 == 0 {
        (ResourceType::SystemContainer, format!("ct-{cluster}-{i}"))
    } else {
        (ResourceType::Vm, format!("vm-{cluster}-{i}"))
    };
    let mut r = SourceRecord::new(source_id, resource_type, name.clone(), Status::Online);
    r.identity.hostnames = vec![format!("{name}.lan")];
    r.identity.ip_addresses = vec![format!("10.{cluster}.{}.{}", i / 250, i % 250 + 1)];
    r.identity.mac_addresses = vec![format!(
        "bc:24:11:{:02x}:{:02x}:{:02x}",
        cluster,
        i / 256,
        i % 256
    )];
    r.metrics
        .set(MetricKind::Cpu, metric(cpu, None, None, "percent"));
    r.metrics.set(
        MetricKind::Memory,
        metric(42.0, Some(3_435_973_836), Some(8_589_934_592), "bytes"),
    );
    r.metrics.set(
        MetricKind::Disk,
        metric(61.5, Some(21_474_836_480), Some(34_359_738_368), "bytes"),
    );
    r.metrics
        .set(MetricKind::NetIn, metric(125_000.0, None, None, "bytes/s"));
    r.metrics
        .set(MetricKind::NetOut, metric(64_000.0, None, None, "bytes/s"));
    r.uptime = Some(86_400 + i as u64);
    r.tags = vec!["prod".into(), format!("team-{}", i % 7)];
    if is_node {
        r.identity.cluster_name = Some(format!("cluster-{cluster}"));
        r.facets.insert(
            FacetKey::Proxmox,
            json!({"node": name, "instance": format!("cluster-{cluster}"), "pveVersion": "8.2.4",
                   "kernel": "6.8.12-1-pve", "cpuModel": "AMD EPYC 7302P", "cores": 16}),
        );
    } else {
        r.guest_key = Some(format!("cluster-{cluster}:{}", 100 + i));
        r.parent = Some(ParentRef::SourceId(format!("c{cluster}-{node}")));
        r.facets.insert(
            FacetKey::Proxmox,
            json!({"node": format!("pve{cluster}-{node}"), "vmid": 100 + i,
                   "instance": format!("cluster-{cluster}"), "template": false,
                   "lock": "", "haState": "started", "osType": "l26"}),
        );
    }
    r
}

/// A snapshot of `count` records of one cluster; records whose index is a multiple of
/// `changed_every` report `changed_cpu` instead of the usual 12.5 %.
fn snapshot(
    cluster: usize,
    count: usize,
    seconds: u64,
    changed_every: usize,
    changed_cpu: f64,
) -> SourceSnapshot {
    let changed = |i: usize| changed_every > 0 && i % changed_every == 0;
    SourceSnapshot {
        source: Source::Proxmox,
        scope: format!("pve:cluster-{cluster}"),
        observed_at: T0.plus_millis(seconds * 1000),
        records: (0..count)
            .map(|i| record(cluster, i, if changed(i) { changed_cpu } else { 12.5 }))
            .collect(),
    }
}

/// The calling thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), as a criterion measurement.
struct ThreadCpuTime;

fn thread_cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux provides.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl Measurement for ThreadCpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu_now()
    }
    fn end(&self, started: Duration) -> Duration {
        thread_cpu_now().saturating_sub(started)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WallTime.formatter()
    }
}

/// Steady state, as in the running registry actor: every iteration ingests the next poll of
/// the same 1,000 records, 5 % of which changed since the previous poll, and takes the diff.
fn ingest_five_percent<M: Measurement + 'static>(c: &mut Criterion<M>, label: &str) {
    let mut registry = RegistryState::new();
    registry.ingest(snapshot(0, 1000, 0, 0, 0.0), T0);
    registry.take_diff();
    let polls = [
        snapshot(0, 1000, 0, 20, 55.0),
        snapshot(0, 1000, 0, 20, 56.0),
    ];
    let mut poll = 0u64;
    c.bench_function(
        &format!("ingest 1000 (5% changed) + take_diff ({label})"),
        |b| {
            b.iter_batched(
                || {
                    poll += 1;
                    let mut next = polls[(poll % 2) as usize].clone();
                    next.observed_at = T0.plus_millis(poll * 10_000);
                    next
                },
                |next| {
                    let now = next.observed_at;
                    registry.ingest(next, now);
                    registry.take_diff()
                },
                BatchSize::SmallInput,
            )
        },
    );
    // Every poll must have produced a patch per resource (lastSeen) and content for 5 %.
    let mut next = polls[0].clone();
    next.observed_at = T0.plus_millis((poll + 1) * 10_000);
    let now = next.observed_at;
    registry.ingest(next, now);
    assert_eq!(registry.take_diff().upserts.len(), 1000);
}

fn serialise_ten_thousand(c: &mut Criterion) {
    let mut registry = RegistryState::new();
    for cluster in 0..10 {
        registry.ingest(snapshot(cluster, 1000, 0, 0, 0.0), T0);
    }
    assert_eq!(registry.len(), 10_000);
    let size = serde_json::to_string(&registry.resources().collect::<Vec<_>>())
        .map(|s| s.len())
        .unwrap_or(0);
    println!("full state of 10,000 resources: {size} bytes of JSON");
    c.bench_function("serialise 10000 resources to JSON", |b| {
        b.iter(|| {
            let all: Vec<_> = registry.resources().collect();
            black_box(serde_json::to_string(&all))
        })
    });
}

fn ingest_wall(c: &mut Criterion) {
    ingest_five_percent(c, "wall time");
}

fn ingest_cpu(c: &mut Criterion<ThreadCpuTime>) {
    ingest_five_percent(c, "thread CPU time");
}

criterion_group!(benches, ingest_wall, serialise_ten_thousand);
criterion_group! {
    name = cpu_benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = ingest_cpu
}
criterion_main!(benches, cpu_benches);
