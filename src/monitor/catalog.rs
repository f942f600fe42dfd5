//! The catalogue of monitored endpoints: those of the configuration file (org `default`, replaced
//! on SIGHUP) and those added through the API (per org, in the store, sealed). It validates API
//! endpoints exactly as the file's are validated, and serialises writes so concurrent edits
//! cannot lose each other.

use std::sync::RwLock;

use crate::auth::DEFAULT_ORG_ID;
use crate::config::{validate_endpoint, EndpointConfig, EndpointKind, RawEndpoint, RawMonitor};
use crate::config::{PollingSettings, Secret, Settings};
use crate::error::{Error, Result};
use crate::store::{DocumentStore, EndpointsDocument, Namespace, Store, StoredEndpoint};

use super::endpoints::{ManagedEndpoint, Origin};

/// The most endpoints one org may add through the API.
pub const MAX_API_ENDPOINTS: usize = 256;

/// What the file declares, as of the last (re)load.
#[derive(Debug, Clone)]
struct FileEndpoints {
    endpoints: Vec<EndpointConfig>,
    polling: PollingSettings,
}

/// Every endpoint of every org.
pub struct EndpointCatalog {
    store: Store,
    file: RwLock<FileEndpoints>,
    writes: tokio::sync::Mutex<()>,
}

impl EndpointCatalog {
    /// A catalogue over `store`, with the file endpoints of `settings`.
    pub fn new(store: Store, settings: &Settings) -> Self {
        EndpointCatalog {
            store,
            file: RwLock::new(file_endpoints(settings)),
            writes: tokio::sync::Mutex::new(()),
        }
    }

    /// Adopts the file endpoints and poll defaults of freshly (re)loaded settings.
    pub fn set_file(&self, settings: &Settings) {
        if let Ok(mut file) = self.file.write() {
            *file = file_endpoints(settings);
        }
    }

    fn file(&self) -> Result<FileEndpoints> {
        self.file
            .read()
            .map(|f| f.clone())
            .map_err(|_| Error::Internal("endpoint catalogue poisoned".into()))
    }

    /// Everything org `org` should monitor now: the file's endpoints (for `default`), then the
    /// org's API endpoints. A stored endpoint that no longer validates (a stricter build) is
    /// skipped with a warning rather than stopping the others.
    pub fn desired(&self, org: &str) -> Result<Vec<ManagedEndpoint>> {
        let file = self.file()?;
        let mut out: Vec<ManagedEndpoint> = if org == DEFAULT_ORG_ID {
            file.endpoints
                .iter()
                .cloned()
                .map(ManagedEndpoint::from_file)
                .collect()
        } else {
            Vec::new()
        };
        for stored in self.stored(org)?.into_iter().filter(|e| e.enabled) {
            match to_config(&stored, &file.polling) {
                Ok(config) => out.push(ManagedEndpoint {
                    id: stored.id.clone(),
                    origin: Origin::Api,
                    config,
                }),
                Err(e) => {
                    tracing::warn!(%org, id = %stored.id, error = %e, "stored endpoint skipped")
                }
            }
        }
        Ok(out)
    }

    /// The API endpoints of `org` as stored.
    pub fn stored(&self, org: &str) -> Result<Vec<StoredEndpoint>> {
        Ok(self
            .store
            .load::<EndpointsDocument>(Namespace::Org(org))?
            .unwrap_or_default()
            .endpoints)
    }

    /// Validates `stored` as the file's endpoints are validated.
    pub fn validate(&self, stored: &StoredEndpoint) -> Result<EndpointConfig> {
        to_config(stored, &self.file()?.polling)
    }

    /// Adds an endpoint (already carrying its new id) after validating it and checking that its
    /// name is free within its kind.
    pub async fn create(&self, org: &str, endpoint: StoredEndpoint) -> Result<StoredEndpoint> {
        self.validate(&endpoint)?;
        let _write = self.writes.lock().await;
        let mut doc = self.document(org)?;
        if doc.endpoints.len() >= MAX_API_ENDPOINTS {
            return Err(Error::validation(
                "endpoints",
                format!("at most {MAX_API_ENDPOINTS} endpoints per organisation"),
            ));
        }
        self.check_name_free(org, &doc, &endpoint)?;
        doc.endpoints.push(endpoint.clone());
        self.store.save(Namespace::Org(org), &doc)?;
        Ok(endpoint)
    }

