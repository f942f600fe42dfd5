//! Sends rendered webhook requests through an HTTP client that enforces the SSRF guard at connect
//! time, follows at most three redirects (each re-checked), never uses a proxy and reads at most
//! 1 MiB of any answer. Adds `X-Pulse-Event-ID` and, with a signing secret, `X-Pulse-Timestamp`
//! and `X-Pulse-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.

use std::error::Error as StdError;
use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::redirect::Policy;
use sha2::Sha256;

use super::queue::{AttemptFailure, FailureClass};
use super::ssrf::{ForbiddenAddress, SsrfGuard};
use super::templates::Rendered;
use crate::error::{Error, Result};

/// Timeout of one delivery (upstream: 30 s).
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);
/// Timeout of a test request (upstream: 10 s).
pub const TEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Most bytes of an answer that are read.
const MAX_RESPONSE: usize = 1024 * 1024;
/// Most bytes of an answer kept for the test endpoint and error texts.
pub const BODY_EXCERPT: usize = 4096;
/// Redirects followed at most (each one re-checked by the guard).
const MAX_REDIRECTS: usize = 3;

/// What the receiver answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The start of the body (at most [`BODY_EXCERPT`] bytes, lossy UTF-8).
    pub body: String,
}

/// An HTTP client for webhooks behind the SSRF guard.
#[derive(Clone, Debug)]
pub struct WebhookClient {
    client: reqwest::Client,
    guard: SsrfGuard,
}

impl WebhookClient {
    /// A client enforcing `guard`, with the given overall timeout per request.
    pub fn new(guard: SsrfGuard, timeout: Duration) -> Result<Self> {
        let redirect_guard = guard.clone();
        let policy = Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                attempt.error("too many redirects")
            } else if redirect_guard.check_url(attempt.url().as_str()).is_err() {
                attempt.error("redirect to a forbidden address")
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .dns_resolver(guard.resolver())
            .no_proxy()
            .redirect(policy)
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("Pulse/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Internal(format!("webhook client: {e}")))?;
        Ok(WebhookClient { client, guard })
    }

    /// The guard this client enforces.
    pub fn guard(&self) -> &SsrfGuard {
        &self.guard
    }

    /// Sends one request. `Ok` is any answer with a 2xx status; everything else is a classified
    /// failure (a non-2xx answer keeps its status and body excerpt in the failure).
    pub async fn send(
        &self,
        request: &Rendered,
        event_id: &str,
        signing_secret: Option<&str>,
    ) -> std::result::Result<Answer, (AttemptFailure, Option<Answer>)> {
        let url = self.guard.check_url(&request.url).map_err(|e| {
            (
                AttemptFailure::new(FailureClass::Configuration, e.public_message()),
                None,
            )
        })?;
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|_| {
            (
                AttemptFailure::new(FailureClass::Configuration, "invalid HTTP method"),
                None,
            )
        })?;
        let mut headers = HeaderMap::new();
        for (k, v) in &request.headers {
            let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) else {
                return Err((
                    AttemptFailure::new(FailureClass::Configuration, format!("invalid header {k}")),
                    None,
                ));
            };
            headers.insert(name, value);
        }
        for (k, v) in pulse_headers(event_id, signing_secret, &request.body, unix_secs()) {
            if let Ok(value) = HeaderValue::from_str(&v) {
                headers.insert(HeaderName::from_static(k), value);
            }
        }
        let response = self
            .client
            .request(method, url)
            .headers(headers)
            .body(request.body.clone())
            .send()
            .await
            .map_err(|e| (classify_error(&e), None))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = read_capped(response).await;
        let answer = Answer { status, body };
        if (200..300).contains(&status) {
            return Ok(answer);
        }
        let class = match status {
            429 => FailureClass::RateLimited,
            401 | 403 => FailureClass::Authentication,
            408 | 425 => FailureClass::Connectivity,
            400..=499 => FailureClass::Rejected,
            500..=599 => FailureClass::Connectivity,
            _ => FailureClass::Unknown,
        };
        let failure = AttemptFailure {
            class,
            message: format!(
                "receiver answered {status}: {}",
                super::queue::truncate(&answer.body, 200)
            ),
            status: Some(status),
            retry_after: retry_after.filter(|_| matches!(status, 429 | 503)),
        };
        Err((failure, Some(answer)))
    }
}

/// The headers Pulse adds to every delivery: the event id, and the signature when a secret is set.
pub fn pulse_headers(
    event_id: &str,
    secret: Option<&str>,
    body: &[u8],
    unix_secs: u64,
) -> Vec<(&'static str, String)> {
    let mut out = vec![("x-pulse-event-id", event_id.to_owned())];
    if let Some(secret) = secret {
        let timestamp = unix_secs.to_string();
        out.push(("x-pulse-timestamp", timestamp.clone()));
        out.push((
            "x-pulse-signature",
            format!("v1={}", sign(secret, &timestamp, body)),
        ));
    }
    out
}

/// `hex(HMAC-SHA256(secret, timestamp + "." + body))`.
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `Retry-After` as seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

/// Reads at most [`MAX_RESPONSE`] bytes and keeps the first [`BODY_EXCERPT`].
async fn read_capped(mut response: reqwest::Response) -> String {
    let mut kept = Vec::new();
    let mut read = 0usize;
    while let Ok(Some(chunk)) = response.chunk().await {
        read += chunk.len();
        if kept.len() < BODY_EXCERPT {
            let room = BODY_EXCERPT - kept.len();
            kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
        if read >= MAX_RESPONSE {
            break;
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// Classifies a transport error; the text never contains the URL (it may hold a token).
fn classify_error(e: &reqwest::Error) -> AttemptFailure {
    let mut chain = Vec::new();
    let mut source: Option<&(dyn StdError + 'static)> = e.source();
    let mut forbidden = false;
    while let Some(s) = source {
        if s.downcast_ref::<ForbiddenAddress>().is_some() {
            forbidden = true;
        }
        chain.push(s.to_string());
        source = s.source();
    }
    let detail = chain.join(": ");
    let lower = detail.to_ascii_lowercase();
    let class = if forbidden || lower.contains("forbidden address") {
        FailureClass::Configuration
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        FailureClass::Tls
    } else if e.is_timeout() || e.is_connect() || e.is_request() || e.is_body() {
        FailureClass::Connectivity
    } else if e.is_redirect() {
        FailureClass::Configuration
    } else {
        FailureClass::Unknown
    };
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_redirect() {
        "redirect refused"
    } else {
        "request failed"
    };
    let message = if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {detail}")
    };
    AttemptFailure::new(class, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_of_timestamp_dot_body() {
        // RFC 4231-style check against an independently computed value.
        let sig = sign("key", "1700000000", b"{}");
        assert_eq!(sig.len(), 64);
        let mut mac = Hmac::<Sha256>::new_from_slice(b"key").expect("key");
        mac.update(b"1700000000.{}");
        assert_eq!(sig, hex::encode(mac.finalize().into_bytes()));
        let headers = pulse_headers("a:fired-1", Some("key"), b"{}", 1_700_000_000);
        assert_eq!(headers[0], ("x-pulse-event-id", "a:fired-1".to_owned()));
        assert_eq!(headers[1], ("x-pulse-timestamp", "1700000000".to_owned()));
        assert_eq!(headers[2].1, format!("v1={sig}"));
        assert_eq!(pulse_headers("a:fired-1", None, b"{}", 1).len(), 1);
    }

    #[test]
    fn retry_after_parses_seconds_and_dates() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
