//! Proxmox Mail Gateway simulator: HTTPS on loopback answering the PMG API paths Pulse polls
//! (reference §3): version, cluster status, today's mail statistics (growing with wall time,
//! some counters as strings), spam and virus quarantines and the postfix queue. Auth:
//! `PMGAPIToken=<id>:<secret>` or tickets (`PMGAuthCookie`).

use crate::sim::endpoint::SimEndpoint;
use std::io;
use std::sync::Arc;
use std::time::Instant;

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::sim::pve::api::{ApiFrame, ApiRequest, Faults, Flavor, Reply, SimCredentials};
use crate::sim::tls::{HttpsServer, SimCert};

/// The simulated gateway's node name.
pub const NODE: &str = "pmg";

/// What to simulate.
#[derive(Debug, Clone)]
pub struct PmgSimConfig {
    /// Accepted credentials.
    pub credentials: SimCredentials,
    /// actix workers.
    pub workers: usize,
}

impl Default for PmgSimConfig {
    fn default() -> Self {
        PmgSimConfig {
            credentials: SimCredentials::generate("pulse-monitor@pmg"),
            workers: 1,
        }
    }
}

/// Shared handler state.
struct PmgState {
    frame: ApiFrame,
    started: Instant,
}

/// A running PMG simulator; dropping it stops the server.
#[derive(Debug)]
pub struct PmgSim {
    endpoint: SimEndpoint,
}

impl std::ops::Deref for PmgSim {
    type Target = SimEndpoint;

    fn deref(&self) -> &SimEndpoint {
        &self.endpoint
    }
}

impl PmgSim {
    /// Starts a simulator with a fresh self-signed certificate.
    pub fn start(config: PmgSimConfig) -> io::Result<Self> {
        let cert = SimCert::generate()?;
        let faults = Arc::new(Faults::default());
        let state = web::Data::new(PmgState {
            frame: ApiFrame::new(Flavor::Pmg, config.credentials.clone(), Arc::clone(&faults)),
            started: Instant::now(),
        });
        let server = HttpsServer::start("pmg-sim", &cert, config.workers, move |cfg| {
            cfg.app_data(state.clone()).default_service(web::to(handle));
        })?;
        Ok(PmgSim {
            endpoint: SimEndpoint::new(server, config.credentials, faults),
        })
    }
}

/// Every request: the shared pipeline, then [`route`].
async fn handle(req: HttpRequest, body: web::Bytes, state: web::Data<PmgState>) -> HttpResponse {
    let minutes = state.started.elapsed().as_secs_f64() / 60.0;
    state
        .frame
        .serve(&req, &body, |request| route(minutes, request))
        .await
}

/// Answers one authenticated API request; counters grow by the minute.
fn route(minutes: f64, request: &ApiRequest<'_>) -> Reply {
    if request.method != Method::GET {
        return Reply::Error(501, "not implemented".into());
    }
    let grow = |base: f64, per_minute: f64| (base + per_minute * minutes).round();
    match request.parts().as_slice() {
        ["version"] => {
            Reply::Data(json!({"version": "8.1.2", "release": "8.1", "repoid": "8a9d3d5e"}))
        }
        ["nodes"] => Reply::Data(json!([{"node": NODE}])),
        ["config", "cluster", "status"] => {
            Reply::Data(if request.param("list_single_node") == Some("1") {
                json!([{"cid": 1, "name": NODE, "type": "master", "ip": "127.0.0.1", "fingerprint": "aa:bb:cc"}])
            } else {
                json!([])
            })
        }
        ["statistics", "mail"] => Reply::Data(json!({
            "count": grow(1520.0, 12.0),
            "count_in": grow(1200.0, 10.0),
            "count_out": grow(320.0, 2.0).to_string(),
            "spamcount_in": grow(310.0, 3.0),
            "spamcount_out": 0,
            "viruscount_in": grow(4.0, 0.05),
            "viruscount_out": "0",
            "bounces_in": 12, "bounces_out": 3,
            "bytes_in": grow(85_000_000.0, 600_000.0), "bytes_out": grow(21_000_000.0, 150_000.0),
            "glcount": 57, "junk_in": grow(140.0, 1.0), "rbl_rejects": 88, "pregreet_rejects": "9",
            "avptime": 0.734,
        })),
        ["quarantine", "spamstatus"] => Reply::Data(
            json!({"count": grow(250.0, 1.0), "avgbytes": 48_211.5, "avgspam": 7.92, "mbytes": "11.49"}),
        ),
        ["quarantine", "virusstatus"] => {
            Reply::Data(json!({"count": 3, "avgbytes": 120_400, "mbytes": 0.34}))
        }
        ["nodes", node, "postfix", "queue"] if *node == NODE => Reply::Data(queue(minutes)),
        ["nodes", node, ..] => Reply::Error(500, format!("no such node '{node}'")),
        _ => Reply::Error(501, "not implemented".into()),
    }
}

/// Postfix queue depths: the deferred queue slowly fills up.
fn queue(minutes: f64) -> Value {
    json!({"active": 2, "deferred": 14 + (minutes as u64) % 30, "hold": 0, "incoming": "1", "oldest_age": 5400})
}
