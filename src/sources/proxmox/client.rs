//! [`ApiClient`]: HTTP to one Proxmox endpoint — auth (token header or ticket login), timeouts,
//! body size caps, the `{"data": …}` envelope, and the mapping of failures to [`PlatformError`]s.
//!
//! Ticket auth logs in with `POST /access/ticket` (JSON body, form-encoded as fallback), sends the
//! ticket as the product's cookie and the CSRF token on every non-GET request, renews the ticket
//! before its two hours run out and logs in again once when a request answers 401.

use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, COOKIE};
use reqwest::{Method, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::sources::tls::{client_config, error_chain, PinReport};

use super::endpoint::{api_base, Credentials, EndpointSettings, Product};
use super::error::PlatformError;
use super::flex::{decode_items, Listing};

/// Largest successful body accepted (a `/cluster/resources` of a few thousand guests is a few MB).
pub const SUCCESS_BODY_LIMIT: usize = 32 * 1024 * 1024;
/// How much of an error body is read for the message.
pub const ERROR_BODY_LIMIT: usize = 8 * 1024;
/// How long Proxmox tickets are valid.
pub const TICKET_LIFETIME: Duration = Duration::from_secs(2 * 60 * 60);
/// A ticket is renewed this long before it expires, so no request races its expiry.
const TICKET_MARGIN: Duration = Duration::from_secs(5 * 60);
/// Longest error message kept from a body.
const MESSAGE_CHARS: usize = 300;
/// Advice for a 403 with an API token (privilege-separated tokens need the user's permissions).
const TOKEN_403_HINT: &str = ": grant the permissions (e.g. PVEAuditor on /) to the USER, not just the token — a privilege-separated token never has more rights than its user";

/// A login ticket and the headers it implies. The values are marked sensitive.
#[derive(Clone)]
struct Ticket {
    cookie: HeaderValue,
    csrf: HeaderValue,
    issued: Instant,
}

impl Ticket {
    /// Whether the ticket can still be used at `now`.
    fn is_fresh(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.issued) + TICKET_MARGIN < TICKET_LIFETIME
    }
}

/// The `data` of a ticket login.
#[derive(Deserialize)]
struct LoginData {
    ticket: String,
    #[serde(rename = "CSRFPreventionToken")]
    csrf: String,
}

/// The `{"data": …}` envelope every Proxmox API answer comes in.
#[derive(Deserialize)]
struct Envelope<T> {
    #[serde(default = "Option::default")]
    data: Option<T>,
}

/// An authenticated HTTP client for one endpoint of one product.
pub struct ApiClient {
    product: Product,
    base: String,
    http: reqwest::Client,
    credentials: Credentials,
    token_header: Option<HeaderValue>,
    ticket: tokio::sync::Mutex<Option<Ticket>>,
    timeout: Duration,
    pin_report: PinReport,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("product", &self.product)
            .field("base", &self.base)
            .field("credentials", &self.credentials)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    /// A client for `settings`; validates the URL and the credentials' header form, builds TLS.
    pub fn new(product: Product, settings: &EndpointSettings) -> Result<Self, PlatformError> {
        let base = api_base(&settings.host, product)?;
        let tls = client_config(&settings.tls).map_err(|e| PlatformError::Config(e.to_string()))?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls.config)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("pulse/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PlatformError::Config(format!("HTTP client: {e}")))?;
        let token_header = match &settings.credentials {
            Credentials::Token { token_id, secret } => {
                let value = format!(
                    "{}={token_id}{}{secret}",
                    product.token_scheme(),
                    product.token_separator()
                );
                Some(sensitive(&value).ok_or_else(|| {
                    PlatformError::Config(
                        "the token contains characters not allowed in a header".into(),
                    )
                })?)
            }
            Credentials::Password { .. } => None,
        };
        Ok(ApiClient {
            product,
            base,
            http,
            credentials: settings.credentials.clone(),
            token_header,
            ticket: tokio::sync::Mutex::new(None),
            timeout: settings.timeout,
            pin_report: tls.pin_report,
        })
    }

    /// The normalised API base URL (`https://host:port/api2/json`).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The product this client talks to.
    pub fn product(&self) -> Product {
        self.product
    }

    /// The default per-request timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `GET path` and the raw JSON body of a successful answer (size-capped, checked to be JSON
    /// rather than HTML). `timeout` overrides the default for this request.
    pub async fn get_bytes(
        &self,
        path: &str,
        timeout: Option<Duration>,
    ) -> Result<Bytes, PlatformError> {
        let timeout = timeout.unwrap_or(self.timeout);
        let response = self.execute(Method::GET, path, None, timeout).await?;
        self.read_json_body(path, response, timeout).await
    }

