//! TrueNAS connection API (`/api/truenas/connections`, SPEC §5): list, add, remove and test.
//! Connections share the endpoint catalogue with the Proxmox nodes (validated the same way,
//! sealed in the store, one collector each); the API key and password are write-only.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::auth::{Authed, SettingsRead, SettingsWrite};
use super::nodes::{
    as_api_error, new_id, probe_answer, remove_api_endpoint, sync_collectors, unsaved_test_config,
};
use crate::app::AppState;
use crate::config::{EndpointConfig, EndpointKind};
use crate::error::{Error, Result};
use crate::monitor::endpoints::{child_name, ManagedEndpoint};
use crate::monitor::TenantHandle;
use crate::store::StoredEndpoint;

/// Registers the TrueNAS routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/truenas/connections")
            .get(list)
            .post(create),
    )
    .service(web::resource("/api/truenas/connections/test").post(test))
    .service(web::resource("/api/truenas/connections/{id}").delete(remove));
}

/// A connection as the API accepts it (upstream field names). Unknown fields are refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectionBody {
    /// For `test`: test the saved connection with this id.
    id: Option<String>,
    name: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    #[serde(alias = "api_key")]
    api_key: Option<String>,
    username: Option<String>,
    password: Option<String>,
    use_https: Option<bool>,
    insecure_skip_verify: Option<bool>,
    fingerprint: Option<String>,
    enabled: Option<bool>,
    poll_interval_seconds: Option<u64>,
}

impl ConnectionBody {
    /// The connection as stored; the URL is composed from host, port and `useHttps`.
    fn into_stored(self, id: String) -> Result<StoredEndpoint> {
        let text = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let host = text(self.host).unwrap_or_default();
        let https = self.use_https.unwrap_or(true);
        let url = if host.contains("://") || host.is_empty() {
            host
        } else {
            let scheme = if https { "https" } else { "http" };
            match self.port {
                Some(port) => format!("{scheme}://{host}:{port}"),
                None => format!("{scheme}://{host}"),
            }
        };
        if url.starts_with("http://") {
            return Err(Error::validation(
                "useHttps",
                "useHttps: plain HTTP is refused, credentials are only sent over TLS",
            ));
        }
        Ok(StoredEndpoint {
            id,
            kind: EndpointKind::Truenas.as_str().to_owned(),
            name: text(self.name).unwrap_or_default(),
            host: url,
            api_key: text(self.api_key),
            user: text(self.username),
            password: self.password.filter(|p| !p.is_empty()),
            fingerprint: text(self.fingerprint),
            verify_ssl: !self.insecure_skip_verify.unwrap_or(false),
            poll_interval_secs: self.poll_interval_seconds,
            enabled: self.enabled.unwrap_or(true),
            created_at: crate::monitor::clock::now_millis(),
            ..StoredEndpoint::default()
        })
    }
}

/// The API name of a field named by the endpoint validation.
fn api_error(e: Error) -> Error {
    match as_api_error(e) {
        Error::Validation { field, message } => {
            let field = match field.as_str() {
                "user" => "username".to_owned(),
                "verifySSL" => "insecureSkipVerify".to_owned(),
                other => other.to_owned(),
            };
            Error::Validation { field, message }
        }
        other => other,
    }
}

/// A connection as listed: configuration without secrets, and collector health.
fn connection_json(
    id: &str,
    config: Option<&EndpointConfig>,
    stored: Option<&StoredEndpoint>,
    tenant: &TenantHandle,
) -> Value {
    let mut c = Map::new();
    c.insert("id".into(), json!(id));
    if let Some(config) = config {
        c.insert("name".into(), json!(config.name));
        c.insert("host".into(), json!(config.host.host()));
        c.insert("port".into(), json!(config.host.port()));
        c.insert("useHttps".into(), json!(config.host.is_https()));
        c.insert("insecureSkipVerify".into(), json!(!config.verify_ssl));
        if let Some(fp) = &config.fingerprint {
            c.insert("fingerprint".into(), json!(fp));
        }
        if let Some(user) = &config.user {
            c.insert("username".into(), json!(user));
        }
        c.insert("hasApiKey".into(), json!(config.api_key.is_some()));
        c.insert("hasPassword".into(), json!(config.password.is_some()));
        c.insert(
            "pollIntervalSeconds".into(),
            json!(config.poll_interval.as_secs()),
        );
    }
    c.insert(
        "enabled".into(),
        json!(stored.map(|s| s.enabled).unwrap_or(true)),
    );
    c.insert(
        "source".into(),
        json!(if stored.is_some() { "api" } else { "file" }),
    );
    let child = child_name(EndpointKind::Truenas, id);
    if let Some(status) = tenant.collector_health().get(&child) {
        c.insert("status".into(), json!(status));
    }
    Value::Object(c)
}

async fn list(auth: Authed<SettingsRead>, state: web::Data<AppState>) -> Result<HttpResponse> {
    let running = auth.tenant.endpoints();
    let mut out: Vec<Value> = running
        .values()
        .filter(|e| e.config.kind == EndpointKind::Truenas)
        .filter(|e| e.origin == crate::monitor::endpoints::Origin::File)
        .map(|e| connection_json(&e.id, Some(&e.config), None, &auth.tenant))
        .collect();
    for stored in state
        .endpoints
        .stored(auth.tenant.org())?
        .iter()
        .filter(|e| e.kind == EndpointKind::Truenas.as_str())
    {
        let config = state.endpoints.validate(stored).ok();
        out.push(connection_json(
            &stored.id,
            config.as_ref(),
            Some(stored),
            &auth.tenant,
        ));
    }
    Ok(HttpResponse::Ok().json(out))
}

async fn create(
    auth: Authed<SettingsWrite>,
    state: web::Data<AppState>,
    body: web::Json<ConnectionBody>,
) -> Result<HttpResponse> {
    let stored = body.into_inner().into_stored(new_id())?;
    let org = auth.tenant.org().to_owned();
    let created = state
        .endpoints
        .create(&org, stored)
        .await
        .map_err(api_error)?;
    sync_collectors(&state, &auth.tenant).await?;
    tracing::info!(%org, id = %created.id, name = %created.name, "TrueNAS connection added");
    let config = state.endpoints.validate(&created).ok();
    Ok(HttpResponse::Created().json(connection_json(
        &created.id,
        config.as_ref(),
        Some(&created),
        &auth.tenant,
    )))
}

async fn remove(
    auth: Authed<SettingsWrite>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    remove_api_endpoint(&state, &auth.tenant, &id, "TrueNAS connection", |e| {
        e.kind == EndpointKind::Truenas.as_str()
    })
    .await
}

/// Tries a connection (a saved one by `id`, or the body) without saving anything.
async fn test(
    auth: Authed<SettingsWrite>,
    state: web::Data<AppState>,
    body: web::Json<ConnectionBody>,
) -> Result<HttpResponse> {
    let mut body = body.into_inner();
    let config = match body.id.take() {
        Some(id) => find(&auth.tenant, &id)
            .map(|e| e.config)
            .ok_or_else(|| Error::NotFound(format!("TrueNAS connection {id}")))?,
        None => unsaved_test_config(&state, body.into_stored(String::new())?, api_error)?,
    };
    Ok(probe_answer(&state, &config).await)
}

/// A running TrueNAS endpoint of the tenant by id.
fn find(tenant: &TenantHandle, id: &str) -> Option<ManagedEndpoint> {
    tenant
        .endpoints()
        .into_values()
        .find(|e| e.id == id && e.config.kind == EndpointKind::Truenas)
}
