//! Agent ingest routes (SPEC §5, platforms.md §5.1, **compatible**): host, Docker and Kubernetes
//! reports. The raw body is read with the wire limit, decoded (gzip stream-decoded with a cap, so a
//! bomb costs at most the decoded limit) and validated here; only a valid typed report reaches the
//! tenant's ingest actor.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;

use super::auth::{AgentReport, Authed, DockerReport, KubernetesReport};
use crate::error::{Error, Result};
use crate::monitor::ingest::{IngestDocker, IngestHost, IngestKubernetes};
use crate::sources::agent::{decode_body, parse_docker, parse_host, parse_kubernetes, ReportKind};

/// Registers the report routes (and the legacy host alias).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/agents/agent/report").post(host))
        .service(web::resource("/api/agents/host/report").post(host))
        .service(web::resource("/api/agents/docker/report").post(docker))
        .service(web::resource("/api/agents/kubernetes/report").post(kubernetes));
}

/// Reads the raw (still encoded) body, refusing it as soon as it exceeds the wire limit.
async fn read_capped(
    req: &HttpRequest,
    mut payload: web::Payload,
    kind: ReportKind,
) -> Result<Vec<u8>> {
    let limit = kind.wire_limit();
    let too_large = |actual: usize| Error::ReportTooLarge {
        dimension: "wire",
        limit,
        actual,
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(len) = declared.filter(|len| *len > limit) {
        return Err(too_large(len));
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(8 * 1024).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| Error::InvalidReport {
            field: "body".into(),
            message: format!("could not read the body: {e}"),
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(body.len() + chunk.len()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads, size-checks and decodes a report body.
async fn decoded(req: &HttpRequest, payload: web::Payload, kind: ReportKind) -> Result<Vec<u8>> {
    let raw = read_capped(req, payload, kind).await?;
    let encoding = match req.headers().get(header::CONTENT_ENCODING) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| Error::UnsupportedEncoding("(not text)".into()))?
                .to_owned(),
        ),
    };
    decode_body(kind, encoding.as_deref(), &raw)
}

/// Parses a large report (up to 10 MiB of JSON) on the blocking pool so the worker keeps serving.
async fn parse_off_worker<R: Send + 'static>(
    json: Vec<u8>,
    parse: fn(&[u8]) -> Result<R>,
) -> Result<R> {
    web::block(move || parse(&json))
        .await
        .map_err(|e| Error::Internal(format!("parser pool: {e}")))?
}

fn ingest_unavailable(e: actix::MailboxError) -> Error {
    Error::Unavailable(format!("agent ingest: {e}"))
}

async fn host(
    auth: Authed<AgentReport>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let json = decoded(&req, payload, ReportKind::Host).await?;
    let report = parse_host(&json)?;
    let reply = auth
        .tenant
        .agent_ingest()?
        .send(IngestHost(report))
        .await
        .map_err(ingest_unavailable)??;
    Ok(HttpResponse::Ok().json(reply))
}

async fn docker(
    auth: Authed<DockerReport>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let json = decoded(&req, payload, ReportKind::Docker).await?;
    let report = parse_off_worker(json, parse_docker).await?;
    let reply = auth
        .tenant
        .agent_ingest()?
        .send(IngestDocker(report))
        .await
        .map_err(ingest_unavailable)??;
    Ok(HttpResponse::Ok().json(reply))
}

async fn kubernetes(
    auth: Authed<KubernetesReport>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let json = decoded(&req, payload, ReportKind::Kubernetes).await?;
    let report = parse_off_worker(json, parse_kubernetes).await?;
    let reply = auth
        .tenant
        .agent_ingest()?
        .send(IngestKubernetes(report))
        .await
        .map_err(ingest_unavailable)??;
    Ok(HttpResponse::Ok().json(reply))
}
