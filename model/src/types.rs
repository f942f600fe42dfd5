//! The unified resource and its parts, with the exact upstream JSON shape (SPEC §4).
//!
//! **Canonical-JSON invariant:** a [`Resource`] as held by the registry serialises to JSON without
//! any `null` object member at any depth: optional fields are omitted when `None`, non-finite
//! numbers are dropped, and facet values hold no null members (see [`crate::facets`]).
//! This is what makes the RFC 7386 merge-patches of [`crate::diff`] exact.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::facets::Facets;
pub use crate::metrics::{MetricKind, MetricValue, Metrics};
use crate::names::{ResourceType, Source, SourceState, Status};
use crate::source_status::SourceStatuses;
use crate::time::Timestamp;

/// What identifies the machine (or disk) behind a resource, used to recognise it across sources.
///
/// Kept normalised (see [`Identity::normalise`]): lists sorted and deduplicated, hostnames lower
/// case without trailing dot, MACs in lower-case colon form, IPs without CIDR suffix.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// `/etc/machine-id` of a host; for a physical disk, a disk-unique id such as its WWN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_id: Option<String>,
    /// SMBIOS system UUID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dmi_uuid: Option<String>,
    /// Host names (full names; matching uses the short name).
    #[serde(default)]
    pub hostnames: Vec<String>,
    /// IP addresses.
    #[serde(default)]
    pub ip_addresses: Vec<String>,
    /// MAC addresses.
    #[serde(default)]
    pub mac_addresses: Vec<String>,
    /// Cluster the machine belongs to (e.g. the PVE cluster name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
}

/// An [`Identity`] as a resource holds it: nothing when it is empty, boxed otherwise.
///
/// Most resources (containers, guests, storage) have no identity facts, and the registry keeps
/// one per resource, so an inline `Identity` (144 bytes) would be mostly empty space. Reads go
/// through `Deref` to the `Identity`; it serialises and deserialises exactly as one.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct CompactIdentity(Option<Box<Identity>>);

/// The identity without facts: what an empty [`CompactIdentity`] reads as.
pub(crate) static EMPTY_IDENTITY: Identity = Identity {
    machine_id: None,
    dmi_uuid: None,
    hostnames: Vec::new(),
    ip_addresses: Vec::new(),
    mac_addresses: Vec::new(),
    cluster_name: None,
};

impl CompactIdentity {
    /// Holds `identity` (nothing if it is empty).
    pub fn new(identity: Identity) -> CompactIdentity {
        CompactIdentity((!identity.is_empty()).then(|| Box::new(identity)))
    }

    /// The identity, by value.
    pub fn into_inner(self) -> Identity {
        self.0.map(|identity| *identity).unwrap_or_default()
    }

    /// Normalises the identity (see [`Identity::normalise`]), dropping it if nothing is left.
    pub fn normalise(&mut self) {
        if let Some(identity) = &mut self.0 {
            identity.normalise();
            if identity.is_empty() {
                self.0 = None;
            }
        }
    }
}

impl std::ops::Deref for CompactIdentity {
    type Target = Identity;

    fn deref(&self) -> &Identity {
        self.0.as_deref().unwrap_or(&EMPTY_IDENTITY)
    }
}

impl From<Identity> for CompactIdentity {
    fn from(identity: Identity) -> CompactIdentity {
        CompactIdentity::new(identity)
    }
}

impl fmt::Debug for CompactIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl Serialize for CompactIdentity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CompactIdentity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<CompactIdentity, D::Error> {
        Identity::deserialize(deserializer).map(CompactIdentity::new)
    }
}

/// How current one source's view of a resource is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceStatusEntry {
    /// Freshness of the source's latest observation.
    pub status: SourceState,
    /// When the source last reported the resource.
    pub last_seen: Timestamp,
    /// The source's last error about this resource, if it reported one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A unified resource: one thing in the monitored infrastructure, merged over all sources that see
/// it. The JSON shape is the **compatible** upstream one (SPEC §4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// Stable id, `<type>-<16 hex>` (see [`crate::id`]).
    pub id: String,
    /// What kind of thing this is.
    #[serde(rename = "type")]
    pub resource_type: ResourceType,
    /// Display name.
    pub name: String,
    /// Aggregate status (see [`crate::status`]).
    pub status: Status,
    /// Newest observation by any source.
    pub last_seen: Timestamp,
    /// Last change of anything other than observation times.
    pub updated_at: Timestamp,
    /// Sources that currently see the resource, in [`Source`] order.
    pub sources: Vec<Source>,
    /// Freshness per source.
    pub source_status: SourceStatuses,
    /// Identity, the union over all sources.
    pub identity: CompactIdentity,
    /// Metrics, each from the best fresh source that has it.
    pub metrics: Metrics,
    /// Id of the containing resource (node of a guest, host of a container, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Tags, the sorted union over all sources.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Seconds since boot/start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime: Option<u64>,
    /// Temperature in °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Per-source details (`proxmox`, `docker`, `storage`, …), free-form JSON flattened into the
    /// resource's top level, kept as compact shared text (see [`crate::facets`]). Never holds
    /// `null` members (see the module docs).
    #[serde(flatten)]
    pub facets: Facets,
}

