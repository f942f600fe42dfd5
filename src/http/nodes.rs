//! Endpoint configuration API (`/api/config/nodes`, SPEC §5): list, add, change, remove and test
//! PVE/PBS/PMG endpoints. Bodies are validated exactly like the file's `[[pve]]` tables; secrets
//! are write-only (never returned, kept when omitted on update) and stored sealed. Every change
//! starts, restarts or stops only the affected collector.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::auth::{Authed, SettingsRead, SettingsWrite};
use crate::app::AppState;
use crate::config::{EndpointConfig, EndpointKind};
use crate::error::{Error, Result};
use crate::monitor::catalog::parse_kind;
use crate::monitor::endpoints::{child_name, ManagedEndpoint, Origin};
use crate::monitor::TenantHandle;
use crate::store::StoredEndpoint;

/// Registers the endpoint routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/config/nodes").get(list).post(create))
        .service(web::resource("/api/config/nodes/test-connection").post(test_connection))
        .service(
            web::resource("/api/config/nodes/{id}")
                .put(update)
                .delete(remove),
        );
}

/// A node as the API accepts it (upstream field names). Unknown fields are refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeBody {
    /// For `test-connection`: test the saved endpoint with this id.
    id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    name: Option<String>,
    host: Option<String>,
    token_name: Option<String>,
    token_value: Option<String>,
    user: Option<String>,
    password: Option<String>,
    fingerprint: Option<String>,
    #[serde(rename = "verifySSL")]
    verify_ssl: Option<bool>,
    poll_interval_seconds: Option<u64>,
    cluster_endpoints: Option<Vec<String>>,
    #[serde(rename = "monitorVMs")]
    monitor_vms: Option<bool>,
    monitor_containers: Option<bool>,
    monitor_storage: Option<bool>,
    monitor_backups: Option<bool>,
    monitor_physical_disks: Option<bool>,
}

impl NodeBody {
    /// The kind, which must be a Proxmox product here (TrueNAS has its own API).
    fn proxmox_kind(&self) -> Result<EndpointKind> {
        let kind = parse_kind(self.kind.as_deref().unwrap_or_default())?;
        if kind == EndpointKind::Truenas {
            return Err(Error::validation(
                "type",
                "TrueNAS connections are managed under /api/truenas/connections",
            ));
        }
        Ok(kind)
    }

    /// Writes every field present in the body onto `stored`; absent secrets keep their value.
    fn apply(self, stored: &mut StoredEndpoint) {
        let text = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        if let Some(name) = self.name {
            stored.name = name.trim().to_owned();
        }
        if let Some(host) = self.host {
            stored.host = host.trim().to_owned();
        }
        if let Some(token_name) = self.token_name {
            stored.token_name = text(Some(token_name));
        }
        if let Some(secret) = text(self.token_value) {
            stored.token_value = Some(secret);
        }
        if let Some(user) = self.user {
            stored.user = text(Some(user));
        }
        if let Some(secret) = self.password.filter(|p| !p.is_empty()) {
            stored.password = Some(secret);
        }
        if let Some(fp) = self.fingerprint {
            stored.fingerprint = text(Some(fp));
        }
        if let Some(v) = self.verify_ssl {
            stored.verify_ssl = v;
        }
        if self.poll_interval_seconds.is_some() {
            stored.poll_interval_secs = self.poll_interval_seconds;
        }
        if let Some(list) = self.cluster_endpoints {
            stored.cluster_endpoints = list;
        }
        for (key, value) in [
            ("vms", self.monitor_vms),
            ("containers", self.monitor_containers),
            ("storage", self.monitor_storage),
            ("backups", self.monitor_backups),
            ("physical_disks", self.monitor_physical_disks),
        ] {
            if let Some(v) = value {
                stored.monitor.insert(key.to_owned(), v);
            }
        }
    }
}

/// The API name of a field named by the file validation (`token_name` → `tokenName`).
fn api_field(key: &str) -> String {
    match key {
        "token_name" => "tokenName".into(),
        "token_value" => "tokenValue".into(),
        "verify_ssl" => "verifySSL".into(),
        "poll_interval_secs" => "pollIntervalSeconds".into(),
        "cluster_endpoints" => "clusterEndpoints".into(),
        "api_key" => "apiKey".into(),
        "monitor.vms" => "monitorVMs".into(),
        "monitor.containers" => "monitorContainers".into(),
        "monitor.storage" => "monitorStorage".into(),
        "monitor.backups" => "monitorBackups".into(),
        "monitor.physical_disks" => "monitorPhysicalDisks".into(),
        other => other.into(),
    }
}

