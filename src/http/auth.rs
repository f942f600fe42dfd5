//! Authentication and authorisation as extractors: a handler that needs a scope takes
//! `Authed<ThatScope>` and cannot forget the check.
//!
//! Credentials, in order: API token (`X-API-Token`, `Authorization: Bearer`, or `?token=` on a
//! WebSocket upgrade), browser session cookie (mutating requests must echo the CSRF token in
//! `X-CSRF-Token`), or the one-time bootstrap token (`X-Setup-Token`, loopback clients only, while
//! no admin exists). The org comes from `X-Pulse-Org-ID` → `pulse_org_id` cookie → the token's
//! binding or the session's org → `default`; a principal may never reach an org it is not bound to.

use std::future::Future;
use std::marker::PhantomData;
use std::net::{IpAddr, Ipv4Addr};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpRequest};

use crate::app::AppState;
use crate::auth::{
    lookup_session, unix_now, verify_bootstrap_token, verify_token, Role, Scope, ScopeSet,
    DEFAULT_ORG_ID,
};
use crate::error::{Error, Result};
use crate::monitor::TenantHandle;
use crate::store::UserStore;

/// Name of the HttpOnly session cookie.
pub const SESSION_COOKIE: &str = "pulse_session";
/// Name of the JS-readable CSRF cookie.
pub const CSRF_COOKIE: &str = "pulse_csrf";
/// Name of the org selection cookie.
pub const ORG_COOKIE: &str = "pulse_org_id";

/// A scope a handler requires, as a type.
pub trait RequiredScope {
    /// The scope.
    const SCOPE: Scope;
}

macro_rules! scope_markers {
    ($($(#[$doc:meta])* $name:ident => $scope:ident),* $(,)?) => {
        $(
            $(#[$doc])*
            #[derive(Debug)]
            pub struct $name;
            impl RequiredScope for $name {
                const SCOPE: Scope = Scope::$scope;
            }
        )*
    };
}

scope_markers! {
    /// `monitoring:read`
    MonitoringRead => MonitoringRead,
    /// `monitoring:write`
    MonitoringWrite => MonitoringWrite,
    /// `settings:read`
    SettingsRead => SettingsRead,
    /// `settings:write`
    SettingsWrite => SettingsWrite,
    /// `agent:report`
    AgentReport => AgentReport,
    /// `docker:report`
    DockerReport => DockerReport,
    /// `kubernetes:report`
    KubernetesReport => KubernetesReport,
    /// `audit:read`
    AuditRead => AuditRead,
}

/// Who is making a request.
#[derive(Debug, Clone)]
pub enum PrincipalKind {
    /// An API token.
    Token {
        /// Token id.
        id: String,
    },
    /// A browser session of a user.
    Session {
        /// The user.
        username: String,
    },
    /// The one-time bootstrap token (first-run setup).
    Bootstrap,
}

/// An authenticated caller: who, with which scopes, in which org.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Who.
    pub kind: PrincipalKind,
    /// What they may do.
    pub scopes: ScopeSet,
    /// The org the request acts in.
    pub org: String,
}

/// An authenticated request holding scope `S`, with its tenant resolved.
pub struct Authed<S> {
    /// The caller.
    pub principal: Principal,
    /// The tenant the request acts in.
    pub tenant: TenantHandle,
    _scope: PhantomData<S>,
}

impl<S: RequiredScope> FromRequest for Authed<S> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = std::result::Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let app = app_state(&req)?;
            let principal = authenticate(&req, &app)?;
            principal.scopes.require(S::SCOPE)?;
            let tenant = app.tenants.ensure(&principal.org).await?;
            Ok(Authed {
                principal,
                tenant,
                _scope: PhantomData,
            })
        })
    }
}

/// The shared application state of a request.
pub fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| Error::Internal("application state missing".into()))
}