    /// Changes endpoint `id` with `edit`, validating the result; `None` when there is none.
    pub async fn update(
        &self,
        org: &str,
        id: &str,
        edit: impl FnOnce(&mut StoredEndpoint) -> Result<()>,
    ) -> Result<Option<StoredEndpoint>> {
        let _write = self.writes.lock().await;
        let mut doc = self.document(org)?;
        let Some(index) = doc.endpoints.iter().position(|e| e.id == id) else {
            return Ok(None);
        };
        let mut changed = doc.endpoints[index].clone();
        edit(&mut changed)?;
        self.validate(&changed)?;
        let others = EndpointsDocument {
            endpoints: doc
                .endpoints
                .iter()
                .filter(|e| e.id != id)
                .cloned()
                .collect(),
        };
        self.check_name_free(org, &others, &changed)?;
        doc.endpoints[index] = changed.clone();
        self.store.save(Namespace::Org(org), &doc)?;
        Ok(Some(changed))
    }

    /// Removes endpoint `id`; `false` when there was none.
    pub async fn delete(&self, org: &str, id: &str) -> Result<bool> {
        let _write = self.writes.lock().await;
        let mut doc = self.document(org)?;
        let before = doc.endpoints.len();
        doc.endpoints.retain(|e| e.id != id);
        if doc.endpoints.len() == before {
            return Ok(false);
        }
        self.store.save(Namespace::Org(org), &doc)?;
        Ok(true)
    }

    /// Whether `id` is one of the file's endpoints (read-only through the API).
    pub fn is_file_endpoint(&self, id: &str) -> bool {
        self.file().is_ok_and(|f| {
            f.endpoints
                .into_iter()
                .any(|c| ManagedEndpoint::from_file(c).id == id)
        })
    }

    fn document(&self, org: &str) -> Result<EndpointsDocument> {
        Ok(self
            .store
            .load::<EndpointsDocument>(Namespace::Org(org))?
            .unwrap_or_default())
    }

    fn check_name_free(
        &self,
        org: &str,
        doc: &EndpointsDocument,
        endpoint: &StoredEndpoint,
    ) -> Result<()> {
        let file = self.file()?;
        let file_names = (org == DEFAULT_ORG_ID)
            .then_some(file.endpoints.iter())
            .into_iter()
            .flatten()
            .filter(|c| c.kind.as_str() == endpoint.kind)
            .map(|c| c.name.as_str());
        let api_names = doc
            .endpoints
            .iter()
            .filter(|e| e.kind == endpoint.kind)
            .map(|e| e.name.as_str());
        if file_names.chain(api_names).any(|n| n == endpoint.name) {
            return Err(Error::validation(
                "name",
                format!(
                    "a {} endpoint named '{}' already exists",
                    endpoint.kind, endpoint.name
                ),
            ));
        }
        Ok(())
    }
}

fn file_endpoints(settings: &Settings) -> FileEndpoints {
    FileEndpoints {
        endpoints: settings
            .pve
            .iter()
            .chain(&settings.pbs)
            .chain(&settings.pmg)
            .chain(&settings.truenas)
            .cloned()
            .collect(),
        polling: settings.polling.clone(),
    }
}

/// The kind named `kind` (`pve`, `pbs`, `pmg`, `truenas`).
pub fn parse_kind(kind: &str) -> Result<EndpointKind> {
    match kind {
        "pve" => Ok(EndpointKind::Pve),
        "pbs" => Ok(EndpointKind::Pbs),
        "pmg" => Ok(EndpointKind::Pmg),
        "truenas" => Ok(EndpointKind::Truenas),
        other => Err(Error::validation(
            "type",
            format!("unknown endpoint type '{other}': expected pve, pbs, pmg or truenas"),
        )),
    }
}

/// Validates a stored endpoint through the file's validation; its errors name the stored field.
fn to_config(stored: &StoredEndpoint, polling: &PollingSettings) -> Result<EndpointConfig> {
    let kind = parse_kind(&stored.kind)?;
    let default_interval = match kind {
        EndpointKind::Pve => polling.pve,
        EndpointKind::Pbs => polling.pbs,
        EndpointKind::Pmg => polling.pmg,
        EndpointKind::Truenas => polling.truenas,
    };
    let flag = |name: &str| stored.monitor.get(name).copied();
    let raw = RawEndpoint {
        name: Some(stored.name.clone()),
        host: Some(stored.host.clone()),
        token_name: stored.token_name.clone(),
        token_value: stored.token_value.clone().map(Secret::new),
        api_key: stored.api_key.clone().map(Secret::new),
        user: stored.user.clone(),
        password: stored.password.clone().map(Secret::new),
        fingerprint: stored.fingerprint.clone(),
        verify_ssl: Some(stored.verify_ssl),
        poll_interval_secs: stored.poll_interval_secs,
        cluster_endpoints: Some(stored.cluster_endpoints.clone()),
        monitor: Some(RawMonitor {
            vms: flag("vms"),
            containers: flag("containers"),
            storage: flag("storage"),
            backups: flag("backups"),
            physical_disks: flag("physical_disks"),
        }),
    };
    validate_endpoint(kind, "", raw, default_interval)
}
