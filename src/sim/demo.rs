//! `pulse demo`: the server plus the built-in simulators, configured through the same paths a user
//! uses (an API token like `pulse token create` makes, endpoints added through
//! `POST /api/config/nodes` with their certificate fingerprints pinned, real HTTP reports), never by
//! writing into the registry.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use rand::distributions::{Alphanumeric, DistString};

use serde_json::{json, Value};

use super::agents::{SimFleet, SimFleetHandle};
use super::pbs::{PbsSim, PbsSimConfig};
use super::pmg::{PmgSim, PmgSimConfig};
use super::pve::{PveSim, PveSimConfig, SimCluster};
use super::truenas::{TruenasSim, TruenasSimConfig};
use crate::app::Running;
use crate::config::{Secret, Settings};
use crate::error::{Error, Result};

/// How often the simulated agents report (shorter than real agents, so the demo moves).
const DEMO_REPORT_INTERVAL: Duration = Duration::from_secs(5);

/// The demo cluster's third node goes down for this long…
const NODE_OUTAGE: Duration = Duration::from_secs(90);
/// …once per this period, so the node-offline grace and recovery can be watched.
const NODE_OUTAGE_EVERY: Duration = Duration::from_secs(300);
/// The demo polls faster than the defaults, so it moves.
const DEMO_POLL_SECS: u64 = 5;

/// What keeps the demo's simulators running; dropping it stops them.
pub struct Demo {
    _agents: SimFleetHandle,
    _pve: PveSim,
    _pbs: PbsSim,
    _pmg: PmgSim,
    _truenas: TruenasSim,
}

/// Fills in the demo login (from `PULSE_AUTH_USER`/`PULSE_AUTH_PASS` if set) and returns it.
pub fn prepare(settings: &mut Settings) -> (String, String) {
    let user = settings
        .auth_user
        .get_or_insert_with(|| "admin".to_owned())
        .clone();
    let pass = match &settings.auth_pass {
        Some(p) => p.expose().to_owned(),
        None => {
            let p = Alphanumeric.sample_string(&mut rand::thread_rng(), 16);
            settings.auth_pass = Some(Secret::new(p.clone()));
            p
        }
    };
    (user, pass)
}

/// The address simulators use to reach the server (loopback when it listens on all addresses).
fn reachable(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
    } else {
        addr
    }
}

/// Starts the simulators against the running server.
pub async fn start(running: &Running) -> Result<Demo> {
    let token = running.create_token(
        "demo simulators",
        &["agent:report", "docker:report", "kubernetes:report"],
        None,
    )?;
    let base = format!("http://{}", reachable(running.http_addr));
    let agents = SimFleet::uniform(4, 2, 1, DEMO_REPORT_INTERVAL).start(&base, &token)?;
    tracing::info!(agents = agents.agents(), "demo: simulated agents reporting");

    let sim_error =
        |what: &str, e: std::io::Error| Error::Internal(format!("{what} simulator: {e}"));
    let pve = PveSim::start(PveSimConfig::default()).map_err(|e| sim_error("PVE", e))?;
    let pbs = PbsSim::start(PbsSimConfig::default()).map_err(|e| sim_error("PBS", e))?;
    let pmg = PmgSim::start(PmgSimConfig::default()).map_err(|e| sim_error("PMG", e))?;
    let admin = running.create_token("demo setup", &["settings:write"], None)?;
    let nodes = [
        node(
            "pve",
            "demo-cluster",
            &pve.url(),
            pve.fingerprint(),
            &pve.credentials().token_id,
            &pve.credentials().token_secret,
        ),
        node(
            "pbs",
            "demo-pbs",
            &pbs.url(),
            pbs.fingerprint(),
            &pbs.credentials().token_id,
            &pbs.credentials().token_secret,
        ),
        node(
            "pmg",
            "demo-pmg",
            &pmg.url(),
            pmg.fingerprint(),
            &pmg.credentials().token_id,
            &pmg.credentials().token_secret,
        ),
    ];
    let client = reqwest::Client::new();
    for body in nodes {
        add(&client, &base, &admin, "/api/config/nodes", &body).await?;
    }
    let truenas = TruenasSim::start(TruenasSimConfig::default())
        .map_err(|e| Error::Internal(format!("TrueNAS simulator: {e}")))?;
    let connection = json!({
        "name": "truenas-main",
        "host": truenas.host(),
        "username": truenas.credentials().username,
        "apiKey": truenas.credentials().api_key,
        "fingerprint": truenas.fingerprint(),
        "pollIntervalSeconds": DEMO_POLL_SECS,
    });
    add(
        &client,
        &base,
        &admin,
        "/api/truenas/connections",
        &connection,
    )
    .await?;
    tracing::info!("demo: PVE cluster, PBS, PMG and TrueNAS simulators configured");
    actix::spawn(node_outages(pve.control()));
    Ok(Demo {
        _agents: agents,
        _pve: pve,
        _pbs: pbs,
        _pmg: pmg,
        _truenas: truenas,
    })
}

/// The `/api/config/nodes` body of a simulator endpoint, pinned to its certificate.
fn node(
    kind: &str,
    name: &str,
    url: &str,
    fingerprint: &str,
    token_id: &str,
    secret: &str,
) -> Value {
    json!({
        "type": kind,
        "name": name,
        "host": url,
        "tokenName": token_id,
        "tokenValue": secret,
        "fingerprint": fingerprint,
        "pollIntervalSeconds": DEMO_POLL_SECS,
    })
}

/// Adds one endpoint through the public API (`path`), as a user's script would.
async fn add(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
    body: &Value,
) -> Result<()> {
    let resp = client
        .post(format!("{base}{path}"))
        .header("X-API-Token", token)
        .json(body)
        .send()
        .await
        .map_err(|e| Error::Internal(format!("demo setup: {e}")))?;
    if resp.status() != reqwest::StatusCode::CREATED {
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        return Err(Error::Internal(format!(
            "demo setup: adding {} answered {status}: {text}",
            body["name"]
        )));
    }
    Ok(())
}

/// Takes the cluster's last node down for [`NODE_OUTAGE`] every [`NODE_OUTAGE_EVERY`].
async fn node_outages(cluster: std::sync::Arc<SimCluster>) {
    loop {
        tokio::time::sleep(NODE_OUTAGE_EVERY.saturating_sub(NODE_OUTAGE)).await;
        cluster.set_down_node(Some(2));
        tokio::time::sleep(NODE_OUTAGE).await;
        cluster.set_down_node(None);
    }
}
