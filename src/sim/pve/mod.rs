//! Proxmox VE simulator: a real HTTPS server on loopback answering the PVE API paths Pulse
//! polls (reference §1.2), for `pulse demo`, the integration tests and benches.
//!
//! The default cluster has 3 nodes and 45 guests (VMs and LXCs, some stopped, one paused, two
//! templates, tags), storages, a healthy and a DEGRADED ZFS pool, disks with one FAILED SMART,
//! Ceph in `HEALTH_WARN`, two replication jobs (one failing) and vzdump tasks (some failed).
//! Counters grow with wall time. Size is configurable (e.g. 20 nodes / 800 guests for benches).
//!
//! Auth: the token header (`PVEAPIToken=<id>=<secret>`) or a ticket from `POST /access/ticket`
//! (CSRF token required on writes). Faults ([`Faults`]) and cluster events ([`PveSim::control`]:
//! a node down, migration, guest restart, a malformed guest entry) are adjustable at runtime.

pub mod api;
pub mod cluster;

use crate::sim::endpoint::SimEndpoint;
use std::io;
use std::sync::Arc;

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::sim::tls::{HttpsServer, SimCert};

pub use api::{Faults, SimCredentials};
pub use cluster::SimCluster;

use api::{ApiFrame, ApiRequest, Flavor, Reply};

/// What to simulate.
#[derive(Debug, Clone)]
pub struct PveSimConfig {
    /// Cluster name.
    pub cluster_name: String,
    /// Number of nodes.
    pub nodes: usize,
    /// Number of guests (templates included).
    pub guests: usize,
    /// Whether Ceph is configured.
    pub ceph: bool,
    /// Accepted credentials (random ones by default).
    pub credentials: SimCredentials,
    /// actix workers serving it.
    pub workers: usize,
}

impl Default for PveSimConfig {
    fn default() -> Self {
        PveSimConfig {
            cluster_name: "demo-cluster".into(),
            nodes: 3,
            guests: 45,
            ceph: true,
            credentials: SimCredentials::generate("pulse-monitor@pve"),
            workers: 2,
        }
    }
}

impl PveSimConfig {
    /// A cluster of the given size, otherwise default.
    pub fn sized(nodes: usize, guests: usize) -> Self {
        PveSimConfig {
            nodes,
            guests,
            ..PveSimConfig::default()
        }
    }
}

/// Shared state of the handlers.
struct PveState {
    frame: ApiFrame,
    cluster: Arc<SimCluster>,
}

/// A running PVE simulator; dropping it stops the server.
pub struct PveSim {
    endpoint: SimEndpoint,
    cluster: Arc<SimCluster>,
}

impl std::fmt::Debug for PveSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PveSim")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for PveSim {
    type Target = SimEndpoint;

    fn deref(&self) -> &SimEndpoint {
        &self.endpoint
    }
}

impl PveSim {
    /// Starts a simulator with a fresh self-signed certificate.
    pub fn start(config: PveSimConfig) -> io::Result<Self> {
        PveSim::start_with_cert(config, &SimCert::generate()?)
    }

    /// Starts a simulator presenting `cert` (several endpoints of one cluster may share one).
    pub fn start_with_cert(config: PveSimConfig, cert: &SimCert) -> io::Result<Self> {
        let faults = Arc::new(Faults::default());
        let cluster = Arc::new(SimCluster::new(
            &config.cluster_name,
            config.nodes,
            config.guests,
            config.ceph,
        ));
        PveSim::serve(config, cert, cluster, faults)
    }

    /// Starts a second endpoint of the same simulated cluster (a failover peer) with its own
    /// faults.
    pub fn peer(&self, cert: &SimCert) -> io::Result<Self> {
        let config = PveSimConfig {
            credentials: self.credentials().clone(),
            ..PveSimConfig::default()
        };
        PveSim::serve(
            config,
            cert,
            Arc::clone(&self.cluster),
            Arc::new(Faults::default()),
        )
    }

