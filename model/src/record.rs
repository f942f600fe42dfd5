//! What collectors and agent reports hand to the registry: one [`SourceSnapshot`] per poll or
//! report, holding normalised [`SourceRecord`]s. A snapshot is not a diff: it replaces everything
//! its `(source, scope)` reported before.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use crate::error::ModelError;
use crate::json::prune_null_members;
use crate::names::{FacetKey, ResourceType, Source, Status};
use crate::time::Timestamp;
use crate::types::{canonicalise_tags, Identity, Metrics};

/// Everything one source currently reports for one scope (an endpoint, an agent).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSnapshot {
    /// The source kind.
    pub source: Source,
    /// The set of records this snapshot replaces, e.g. `"pve:cluster-a"` or `"agent:<agentId>"`.
    pub scope: String,
    /// When the source observed these records.
    pub observed_at: Timestamp,
    /// The records; `source_id`s are unique within the snapshot.
    pub records: Vec<SourceRecord>,
}

/// How a record names its parent resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParentRef {
    /// The `source_id` of another record in the same snapshot (a guest's node, a disk's host).
    SourceId(String),
    /// The stable key of a resource that may come from another source, e.g. the
    /// `machine:<id>` host of a Docker container; resolves to the resource holding a record with
    /// that key, or to the id that key will produce.
    StableKey {
        /// Type of the parent resource.
        resource_type: ResourceType,
        /// The parent's stable key (see [`crate::id`]).
        key: String,
    },
}

/// One thing as one source sees it, already mapped onto the model (type, status, metrics).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    /// Id of the thing within its source and scope (Proxmox node `<instance>-<node>`, a vmid, a
    /// container id). Also the fallback stable key `<source>:<sourceId>`, so it should be unique
    /// within the source, not just the scope.
    pub source_id: String,
    /// What kind of thing this is.
    pub resource_type: ResourceType,
    /// Display name.
    pub name: String,
    /// Status as the platform reports it, mapped to the model's statuses.
    pub status: Status,
    /// Identity facts.
    pub identity: Identity,
    /// Metrics.
    pub metrics: Metrics,
    /// The parent, if any.
    pub parent: Option<ParentRef>,
    /// Tags.
    pub tags: Vec<String>,
    /// Seconds since boot/start.
    pub uptime: Option<u64>,
    /// Temperature in °C.
    pub temperature: Option<f64>,
    /// Details per facet key, normally only [`FacetKey::of_source`] plus `storage` or
    /// `physicalDisk` where they apply.
    pub facets: BTreeMap<FacetKey, Value>,
    /// Overrides the source's staleness threshold (ms) for this record.
    pub stale_after_ms: Option<u64>,
    /// When set, the source counts as offline for this record after this many ms without a report.
    pub offline_after_ms: Option<u64>,
    /// The source's error about this record, shown in `sourceStatus`.
    pub error: Option<String>,
    /// Proxmox guest key `<instance>:<vmid>`; gives guests the stable key `proxmox-guest:<key>`.
    pub guest_key: Option<String>,
}

impl SourceRecord {
    /// A record with the given essentials and everything else empty.
    pub fn new(
        source_id: impl Into<String>,
        resource_type: ResourceType,
        name: impl Into<String>,
        status: Status,
    ) -> Self {
        SourceRecord {
            source_id: source_id.into(),
            resource_type,
            name: name.into(),
            status,
            identity: Identity::default(),
            metrics: Metrics::default(),
            parent: None,
            tags: Vec::new(),
            uptime: None,
            temperature: None,
            facets: BTreeMap::new(),
            stale_after_ms: None,
            offline_after_ms: None,
            error: None,
            guest_key: None,
        }
    }

    /// Brings the record to canonical form (normalised identity, clean tags, no non-finite
    /// numbers, no null facet members), so that records compare equal exactly when their JSON
    /// contribution is equal.
    pub(crate) fn canonicalise(&mut self) {
        self.identity.normalise();
        canonicalise_tags(&mut self.tags);
        self.metrics.canonicalise();
        if self.temperature.is_some_and(|t| !t.is_finite()) {
            self.temperature = None;
        }
        self.facets.retain(|_, value| !prune_null_members(value));
    }
}

