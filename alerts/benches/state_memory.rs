//! Alert state memory: heap held per resource by an [`AlertState`] that observes the fan-out load
//! of `benches/loadgen` (100 Docker hosts × 100 containers, none alerting), the size of its
//! persisted document, and how often that document would be written under steady observation.
//!
//! Counts the bytes the live allocations requested (allocator rounding comes on top). The
//! persisted size is the store's encoding (one format byte and named MessagePack); the save
//! frequency counts the engine's 5 s save windows in which the state's generation moved. Run with
//! `cargo bench -p pulse-alerts --bench state_memory`.

use pulse_alerts::{AlertConfig, AlertState, Signal};
use pulse_model::{
    stable_id, Identity, MetricKind, MetricValue, Metrics, Resource, ResourceType, Source, Status,
    Timestamp,
};
use serde_json::json;

/// Counts live heap (the allocator the workspace's memory examples share).
#[path = "../../tsdb/examples/common/counting.rs"]
mod counting;

/// Docker hosts.
const HOSTS: usize = 100;
/// Containers per host.
const CONTAINERS: usize = 100;
/// Containers changed per host report.
const CHANGED: usize = 10;
/// Steady observation simulated after the first round, in milliseconds (10 minutes).
const STEADY_MS: i64 = 600_000;
/// One host report every this many milliseconds.
const REPORT_MS: i64 = 100;
/// The engine saves a state changed only by observations this often (its `SAVE_EVERY`).
const SAVE_MS: i64 = 5_000;

const T0: i64 = 1_800_000_000_000;

fn base(id: String, name: String, resource_type: ResourceType) -> Resource {
    Resource {
        id,
        resource_type,
        name,
        status: Status::Online,
        last_seen: Timestamp::from_millis(T0),
        updated_at: Timestamp::from_millis(T0),
        sources: vec![Source::Docker],
        source_status: Default::default(),
        identity: Identity::default().into(),
        metrics: Metrics::default(),
        parent_id: None,
        tags: Vec::new(),
        uptime: Some(3600),
        temperature: None,
        facets: Default::default(),
    }
}

/// The Docker host resource of loadgen host `h`.
fn host(h: usize) -> Resource {
    let agent_id = format!("{h:032x}");
    let mut r = base(
        stable_id(ResourceType::Agent, &format!("machine:{agent_id}")),
        format!("docker-{h}"),
        ResourceType::Agent,
    );
    r.facets.insert(
        "docker".into(),
        json!({"agentId": agent_id, "agentVersion": "loadgen", "containerCount": CONTAINERS,
               "dockerVersion": "27.0", "hostname": format!("docker-{h}"), "intervalSeconds": 30,
               "runningContainers": CONTAINERS, "runtime": "docker", "runtimeVersion": "27.0",
               "totalCpu": 8, "totalMemoryBytes": 34_359_738_368u64}),
    );
    r
}

/// Container `j` of loadgen host `h`, with `cpu` percent.
fn container(h: usize, j: usize, cpu: f64) -> Resource {
    let agent_id = format!("{h:032x}");
    let id = format!("{h:04x}{j:060x}");
    let mut r = base(
        stable_id(
            ResourceType::AppContainer,
            &format!("docker:{agent_id}:{id}"),
        ),
        format!("svc-{h}-{j}"),
        ResourceType::AppContainer,
    );
    r.parent_id = Some(stable_id(
        ResourceType::Agent,
        &format!("machine:{agent_id}"),
    ));
    r.metrics.set(
        MetricKind::Cpu,
        Some(MetricValue {
            value: Some(cpu),
            percent: Some(cpu / 8.0),
            unit: "percent".into(),
            ..MetricValue::default()
        }),
    );
    let used = 200_000_000 + j as u64;
    r.metrics.set(
        MetricKind::Memory,
        Some(MetricValue {
            value: Some(used as f64),
            used: Some(used),
            total: Some(1_073_741_824),
            percent: Some(used as f64 / 1_073_741_824.0 * 100.0),
            unit: "bytes".into(),
        }),
    );
    r.facets.insert(
        "docker".into(),
        json!({"containerId": id, "health": "healthy", "image": "registry.example/app:1.0",
               "memoryUsageBytes": used, "memoryLimitBytes": 1_073_741_824u64,
               "restartCount": 0, "state": "running", "status": "Up 1 hour"}),
    );
    r
}

