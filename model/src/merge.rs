//! Folding a resource out of its contributions (upstream §6.4).
//!
//! A resource is the fold of its contributions, one per `(source, scope, sourceId)`. Given the
//! ranking of [`crate::status`]:
//! - `type`, `name` (first non-empty), `identity` scalars (`machineId`, `dmiUuid`, `clusterName`),
//!   `parentId` and each facet key come from the first-ranked contribution that has them;
//! - identity lists and tags are the sorted union over all contributions;
//! - each metric, `uptime` and `temperature` come from the best contribution that has them, ranked
//!   by [`metric_priority`], among the online ones — or, when none is online, the stale ones;
//!   offline contributions never supply metrics;
//! - `status` is [`aggregate_status`]; `sourceStatus` per source holds the best freshness, the
//!   newest observation and the first-ranked error of that source's contributions.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use crate::names::{ResourceType, Source, SourceState};
use crate::record::SourceRecord;
use crate::status::{aggregate_status, freshness, metric_priority, priority, tier};
use crate::time::Timestamp;
use crate::types::{Identity, Metrics, Resource, SourceStatusEntry};

/// One source's record of a resource, as of one observation.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    source: Source,
    scope: String,
    observed_at: Timestamp,
    record: SourceRecord,
    parent_id: Option<String>,
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
        Self::from_canonical(source, scope.into(), observed_at, record, parent_id)
    }

    /// As [`Contribution::new`] for a record that is already canonical.
    pub(crate) fn from_canonical(
        source: Source,
        scope: String,
        observed_at: Timestamp,
        record: SourceRecord,
        parent_id: Option<String>,
    ) -> Self {
        Contribution {
            source,
            scope,
            observed_at,
            record,
            parent_id,
        }
    }

    /// The contributing source.
    pub fn source(&self) -> Source {
        self.source
    }

    /// The record (canonical).
    pub fn record(&self) -> &SourceRecord {
        &self.record
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
            self.record.stale_after_ms,
            self.record.offline_after_ms,
            self.observed_at,
            now,
        )
    }

    /// Deterministic tie-breaker shared by every ranking.
    fn key(&self) -> (Source, &str, &str) {
        (self.source, &self.scope, &self.record.source_id)
    }
}

/// The resource `id` as the fold of `contributions` at `now`, with `updatedAt = now` (callers that
/// keep history restore the previous `updatedAt` when only observation times changed). `None`
/// when there are no contributions.
pub fn fold(id: &str, contributions: &[&Contribution], now: Timestamp) -> Option<Resource> {
    let states: Vec<SourceState> = contributions.iter().map(|c| c.freshness(now)).collect();
    let mut ranked: Vec<usize> = (0..contributions.len()).collect();
    ranked.sort_by(|&a, &b| {
        let (ca, cb) = (contributions[a], contributions[b]);
        (tier(states[a]), Reverse(priority(ca.source)), ca.key()).cmp(&(
            tier(states[b]),
            Reverse(priority(cb.source)),
            cb.key(),
        ))
    });
    let first = contributions[*ranked.first()?];
    let resource_type = first.record.resource_type;

    let name = ranked
        .iter()
        .map(|&i| &contributions[i].record.name)
        .find(|n| !n.is_empty())
        .unwrap_or(&first.record.name)
        .clone();
    let status = aggregate_status(
        ranked
            .iter()
            .map(|&i| (states[i], contributions[i].record.status)),
    );

    let mut source_status: BTreeMap<Source, SourceStatusEntry> = BTreeMap::new();
    let mut identity = Identity::default();
    let mut tags: Vec<String> = Vec::new();
    let mut facets = BTreeMap::new();
    let mut parent_id = None;
    let mut last_seen = first.observed_at;
    for &i in &ranked {
        let c = contributions[i];
        last_seen = last_seen.max(c.observed_at);
        source_status
            .entry(c.source)
            .and_modify(|e| e.last_seen = e.last_seen.max(c.observed_at))
            .or_insert_with(|| SourceStatusEntry {
                status: states[i],
                last_seen: c.observed_at,
                error: c.record.error.clone(),
            });
        identity.absorb(&c.record.identity);
        tags.extend(c.record.tags.iter().cloned());
        for (key, value) in &c.record.facets {
            facets
                .entry(key.as_str().to_owned())
                .or_insert_with(|| value.clone());
        }
        if parent_id.is_none() {
            parent_id.clone_from(&c.parent_id);
        }
    }
    tags.sort_unstable();
    tags.dedup();

    let (metrics, uptime, temperature) = merge_measurements(contributions, &states, resource_type);

    Some(Resource {
        id: id.to_owned(),
        resource_type,
        name,
        status,
        last_seen,
        updated_at: now,
        sources: source_status.keys().copied().collect(),
        source_status,
        identity,
        metrics,
        parent_id,
        tags,
        uptime,
        temperature,
        facets,
    })
}

