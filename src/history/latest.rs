//! The newest value of every resource metric per tenant, kept by the history writers for the
//! `/metrics/resources` scrape endpoint and as the label source of remote_write (SPEC §9).
//!
//! One entry per resource, so it is kept compact (docs/performance.md, issue 2): the map is keyed
//! by the entry's own labels (no second copy of the id), label strings and values are boxed
//! slices without spare room, and the writer's sample spacing (when it last stored samples of
//! the resource) lives in the same entry instead of a map of its own.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::sync::{Arc, RwLock};

use pulse_model::{Resource, Status};

use super::metric::{samples_of, status_value, Metric};

/// Name of the status series.
pub const STATUS_SERIES: &str = "pulse_resource_status";

/// The identifying labels of one resource (SPEC §9), shared by all its series.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ResourceLabels {
    /// `org`.
    pub org: Arc<str>,
    /// `resource_id`.
    pub id: Box<str>,
    /// `resource_type`.
    pub resource_type: &'static str,
    /// `resource_name`.
    pub name: Box<str>,
    /// `source`: the resource's sources, comma-separated in priority order.
    pub source: Box<str>,
}

impl ResourceLabels {
    /// The labels of `resource` in `org`.
    pub fn of(org: &Arc<str>, resource: &Resource) -> ResourceLabels {
        ResourceLabels {
            org: Arc::clone(org),
            id: resource.id.as_str().into(),
            resource_type: resource.resource_type.as_str(),
            name: resource.name.as_str().into(),
            source: resource
                .sources
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(",")
                .into_boxed_str(),
        }
    }

    /// `(name, value)` pairs sorted by label name, as remote_write requires (without `__name__`).
    pub fn pairs(&self) -> [(&'static str, &str); 5] {
        [
            ("org", &self.org),
            ("resource_id", &self.id),
            ("resource_name", &self.name),
            ("resource_type", self.resource_type),
            ("source", &self.source),
        ]
    }
}

/// A resource's newest values.
#[derive(Debug, Clone, PartialEq)]
pub struct LatestResource {
    /// Its labels.
    pub labels: Arc<ResourceLabels>,
    /// The resource's status (its `pulse_resource_status` value: [`LatestResource::status_value`]).
    pub status: Status,
    /// Metric values (quantised as stored).
    pub values: Box<[(Metric, f64)]>,
}

impl LatestResource {
    /// The current values of `resource` in `org`.
    pub fn of(org: &Arc<str>, resource: &Resource) -> LatestResource {
        LatestResource {
            labels: Arc::new(ResourceLabels::of(org, resource)),
            status: resource.status,
            values: samples_of(resource).into_boxed_slice(),
        }
    }

    /// `pulse_resource_status` value, if the status is known.
    pub fn status_value(&self) -> Option<f64> {
        status_value(self.status)
    }
}

/// No sample stored yet ([`Entry::last_sample_ms`]).
const NEVER: i64 = i64::MIN;

/// A resource's entry: its newest values and when the history writer last stored samples of it.
/// Ordered and found by resource id (the labels' own copy).
#[derive(Debug)]
struct Entry {
    resource: LatestResource,
    /// Time of the last samples stored, or [`NEVER`].
    last_sample_ms: i64,
}

impl Borrow<str> for Entry {
    fn borrow(&self) -> &str {
        &self.resource.labels.id
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.resource.labels.id == other.resource.labels.id
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.resource.labels.id.cmp(&other.resource.labels.id)
    }
}

type OrgMap = BTreeSet<Entry>;

/// How the writer spaces the samples it stores for one resource.
#[derive(Debug, Clone, Copy)]
pub struct Spacing {
    /// When the diff was made.
    pub at_ms: i64,
    /// Samples of one resource closer together than this are skipped.
    pub min_ms: i64,
}

/// Newest values of every tenant, shared between writers (update) and scrapes (render).
#[derive(Debug, Clone, Default)]
pub struct Latest {
    orgs: Arc<RwLock<BTreeMap<String, OrgMap>>>,
}

impl Latest {
    /// Applies one diff of `org`: stores the newest values of every upserted resource and forgets
    /// the removed ones. Before storing a resource it calls `sample(resource, due)`, where `due`
    /// says whether history samples of it are due: none was stored within `spacing.min_ms`
    /// before `spacing.at_ms`. A due resource with values counts as sampled at `spacing.at_ms`.
    pub fn apply(
        &self,
        org: &str,
        upserted: Vec<LatestResource>,
        removed: &[String],
        spacing: Spacing,
        mut sample: impl FnMut(&LatestResource, bool),
    ) {
        let Ok(mut orgs) = self.orgs.write() else {
            return;
        };
        let map = orgs.entry(org.to_owned()).or_default();
        for resource in upserted {
            let last = map
                .get::<str>(&resource.labels.id)
                .map_or(NEVER, |e| e.last_sample_ms);
            let due = last == NEVER || spacing.at_ms - last >= spacing.min_ms;
            sample(&resource, due);
            let last_sample_ms = if due && !resource.values.is_empty() {
                spacing.at_ms
            } else {
                last
            };
            map.replace(Entry {
                resource,
                last_sample_ms,
            });
        }
        for id in removed {
            map.remove::<str>(id);
        }
    }

    /// Forgets `org`'s resources (its registry restarted and will report them again).
    pub fn reset(&self, org: &str) {
        if let Ok(mut orgs) = self.orgs.write() {
            orgs.remove(org);
        }
    }

    /// Number of resources known over all tenants.
    pub fn len(&self) -> usize {
        self.orgs
            .read()
            .map(|o| o.values().map(BTreeSet::len).sum())
            .unwrap_or(0)
    }

