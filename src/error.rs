//! The one error enum of the `pulse` crate and its wire shape.
//!
//! Every variant maps to a stable, snake_case public `code` and an HTTP status. The JSON body is the
//! compatible shape of SPEC §5: `{error, code, status_code, timestamp, request_id?, details?}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{json, Value};

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the server, with a stable public code per variant.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request body is not valid JSON (or not the expected shape); position is 1-based.
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    InvalidJson {
        message: String,
        line: usize,
        column: usize,
    },
    /// A well-formed request carries a value that is not allowed.
    #[error("invalid value for '{field}': {message}")]
    Validation { field: String, message: String },
    /// A query string could not be parsed.
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// No or invalid credentials.
    #[error("authentication required")]
    Unauthorized,
    /// Credentials are valid but lack the required scope.
    #[error("token lacks the required scope '{0}'")]
    MissingScope(&'static str),
    /// Authenticated but not allowed (role, org binding, CSRF, origin).
    #[error("{0}")]
    Forbidden(String),
    /// The thing asked for does not exist (or must not be revealed).
    #[error("{0} not found")]
    NotFound(String),
    /// The route exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A body exceeds its size limit.
    #[error("payload too large: limit is {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// An agent report failed validation; names the offending field.
    #[error("invalid report: '{field}': {message}")]
    InvalidReport { field: String, message: String },
    /// An agent report exceeds a wire or decoded size limit.
    #[error(
        "report too large: {dimension} size {actual} bytes exceeds the limit of {limit} bytes"
    )]
    ReportTooLarge {
        dimension: &'static str,
        limit: usize,
        actual: usize,
    },
    /// A body used a `Content-Encoding` the route does not support.
    #[error("unsupported content encoding '{0}': send identity or gzip")]
    UnsupportedEncoding(String),
    /// An organisation is over an entitlement limit (max monitored systems, users).
    #[error("{0}")]
    LimitExceeded(String),
    /// A body arrived with a content type the route does not accept.
    #[error("unsupported content type: {0}")]
    UnsupportedMediaType(String),
    /// A rate limit was hit; retry after the given number of seconds.
    #[error("too many requests; retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// A webhook URL points somewhere the SSRF guard forbids (SPEC §10).
    #[error("webhook URL not allowed: {0}")]
    WebhookUrlForbidden(String),
    /// The request conflicts with existing state (duplicate name, etc.).
    #[error("{0}")]
    Conflict(String),
    /// A configuration key has a value that is not allowed (exit code 2 on the command line).
    #[error("invalid configuration: {key} = {value:?}: {allowed}")]
    Config {
        key: String,
        value: String,
        allowed: String,
    },
    /// The embedded store failed.
    #[error("storage error: {0}")]
    Store(String),
    /// An actor did not answer (mailbox closed or full).
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// An unexpected internal failure; the message is logged, not returned verbatim.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Shorthand for a [`Error::Validation`].
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The stable public code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidJson { .. } => "invalid_json",
            Error::Validation { .. } => "validation_error",
            Error::InvalidQuery(_) => "invalid_query",
            Error::Unauthorized => "unauthorized",
            Error::MissingScope(_) => "missing_scope",
            Error::Forbidden(_) => "forbidden",
            Error::NotFound(_) => "not_found",
            Error::MethodNotAllowed => "method_not_allowed",
            Error::PayloadTooLarge { .. } => "payload_too_large",
            Error::UnsupportedMediaType(_) => "unsupported_media_type",
            Error::InvalidReport { .. } => "invalid_report",
            Error::ReportTooLarge { .. } => "report_too_large",
            Error::UnsupportedEncoding(_) => "unsupported_encoding",
            Error::LimitExceeded(_) => "limit_exceeded",
            Error::RateLimited { .. } => "rate_limited",
            Error::WebhookUrlForbidden(_) => "webhook_url_forbidden",
            Error::Conflict(_) => "conflict",
            Error::Config { .. } => "invalid_config",
            Error::Store(_) => "store_error",
            Error::Unavailable(_) => "service_unavailable",
            Error::Internal(_) => "internal_error",
        }
    }

    /// Structured details for the error body, when the variant has any.
    pub fn details(&self) -> Option<Value> {
        match self {
            Error::InvalidJson { line, column, .. } => {
                Some(json!({"line": line, "column": column}))
            }
            Error::Validation { field, .. } => Some(json!({"field": field})),
            Error::WebhookUrlForbidden(_) => Some(json!({"field": "url"})),
            Error::MissingScope(scope) => Some(json!({"requiredScope": scope})),
            Error::InvalidReport { field, .. } => Some(json!({"field": field})),
            Error::ReportTooLarge {
                dimension,
                limit,
                actual,
            } => Some(json!({"dimension": dimension, "limitBytes": limit, "actualBytes": actual})),
            Error::PayloadTooLarge { limit } => Some(json!({"limitBytes": limit})),
            Error::RateLimited { retry_after_secs } => {
                Some(json!({"retryAfterSeconds": retry_after_secs}))
            }
            Error::Config {
                key,
                value,
                allowed,
            } => Some(json!({"key": key, "value": value, "allowed": allowed})),
            _ => None,
        }
    }

    /// The message shown to clients; internal failures are not echoed verbatim.
    pub fn public_message(&self) -> String {
        match self {
            Error::Store(_) => "storage error".to_owned(),
            Error::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        }
    }

    /// The compatible error body (SPEC §5) for this error.
    pub fn body(&self, request_id: Option<&str>) -> Value {
        let mut body = json!({
            "error": self.public_message(),
            "code": self.code(),
            "status_code": self.status_code().as_u16(),
            "timestamp": unix_now_secs(),
        });
        if let Some(id) = request_id {
            body["request_id"] = Value::from(id);
        }
        if let Some(details) = self.details() {
            body["details"] = details;
        }
        body
    }
}

