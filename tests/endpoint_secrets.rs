//! Endpoints declared in the config file and added through the API, in a real `pulse serve`
//! process: every configured secret is absent from the data dir and from the (debug-level) log,
//! including after failures and a failed connection test; SIGHUP with one changed `[[pmg]]`
//! restarts only that endpoint's collector.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::process::{spawn_serve, BIN};
use common::{client, ADMIN_PASS, ADMIN_USER};
use pulse::sim::pbs::{PbsSim, PbsSimConfig};
use pulse::sim::pmg::{PmgSim, PmgSimConfig};
use pulse::sim::pve::{PveSim, PveSimConfig};
use pulse::sim::truenas::{TruenasSim, TruenasSimConfig};
use serde_json::{json, Value};

const WRONG_SECRET: &str = "wrong-secret-7f3a91c2";

fn config(pbs: &PbsSim, pmg: &PmgSim, pmg_interval: u64) -> String {
    format!(
        r#"[[pbs]]
name = "backup"
host = "{}"
token_name = "{}"
token_value = "{}"
fingerprint = "{}"
poll_interval_secs = 1

[[pmg]]
name = "mail"
host = "{}"
user = "{}"
password = "{}"
fingerprint = "{}"
poll_interval_secs = {pmg_interval}
"#,
        pbs.url(),
        pbs.credentials().token_id,
        pbs.credentials().token_secret,
        pbs.fingerprint(),
        pmg.url(),
        pmg.credentials().user,
        pmg.credentials().password,
        pmg.fingerprint(),
    )
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn secrets_stay_out_of_the_data_dir_and_the_log_and_sighup_restarts_only_the_changed() {
    let pve = PveSim::start(PveSimConfig::default()).expect("pve");
    let pbs = PbsSim::start(PbsSimConfig::default()).expect("pbs");
    let pmg = PmgSim::start(PmgSimConfig::default()).expect("pmg");
    let nas = TruenasSim::start(TruenasSimConfig::default()).expect("truenas");
    let data = tempfile::tempdir().expect("data dir");
    let etc = tempfile::tempdir().expect("config dir");
    let cfg = etc.path().join("pulse.toml");
    std::fs::write(&cfg, config(&pbs, &pmg, 1)).expect("write config");

    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(data.path())
        .env("PULSE_METRICS_LISTEN", "off")
        .env("PULSE_AUTH_USER", ADMIN_USER)
        .env("PULSE_AUTH_PASS", ADMIN_PASS)
        .env("PULSE_LOG_LEVEL", "debug")
        .stderr(Stdio::piped());
    let (mut child, base) = spawn_serve(cmd);
    let log = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = Arc::clone(&log);
    let mut stderr = child.stderr.take().expect("stderr");
    let drain = std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().expect("log").extend_from_slice(&buf[..n]);
        }
    });

    let c = client();
    let login = c
        .post(format!("{base}/api/login"))
        .json(&json!({"username": ADMIN_USER, "password": ADMIN_PASS}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 200);
    let token = {
        let resp = cookie_token(&c, &base, login).await;
        resp["token"].as_str().expect("token").to_owned()
    };
    let api = |method: reqwest::Method, path: &str| {
        c.request(method, format!("{base}{path}"))
            .header("X-API-Token", token.clone())
    };

    // One endpoint through the API, and a failed test with a wrong secret.
    let pve_creds = pve.credentials().clone();
    let resp = api(reqwest::Method::POST, "/api/config/nodes")
        .json(&json!({"type": "pve", "name": "cluster", "host": pve.url(),
                      "fingerprint": pve.fingerprint(), "tokenName": pve_creds.token_id,
                      "tokenValue": pve_creds.token_secret, "pollIntervalSeconds": 1}))
        .send()
        .await
        .expect("create");
    assert_eq!(resp.status(), 201);
    let resp = api(reqwest::Method::POST, "/api/truenas/connections")
        .json(
            &json!({"name": "nas", "host": nas.host(), "username": nas.credentials().username,
                      "apiKey": nas.credentials().api_key, "fingerprint": nas.fingerprint(),
                      "pollIntervalSeconds": 1}),
        )
        .send()
        .await
        .expect("create truenas");
    assert_eq!(resp.status(), 201);
    let tested: Value = api(reqwest::Method::POST, "/api/config/nodes/test-connection")
        .json(&json!({"type": "pbs", "name": "t", "host": pbs.url(),
                      "fingerprint": pbs.fingerprint(), "tokenName": pbs.credentials().token_id,
                      "tokenValue": WRONG_SECRET}))
        .send()
        .await
        .expect("test")
        .json()
        .await
        .expect("json");
    assert_eq!(tested["success"], false);

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list: Value = api(reqwest::Method::GET, "/api/truenas/connections")
            .send()
            .await
            .expect("connections")
            .json()
            .await
            .expect("json");
        if list[0]["status"]["healthy"] == true {
            break;
        }
        assert!(Instant::now() < deadline, "truenas never polled: {list}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // All three Proxmox endpoints poll; then failures get logged too (auth failure on the PBS).
    wait_nodes(&api, |nodes| {
        nodes.len() == 3 && nodes.iter().all(|n| n["status"]["healthy"] == true)
    })
    .await;
    pbs.faults().set_auth_failure(true);
    wait_nodes(&api, |nodes| {
        nodes
            .iter()
            .any(|n| n["name"] == "backup" && n["status"]["healthy"] == false)
    })
    .await;
    pbs.faults().clear();

    // SIGHUP with only the PMG changed: its collector restarts, the others keep their incarnation.
    let before = actors(&api).await;
    std::fs::write(&cfg, config(&pbs, &pmg, 2)).expect("rewrite config");
    Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .expect("kill -HUP");
    let deadline = Instant::now() + Duration::from_secs(15);
    let after = loop {
        let now = actors(&api).await;
        if now["pmg"] != before["pmg"] && now["pmg"].is_string() {
            break now;
        }
        assert!(
            Instant::now() < deadline,
            "pmg collector not restarted: {now}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(after["pbs"], before["pbs"], "pbs collector untouched");
    assert_eq!(after["pve"], before["pve"], "pve collector untouched");
    wait_nodes(&api, |nodes| {
        nodes.iter().all(|n| n["status"]["healthy"] == true)
    })
    .await;

    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let _ = drain.join();

    let secrets = [
        pve_creds.token_secret.as_str(),
        pbs.credentials().token_secret.as_str(),
        pmg.credentials().password.as_str(),
        nas.credentials().api_key.as_str(),
        WRONG_SECRET,
    ];
    let log = log.lock().expect("log").clone();
    assert!(log.len() > 1000, "debug log captured ({} bytes)", log.len());
    for secret in secrets {
        assert!(!contains(&log, secret), "a secret appears in the log");
        for file in files(data.path()) {
            let bytes = std::fs::read(&file).expect("read");
            assert!(
                !contains(&bytes, secret),
                "a secret appears in {}",
                file.display()
            );
        }
    }
}

/// Creates an API token through the session (the login cookie + CSRF header).
async fn cookie_token(c: &reqwest::Client, base: &str, login: reqwest::Response) -> Value {
    let csrf = login
        .cookies()
        .find(|ck| ck.name() == "pulse_csrf")
        .map(|ck| ck.value().to_owned())
        .expect("csrf cookie");
    let session = login
        .cookies()
        .filter(|ck| ck.name() != "pulse_csrf")
        .map(|ck| format!("{}={}", ck.name(), ck.value()))
        .chain(std::iter::once(format!("pulse_csrf={csrf}")))
        .collect::<Vec<_>>()
        .join("; ");
    c.post(format!("{base}/api/security/tokens"))
        .header("Cookie", session)
        .header("X-CSRF-Token", csrf)
        .json(&json!({"name": "test", "scopes": ["settings:read", "settings:write", "monitoring:read"]}))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json")
}

/// Polls `/api/config/nodes` until `check` holds.
async fn wait_nodes(
    api: &impl Fn(reqwest::Method, &str) -> reqwest::RequestBuilder,
    check: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let nodes: Vec<Value> = api(reqwest::Method::GET, "/api/config/nodes")
            .send()
            .await
            .expect("nodes")
            .json()
            .await
            .expect("json");
        if check(&nodes) {
            return nodes;
        }
        assert!(Instant::now() < deadline, "nodes never matched: {nodes:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `{pve|pbs|pmg: since}` of each collector in `/api/system/actors`.
async fn actors(api: &impl Fn(reqwest::Method, &str) -> reqwest::RequestBuilder) -> Value {
    let tree: Value = api(reqwest::Method::GET, "/api/system/actors")
        .send()
        .await
        .expect("actors")
        .json()
        .await
        .expect("json");
    let mut out = serde_json::Map::new();
    collect(&tree, &mut out);
    Value::Object(out)
}

fn collect(node: &Value, out: &mut serde_json::Map<String, Value>) {
    if node["kind"] == "collector" && node["state"] == "running" {
        if let Some((kind, _)) = node["name"].as_str().and_then(|n| n.split_once(':')) {
            out.insert(kind.to_owned(), json!(node["since"].to_string()));
        }
    }
    for child in node["children"].as_array().into_iter().flatten() {
        collect(child, out);
    }
}
