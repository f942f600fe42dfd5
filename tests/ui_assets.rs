//! The embedded dashboard is served as a product needs it: correct content types, revalidation
//! with ETags, long caching for versioned vendor files, a Content-Security-Policy that admits the
//! page's inline import map by hash, client-side routes answered with the page, missing files and
//! API routes answered with JSON 404s; and `/api/security/status` tells the page what to show.

mod common;

use base64::Engine;
use common::{client, cookie_client, expect_error, TestServer, ADMIN_PASS, ADMIN_USER};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn assets_types_caching_and_fallbacks() {
    let srv = TestServer::start();
    let c = client();

    let index = c.get(srv.url("/")).send().await.unwrap();
    assert_eq!(index.status(), 200);
    assert_eq!(header(&index, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&index, "cache-control"), "no-cache");
    let csp = header(&index, "content-security-policy");
    let html = index.text().await.unwrap();
    let importmap = html
        .split("<script type=\"importmap\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .expect("inline import map");
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(importmap));
    assert!(csp.contains(&format!("'sha256-{hash}'")), "CSP {csp}");
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));

    let js = c.get(srv.url("/app/main.js")).send().await.unwrap();
    assert_eq!(js.status(), 200);
    assert_eq!(
        header(&js, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(header(&js, "x-content-type-options"), "nosniff");
    let etag = header(&js, "etag");
    assert!(etag.starts_with('"') && etag.len() > 10, "etag {etag}");
    let again = c
        .get(srv.url("/app/main.js"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());

    let css = c.get(srv.url("/style.css")).send().await.unwrap();
    assert_eq!(header(&css, "content-type"), "text/css; charset=utf-8");
    let vendor = c
        .get(srv.url("/vendor/preact-11.2.0.mjs"))
        .send()
        .await
        .unwrap();
    assert_eq!(vendor.status(), 200);
    assert_eq!(
        header(&vendor, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    let icon = c.get(srv.url("/favicon.svg")).send().await.unwrap();
    assert_eq!(header(&icon, "content-type"), "image/svg+xml");

    // Client-side routes reload into the app; missing files and API routes are JSON 404s.
    for route in ["/workloads", "/settings?tab=tokens", "/alerts/anything"] {
        let resp = c.get(srv.url(route)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{route}");
        assert!(
            resp.text().await.unwrap().contains("/app/main.js"),
            "{route}"
        );
    }
    expect_error(
        c.get(srv.url("/app/missing.js")).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
    expect_error(
        c.get(srv.url("/api/no-such-route")).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
    expect_error(
        c.post(srv.url("/workloads")).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn security_status_tells_the_page_what_to_show() {
    let srv = TestServer::start();
    let status = |c: reqwest::Client, token: Option<String>| {
        let url = srv.url("/api/security/status");
        async move {
            let mut req = c.get(url);
            if let Some(t) = token {
                req = req.header("X-API-Token", t);
            }
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 200);
            assert_eq!(header(&resp, "cache-control"), "no-store");
            resp.json::<Value>().await.unwrap()
        }
    };
    let anonymous = status(client(), None).await;
    assert_eq!(
        anonymous,
        json!({"setupRequired": false, "authenticated": false, "username": null, "orgId": null})
    );

    let browser = cookie_client();
    let login = browser
        .post(srv.url("/api/login"))
        .json(&json!({"username": ADMIN_USER, "password": ADMIN_PASS}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let signed_in = status(browser, None).await;
    assert_eq!(signed_in["authenticated"], true);
    assert_eq!(signed_in["username"], ADMIN_USER);
    assert_eq!(signed_in["orgId"], "default");

    let token = srv.token(&["monitoring:read"], None);
    let scripted = status(client(), Some(token)).await;
    assert_eq!(scripted["authenticated"], true);
    assert_eq!(scripted["username"], Value::Null);

    let bad = status(client(), Some("pulse_nonsense".into())).await;
    assert_eq!(bad["authenticated"], false);
}

#[tokio::test]
async fn setup_is_reported_pending_until_the_first_admin_exists() {
    let srv = TestServer::start_with(|s| {
        s.auth_user = None;
        s.auth_pass = None;
    });
    let c = client();
    let status: Value = c
        .get(srv.url("/api/security/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["setupRequired"], true);
    assert_eq!(status["authenticated"], false);
}

#[tokio::test]
async fn head_requests_get_headers_without_a_body() {
    let srv = TestServer::start();
    let resp = client().head(srv.url("/style.css")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-type"), "text/css; charset=utf-8");
    assert!(resp.bytes().await.unwrap().is_empty());
}
