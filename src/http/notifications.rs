//! The notification API (SPEC §5): webhooks (list, create, update, delete, test), the service
//! templates, email settings and a test email, and the delivery queue (stats, dead letters,
//! retry). Reads need `settings:read`, everything that changes or sends needs `settings:write`.
//! Webhook URLs, signing secrets and the SMTP password are stored sealed; the signing secret and
//! the password are write-only: omitted on update keeps the stored value, `""` removes it.

use std::sync::Mutex;

use actix_web::{web, HttpResponse};
use pulse_alerts::{Alert, AlertLevel, NotifyItem, NotifyKind};
use pulse_model::Timestamp;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{Authed, SettingsRead, SettingsWrite};
use crate::app::AppState;
use crate::error::{Error, Result};
use crate::monitor::clock;
use crate::monitor::notifier::Kick;
use crate::notify::channels::MAX_WEBHOOKS;
use crate::notify::queue::FailureClass;
use crate::notify::templates::render;
use crate::notify::webhook::TEST_TIMEOUT;
use crate::notify::{
    email, DeliveryStatus, EmailConfig, Service, SsrfGuard, Webhook, WebhookClient, Webhooks,
};
use crate::store::{DocumentStore, Namespace, QueueStore};

/// Dead letters listed at most.
const DLQ_LIST_MAX: usize = 500;

/// Serialises read-modify-write of the channel documents within this process.
static CHANNELS_LOCK: Mutex<()> = Mutex::new(());

/// Registers the notification routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/notifications/webhooks")
            .get(list_webhooks)
            .post(create_webhook),
    )
    .service(web::resource("/api/notifications/webhooks/test").post(test_webhook))
    .service(
        web::resource("/api/notifications/webhooks/{id}")
            .put(update_webhook)
            .delete(delete_webhook),
    )
    .service(web::resource("/api/notifications/webhook-templates").get(templates))
    .service(
        web::resource("/api/notifications/email")
            .get(get_email)
            .put(put_email),
    )
    .service(web::resource("/api/notifications/test").post(test_email))
    .service(web::resource("/api/notifications/queue/stats").get(queue_stats))
    .service(web::resource("/api/notifications/dlq").get(dlq))
    .service(web::resource("/api/notifications/dlq/retry").post(dlq_retry));
}

fn guard(app: &AppState) -> SsrfGuard {
    SsrfGuard::new(app.settings().webhook_allowed_cidrs.clone())
}

/// Runs `f` on the channel documents under the process-wide lock.
fn with_channels<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    let _held = CHANNELS_LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    f()
}

/// A write-only secret from a request: absent keeps `old`, `""` removes it.
fn merge_secret(new: Option<String>, old: Option<String>) -> Option<String> {
    match new {
        None => old,
        Some(s) if s.is_empty() => None,
        Some(s) => Some(s),
    }
}

async fn list_webhooks(
    auth: Authed<SettingsRead>,
    app: web::Data<AppState>,
) -> Result<HttpResponse> {
    let hooks = app
        .store
        .load::<Webhooks>(Namespace::Org(auth.tenant.org()))?
        .unwrap_or_default();
    let views: Vec<Value> = hooks.webhooks.iter().map(Webhook::public_view).collect();
    Ok(HttpResponse::Ok().json(views))
}

async fn create_webhook(
    auth: Authed<SettingsWrite>,
    app: web::Data<AppState>,
    body: web::Json<Webhook>,
) -> Result<HttpResponse> {
    let mut hook = body.into_inner();
    hook.id = uuid::Uuid::new_v4().to_string();
    hook.signing_secret = merge_secret(hook.signing_secret, None);
    hook.validate()?;
    guard(&app).check_url(&hook.url)?;
    let ns = Namespace::Org(auth.tenant.org());
    with_channels(|| {
        let mut hooks = app.store.load::<Webhooks>(ns)?.unwrap_or_default();
        if hooks.webhooks.len() >= MAX_WEBHOOKS {
            return Err(Error::LimitExceeded(format!(
                "at most {MAX_WEBHOOKS} webhooks per organisation"
            )));
        }
        hooks.webhooks.push(hook.clone());
        app.store.save(ns, &hooks)
    })?;
    tracing::info!(org = %auth.tenant.org(), webhook = %hook.id, service = ?hook.service, "webhook created");
    Ok(HttpResponse::Created().json(hook.public_view()))
}

