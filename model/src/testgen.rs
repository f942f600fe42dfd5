//! Proptest generators shared by the crate's property tests.

use std::collections::BTreeMap;

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::names::{FacetKey, ResourceType, Source, SourceState, Status};
use crate::record::{ParentRef, SourceRecord, SourceSnapshot};
use crate::time::Timestamp;
use crate::types::{Identity, MetricKind, MetricValue, Metrics, Resource, SourceStatusEntry};

/// Arbitrary JSON, nested up to a few levels, with nulls in objects and arrays.
pub fn json_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..5).prop_map(Value::from),
        (-2.0f64..2.0).prop_map(Value::from),
        "[a-c]{0,2}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..3).prop_map(Value::Array),
            btree_map("[a-e]", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
    .boxed()
}

/// One of the given items.
fn pick<T: Clone + std::fmt::Debug + 'static>(items: &'static [T]) -> impl Strategy<Value = T> {
    proptest::sample::select(items)
}

/// A metric or none.
pub fn metric() -> BoxedStrategy<Option<MetricValue>> {
    option::of(
        (
            option::of(prop_oneof![Just(f64::NAN), 0.0f64..100.0]),
            option::of(0u64..4),
            option::of(Just(8u64)),
            option::of(0.0f64..100.0),
            pick(&["percent", "bytes"]),
        )
            .prop_map(|(value, used, total, percent, unit)| MetricValue {
                value,
                used,
                total,
                percent,
                unit: unit.into(),
            }),
    )
    .boxed()
}

/// Metrics with each slot random.
pub fn metrics() -> BoxedStrategy<Metrics> {
    (
        metric(),
        metric(),
        metric(),
        metric(),
        metric(),
        metric(),
        metric(),
    )
        .prop_map(
            |(cpu, memory, disk, net_in, net_out, disk_read, disk_write)| {
                MetricKind::ALL
                    .into_iter()
                    .zip([cpu, memory, disk, net_in, net_out, disk_read, disk_write])
                    .filter_map(|(kind, metric)| Some((kind, metric?)))
                    .collect::<Metrics>()
            },
        )
        .boxed()
}

/// Identities drawn from small pools so that matches happen.
pub fn identity() -> BoxedStrategy<Identity> {
    (
        option::of(pick(&["m1", "m2"])),
        option::of(pick(&["d1"])),
        vec(pick(&["h1", "H1.lan.", "h2", "h3.x"]), 0..3),
        vec(pick(&["10.0.0.1/24", "10.0.0.2", "127.0.0.1"]), 0..2),
        vec(pick(&["aa:bb:cc:dd:ee:01", "AA-BB-CC-DD-EE-02"]), 0..2),
        option::of(pick(&["c1"])),
    )
        .prop_map(|(machine, dmi, hosts, ips, macs, cluster)| Identity {
            machine_id: machine.map(str::to_owned),
            dmi_uuid: dmi.map(str::to_owned),
            hostnames: hosts.into_iter().map(str::to_owned).collect(),
            ip_addresses: ips.into_iter().map(str::to_owned).collect(),
            mac_addresses: macs.into_iter().map(str::to_owned).collect(),
            cluster_name: cluster.map(str::to_owned),
        })
        .boxed()
}

/// A few tags, with repeats and whitespace.
pub fn tags() -> BoxedStrategy<Vec<String>> {
    vec(pick(&["prod", "db", " web ", ""]), 0..3)
        .prop_map(|t| t.into_iter().map(str::to_owned).collect())
        .boxed()
}

/// A timestamp in a narrow window.
pub fn timestamp() -> BoxedStrategy<Timestamp> {
    (0i64..400_000)
        .prop_map(|ms| Timestamp::from_millis(1_800_000_000_000 + ms))
        .boxed()
}