    /// Whether no resource is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The Prometheus text exposition (format 0.0.4) of every resource series of every tenant.
    pub fn render(&self) -> String {
        let Ok(orgs) = self.orgs.read() else {
            return String::new();
        };
        let resources: Vec<&LatestResource> = orgs
            .values()
            .flat_map(|map| map.iter().map(|e| &e.resource))
            .collect();
        let mut out = String::with_capacity(256 + resources.len() * 600);
        family(
            &mut out,
            STATUS_SERIES,
            "Status of a resource: 1 online, 0.5 warning, 0 offline",
            resources
                .iter()
                .filter_map(|r| r.status_value().map(|v| (&*r.labels, v))),
        );
        let mut names: Vec<(&'static str, &'static str)> = Vec::new();
        for m in Metric::ALL {
            if !names.iter().any(|(n, _)| *n == m.prometheus_name()) {
                names.push((m.prometheus_name(), m.prometheus_help()));
            }
        }
        for (name, help) in names {
            family(
                &mut out,
                name,
                help,
                resources.iter().flat_map(|r| {
                    r.values
                        .iter()
                        .filter(move |(m, _)| m.prometheus_name() == name)
                        .map(move |(_, v)| (&*r.labels, *v))
                }),
            );
        }
        out
    }
}

/// Writes one gauge family; families without samples are left out.
fn family<'a>(
    out: &mut String,
    name: &str,
    help: &str,
    samples: impl Iterator<Item = (&'a ResourceLabels, f64)>,
) {
    let mut header = false;
    for (labels, value) in samples {
        if !header {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            header = true;
        }
        out.push_str(name);
        out.push('{');
        for (i, (k, v)) in labels.pairs().iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(k);
            out.push_str("=\"");
            escape_label(out, v);
            out.push('"');
        }
        let _ = writeln!(out, "}} {value}");
    }
}

/// Escapes a label value for the text format (backslash, quote, newline).
fn escape_label(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn latest(id: &str, name: &str) -> LatestResource {
        LatestResource {
            labels: Arc::new(ResourceLabels {
                org: Arc::from("default"),
                id: id.into(),
                resource_type: "vm",
                name: name.into(),
                source: "proxmox".into(),
            }),
            status: Status::Online,
            values: Box::new([(Metric::Cpu, 12.5), (Metric::NetIn, 1000.0)]),
        }
    }

    const AT: Spacing = Spacing {
        at_ms: 1_000_000,
        min_ms: 1_000,
    };

    /// Applies a diff at `at_ms` and returns the ids the writer would sample.
    fn apply(
        l: &Latest,
        upserted: Vec<LatestResource>,
        removed: &[String],
        at_ms: i64,
    ) -> Vec<String> {
        let mut due = Vec::new();
        l.apply(
            "default",
            upserted,
            removed,
            Spacing { at_ms, ..AT },
            |r, d| {
                if d {
                    due.push(r.labels.id.to_string());
                }
            },
        );
        due
    }

    #[test]
    fn renders_families_with_escaped_labels_and_forgets_removed() {
        let l = Latest::default();
        apply(
            &l,
            vec![latest("vm-1", "a\"b\\c\nd"), latest("vm-2", "x")],
            &[],
            AT.at_ms,
        );
        let text = l.render();
        assert!(text.contains("# TYPE pulse_resource_cpu_percent gauge"));
        assert!(text.contains(r#"resource_name="a\"b\\c\nd""#), "{text}");
        assert!(text.contains(
            r#"pulse_resource_status{org="default",resource_id="vm-2",resource_name="x",resource_type="vm",source="proxmox"} 1"#
        ));
        assert!(!text.contains("pulse_resource_temperature_celsius"));
        assert_eq!(
            text.matches("# HELP pulse_resource_disk_percent").count(),
            0
        );
        apply(
            &l,
            vec![LatestResource {
                values: Box::new([(Metric::Disk, 1.0), (Metric::Usage, 2.0)]),
                ..latest("vm-3", "y")
            }],
            &[],
            AT.at_ms,
        );
        assert_eq!(
            l.render()
                .matches("# HELP pulse_resource_disk_percent")
                .count(),
            1
        );
        apply(&l, vec![], &["vm-1".into()], AT.at_ms);
        assert_eq!(l.len(), 2);
        l.reset("default");
        assert!(l.is_empty() && l.render().is_empty());
    }

    #[test]
    fn samples_are_due_once_per_spacing_and_only_stamped_with_values() {
        let l = Latest::default();
        let no_values = || LatestResource {
            values: Box::new([]),
            ..latest("vm-2", "b")
        };
        let t = AT.at_ms;
        // New resources are due; only one with values is stamped.
        assert_eq!(
            apply(&l, vec![latest("vm-1", "a"), no_values()], &[], t),
            ["vm-1", "vm-2"]
        );
        // Within the spacing: vm-1 waits, vm-2 (never sampled) stays due; updates are kept.
        let renamed = latest("vm-1", "renamed");
        assert_eq!(
            apply(&l, vec![renamed, no_values()], &[], t + 999),
            ["vm-2"]
        );
        assert!(l.render().contains(r#"resource_name="renamed""#));
        assert_eq!(
            apply(&l, vec![latest("vm-1", "a")], &[], t + 1_000),
            ["vm-1"]
        );
        assert!(apply(&l, vec![latest("vm-1", "a")], &[], t + 1_500).is_empty());
        // A removed or reset resource starts over.
        apply(&l, vec![], &["vm-1".into()], t + 1_600);
        assert_eq!(
            apply(&l, vec![latest("vm-1", "a")], &[], t + 1_700),
            ["vm-1"]
        );
        l.reset("default");
        assert_eq!(
            apply(&l, vec![latest("vm-1", "a")], &[], t + 1_800),
            ["vm-1"]
        );
        assert_eq!(l.len(), 1);
    }
}