async fn update_webhook(
    auth: Authed<SettingsWrite>,
    app: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<Webhook>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let mut hook = body.into_inner();
    hook.id = id.clone();
    let ns = Namespace::Org(auth.tenant.org());
    let guard = guard(&app);
    let saved = with_channels(|| {
        let mut hooks = app.store.load::<Webhooks>(ns)?.unwrap_or_default();
        let slot = hooks
            .webhooks
            .iter_mut()
            .find(|w| w.id == id)
            .ok_or_else(|| Error::NotFound(format!("webhook {id}")))?;
        hook.signing_secret = merge_secret(hook.signing_secret.take(), slot.signing_secret.take());
        hook.validate()?;
        guard.check_url(&hook.url)?;
        *slot = hook.clone();
        app.store.save(ns, &hooks)?;
        Ok(hook)
    })?;
    if saved.enabled {
        // Deliveries to it that were waiting may go now.
        if let Ok(notifier) = auth.tenant.notifier() {
            let _ = notifier.try_send(Kick);
        }
    }
    Ok(HttpResponse::Ok().json(saved.public_view()))
}

async fn delete_webhook(
    auth: Authed<SettingsWrite>,
    app: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let ns = Namespace::Org(auth.tenant.org());
    with_channels(|| {
        let mut hooks = app.store.load::<Webhooks>(ns)?.unwrap_or_default();
        let before = hooks.webhooks.len();
        hooks.webhooks.retain(|w| w.id != id);
        if hooks.webhooks.len() == before {
            return Err(Error::NotFound(format!("webhook {id}")));
        }
        app.store.save(ns, &hooks)
    })?;
    Ok(HttpResponse::NoContent().finish())
}

/// A synthetic alert for test notifications.
fn test_item(now_ms: i64) -> Result<NotifyItem> {
    let alert: Alert = serde_json::from_value(json!({
        "id": "pulse-test-notification",
        "type": "test",
        "level": AlertLevel::Warning,
        "resourceId": "pulse-test",
        "resourceName": "Pulse",
        "message": "This is a test notification from Pulse",
        "value": 0.0,
        "threshold": 0.0,
        "startTime": Timestamp::from_millis(now_ms),
        "lastSeen": Timestamp::from_millis(now_ms),
        "acknowledged": false,
        "firing": now_ms,
    }))
    .map_err(|e| Error::Internal(format!("test alert: {e}")))?;
    Ok(NotifyItem {
        event_id: alert.event_id(&format!("test-{now_ms}")),
        alert,
    })
}

async fn test_webhook(
    auth: Authed<SettingsWrite>,
    app: web::Data<AppState>,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    let body = body.into_inner();
    let hook: Webhook = if body.get("url").is_some() {
        let mut hook: Webhook =
            serde_json::from_value(body).map_err(|e| Error::validation("body", e.to_string()))?;
        if let (Some(id), None) = (
            Some(hook.id.clone()).filter(|i| !i.is_empty()),
            &hook.signing_secret,
        ) {
            // Testing an edited, saved webhook: its stored secret applies.
            let stored = app
                .store
                .load::<Webhooks>(Namespace::Org(auth.tenant.org()))?
                .unwrap_or_default();
            hook.signing_secret = stored.get(&id).and_then(|w| w.signing_secret.clone());
        }
        hook.signing_secret = merge_secret(hook.signing_secret, None);
        hook.validate()?;
        hook
    } else {
        let id = body
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::validation("id", "give a webhook object or {\"id\": …}"))?;
        app.store
            .load::<Webhooks>(Namespace::Org(auth.tenant.org()))?
            .unwrap_or_default()
            .get(id)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("webhook {id}")))?
    };
    let guard = guard(&app);
    guard.check_url(&hook.url)?;
    let client = WebhookClient::new(guard, TEST_TIMEOUT)?;
    let now = clock::now_millis();
    let item = test_item(now)?;
    let event_id = item.event_id.clone();
    let request = render(&hook, NotifyKind::Fired, &[item], auth.tenant.org(), now);
    match client
        .send(&request, &event_id, hook.signing_secret.as_deref())
        .await
    {
        Ok(answer) => Ok(HttpResponse::Ok().json(json!({
            "success": true, "status": answer.status, "body": answer.body,
        }))),
        Err((failure, _))
            if failure.class == FailureClass::Configuration && failure.message.contains("SSRF") =>
        {
            Err(Error::WebhookUrlForbidden(failure.message))
        }
        Err((failure, answer)) => Ok(HttpResponse::Ok().json(json!({
            "success": false,
            "status": answer.as_ref().map(|a| a.status),
            "body": answer.map(|a| a.body).unwrap_or_default(),
            "error": failure.message,
            "failureClass": failure.class,
        }))),
    }
}

