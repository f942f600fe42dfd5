//! One source's record of a resource as the registry keeps it: compact, and sharing its facets
//! with the resources folded from it.
//!
//! A [`SourceRecord`] is the collectors' convenient form (identity inline, facets as `Value`
//! trees, the parent reference and guest key that only placement needs). A contribution
//! keeps only what folding needs, each part sized to what is present: the registry holds one per
//! record for as long as the record is reported, so this is most of its memory.
//!
//! The registry also lets the resource hold a contribution's measurements (metrics, uptime,
//! temperature) when the resource is folded from that contribution alone and shows exactly them:
//! the contribution then lends them and gets a copy back before the resource is folded again. A
//! contribution made with [`Contribution::new`] owns its measurements.

use std::sync::Arc;

use crate::facets::Facet;
use crate::fingerprint::value_fingerprint;
use crate::names::{FacetKey, ResourceType, Source, SourceState, Status};
use crate::record::SourceRecord;
use crate::status::freshness;
use crate::time::Timestamp;
use crate::types::{Identity, Metrics, Resource};

/// One source's record of a resource, as of one observation.
///
/// The registry holds one per record, inline in its slot table, so the struct is kept small:
/// parts most records lack (identity facts, tags, an error) share one optional box, and the
/// freshness thresholds take eight bytes each.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    source: Source,
    resource_type: ResourceType,
    status: Status,
    observed_at: Timestamp,
    scope: Arc<str>,
    source_id: Arc<str>,
    /// Shared with the registry's copy of the parent's id.
    parent_id: Option<Arc<str>>,
    name: Box<str>,
    /// Identity facts, tags and error; `None` when the record has none of them.
    extras: Option<Box<Extras>>,
    /// Metrics, uptime and temperature, unless lent to the resource (see the module docs).
    measurements: Option<Box<Measurements>>,
    facets: Box<[Contributed]>,
    stale_after_ms: Threshold,
    offline_after_ms: Threshold,
}

/// The parts of a record that most records lack, boxed together.
#[derive(Debug, Clone, PartialEq)]
struct Extras {
    /// `None` when the record has no identity facts.
    identity: Option<Identity>,
    tags: Box<[String]>,
    error: Option<Box<str>>,
}

/// An optional threshold in milliseconds, in eight bytes: `u64::MAX` stands for none. A given
/// `u64::MAX` is kept as `u64::MAX - 1`, which no age reaches either (ages fit in an `i64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Threshold(u64);

impl Threshold {
    fn new(ms: Option<u64>) -> Threshold {
        Threshold(ms.map_or(u64::MAX, |ms| ms.min(u64::MAX - 1)))
    }

    fn get(self) -> Option<u64> {
        (self.0 != u64::MAX).then_some(self.0)
    }
}

/// What a record measured: its metrics, uptime and temperature.
#[derive(Debug, Clone, PartialEq)]
struct Measurements {
    metrics: Metrics,
    uptime: Option<u64>,
    temperature: Option<f64>,
}

impl Extras {
    /// The extras of a record, if it has any.
    fn new(identity: Identity, tags: Vec<String>, error: Option<String>) -> Option<Box<Extras>> {
        let identity = (!identity.is_empty()).then_some(identity);
        if identity.is_none() && tags.is_empty() && error.is_none() {
            return None;
        }
        Some(Box::new(Extras {
            identity,
            tags: tags.into_boxed_slice(),
            error: error.map(String::into_boxed_str),
        }))
    }
}

/// One facet of a contribution, with the fingerprint of the value it was made from.
#[derive(Debug, Clone, PartialEq)]
struct Contributed {
    key: FacetKey,
    fingerprint: u64,
    facet: Facet,
}