    /// `GET path`, decoded from the envelope's `data`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, PlatformError> {
        decode_data(path, &self.get_bytes(path, None).await?)
    }

    /// `GET path` of a list, decoded item by item (malformed items skipped and counted).
    pub async fn get_list<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Listing<T>, PlatformError> {
        decode_list(path, &self.get_bytes(path, None).await?)
    }

    /// `POST path` with a form body (with the CSRF token under ticket auth), decoded from `data`.
    pub async fn post_form<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<T, PlatformError> {
        let response = self
            .execute(Method::POST, path, Some(form), self.timeout)
            .await?;
        let body = self.read_json_body(path, response, self.timeout).await?;
        decode_data(path, &body)
    }

    /// `GET path` and the response itself, status and content type already checked, for bodies
    /// too large to hold (read it incrementally with [`Response::chunk`]). The timeout covers
    /// the whole body.
    pub async fn open_stream(
        &self,
        path: &str,
        timeout: Duration,
    ) -> Result<Response, PlatformError> {
        let response = self.execute(Method::GET, path, None, timeout).await?;
        if is_html_type(&response) {
            return Err(not_json(path));
        }
        Ok(response)
    }

    /// Maps an error met while reading a streamed body.
    pub fn body_error(&self, path: &str, timeout: Duration, err: &reqwest::Error) -> PlatformError {
        self.transport_error(path, timeout, err)
    }

    /// Sends one request with auth; on 401 under ticket auth logs in again once and retries.
    async fn execute(
        &self,
        method: Method,
        path: &str,
        form: Option<&[(&str, &str)]>,
        timeout: Duration,
    ) -> Result<Response, PlatformError> {
        let url = format!("{}{}", self.base, path);
        let mut relogged = false;
        loop {
            let mut request = self.http.request(method.clone(), &url).timeout(timeout);
            if let Some(token) = &self.token_header {
                request = request.header(AUTHORIZATION, token.clone());
            } else {
                let ticket = self.ticket(timeout).await?;
                request = request.header(COOKIE, ticket.cookie);
                if method != Method::GET {
                    request = request.header("CSRFPreventionToken", ticket.csrf);
                }
            }
            if let Some(form) = form {
                request = request.form(form);
            }
            let response = request
                .send()
                .await
                .map_err(|e| self.transport_error(path, timeout, &e))?;
            let status = response.status();
            if status.is_success() {
                return Ok(response);
            }
            if status == StatusCode::UNAUTHORIZED && self.token_header.is_none() && !relogged {
                relogged = true;
                *self.ticket.lock().await = None;
                continue;
            }
            return Err(self.status_error(path, response).await);
        }
    }

    /// A fresh ticket, logging in when there is none or it is about to expire. Concurrent
    /// requests wait for one login instead of each logging in.
    async fn ticket(&self, timeout: Duration) -> Result<Ticket, PlatformError> {
        let mut slot = self.ticket.lock().await;
        if let Some(ticket) = slot.as_ref().filter(|t| t.is_fresh(Instant::now())) {
            return Ok(ticket.clone());
        }
        let ticket = self.login(timeout).await?;
        *slot = Some(ticket.clone());
        Ok(ticket)
    }

    /// `POST /access/ticket` with the user and password: JSON first, form-encoded if the server
    /// refuses JSON.
    async fn login(&self, timeout: Duration) -> Result<Ticket, PlatformError> {
        const PATH: &str = "/access/ticket";
        let Credentials::Password { username, password } = &self.credentials else {
            return Err(PlatformError::Config(
                "ticket login needs a user and password".into(),
            ));
        };
        let url = format!("{}{PATH}", self.base);
        let send = |request: reqwest::RequestBuilder| async move {
            request
                .timeout(timeout)
                .send()
                .await
                .map_err(|e| self.transport_error(PATH, timeout, &e))
        };
        let json_body = serde_json::json!({"username": username, "password": password});
        let mut response = send(self.http.post(&url).json(&json_body)).await?;
        if matches!(response.status().as_u16(), 400 | 415 | 501) {
            let form = [
                ("username", username.as_str()),
                ("password", password.as_str()),
            ];
            response = send(self.http.post(&url).form(&form)).await?;
        }
        if !response.status().is_success() {
            return Err(self.status_error(PATH, response).await);
        }
        let body = self.read_json_body(PATH, response, timeout).await?;
        let login: LoginData = decode_data(PATH, &body)?;
        let cookie = sensitive(&format!("{}={}", self.product.cookie_name(), login.ticket));
        let csrf = sensitive(&login.csrf);
        match (cookie, csrf) {
            (Some(cookie), Some(csrf)) => Ok(Ticket {
                cookie,
                csrf,
                issued: Instant::now(),
            }),
            _ => Err(PlatformError::Decode {
                path: PATH.into(),
                message: "the ticket contains characters not allowed in a header".into(),
            }),
        }
    }

    /// Reads a successful body within [`SUCCESS_BODY_LIMIT`] and checks that it is not HTML.
    async fn read_json_body(
        &self,
        path: &str,
        mut response: Response,
        timeout: Duration,
    ) -> Result<Bytes, PlatformError> {
        if is_html_type(&response) {
            return Err(not_json(path));
        }
        if response
            .content_length()
            .is_some_and(|n| n > SUCCESS_BODY_LIMIT as u64)
        {
            return Err(too_large(path));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(path, timeout, &e))?
        {
            if body.len() + chunk.len() > SUCCESS_BODY_LIMIT {
                return Err(too_large(path));
            }
            body.extend_from_slice(&chunk);
        }
        if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<') {
            return Err(not_json(path));
        }
        Ok(Bytes::from(body))
    }

    /// Classifies a failed send or body read: pin mismatch, timeout, TLS, or connection.
    fn transport_error(
        &self,
        path: &str,
        timeout: Duration,
        err: &reqwest::Error,
    ) -> PlatformError {
        let endpoint = self.base.clone();
        if err.is_connect() {
            if let Some(mismatch) = self.pin_report.last_mismatch() {
                return PlatformError::FingerprintMismatch { endpoint, mismatch };
            }
        }
        if err.is_timeout() {
            return PlatformError::Timeout {
                endpoint,
                path: path.to_owned(),
                after: timeout,
            };
        }
        let message = error_chain(err).replace(&self.base, "");
        let lower = message.to_ascii_lowercase();
        if ["tls", "certificate", "handshake", "alert"]
            .iter()
            .any(|w| lower.contains(w))
        {
            PlatformError::Tls { endpoint, message }
        } else {
            PlatformError::Connect { endpoint, message }
        }
    }

    /// Maps a non-success answer (§1.1): 401, 403 (with the token hint), 595 (node offline on a
    /// node path), HTML pages, anything else with the start of its body.
    async fn status_error(&self, path: &str, mut response: Response) -> PlatformError {
        let status = response.status();
        let html = is_html_type(&response);
        let mut body = Vec::new();
        while body.len() < ERROR_BODY_LIMIT {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = ERROR_BODY_LIMIT - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                _ => break,
            }
        }
        let html = html || body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<');
        match status.as_u16() {
            401 => PlatformError::InvalidCredentials {
                endpoint: self.base.clone(),
            },
            403 => PlatformError::PermissionDenied {
                path: path.to_owned(),
                hint: if self.credentials.is_token() {
                    TOKEN_403_HINT
                } else {
                    ""
                },
            },
            595 => match node_of_path(path) {
                Some(node) => PlatformError::NodeOffline { node },
                None => PlatformError::ProxyFailure {
                    path: path.to_owned(),
                    message: body_message(status, &body, html),
                },
            },
            404 if html => not_json(path),
            code => PlatformError::Http {
                path: path.to_owned(),
                status: code,
                message: body_message(status, &body, html),
            },
        }
    }
}

