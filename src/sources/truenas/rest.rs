//! [`RestApi`]: the legacy REST API at `https://host:port/api/v2.0` (SCALE before 25.04, CORE 13),
//! with bearer auth for an API key or basic auth for a password, size-capped bodies and the
//! failures mapped to [`TruenasError`]s (401/403 → authentication, 404 → the release has no such
//! endpoint).

use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::{Method, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::sources::tls::{error_chain, PinReport};

use super::error::TruenasError;
use super::rpc::truncate;
use super::settings::{TruenasAuth, TruenasEndpoint};

/// Largest successful body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// How much of an error body is read for the message.
const ERROR_BODY_BYTES: usize = 8 * 1024;

/// A REST client for one appliance.
pub struct RestApi {
    http: reqwest::Client,
    endpoint: TruenasEndpoint,
    authorization: HeaderValue,
    mechanism: &'static str,
    who: String,
    pins: PinReport,
}

impl std::fmt::Debug for RestApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestApi")
            .field("endpoint", &self.endpoint)
            .field("mechanism", &self.mechanism)
            .finish_non_exhaustive()
    }
}

impl RestApi {
    /// A client using `tls` (shared with the WebSocket transport, so pin reports agree).
    pub fn new(
        endpoint: TruenasEndpoint,
        auth: &TruenasAuth,
        tls: rustls::ClientConfig,
        pins: PinReport,
        timeout: Duration,
    ) -> Result<Self, TruenasError> {
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("pulse/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TruenasError::Config(format!("HTTP client: {e}")))?;
        let (value, mechanism) = match auth {
            TruenasAuth::ApiKey { key, .. } => (format!("Bearer {}", key.expose()), "REST bearer"),
            TruenasAuth::Password { username, password } => {
                let pair = format!("{username}:{}", password.expose());
                (
                    format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(pair)
                    ),
                    "REST basic",
                )
            }
        };
        let mut authorization = HeaderValue::from_str(&value).map_err(|_| {
            TruenasError::Config(
                "the credentials contain characters not allowed in a header".into(),
            )
        })?;
        authorization.set_sensitive(true);
        Ok(RestApi {
            http,
            endpoint,
            authorization,
            mechanism,
            who: auth.who(),
            pins,
        })
    }

    /// `GET /api/v2.0<path>`, decoded as `T`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        timeout: Duration,
    ) -> Result<T, TruenasError> {
        self.request(Method::GET, path, None, timeout).await
    }

    /// `POST /api/v2.0<path>` with a JSON body, decoded as `T`.
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &Value,
        timeout: Duration,
    ) -> Result<T, TruenasError> {
        self.request(Method::POST, path, Some(body), timeout).await
    }

    /// Sends one request and decodes a successful body.
    async fn request<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        timeout: Duration,
    ) -> Result<T, TruenasError> {
        let mut request = self
            .http
            .request(method, self.endpoint.rest_url(path))
            .timeout(timeout)
            .header(AUTHORIZATION, self.authorization.clone());
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.transport_error(path, timeout, &e))?;
        let status = response.status().as_u16();
        if !response.status().is_success() {
            return Err(self.status_error(path, status, response).await);
        }
        let body = self.read_body(path, response, timeout).await?;
        if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<') {
            return Err(TruenasError::Decode {
                method: path.to_owned(),
                message: "an HTML page instead of JSON: check the host and port".into(),
            });
        }
        serde_json::from_slice(&body).map_err(|e| TruenasError::Decode {
            method: path.to_owned(),
            message: if e.is_syntax() || e.is_eof() {
                format!("invalid JSON at line {}, column {}", e.line(), e.column())
            } else {
                e.to_string()
            },
        })
    }

    /// Reads a body within [`MAX_BODY_BYTES`].
    async fn read_body(
        &self,
        path: &str,
        mut response: Response,
        timeout: Duration,
    ) -> Result<Vec<u8>, TruenasError> {
        let too_large = || TruenasError::TooLarge {
            method: path.to_owned(),
            limit: MAX_BODY_BYTES,
        };
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(path, timeout, &e))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Maps a failed send or body read.
    fn transport_error(&self, path: &str, timeout: Duration, e: &reqwest::Error) -> TruenasError {
        let endpoint = self.endpoint.origin();
        if e.is_connect() {
            if let Some(mismatch) = self.pins.last_mismatch() {
                return TruenasError::FingerprintMismatch { endpoint, mismatch };
            }
        }
        if e.is_timeout() {
            return TruenasError::Timeout {
                endpoint,
                what: path.to_owned(),
                after: timeout,
            };
        }
        let message = error_chain(e).replace(&endpoint, "");
        let lower = message.to_ascii_lowercase();
        if ["tls", "certificate", "handshake"]
            .iter()
            .any(|w| lower.contains(w))
        {
            TruenasError::Tls { endpoint, message }
        } else {
            TruenasError::Connect { endpoint, message }
        }
    }

    /// Maps a non-success status.
    async fn status_error(&self, path: &str, status: u16, mut response: Response) -> TruenasError {
        let mut body = Vec::new();
        while body.len() < ERROR_BODY_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = ERROR_BODY_BYTES - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                _ => break,
            }
        }
        let message = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| {
                ["message", "error", "detail"]
                    .iter()
                    .find_map(|k| v.get(*k).and_then(Value::as_str).map(truncate))
            })
            .unwrap_or_else(|| {
                let text = String::from_utf8_lossy(&body);
                truncate(&text.split_whitespace().collect::<Vec<_>>().join(" "))
            });
        match status {
            401 | 403 => TruenasError::AuthFailed {
                endpoint: self.endpoint.origin(),
                who: self.who.clone(),
                mechanism: self.mechanism,
                detail: format!(
                    "HTTP {status}: the appliance rejected the credentials; check the API key or password"
                ),
            },
            404 => TruenasError::MethodNotFound {
                method: path.to_owned(),
            },
            _ => TruenasError::Http {
                path: path.to_owned(),
                status,
                message: if message.is_empty() {
                    "no message".into()
                } else {
                    message
                },
            },
        }
    }
}