impl SourceSnapshot {
    /// Checks what ingest relies on: a non-empty scope, non-empty and unique source ids, and
    /// `ParentRef::SourceId`s naming another record of the snapshot. Ingest tolerates violations
    /// (the last duplicate wins, unknown parents are dropped); call this at the trust boundary to
    /// reject bad input instead.
    pub fn validate(&self) -> Result<(), ModelError> {
        let fail = |reason: String| ModelError::InvalidSnapshot {
            scope: self.scope.clone(),
            reason,
        };
        if self.scope.is_empty() {
            return Err(fail("empty scope".into()));
        }
        let mut ids = HashSet::with_capacity(self.records.len());
        for record in &self.records {
            if record.source_id.is_empty() {
                return Err(fail("record with empty sourceId".into()));
            }
            if !ids.insert(record.source_id.as_str()) {
                return Err(fail(format!("duplicate sourceId {:?}", record.source_id)));
            }
        }
        for record in &self.records {
            if let Some(ParentRef::SourceId(parent)) = &record.parent {
                if parent == &record.source_id || !ids.contains(parent.as_str()) {
                    return Err(fail(format!(
                        "record {:?} names unknown parent {parent:?}",
                        record.source_id
                    )));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn snapshot(records: Vec<SourceRecord>) -> SourceSnapshot {
        SourceSnapshot {
            source: Source::Proxmox,
            scope: "pve:a".into(),
            observed_at: Timestamp::EPOCH,
            records,
        }
    }

    #[test]
    fn validate_accepts_good_snapshots() {
        let node = SourceRecord::new("a-node1", ResourceType::Agent, "node1", Status::Online);
        let mut vm = SourceRecord::new("a-100", ResourceType::Vm, "vm100", Status::Online);
        vm.parent = Some(ParentRef::SourceId("a-node1".into()));
        assert_eq!(snapshot(vec![node, vm]).validate(), Ok(()));
    }

    #[test]
    fn validate_rejects_bad_snapshots() {
        let node = SourceRecord::new("a-node1", ResourceType::Agent, "node1", Status::Online);
        let mut orphan = SourceRecord::new("a-100", ResourceType::Vm, "vm", Status::Online);
        orphan.parent = Some(ParentRef::SourceId("a-node9".into()));
        let mut own_parent = SourceRecord::new("a-101", ResourceType::Vm, "vm", Status::Online);
        own_parent.parent = Some(ParentRef::SourceId("a-101".into()));
        let empty = SourceRecord::new("", ResourceType::Vm, "vm", Status::Online);
        for bad in [
            snapshot(vec![node.clone(), node.clone()]),
            snapshot(vec![node.clone(), orphan]),
            snapshot(vec![own_parent]),
            snapshot(vec![empty]),
            SourceSnapshot {
                scope: String::new(),
                ..snapshot(vec![])
            },
        ] {
            assert!(matches!(
                bad.validate(),
                Err(ModelError::InvalidSnapshot { .. })
            ));
        }
    }

    #[test]
    fn canonicalise_cleans_record() {
        let mut r = SourceRecord::new("x", ResourceType::Agent, "x", Status::Online);
        r.tags = vec!["b".into(), " a ".into(), "".into(), "b".into()];
        r.temperature = Some(f64::NAN);
        r.metrics.set(
            crate::types::MetricKind::Cpu,
            Some(crate::types::MetricValue {
                value: Some(f64::INFINITY),
                percent: Some(5.0),
                unit: "percent".into(),
                ..Default::default()
            }),
        );
        r.facets
            .insert(FacetKey::Proxmox, json!({"a": null, "b": 1}));
        r.facets.insert(FacetKey::Storage, Value::Null);
        r.canonicalise();
        assert_eq!(r.tags, ["a", "b"]);
        assert_eq!(r.temperature, None);
        assert_eq!(r.metrics.cpu().and_then(|c| c.value), None);
        assert_eq!(r.facets.len(), 1);
        assert_eq!(r.facets[&FacetKey::Proxmox], json!({"b": 1}));
    }
}
