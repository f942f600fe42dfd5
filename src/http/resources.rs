//! The state and resource API: `/api/state`, `/api/resources` and friends. Handlers ask the tenant's
//! registry actor; they hold no state.

use actix_web::{web, HttpResponse};

use super::auth::{Authed, MonitoringRead};
use crate::error::{Error, Result};
use crate::monitor::query::RawResourceQuery;
use crate::monitor::registry::{GetChildren, GetFullState, GetResource, GetStats, QueryResources};

/// Registers the state and resource routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/state").get(state))
        .service(web::resource("/api/resources").get(list))
        .service(web::resource("/api/resources/stats").get(stats))
        .service(web::resource("/api/resources/{id}").get(one))
        .service(web::resource("/api/resources/{id}/children").get(children));
}

fn unavailable(e: actix::MailboxError) -> Error {
    Error::Unavailable(format!("registry: {e}"))
}

async fn state(auth: Authed<MonitoringRead>) -> Result<HttpResponse> {
    let full = auth
        .tenant
        .registry()?
        .send(GetFullState)
        .await
        .map_err(unavailable)?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(full.data_bytes()))
}

async fn list(
    auth: Authed<MonitoringRead>,
    raw: web::Query<RawResourceQuery>,
) -> Result<HttpResponse> {
    let query = raw.into_inner().validate()?;
    let page = auth
        .tenant
        .registry()?
        .send(QueryResources(query))
        .await
        .map_err(unavailable)?;
    Ok(HttpResponse::Ok().json(page))
}

async fn stats(auth: Authed<MonitoringRead>) -> Result<HttpResponse> {
    let stats = auth
        .tenant
        .registry()?
        .send(GetStats)
        .await
        .map_err(unavailable)?;
    Ok(HttpResponse::Ok().json(stats))
}

async fn one(auth: Authed<MonitoringRead>, id: web::Path<String>) -> Result<HttpResponse> {
    let id = id.into_inner();
    let found = auth
        .tenant
        .registry()?
        .send(GetResource(id.clone()))
        .await
        .map_err(unavailable)?;
    found
        .map(|r| HttpResponse::Ok().json(r))
        .ok_or_else(|| Error::NotFound(format!("resource {id}")))
}

async fn children(auth: Authed<MonitoringRead>, id: web::Path<String>) -> Result<HttpResponse> {
    let id = id.into_inner();
    let found = auth
        .tenant
        .registry()?
        .send(GetChildren(id.clone()))
        .await
        .map_err(unavailable)?;
    found
        .map(|c| HttpResponse::Ok().json(serde_json::json!({"data": c, "total": c.len()})))
        .ok_or_else(|| Error::NotFound(format!("resource {id}")))
}