impl Resource {
    /// Puts the resource in canonical form: identity normalised, tags trimmed, sorted and
    /// deduplicated, sources sorted, non-finite numbers dropped (facets are canonical by
    /// construction). Registry resources are always canonical; call this on resources
    /// built by hand before diffing them.
    pub fn canonicalise(&mut self) {
        self.identity.normalise();
        canonicalise_tags(&mut self.tags);
        self.sources.sort_unstable();
        self.sources.dedup();
        self.metrics.canonicalise();
        if self.temperature.is_some_and(|t| !t.is_finite()) {
            self.temperature = None;
        }
    }

    /// Whether two resources differ only in observation times (`lastSeen`, `updatedAt` and the
    /// per-source `lastSeen`). Such a change does not move `updatedAt`.
    pub(crate) fn same_content(&self, other: &Resource) -> bool {
        self.id == other.id
            && self.resource_type == other.resource_type
            && self.name == other.name
            && self.status == other.status
            && self.sources == other.sources
            && self.source_status.len() == other.source_status.len()
            && self
                .source_status
                .iter()
                .zip(&other.source_status)
                .all(|((sa, a), (sb, b))| sa == sb && a.status == b.status && a.error == b.error)
            && self.identity == other.identity
            && self.metrics == other.metrics
            && self.parent_id == other.parent_id
            && self.tags == other.tags
            && self.uptime == other.uptime
            && self.temperature == other.temperature
            && self.facets == other.facets
    }
}