impl Contribution {
    /// A contribution of `record` from `(source, scope)` observed at `observed_at`, whose parent
    /// has been resolved to the resource id `parent_id`. The record is canonicalised.
    pub fn new(
        source: Source,
        scope: impl Into<String>,
        observed_at: Timestamp,
        mut record: SourceRecord,
        parent_id: Option<String>,
    ) -> Self {
        record.canonicalise();
        let scope: Arc<str> = Arc::from(scope.into());
        let source_id: Arc<str> = Arc::from(record.source_id.as_str());
        let parent_id = parent_id.map(Arc::from);
        Self::from_canonical(
            source,
            scope,
            source_id,
            observed_at,
            record,
            parent_id,
            None,
        )
    }

    /// As [`Contribution::new`] for a record that is already canonical, with the scope name and
    /// the record's `sourceId` given as shared strings. Facets equal to those of `previous` (the
    /// contribution this one replaces) are shared with it instead of serialised again.
    pub(crate) fn from_canonical(
        source: Source,
        scope: Arc<str>,
        source_id: Arc<str>,
        observed_at: Timestamp,
        record: SourceRecord,
        parent_id: Option<Arc<str>>,
        previous: Option<&Contribution>,
    ) -> Self {
        let SourceRecord {
            source_id: _,
            resource_type,
            name,
            status,
            identity,
            metrics,
            parent: _,
            tags,
            uptime,
            temperature,
            facets,
            stale_after_ms,
            offline_after_ms,
            error,
            guest_key: _,
        } = record;
        Contribution {
            source,
            resource_type,
            status,
            observed_at,
            scope,
            source_id,
            parent_id,
            name: name.into_boxed_str(),
            extras: Extras::new(identity, tags, error),
            measurements: Some(Box::new(Measurements {
                metrics,
                uptime,
                temperature,
            })),
            facets: facets
                .into_iter()
                .map(|(key, value)| {
                    let fingerprint = value_fingerprint(&value);
                    let earlier = previous
                        .and_then(|p| p.facets.iter().find(|f| f.key == key))
                        .filter(|f| f.fingerprint == fingerprint);
                    let facet = match earlier {
                        Some(f) => f.facet.clone(),
                        None => Facet::from_canonical(&value),
                    };
                    Contributed {
                        key,
                        fingerprint,
                        facet,
                    }
                })
                .collect(),
            stale_after_ms: Threshold::new(stale_after_ms),
            offline_after_ms: Threshold::new(offline_after_ms),
        }
    }

    /// The contributing source.
    pub fn source(&self) -> Source {
        self.source
    }

    /// The record's resource type.
    pub fn resource_type(&self) -> ResourceType {
        self.resource_type
    }

    /// The record's status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The record's display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The record's `sourceId`.
    pub fn source_id(&self) -> &str {
        &self.source_id
    }

    /// The shared `sourceId` (the registry's scope index uses it as key).
    pub(crate) fn shared_source_id(&self) -> &Arc<str> {
        &self.source_id
    }

    /// The record's identity facts.
    pub fn identity(&self) -> Option<&Identity> {
        self.extras.as_ref()?.identity.as_ref()
    }

    /// The record's tags (canonical: sorted, unique).
    pub fn tags(&self) -> &[String] {
        self.extras.as_ref().map_or(&[], |e| &e.tags)
    }

    /// The record's metrics (none while they are lent to the resource).
    pub(crate) fn metrics(&self) -> Option<&Metrics> {
        Some(&self.measurements.as_ref()?.metrics)
    }

    /// Seconds since boot/start.
    pub(crate) fn uptime(&self) -> Option<u64> {
        self.measurements.as_ref()?.uptime
    }

    /// Temperature in °C.
    pub(crate) fn temperature(&self) -> Option<f64> {
        self.measurements.as_ref()?.temperature
    }

    /// Whether the measurements are lent to the resource.
    #[cfg(test)]
    pub(crate) fn lends_measurements(&self) -> bool {
        self.measurements.is_none()
    }

    /// Drops the contribution's own copy of its measurements: the resource, folded from this
    /// contribution alone, shows exactly them (the caller guarantees it).
    pub(crate) fn lend_measurements(&mut self) {
        self.measurements = None;
    }

