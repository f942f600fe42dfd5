//! The alert API (SPEC §5): configuration, active alerts, history, and operator actions. Reads
//! need `monitoring:read`; acknowledge/unacknowledge/clear need `monitoring:write`; the
//! configuration is read with `settings:read` and written with `settings:write`. Saving the
//! configuration stores it durably, then hands it to the tenant's engine, which adopts it without
//! emitting anything.

use actix_web::{web, HttpResponse};
use pulse_alerts::{AlertConfig, AlertError, AlertLevel};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{
    Authed, MonitoringRead, MonitoringWrite, PrincipalKind, SettingsRead, SettingsWrite,
};
use super::errors::json_error;
use crate::app::AppState;
use crate::error::{Error, Result};
use crate::monitor::alert_engine::{ApplyConfig, GetActive, GetConfig, Operate, OperatorAction};
use crate::store::{AlertHistoryEntry, AlertStore, DocumentStore, HistoryFilter, Namespace};

/// Largest alert configuration accepted (overrides for many resources).
const CONFIG_BODY_LIMIT: usize = 1024 * 1024;
/// History entries returned when no limit is given.
const HISTORY_DEFAULT_LIMIT: usize = 100;

/// Registers the alert routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/alerts/config")
            .app_data(
                web::JsonConfig::default()
                    .limit(CONFIG_BODY_LIMIT)
                    .error_handler(json_error),
            )
            .get(get_config)
            .put(put_config),
    )
    .service(web::resource("/api/alerts/active").get(active))
    .service(web::resource("/api/alerts/history").get(history))
    .service(web::resource("/api/alerts/acknowledge").post(acknowledge))
    .service(web::resource("/api/alerts/unacknowledge").post(unacknowledge))
    .service(web::resource("/api/alerts/clear").post(clear));
}

fn unavailable(e: actix::MailboxError) -> Error {
    Error::Unavailable(format!("alert engine: {e}"))
}

async fn get_config(auth: Authed<SettingsRead>) -> Result<HttpResponse> {
    let config = auth
        .tenant
        .alert_engine()?
        .send(GetConfig)
        .await
        .map_err(unavailable)?;
    Ok(HttpResponse::Ok().json(config))
}

async fn put_config(
    auth: Authed<SettingsWrite>,
    app: web::Data<AppState>,
    body: web::Json<AlertConfig>,
) -> Result<HttpResponse> {
    let config = body.into_inner();
    config.validate().map_err(|e| match e {
        AlertError::InvalidConfig { field, reason } => Error::validation(field, reason),
    })?;
    let engine = auth.tenant.alert_engine()?;
    app.store.save(Namespace::Org(auth.tenant.org()), &config)?;
    engine
        .send(ApplyConfig(config.clone()))
        .await
        .map_err(unavailable)?;
    tracing::info!(org = %auth.tenant.org(), "alert configuration saved");
    Ok(HttpResponse::Ok().json(config))
}

async fn active(auth: Authed<MonitoringRead>) -> Result<HttpResponse> {
    let alerts = auth
        .tenant
        .alert_engine()?
        .send(GetActive)
        .await
        .map_err(unavailable)?;
    Ok(HttpResponse::Ok().json(alerts))
}

/// `GET /api/alerts/history` query.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct HistoryQuery {
    limit: Option<usize>,
    resource_id: Option<String>,
    level: Option<String>,
    #[serde(rename = "type")]
    alert_type: Option<String>,
    /// Unix milliseconds (or seconds, when below 10^11).
    since: Option<i64>,
}

impl HistoryQuery {
    fn validate(self) -> Result<HistoryFilter> {
        let limit = self.limit.unwrap_or(HISTORY_DEFAULT_LIMIT);
        if limit == 0 || limit > crate::store::HISTORY_LIMIT_MAX {
            return Err(Error::validation(
                "limit",
                format!("must be 1-{}", crate::store::HISTORY_LIMIT_MAX),
            ));
        }
        let level = match self.level.as_deref() {
            None | Some("") => None,
            Some("warning") => Some(AlertLevel::Warning),
            Some("critical") => Some(AlertLevel::Critical),
            Some(_) => return Err(Error::validation("level", "must be warning or critical")),
        };
        let short = |v: &Option<String>, field: &str| -> Result<()> {
            if v.as_ref().is_some_and(|s| s.len() > 256) {
                return Err(Error::validation(field, "at most 256 characters"));
            }
            Ok(())
        };
        short(&self.resource_id, "resourceId")?;
        short(&self.alert_type, "type")?;
        let since = match self.since {
            Some(s) if s < 0 => return Err(Error::validation("since", "must not be negative")),
            Some(s) if s < 100_000_000_000 => Some(s.saturating_mul(1000)),
            other => other,
        };
        Ok(HistoryFilter {
            limit,
            resource_id: self.resource_id.filter(|s| !s.is_empty()),
            level,
            alert_type: self.alert_type.filter(|s| !s.is_empty()),
            since,
        })
    }
}

/// One history entry as the API shows it: the alert's fields plus `event` and `eventTime`.
fn history_view(entry: AlertHistoryEntry) -> Value {
    let mut view = serde_json::to_value(&entry.alert).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut view {
        map.insert("event".into(), Value::from(entry.event));
        map.insert("eventTime".into(), Value::from(entry.at));
        if let Some(previous) = entry.previous_level {
            map.insert("previousLevel".into(), json!(previous));
        }
        if let Some(level) = entry.escalation_level {
            map.insert("escalationLevel".into(), Value::from(level));
        }
    }
    view
}

async fn history(
    auth: Authed<MonitoringRead>,
    app: web::Data<AppState>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse> {
    let filter = query.into_inner().validate()?;
    let store = app.store.clone();
    let org = auth.tenant.org().to_owned();
    let entries = web::block(move || store.alert_history(&org, &filter))
        .await
        .map_err(|e| Error::Internal(format!("history query: {e}")))??;
    let views: Vec<Value> = entries.into_iter().map(history_view).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// `{id}` body of the operator actions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertIdBody {
    id: String,
}

/// Who acts, as recorded on the alert.
fn actor_name(kind: &PrincipalKind) -> String {
    match kind {
        PrincipalKind::Session { username } => username.clone(),
        PrincipalKind::Token { id } => format!("token:{id}"),
        PrincipalKind::Bootstrap => "bootstrap".to_owned(),
    }
}

async fn operate(
    auth: Authed<MonitoringWrite>,
    body: AlertIdBody,
    action: OperatorAction,
) -> Result<HttpResponse> {
    if body.id.is_empty() || body.id.len() > 512 {
        return Err(Error::validation("id", "must be 1-512 characters"));
    }
    let alert = auth
        .tenant
        .alert_engine()?
        .send(Operate {
            alert_id: body.id,
            action,
            user: actor_name(&auth.principal.kind),
        })
        .await
        .map_err(unavailable)??;
    Ok(HttpResponse::Ok().json(json!({"success": true, "alert": alert})))
}

async fn acknowledge(
    auth: Authed<MonitoringWrite>,
    body: web::Json<AlertIdBody>,
) -> Result<HttpResponse> {
    operate(auth, body.into_inner(), OperatorAction::Acknowledge).await
}

async fn unacknowledge(
    auth: Authed<MonitoringWrite>,
    body: web::Json<AlertIdBody>,
) -> Result<HttpResponse> {
    operate(auth, body.into_inner(), OperatorAction::Unacknowledge).await
}

async fn clear(
    auth: Authed<MonitoringWrite>,
    body: web::Json<AlertIdBody>,
) -> Result<HttpResponse> {
    operate(auth, body.into_inner(), OperatorAction::Clear).await
}
