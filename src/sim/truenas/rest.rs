//! The simulator's legacy REST API at `/api/v2.0`: bearer (API key) or basic (password) auth,
//! the endpoints Pulse reads, and the same method fault knobs as JSON-RPC (under the JSON-RPC
//! name of each endpoint).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine as _;
use serde_json::json;

use super::SimState;

/// `(HTTP method, path)` → (rendered answer key, fault knob name).
fn endpoint(method: &str, path: &str) -> Option<(&'static str, &'static str)> {
    Some(match (method, path) {
        ("GET", "/system/info") => ("system.info", "system.info"),
        ("GET", "/pool") => ("pool.query", "pool.query"),
        ("GET", "/boot/get_state") => ("boot.get_state", "boot.get_state"),
        ("GET", "/pool/dataset") => ("pool.dataset.query", "pool.dataset.query"),
        ("GET", "/disk") => ("disk.query", "disk.query"),
        ("POST", "/disk/temperatures") => ("disk.temperatures", "disk.temperature_agg"),
        ("GET", "/alert/list") => ("alert.list", "alert.list"),
        ("GET", "/zfs/snapshot") => ("zfs.snapshot", "pool.snapshot.query"),
        ("GET", "/replication") => ("replication.query", "replication.query"),
        ("GET", "/app") => ("app.query", "app.query"),
        ("GET", "/vm") => ("vm.query", "vm.query"),
        ("GET", "/sharing/smb") => ("sharing.smb.query", "sharing.smb.query"),
        ("GET", "/sharing/nfs") => ("sharing.nfs.query", "sharing.nfs.query"),
        _ => return None,
    })
}

/// A JSON error body with `status`.
fn error(status: u16, message: &str) -> HttpResponse {
    HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
    )
    .content_type("application/json")
    .body(json!({"message": message}).to_string())
}

/// Whether the request carries the simulator's API key (bearer) or user and password (basic).
fn authorised(req: &HttpRequest, state: &SimState) -> bool {
    let Some(value) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let creds = &state.credentials;
    if let Some(key) = value.strip_prefix("Bearer ") {
        return key == creds.api_key;
    }
    value
        .strip_prefix("Basic ")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .is_some_and(|pair| pair == format!("{}:{}", creds.username, creds.password))
}

/// Every request under `/api/v2.0`.
pub(super) async fn handle(req: HttpRequest, state: web::Data<SimState>) -> HttpResponse {
    let path = req
        .path()
        .strip_prefix("/api/v2.0")
        .unwrap_or("")
        .trim_end_matches('/');
    let found = endpoint(req.method().as_str(), path);
    let faults = &state.faults;
    faults.count(found.map_or(path, |(_, knob)| knob));
    if faults.auth_failure() || !authorised(&req, &state) {
        return error(401, "Invalid credentials");
    }
    let Some((key, knob)) = found else {
        return error(404, "Not found");
    };
    if let Some(delay) = faults.delay(knob) {
        actix_web::rt::time::sleep(delay).await;
    }
    if faults.is_unknown(knob) {
        return error(404, "Not found");
    }
    if faults.is_failing(knob) {
        return error(500, &format!("[EFAULT] simulated failure of {knob}"));
    }
    match state.rendered().rest.get(key) {
        Some(body) => HttpResponse::Ok()
            .content_type("application/json")
            .body(body.to_string()),
        None => error(404, "Not found"),
    }
}

/// Anything else: the web UI.
pub(super) async fn ui() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html").body(
        "<!DOCTYPE html><html><head><title>TrueNAS</title></head><body>web interface</body></html>",
    )
}