    /// Runs the server for `cluster`.
    fn serve(
        config: PveSimConfig,
        cert: &SimCert,
        cluster: Arc<SimCluster>,
        faults: Arc<Faults>,
    ) -> io::Result<Self> {
        let state = Arc::new(PveState {
            frame: ApiFrame::new(Flavor::Pve, config.credentials.clone(), Arc::clone(&faults)),
            cluster: Arc::clone(&cluster),
        });
        let data = web::Data::from(state);
        let server = HttpsServer::start("pve-sim", cert, config.workers, move |cfg| {
            cfg.app_data(data.clone()).default_service(web::to(handle));
        })?;
        Ok(PveSim {
            endpoint: SimEndpoint::new(server, config.credentials, faults),
            cluster,
        })
    }

    /// The simulated cluster (node down, migration, restart, malformed entry).
    pub fn control(&self) -> Arc<SimCluster> {
        Arc::clone(&self.cluster)
    }
}

/// Every request: the shared pipeline, then [`route`].
async fn handle(req: HttpRequest, body: web::Bytes, state: web::Data<PveState>) -> HttpResponse {
    state
        .frame
        .serve(&req, &body, |request| route(&state.cluster, request))
        .await
}

/// Answers one authenticated API request.
fn route(cluster: &SimCluster, request: &ApiRequest<'_>) -> Reply {
    let parts = request.parts();
    if request.method == Method::POST {
        return match parts.as_slice() {
            ["access", "users", user, "token", token] => Reply::Data(json!({
                "full-tokenid": format!("{user}!{token}"),
                "info": {"privsep": 1},
                "value": SimCredentials::generate(user).token_secret,
            })),
            _ => not_implemented(request),
        };
    }
    if request.method != Method::GET {
        return not_implemented(request);
    }
    match parts.as_slice() {
        ["version"] => Reply::Data(cluster.version()),
        ["nodes"] => Reply::Data(cluster.nodes_json()),
        ["cluster", "status"] => Reply::Data(cluster.cluster_status()),
        ["cluster", "resources"] => {
            Reply::Data(cluster.resources(request.param("type") == Some("vm")))
        }
        ["cluster", "ceph", "status"] => match cluster.ceph_status() {
            Some(status) => Reply::Data(status),
            None => Reply::Error(500, "binary not installed: /usr/bin/ceph-mon".into()),
        },
        ["cluster", "replication"] => Reply::Data(cluster.replication()),
        ["nodes", node, rest @ ..] => node_route(cluster, node, rest, request),
        _ => not_implemented(request),
    }
}

/// `/nodes/{node}/…`: 595 while the node is down, as the cluster's proxy answers.
fn node_route(cluster: &SimCluster, node: &str, rest: &[&str], request: &ApiRequest<'_>) -> Reply {
    let Some(i) = cluster.node_index(node) else {
        return Reply::Error(
            500,
            format!("hostname lookup '{node}' failed - failed to get address info"),
        );
    };
    if cluster.is_down(i) {
        return Reply::Error(
            595,
            "Errors during connection establishment, proxy handshake failed".into(),
        );
    }
    match rest {
        ["status"] => Reply::Data(cluster.node_status(i)),
        ["rrddata"] => Reply::Data(cluster.node_rrd(i)),
        ["storage"] => Reply::Data(cluster.storage(i)),
        ["disks", "zfs"] => Reply::Data(cluster.zfs(i)),
        ["disks", "zfs", pool] => match cluster.zfs_detail(i, pool) {
            Some(detail) => Reply::Data(detail),
            None => Reply::Error(500, format!("zpool '{pool}' not found")),
        },
        ["disks", "list"] => Reply::Data(cluster.disks(i)),
        ["tasks"] => {
            let limit = request
                .param("limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(50);
            match request.param("typefilter") {
                Some("vzdump") | None => Reply::Data(cluster.backup_tasks(i, limit)),
                Some(_) => Reply::Data(json!([])),
            }
        }
        ["replication", id, "status"] => match cluster.replication_status(id) {
            Some(status) => Reply::Data(status),
            None => Reply::Error(500, format!("no such replication job '{id}'")),
        },
        _ => not_implemented(request),
    }
}

/// PVE's answer to an unknown path.
fn not_implemented(request: &ApiRequest<'_>) -> Reply {
    Reply::Error(
        501,
        format!(
            "Method '{} /{}' not implemented",
            request.method,
            request.segments.join("/")
        ),
    )
}
