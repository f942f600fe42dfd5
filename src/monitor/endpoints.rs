//! The endpoints a tenant monitors, from the config file and the API, and the reconciliation that
//! turns a new desired set into starting, restarting or stopping only the collectors that changed.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::{EndpointConfig, EndpointKind};

/// Where an endpoint was declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// `[[pve]]`/`[[pbs]]`/`[[pmg]]`/`[[truenas]]` in the configuration file (read-only in the API).
    File,
    /// Added through the API, persisted (secrets sealed) in the store.
    Api,
}

/// One endpoint a tenant monitors.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedEndpoint {
    /// Stable id: random for API endpoints, derived from kind and name for file endpoints.
    pub id: String,
    /// Where it was declared.
    pub origin: Origin,
    /// Its validated configuration.
    pub config: EndpointConfig,
}

impl ManagedEndpoint {
    /// A file-declared endpoint; its id survives restarts and reloads as long as kind and name do.
    pub fn from_file(config: EndpointConfig) -> Self {
        let digest = Sha256::digest(format!("{}:{}", config.kind.as_str(), config.name));
        let id = format!("cfg-{}", hex::encode(&digest[..6]));
        ManagedEndpoint {
            id,
            origin: Origin::File,
            config,
        }
    }

    /// The supervisor child name of its collector, `<kind>:<id>`.
    pub fn child_name(&self) -> String {
        child_name(self.config.kind, &self.id)
    }
}

/// The supervisor child name of the collector of endpoint `id`.
pub fn child_name(kind: EndpointKind, id: &str) -> String {
    format!("{}:{id}", kind.as_str())
}

/// What to do to go from the running set to the desired one.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Child names to start.
    pub start: Vec<String>,
    /// Child names whose configuration changed: stop, then start again.
    pub restart: Vec<String>,
    /// Child names to stop.
    pub stop: Vec<String>,
}

impl Plan {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.start.is_empty() && self.restart.is_empty() && self.stop.is_empty()
    }
}

/// Compares the running endpoints with the desired ones, by child name and configuration.
pub fn plan(
    running: &BTreeMap<String, ManagedEndpoint>,
    desired: &BTreeMap<String, ManagedEndpoint>,
) -> Plan {
    let mut plan = Plan::default();
    for (name, want) in desired {
        match running.get(name) {
            None => plan.start.push(name.clone()),
            Some(have) if have != want => plan.restart.push(name.clone()),
            Some(_) => {}
        }
    }
    plan.stop = running
        .keys()
        .filter(|name| !desired.contains_key(*name))
        .cloned()
        .collect();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HttpUrl;
    use std::time::Duration;

    fn endpoint(kind: EndpointKind, name: &str, host: &str) -> ManagedEndpoint {
        ManagedEndpoint::from_file(EndpointConfig {
            kind,
            name: name.into(),
            host: HttpUrl::parse(host, Some((true, 8006))).expect("url"),
            token_name: None,
            token_value: None,
            api_key: None,
            user: Some("root@pam".into()),
            password: Some(crate::config::Secret::new("pw")),
            fingerprint: None,
            verify_ssl: false,
            poll_interval: Duration::from_secs(10),
            cluster_endpoints: Vec::new(),
            monitor: Default::default(),
        })
    }

    fn set(items: &[ManagedEndpoint]) -> BTreeMap<String, ManagedEndpoint> {
        items.iter().map(|e| (e.child_name(), e.clone())).collect()
    }

    #[test]
    fn file_ids_are_stable_and_distinct_per_kind() {
        let a = endpoint(EndpointKind::Pve, "lab", "a");
        let b = endpoint(EndpointKind::Pve, "lab", "b");
        let c = endpoint(EndpointKind::Pbs, "lab", "a");
        assert_eq!(
            a.id, b.id,
            "same kind and name keep their id when the host changes"
        );
        assert_ne!(a.child_name(), c.child_name());
        assert!(a.child_name().starts_with("pve:cfg-"));
    }

    #[test]
    fn only_changed_endpoints_are_touched() {
        let keep = endpoint(EndpointKind::Pve, "keep", "a");
        let change = endpoint(EndpointKind::Pbs, "change", "b");
        let changed = endpoint(EndpointKind::Pbs, "change", "c");
        let gone = endpoint(EndpointKind::Pmg, "gone", "d");
        let new = endpoint(EndpointKind::Pve, "new", "e");
        let running = set(&[keep.clone(), change, gone.clone()]);
        let desired = set(&[keep, changed.clone(), new.clone()]);
        let p = plan(&running, &desired);
        assert_eq!(p.start, vec![new.child_name()]);
        assert_eq!(p.restart, vec![changed.child_name()]);
        assert_eq!(p.stop, vec![gone.child_name()]);
        assert!(plan(&desired, &desired).is_empty());
    }
}
