//! Alerts and notifications end to end (SPEC §5, §6, §10): real agent reports through the server
//! to a real loopback webhook receiver and a real SMTP server; the alert API, WebSocket frames,
//! retries, the dead-letter queue and the SSRF guard.

mod common;

use std::time::Duration;

use common::receiver::{Answer, Receiver};
use common::smtp::SmtpSink;
use common::ws::{connect, next_json};
use common::{client, expect_error, TestServer};
use hmac::{Hmac, Mac};
use pulse::config::Cidr;
use pulse::sim::agents::host_report;
use serde_json::{json, Value};
use sha2::Sha256;

const WAIT: Duration = Duration::from_secs(20);

/// A server whose webhooks may reach loopback receivers.
fn server() -> TestServer {
    TestServer::start_with(|s| {
        s.webhook_allowed_cidrs = vec![Cidr::parse("127.0.0.0/8").expect("cidr")];
    })
}

/// JSON calls with one token.
struct Api<'a> {
    srv: &'a TestServer,
    token: String,
}

impl<'a> Api<'a> {
    /// A client of `srv` with a token holding every scope.
    fn admin(srv: &'a TestServer) -> Self {
        Api {
            srv,
            token: srv.token(&["*"], None),
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = client()
            .request(method, self.srv.url(path))
            .header("X-API-Token", &self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.expect("request")
    }

    async fn get(&self, path: &str) -> Value {
        let resp = self.call(reqwest::Method::GET, path, None).await;
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.expect("json")
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> reqwest::Response {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }

    /// Alerts fire at once and notify without batching (unless `grouping` is set).
    async fn fast_config(&self, grouping_seconds: Option<u64>) {
        let grouping = match grouping_seconds {
            Some(s) => json!({"enabled": true, "windowSeconds": s}),
            None => json!({"enabled": false}),
        };
        let resp = self
            .put(
                "/api/alerts/config",
                json!({"delays": {"defaultSeconds": 0, "byType": {}},
                       "notifications": {"grouping": grouping, "cooldownMinutes": 0}}),
            )
            .await;
        assert_eq!(
            resp.status(),
            200,
            "{}",
            resp.text().await.unwrap_or_default()
        );
    }

    async fn webhook(&self, body: Value) -> String {
        let resp = self.post("/api/notifications/webhooks", body).await;
        assert_eq!(resp.status(), 201);
        let v: Value = resp.json().await.expect("json");
        v["id"].as_str().expect("id").to_owned()
    }

    /// Posts a host report of simulated host `seed` with the given CPU percent.
    async fn report(&self, agent_token: &str, seed: u64, tick: u64, cpu: f64) {
        let mut report = host_report(seed, tick);
        report["metrics"]["cpuUsagePercent"] = json!(cpu);
        let resp = client()
            .post(self.srv.url("/api/agents/agent/report"))
            .header("X-API-Token", agent_token)
            .json(&report)
            .send()
            .await
            .expect("report");
        assert_eq!(resp.status(), 200);
    }

    async fn active(&self) -> Vec<Value> {
        self.get("/api/alerts/active")
            .await
            .as_array()
            .cloned()
            .expect("array")
    }

    async fn wait_active(&self, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let now = self.active().await;
            if pred(&now) {
                return now;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "active alerts: {now:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

fn event_ids(requests: &[common::receiver::Received]) -> Vec<String> {
    requests
        .iter()
        .filter_map(|r| r.header("x-pulse-event-id").map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn threshold_crossing_reaches_the_webhook_signed_and_resolves_exactly_once() {
    let srv = server();
    let receiver = Receiver::start().await;
    let api = Api::admin(&srv);
    let agent = srv.token(&["agent:report"], None);
    api.fast_config(None).await;
    let hook = api
        .webhook(
            json!({"name": "ops", "url": receiver.url("/hook"), "service": "generic",
                        "signingSecret": "s3cret", "headers": {"X-Custom": "yes"}}),
        )
        .await;
    let listed = api.get("/api/notifications/webhooks").await;
    assert_eq!(listed[0]["id"], hook);
    assert_eq!(listed[0]["hasSigningSecret"], true);
    assert!(!listed.to_string().contains("s3cret"));

    let mut ws = connect(&srv.ws_url("/ws"), &api.token, &[])
        .await
        .expect("ws");
    assert_eq!(next_json(&mut ws).await["type"], "welcome");
    assert_eq!(next_json(&mut ws).await["type"], "initialState");

    api.report(&agent, 1, 0, 96.0).await;
    let got = receiver
        .wait_until(WAIT, "the firing notification", |r| !r.is_empty())
        .await;
    let fired = &got[0];
    assert_eq!(fired.method, "POST");
    assert_eq!(fired.path, "/hook");
    assert_eq!(fired.header("x-custom"), Some("yes"));
    let body = fired.json();
    assert_eq!(body["event"], "alert");
    assert_eq!(body["alertCount"], 1);
    let alert_id = body["alerts"][0]["id"]
        .as_str()
        .expect("alert id")
        .to_owned();
    assert_eq!(body["alerts"][0]["type"], "cpu");
    assert!(body["alerts"][0]["resource_name"]
        .as_str()
        .unwrap()
        .contains("sim-host-001"));
    let event_id = fired.header("x-pulse-event-id").expect("event id");
    assert!(
        event_id.starts_with(&format!("{alert_id}:fired-")),
        "{event_id}"
    );
    let timestamp = fired.header("x-pulse-timestamp").expect("timestamp");
    let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").expect("key");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(&fired.body);
    let expected = format!("v1={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(fired.header("x-pulse-signature"), Some(expected.as_str()));

    // The alert is active, in the history, and went to WebSocket clients as an `alert` frame.
    let active = api.active().await;
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["id"], alert_id.as_str());
    assert_eq!(active[0]["level"], "critical");
    loop {
        let frame = next_json(&mut ws).await;
        if frame["type"] == "alert" {
            assert_eq!(frame["data"]["id"], alert_id.as_str());
            break;
        }
    }
    let state = api.get("/api/state").await;
    assert_eq!(state["activeAlerts"][0]["id"], alert_id.as_str());

    // Back to normal: exactly one resolve, however many good reports follow.
    for tick in 1..4 {
        api.report(&agent, 1, tick, 10.0).await;
    }
    receiver
        .wait_until(WAIT, "the resolve notification", |r| {
            r.iter().any(|r| r.json()["event"] == "resolved")
        })
        .await;
    loop {
        let frame = next_json(&mut ws).await;
        if frame["type"] == "alertResolved" {
            assert_eq!(frame["data"]["alertIdentifier"], alert_id.as_str());
            break;
        }
    }
    for tick in 4..8 {
        api.report(&agent, 1, tick, 10.0).await;
    }
    // A later alert of another host is the marker that everything before it was delivered.
    api.report(&agent, 2, 0, 97.0).await;
    let all = receiver
        .wait_until(WAIT, "the marker alert", |r| r.len() >= 3)
        .await;
    let resolved: Vec<&str> = all
        .iter()
        .filter(|r| r.json()["event"] == "resolved")
        .filter_map(|r| r.header("x-pulse-event-id"))
        .collect();
    assert_eq!(resolved.len(), 1, "{:?}", event_ids(&all));
    assert!(resolved[0].starts_with(&format!("{alert_id}:resolved-")));
    assert!(api
        .active()
        .await
        .iter()
        .all(|a| a["id"] != alert_id.as_str()));

    let history = api
        .get(&format!(
            "/api/alerts/history?resourceId={}",
            active[0]["resourceId"].as_str().unwrap()
        ))
        .await;
    let events: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["event"].as_str().unwrap())
        .collect();
    assert!(
        events.contains(&"fired") && events.contains(&"resolved"),
        "{events:?}"
    );
    let resolved_entry = history
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["event"] == "resolved")
        .unwrap();
    assert!(resolved_entry["resolvedTime"].is_string());
}

#[tokio::test]
async fn saving_config_emits_nothing_and_bad_config_names_the_field() {
    let srv = server();
    let receiver = Receiver::start().await;
    let api = Api::admin(&srv);
    let agent = srv.token(&["agent:report"], None);
    api.webhook(json!({"name": "ops", "url": receiver.url("/")}))
        .await;
    // Defaults: 5 s delay. The alert is pending, then a config save must not fire anything.
    api.report(&agent, 3, 0, 99.0).await;
    let resp = api
        .put(
            "/api/alerts/config",
            json!({"thresholds": {"vm": {"cpu": {"trigger": 70, "clear": 90}}}}),
        )
        .await;
    let body = expect_error(resp, 400, "validation_error").await;
    assert!(
        body["details"]["field"].as_str().unwrap().contains("cpu"),
        "{body}"
    );
    let resp = api
        .put("/api/alerts/config", json!({"enabled": "yes"}))
        .await;
    expect_error(resp, 400, "validation_error").await;
    let resp = api
        .call(reqwest::Method::PUT, "/api/alerts/config", None)
        .await;
    assert!(resp.status().is_client_error());
    let config = api.get("/api/alerts/config").await;
    assert_eq!(config["delays"]["defaultSeconds"], 5);
    let resp = api.put("/api/alerts/config", config.clone()).await;
    assert_eq!(resp.status(), 200);
    assert!(receiver.requests().is_empty());
    assert!(api.active().await.is_empty());

    // Reads and writes need their scopes.
    let reader = srv.token(&["monitoring:read"], None);
    let limited = Api {
        srv: &srv,
        token: reader,
    };
    assert_eq!(
        limited
            .call(reqwest::Method::GET, "/api/alerts/active", None)
            .await
            .status(),
        200
    );
    expect_error(
        limited
            .call(reqwest::Method::GET, "/api/alerts/config", None)
            .await,
        403,
        "missing_scope",
    )
    .await;
    expect_error(
        limited
            .post("/api/alerts/acknowledge", json!({"id": "x"}))
            .await,
        403,
        "missing_scope",
    )
    .await;
    expect_error(
        limited
            .call(reqwest::Method::GET, "/api/notifications/webhooks", None)
            .await,
        403,
        "missing_scope",
    )
    .await;
    let resp = api
        .call(reqwest::Method::GET, "/api/alerts/history?limit=5000", None)
        .await;
    expect_error(resp, 400, "validation_error").await;
    let resp = api
        .call(reqwest::Method::GET, "/api/alerts/history?level=loud", None)
        .await;
    expect_error(resp, 400, "validation_error").await;
}

#[tokio::test]
async fn acknowledge_unacknowledge_and_clear() {
    let srv = server();
    let api = Api::admin(&srv);
    let agent = srv.token(&["agent:report"], None);
    api.fast_config(None).await;
    api.report(&agent, 4, 0, 95.0).await;
    let active = api.wait_active(|a| !a.is_empty()).await;
    let id = active[0]["id"].as_str().unwrap().to_owned();

    let resp = api.post("/api/alerts/acknowledge", json!({"id": id})).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["alert"]["acknowledged"], true);
    let active = api.active().await;
    assert_eq!(active[0]["acknowledged"], true);
    assert!(active[0]["ackUser"].as_str().unwrap().starts_with("token:"));
    assert!(active[0]["ackTime"].is_string());

    let resp = api
        .post("/api/alerts/unacknowledge", json!({"id": id}))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(api.active().await[0]["acknowledged"], false);

    let resp = api.post("/api/alerts/clear", json!({"id": id})).await;
    assert_eq!(resp.status(), 200);
    assert!(api.active().await.is_empty());
    // Still breaching, but cleared by hand: it stays quiet.
    api.report(&agent, 4, 1, 95.0).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(api.active().await.is_empty());

    let history = api.get("/api/alerts/history?limit=10").await;
    let events: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["cleared", "unacknowledged", "acknowledged", "fired"]
    );
    let only_cpu = api.get("/api/alerts/history?type=cpu&level=critical").await;
    assert_eq!(only_cpu.as_array().unwrap().len(), 4);
    let none = api.get("/api/alerts/history?type=memory").await;
    assert!(none.as_array().unwrap().is_empty());

    expect_error(
        api.post("/api/alerts/acknowledge", json!({"id": "nope"}))
            .await,
        404,
        "not_found",
    )
    .await;
    expect_error(
        api.post("/api/alerts/acknowledge", json!({"alert": id}))
            .await,
        400,
        "validation_error",
    )
    .await;
    let resp = client()
        .post(srv.url("/api/alerts/clear"))
        .header("X-API-Token", &api.token)
        .header("Content-Type", "application/json")
        .body("{\"id\": ")
        .send()
        .await
        .unwrap();
    expect_error(resp, 400, "invalid_json").await;
}

#[tokio::test]
async fn grouped_alerts_render_one_item_each() {
    let srv = server();
    let receiver = Receiver::start().await;
    let api = Api::admin(&srv);
    let agent = srv.token(&["agent:report"], None);
    api.fast_config(Some(2)).await;
    api.webhook(json!({"name": "g", "url": receiver.url("/g")}))
        .await;
    api.webhook(json!({"name": "d", "url": receiver.url("/d"), "service": "discord"}))
        .await;
    for seed in 10..13 {
        api.report(&agent, seed, 0, 97.0).await;
    }
    let got = receiver
        .wait_until(WAIT, "one grouped message per webhook", |r| r.len() >= 2)
        .await;
    let generic = got.iter().find(|r| r.path == "/g").expect("generic");
    let body = generic.json();
    assert_eq!(body["alertCount"], 3, "{body}");
    let ids: Vec<&str> = body["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    let discord = got.iter().find(|r| r.path == "/d").expect("discord").json();
    assert_eq!(discord["embeds"].as_array().unwrap().len(), 3);
    // Nothing more: one message each.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.requests().len(), 2);
}

#[tokio::test]
async fn retry_after_is_honoured_and_dead_letters_can_be_retried() {
    let srv = server();
    let receiver = Receiver::start().await;
    let api = Api::admin(&srv);
    let agent = srv.token(&["agent:report"], None);
    api.fast_config(None).await;
    api.webhook(json!({"name": "r", "url": receiver.url("/r")}))
        .await;

    receiver.script([Answer {
        status: 429,
        headers: vec![("Retry-After".into(), "1".into())],
        body: "slow down".into(),
    }]);
    api.report(&agent, 20, 0, 97.0).await;
    let got = receiver
        .wait_until(WAIT, "the retried delivery", |r| r.len() >= 2)
        .await;
    assert_eq!(
        got[0].header("x-pulse-event-id"),
        got[1].header("x-pulse-event-id")
    );

    // A refused message is dead-lettered at once; retried from the DLQ it goes out again.
    receiver.script([Answer {
        status: 400,
        headers: Vec::new(),
        body: "bad payload".into(),
    }]);
    api.report(&agent, 21, 0, 97.0).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let dlq = loop {
        let dlq = api.get("/api/notifications/dlq").await;
        if dlq.as_array().is_some_and(|d| !d.is_empty()) {
            break dlq;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing dead-lettered"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_eq!(dlq[0]["lastFailure"], "rejected");
    assert_eq!(dlq[0]["lastStatus"], 400);
    assert_eq!(dlq[0]["attempts"], 1);
    let stats = api.get("/api/notifications/queue/stats").await;
    assert_eq!(stats["dlq"], 1);
    assert_eq!(stats["sent"], 1);
    let id = dlq[0]["id"].as_str().unwrap();
    let event_id = dlq[0]["eventId"].as_str().unwrap().to_owned();
    let resp = api
        .post("/api/notifications/dlq/retry", json!({"id": id}))
        .await;
    assert_eq!(resp.status(), 200);
    let got = receiver
        .wait_until(WAIT, "the retried dead letter", |r| {
            r.iter()
                .filter(|r| r.header("x-pulse-event-id") == Some(event_id.as_str()))
                .count()
                >= 2
        })
        .await;
    assert_eq!(got.len(), 4);
    let resp = api
        .post("/api/notifications/dlq/retry", json!({"id": id}))
        .await;
    expect_error(resp, 409, "conflict").await;
    let resp = api
        .post("/api/notifications/dlq/retry", json!({"id": "nope"}))
        .await;
    expect_error(resp, 404, "not_found").await;
}

#[tokio::test]
async fn a_disabled_webhook_gets_nothing_and_works_again_when_re_enabled() {
    let srv = server();
    let receiver = Receiver::start().await;
    let api = Api::admin(&srv);
    let agent = srv.token(&["agent:report"], None);
    api.fast_config(None).await;
    let a = api
        .webhook(json!({"name": "a", "url": receiver.url("/a")}))
        .await;
    api.webhook(json!({"name": "marker", "url": receiver.url("/marker")}))
        .await;
    let mut hook = json!({"name": "a", "url": receiver.url("/a"), "enabled": false});
    assert_eq!(
        api.put(&format!("/api/notifications/webhooks/{a}"), hook.clone())
            .await
            .status(),
        200
    );
    api.report(&agent, 30, 0, 97.0).await;
    receiver
        .wait_until(WAIT, "the marker", |r| !r.is_empty())
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(receiver.requests().iter().all(|r| r.path == "/marker"));

    hook["enabled"] = json!(true);
    assert_eq!(
        api.put(&format!("/api/notifications/webhooks/{a}"), hook)
            .await
            .status(),
        200
    );
    api.report(&agent, 31, 0, 97.0).await;
    receiver
        .wait_until(WAIT, "the re-enabled webhook", |r| {
            r.iter().any(|r| r.path == "/a")
        })
        .await;

    // Deleting it: 204, then 404.
    let resp = api
        .call(
            reqwest::Method::DELETE,
            &format!("/api/notifications/webhooks/{a}"),
            None,
        )
        .await;
    assert_eq!(resp.status(), 204);
    let resp = api
        .call(
            reqwest::Method::DELETE,
            &format!("/api/notifications/webhooks/{a}"),
            None,
        )
        .await;
    expect_error(resp, 404, "not_found").await;
}

#[tokio::test]
async fn test_endpoint_shows_the_remote_status_and_body() {
    let srv = server();
    let receiver = Receiver::start().await;
    let api = Api::admin(&srv);
    receiver.script([Answer {
        status: 418,
        headers: Vec::new(),
        body: "I'm a teapot".into(),
    }]);
    let resp = api
        .post(
            "/api/notifications/webhooks/test",
            json!({"name": "t", "url": receiver.url("/t"), "service": "slack"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["success"], false);
    assert_eq!(v["status"], 418);
    assert_eq!(v["body"], "I'm a teapot");
    let id = api
        .webhook(json!({"name": "t", "url": receiver.url("/t")}))
        .await;
    let v: Value = api
        .post("/api/notifications/webhooks/test", json!({"id": id}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["success"].as_bool(), v["status"].as_u64()),
        (Some(true), Some(200))
    );
    assert_eq!(v["body"], "ok");
    let sent = receiver.requests();
    assert_eq!(sent.len(), 2);
    assert!(sent[0].json()["blocks"].is_array(), "slack payload");

    let templates = api.get("/api/notifications/webhook-templates").await;
    let services: Vec<&str> = templates
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["service"].as_str().unwrap())
        .collect();
    assert_eq!(
        services,
        [
            "discord",
            "slack",
            "teams",
            "telegram",
            "gotify",
            "ntfy",
            "pushover",
            "pagerduty",
            "mattermost",
            "generic"
        ]
    );
    assert!(templates[0]["urlPattern"].is_string() && templates[0]["instructions"].is_string());

    // Bad webhooks are refused with the field named.
    let resp = api
        .post(
            "/api/notifications/webhooks",
            json!({"name": "p", "url": receiver.url("/"), "service": "pushover"}),
        )
        .await;
    let body = expect_error(resp, 400, "validation_error").await;
    assert_eq!(body["details"]["field"], "customFields.token");
    let resp = api
        .post(
            "/api/notifications/webhooks",
            json!({"name": "x", "url": "ftp://example.com/"}),
        )
        .await;
    expect_error(resp, 400, "webhook_url_forbidden").await;
}

#[tokio::test]
async fn loopback_webhooks_are_refused_without_the_allow_list() {
    let srv = TestServer::start();
    let receiver = Receiver::start().await;
    let api = Api::admin(&srv);
    for url in [
        receiver.url("/x"),
        format!("http://localhost:{}/x", receiver.addr.port()),
        "http://169.254.169.254/latest/meta-data".to_owned(),
        format!("http://[::1]:{}/x", receiver.addr.port()),
    ] {
        let resp = api
            .post(
                "/api/notifications/webhooks",
                json!({"name": "x", "url": url}),
            )
            .await;
        expect_error(resp, 400, "webhook_url_forbidden").await;
        let resp = api
            .post(
                "/api/notifications/webhooks/test",
                json!({"name": "x", "url": url}),
            )
            .await;
        expect_error(resp, 400, "webhook_url_forbidden").await;
    }
    // A name that passes the URL check but resolves to a forbidden address is refused when
    // connecting (the DNS-rebinding case): this machine's own host name, when it resolves to a
    // private or loopback address.
    let host = std::fs::read_to_string("/etc/hostname")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let resolved: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
        .await
        .map(|a| a.collect())
        .unwrap_or_default();
    let guard = pulse::notify::SsrfGuard::default();
    if !host.is_empty() && !resolved.is_empty() && resolved.iter().all(|a| !guard.permits(a.ip())) {
        let url = format!("http://{host}:{}/x", receiver.addr.port());
        let id = api.webhook(json!({"name": "rebind", "url": url})).await;
        let resp = api
            .post("/api/notifications/webhooks/test", json!({"id": id}))
            .await;
        expect_error(resp, 400, "webhook_url_forbidden").await;
    } else {
        eprintln!(
            "host name {host:?} does not resolve to a forbidden address; connect-time case skipped"
        );
    }
    assert!(receiver.requests().is_empty());
}

#[tokio::test]
async fn email_notifications_reach_a_real_smtp_server() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let srv = server();
    let api = Api::admin(&srv);
    let agent = srv.token(&["agent:report"], None);
    let config = json!({"enabled": true, "server": "127.0.0.1", "port": sink.port, "tls": "none",
                        "username": "", "password": "smtp-secret",
                        "from": "Pulse <pulse@example.com>", "to": ["ops@example.com"]});
    assert_eq!(
        api.put("/api/notifications/email", config).await.status(),
        200
    );
    let shown = api.get("/api/notifications/email").await;
    assert_eq!(shown["hasPassword"], true);
    assert!(!shown.to_string().contains("smtp-secret"));
    let resp = api
        .put(
            "/api/notifications/email",
            json!({"enabled": true, "to": ["nope"]}),
        )
        .await;
    expect_error(resp, 400, "validation_error").await;

    let v: Value = api
        .post("/api/notifications/test", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["success"], true, "{v}");
    let mails = sink.wait_for(1, WAIT).await;
    assert!(mails[0].contains("test notification"), "{}", mails[0]);

    api.fast_config(None).await;
    api.report(&agent, 40, 0, 97.0).await;
    let mails = sink.wait_for(2, WAIT).await;
    assert!(mails[1].contains("sim-host-040"), "{}", mails[1]);
    assert!(
        mails[1].contains("Subject: [Pulse] CRITICAL: cpu on sim-host-040"),
        "{}",
        mails[1]
    );
    assert!(mails[1].contains("To: ops@example.com"));
}
