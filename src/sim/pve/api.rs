//! The Proxmox API framework as the three simulators (VE, Backup Server, Mail Gateway) share it:
//! the `/api2/json` prefix and `{"data": …}` envelope, token and ticket auth with the CSRF check
//! on writes, and the runtime-adjustable [`Faults`]. The PBS and PMG simulators reuse this module
//! because the real products share the same framework.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use actix_web::http::header::{self, ContentType};
use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use rand::distributions::{Alphanumeric, DistString};
use rand::Rng;
use serde_json::{json, Value};

/// Credentials a simulator accepts: one API token and one user/password for ticket login.
#[derive(Clone, PartialEq, Eq)]
pub struct SimCredentials {
    /// Full token id, `user@realm!name`.
    pub token_id: String,
    /// Token secret.
    pub token_secret: String,
    /// Login user, `user@realm`.
    pub user: String,
    /// Login password.
    pub password: String,
}

impl std::fmt::Debug for SimCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimCredentials")
            .field("token_id", &self.token_id)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl SimCredentials {
    /// Random secrets for `user@realm` with a token named `pulse`.
    pub fn generate(user: &str) -> Self {
        let mut rng = rand::thread_rng();
        let hex = |rng: &mut rand::rngs::ThreadRng, n: usize| {
            (0..n)
                .map(|_| char::from(b"0123456789abcdef"[rng.gen_range(0..16)]))
                .collect::<String>()
        };
        let token_secret = format!(
            "{}-{}-{}-{}-{}",
            hex(&mut rng, 8),
            hex(&mut rng, 4),
            hex(&mut rng, 4),
            hex(&mut rng, 4),
            hex(&mut rng, 12)
        );
        SimCredentials {
            token_id: format!("{user}!pulse"),
            token_secret,
            user: user.to_owned(),
            password: Alphanumeric.sample_string(&mut rng, 20),
        }
    }
}

/// Fault injection, adjustable while the simulator runs (share it with `Arc`).
#[derive(Debug, Default)]
pub struct Faults {
    latency_ms: AtomicU64,
    error_permille: AtomicU32,
    garbage: AtomicBool,
    html: AtomicBool,
    hang: AtomicBool,
    auth_failure: AtomicBool,
    fail_next: AtomicU32,
    fail_status: AtomicU32,
    requests: AtomicU64,
}

impl Faults {
    /// Delays every answer by `latency`.
    pub fn set_latency(&self, latency: Duration) {
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self.latency_ms.store(ms, Ordering::SeqCst);
    }

    /// Answers this fraction (0..=1) of requests with a random 500 or 503.
    pub fn set_error_rate(&self, fraction: f64) {
        let permille = (fraction.clamp(0.0, 1.0) * 1000.0).round() as u32;
        self.error_permille.store(permille, Ordering::SeqCst);
    }

    /// Answers 200 with a truncated, non-JSON body.
    pub fn set_garbage(&self, on: bool) {
        self.garbage.store(on, Ordering::SeqCst);
    }

    /// Answers 200 with an HTML page (a proxy or the wrong port).
    pub fn set_html(&self, on: bool) {
        self.html.store(on, Ordering::SeqCst);
    }

    /// Never answers.
    pub fn set_hang(&self, on: bool) {
        self.hang.store(on, Ordering::SeqCst);
    }

    /// Rejects every credential with 401.
    pub fn set_auth_failure(&self, on: bool) {
        self.auth_failure.store(on, Ordering::SeqCst);
    }

    /// Answers the next `count` requests with `status`.
    pub fn fail_next(&self, count: u32, status: u16) {
        self.fail_status.store(u32::from(status), Ordering::SeqCst);
        self.fail_next.store(count, Ordering::SeqCst);
    }

    /// Turns every fault off.
    pub fn clear(&self) {
        self.set_latency(Duration::ZERO);
        self.set_error_rate(0.0);
        self.set_garbage(false);
        self.set_html(false);
        self.set_hang(false);
        self.set_auth_failure(false);
        self.fail_next(0, 0);
    }

    /// Requests received so far (any path, any outcome).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Takes one of the "fail next" answers, if any are left.
    fn take_forced_failure(&self) -> Option<u16> {
        self.fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .ok()
            .and_then(|_| u16::try_from(self.fail_status.load(Ordering::SeqCst)).ok())
    }
}