/// A header value marked sensitive (never printed by the HTTP stack); `None` if not header-safe.
fn sensitive(value: &str) -> Option<HeaderValue> {
    let mut header = HeaderValue::from_str(value).ok()?;
    header.set_sensitive(true);
    Some(header)
}

/// Whether the answer declares itself HTML.
fn is_html_type(response: &Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("text/html"))
}

/// The error for an HTML answer.
fn not_json(path: &str) -> PlatformError {
    PlatformError::NotJson {
        path: path.to_owned(),
        what: "an HTML page".into(),
    }
}

/// The error for an oversized body.
fn too_large(path: &str) -> PlatformError {
    PlatformError::BodyTooLarge {
        path: path.to_owned(),
        limit: SUCCESS_BODY_LIMIT,
    }
}

/// The node a path is about, when it is node-specific: `/nodes/<node>/<something>`.
fn node_of_path(path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or(path);
    let mut parts = path.trim_start_matches('/').split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("nodes"), Some(node), Some(rest)) if !node.is_empty() && !rest.is_empty() => {
            Some(node.to_owned())
        }
        _ => None,
    }
}

/// A one-line message from an error body: Proxmox's `errors`/`message`, or the start of the text.
fn body_message(status: StatusCode, body: &[u8], html: bool) -> String {
    let fallback = || {
        status
            .canonical_reason()
            .unwrap_or("unexpected status")
            .to_owned()
    };
    if html {
        return format!("{} (an HTML page: check the URL and port)", fallback());
    }
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        if let Some(errors) = value.get("errors").and_then(Value::as_object) {
            let joined: Vec<String> = errors
                .iter()
                .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or("invalid")))
                .collect();
            return truncate(&joined.join("; "));
        }
        if let Some(message) = value.get("message").and_then(Value::as_str) {
            return truncate(message);
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        fallback()
    } else {
        truncate(&text)
    }
}

