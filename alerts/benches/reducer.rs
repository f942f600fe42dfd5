//! Reducer throughput on a realistic mix: 1,000 resources (guests, hosts, Docker containers,
//! ZFS pools, disks) observed every 10 s with metrics wandering around their thresholds, and a
//! tick every second. Target: ≥ 1 M signals/s.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use pulse_alerts::{AlertConfig, AlertState, Signal};
use pulse_model::{
    CompactIdentity, MetricKind, MetricValue, Metrics, Resource, ResourceType, Source, Status,
    Timestamp,
};
use serde_json::json;

/// Resources in the fleet.
const RESOURCES: usize = 1_000;
/// Observation rounds (each observes every resource once).
const ROUNDS: usize = 40;
/// Milliseconds between two signals: a round of 1,000 takes 10 s, a PVE poll interval.
const STEP_MS: i64 = 10;
/// A tick every this many signals (one per second).
const TICK_EVERY: usize = 100;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A step of a random walk kept within [lo, hi].
    fn walk(&mut self, value: f64, step: f64, lo: f64, hi: f64) -> f64 {
        (value + (self.unit() * 2.0 - 1.0) * step).clamp(lo, hi)
    }
}

fn percent(value: f64) -> MetricValue {
    MetricValue {
        value: Some(value),
        percent: Some(value),
        unit: "percent".into(),
        ..MetricValue::default()
    }
}

fn base(id: String, resource_type: ResourceType, source: Source) -> Resource {
    Resource {
        name: format!("{id}-name"),
        id,
        resource_type,
        status: Status::Online,
        last_seen: Timestamp::EPOCH,
        updated_at: Timestamp::EPOCH,
        sources: vec![source],
        source_status: Default::default(),
        identity: CompactIdentity::default(),
        metrics: Metrics::default(),
        parent_id: None,
        tags: Vec::new(),
        uptime: None,
        temperature: None,
        facets: Default::default(),
    }
}

/// Per-resource wandering state.
struct Walker {
    resource: Resource,
    cpu: f64,
    memory: f64,
    disk: f64,
    temperature: f64,
    restarts: u64,
}

impl Walker {
    fn new(i: usize, rng: &mut Rng) -> Self {
        let (resource_type, source, prefix) = match i % 20 {
            0..=11 => (ResourceType::Vm, Source::Proxmox, "vm"),
            12 | 13 => (ResourceType::Agent, Source::Agent, "agent"),
            14..=17 => (ResourceType::AppContainer, Source::Docker, "app-container"),
            18 => (ResourceType::Storage, Source::Truenas, "storage"),
            _ => (ResourceType::PhysicalDisk, Source::Agent, "physical_disk"),
        };
        let mut resource = base(format!("{prefix}-{i:016x}"), resource_type, source);
        if resource_type == ResourceType::Vm {
            resource.facets.insert(
                "proxmox".into(),
                json!({"node": format!("pve{}", i % 3), "instance": "homelab", "vmid": 100 + i}),
            );
        }
        Walker {
            resource,
            cpu: 60.0 + rng.unit() * 30.0,
            memory: 70.0 + rng.unit() * 20.0,
            disk: 80.0 + rng.unit() * 12.0,
            temperature: 45.0 + rng.unit() * 15.0,
            restarts: 0,
        }
    }

    /// The resource as observed now, after one step of every walk.
    fn observe(&mut self, rng: &mut Rng) -> Resource {
        self.cpu = rng.walk(self.cpu, 6.0, 0.0, 100.0);
        self.memory = rng.walk(self.memory, 3.0, 0.0, 100.0);
        self.disk = rng.walk(self.disk, 1.0, 0.0, 100.0);
        self.temperature = rng.walk(self.temperature, 2.0, 20.0, 90.0);
        let mut r = self.resource.clone();
        r.status = if rng.unit() < 0.01 {
            Status::Offline
        } else {
            Status::Online
        };
        match r.resource_type {
            ResourceType::Vm | ResourceType::Agent => {
                r.metrics.set(MetricKind::Cpu, Some(percent(self.cpu)));
                r.metrics
                    .set(MetricKind::Memory, Some(percent(self.memory)));
                r.metrics.set(MetricKind::Disk, Some(percent(self.disk)));
                if r.resource_type == ResourceType::Agent {
                    r.temperature = Some(self.temperature + 20.0);
                }
            }
            ResourceType::AppContainer => {
                if rng.unit() < 0.02 {
                    self.restarts += 1;
                }
                r.metrics.set(MetricKind::Cpu, Some(percent(self.cpu)));
                r.metrics
                    .set(MetricKind::Memory, Some(percent(self.memory)));
                let health = if self.cpu > 95.0 {
                    "unhealthy"
                } else {
                    "healthy"
                };
                r.facets.insert(
                    "docker".into(),
                    json!({
                        "state": if r.status == Status::Offline { "exited" } else { "running" },
                        "exitCode": 1,
                        "health": health,
                        "restartCount": self.restarts,
                        "memoryUsageBytes": (self.memory * 10.0) as u64,
                        "memoryLimitBytes": 1000,
                        "oomKilled": false,
                    }),
                );
            }
            ResourceType::Storage => {
                r.metrics.set(MetricKind::Disk, Some(percent(self.disk)));
                let state = if self.disk > 93.0 {
                    "DEGRADED"
                } else {
                    "ONLINE"
                };
                r.facets.insert(
                    "truenas".into(),
                    json!({"status": state, "readErrors": 0, "writeErrors": 0, "checksumErrors": 0}),
                );
            }
            _ => {
                r.facets.insert(
                    "physicalDisk".into(),
                    json!({"type": "sata", "temperature": self.temperature, "health": "PASSED", "wearout": 40}),
                );
            }
        }
        r
    }
}

/// The signal sequence with the time of each signal.
fn workload() -> Vec<(Signal, Timestamp)> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut fleet: Vec<Walker> = (0..RESOURCES).map(|i| Walker::new(i, &mut rng)).collect();
    let mut signals = Vec::with_capacity(RESOURCES * ROUNDS + RESOURCES * ROUNDS / TICK_EVERY);
    let mut now = 1_767_787_200_000_i64;
    for _ in 0..ROUNDS {
        for walker in &mut fleet {
            now += STEP_MS;
            let resource = walker.observe(&mut rng);
            signals.push((
                Signal::Observed {
                    resource: Box::new(resource),
                },
                Timestamp::from_millis(now),
            ));
            if signals.len() % TICK_EVERY == 0 {
                signals.push((Signal::Tick, Timestamp::from_millis(now)));
            }
        }
    }
    signals
}

fn reducer(c: &mut Criterion) {
    let signals = workload();
    let config = AlertConfig::default();
    let mut group = c.benchmark_group("reducer");
    group.throughput(Throughput::Elements(signals.len() as u64));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("mixed_1000_resources", |b| {
        b.iter_batched(
            AlertState::new,
            |mut state| {
                for (signal, now) in &signals {
                    black_box(state.step(signal, &config, *now));
                }
                state
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

criterion_group!(benches, reducer);
criterion_main!(benches);
