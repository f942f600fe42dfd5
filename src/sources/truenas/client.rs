//! [`TruenasClient`]: one appliance connection — transport negotiation, login, the WebSocket
//! session kept open between polls, reconnects with backoff, and one `fetch` that calls a method
//! over whichever transport was negotiated.
//!
//! **Connection life.** The first [`TruenasClient::connect`] (or poll) opens `/api/current` and
//! logs in; if the appliance does not offer it, the legacy REST API is used when its version
//! allows (see [`super::negotiate`]). The mode is then fixed. A session that breaks during a poll
//! is re-opened once at once (an appliance that restarted between polls costs no poll); when that
//! fails, or the connection was already down, further attempts wait for a backoff that doubles
//! from [`BACKOFF_BASE`] to [`BACKOFF_CAP`] (time is the caller's `now`, so the collector's
//! clock decides, not ours). Rejected credentials back off the same way: an appliance is never
//! hammered with a bad key.
//!
//! Methods take `&self` (state behind an async mutex), so an actor can share the client with the
//! futures it spawns; polls of one client never overlap.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pulse_model::Timestamp;
use rustls::ClientConfig;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::sources::proxmox::EndpointHealth;
use crate::sources::tls::{client_config, PinReport, TlsMode};

use super::error::TruenasError;
use super::negotiate::{legacy_reason, TransportMode};
use super::poll::TruenasPoll;
use super::rest::RestApi;
use super::settings::{TruenasAuth, TruenasSettings};
use super::types::SystemInfo;
use super::ws::{OpenError, WsSession};

/// First reconnect delay after a failure.
pub const BACKOFF_BASE: Duration = Duration::from_secs(2);
/// Longest reconnect delay.
pub const BACKOFF_CAP: Duration = Duration::from_secs(300);
/// Consecutive method timeouts after which the session is considered dead.
const TIMEOUTS_BEFORE_ABORT: u32 = 2;

/// The diagnostic status of a connection (reference §4.1), for `connectionHealth` and the
/// connections API.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransportStatus {
    /// Negotiated transport.
    pub mode: TransportMode,
    /// `https://host:port`.
    pub endpoint: String,
    /// `verified`, `pinned` or `insecure-skip-verify`.
    pub tls: &'static str,
    /// Whether the last operation reached the appliance.
    pub connected: bool,
    /// How the client authenticated.
    pub auth_mechanism: Option<&'static str>,
    /// The appliance's version, once known.
    pub appliance_version: Option<String>,
    /// Why legacy REST is used, when it is.
    pub legacy_reason: Option<String>,
    /// Sessions re-established after the first.
    pub reconnects: u64,
    /// The last connection-level error.
    pub last_error: Option<String>,
    /// When the last session was established (or REST last answered).
    pub last_connected_at: Option<Timestamp>,
}

/// One method as both transports call it.
#[derive(Debug, Clone)]
pub(super) struct Call {
    /// JSON-RPC method, also the name in messages and failure lists.
    pub method: &'static str,
    /// JSON-RPC params.
    pub params: Value,
    /// The REST equivalent.
    pub rest: RestCall,
}

/// A REST request.
#[derive(Debug, Clone)]
pub(super) enum RestCall {
    /// `GET /api/v2.0<path>`.
    Get(&'static str),
    /// `POST /api/v2.0<path>` with a JSON body.
    Post(&'static str, Value),
}

/// What a login answers (`auth.login_ex`).
#[derive(Deserialize)]
struct LoginReply {
    #[serde(default)]
    response_type: Option<String>,
}

/// Mutable connection state; held for the whole of a poll.
#[derive(Debug)]
pub(super) struct Inner {
    /// Negotiated transport.
    pub mode: TransportMode,
    /// The open JSON-RPC session.
    session: Option<WsSession>,
    /// Connection failures since the last success.
    failures_in_row: u32,
    /// No reconnect before this time.
    retry_at: Option<Timestamp>,
    /// A session existed before (so the next one is a reconnect).
    ever_connected: bool,
    /// The current poll already re-opened the session once.
    reopened_this_poll: bool,
    /// Method timeouts in a row in the current poll.
    timeouts_in_row: u32,
    /// The snapshot method that worked (`zfs.resource.snapshot.query` or `pool.snapshot.query`).
    pub snapshot_method: Option<&'static str>,
    /// The previous poll, for carrying over sections whose method failed.
    pub previous: Option<TruenasPoll>,
    /// When each method last succeeded.
    pub last_ok: BTreeMap<&'static str, Timestamp>,
}

/// A client for one TrueNAS connection.
pub struct TruenasClient {
    settings: TruenasSettings,
    tls: Arc<ClientConfig>,
    pins: PinReport,
    rest: RestApi,
    inner: tokio::sync::Mutex<Inner>,
    status: Mutex<TransportStatus>,
}

impl std::fmt::Debug for TruenasClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TruenasClient")
            .field("connection_id", &self.settings.connection_id)
            .field("endpoint", &self.settings.endpoint)
            .finish_non_exhaustive()
    }
}