/// Which product's auth conventions a simulator follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Proxmox VE: `PVEAPIToken=id=secret`, cookie `PVEAuthCookie`.
    Pve,
    /// Proxmox Backup Server: `PBSAPIToken=id:secret`, cookie `PBSAuthCookie`.
    Pbs,
    /// Proxmox Mail Gateway: `PMGAPIToken=id:secret`, cookie `PMGAuthCookie`.
    Pmg,
}

impl Flavor {
    /// `PVE`, `PBS` or `PMG`.
    fn prefix(self) -> &'static str {
        match self {
            Flavor::Pve => "PVE",
            Flavor::Pbs => "PBS",
            Flavor::Pmg => "PMG",
        }
    }

    /// Separator between token id and secret.
    fn separator(self) -> char {
        match self {
            Flavor::Pve => '=',
            Flavor::Pbs | Flavor::Pmg => ':',
        }
    }
}

/// One request as a route sees it.
#[derive(Debug)]
pub struct ApiRequest<'a> {
    /// Method.
    pub method: &'a Method,
    /// Path segments after `/api2/json`, percent-decoded.
    pub segments: Vec<String>,
    /// Query parameters.
    pub query: HashMap<String, String>,
}

impl ApiRequest<'_> {
    /// The segments as `&str`s, for matching.
    pub fn parts(&self) -> Vec<&str> {
        self.segments.iter().map(String::as_str).collect()
    }

    /// A query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }
}

/// What a route answers.
pub enum Reply {
    /// 200 with `{"data": value}`.
    Data(Value),
    /// A Proxmox-style error status with a message.
    Error(u16, String),
    /// A complete response (streams).
    Raw(HttpResponse),
}

/// The shared request pipeline of a simulator.
#[derive(Debug)]
pub struct ApiFrame {
    flavor: Flavor,
    credentials: SimCredentials,
    faults: Arc<Faults>,
    /// Issued tickets and their CSRF tokens.
    tickets: Mutex<HashMap<String, String>>,
}

impl ApiFrame {
    /// A frame accepting `credentials` the way `flavor` does, with `faults` applied.
    pub fn new(flavor: Flavor, credentials: SimCredentials, faults: Arc<Faults>) -> Self {
        ApiFrame {
            flavor,
            credentials,
            faults,
            tickets: Mutex::new(HashMap::new()),
        }
    }

