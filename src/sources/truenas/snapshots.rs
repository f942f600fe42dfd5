//! ZFS snapshots, summarised per dataset while they are decoded: a listing of 10,000 or more
//! snapshots is folded element by element into counts, the newest and oldest creation time and
//! the space they hold, so the poll never keeps the snapshots themselves.
//!
//! Accepts the shapes of `zfs.resource.snapshot.query` (newer SCALE), `pool.snapshot.query`
//! (SCALE) and `GET /zfs/snapshot` (CORE): the full name in `name` or `id` (`dataset@snap`),
//! optionally `dataset` and `snapshot_name`, and `properties.{creation, used}` as property
//! objects or bare values. An element without a readable name is skipped and counted.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::decode::{date_ms_value, prop_u64_value};

/// What is known about the snapshots of one dataset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatasetSnapshots {
    /// How many snapshots it has.
    pub count: u64,
    /// Creation time of the newest (ms).
    pub newest_ms: Option<i64>,
    /// Name (after `@`) of the newest.
    pub newest_name: Option<String>,
    /// Creation time of the oldest (ms).
    pub oldest_ms: Option<i64>,
    /// Space used by all of them (bytes, as far as reported).
    pub used_bytes: u64,
}

/// The snapshots of an appliance, per dataset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotSummary {
    /// Per dataset name.
    pub datasets: BTreeMap<String, DatasetSnapshots>,
    /// Snapshots counted.
    pub total: u64,
    /// Elements that were not snapshots and were skipped.
    pub skipped: u64,
}

/// One listed snapshot, as loosely as it may arrive.
#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    name: Option<Value>,
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    dataset: Option<Value>,
    #[serde(default)]
    snapshot_name: Option<Value>,
    #[serde(default)]
    properties: Option<Value>,
}

impl SnapshotSummary {
    /// Adds one listed element; returns whether it was a snapshot.
    fn add(&mut self, element: Value) -> bool {
        let Ok(entry) = Entry::deserialize(element) else {
            return false;
        };
        let text = |v: &Option<Value>| v.as_ref().and_then(Value::as_str).map(str::to_owned);
        let Some(full) = text(&entry.name)
            .filter(|n| n.contains('@'))
            .or_else(|| text(&entry.id).filter(|n| n.contains('@')))
        else {
            return false;
        };
        let (dataset_part, snap_part) = full.split_once('@').unwrap_or((&full, ""));
        let dataset = text(&entry.dataset).unwrap_or_else(|| dataset_part.to_owned());
        let snap = text(&entry.snapshot_name).unwrap_or_else(|| snap_part.to_owned());
        if dataset.is_empty() || snap.is_empty() {
            return false;
        }
        let property = |name: &str| entry.properties.as_ref().and_then(|p| p.get(name));
        let created = property("creation").and_then(date_ms_value);
        let used = property("used").and_then(prop_u64_value).unwrap_or(0);
        let slot = self.datasets.entry(dataset).or_default();
        slot.count += 1;
        slot.used_bytes = slot.used_bytes.saturating_add(used);
        if let Some(at) = created {
            if slot.newest_ms.is_none_or(|n| at >= n) {
                slot.newest_ms = Some(at);
                slot.newest_name = Some(snap);
            }
            slot.oldest_ms = Some(slot.oldest_ms.map_or(at, |o| o.min(at)));
        } else if slot.newest_name.is_none() {
            slot.newest_name = Some(snap);
        }
        self.total += 1;
        true
    }

    /// The summary of one dataset, if it has snapshots.
    pub fn of(&self, dataset: &str) -> Option<&DatasetSnapshots> {
        self.datasets.get(dataset)
    }
}

impl<'de> Deserialize<'de> for SnapshotSummary {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// Folds a sequence of snapshots.
        struct Fold;
        impl<'de> Visitor<'de> for Fold {
            type Value = SnapshotSummary;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of snapshots")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<SnapshotSummary, E> {
                Ok(SnapshotSummary::default())
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<SnapshotSummary, E> {
                Ok(SnapshotSummary::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SnapshotSummary, A::Error> {
                let mut summary = SnapshotSummary::default();
                while let Some(element) = seq.next_element::<Value>()? {
                    if !summary.add(element) {
                        summary.skipped += 1;
                    }
                }
                Ok(summary)
            }
        }
        d.deserialize_any(Fold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_every_shape() {
        let summary: SnapshotSummary = serde_json::from_str(
            r#"[
              {"name": "tank/a@auto-1", "dataset": "tank/a", "snapshot_name": "auto-1",
               "properties": {"creation": {"parsed": {"$date": 1700000000000}}, "used": {"parsed": 10}}},
              {"id": "tank/a@auto-2", "properties": {"creation": {"rawvalue": "1700003600"}, "used": "5"}},
              {"name": "tank/b@x", "properties": {"creation": {"value": 1690000000}}},
              {"name": "not-a-snapshot"},
              42
            ]"#,
        )
        .expect("summary");
        assert_eq!((summary.total, summary.skipped), (3, 2));
        let a = summary.of("tank/a").expect("a");
        assert_eq!(a.count, 2);
        assert_eq!(a.newest_ms, Some(1_700_003_600_000));
        assert_eq!(a.newest_name.as_deref(), Some("auto-2"));
        assert_eq!(a.oldest_ms, Some(1_700_000_000_000));
        assert_eq!(a.used_bytes, 15);
        assert_eq!(summary.of("tank/b").map(|b| b.count), Some(1));
        let empty: SnapshotSummary = serde_json::from_str("null").expect("null");
        assert_eq!(empty.total, 0);
        assert!(serde_json::from_str::<SnapshotSummary>("{}").is_err());
    }
}
