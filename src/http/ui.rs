//! The embedded web UI (compiled into the binary from `web-ui/`) and the JSON 404 fallback.

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};

use super::errors::not_found;

const INDEX_HTML: &str = include_str!("../../web-ui/index.html");
const APP_JS: &str = include_str!("../../web-ui/app.js");
const STYLE_CSS: &str = include_str!("../../web-ui/style.css");

/// Registers the UI assets and the fallback for everything unmatched.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").get(index))
        .service(web::resource("/app.js").get(|| asset("text/javascript; charset=utf-8", APP_JS)))
        .service(web::resource("/style.css").get(|| asset("text/css; charset=utf-8", STYLE_CSS)))
        .default_service(web::to(fallback));
}

async fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "no-cache"))
        .body(body)
}

async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(INDEX_HTML)
}

/// Unknown API routes answer JSON 404; other GETs get the UI (client-side routes).
async fn fallback(req: HttpRequest) -> actix_web::Result<HttpResponse> {
    let path = req.path();
    if req.method() == Method::GET
        && !path.starts_with("/api/")
        && path != "/ws"
        && !path.starts_with("/metrics")
    {
        return Ok(index().await);
    }
    Err(not_found(req).await.into())
}
