//! Collector actors end to end: endpoints added through `/api/config/nodes` against the PVE, PBS and
//! PMG simulators; validation and write-only secrets; failover and ticket login through the
//! collector; a hung endpoint, garbage and a panic each confined to their own actor; changes that
//! restart only the changed collector; removal that takes the endpoint's resources away.

mod common;

use std::time::{Duration, Instant};

use common::proxmox::dead_url;
use common::{client, expect_error, TestServer};
use pulse::monitor::collector::InjectPanic;
use pulse::sim::pbs::{PbsSim, PbsSimConfig};
use pulse::sim::pmg::{PmgSim, PmgSimConfig};
use pulse::sim::pve::{PveSim, PveSimConfig};
use serde_json::{json, Value};

/// A server whose platform requests time out after 2 s (so a hung endpoint is detected quickly).
fn server() -> TestServer {
    TestServer::start_with(|s| s.polling.connection_timeout = Duration::from_secs(2))
}

struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    fn new(server: &TestServer) -> Api {
        Api {
            base: server.base.clone(),
            token: server.token(
                &["settings:read", "settings:write", "monitoring:read"],
                None,
            ),
            http: client(),
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("X-API-Token", &self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.expect("request")
    }

    async fn get(&self, path: &str) -> Value {
        let resp = self.send(reqwest::Method::GET, path, None).await;
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.expect("json")
    }

    /// Adds a node and returns its id.
    async fn add(&self, body: Value) -> String {
        let resp = self
            .send(reqwest::Method::POST, "/api/config/nodes", Some(body))
            .await;
        assert_eq!(resp.status(), 201, "create: {:?}", resp.text().await);
        let node: Value = resp.json().await.expect("json");
        node["id"].as_str().expect("id").to_owned()
    }

    /// The collector node of endpoint `id` in `/api/system/actors`.
    async fn collector(&self, id: &str) -> Option<Value> {
        let tree = self.get("/api/system/actors").await;
        find(&tree, &|n| {
            n["kind"] == "collector"
                && n["name"]
                    .as_str()
                    .is_some_and(|s| s.ends_with(&format!(":{id}")))
        })
    }

    /// Waits until `check` holds for the collector of `id`.
    async fn wait_collector(&self, id: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(node) = self.collector(id).await {
                if check(&node) {
                    return node;
                }
                assert!(Instant::now() < deadline, "{what}: {node}");
            }
            assert!(Instant::now() < deadline, "{what}: collector {id} missing");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn count(&self, query: &str) -> u64 {
        let page = self.get(&format!("/api/resources?limit=1&{query}")).await;
        page["meta"]["total"].as_u64().expect("total")
    }
}

fn find(node: &Value, pred: &dyn Fn(&Value) -> bool) -> Option<Value> {
    if pred(node) {
        return Some(node.clone());
    }
    node["children"]
        .as_array()?
        .iter()
        .find_map(|c| find(c, pred))
}

fn healthy(n: &Value) -> bool {
    n["health"]["healthy"] == true
}

fn token_node(kind: &str, name: &str, url: &str, fp: &str, id: &str, secret: &str) -> Value {
    json!({"type": kind, "name": name, "host": url, "fingerprint": fp,
           "tokenName": id, "tokenValue": secret, "pollIntervalSeconds": 1})
}

fn pbs_node(sim: &PbsSim, name: &str) -> Value {
    let c = sim.credentials();
    token_node(
        "pbs",
        name,
        &sim.url(),
        sim.fingerprint(),
        &c.token_id,
        &c.token_secret,
    )
}

fn pmg_node(sim: &PmgSim, name: &str) -> Value {
    let c = sim.credentials();
    token_node(
        "pmg",
        name,
        &sim.url(),
        sim.fingerprint(),
        &c.token_id,
        &c.token_secret,
    )
}

#[tokio::test]
async fn node_api_validates_and_keeps_secrets_write_only() {
    let server = server();
    let api = Api::new(&server);
    let pbs = PbsSim::start(PbsSimConfig::default()).expect("pbs");
    let post = |body: Value| api.send(reqwest::Method::POST, "/api/config/nodes", Some(body));

    let mut bad_url = pbs_node(&pbs, "x");
    bad_url["host"] = json!("ftp://backup.lan");
    let err = expect_error(post(bad_url).await, 400, "validation_error").await;
    assert_eq!(err["details"]["field"], "host", "{err}");

    let mut plain_http = pbs_node(&pbs, "x");
    plain_http["host"] = json!("http://backup.lan:8007");
    let err = expect_error(post(plain_http).await, 400, "validation_error").await;
    assert_eq!(err["details"]["field"], "host", "{err}");

    let no_creds = json!({"type": "pbs", "name": "x", "host": pbs.url()});
    let err = expect_error(post(no_creds).await, 400, "validation_error").await;
    assert_eq!(err["details"]["field"], "credentials", "{err}");

    let mut half_token = pbs_node(&pbs, "x");
    half_token
        .as_object_mut()
        .expect("obj")
        .remove("tokenValue");
    let err = expect_error(post(half_token).await, 400, "validation_error").await;
    assert_eq!(err["details"]["field"], "tokenValue", "{err}");

    let mut unknown = pbs_node(&pbs, "x");
    unknown["colour"] = json!("blue");
    expect_error(post(unknown).await, 400, "validation_error").await;

    let wrong_type = json!({"type": "vmware", "name": "x", "host": pbs.url()});
    let err = expect_error(post(wrong_type).await, 400, "validation_error").await;
    assert_eq!(err["details"]["field"], "type", "{err}");

    let mut pve_flag_on_pmg = pbs_node(&pbs, "x");
    pve_flag_on_pmg["type"] = json!("pmg");
    pve_flag_on_pmg["monitorVMs"] = json!(false);
    let err = expect_error(post(pve_flag_on_pmg).await, 400, "validation_error").await;
    assert_eq!(err["details"]["field"], "monitorVMs", "{err}");

    let reader = server.token(&["settings:read"], None);
    let resp = client()
        .post(server.url("/api/config/nodes"))
        .header("X-API-Token", &reader)
        .json(&pbs_node(&pbs, "x"))
        .send()
        .await
        .expect("send");
    expect_error(resp, 403, "missing_scope").await;

    // A valid endpoint: created, polled, listed without its secret.
    let id = api.add(pbs_node(&pbs, "backup")).await;
    let err = expect_error(
        post(pbs_node(&pbs, "backup")).await,
        400,
        "validation_error",
    )
    .await;
    assert_eq!(err["details"]["field"], "name", "duplicate name: {err}");
    api.wait_collector(&id, "pbs polled", healthy).await;
    let secret = pbs.credentials().token_secret.clone();
    let listed = api
        .send(reqwest::Method::GET, "/api/config/nodes", None)
        .await;
    let text = listed.text().await.expect("text");
    assert!(!text.contains(&secret), "secret in listing: {text}");
    let nodes: Value = serde_json::from_str(&text).expect("json");
    let node = nodes
        .as_array()
        .expect("array")
        .iter()
        .find(|n| n["id"] == id.as_str())
        .expect("listed");
    assert_eq!(node["hasToken"], true);
    assert_eq!(node["source"], "api");
    assert!(node.get("tokenValue").is_none());
    assert!(api.count("type=storage&source=pbs").await > 0);

    // An update without the secret keeps it: the restarted collector still authenticates.
    let resp = api
        .send(
            reqwest::Method::PUT,
            &format!("/api/config/nodes/{id}"),
            Some(json!({"pollIntervalSeconds": 2})),
        )
        .await;
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    api.wait_collector(&id, "pbs polled after update", |n| {
        healthy(n) && n["health"]["polls"].as_u64().unwrap_or(0) >= 1
    })
    .await;

    // test-connection: good credentials, then a wrong secret (clear message, no secret echoed).
    let ok: Value = api
        .send(
            reqwest::Method::POST,
            "/api/config/nodes/test-connection",
            Some(pbs_node(&pbs, "t")),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(ok["success"], true, "{ok}");
    let mut wrong = pbs_node(&pbs, "t");
    wrong["tokenValue"] = json!("not-the-secret");
    let failed: Value = api
        .send(
            reqwest::Method::POST,
            "/api/config/nodes/test-connection",
            Some(wrong),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(failed["success"], false, "{failed}");
    assert!(!failed.to_string().contains("not-the-secret"), "{failed}");

    // Removal stops the collector and takes its resources away.
    let resp = api
        .send(
            reqwest::Method::DELETE,
            &format!("/api/config/nodes/{id}"),
            None,
        )
        .await;
    assert_eq!(resp.status(), 204);
    let deadline = Instant::now() + Duration::from_secs(10);
    while api.count("source=pbs").await > 0 {
        assert!(Instant::now() < deadline, "pbs resources still listed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(api.collector(&id).await.is_none(), "collector stopped");
    let resp = api
        .send(
            reqwest::Method::DELETE,
            &format!("/api/config/nodes/{id}"),
            None,
        )
        .await;
    expect_error(resp, 404, "not_found").await;
}

#[tokio::test]
async fn failover_and_ticket_login_work_through_the_collector() {
    let server = server();
    let api = Api::new(&server);
    let pve = PveSim::start(PveSimConfig::default()).expect("pve");
    let creds = pve.credentials().clone();
    // The first address is dead; the cluster endpoint answers. Password login (ticket + CSRF).
    let id = api
        .add(json!({"type": "pve", "name": "lab", "host": dead_url(),
                    "clusterEndpoints": [pve.url()], "fingerprint": pve.fingerprint(),
                    "user": creds.user, "password": creds.password, "pollIntervalSeconds": 1}))
        .await;
    let node = api
        .wait_collector(&id, "pve polled via failover", healthy)
        .await;
    let addresses = node["health"]["addresses"]
        .as_array()
        .expect("addresses")
        .clone();
    assert_eq!(addresses.len(), 2, "{node}");
    assert_eq!(addresses[0]["healthy"], false, "{node}");
    assert!(api.count("type=vm").await + api.count("type=system-container").await >= 40);
    let state = api.get("/api/state").await;
    assert_eq!(
        state["connectionHealth"]["pve:lab"], true,
        "{}",
        state["connectionHealth"]
    );
}

#[tokio::test]
async fn a_hung_endpoint_stalls_only_its_own_collector() {
    let server = server();
    let api = Api::new(&server);
    let hung = PmgSim::start(PmgSimConfig::default()).expect("pmg");
    let live = PbsSim::start(PbsSimConfig::default()).expect("pbs");
    let hung_id = api.add(pmg_node(&hung, "hung")).await;
    let live_id = api.add(pbs_node(&live, "live")).await;
    api.wait_collector(&hung_id, "pmg polled", healthy).await;
    hung.faults().set_hang(true);
    let node = api
        .wait_collector(&hung_id, "hung endpoint reported", |n| {
            n["health"]["healthy"] == false
        })
        .await;
    assert!(
        node["health"]["lastError"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{node}"
    );
    // Meanwhile the other collector kept polling, on time.
    let before = api.collector(&live_id).await.expect("live")["health"]["polls"]
        .as_u64()
        .unwrap_or(0);
    api.wait_collector(&live_id, "live endpoint keeps polling", |n| {
        healthy(n) && n["health"]["polls"].as_u64().unwrap_or(0) >= before + 2
    })
    .await;
    let state = api.get("/api/state").await;
    assert_eq!(state["connectionHealth"]["pmg:hung"], false);
    assert_eq!(state["connectionHealth"]["pbs:live"], true);
    hung.faults().set_hang(false);
    api.wait_collector(&hung_id, "hung endpoint recovers", healthy)
        .await;
}

#[tokio::test]
async fn garbage_and_auth_failures_are_reported_and_recovered_from() {
    let server = server();
    let api = Api::new(&server);
    let pmg = PmgSim::start(PmgSimConfig::default()).expect("pmg");
    let id = api.add(pmg_node(&pmg, "mail")).await;
    api.wait_collector(&id, "pmg polled", healthy).await;
    assert_eq!(api.count("type=pmg").await, 1);

    pmg.faults().set_garbage(true);
    let node = api
        .wait_collector(&id, "garbage reported", |n| n["health"]["healthy"] == false)
        .await;
    assert!(node["health"]["consecutiveFailures"].as_u64().unwrap_or(0) >= 1);
    pmg.faults().clear();
    api.wait_collector(&id, "recovered from garbage", healthy)
        .await;

    pmg.faults().set_auth_failure(true);
    let node = api
        .wait_collector(&id, "auth failure reported", |n| {
            n["health"]["healthy"] == false
        })
        .await;
    let error = node["health"]["lastError"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    assert!(
        error.contains("auth") || error.contains("401") || error.contains("permission"),
        "{node}"
    );
    assert!(!error.contains(&pmg.credentials().token_secret.to_lowercase()));
    pmg.faults().clear();
    api.wait_collector(&id, "recovered from auth failure", healthy)
        .await;
    // The resource stayed listed throughout (stale handling belongs to the registry).
    assert_eq!(api.count("type=pmg").await, 1);
}

#[tokio::test]
async fn a_panicking_collector_is_restarted_alone() {
    let server = server();
    let api = Api::new(&server);
    let pbs = PbsSim::start(PbsSimConfig::default()).expect("pbs");
    let pmg = PmgSim::start(PmgSimConfig::default()).expect("pmg");
    let pbs_id = api.add(pbs_node(&pbs, "b")).await;
    let pmg_id = api.add(pmg_node(&pmg, "m")).await;
    api.wait_collector(&pbs_id, "pbs polled", healthy).await;
    let sibling = api.wait_collector(&pmg_id, "pmg polled", healthy).await;

    let tenant = server.running.state.tenants.get("default").expect("tenant");
    tenant
        .collector(&format!("pbs:{pbs_id}"))
        .expect("pbs collector")
        .do_send(InjectPanic);
    let restarted = api
        .wait_collector(&pbs_id, "pbs collector restarted", |n| {
            n["restarts"].as_u64().unwrap_or(0) >= 1 && n["state"] == "running"
        })
        .await;
    assert!(
        restarted["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("panic")),
        "{restarted}"
    );
    let polls = restarted["health"]["polls"].as_u64().unwrap_or(0);
    api.wait_collector(&pbs_id, "restarted collector polls again", |n| {
        healthy(n) && n["health"]["polls"].as_u64().unwrap_or(0) > polls
    })
    .await;
    let after = api.collector(&pmg_id).await.expect("sibling");
    assert_eq!(after["restarts"], 0, "sibling untouched: {after}");
    assert_eq!(
        after["since"], sibling["since"],
        "sibling untouched: {after}"
    );
    let registry = find(&api.get("/api/system/actors").await, &|n| {
        n["name"] == "registry"
    })
    .expect("registry");
    assert_eq!(registry["restarts"], 0);
}

#[tokio::test]
async fn changing_one_endpoint_restarts_only_its_collector() {
    let server = server();
    let api = Api::new(&server);
    let pbs = PbsSim::start(PbsSimConfig::default()).expect("pbs");
    let pmg = PmgSim::start(PmgSimConfig::default()).expect("pmg");
    let pbs_id = api.add(pbs_node(&pbs, "b")).await;
    let pmg_id = api.add(pmg_node(&pmg, "m")).await;
    let pbs_before = api.wait_collector(&pbs_id, "pbs polled", healthy).await;
    let pmg_before = api.wait_collector(&pmg_id, "pmg polled", healthy).await;
    tokio::time::sleep(Duration::from_millis(20)).await;

    let resp = api
        .send(
            reqwest::Method::PUT,
            &format!("/api/config/nodes/{pbs_id}"),
            Some(json!({"name": "backup-renamed"})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let pbs_after = api.wait_collector(&pbs_id, "pbs restarted", healthy).await;
    assert_ne!(
        pbs_after["since"], pbs_before["since"],
        "changed collector restarted"
    );
    let pmg_after = api.collector(&pmg_id).await.expect("pmg");
    assert_eq!(
        pmg_after["since"], pmg_before["since"],
        "other collector untouched"
    );
    assert!(pmg_after["health"]["polls"].as_u64() >= pmg_before["health"]["polls"].as_u64());
    // The renamed endpoint's old scope is gone from connectionHealth; the new one is there.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let health = api.get("/api/state").await["connectionHealth"].clone();
        if health.get("pbs:b").is_none() && health["pbs:backup-renamed"] == true {
            break;
        }
        assert!(Instant::now() < deadline, "{health}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
