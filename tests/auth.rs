//! Sessions, CSRF, API tokens, scopes, org binding and the login rate limit.

mod common;

use common::{client, cookie_client, expect_error, TestServer, ADMIN_PASS, ADMIN_USER};
use serde_json::json;

async fn login(srv: &TestServer, c: &reqwest::Client) -> String {
    let resp = c
        .post(srv.url("/api/login"))
        .json(&json!({"username": ADMIN_USER, "password": ADMIN_PASS, "rememberMe": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let cookies: Vec<String> = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("pulse_session="))
        .expect("session cookie");
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Lax"), "{session}");
    let csrf = cookies
        .iter()
        .find(|c| c.starts_with("pulse_csrf="))
        .expect("csrf cookie");
    assert!(
        !csrf.contains("HttpOnly"),
        "the UI must be able to read {csrf}"
    );
    csrf.trim_start_matches("pulse_csrf=")
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn session_login_csrf_and_logout() {
    let srv = TestServer::start();
    let c = cookie_client();
    let csrf = login(&srv, &c).await;
    assert_eq!(
        c.get(srv.url("/api/state")).send().await.unwrap().status(),
        200
    );
    // A mutating request with a session but without the CSRF header is refused.
    let resp = c
        .post(srv.url("/api/security/tokens"))
        .json(&json!({"name": "ci", "scopes": ["monitoring:read"]}))
        .send()
        .await
        .unwrap();
    expect_error(resp, 403, "forbidden").await;
    let resp = c
        .post(srv.url("/api/security/tokens"))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"name": "ci", "scopes": ["monitoring:read"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let resp = c
        .post(srv.url("/api/logout"))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    expect_error(
        c.get(srv.url("/api/state")).send().await.unwrap(),
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn wrong_password_is_401_and_lockout_after_five_failures() {
    let srv = TestServer::start();
    let c = client();
    for _ in 0..5 {
        let resp = c
            .post(srv.url("/api/login"))
            .json(&json!({"username": ADMIN_USER, "password": "wrong-password-1"}))
            .send()
            .await
            .unwrap();
        expect_error(resp, 401, "unauthorized").await;
    }
    let resp = c
        .post(srv.url("/api/login"))
        .json(&json!({"username": ADMIN_USER, "password": ADMIN_PASS}))
        .send()
        .await
        .unwrap();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    expect_error(resp, 429, "rate_limited").await;
    assert!(retry.unwrap().parse::<u64>().unwrap() > 0);
}

#[tokio::test]
async fn token_lifecycle_shows_raw_token_once() {
    let srv = TestServer::start();
    let c = client();
    let admin = srv.token(&["*"], None);
    let resp = c
        .post(srv.url("/api/security/tokens"))
        .header("X-API-Token", &admin)
        .json(&json!({"name": "grafana", "scopes": ["monitoring:read"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let created: serde_json::Value = resp.json().await.unwrap();
    let raw = created["token"].as_str().unwrap().to_owned();
    assert!(raw.starts_with(created["prefix"].as_str().unwrap()));
    assert_eq!(created["scopes"], json!(["monitoring:read"]));
    let id = created["id"].as_str().unwrap().to_owned();

    let list: serde_json::Value = c
        .get(srv.url("/api/security/tokens"))
        .header("X-API-Token", &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id.as_str())
        .unwrap();
    assert!(
        listed.get("token").is_none(),
        "raw token must not be listed"
    );
    assert!(!list.to_string().contains(&raw));

    let resp = c
        .get(srv.url("/api/state"))
        .header("X-API-Token", &raw)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // The new token cannot mint tokens (settings:write missing).
    let resp = c
        .post(srv.url("/api/security/tokens"))
        .header("X-API-Token", &raw)
        .json(&json!({"name": "x", "scopes": ["*"]}))
        .send()
        .await
        .unwrap();
    expect_error(resp, 403, "missing_scope").await;
    let resp = c
        .delete(srv.url(&format!("/api/security/tokens/{id}")))
        .header("X-API-Token", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = c
        .get(srv.url("/api/state"))
        .header("X-API-Token", &raw)
        .send()
        .await
        .unwrap();
    expect_error(resp, 401, "unauthorized").await;
}

#[tokio::test]
async fn unknown_scopes_are_rejected() {
    let srv = TestServer::start();
    let admin = srv.token(&["*"], None);
    let resp = client()
        .post(srv.url("/api/security/tokens"))
        .header("X-API-Token", &admin)
        .json(&json!({"name": "x", "scopes": ["monitoring:everything"]}))
        .send()
        .await
        .unwrap();
    let body = expect_error(resp, 400, "validation_error").await;
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("monitoring:everything"));
}

#[tokio::test]
async fn org_bound_token_cannot_reach_another_org() {
    let srv = TestServer::start();
    let c = client();
    let acme = srv.token(&["monitoring:read"], Some("acme"));
    // Bound to acme: the default org is out of reach, and asking for it leaks nothing.
    let resp = c
        .get(srv.url("/api/state"))
        .header("X-API-Token", &acme)
        .header("X-Pulse-Org-ID", "default")
        .send()
        .await
        .unwrap();
    expect_error(resp, 403, "forbidden").await;
    let resp = c
        .get(srv.url("/api/state"))
        .header("X-API-Token", &acme)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let state: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(state["resources"], json!([]));
    // An unbound token may not pick an org it is not a member of.
    let global = srv.token(&["monitoring:read"], None);
    let resp = c
        .get(srv.url("/api/state"))
        .header("X-API-Token", &global)
        .header("X-Pulse-Org-ID", "acme")
        .send()
        .await
        .unwrap();
    expect_error(resp, 403, "forbidden").await;
}