    /// Takes lent measurements back from the resource that shows them.
    pub(crate) fn reclaim_measurements(&mut self, resource: &Resource) {
        if self.measurements.is_none() {
            self.measurements = Some(Box::new(Measurements {
                metrics: resource.metrics.clone(),
                uptime: resource.uptime,
                temperature: resource.temperature,
            }));
        }
    }

    /// The record's facets.
    pub fn facets(&self) -> impl ExactSizeIterator<Item = (FacetKey, &Facet)> + '_ {
        self.facets.iter().map(|f| (f.key, &f.facet))
    }

    /// The source's error about the record.
    pub fn error(&self) -> Option<&str> {
        self.extras.as_ref()?.error.as_deref()
    }

    /// The resolved parent resource id.
    pub fn parent_id(&self) -> Option<&str> {
        self.parent_id.as_deref()
    }

    /// When the source observed the record.
    pub fn observed_at(&self) -> Timestamp {
        self.observed_at
    }

    /// Records a newer observation of unchanged content.
    pub(crate) fn observe(&mut self, at: Timestamp) {
        self.observed_at = at;
    }

    /// Freshness at `now` (see [`crate::status`]).
    pub fn freshness(&self, now: Timestamp) -> SourceState {
        freshness(
            self.source,
            self.stale_after_ms.get(),
            self.offline_after_ms.get(),
            self.observed_at,
            now,
        )
    }

    /// Deterministic tie-breaker shared by every ranking.
    pub(crate) fn key(&self) -> (Source, &str, &str) {
        (self.source, &self.scope, &self.source_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{MetricKind, MetricValue};
    use serde_json::json;

    #[test]
    fn keeps_what_folding_needs() {
        let mut record = SourceRecord::new("s1", ResourceType::Vm, "web", Status::Warning);
        record.metrics.set(
            MetricKind::Memory,
            Some(MetricValue {
                used: Some(5),
                unit: "bytes".into(),
                ..MetricValue::default()
            }),
        );
        record.metrics.set(
            MetricKind::DiskWrite,
            Some(MetricValue {
                value: Some(f64::NAN),
                unit: "bytes/s".into(),
                ..MetricValue::default()
            }),
        );
        record.tags = vec!["b".into(), "a".into()];
        record.identity.hostnames = vec!["Web.lan.".into()];
        record
            .facets
            .insert(FacetKey::Proxmox, json!({"vmid": 100, "lock": null}));
        record.error = Some("timeout".into());
        let t = Timestamp::from_millis(1_000);
        let c = Contribution::new(Source::Proxmox, "pve:a", t, record, Some("p".into()));
        assert_eq!(c.key(), (Source::Proxmox, "pve:a", "s1"));
        assert_eq!((c.name(), c.status()), ("web", Status::Warning));
        let metrics = c.metrics().expect("own measurements");
        assert_eq!(metrics.memory().and_then(|m| m.used), Some(5));
        assert_eq!(metrics.cpu(), None);
        assert_eq!(
            metrics.disk_write().map(|m| m.value),
            Some(None),
            "NaN dropped"
        );
        assert_eq!(c.tags(), ["a", "b"]);
        assert_eq!(
            c.identity().map(|i| i.hostnames.clone()),
            Some(vec!["web.lan".to_owned()])
        );
        let facets: Vec<(FacetKey, &Facet)> = c.facets().collect();
        assert_eq!(facets.len(), 1);
        assert_eq!(facets[0].1.json(), r#"{"vmid":100}"#);
        assert_eq!((c.error(), c.parent_id()), (Some("timeout"), Some("p")));
        let bare = SourceRecord::new("s2", ResourceType::Vm, "x", Status::Online);
        let c = Contribution::new(Source::Proxmox, "pve:a", t, bare, None);
        assert_eq!(c.identity(), None);
    }
}