/// Picks each metric, the uptime and the temperature from the best eligible contribution that has
/// it (see the module docs).
fn merge_measurements(
    contributions: &[&Contribution],
    states: &[SourceState],
    resource_type: ResourceType,
) -> (Metrics, Option<u64>, Option<f64>) {
    let best_tier = states
        .iter()
        .map(|&s| tier(s))
        .filter(|&t| t <= tier(SourceState::Stale))
        .min();
    let mut eligible: Vec<&Contribution> = contributions
        .iter()
        .zip(states)
        .filter(|(_, &s)| Some(tier(s)) == best_tier)
        .map(|(c, _)| *c)
        .collect();
    eligible.sort_by(|a, b| {
        (Reverse(metric_priority(a.source, resource_type)), a.key())
            .cmp(&(Reverse(metric_priority(b.source, resource_type)), b.key()))
    });

    let mut metrics = Metrics::default();
    for (slot, index) in metrics.slots_mut().into_iter().zip(0..) {
        *slot = eligible
            .iter()
            .find_map(|c| c.record.metrics.slots()[index].clone());
    }
    let uptime = eligible.iter().find_map(|c| c.record.uptime);
    let temperature = eligible.iter().find_map(|c| c.record.temperature);
    (metrics, uptime, temperature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{FacetKey, Status};
    use crate::types::MetricValue;
    use serde_json::json;

    const T0: Timestamp = Timestamp::from_millis(1_800_000_000_000);

    fn at(seconds: u64) -> Timestamp {
        T0.plus_millis(seconds * 1000)
    }

    fn contribution(
        source: Source,
        scope: &str,
        seconds: u64,
        record: SourceRecord,
    ) -> Contribution {
        Contribution::new(source, scope, at(seconds), record, None)
    }

    fn host(name: &str, status: Status) -> SourceRecord {
        SourceRecord::new("x", ResourceType::Agent, name, status)
    }

    fn percent(v: f64) -> Option<MetricValue> {
        Some(MetricValue {
            percent: Some(v),
            unit: "percent".into(),
            ..MetricValue::default()
        })
    }

    #[test]
    fn nothing_folds_to_nothing() {
        assert_eq!(fold("x", &[], T0), None);
    }

    #[test]
    fn same_source_contributions_share_one_source_status() {
        let mut stale = host("a", Status::Online);
        stale.error = Some("old error".into());
        let mut fresh = host("b", Status::Online);
        fresh.error = Some("current error".into());
        let a = contribution(Source::Proxmox, "pve:a", 0, stale);
        let b = contribution(Source::Proxmox, "pve:b", 50, fresh);
        let r = fold("id", &[&a, &b], at(70)).expect("resource");
        assert_eq!(r.sources, [Source::Proxmox]);
        let entry = &r.source_status[&Source::Proxmox];
        assert_eq!(
            entry.status,
            SourceState::Online,
            "best freshness of the source"
        );
        assert_eq!(entry.last_seen, at(50));
        assert_eq!(
            entry.error.as_deref(),
            Some("current error"),
            "first-ranked error"
        );
        assert_eq!(r.name, "b");
        assert_eq!(r.updated_at, at(70));
    }

    #[test]
    fn ties_break_on_source_scope_and_id_not_time() {
        let a = contribution(
            Source::Docker,
            "docker:b",
            5,
            host("from-b", Status::Online),
        );
        let b = contribution(
            Source::Docker,
            "docker:a",
            0,
            host("from-a", Status::Warning),
        );
        let r = fold("id", &[&a, &b], at(10)).expect("resource");
        assert_eq!(r.name, "from-a");
        assert_eq!(r.status, Status::Warning);
    }

    #[test]
    fn empty_names_fall_through() {
        let a = contribution(Source::Agent, "agent:1", 0, host("", Status::Online));
        let b = contribution(Source::Truenas, "nas", 0, host("nas1", Status::Online));
        assert_eq!(fold("id", &[&a, &b], at(1)).expect("resource").name, "nas1");
    }

    #[test]
    fn measurements_come_from_the_best_fresh_source_that_has_them() {
        let mut agent = host("h", Status::Online);
        agent.metrics.cpu = percent(1.0);
        agent.uptime = Some(10);
        let mut pve = host("h", Status::Online);
        pve.metrics.cpu = percent(2.0);
        pve.metrics.memory = percent(3.0);
        pve.temperature = Some(40.0);
        pve.uptime = Some(20);
        let a = contribution(Source::Agent, "agent:1", 0, agent);
        let p = contribution(Source::Proxmox, "pve:a", 0, pve);
        let r = fold("id", &[&p, &a], at(1)).expect("resource");
        assert_eq!(r.metrics.cpu, percent(1.0));
        assert_eq!(r.metrics.memory, percent(3.0));
        assert_eq!(r.uptime, Some(10));
        assert_eq!(r.temperature, Some(40.0));
    }

    #[test]
    fn stale_metrics_only_when_nothing_is_fresh() {
        let mut agent = host("h", Status::Online);
        agent.metrics.cpu = percent(1.0);
        let mut truenas = host("h", Status::Online);
        truenas.metrics.cpu = percent(2.0);
        let a = contribution(Source::Agent, "agent:1", 0, agent);
        let t = contribution(Source::Truenas, "nas", 0, truenas);
        // At 61 s the agent (60 s) is stale, TrueNAS (120 s) fresh.
        let r = fold("id", &[&a, &t], at(61)).expect("resource");
        assert_eq!(r.metrics.cpu, percent(2.0));
        assert_eq!(r.status, Status::Online);
        // At 121 s both are stale: the agent wins again, and status turns warning.
        let r = fold("id", &[&a, &t], at(121)).expect("resource");
        assert_eq!(r.metrics.cpu, percent(1.0));
        assert_eq!(r.status, Status::Warning);
    }

    #[test]
    fn facets_and_scalars_from_the_first_ranked_holder() {
        let mut agent = host("h", Status::Online);
        agent
            .facets
            .insert(FacetKey::Storage, json!({"from": "agent"}));
        agent.identity.hostnames = vec!["b".into()];
        let mut pve = host("h", Status::Online);
        pve.facets.insert(FacetKey::Storage, json!({"from": "pve"}));
        pve.facets.insert(FacetKey::Proxmox, json!({"node": "n"}));
        pve.identity.machine_id = Some("m".into());
        pve.identity.hostnames = vec!["a".into()];
        pve.tags = vec!["z".into(), "a".into()];
        let a = contribution(Source::Agent, "agent:1", 0, agent);
        let p = Contribution::new(Source::Proxmox, "pve:a", at(0), pve, Some("parent".into()));
        let r = fold("id", &[&p, &a], at(1)).expect("resource");
        assert_eq!(r.facets["storage"], json!({"from": "agent"}));
        assert_eq!(r.facets["proxmox"], json!({"node": "n"}));
        assert_eq!(r.identity.machine_id.as_deref(), Some("m"));
        assert_eq!(r.identity.hostnames, ["a", "b"]);
        assert_eq!(r.tags, ["a", "z"]);
        assert_eq!(r.parent_id.as_deref(), Some("parent"));
        assert_eq!(p.parent_id(), Some("parent"));
    }
}