/// A canonical resource with the given id and random everything else.
pub fn resource(id: String) -> BoxedStrategy<Resource> {
    let source_status = btree_map(
        pick(Source::ALL),
        (
            pick(SourceState::ALL),
            timestamp(),
            option::of(pick(&["timeout", "401"])),
        )
            .prop_map(|(status, last_seen, error)| SourceStatusEntry {
                status,
                last_seen,
                error: error.map(str::to_owned),
            }),
        0..3,
    )
    .boxed();
    let facets = btree_map(pick(&["proxmox", "docker", "storage"]), json_value(), 0..3).boxed();
    (
        (
            pick(&[ResourceType::Agent, ResourceType::Vm]),
            pick(&["a", "b"]),
            pick(Status::ALL),
            timestamp(),
            timestamp(),
        ),
        (source_status, identity(), metrics()),
        (
            option::of(pick(&["p1", "p2"])),
            tags(),
            option::of(0u64..3),
            option::of(prop_oneof![Just(f64::INFINITY), 20.0f64..80.0]),
            facets,
        ),
    )
        .prop_map(
            move |(
                (resource_type, name, status, last_seen, updated_at),
                (source_status, identity, metrics),
                (parent_id, tags, uptime, temperature, facets),
            )| {
                let mut resource = Resource {
                    id: id.clone(),
                    resource_type,
                    name: name.to_owned(),
                    status,
                    last_seen,
                    updated_at,
                    sources: source_status.keys().copied().collect(),
                    source_status: source_status.into_iter().collect(),
                    identity: identity.into(),
                    metrics,
                    parent_id: parent_id.map(str::to_owned),
                    tags,
                    uptime,
                    temperature,
                    facets: facets.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                };
                resource.canonicalise();
                resource
            },
        )
        .boxed()
}

/// A set of resources with ids from a small pool.
pub fn resource_set() -> BoxedStrategy<BTreeMap<String, Resource>> {
    proptest::sample::subsequence(vec!["r0", "r1", "r2", "r3", "r4", "r5"], 0..=6)
        .prop_flat_map(|ids| {
            ids.into_iter()
                .map(|id| resource(id.to_owned()).prop_map(|r| (r.id.clone(), r)))
                .collect::<Vec<_>>()
                .prop_map(|pairs| pairs.into_iter().collect::<BTreeMap<_, _>>())
        })
        .boxed()
}

/// The scopes registry property tests draw snapshots from.
pub const SCOPES: &[(Source, &str)] = &[
    (Source::Proxmox, "pve:a"),
    (Source::Agent, "agent:1"),
    (Source::Agent, "agent:2"),
    (Source::Docker, "docker:1"),
];

/// A record with a source id from a small pool, so records recur across snapshots.
pub fn record() -> BoxedStrategy<SourceRecord> {
    (
        (
            pick(&["s1", "s2", "s3", "s4"]),
            pick(&[
                ResourceType::Agent,
                ResourceType::Vm,
                ResourceType::PhysicalDisk,
            ]),
            pick(&["alpha", "beta", ""]),
            pick(Status::ALL),
            identity(),
            metrics(),
        ),
        (
            option::of(prop_oneof![
                pick(&["s1", "s2", "s9"]).prop_map(|p| ParentRef::SourceId(p.to_owned())),
                Just(ParentRef::StableKey {
                    resource_type: ResourceType::Agent,
                    key: "machine:m1".to_owned(),
                }),
            ]),
            tags(),
            option::of(0u64..3),
            option::of(20.0f64..22.0),
            btree_map(pick(FacetKey::ALL), json_value(), 0..2),
        ),
        (
            option::of(pick(&[30_000u64, 90_000])),
            option::of(pick(&[100_000u64, 200_000])),
            option::of(pick(&["timeout"])),
            option::of(pick(&["pve:100", "pve:101"])),
        ),
    )
        .prop_map(
            |(
                (source_id, resource_type, name, status, identity, metrics),
                (parent, tags, uptime, temperature, facets),
                (stale_after_ms, offline_after_ms, error, guest_key),
            )| SourceRecord {
                source_id: source_id.to_owned(),
                resource_type,
                name: name.to_owned(),
                status,
                identity,
                metrics,
                parent,
                tags,
                uptime,
                temperature,
                facets,
                stale_after_ms,
                offline_after_ms,
                error: error.map(str::to_owned),
                guest_key: guest_key.map(str::to_owned),
            },
        )
        .boxed()
}

/// A snapshot for one of [`SCOPES`]; the time is filled in by the test.
pub fn snapshot() -> BoxedStrategy<SourceSnapshot> {
    (0..SCOPES.len(), vec(record(), 0..4))
        .prop_map(|(scope, records)| SourceSnapshot {
            source: SCOPES[scope].0,
            scope: SCOPES[scope].1.to_owned(),
            observed_at: Timestamp::EPOCH,
            records,
        })
        .boxed()
}