/// Seconds since the Unix epoch, for error timestamps.
fn unix_now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        match self {
            Error::InvalidJson { .. } | Error::Validation { .. } | Error::InvalidQuery(_) => {
                StatusCode::BAD_REQUEST
            }
            Error::Config { .. } | Error::WebhookUrlForbidden(_) => StatusCode::BAD_REQUEST,
            Error::Unauthorized => StatusCode::UNAUTHORIZED,
            Error::MissingScope(_) | Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType(_) | Error::UnsupportedEncoding(_) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            Error::InvalidReport { .. } => StatusCode::BAD_REQUEST,
            Error::ReportTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::LimitExceeded(_) => StatusCode::PAYMENT_REQUIRED,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::Store(_) | Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if matches!(self, Error::Store(_) | Error::Internal(_)) {
            tracing::error!(error = %self, "request failed");
        }
        let mut resp = HttpResponse::build(self.status_code());
        if let Error::RateLimited { retry_after_secs } = self {
            resp.insert_header(("Retry-After", retry_after_secs.to_string()));
        }
        resp.json(self.body(None))
    }
}

impl From<sled::Error> for Error {
    fn from(e: sled::Error) -> Self {
        Error::Store(e.to_string())
    }
}

impl From<rmp_serde::encode::Error> for Error {
    fn from(e: rmp_serde::encode::Error) -> Self {
        Error::Store(format!("encode: {e}"))
    }
}

impl From<rmp_serde::decode::Error> for Error {
    fn from(e: rmp_serde::decode::Error) -> Self {
        Error::Store(format!("decode: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape_is_pinned() {
        let body = Error::PayloadTooLarge { limit: 1024 }.body(Some("req-1"));
        assert_eq!(body["code"], "payload_too_large");
        assert_eq!(body["status_code"], 413);
        assert_eq!(body["request_id"], "req-1");
        assert_eq!(body["details"]["limitBytes"], 1024);
        assert!(body["timestamp"].as_u64().is_some());
        assert!(body["error"].as_str().is_some());
    }

    #[test]
    fn internal_errors_do_not_leak_their_message() {
        let body = Error::Store("disk path /secret failed".into()).body(None);
        assert_eq!(body["error"], "storage error");
    }
}