fn observed(resource: &Resource) -> Signal {
    Signal::Observed {
        resource: Box::new(resource.clone()),
    }
}

/// The store's encoding of `state`: a format byte and named MessagePack.
fn persisted_size(state: &AlertState) -> usize {
    1 + rmp_serde::to_vec_named(state).map_or(0, |bytes| bytes.len())
}

fn main() {
    let config = AlertConfig::default();
    let hosts: Vec<Resource> = (0..HOSTS).map(host).collect();
    let mut containers: Vec<Vec<Resource>> = (0..HOSTS)
        .map(|h| (0..CONTAINERS).map(|j| container(h, j, 1.0)).collect())
        .collect();
    let resources = HOSTS * (CONTAINERS + 1);

    let before = counting::live_bytes();
    let mut state = AlertState::new();
    let mut now = T0;
    for h in 0..HOSTS {
        now += 1;
        let at = Timestamp::from_millis(now);
        state.step(&observed(&hosts[h]), &config, at);
        for c in &containers[h] {
            state.step(&observed(c), &config, at);
        }
    }
    let first = counting::live_bytes() - before;
    let first_doc = persisted_size(&state);

    // Steady observation: every 100 ms one host re-reported with 10 containers changed, a tick
    // every second; a save is due in every 5 s window in which a step happened (the engine marked
    // the state dirty on every step).
    let mut steps = 0usize;
    let mut windows_with_steps = 0usize;
    let mut steps_at_save = 0usize;
    let mut saves = 0usize;
    let mut saved_generation = state.generation();
    let end = now + STEADY_MS;
    let mut report = 0usize;
    let mut next_tick = now + 1_000;
    let mut next_save = now + SAVE_MS;
    while now < end {
        now += REPORT_MS;
        let at = Timestamp::from_millis(now);
        let h = report % HOSTS;
        let round = report / HOSTS;
        state.step(&observed(&hosts[h]), &config, at);
        for k in 0..CHANGED {
            let j = (round * CHANGED + k) % CONTAINERS;
            let cpu = 1.0 + ((report + k) % 50) as f64 / 10.0;
            containers[h][j].clone_from(&container(h, j, cpu));
            state.step(&observed(&containers[h][j]), &config, at);
        }
        steps += 1 + CHANGED;
        report += 1;
        if now >= next_tick {
            state.step(&Signal::Tick, &config, at);
            next_tick += 1_000;
        }
        if now >= next_save {
            windows_with_steps += usize::from(steps > steps_at_save);
            steps_at_save = steps;
            saves += usize::from(state.generation() != saved_generation);
            saved_generation = state.generation();
            next_save += SAVE_MS;
        }
    }
    let steady = counting::live_bytes() - before;
    let doc = persisted_size(&state);
    let minutes = STEADY_MS as f64 / 60_000.0;

    println!(
        "alert state, {resources} resources ({HOSTS} Docker hosts × {CONTAINERS} containers), no alerts:"
    );
    println!(
        "  after the first round: {:.2} MB live heap, {:.1} bytes/resource; persisted document {} bytes",
        first as f64 / 1e6,
        first as f64 / resources as f64,
        first_doc
    );
    println!(
        "  after {minutes:.0} min of steady observation ({steps} observations): {:.2} MB, {:.1} bytes/resource; persisted document {} bytes",
        steady as f64 / 1e6,
        steady as f64 / resources as f64,
        doc
    );
    println!(
        "  5 s save windows with a step (saved when every step marks the state dirty): {:.1}/min",
        windows_with_steps as f64 / minutes
    );
    println!(
        "  5 s save windows in which the persisted form changed (saved now): {:.1}/min; {} entries, {} restart histories",
        saves as f64 / minutes,
        state.tracked_resources(),
        state.restart_histories()
    );
    drop(state);
}
