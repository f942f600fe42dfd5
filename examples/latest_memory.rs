//! Heap held per resource by the history's newest-value map (`pulse::history::Latest`, behind
//! `/metrics/resources` and remote_write labels, which also holds the history writer's
//! per-resource sample spacing), for the fan-out load of `benches/loadgen` (100 Docker hosts ×
//! 100 containers, 10,100 resources, each with cpu and memory). Counts the live allocations both
//! as requested and rounded up to mimalloc's size classes. Run with
//! `cargo run --release --example latest_memory`.

use std::sync::Arc;

use pulse::history::latest::{LatestResource, Spacing};
use pulse::history::Latest;
use pulse_model::Resource;
use serde_json::json;

/// Counts live heap (the allocator the workspace's memory examples share).
#[path = "../tsdb/examples/common/counting.rs"]
mod counting;

const HOSTS: usize = 100;
const CONTAINERS: usize = 100;

/// A resource as the registry makes them for the fan-out load: a Docker host (`j` = None) or
/// container `j` of host `h`.
fn resource(h: usize, j: Option<usize>) -> Resource {
    let (id, rtype, name, parent) = match j {
        None => (
            format!("agent-{h:016x}"),
            "agent",
            format!("docker-{h}"),
            None,
        ),
        Some(j) => (
            format!("app-container-{:016x}", h * 1_000 + j),
            "app-container",
            format!("svc-{h}-{j}"),
            Some(format!("agent-{h:016x}")),
        ),
    };
    let value = json!({
        "id": id, "type": rtype, "name": name, "status": "online",
        "lastSeen": "2027-01-15T08:00:00Z", "updatedAt": "2027-01-15T08:00:00Z",
        "sources": ["docker"],
        "sourceStatus": {"docker": {"status": "online", "lastSeen": "2027-01-15T08:00:00Z"}},
        "identity": {},
        "metrics": {
            "cpu": {"value": 1.0 + h as f64 / 10.0, "percent": 12.5, "unit": "percent"},
            "memory": {"value": 2.0e8, "used": 200_000_000u64, "total": 1_073_741_824u64,
                       "percent": 18.63, "unit": "bytes"}
        },
        "parentId": parent,
        "tags": [],
    });
    serde_json::from_value(value).expect("resource JSON")
}

fn main() {
    let org: Arc<str> = Arc::from("default");
    let resources: Vec<Resource> = (0..HOSTS)
        .flat_map(|h| {
            std::iter::once(None)
                .chain((0..CONTAINERS).map(Some))
                .map(move |j| (h, j))
        })
        .map(|(h, j)| resource(h, j))
        .collect();
    let n = resources.len() as isize;
    let latest = Latest::default();
    let (req0, cls0) = (counting::live_bytes(), counting::live_class_bytes());
    // One diff per host report, as the history writer applies them, twice over (the second
    // round replaces every entry, as later reports do).
    let mut due = 0;
    for round in 0..2 {
        for host in resources.chunks(CONTAINERS + 1) {
            let upserted: Vec<LatestResource> =
                host.iter().map(|r| LatestResource::of(&org, r)).collect();
            let spacing = Spacing {
                at_ms: 1_800_000_000_000 + round * 10_000,
                min_ms: 1_000,
            };
            latest.apply(&org, upserted, &[], spacing, |_, d| due += usize::from(d));
        }
    }
    assert_eq!(due, 2 * resources.len(), "every report is 10 s apart");
    let (req, cls) = (
        counting::live_bytes() - req0,
        counting::live_class_bytes() - cls0,
    );
    println!(
        "history::Latest, {} resources: {:.2} MB = {} B/resource requested, {} B/resource in mimalloc size classes",
        latest.len(),
        cls as f64 / 1e6,
        req / n,
        cls / n
    );
}