impl TruenasClient {
    /// A client for `settings`; builds TLS and the REST client, does no I/O.
    pub fn new(settings: TruenasSettings) -> Result<Self, TruenasError> {
        let tls = client_config(&settings.tls).map_err(|e| TruenasError::Config(e.to_string()))?;
        let rest = RestApi::new(
            settings.endpoint.clone(),
            &settings.auth,
            tls.config.clone(),
            tls.pin_report.clone(),
            settings.timeout,
        )?;
        let status = TransportStatus {
            mode: TransportMode::Negotiating,
            endpoint: settings.endpoint.origin(),
            tls: match settings.tls {
                TlsMode::Verified => "verified",
                TlsMode::Pinned(_) => "pinned",
                TlsMode::InsecureSkipVerify => "insecure-skip-verify",
            },
            connected: false,
            auth_mechanism: None,
            appliance_version: None,
            legacy_reason: None,
            reconnects: 0,
            last_error: None,
            last_connected_at: None,
        };
        Ok(TruenasClient {
            tls: Arc::new(tls.config),
            pins: tls.pin_report,
            rest,
            inner: tokio::sync::Mutex::new(Inner {
                mode: TransportMode::Negotiating,
                session: None,
                failures_in_row: 0,
                retry_at: None,
                ever_connected: false,
                reopened_this_poll: false,
                timeouts_in_row: 0,
                snapshot_method: None,
                previous: None,
                last_ok: BTreeMap::new(),
            }),
            status: Mutex::new(status),
            settings,
        })
    }

    /// The settings this client was built with.
    pub fn settings(&self) -> &TruenasSettings {
        &self.settings
    }

    /// The connection's diagnostic status.
    pub fn status(&self) -> TransportStatus {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The endpoint's health in the shape the Proxmox clients report it.
    pub fn health(&self) -> EndpointHealth {
        let status = self.status();
        EndpointHealth {
            base_url: status.endpoint,
            healthy: status.connected,
            last_error: status.last_error,
        }
    }

    /// Negotiates (the first time) and makes sure a session is open, honouring the backoff
    /// after failures.
    pub async fn connect(&self, now: Timestamp) -> Result<(), TruenasError> {
        let mut inner = self.inner.lock().await;
        self.establish(&mut inner, now).await
    }

    /// Closes the session (when the collector stops); the next call reconnects.
    pub async fn close(&self) {
        let session = self.inner.lock().await.session.take();
        if let Some(session) = session {
            session.close().await;
        }
        self.update_status(|s| s.connected = false);
    }

    /// Locks the connection state for one poll.
    pub(super) async fn lock(&self) -> tokio::sync::MutexGuard<'_, Inner> {
        let mut inner = self.inner.lock().await;
        inner.reopened_this_poll = false;
        inner.timeouts_in_row = 0;
        inner
    }

    /// Makes sure the negotiated transport is usable: a session is open (JSON-RPC) or the REST
    /// mode is fixed. Before the backoff elapsed it fails fast with [`TruenasError::Backoff`].
    pub(super) async fn establish(
        &self,
        inner: &mut Inner,
        now: Timestamp,
    ) -> Result<(), TruenasError> {
        if inner.mode == TransportMode::LegacyRest || inner.session.is_some() {
            return Ok(());
        }
        if let Some(at) = inner.retry_at.filter(|at| now < *at) {
            return Err(TruenasError::Backoff {
                endpoint: self.settings.endpoint.origin(),
                retry_in: Duration::from_millis(at.millis_since(now)),
                last_error: self.status().last_error.unwrap_or_default(),
            });
        }
        self.open(inner, now).await
    }

