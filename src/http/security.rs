//! Login, logout, first-run setup, password change and API tokens (SPEC §5 "Security").

use std::time::Instant;

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::auth::{
    app_state, authenticate, client_ip, Authed, PrincipalKind, SettingsRead, SettingsWrite,
    CSRF_COOKIE, SESSION_COOKIE,
};
use crate::app::AppState;
use crate::auth::{
    self, authenticate as check_password, clear_bootstrap_token, create_session, revoke_session,
    unix_now, Role, Scope, ScopeSet, TokenRecord, User, DEFAULT_ORG_ID, REMEMBER_ME_TTL_SECS,
    SESSION_TTL_SECS,
};
use crate::error::{Error, Result};
use crate::store::{TokenStore, UserStore};

/// Registers the security routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/login").post(login))
        .service(web::resource("/api/logout").post(logout))
        .service(web::resource("/api/security/setup").post(setup))
        .service(web::resource("/api/security/status").get(status))
        .service(web::resource("/api/security/change-password").post(change_password))
        .service(
            web::resource("/api/security/tokens")
                .get(list_tokens)
                .post(create_token),
        )
        .service(web::resource("/api/security/tokens/{id}").delete(delete_token));
}

/// `POST /api/login` body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LoginRequest {
    username: String,
    password: String,
    #[serde(default)]
    remember_me: bool,
}

fn session_cookies(
    token: &str,
    csrf: &str,
    max_age_secs: u64,
    secure: bool,
) -> [Cookie<'static>; 2] {
    let age = CookieDuration::seconds(i64::try_from(max_age_secs).unwrap_or(i64::MAX));
    let session = Cookie::build(SESSION_COOKIE, token.to_owned())
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(age)
        .finish();
    let csrf = Cookie::build(CSRF_COOKIE, csrf.to_owned())
        .path("/")
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(age)
        .finish();
    [session, csrf]
}

fn is_https(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

async fn login(
    req: HttpRequest,
    app: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse> {
    let body = body.into_inner();
    let ip = client_ip(&req);
    app.login_limiter
        .check(ip, &body.username, Instant::now())
        .inspect_err(|_| {
            metrics::counter!(crate::telemetry::names::RATE_LIMITED, "limiter" => "login")
                .increment(1)
        })?;
    let user = match check_password(&app.store, &body.username, &body.password) {
        Ok(user) => user,
        Err(e) => {
            app.login_limiter
                .record_failure(ip, &body.username, Instant::now());
            metrics::counter!(crate::telemetry::names::LOGINS, "outcome" => "failure").increment(1);
            tracing::info!(user = %body.username, %ip, "login failed");
            return Err(e);
        }
    };
    app.login_limiter.record_success(ip, &body.username);
    metrics::counter!(crate::telemetry::names::LOGINS, "outcome" => "success").increment(1);
    let org = if user.role_in(DEFAULT_ORG_ID).is_some() {
        DEFAULT_ORG_ID.to_owned()
    } else {
        user.roles
            .keys()
            .next()
            .cloned()
            .unwrap_or_else(|| DEFAULT_ORG_ID.to_owned())
    };
    let issued = create_session(
        &app.store,
        &user.username,
        &org,
        body.remember_me,
        unix_now(),
    )?;
    let ttl = if body.remember_me {
        REMEMBER_ME_TTL_SECS
    } else {
        SESSION_TTL_SECS
    };
    let mut resp = HttpResponse::Ok();
    for c in session_cookies(&issued.token, &issued.csrf, ttl, is_https(&req)) {
        resp.cookie(c);
    }
    Ok(resp.json(json!({"success": true, "message": "logged in", "orgId": org})))
}

async fn logout(req: HttpRequest) -> Result<HttpResponse> {
    let app = app_state(&req)?;
    if req.cookie(SESSION_COOKIE).is_some() {
        // Only a valid session with its CSRF token may log itself out.
        let principal = authenticate(&req, &app)?;
        if let (PrincipalKind::Session { .. }, Some(cookie)) =
            (principal.kind, req.cookie(SESSION_COOKIE))
        {
            revoke_session(&app.store, cookie.value())?;
        }
    }
    let mut resp = HttpResponse::Ok();
    for mut c in session_cookies("", "", 0, is_https(&req)) {
        c.make_removal();
        resp.cookie(c);
    }
    Ok(resp.json(json!({"success": true, "message": "logged out"})))
}

/// `GET /api/security/status` (public): what the dashboard should show first — the first-run
/// setup screen, the login form, or the app — without provoking a 401. Reveals only whether setup
/// is pending (as upstream does) and, to the caller itself, who it is signed in as.
async fn status(req: HttpRequest, app: web::Data<AppState>) -> Result<HttpResponse> {
    let setup_required = auth::bootstrap_pending(&app.store)?;
    let principal = authenticate(&req, &app).ok();
    let username = principal.as_ref().and_then(|p| match &p.kind {
        PrincipalKind::Session { username } => Some(username.clone()),
        _ => None,
    });
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({
            "setupRequired": setup_required,
            "authenticated": principal.is_some(),
            "username": username,
            "orgId": principal.map(|p| p.org),
        })))
}