/// Turns a file-style validation error into a 400 naming the API field.
pub(crate) fn as_api_error(e: Error) -> Error {
    match e {
        Error::Config { key, allowed, .. } => {
            let field = api_field(&key);
            Error::validation(field.clone(), format!("{field}: expected {allowed}"))
        }
        other => other,
    }
}

/// A node as listed: configuration without secrets, where it came from, and collector health.
fn node_json(endpoint: &ManagedEndpoint, tenant: &TenantHandle) -> Value {
    let c = &endpoint.config;
    let mut node = Map::new();
    node.insert("id".into(), json!(endpoint.id));
    node.insert("type".into(), json!(c.kind.as_str()));
    node.insert("name".into(), json!(c.name));
    node.insert("host".into(), json!(c.host.to_string()));
    if let Some(t) = &c.token_name {
        node.insert("tokenName".into(), json!(t));
    }
    if let Some(u) = &c.user {
        node.insert("user".into(), json!(u));
    }
    node.insert("hasToken".into(), json!(c.token_value.is_some()));
    node.insert("hasPassword".into(), json!(c.password.is_some()));
    if let Some(fp) = &c.fingerprint {
        node.insert("fingerprint".into(), json!(fp));
    }
    node.insert("verifySSL".into(), json!(c.verify_ssl));
    node.insert(
        "pollIntervalSeconds".into(),
        json!(c.poll_interval.as_secs()),
    );
    let cluster: Vec<String> = c
        .cluster_endpoints
        .iter()
        .map(ToString::to_string)
        .collect();
    node.insert("clusterEndpoints".into(), json!(cluster));
    let m = c.monitor;
    match c.kind {
        EndpointKind::Pve => {
            node.insert("monitorVMs".into(), json!(m.vms));
            node.insert("monitorContainers".into(), json!(m.containers));
            node.insert("monitorStorage".into(), json!(m.storage));
            node.insert("monitorBackups".into(), json!(m.backups));
            node.insert("monitorPhysicalDisks".into(), json!(m.physical_disks));
        }
        EndpointKind::Pbs => {
            node.insert("monitorBackups".into(), json!(m.backups));
        }
        EndpointKind::Pmg | EndpointKind::Truenas => {}
    }
    node.insert("source".into(), json!(endpoint.origin));
    if let Some(status) = tenant.collector_health().get(&endpoint.child_name()) {
        node.insert("status".into(), json!(status));
    }
    Value::Object(node)
}

async fn list(auth: Authed<SettingsRead>) -> Result<HttpResponse> {
    let nodes: Vec<Value> = auth
        .tenant
        .endpoints()
        .values()
        .filter(|e| e.config.kind != EndpointKind::Truenas)
        .map(|e| node_json(e, &auth.tenant))
        .collect();
    Ok(HttpResponse::Ok().json(nodes))
}

/// Re-applies the org's desired endpoints to its collectors.
pub(crate) async fn sync_collectors(state: &AppState, tenant: &TenantHandle) -> Result<()> {
    tenant
        .apply_endpoints(state.endpoints.desired(tenant.org())?)
        .await
}

/// The listing of one endpoint after a change.
fn listed(tenant: &TenantHandle, kind: EndpointKind, id: &str) -> Result<Value> {
    tenant
        .endpoints()
        .get(&child_name(kind, id))
        .map(|e| node_json(e, tenant))
        .ok_or_else(|| Error::Internal(format!("endpoint {id} missing after a change")))
}

/// A fresh random endpoint id.
pub(crate) fn new_id() -> String {
    hex::encode(rand::random::<[u8; 8]>())
}

async fn create(
    auth: Authed<SettingsWrite>,
    state: web::Data<AppState>,
    body: web::Json<NodeBody>,
) -> Result<HttpResponse> {
    let body = body.into_inner();
    let kind = body.proxmox_kind()?;
    let mut stored = StoredEndpoint {
        id: new_id(),
        kind: kind.as_str().to_owned(),
        verify_ssl: true,
        created_at: crate::monitor::clock::now_millis(),
        ..StoredEndpoint::default()
    };
    body.apply(&mut stored);
    let org = auth.tenant.org().to_owned();
    let created = state
        .endpoints
        .create(&org, stored)
        .await
        .map_err(as_api_error)?;
    sync_collectors(&state, &auth.tenant).await?;
    tracing::info!(%org, id = %created.id, kind = %created.kind, name = %created.name, "endpoint added");
    Ok(HttpResponse::Created().json(listed(&auth.tenant, kind, &created.id)?))
}