/// Trims tags, drops empty ones, sorts and deduplicates.
pub(crate) fn canonicalise_tags(tags: &mut Vec<String>) {
    if tags
        .iter()
        .any(|t| t.trim().len() != t.len() || t.is_empty())
    {
        tags.retain(|t| !t.trim().is_empty());
        for tag in tags.iter_mut() {
            if tag.trim().len() != tag.len() {
                *tag = tag.trim().to_owned();
            }
        }
    }
    tags.sort_unstable();
    tags.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn example() -> Resource {
        let t = |s: &str| s.parse::<Timestamp>().expect("timestamp");
        Resource {
            id: "agent-103eba7607098875".into(),
            resource_type: ResourceType::Agent,
            name: "pve1".into(),
            status: Status::Online,
            last_seen: t("2026-11-22T10:00:00.123Z"),
            updated_at: t("2026-11-22T09:58:10Z"),
            sources: vec![Source::Proxmox, Source::Agent],
            source_status: SourceStatuses::from([
                (
                    Source::Proxmox,
                    SourceStatusEntry {
                        status: SourceState::Online,
                        last_seen: t("2026-11-22T09:59:55Z"),
                        error: None,
                    },
                ),
                (
                    Source::Agent,
                    SourceStatusEntry {
                        status: SourceState::Online,
                        last_seen: t("2026-11-22T10:00:00.123Z"),
                        error: None,
                    },
                ),
            ]),
            identity: Identity {
                machine_id: Some("abc123".into()),
                hostnames: vec!["pve1.lan".into()],
                ip_addresses: vec!["192.168.1.10".into()],
                mac_addresses: vec!["aa:bb:cc:dd:ee:01".into()],
                cluster_name: Some("homelab".into()),
                ..Identity::default()
            }
            .into(),
            metrics: Metrics::new()
                .with(
                    MetricKind::Memory,
                    Some(MetricValue {
                        value: Some(8_589_934_592.0),
                        used: Some(8_589_934_592),
                        total: Some(34_359_738_368),
                        percent: Some(25.0),
                        unit: "bytes".into(),
                    }),
                )
                .with(
                    MetricKind::Cpu,
                    Some(MetricValue {
                        value: Some(12.5),
                        percent: Some(12.5),
                        unit: "percent".into(),
                        ..MetricValue::default()
                    }),
                ),
            parent_id: None,
            tags: vec!["prod".into()],
            uptime: Some(86_400),
            temperature: Some(48.0),
            facets: [
                ("agent".to_owned(), json!({"version": "6.0.0"})),
                (
                    "proxmox".to_owned(),
                    json!({"node": "pve1", "instance": "homelab"}),
                ),
            ]
            .into_iter()
            .collect(),
        }
    }

    #[test]
    fn serialises_to_the_compatible_shape() {
        let json = serde_json::to_string(&example()).expect("serialise");
        let expected = concat!(
            r#"{"id":"agent-103eba7607098875","type":"agent","name":"pve1","status":"online","#,
            r#""lastSeen":"2026-11-22T10:00:00.123Z","updatedAt":"2026-11-22T09:58:10.000Z","#,
            r#""sources":["proxmox","agent"],"sourceStatus":{"#,
            r#""proxmox":{"status":"online","lastSeen":"2026-11-22T09:59:55.000Z"},"#,
            r#""agent":{"status":"online","lastSeen":"2026-11-22T10:00:00.123Z"}},"#,
            r#""identity":{"machineId":"abc123","hostnames":["pve1.lan"],"#,
            r#""ipAddresses":["192.168.1.10"],"macAddresses":["aa:bb:cc:dd:ee:01"],"#,
            r#""clusterName":"homelab"},"#,
            r#""metrics":{"cpu":{"value":12.5,"percent":12.5,"unit":"percent"},"#,
            r#""memory":{"value":8589934592.0,"used":8589934592,"total":34359738368,"#,
            r#""percent":25.0,"unit":"bytes"}},"#,
            r#""tags":["prod"],"uptime":86400,"temperature":48.0,"#,
            r#""agent":{"version":"6.0.0"},"proxmox":{"instance":"homelab","node":"pve1"}}"#,
        );
        assert_eq!(json, expected);
    }

    #[test]
    fn deserialises_what_it_serialises() {
        let resource = example();
        let json = serde_json::to_string(&resource).expect("serialise");
        let back: Resource = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, resource);
    }

    #[test]
    fn minimal_json_deserialises_with_defaults() {
        let back: Resource = serde_json::from_value(json!({
            "id": "vm-1", "type": "vm", "name": "x", "status": "unknown",
            "lastSeen": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z",
            "sources": [], "sourceStatus": {}, "identity": {}, "metrics": {},
            "parentId": null, "docker": null
        }))
        .expect("deserialise");
        assert_eq!(back.parent_id, None);
        assert!(back.tags.is_empty());
        assert!(back.identity.hostnames.is_empty());
        let mut canonical = back.clone();
        canonical.canonicalise();
        assert!(canonical.facets.is_empty(), "null facet pruned");
    }

    #[test]
    fn identity_is_held_only_when_it_has_facts() {
        assert!(std::mem::size_of::<CompactIdentity>() <= 8);
        let empty = CompactIdentity::new(Identity::default());
        assert_eq!(empty, CompactIdentity::default());
        assert!(empty.hostnames.is_empty() && empty.machine_id.is_none());
        assert_eq!(
            serde_json::to_value(&empty).expect("serialise"),
            json!({
                "hostnames": [], "ipAddresses": [], "macAddresses": []
            })
        );
        let back: CompactIdentity = serde_json::from_value(json!({})).expect("deserialise");
        assert_eq!(back, empty);

        let identity = Identity {
            hostnames: vec!["Web.LAN.".into()],
            ..Identity::default()
        };
        let mut compact = CompactIdentity::from(identity.clone());
        assert_eq!(*compact, identity);
        assert_eq!(
            serde_json::to_string(&compact).expect("serialise"),
            serde_json::to_string(&identity).expect("serialise")
        );
        compact.normalise();
        assert_eq!(compact.hostnames, ["web.lan"]);
        assert_eq!(
            format!("{compact:?}"),
            format!("{:?}", compact.clone().into_inner())
        );

        let mut blank = CompactIdentity::from(Identity {
            cluster_name: Some("  ".into()),
            ..Identity::default()
        });
        assert!(blank.cluster_name.is_some());
        blank.normalise();
        assert_eq!(
            blank,
            CompactIdentity::default(),
            "nothing left after normalising"
        );
    }

    #[test]
    fn content_ignores_observation_times_only() {
        let a = example();
        let mut b = a.clone();
        b.last_seen = Timestamp::EPOCH;
        b.updated_at = Timestamp::EPOCH;
        if let Some(entry) = b.source_status.get_mut(&Source::Agent) {
            entry.last_seen = Timestamp::EPOCH;
        }
        assert!(a.same_content(&b));
        if let Some(entry) = b.source_status.get_mut(&Source::Agent) {
            entry.status = SourceState::Stale;
        }
        assert!(!a.same_content(&b));
        let mut c = a.clone();
        c.facets.insert("docker".into(), json!({}));
        assert!(!a.same_content(&c));
    }
}