/// `POST /api/security/setup` body: the first admin, created with the bootstrap token.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetupRequest {
    username: String,
    password: String,
}

async fn setup(
    auth: Authed<SettingsWrite>,
    app: web::Data<AppState>,
    body: web::Json<SetupRequest>,
) -> Result<HttpResponse> {
    if !matches!(auth.principal.kind, PrincipalKind::Bootstrap) {
        return Err(Error::Forbidden(
            "setup needs the one-time bootstrap token".into(),
        ));
    }
    if app.store.get_user(&body.username)?.is_some() {
        return Err(Error::Conflict(format!("user {} exists", body.username)));
    }
    let mut user = User::new(&body.username, &body.password, unix_now())?;
    user.roles.insert(DEFAULT_ORG_ID.to_owned(), Role::Owner);
    app.store.put_user(&user)?;
    clear_bootstrap_token(&app.store)?;
    tracing::info!(user = %user.username, "first admin created; bootstrap token retired");
    Ok(HttpResponse::Created().json(json!({"success": true, "username": user.username})))
}

/// `POST /api/security/change-password` body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ChangePassword {
    current_password: String,
    new_password: String,
}

async fn change_password(
    auth: Authed<crate::http::auth::MonitoringRead>,
    app: web::Data<AppState>,
    body: web::Json<ChangePassword>,
) -> Result<HttpResponse> {
    let PrincipalKind::Session { username } = &auth.principal.kind else {
        return Err(Error::Forbidden(
            "changing a password needs a user session".into(),
        ));
    };
    let mut user = check_password(&app.store, username, &body.current_password)
        .map_err(|_| Error::validation("currentPassword", "does not match"))?;
    user.set_password(&body.new_password)?;
    app.store.put_user(&user)?;
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}

/// A token as listed: never the raw token nor its hash.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenView {
    id: String,
    name: String,
    scopes: ScopeSet,
    prefix: String,
    suffix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_id: Option<String>,
    created_at: u64,
    expires_at: Option<u64>,
    last_used_at: Option<u64>,
}

impl From<TokenRecord> for TokenView {
    fn from(t: TokenRecord) -> Self {
        TokenView {
            id: t.id,
            name: t.name,
            scopes: t.scopes,
            prefix: t.prefix,
            suffix: t.suffix,
            org_id: t.org_id,
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
        }
    }
}

/// Tokens visible to a principal: all of them in the default org, else those bound to its org.
fn visible(record: &TokenRecord, org: &str) -> bool {
    org == DEFAULT_ORG_ID || record.org_id.as_deref() == Some(org)
}

async fn list_tokens(auth: Authed<SettingsRead>, app: web::Data<AppState>) -> Result<HttpResponse> {
    let org = &auth.principal.org;
    let tokens: Vec<TokenView> = app
        .store
        .list_tokens(None)?
        .into_iter()
        .filter(|t| visible(t, org))
        .map(TokenView::from)
        .collect();
    Ok(HttpResponse::Ok().json(tokens))
}

/// `POST /api/security/tokens` body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateToken {
    name: String,
    scopes: Vec<String>,
    #[serde(default)]
    org_id: Option<String>,
    #[serde(default)]
    expires_at: Option<u64>,
}

async fn create_token(
    auth: Authed<SettingsWrite>,
    app: web::Data<AppState>,
    body: web::Json<CreateToken>,
) -> Result<HttpResponse> {
    let body = body.into_inner();
    let requested = ScopeSet::parse(&body.scopes)?;
    if !auth.principal.scopes.allows(Scope::All) {
        if let Some(extra) = requested.iter().find(|s| !auth.principal.scopes.allows(*s)) {
            return Err(Error::Forbidden(format!(
                "cannot grant scope {} that the caller does not hold",
                extra.as_str()
            )));
        }
    }
    let org = match body.org_id {
        Some(org) if auth.principal.org != DEFAULT_ORG_ID && org != auth.principal.org => {
            return Err(Error::Forbidden(
                "cannot create tokens for another organisation".into(),
            ))
        }
        Some(org) => Some(org),
        None if auth.principal.org != DEFAULT_ORG_ID => Some(auth.principal.org.clone()),
        None => None,
    };
    let (raw, record) = auth::create_token(
        &app.store,
        &body.name,
        &body.scopes,
        org.as_deref(),
        body.expires_at,
    )?;
    tracing::info!(token_id = %record.id, name = %record.name, "api token created");
    Ok(HttpResponse::Created().json(json!({
        "id": record.id,
        "name": record.name,
        "token": raw,
        "scopes": record.scopes,
        "prefix": record.prefix,
        "orgId": record.org_id,
        "createdAt": record.created_at,
        "expiresAt": record.expires_at,
    })))
}

async fn delete_token(
    auth: Authed<SettingsWrite>,
    app: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let record = app
        .store
        .get_token(&id)?
        .filter(|t| visible(t, &auth.principal.org))
        .ok_or_else(|| Error::NotFound(format!("token {id}")))?;
    app.store.delete_token(&record.id)?;
    tracing::info!(token_id = %record.id, "api token deleted");
    Ok(HttpResponse::NoContent().finish())
}