async fn templates(_auth: Authed<SettingsRead>) -> HttpResponse {
    let list: Vec<_> = Service::ALL.iter().map(|s| s.info()).collect();
    HttpResponse::Ok().json(list)
}

async fn get_email(auth: Authed<SettingsRead>, app: web::Data<AppState>) -> Result<HttpResponse> {
    let config = app
        .store
        .load::<EmailConfig>(Namespace::Org(auth.tenant.org()))?
        .unwrap_or_default();
    Ok(HttpResponse::Ok().json(config.public_view()))
}

async fn put_email(
    auth: Authed<SettingsWrite>,
    app: web::Data<AppState>,
    body: web::Json<EmailConfig>,
) -> Result<HttpResponse> {
    let mut config = body.into_inner();
    let ns = Namespace::Org(auth.tenant.org());
    let saved = with_channels(|| {
        let old = app.store.load::<EmailConfig>(ns)?.unwrap_or_default();
        config.password = merge_secret(config.password.take(), old.password);
        config.validate()?;
        app.store.save(ns, &config)?;
        Ok(config)
    })?;
    Ok(HttpResponse::Ok().json(saved.public_view()))
}

/// `POST /api/notifications/test` body: optional email settings to try instead of the saved ones.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TestRequest {
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    email: Option<EmailConfig>,
}

async fn test_email(
    auth: Authed<SettingsWrite>,
    app: web::Data<AppState>,
    body: Option<web::Json<TestRequest>>,
) -> Result<HttpResponse> {
    let request = body.map(web::Json::into_inner).unwrap_or_default();
    if request.method.as_deref().is_some_and(|m| m != "email") {
        return Err(Error::validation(
            "method",
            "only email is tested here; test webhooks at /api/notifications/webhooks/test",
        ));
    }
    let stored = app
        .store
        .load::<EmailConfig>(Namespace::Org(auth.tenant.org()))?
        .unwrap_or_default();
    let mut config = match request.email {
        Some(mut given) => {
            given.password = merge_secret(given.password, stored.password.clone());
            given
        }
        None => stored,
    };
    config.enabled = true;
    config.validate()?;
    let now = clock::now_millis();
    let item = test_item(now)?;
    let event_id = item.event_id.clone();
    match email::send(
        &config,
        NotifyKind::Fired,
        &[item],
        &event_id,
        auth.tenant.org(),
    )
    .await
    {
        Ok(()) => Ok(HttpResponse::Ok().json(json!({"success": true}))),
        Err(failure) => Ok(HttpResponse::Ok().json(json!({
            "success": false, "error": failure.message, "failureClass": failure.class,
        }))),
    }
}

async fn queue_stats(auth: Authed<SettingsRead>, app: web::Data<AppState>) -> Result<HttpResponse> {
    let store = app.store.clone();
    let org = auth.tenant.org().to_owned();
    let stats = web::block(move || store.queue_stats(&org))
        .await
        .map_err(|e| Error::Internal(format!("queue stats: {e}")))??;
    Ok(HttpResponse::Ok().json(stats))
}

async fn dlq(auth: Authed<SettingsRead>, app: web::Data<AppState>) -> Result<HttpResponse> {
    let store = app.store.clone();
    let org = auth.tenant.org().to_owned();
    let list = web::block(move || store.list_deliveries(&org, DeliveryStatus::Dlq, DLQ_LIST_MAX))
        .await
        .map_err(|e| Error::Internal(format!("dlq: {e}")))??;
    Ok(HttpResponse::Ok().json(list))
}

/// `{id}` of a dead-lettered delivery.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetryBody {
    id: String,
}

async fn dlq_retry(
    auth: Authed<SettingsWrite>,
    app: web::Data<AppState>,
    body: web::Json<RetryBody>,
) -> Result<HttpResponse> {
    let id = body.into_inner().id;
    if id.is_empty() || id.len() > 1024 {
        return Err(Error::validation("id", "must be 1-1024 characters"));
    }
    let org = auth.tenant.org();
    let mut delivery = app
        .store
        .get_delivery(org, &id)?
        .ok_or_else(|| Error::NotFound(format!("delivery {id}")))?;
    if delivery.status != DeliveryStatus::Dlq {
        return Err(Error::Conflict(format!(
            "delivery {id} is not in the dead-letter queue"
        )));
    }
    delivery.requeue(clock::now_millis());
    app.store.update_delivery(&delivery, None)?;
    if let Ok(notifier) = auth.tenant.notifier() {
        let _ = notifier.try_send(Kick);
    }
    Ok(HttpResponse::Ok().json(json!({"success": true, "id": id})))
}
