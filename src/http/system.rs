//! `/api/system/actors`: the supervision tree, for operators — the shared services and the
//! caller's own tenant subtree (never another tenant's), with each collector's poll health.

use actix_web::{web, HttpResponse};
use serde_json::Value;

use super::auth::{Authed, SettingsRead};
use crate::app::AppState;
use crate::error::{Error, Result};
use crate::monitor::TenantHandle;

/// Registers the system routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/system/actors").get(actors));
}

async fn actors(auth: Authed<SettingsRead>, app: web::Data<AppState>) -> Result<HttpResponse> {
    let tree = app
        .root
        .send(pulse_actors::Snapshot)
        .await
        .map_err(|e| Error::Unavailable(format!("supervisor: {e}")))?;
    let mut tree = serde_json::to_value(tree).map_err(|e| Error::Internal(e.to_string()))?;
    let own = format!("tenant:{}", auth.tenant.org());
    if let Some(children) = tree.get_mut("children").and_then(Value::as_array_mut) {
        children.retain(|c| {
            c.get("name")
                .and_then(Value::as_str)
                .is_none_or(|n| !n.starts_with("tenant:") || n == own)
        });
    }
    attach_health(&mut tree, &auth.tenant);
    Ok(HttpResponse::Ok().json(tree))
}

/// Adds `health` (the collector's poll status) to every collector node.
fn attach_health(node: &mut Value, tenant: &TenantHandle) {
    let is_collector = node.get("kind").and_then(Value::as_str) == Some("collector");
    if is_collector {
        let name = node.get("name").and_then(Value::as_str).unwrap_or_default();
        if let Some(status) = tenant.collector_health().get(name) {
            if let (Some(obj), Ok(health)) = (node.as_object_mut(), serde_json::to_value(status)) {
                obj.insert("health".into(), health);
            }
        }
    }
    if let Some(children) = node.get_mut("children").and_then(Value::as_array_mut) {
        for child in children {
            attach_health(child, tenant);
        }
    }
}