async fn update(
    auth: Authed<SettingsWrite>,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<NodeBody>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    if state.endpoints.is_file_endpoint(&id) {
        return Err(Error::Conflict(
            "this endpoint is declared in the configuration file; change it there".into(),
        ));
    }
    let org = auth.tenant.org().to_owned();
    let updated = state
        .endpoints
        .update(&org, &id, |stored| {
            if stored.kind == "truenas" {
                return Err(Error::NotFound(format!("node {}", stored.id)));
            }
            if body.kind.as_deref().is_some_and(|k| k != stored.kind) {
                return Err(Error::validation(
                    "type",
                    "the type of an endpoint cannot change",
                ));
            }
            body.apply(stored);
            Ok(())
        })
        .await
        .map_err(as_api_error)?
        .ok_or_else(|| Error::NotFound(format!("node {id}")))?;
    sync_collectors(&state, &auth.tenant).await?;
    tracing::info!(%org, %id, "endpoint changed");
    let kind = parse_kind(&updated.kind)?;
    Ok(HttpResponse::Ok().json(listed(&auth.tenant, kind, &id)?))
}

async fn remove(
    auth: Authed<SettingsWrite>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    remove_api_endpoint(&state, &auth.tenant, &id, "node", |e| e.kind != "truenas").await
}

/// Removes the API endpoint `id` of the tenant when `is_kind` accepts it (404 otherwise; 409 for
/// one declared in the file), then stops its collector.
pub(crate) async fn remove_api_endpoint(
    state: &AppState,
    tenant: &TenantHandle,
    id: &str,
    what: &str,
    is_kind: impl Fn(&StoredEndpoint) -> bool,
) -> Result<HttpResponse> {
    if state.endpoints.is_file_endpoint(id) {
        return Err(Error::Conflict(format!(
            "this {what} is declared in the configuration file; remove it there"
        )));
    }
    let org = tenant.org();
    let known = state
        .endpoints
        .stored(org)?
        .iter()
        .any(|e| e.id == id && is_kind(e));
    if !known || !state.endpoints.delete(org, id).await? {
        return Err(Error::NotFound(format!("{what} {id}")));
    }
    sync_collectors(state, tenant).await?;
    tracing::info!(%org, %id, what, "endpoint removed");
    Ok(HttpResponse::NoContent().finish())
}

/// Tries the endpoint's credentials and TLS policy with one cheap call (`/version`), without
/// saving anything. A saved endpoint can be tested by `id`, optionally with changed fields.
async fn test_connection(
    auth: Authed<SettingsWrite>,
    state: web::Data<AppState>,
    body: web::Json<NodeBody>,
) -> Result<HttpResponse> {
    let mut body = body.into_inner();
    let org = auth.tenant.org().to_owned();
    let config: EndpointConfig = match body.id.take() {
        Some(id) => match auth.tenant.endpoints().into_values().find(|e| e.id == id) {
            Some(e) if e.origin == Origin::File => e.config,
            Some(_) => {
                let mut stored = state
                    .endpoints
                    .stored(&org)?
                    .into_iter()
                    .find(|e| e.id == id)
                    .ok_or_else(|| Error::NotFound(format!("node {id}")))?;
                body.apply(&mut stored);
                state.endpoints.validate(&stored).map_err(as_api_error)?
            }
            None => return Err(Error::NotFound(format!("node {id}"))),
        },
        None => {
            let kind = body.proxmox_kind()?;
            let mut stored = StoredEndpoint {
                kind: kind.as_str().to_owned(),
                verify_ssl: true,
                ..StoredEndpoint::default()
            };
            body.apply(&mut stored);
            unsaved_test_config(&state, stored, as_api_error)?
        }
    };
    Ok(probe_answer(&state, &config).await)
}

/// Validates an endpoint given in a test request's body (not saved), named "connection test" when
/// it has no name; `api_error` maps validation errors to the API's field names.
pub(crate) fn unsaved_test_config(
    state: &AppState,
    mut stored: StoredEndpoint,
    api_error: fn(Error) -> Error,
) -> Result<EndpointConfig> {
    if stored.name.is_empty() {
        stored.name = "connection test".into();
    }
    state.endpoints.validate(&stored).map_err(api_error)
}

/// The answer of a test-connection request: one probe of `config`, its timeout the configured
/// connection timeout capped at 15 s so the request stays interactive.
pub(crate) async fn probe_answer(state: &AppState, config: &EndpointConfig) -> HttpResponse {
    let timeout = state
        .settings()
        .polling
        .connection_timeout
        .min(std::time::Duration::from_secs(15));
    HttpResponse::Ok().json(crate::monitor::collector::probe(config, timeout).await)
}
