//! Connection tests: one cheap authenticated call against an endpoint, without saving anything or
//! touching its collector, for the endpoint APIs' test buttons.

use std::time::Duration;

use serde_json::{json, Value};

use crate::config::{EndpointConfig, EndpointKind};
use crate::sources::proxmox::endpoint::settings_for;
use crate::sources::proxmox::{ApiClient, PlatformError, Product};
use crate::sources::truenas::{test_connection, TruenasSettings};

/// One `/version` call: `{success, message, version?}`; failures say why, never with a secret.
pub async fn probe(config: &EndpointConfig, timeout: Duration) -> Value {
    let product = match config.kind {
        EndpointKind::Pve => Product::Pve,
        EndpointKind::Pbs => Product::Pbs,
        EndpointKind::Pmg => Product::Pmg,
        EndpointKind::Truenas => return probe_truenas(config, timeout).await,
    };
    let attempt = async {
        let settings = settings_for(config, timeout)?;
        let first = settings
            .first()
            .ok_or_else(|| PlatformError::Config("no address".into()))?;
        let client = ApiClient::new(product, first)?;
        client.get::<Value>("/version").await
    };
    match attempt.await {
        Ok(version) => {
            let release = version
                .get("version")
                .and_then(Value::as_str)
                .unwrap_or("unknown version");
            json!({
                "success": true,
                "message": format!("Connected to {} {release}", product.display_name()),
                "version": version,
            })
        }
        Err(e) => json!({"success": false, "message": e.to_string()}),
    }
}

/// Logs in to a TrueNAS appliance and reads its system info and pools: `{success, message,
/// summary?}`.
async fn probe_truenas(config: &EndpointConfig, timeout: Duration) -> Value {
    let attempt = async {
        let settings = TruenasSettings::from_endpoint(config)?.with_timeout(timeout);
        test_connection(&settings).await
    };
    match attempt.await {
        Ok(summary) => json!({
            "success": true,
            "message": format!(
                "Connected to {} ({}, {} pools)",
                summary.hostname.as_deref().unwrap_or("TrueNAS"),
                summary.version.as_deref().unwrap_or("unknown version"),
                summary.pools
            ),
            "summary": summary,
        }),
        Err(e) => json!({"success": false, "message": e.to_string()}),
    }
}
