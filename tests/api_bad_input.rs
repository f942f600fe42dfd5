//! Bad input on the core API: every error is the SPEC §5 JSON with the right status, and the
//! server keeps serving everyone else.

mod common;

use common::{client, expect_error, TestServer};

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let srv = TestServer::start();
    let c = client();
    expect_error(
        c.get(srv.url("/api/nope")).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
    expect_error(
        c.post(srv.url("/api/health")).send().await.unwrap(),
        405,
        "method_not_allowed",
    )
    .await;
    expect_error(
        c.delete(srv.url("/api/resources")).send().await.unwrap(),
        405,
        "method_not_allowed",
    )
    .await;
}

#[tokio::test]
async fn malformed_json_names_the_position() {
    let srv = TestServer::start();
    let resp = client()
        .post(srv.url("/api/login"))
        .header("content-type", "application/json")
        .body("{\"username\": \"admin\",\n \"password\": }")
        .send()
        .await
        .unwrap();
    let body = expect_error(resp, 400, "invalid_json").await;
    assert_eq!(body["details"]["line"], 2);
    assert!(body["details"]["column"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn wrong_types_and_unknown_fields_are_rejected() {
    let srv = TestServer::start();
    let c = client();
    let resp = c
        .post(srv.url("/api/login"))
        .json(&serde_json::json!({"username": 5, "password": "x"}))
        .send()
        .await
        .unwrap();
    expect_error(resp, 400, "validation_error").await;
    let token = srv.token(&["*"], None);
    let resp = c
        .post(srv.url("/api/security/tokens"))
        .header("X-API-Token", &token)
        .json(&serde_json::json!({"name": "x", "scopes": ["monitoring:read"], "colour": "red"}))
        .send()
        .await
        .unwrap();
    let body = expect_error(resp, 400, "validation_error").await;
    assert_eq!(body["details"]["field"], "colour");
}

#[tokio::test]
async fn oversized_body_is_413_and_server_keeps_serving() {
    let srv = TestServer::start();
    let c = client();
    let big = vec![b'a'; 8 * 1024 * 1024];
    let resp = c
        .post(srv.url("/api/login"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await;
    // The server may answer before reading the whole body, or close the connection after answering.
    if let Ok(resp) = resp {
        expect_error(resp, 413, "payload_too_large").await;
    }
    let ok = c.get(srv.url("/api/health")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let srv = TestServer::start();
    let resp = client()
        .post(srv.url("/api/login"))
        .header("content-type", "text/plain")
        .body("username=admin")
        .send()
        .await
        .unwrap();
    expect_error(resp, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn bad_tokens_and_missing_scopes() {
    let srv = TestServer::start();
    let c = client();
    expect_error(
        c.get(srv.url("/api/state")).send().await.unwrap(),
        401,
        "unauthorized",
    )
    .await;
    let resp = c
        .get(srv.url("/api/state"))
        .header(
            "X-API-Token",
            "pulse_0000000000000000000000000000000000000000000000000000000000000000",
        )
        .send()
        .await
        .unwrap();
    expect_error(resp, 401, "unauthorized").await;
    let resp = c
        .get(srv.url("/api/state"))
        .header("Authorization", "Bearer not-a-token")
        .send()
        .await
        .unwrap();
    expect_error(resp, 401, "unauthorized").await;
    let agent_only = srv.token(&["agent:report"], None);
    let resp = c
        .get(srv.url("/api/state"))
        .header("X-API-Token", &agent_only)
        .send()
        .await
        .unwrap();
    let body = expect_error(resp, 403, "missing_scope").await;
    assert_eq!(body["details"]["requiredScope"], "monitoring:read");
    let reader = srv.token(&["monitoring:read"], None);
    let resp = c
        .get(srv.url("/api/system/actors"))
        .header("Authorization", format!("Bearer {reader}"))
        .send()
        .await
        .unwrap();
    expect_error(resp, 403, "missing_scope").await;
    let resp = c
        .get(srv.url("/api/state"))
        .header("Authorization", format!("Bearer {reader}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn bad_query_parameters_are_400() {
    let srv = TestServer::start();
    let c = client();
    let token = srv.token(&["monitoring:read"], None);
    for (query, field) in [
        ("limit=1000", "limit"),
        ("limit=0", "limit"),
        ("page=abc", "page"),
        ("sort=colour", "sort"),
        ("order=sideways", "order"),
    ] {
        let resp = c
            .get(srv.url(&format!("/api/resources?{query}")))
            .header("X-API-Token", &token)
            .send()
            .await
            .unwrap();
        let body = expect_error(resp, 400, "validation_error").await;
        assert_eq!(body["details"]["field"], field, "{query}");
    }
    let resp = c
        .get(srv.url("/api/resources?colour=red"))
        .header("X-API-Token", &token)
        .send()
        .await
        .unwrap();
    expect_error(resp, 400, "invalid_query").await;
    let resp = c
        .get(srv.url("/api/resources/agent-0000000000000000"))
        .header("X-API-Token", &token)
        .send()
        .await
        .unwrap();
    expect_error(resp, 404, "not_found").await;
}
