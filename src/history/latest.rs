//! The newest value of every resource metric per tenant, kept by the history writers for the
//! `/metrics/resources` scrape endpoint and as the label source of remote_write (SPEC §9).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, RwLock};

use pulse_model::Resource;

use super::metric::{samples_of, status_value, Metric};

/// Name of the status series.
pub const STATUS_SERIES: &str = "pulse_resource_status";

/// The identifying labels of one resource (SPEC §9), shared by all its series.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ResourceLabels {
    /// `org`.
    pub org: Arc<str>,
    /// `resource_id`.
    pub id: String,
    /// `resource_type`.
    pub resource_type: &'static str,
    /// `resource_name`.
    pub name: String,
    /// `source`: the resource's sources, comma-separated in priority order.
    pub source: String,
}

impl ResourceLabels {
    /// The labels of `resource` in `org`.
    pub fn of(org: &Arc<str>, resource: &Resource) -> ResourceLabels {
        ResourceLabels {
            org: Arc::clone(org),
            id: resource.id.clone(),
            resource_type: resource.resource_type.as_str(),
            name: resource.name.clone(),
            source: resource
                .sources
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(","),
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
    /// `pulse_resource_status` value, if the status is known.
    pub status: Option<f64>,
    /// Metric values (quantised as stored).
    pub values: Vec<(Metric, f64)>,
}

impl LatestResource {
    /// The current values of `resource` in `org`.
    pub fn of(org: &Arc<str>, resource: &Resource) -> LatestResource {
        LatestResource {
            labels: Arc::new(ResourceLabels::of(org, resource)),
            status: status_value(resource.status),
            values: samples_of(resource),
        }
    }
}

type OrgMap = BTreeMap<String, LatestResource>;

/// Newest values of every tenant, shared between writers (update) and scrapes (render).
#[derive(Debug, Clone, Default)]
pub struct Latest {
    orgs: Arc<RwLock<BTreeMap<String, OrgMap>>>,
}

impl Latest {
    /// Applies one diff of `org`.
    pub fn apply(&self, org: &str, upserted: Vec<LatestResource>, removed: &[String]) {
        let Ok(mut orgs) = self.orgs.write() else {
            return;
        };
        let map = orgs.entry(org.to_owned()).or_default();
        for r in upserted {
            map.insert(r.labels.id.clone(), r);
        }
        for id in removed {
            map.remove(id);
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
            .map(|o| o.values().map(BTreeMap::len).sum())
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
        let resources: Vec<&LatestResource> = orgs.values().flat_map(BTreeMap::values).collect();
        let mut out = String::with_capacity(256 + resources.len() * 600);
        family(
            &mut out,
            STATUS_SERIES,
            "Status of a resource: 1 online, 0.5 warning, 0 offline",
            resources
                .iter()
                .filter_map(|r| r.status.map(|v| (&*r.labels, v))),
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
            status: Some(1.0),
            values: vec![(Metric::Cpu, 12.5), (Metric::NetIn, 1000.0)],
        }
    }

    #[test]
    fn renders_families_with_escaped_labels_and_forgets_removed() {
        let l = Latest::default();
        l.apply(
            "default",
            vec![latest("vm-1", "a\"b\\c\nd"), latest("vm-2", "x")],
            &[],
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
        l.apply(
            "default",
            vec![LatestResource {
                values: vec![(Metric::Disk, 1.0), (Metric::Usage, 2.0)],
                ..latest("vm-3", "y")
            }],
            &[],
        );
        assert_eq!(
            l.render()
                .matches("# HELP pulse_resource_disk_percent")
                .count(),
            1
        );
        l.apply("default", vec![], &["vm-1".into()]);
        assert_eq!(l.len(), 2);
        l.reset("default");
        assert!(l.is_empty() && l.render().is_empty());
    }
}
