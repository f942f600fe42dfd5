//! JSON errors on every path: extractor error handlers and a middleware that turns any bare error
//! response (404 for unknown routes, 405, actix's own plain-text errors) into the SPEC §5 body.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use std::time::Instant;
use tracing::Instrument;

use crate::error::Error;
use crate::telemetry::names;

/// Largest JSON body accepted by the management API (agent reports have their own limits).
pub const JSON_BODY_LIMIT: usize = 64 * 1024;

/// The request id assigned to a request, stored in its extensions.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Maps a JSON extractor failure to the crate error (with the position of a syntax error).
pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let mapped = match err {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => Error::PayloadTooLarge { limit },
        JsonPayloadError::ContentType => {
            Error::UnsupportedMediaType("expected application/json".to_owned())
        }
        JsonPayloadError::Deserialize(e) if e.is_data() => Error::Validation {
            field: field_of(&e.to_string()),
            message: e.to_string(),
        },
        JsonPayloadError::Deserialize(e) => Error::InvalidJson {
            message: e.to_string(),
            line: e.line(),
            column: e.column(),
        },
        other => Error::InvalidJson {
            message: other.to_string(),
            line: 0,
            column: 0,
        },
    };
    mapped.into()
}

/// Best effort: serde messages name the field in backticks ("unknown field `x`", "missing field `y`").
fn field_of(message: &str) -> String {
    message
        .split('`')
        .nth(1)
        .map(str::to_owned)
        .unwrap_or_else(|| "body".to_owned())
}

/// Maps a query-string extractor failure to a 400 error.
pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    Error::InvalidQuery(err.to_string()).into()
}

/// Maps a path extractor failure to a 400 error.
pub fn path_error(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    Error::InvalidQuery(err.to_string()).into()
}

/// Extractor configuration: body limits and JSON error handlers, registered once on the app.
pub fn configure_extractors(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(JSON_BODY_LIMIT)
            .error_handler(json_error),
    )
    .app_data(web::QueryConfig::default().error_handler(query_error))
    .app_data(web::PathConfig::default().error_handler(path_error))
    .app_data(web::PayloadConfig::default().limit(JSON_BODY_LIMIT));
}

/// The fallback for unknown routes: a JSON 404.
pub async fn not_found(req: HttpRequest) -> Error {
    Error::NotFound(format!("route {} {}", req.method(), req.path()))
}

/// Middleware: request id, tracing span, metrics, and JSON bodies on every error response.
pub async fn observe(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64)
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    if req.headers().contains_key(header::UPGRADE) {
        // An upgrade's error reply is written on a connection in upgrade mode: keep it unencoded.
        req.headers_mut().remove(header::ACCEPT_ENCODING);
    }
    let method = req.method().to_string();
    let span = tracing::info_span!(
        "http",
        request_id = %request_id,
        method = %method,
        path = %req.path(),
        status = tracing::field::Empty,
        ms = tracing::field::Empty,
    );
    let res = next.call(req).instrument(span.clone()).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let mut res = ensure_json_error(res.map_into_boxed_body(), &request_id);
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut()
            .insert(header::HeaderName::from_static("x-request-id"), v);
    }
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    span.record("status", status);
    span.record("ms", elapsed.as_secs_f64() * 1000.0);
    if status >= 500 {
        tracing::warn!(parent: &span, "request failed");
    } else {
        tracing::debug!(parent: &span, "request served");
    }
    metrics::counter!(names::HTTP_REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status.to_string()).increment(1);
    metrics::histogram!(names::HTTP_DURATION, "method" => method, "route" => route)
        .record(elapsed.as_secs_f64());
    Ok(res)
}

/// Replaces a non-JSON error body with the compatible error JSON for its status.
fn ensure_json_error(res: ServiceResponse<BoxBody>, request_id: &str) -> ServiceResponse<BoxBody> {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json || status == StatusCode::SWITCHING_PROTOCOLS {
        return res;
    }
    let error = match status {
        StatusCode::NOT_FOUND => Error::NotFound("route".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => Error::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge {
            limit: JSON_BODY_LIMIT,
        },
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            Error::UnsupportedMediaType("unsupported content type".to_owned())
        }
        StatusCode::UNAUTHORIZED => Error::Unauthorized,
        StatusCode::FORBIDDEN => Error::Forbidden("forbidden".to_owned()),
        s if s.is_server_error() => Error::Internal(format!("status {s}")),
        _ => Error::InvalidQuery(format!("bad request ({status})")),
    };
    let mut body = error.body(Some(request_id));
    body["status_code"] = status.as_u16().into();
    let (req, old) = res.into_parts();
    let mut fresh = HttpResponse::build(status);
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fresh.append_header((name.clone(), value.clone()));
        }
    }
    ServiceResponse::new(req, fresh.json(body))
}
