//! `/api/truenas/connections` against the TrueNAS simulator: validation, write-only secrets, the
//! test button, a collector per connection that brings the appliance in (the DEGRADED pool as
//! warning, its native alerts on the appliance and as active alerts), and removal.

mod common;

use std::time::{Duration, Instant};

use common::{client, expect_error, TestServer};
use pulse::sim::truenas::{TruenasSim, TruenasSimConfig};
use serde_json::{json, Value};

fn connection(sim: &TruenasSim) -> Value {
    json!({"name": "nas", "host": sim.host(), "username": sim.credentials().username,
           "apiKey": sim.credentials().api_key, "fingerprint": sim.fingerprint(),
           "pollIntervalSeconds": 1})
}

#[tokio::test]
async fn truenas_connections_are_validated_polled_and_removed() {
    let server = TestServer::start();
    let sim = TruenasSim::start(TruenasSimConfig::default()).expect("truenas");
    let token = server.token(
        &["settings:read", "settings:write", "monitoring:read"],
        None,
    );
    let c = client();
    let send = |method: reqwest::Method, path: &str, body: Option<Value>| {
        let mut req = c
            .request(method, server.url(path))
            .header("X-API-Token", &token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send()
    };
    let post = |body: Value| {
        send(
            reqwest::Method::POST,
            "/api/truenas/connections",
            Some(body),
        )
    };

    let mut plain = connection(&sim);
    plain["useHttps"] = json!(false);
    let err = expect_error(post(plain).await.expect("send"), 400, "validation_error").await;
    assert_eq!(err["details"]["field"], "useHttps", "{err}");
    let no_creds = json!({"name": "nas", "host": sim.host()});
    let err = expect_error(post(no_creds).await.expect("send"), 400, "validation_error").await;
    assert_eq!(err["details"]["field"], "credentials", "{err}");
    let mut unknown = connection(&sim);
    unknown["flavour"] = json!("scale");
    expect_error(post(unknown).await.expect("send"), 400, "validation_error").await;

    // The test button: good credentials, then a wrong key (clear message, no secret echoed).
    let ok: Value = send(
        reqwest::Method::POST,
        "/api/truenas/connections/test",
        Some(connection(&sim)),
    )
    .await
    .expect("send")
    .json()
    .await
    .expect("json");
    assert_eq!(ok["success"], true, "{ok}");
    let mut wrong = connection(&sim);
    wrong["apiKey"] = json!("9-not-the-key");
    let failed: Value = send(
        reqwest::Method::POST,
        "/api/truenas/connections/test",
        Some(wrong),
    )
    .await
    .expect("send")
    .json()
    .await
    .expect("json");
    assert_eq!(failed["success"], false, "{failed}");
    assert!(!failed.to_string().contains("9-not-the-key"));

    let resp = post(connection(&sim)).await.expect("send");
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    let listing = send(reqwest::Method::GET, "/api/truenas/connections", None)
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(
        !listing.contains(&sim.credentials().api_key),
        "key listed: {listing}"
    );
    assert!(listing.contains("\"hasApiKey\":true"), "{listing}");

    // The appliance arrives through its collector: a DEGRADED pool is a warning, and the
    // appliance carries the native alerts that are not dismissed.
    let deadline = Instant::now() + Duration::from_secs(20);
    let appliance = loop {
        let page: Value = send(
            reqwest::Method::GET,
            "/api/resources?source=truenas&type=agent",
            None,
        )
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
        if let Some(a) = page["data"].as_array().and_then(|d| d.first()).cloned() {
            break a;
        }
        assert!(Instant::now() < deadline, "appliance never appeared");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let alerts = appliance["truenas"]["alerts"].as_array().expect("alerts");
    assert!(
        alerts.iter().any(|a| a["level"] == "CRITICAL"),
        "{appliance}"
    );
    assert!(alerts.iter().all(|a| a["dismissed"] == false));
    let pools: Value = send(
        reqwest::Method::GET,
        "/api/resources?source=truenas&type=storage&status=warning",
        None,
    )
    .await
    .expect("send")
    .json()
    .await
    .expect("json");
    assert!(
        pools["data"]
            .as_array()
            .expect("data")
            .iter()
            .any(|p| p["truenas"]["poolState"] == "DEGRADED"),
        "{pools}"
    );

    // The alert engine turns the appliance's critical native alert and the DEGRADED pool into
    // active alerts.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let active: Value = send(reqwest::Method::GET, "/api/alerts/active", None)
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        let list = active.as_array().cloned().unwrap_or_default();
        let native = list.iter().any(|a| {
            a["resourceId"] == appliance["id"]
                && a["type"].as_str().is_some_and(|t| t.starts_with("native-"))
                && a["level"] == "critical"
        });
        let pool = list.iter().any(|a| a["type"] == "zfs-pool-state");
        if native && pool {
            break;
        }
        assert!(Instant::now() < deadline, "alerts never raised: {active}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let resp = send(
        reqwest::Method::DELETE,
        &format!("/api/truenas/connections/{id}"),
        None,
    )
    .await
    .expect("send");
    assert_eq!(resp.status(), 204);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let page: Value = send(
            reqwest::Method::GET,
            "/api/resources?source=truenas&limit=1",
            None,
        )
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
        if page["meta"]["total"] == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "truenas resources still listed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let resp = send(
        reqwest::Method::DELETE,
        &format!("/api/truenas/connections/{id}"),
        None,
    )
    .await
    .expect("send");
    expect_error(resp, 404, "not_found").await;
}