/// The peer's IP (proxies are not trusted for this).
pub fn client_ip(req: &HttpRequest) -> IpAddr {
    req.peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The raw API token of a request, if it carries one.
fn token_of(req: &HttpRequest) -> Option<String> {
    if let Some(t) = header(req, "x-api-token") {
        return Some(t.to_owned());
    }
    if let Some(auth) = header(req, "authorization") {
        let (scheme, rest) = auth.split_once(' ').unwrap_or((auth, ""));
        if scheme.eq_ignore_ascii_case("bearer") && !rest.trim().is_empty() {
            return Some(rest.trim().to_owned());
        }
    }
    let is_upgrade = header(req, "upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    if is_upgrade {
        return web::Query::<std::collections::HashMap<String, String>>::from_query(
            req.query_string(),
        )
        .ok()
        .and_then(|q| q.get("token").cloned());
    }
    None
}

/// The org the client asked for, if any.
fn requested_org(req: &HttpRequest) -> Option<String> {
    header(req, "x-pulse-org-id")
        .map(str::to_owned)
        .or_else(|| req.cookie(ORG_COOKIE).map(|c| c.value().to_owned()))
        .filter(|o| !o.is_empty())
}

/// Scopes a session user holds in an org, by role.
fn scopes_for(role: Role) -> ScopeSet {
    let scopes: &[Scope] = match role {
        Role::Owner | Role::Admin => &[Scope::All],
        Role::Editor => &[
            Scope::MonitoringRead,
            Scope::MonitoringWrite,
            Scope::SettingsRead,
        ],
        Role::Viewer => &[Scope::MonitoringRead],
    };
    // Invariant: each fixed list above is non-empty and never combines `*` with another scope.
    #[allow(clippy::expect_used)]
    ScopeSet::new(scopes.iter().copied()).expect("fixed role scope lists are valid")
}

fn is_mutating(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Resolves the principal of a request (no scope check).
pub fn authenticate(req: &HttpRequest, app: &AppState) -> Result<Principal> {
    let now = unix_now();
    let asked = requested_org(req);
    if let Some(raw) = token_of(req) {
        let record = verify_token(&app.store, &raw, now)?;
        let org = match (&record.org_id, asked) {
            (Some(bound), Some(asked)) if &asked != bound => {
                return Err(Error::Forbidden(
                    "token is not valid for that organisation".into(),
                ))
            }
            (Some(bound), _) => bound.clone(),
            (None, Some(asked)) if asked != DEFAULT_ORG_ID => {
                return Err(Error::Forbidden(
                    "token is not valid for that organisation".into(),
                ))
            }
            (None, _) => DEFAULT_ORG_ID.to_owned(),
        };
        return Ok(Principal {
            kind: PrincipalKind::Token { id: record.id },
            scopes: record.scopes,
            org,
        });
    }
    if let Some(cookie) = req.cookie(SESSION_COOKIE) {
        let session = lookup_session(&app.store, cookie.value(), now)?;
        if is_mutating(req.method()) {
            let provided = header(req, "x-csrf-token").unwrap_or_default();
            session.verify_csrf(provided)?;
        }
        let user = app
            .store
            .get_user(&session.username)?
            .ok_or(Error::Unauthorized)?;
        let org = asked.unwrap_or(session.org_id);
        let role = user
            .role_in(&org)
            .ok_or_else(|| Error::Forbidden("not a member of that organisation".into()))?;
        return Ok(Principal {
            kind: PrincipalKind::Session {
                username: user.username,
            },
            scopes: scopes_for(role),
            org,
        });
    }
    if let Some(setup) = header(req, "x-setup-token") {
        if !client_ip(req).is_loopback() {
            return Err(Error::Forbidden(
                "the bootstrap token is accepted from loopback clients only".into(),
            ));
        }
        verify_bootstrap_token(&app.store, setup)?;
        return Ok(Principal {
            kind: PrincipalKind::Bootstrap,
            scopes: ScopeSet::new([Scope::All])?,
            org: DEFAULT_ORG_ID.to_owned(),
        });
    }
    Err(Error::Unauthorized)
}
