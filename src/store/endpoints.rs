//! Endpoints added through the API, one sealed document per org: every field, secrets included,
//! is encrypted at rest as a whole (SPEC §8).

use serde::{Deserialize, Serialize};

use super::settings::Document;

/// All API-managed endpoints of one org.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointsDocument {
    /// In creation order.
    pub endpoints: Vec<StoredEndpoint>,
}

impl Document for EndpointsDocument {
    const NAME: &'static str = "endpoints";
    const VERSION: u32 = 1;
    const SEALED: bool = true;
}

/// One endpoint as the API received it (validated before it is stored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEndpoint {
    /// Random id, stable for the endpoint's life.
    pub id: String,
    /// `pve`, `pbs`, `pmg` or `truenas`.
    pub kind: String,
    /// Unique within its kind and org.
    pub name: String,
    /// Host or URL as given.
    pub host: String,
    /// Proxmox token id.
    pub token_name: Option<String>,
    /// Proxmox token secret.
    pub token_value: Option<String>,
    /// TrueNAS API key.
    pub api_key: Option<String>,
    /// Login user.
    pub user: Option<String>,
    /// Login password.
    pub password: Option<String>,
    /// Pinned certificate fingerprint.
    pub fingerprint: Option<String>,
    /// Verify the certificate against the system roots.
    pub verify_ssl: bool,
    /// Own poll interval, else the kind's default.
    pub poll_interval_secs: Option<u64>,
    /// Failover addresses of a PVE cluster.
    #[serde(default)]
    pub cluster_endpoints: Vec<String>,
    /// `monitor*` switches that were set, by their config name (`vms`, `backups`, …).
    #[serde(default)]
    pub monitor: std::collections::BTreeMap<String, bool>,
    /// Unix ms of creation.
    pub created_at: i64,
    /// Whether it is polled (a disabled endpoint keeps its configuration but has no collector).
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

/// Endpoints stored before `enabled` existed were all enabled.
fn enabled_by_default() -> bool {
    true
}

impl Default for StoredEndpoint {
    fn default() -> Self {
        StoredEndpoint {
            id: String::new(),
            kind: String::new(),
            name: String::new(),
            host: String::new(),
            token_name: None,
            token_value: None,
            api_key: None,
            user: None,
            password: None,
            fingerprint: None,
            verify_ssl: true,
            poll_interval_secs: None,
            cluster_endpoints: Vec::new(),
            monitor: std::collections::BTreeMap::new(),
            created_at: 0,
            enabled: true,
        }
    }
}
