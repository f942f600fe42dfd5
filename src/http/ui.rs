//! The embedded web UI (every file of `web-ui/`, compiled into the binary) and the JSON 404
//! fallback.
//!
//! Caching: files under `vendor/` carry their version in the name and are cached for a year;
//! everything else is revalidated on each load (`no-cache` + a content `ETag`, so an unchanged file
//! costs a 304). Any other GET outside the API answers `index.html`, so client-side routes such as
//! `/workloads` survive a reload. `index.html` carries a Content-Security-Policy that admits only
//! this origin's scripts plus its inline import map, by hash.

use std::sync::OnceLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use sha2::{Digest, Sha256};

use super::errors::not_found;

/// One embedded file.
struct Asset {
    /// Path below `web-ui/`, as requested after the leading `/`.
    path: &'static str,
    /// The file's bytes.
    body: &'static [u8],
}

macro_rules! assets {
    ($($path:literal),* $(,)?) => {
        &[$(Asset { path: $path, body: include_bytes!(concat!("../../web-ui/", $path)) }),*]
    };
}

/// Every file the UI serves. `tests::every_web_ui_file_is_embedded` keeps this list complete.
static ASSETS: &[Asset] = assets![
    "index.html",
    "style.css",
    "favicon.svg",
    "app/main.js",
    "app/html.js",
    "app/api.js",
    "app/merge.js",
    "app/store.js",
    "app/live.js",
    "app/catalog.js",
    "app/view.js",
    "app/format.js",
    "app/router.js",
    "app/perf.js",
    "app/features.js",
    "app/ui/table.js",
    "app/ui/badges.js",
    "app/ui/spark.js",
    "app/ui/chart.js",
    "app/ui/drawer.js",
    "app/ui/filters.js",
    "app/ui/notice.js",
    "app/ui/form.js",
    "app/ui/shell.js",
    "app/pages/login.js",
    "app/pages/resources.js",
    "app/pages/alerts.js",
    "app/pages/settings.js",
    "app/pages/endpoints.js",
    "app/pages/tokens.js",
    "app/pages/notifications.js",
    "app/pages/thresholds.js",
    "vendor/preact-11.2.0.mjs",
    "vendor/preact-hooks-11.2.0.mjs",
    "vendor/htm-3.1.1.mjs",
    "vendor/uplot-1.6.32.iife.min.js",
    "vendor/uplot-1.6.32.min.css",
    "vendor/LICENSE-preact",
    "vendor/LICENSE-htm",
    "vendor/LICENSE-uplot",
    "vendor/README.md",
];

const INDEX: &str = "index.html";

/// Registers the UI: every GET outside the API is answered here (assets, then `index.html`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.default_service(web::to(serve));
}

/// Total bytes of the JavaScript and CSS the dashboard can load (the page-weight budget).
pub fn script_and_style_bytes() -> usize {
    ASSETS
        .iter()
        .filter(|a| a.path.ends_with(".js") || a.path.ends_with(".mjs") || a.path.ends_with(".css"))
        .map(|a| a.body.len())
        .sum()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("md") => "text/markdown; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    }
}

/// Strong validators of every asset, computed once.
fn etags() -> &'static [String] {
    static ETAGS: OnceLock<Vec<String>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| format!("\"{}\"", &hex::encode(Sha256::digest(a.body))[..20]))
            .collect()
    })
}

/// The policy of `index.html`: this origin only, plus the inline scripts of the page by hash.
fn content_security_policy() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let html = ASSETS
            .iter()
            .find(|a| a.path == INDEX)
            .map(|a| String::from_utf8_lossy(a.body).into_owned())
            .unwrap_or_default();
        let hashes: Vec<String> = inline_scripts(&html)
            .map(|s| {
                let digest = Sha256::digest(s.as_bytes());
                format!(
                    "'sha256-{}'",
                    base64::engine::general_purpose::STANDARD.encode(digest)
                )
            })
            .collect();
        format!(
            "default-src 'self'; script-src 'self' {}; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'",
            hashes.join(" ")
        )
    })
}

/// The bodies of the inline `<script …>…</script>` elements of a page (those without `src`).
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attrs, after) = rest.split_once('>')?;
        if attrs.contains("src=") {
            return None;
        }
        after.split_once("</script>").map(|(body, _)| body)
    })
}

fn respond(req: &HttpRequest, index: usize) -> HttpResponse {
    let asset = &ASSETS[index];
    let etag = &etags()[index];
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut resp = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    resp.insert_header((header::ETAG, etag.as_str()))
        .insert_header(("X-Content-Type-Options", "nosniff"));
    if asset.path.starts_with("vendor/") {
        resp.insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"));
    } else {
        resp.insert_header((header::CACHE_CONTROL, "no-cache"));
    }
    if asset.path == INDEX {
        resp.insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(content_security_policy()),
        ))
        .insert_header(("Referrer-Policy", "same-origin"));
    }
    if fresh {
        return resp.finish();
    }
    // For HEAD, the server sends the headers (with the real length) and no body.
    resp.content_type(content_type(asset.path)).body(asset.body)
}

/// Assets by path; other GETs outside the API get `index.html` (client-side routes); the rest a
/// JSON 404.
async fn serve(req: HttpRequest) -> actix_web::Result<HttpResponse> {
    let path = req.path();
    let readable = req.method() == Method::GET || req.method() == Method::HEAD;
    let api = path.starts_with("/api/")
        || path == "/api"
        || path == "/ws"
        || path.starts_with("/metrics");
    if readable && !api {
        let wanted = path.trim_start_matches('/');
        let index = ASSETS
            .iter()
            .position(|a| a.path == wanted && a.path != INDEX)
            .or_else(|| ASSETS.iter().position(|a| a.path == INDEX));
        if let Some(index) = index {
            // An unknown path with a file extension is a missing asset, not a client route.
            let missing_file = ASSETS[index].path == INDEX
                && !wanted.is_empty()
                && wanted != INDEX
                && wanted
                    .rsplit('/')
                    .next()
                    .is_some_and(|leaf| leaf.contains('.'));
            if !missing_file {
                return Ok(respond(&req, index));
            }
        }
    }
    Err(not_found(req).await.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn files_under(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("web-ui readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                files_under(&path, root, out);
            } else {
                let rel = path.strip_prefix(root).expect("below root");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }

    #[test]
    fn every_web_ui_file_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("web-ui");
        let mut on_disk = Vec::new();
        files_under(&root, &root, &mut on_disk);
        on_disk.sort();
        let mut embedded: Vec<String> = ASSETS.iter().map(|a| a.path.to_owned()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded, "web-ui/ and the asset table differ");
    }

    #[test]
    fn inline_scripts_are_found_and_external_ones_skipped() {
        let html = r#"<script type="importmap">{"a":1}</script><script src="/x.js"></script><script>go()</script>"#;
        let found: Vec<&str> = inline_scripts(html).collect();
        assert_eq!(found, [r#"{"a":1}"#, "go()"]);
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(
            content_type("app/main.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type("vendor/x.mjs"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("style.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("favicon.svg"), "image/svg+xml");
        assert_eq!(
            content_type("vendor/LICENSE-htm"),
            "text/plain; charset=utf-8"
        );
    }
}