    /// Runs a request through faults, login, auth and the CSRF check, then `route`.
    pub async fn serve(
        &self,
        req: &HttpRequest,
        body: &web::Bytes,
        route: impl FnOnce(&ApiRequest<'_>) -> Reply,
    ) -> HttpResponse {
        let faults = &self.faults;
        faults.requests.fetch_add(1, Ordering::SeqCst);
        let latency = faults.latency_ms.load(Ordering::SeqCst);
        if latency > 0 {
            actix_web::rt::time::sleep(Duration::from_millis(latency)).await;
        }
        if faults.hang.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        if let Some(status) = faults.take_forced_failure() {
            return error(status, "simulated failure");
        }
        let permille = faults.error_permille.load(Ordering::SeqCst);
        if permille > 0 && rand::thread_rng().gen_range(0..1000) < permille {
            let status = if rand::thread_rng().gen_bool(0.5) {
                500
            } else {
                503
            };
            return error(status, "simulated server error");
        }
        let Some(rest) = req.path().strip_prefix("/api2/json") else {
            return html_page();
        };
        if faults.html.load(Ordering::SeqCst) {
            return html_page();
        }
        let segments: Vec<String> = rest
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        let query = web::Query::<HashMap<String, String>>::from_query(req.query_string())
            .map(web::Query::into_inner)
            .unwrap_or_default();
        let request = ApiRequest {
            method: req.method(),
            segments,
            query,
        };
        if request.parts() == ["access", "ticket"] && req.method() == Method::POST {
            return self.login(req, body);
        }
        if let Some(refusal) = self.refusal(req) {
            return refusal;
        }
        if faults.garbage.load(Ordering::SeqCst) {
            return HttpResponse::Ok()
                .content_type(ContentType::json())
                .body(&b"{\"data\": [{\"node\": \"pve1\", \"cpu\": 0.1\x00\xfe\xff garbage"[..]);
        }
        match route(&request) {
            Reply::Data(data) => envelope(data),
            Reply::Error(status, message) => error(status, &message),
            Reply::Raw(response) => response,
        }
    }

    /// Checks the token header, or the ticket cookie plus (for writes) the CSRF token; the
    /// answer refusing the request, or `None` when it may proceed.
    fn refusal(&self, req: &HttpRequest) -> Option<HttpResponse> {
        let denied = || Some(error(401, "authentication failure"));
        if self.faults.auth_failure.load(Ordering::SeqCst) {
            return denied();
        }
        let prefix = self.flavor.prefix();
        if let Some(auth) = header_str(req, header::AUTHORIZATION) {
            let expected = format!(
                "{prefix}APIToken={}{}{}",
                self.credentials.token_id,
                self.flavor.separator(),
                self.credentials.token_secret
            );
            return if auth == expected { None } else { denied() };
        }
        let cookie_name = format!("{prefix}AuthCookie=");
        let ticket = header_str(req, header::COOKIE).and_then(|cookies| {
            cookies
                .split(';')
                .map(str::trim)
                .find_map(|c| c.strip_prefix(cookie_name.as_str()))
                .map(str::to_owned)
        });
        let Some(ticket) = ticket else {
            return denied();
        };
        let csrf = self
            .tickets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&ticket)
            .cloned();
        let Some(csrf) = csrf else {
            return denied();
        };
        if req.method() != Method::GET
            && header_str(req, header::HeaderName::from_static("csrfpreventiontoken"))
                != Some(csrf.as_str())
        {
            return Some(error(401, "permission denied - invalid csrf token"));
        }
        None
    }

    /// `POST /access/ticket` with `username`/`password` as JSON or form.
    fn login(&self, req: &HttpRequest, body: &web::Bytes) -> HttpResponse {
        let json_body = header_str(req, header::CONTENT_TYPE)
            .is_some_and(|ct| ct.starts_with("application/json"));
        let fields: HashMap<String, String> = if json_body {
            serde_json::from_slice::<HashMap<String, Value>>(body)
                .map(|m| {
                    m.into_iter()
                        .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
                        .collect()
                })
                .unwrap_or_default()
        } else {
            web::Query::<HashMap<String, String>>::from_query(&String::from_utf8_lossy(body))
                .map(web::Query::into_inner)
                .unwrap_or_default()
        };
        let ok = !self.faults.auth_failure.load(Ordering::SeqCst)
            && fields.get("username") == Some(&self.credentials.user)
            && fields.get("password") == Some(&self.credentials.password);
        if !ok {
            return error(401, "authentication failure");
        }
        let mut rng = rand::thread_rng();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let ticket = format!(
            "{}:{}:{now:08X}::{}==",
            self.flavor.prefix(),
            self.credentials.user,
            Alphanumeric.sample_string(&mut rng, 64)
        );
        let csrf = format!("{now:08X}:{}", Alphanumeric.sample_string(&mut rng, 43));
        self.tickets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(ticket.clone(), csrf.clone());
        envelope(json!({
            "username": self.credentials.user,
            "ticket": ticket,
            "CSRFPreventionToken": csrf,
        }))
    }
}

/// A header as text.
fn header_str(req: &HttpRequest, name: header::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// `{"data": data}` with status 200.
pub fn envelope(data: Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(json!({ "data": data }).to_string())
}

/// A Proxmox-style error: the status, and `{"data": null, "message": …}`.
pub fn error(status: u16, message: &str) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .content_type(ContentType::json())
        .body(json!({"data": null, "message": message}).to_string())
}

/// The web UI's HTML page, as a wrong path or port would serve it.
fn html_page() -> HttpResponse {
    HttpResponse::Ok().content_type(ContentType::html()).body(
        "<!DOCTYPE html><html><head><title>Proxmox</title></head><body>web interface</body></html>",
    )
}

/// Decodes `%XX` escapes of a path segment (invalid escapes are kept as they are).
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match decoded {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