    /// Opens the transport, records the outcome and schedules the backoff on failure.
    async fn open(&self, inner: &mut Inner, now: Timestamp) -> Result<(), TruenasError> {
        match self.open_transport(inner).await {
            Ok(mechanism) => {
                let reconnect =
                    inner.ever_connected && inner.mode == TransportMode::JsonRpcWebSocket;
                inner.ever_connected = true;
                inner.failures_in_row = 0;
                inner.retry_at = None;
                let mode = inner.mode;
                self.update_status(|s| {
                    s.mode = mode;
                    s.connected = true;
                    s.auth_mechanism = Some(mechanism);
                    s.last_error = None;
                    s.last_connected_at = Some(now);
                    if reconnect {
                        s.reconnects += 1;
                    }
                });
                tracing::info!(
                    connection = %self.settings.connection_id,
                    endpoint = %self.settings.endpoint,
                    mode = mode.as_str(),
                    reconnect,
                    "truenas: connected"
                );
                Ok(())
            }
            Err(e) => {
                inner.failures_in_row = inner.failures_in_row.saturating_add(1);
                let delay = backoff(inner.failures_in_row);
                inner.retry_at =
                    Some(now.plus_millis(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX)));
                self.record_failure(&e);
                tracing::warn!(
                    connection = %self.settings.connection_id,
                    endpoint = %self.settings.endpoint,
                    error = %e,
                    retry_in_s = delay.as_secs(),
                    "truenas: cannot connect"
                );
                Err(e)
            }
        }
    }

    /// Opens a JSON-RPC session and logs in, or settles on REST for a legacy appliance; returns
    /// the auth mechanism used.
    async fn open_transport(&self, inner: &mut Inner) -> Result<&'static str, TruenasError> {
        let timeout = self.settings.timeout;
        match WsSession::open(
            &self.settings.endpoint,
            Arc::clone(&self.tls),
            &self.pins,
            timeout,
        )
        .await
        {
            Ok(mut session) => {
                let mechanism = self.login(&mut session).await?;
                inner.session = Some(session);
                inner.mode = TransportMode::JsonRpcWebSocket;
                Ok(mechanism)
            }
            Err(OpenError::Failed(e)) => Err(e),
            Err(OpenError::Unsupported(why)) if inner.mode == TransportMode::JsonRpcWebSocket => {
                Err(TruenasError::Closed {
                    endpoint: self.settings.endpoint.origin(),
                    message: format!("the appliance no longer offers JSON-RPC: {why}"),
                })
            }
            Err(OpenError::Unsupported(why)) => {
                let info: SystemInfo = match self.rest.get("/system/info", timeout).await {
                    Ok(info) => info,
                    Err(e) if e.is_unsupported() => {
                        return Err(TruenasError::NoApi {
                            endpoint: self.settings.endpoint.origin(),
                            why,
                        })
                    }
                    Err(e) => return Err(e),
                };
                let version = info.version.unwrap_or_default();
                self.update_status(|s| s.appliance_version = Some(version.clone()));
                match legacy_reason(&version) {
                    Some(reason) => {
                        tracing::info!(
                            connection = %self.settings.connection_id,
                            endpoint = %self.settings.endpoint,
                            version = %version,
                            reason = %reason,
                            "truenas: using the legacy REST API"
                        );
                        inner.mode = TransportMode::LegacyRest;
                        self.update_status(|s| s.legacy_reason = Some(format!("{why}; {reason}")));
                        Ok(match self.settings.auth {
                            TruenasAuth::ApiKey { .. } => "REST bearer",
                            TruenasAuth::Password { .. } => "REST basic",
                        })
                    }
                    None => Err(TruenasError::DowngradeRefused {
                        endpoint: self.settings.endpoint.origin(),
                        why,
                        version: if version.is_empty() {
                            "(unknown)".into()
                        } else {
                            version
                        },
                    }),
                }
            }
        }
    }

    /// Logs in on a fresh session (reference §4.2); returns the mechanism that worked.
    async fn login(&self, session: &mut WsSession) -> Result<&'static str, TruenasError> {
        let timeout = self.settings.timeout;
        let endpoint = self.settings.endpoint.origin();
        let failed = |mechanism: &'static str, detail: String| TruenasError::AuthFailed {
            endpoint: endpoint.clone(),
            who: self.settings.auth.who(),
            mechanism,
            detail,
        };
        let (mechanism, params) = match &self.settings.auth {
            TruenasAuth::ApiKey {
                username: Some(username),
                key,
            } => (
                "API_KEY_PLAIN",
                json!([{"mechanism": "API_KEY_PLAIN", "username": username,
                        "api_key": key.expose(), "login_options": {"user_info": false}}]),
            ),
            TruenasAuth::ApiKey {
                username: None,
                key,
            } => {
                return match session
                    .call::<Value>("auth.login_with_api_key", &json!([key.expose()]), timeout)
                    .await?
                {
                    Value::Bool(true) => Ok("login_with_api_key"),
                    _ => Err(failed(
                        "login_with_api_key",
                        "the appliance rejected the API key; current releases also need the username the key belongs to".into(),
                    )),
                };
            }
            TruenasAuth::Password { username, password } => (
                "PASSWORD_PLAIN",
                json!([{"mechanism": "PASSWORD_PLAIN", "username": username,
                        "password": password.expose(), "login_options": {"user_info": false}}]),
            ),
        };
        match session
            .call::<LoginReply>("auth.login_ex", &params, timeout)
            .await
        {
            Ok(reply) => match reply.response_type.as_deref() {
                Some("SUCCESS") => Ok(mechanism),
                other => Err(failed(mechanism, login_refusal(other))),
            },
            Err(e) if e.is_unsupported() => self.legacy_login(session, mechanism).await,
            Err(e) => Err(e),
        }
    }

    /// Logs in on a release without `auth.login_ex`.
    async fn legacy_login(
        &self,
        session: &mut WsSession,
        mechanism: &'static str,
    ) -> Result<&'static str, TruenasError> {
        let timeout = self.settings.timeout;
        let (method, params) = match &self.settings.auth {
            TruenasAuth::ApiKey { key, .. } => ("auth.login_with_api_key", json!([key.expose()])),
            TruenasAuth::Password { username, password } => {
                ("auth.login", json!([username, password.expose()]))
            }
        };
        match session.call::<Value>(method, &params, timeout).await? {
            Value::Bool(true) => Ok(if method == "auth.login" {
                "login"
            } else {
                "login_with_api_key"
            }),
            _ => Err(TruenasError::AuthFailed {
                endpoint: self.settings.endpoint.origin(),
                who: self.settings.auth.who(),
                mechanism,
                detail: "the appliance rejected the credentials".into(),
            }),
        }
    }

    /// Calls one method over the negotiated transport. The outer error aborts the poll (the
    /// connection is gone, or credentials were revoked); the inner one is this method's own
    /// failure, to be recorded while the rest of the poll goes on.
    pub(super) async fn fetch<T: DeserializeOwned>(
        &self,
        inner: &mut Inner,
        call: &Call,
        now: Timestamp,
    ) -> Result<Result<T, TruenasError>, TruenasError> {
        let timeout = self.settings.timeout;
        loop {
            let outcome = match inner.mode {
                TransportMode::LegacyRest => match &call.rest {
                    RestCall::Get(path) => self.rest.get(path, timeout).await,
                    RestCall::Post(path, body) => self.rest.post(path, body, timeout).await,
                },
                _ => match inner.session.as_mut() {
                    Some(session) => session.call(call.method, &call.params, timeout).await,
                    None => Err(TruenasError::Closed {
                        endpoint: self.settings.endpoint.origin(),
                        message: "no session".into(),
                    }),
                },
            };
            match outcome {
                Err(e) if e.is_transport() => {
                    self.record_failure(&e);
                    let dropped = inner.session.take();
                    if dropped.is_some() && !inner.reopened_this_poll {
                        inner.reopened_this_poll = true;
                        tracing::info!(
                            connection = %self.settings.connection_id,
                            error = %e,
                            "truenas: session lost, reconnecting"
                        );
                        self.open(inner, now).await?;
                        continue;
                    }
                    return Err(e);
                }
                Err(e) if e.is_auth() => {
                    self.record_failure(&e);
                    inner.session = None;
                    return Err(e);
                }
                Err(e @ TruenasError::Timeout { .. }) => {
                    inner.timeouts_in_row += 1;
                    if inner.timeouts_in_row >= TIMEOUTS_BEFORE_ABORT {
                        self.record_failure(&e);
                        inner.session = None;
                        return Err(e);
                    }
                    return Ok(Err(e));
                }
                other => {
                    inner.timeouts_in_row = 0;
                    return Ok(other);
                }
            }
        }
    }

    /// Records a connection-level failure in the status.
    fn record_failure(&self, e: &TruenasError) {
        self.update_status(|s| {
            s.connected = false;
            s.last_error = Some(e.to_string());
        });
    }

    /// Records that the appliance answered.
    pub(super) fn record_success(&self, version: Option<&str>) {
        self.update_status(|s| {
            s.connected = true;
            s.last_error = None;
            if let Some(v) = version {
                s.appliance_version = Some(v.to_owned());
            }
        });
    }

    /// Applies `change` to the status.
    fn update_status(&self, change: impl FnOnce(&mut TransportStatus)) {
        change(&mut self.status.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

/// The delay before reconnect attempt number `failures` (1-based): doubling from
/// [`BACKOFF_BASE`], capped at [`BACKOFF_CAP`].
pub fn backoff(failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(16);
    BACKOFF_BASE
        .saturating_mul(1u32 << exponent)
        .min(BACKOFF_CAP)
}

/// The detail for a refused `auth.login_ex`.
fn login_refusal(response_type: Option<&str>) -> String {
    match response_type {
        Some("AUTH_ERR") => {
            "the appliance rejected the credentials (AUTH_ERR): check the API key or password and the username".into()
        }
        Some("EXPIRED") => "the API key or password has expired (EXPIRED)".into(),
        Some("OTP_REQUIRED") => {
            "the user needs a one-time password (OTP_REQUIRED): use an API key instead".into()
        }
        Some("REDIRECT") => {
            "the appliance redirects logins to its other controller (REDIRECT): connect to the active one".into()
        }
        Some(other) => format!("login answered {other}"),
        None => "login answered without a response_type".into(),
    }
}

/// Summary of a successful connection test (the API's "test connection" button).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionSummary {
    /// `https://host:port`.
    pub endpoint: String,
    /// Negotiated transport.
    pub mode: TransportMode,
    /// How the client authenticated.
    pub auth_mechanism: Option<&'static str>,
    /// Why legacy REST is used, when it is.
    pub legacy_reason: Option<String>,
    /// The appliance's host name.
    pub hostname: Option<String>,
    /// The appliance's version.
    pub version: Option<String>,
    /// How many pools it has.
    pub pools: usize,
}

/// Connects with `settings`, logs in and reads the system info and the pool list, then closes:
/// what the connections API's test button shows. Errors say what to fix (credentials naming the
/// user, pin mismatches naming both fingerprints, plain HTTP refused).
pub async fn test_connection(
    settings: &TruenasSettings,
) -> Result<ConnectionSummary, TruenasError> {
    let client = TruenasClient::new(settings.clone())?;
    let now = Timestamp::EPOCH;
    let mut inner = client.lock().await;
    client.establish(&mut inner, now).await?;
    let system: SystemInfo = client
        .fetch(&mut inner, &super::poll::calls::system(), now)
        .await??;
    let pools: crate::sources::flex::Listing<super::types::Pool> = client
        .fetch(&mut inner, &super::poll::calls::pools(), now)
        .await??;
    let session = inner.session.take();
    drop(inner);
    if let Some(session) = session {
        session.close().await;
    }
    let status = client.status();
    Ok(ConnectionSummary {
        endpoint: status.endpoint,
        mode: status.mode,
        auth_mechanism: status.auth_mechanism,
        legacy_reason: status.legacy_reason,
        hostname: system.hostname,
        version: system.version.or(status.appliance_version),
        pools: pools.items.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(2), Duration::from_secs(4));
        assert_eq!(backoff(5), Duration::from_secs(32));
        assert_eq!(backoff(9), BACKOFF_CAP);
        assert_eq!(backoff(u32::MAX), BACKOFF_CAP);
        assert_eq!(backoff(0), BACKOFF_BASE);
    }

    #[test]
    fn the_client_and_its_futures_can_move_between_threads() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: T) {}
        let settings = TruenasSettings::new(
            "nas",
            "nas.invalid",
            TruenasAuth::ApiKey {
                username: Some("pulse".into()),
                key: crate::config::Secret::new("1-key"),
            },
            TlsMode::InsecureSkipVerify,
        )
        .expect("settings");
        let client = TruenasClient::new(settings.clone()).expect("client");
        send_sync(&client);
        send(client.poll(Timestamp::EPOCH));
        send(client.connect(Timestamp::EPOCH));
        send(test_connection(&settings));
    }

    #[test]
    fn login_refusals_say_what_to_do() {
        assert!(login_refusal(Some("AUTH_ERR")).contains("rejected"));
        assert!(login_refusal(Some("OTP_REQUIRED")).contains("API key"));
        assert!(login_refusal(None).contains("response_type"));
    }
}
