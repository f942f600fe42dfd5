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

pub use crate::contribution::Contribution;
use crate::facets::Facets;
use crate::names::{ResourceType, SourceState};
use crate::source_status::SourceStatuses;
use crate::status::{aggregate_status, metric_priority, priority, tier};
use crate::time::Timestamp;
use crate::types::{CompactIdentity, Identity, MetricKind, Metrics, Resource, SourceStatusEntry};

/// The resource `id` as the fold of `contributions` at `now`, with `updatedAt = now` (callers that
/// keep history restore the previous `updatedAt` when only observation times changed). `None`
/// when there are no contributions.
pub fn fold(id: &str, contributions: &[&Contribution], now: Timestamp) -> Option<Resource> {
    let states: Vec<SourceState> = contributions.iter().map(|c| c.freshness(now)).collect();
    let mut ranked: Vec<usize> = (0..contributions.len()).collect();
    ranked.sort_by(|&a, &b| {
        let (ca, cb) = (contributions[a], contributions[b]);
        (tier(states[a]), Reverse(priority(ca.source())), ca.key()).cmp(&(
            tier(states[b]),
            Reverse(priority(cb.source())),
            cb.key(),
        ))
    });
    let first = contributions[*ranked.first()?];
    let resource_type = first.resource_type();

    let name = ranked
        .iter()
        .map(|&i| contributions[i].name())
        .find(|n| !n.is_empty())
        .unwrap_or(first.name())
        .to_owned();
    let status = aggregate_status(
        ranked
            .iter()
            .map(|&i| (states[i], contributions[i].status())),
    );

    let mut source_status = SourceStatuses::new();
    let mut identity = Identity::default();
    let mut tags: Vec<String> = Vec::new();
    let mut parent_id: Option<&str> = None;
    let mut last_seen = first.observed_at();
    for &i in &ranked {
        let c = contributions[i];
        let seen = c.observed_at();
        last_seen = last_seen.max(seen);
        match source_status.get_mut(&c.source()) {
            Some(e) => e.last_seen = e.last_seen.max(seen),
            None => {
                source_status.insert(
                    c.source(),
                    SourceStatusEntry {
                        status: states[i],
                        last_seen: seen,
                        error: c.error().map(str::to_owned),
                    },
                );
            }
        }
        if let Some(facts) = c.identity() {
            identity.absorb(facts);
        }
        tags.extend(c.tags().iter().cloned());
        if parent_id.is_none() {
            parent_id = c.parent_id();
        }
    }
    // One contribution's tags are already canonical (sorted, unique).
    if contributions.len() > 1 {
        tags.sort_unstable();
        tags.dedup();
    }
    let facets = Facets::from_first_wins(
        ranked
            .iter()
            .flat_map(|&i| contributions[i].facets())
            .map(|(key, facet)| (key, facet.clone())),
    );

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
        identity: CompactIdentity::new(identity),
        metrics,
        parent_id: parent_id.map(str::to_owned),
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
        (Reverse(metric_priority(a.source(), resource_type)), a.key())
            .cmp(&(Reverse(metric_priority(b.source(), resource_type)), b.key()))
    });

    let metrics = match eligible[..] {
        [] => Metrics::new(),
        [only] => only.metrics().cloned().unwrap_or_default(),
        _ => MetricKind::ALL
            .into_iter()
            .filter_map(|kind| {
                let metric = eligible.iter().find_map(|c| c.metrics()?.get(kind))?;
                Some((kind, metric.clone()))
            })
            .collect(),
    };
    let uptime = eligible.iter().find_map(|c| c.uptime());
    let temperature = eligible.iter().find_map(|c| c.temperature());
    (metrics, uptime, temperature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{FacetKey, Source, Status};
    use crate::record::SourceRecord;
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
        agent.metrics.set(MetricKind::Cpu, percent(1.0));
        agent.uptime = Some(10);
        let mut pve = host("h", Status::Online);
        pve.metrics.set(MetricKind::Cpu, percent(2.0));
        pve.metrics.set(MetricKind::Memory, percent(3.0));
        pve.temperature = Some(40.0);
        pve.uptime = Some(20);
        let a = contribution(Source::Agent, "agent:1", 0, agent);
        let p = contribution(Source::Proxmox, "pve:a", 0, pve);
        let r = fold("id", &[&p, &a], at(1)).expect("resource");
        assert_eq!(r.metrics.cpu(), percent(1.0).as_ref());
        assert_eq!(r.metrics.memory(), percent(3.0).as_ref());
        assert_eq!(r.uptime, Some(10));
        assert_eq!(r.temperature, Some(40.0));
    }

    #[test]
    fn stale_metrics_only_when_nothing_is_fresh() {
        let mut agent = host("h", Status::Online);
        agent.metrics.set(MetricKind::Cpu, percent(1.0));
        let mut truenas = host("h", Status::Online);
        truenas.metrics.set(MetricKind::Cpu, percent(2.0));
        let a = contribution(Source::Agent, "agent:1", 0, agent);
        let t = contribution(Source::Truenas, "nas", 0, truenas);
        // At 61 s the agent (60 s) is stale, TrueNAS (120 s) fresh.
        let r = fold("id", &[&a, &t], at(61)).expect("resource");
        assert_eq!(r.metrics.cpu(), percent(2.0).as_ref());
        assert_eq!(r.status, Status::Online);
        // At 121 s both are stale: the agent wins again, and status turns warning.
        let r = fold("id", &[&a, &t], at(121)).expect("resource");
        assert_eq!(r.metrics.cpu(), percent(1.0).as_ref());
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
