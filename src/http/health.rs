//! Public liveness and version endpoints.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::app::AppState;

/// Registers `/api/health` and `/api/version`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/health").get(health))
        .service(web::resource("/api/version").get(version));
}

async fn health(app: web::Data<AppState>) -> HttpResponse {
    let store_ok = app.store.size_on_disk().is_ok();
    HttpResponse::Ok().json(json!({
        "status": if store_ok { "healthy" } else { "degraded" },
        "timestamp": crate::monitor::clock::now_millis() / 1000,
        "uptime": app.started.elapsed().as_secs(),
        "dependencies": {"store": if store_ok { "ok" } else { "error" }},
    }))
}

async fn version() -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "version": crate::VERSION,
        "buildTime": option_env!("PULSE_BUILD_TIME").unwrap_or("unknown"),
        "channel": "stable",
        "deploymentType": "binary",
        "updateAvailable": false,
    }))
}
