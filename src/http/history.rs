//! `/api/metrics-store/history` and `/api/charts`: metrics history of the caller's org. Handlers
//! validate, resolve the org from the authenticated request (never from the query), and read the
//! store on a blocking thread.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use pulse_model::ResourceType;
use serde_json::json;

use super::auth::{Authed, MonitoringRead};
use crate::app::AppState;
use crate::error::{Error, Result};
use crate::history::charts::charts_body;
use crate::history::metric::Metric;
use crate::history::query::{history_points, RawChartsQuery, RawHistoryQuery};
use crate::history::store::series_key;
use crate::monitor::clock;
use crate::monitor::registry::GetResource;

/// Registers the history routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/metrics-store/history").get(history))
        .service(web::resource("/api/charts").get(charts));
}

fn blocking_failed(e: actix_web::error::BlockingError) -> Error {
    Error::Unavailable(format!("metrics history: {e}"))
}

async fn history(
    auth: Authed<MonitoringRead>,
    state: web::Data<AppState>,
    raw: web::Query<RawHistoryQuery>,
) -> Result<HttpResponse> {
    let q = raw.into_inner().validate()?;
    let resource = auth
        .tenant
        .registry()?
        .send(GetResource(q.resource_id.clone()))
        .await
        .map_err(|e| Error::Unavailable(format!("registry: {e}")))?
        .ok_or_else(|| Error::NotFound(format!("resource {}", q.resource_id)))?;
    // A storage resource's utilisation is stored as `usage`; `disk` names the same series.
    let stored = match q.metric {
        Metric::Disk if resource.resource_type == ResourceType::Storage => Metric::Usage,
        m => m,
    };
    let key = series_key(auth.tenant.org(), &q.resource_id, stored);
    let end = clock::now_millis();
    let start = end - q.range_ms;
    let store = Arc::clone(state.history.store());
    let max = q.max_points;
    let mut found = web::block(move || store.query_many(&[key], start, end, max, end))
        .await
        .map_err(blocking_failed)??;
    let points = history_points(&found.pop().unwrap_or_default());
    Ok(HttpResponse::Ok().json(json!({
        "resourceId": q.resource_id,
        "metric": q.metric.as_str(),
        "range": q.range,
        "start": start,
        "end": end,
        "points": points,
    })))
}

async fn charts(
    auth: Authed<MonitoringRead>,
    state: web::Data<AppState>,
    raw: web::Query<RawChartsQuery>,
) -> Result<HttpResponse> {
    let q = raw.into_inner().validate()?;
    let now = clock::now_millis();
    let org = auth.tenant.org().to_owned();
    let store = Arc::clone(state.history.store());
    let body = web::block(move || charts_body(store.as_ref(), &org, &q, now))
        .await
        .map_err(blocking_failed)??;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}