/// Caps a message at [`MESSAGE_CHARS`] characters.
fn truncate(text: &str) -> String {
    match text.char_indices().nth(MESSAGE_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// Decodes the envelope's `data` as `T`; `null` or missing data is an error.
pub fn decode_data<T: DeserializeOwned>(path: &str, body: &[u8]) -> Result<T, PlatformError> {
    match serde_json::from_slice::<Envelope<T>>(body) {
        Ok(Envelope { data: Some(data) }) => Ok(data),
        Ok(Envelope { data: None }) => Err(PlatformError::Decode {
            path: path.to_owned(),
            message: "the answer carries no data".into(),
        }),
        Err(e) => Err(json_error(path, &e)),
    }
}

/// Decodes the envelope's `data` as a list of `T`, item by item; `null` data is an empty list.
pub fn decode_list<T: DeserializeOwned>(
    path: &str,
    body: &[u8],
) -> Result<Listing<T>, PlatformError> {
    let envelope: Envelope<Value> =
        serde_json::from_slice(body).map_err(|e| json_error(path, &e))?;
    match envelope.data {
        None | Some(Value::Null) => Ok(Listing::default()),
        Some(data) => decode_items(&data).map_err(|message| PlatformError::Decode {
            path: path.to_owned(),
            message,
        }),
    }
}

/// The error for a body that is not the JSON expected.
fn json_error(path: &str, e: &serde_json::Error) -> PlatformError {
    let message = if e.is_syntax() || e.is_eof() {
        format!("invalid JSON at line {}, column {}", e.line(), e.column())
    } else {
        e.to_string()
    };
    PlatformError::Decode {
        path: path.to_owned(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_paths() {
        assert_eq!(node_of_path("/nodes/pve2/status").as_deref(), Some("pve2"));
        assert_eq!(
            node_of_path("/nodes/pve2/tasks?typefilter=vzdump").as_deref(),
            Some("pve2")
        );
        assert_eq!(node_of_path("/nodes"), None);
        assert_eq!(node_of_path("/nodes/pve2"), None);
        assert_eq!(node_of_path("/cluster/resources"), None);
    }

    #[test]
    fn ticket_freshness() {
        let issued = Instant::now();
        let ticket = Ticket {
            cookie: HeaderValue::from_static("PVEAuthCookie=x"),
            csrf: HeaderValue::from_static("y"),
            issued,
        };
        assert!(ticket.is_fresh(issued));
        assert!(ticket.is_fresh(issued + Duration::from_secs(110 * 60)));
        assert!(!ticket.is_fresh(issued + Duration::from_secs(116 * 60)));
    }

    #[test]
    fn envelope_decoding() {
        assert_eq!(
            decode_data::<u32>("/x", br#"{"data": 5, "extra": 1}"#),
            Ok(5)
        );
        assert!(matches!(
            decode_data::<u32>("/x", br#"{"data": null}"#),
            Err(PlatformError::Decode { .. })
        ));
        let err = decode_data::<u32>("/x", b"\x00\xffgarbage").expect_err("garbage");
        assert!(err.to_string().contains("invalid JSON"), "{err}");
        let list = decode_list::<u32>("/x", br#"{"data": [1, "x", 3]}"#).expect("list");
        assert_eq!((list.items, list.skipped), (vec![1, 3], 1));
        assert_eq!(
            decode_list::<u32>("/x", br#"{"data": null}"#).map(|l| l.items),
            Ok(vec![])
        );
    }

    #[test]
    fn error_messages_from_bodies() {
        let status = StatusCode::BAD_REQUEST;
        assert_eq!(
            body_message(status, br#"{"errors": {"vmid": "invalid"}}"#, false),
            "vmid: invalid"
        );
        assert_eq!(body_message(status, b"  some\n text ", false), "some text");
        assert!(body_message(status, b"", true).contains("HTML"));
        assert_eq!(
            truncate(&"x".repeat(400)).chars().count(),
            MESSAGE_CHARS + 1
        );
    }
}
