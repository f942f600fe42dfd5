//! Proxmox Backup Server simulator: HTTPS on loopback answering the PBS API paths Pulse polls
//! (reference §2), for `pulse demo`, tests and benches.
//!
//! Two datastores: `main` with namespaces `""`, `prod` and `prod/db`, and `offsite`, which answers
//! the namespace call with 404 like a PBS before namespaces existed and reports its usage under
//! the older `*-space` names. By default 520 snapshots are spread over both, one of them with a
//! failed verification (`main`, group `ct/101`, its newest snapshot); [`PbsSim::set_snapshot_count`]
//! raises that at runtime, e.g. to 200,000. Snapshot listings are generated as a stream of
//! chunks, so the simulator never holds the list either. Job configs and a task history with a
//! failed verification job complete the picture. Auth: `PBSAPIToken=<id>:<secret>` or tickets.

use crate::sim::endpoint::SimEndpoint;
use std::convert::Infallible;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix_web::http::header::ContentType;
use actix_web::http::Method;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::sim::pve::api::{ApiFrame, ApiRequest, Faults, Flavor, Reply, SimCredentials};
use crate::sim::pve::cluster::unix_now;
use crate::sim::tls::{HttpsServer, SimCert};

/// Default number of snapshots.
pub const DEFAULT_SNAPSHOTS: u64 = 520;
/// Size of the chunks a snapshot listing is streamed in.
const CHUNK_BYTES: usize = 64 * 1024;
/// One GiB.
const GIB: u64 = 1 << 30;
/// Datastores and their namespaces (`None`: the namespace call answers 404).
const STORES: [(&str, Option<&[&str]>); 2] =
    [("main", Some(&["", "prod", "prod/db"])), ("offsite", None)];
/// Share of all snapshots per (store, namespace), in per-mille; the rest goes to `main` root.
const SHARES: [(&str, &str, u64); 3] = [
    ("main", "prod", 250),
    ("main", "prod/db", 100),
    ("offsite", "", 150),
];

/// What to simulate.
#[derive(Debug, Clone)]
pub struct PbsSimConfig {
    /// Initial number of snapshots over all datastores.
    pub snapshots: u64,
    /// Accepted credentials.
    pub credentials: SimCredentials,
    /// actix workers.
    pub workers: usize,
}

impl Default for PbsSimConfig {
    fn default() -> Self {
        PbsSimConfig {
            snapshots: DEFAULT_SNAPSHOTS,
            credentials: SimCredentials::generate("pulse-monitor@pbs"),
            workers: 2,
        }
    }
}

/// Shared handler state.
struct PbsState {
    frame: ApiFrame,
    snapshots: Arc<AtomicU64>,
    /// Newest snapshot time (unix s).
    t0: i64,
}

/// A running PBS simulator; dropping it stops the server.
#[derive(Debug)]
pub struct PbsSim {
    endpoint: SimEndpoint,
    snapshots: Arc<AtomicU64>,
}

impl std::ops::Deref for PbsSim {
    type Target = SimEndpoint;

    fn deref(&self) -> &SimEndpoint {
        &self.endpoint
    }
}

impl PbsSim {
    /// Starts a simulator with a fresh self-signed certificate.
    pub fn start(config: PbsSimConfig) -> io::Result<Self> {
        let cert = SimCert::generate()?;
        let faults = Arc::new(Faults::default());
        let snapshots = Arc::new(AtomicU64::new(config.snapshots));
        let state = web::Data::new(PbsState {
            frame: ApiFrame::new(Flavor::Pbs, config.credentials.clone(), Arc::clone(&faults)),
            snapshots: Arc::clone(&snapshots),
            t0: unix_now() - 600,
        });
        let server = HttpsServer::start("pbs-sim", &cert, config.workers, move |cfg| {
            cfg.app_data(state.clone()).default_service(web::to(handle));
        })?;
        Ok(PbsSim {
            endpoint: SimEndpoint::new(server, config.credentials, faults),
            snapshots,
        })
    }

    /// Changes the total number of snapshots (takes effect on the next listing).
    pub fn set_snapshot_count(&self, count: u64) {
        self.snapshots.store(count, Ordering::SeqCst);
    }
}

/// Every request: the shared pipeline, then [`route`].
async fn handle(req: HttpRequest, body: web::Bytes, state: web::Data<PbsState>) -> HttpResponse {
    state
        .frame
        .serve(&req, &body, |request| route(&state, request))
        .await
}

/// Answers one authenticated API request.
fn route(state: &PbsState, request: &ApiRequest<'_>) -> Reply {
    if request.method != Method::GET {
        return Reply::Error(501, "not implemented".into());
    }
    let total = state.snapshots.load(Ordering::SeqCst);
    let t0 = state.t0;
    match request.parts().as_slice() {
        ["version"] => {
            Reply::Data(json!({"version": "3.2.7", "release": "3.2", "repoid": "f3c6a8d1"}))
        }
        ["nodes"] => Reply::Data(json!([{"node": "pbs"}])),
        ["nodes", "localhost", "status"] => Reply::Data(node_status()),
        ["nodes", "localhost", "tasks"] => Reply::Data(tasks(t0)),
        ["admin", "datastore"] => Reply::Data(json!([
            {"store": "main", "comment": "Primary datastore"},
            {"store": "offsite"},
        ])),
        ["admin", "datastore", store, rest @ ..] => {
            let Some((_, namespaces)) = STORES.iter().find(|(s, _)| s == store) else {
                return Reply::Error(400, format!("no such datastore '{store}'"));
            };
            let ns = request.param("ns").unwrap_or("");
            match rest {
                ["status"] => Reply::Data(datastore_status(store)),
                ["namespace"] => match namespaces {
                    Some(list) => Reply::Data(Value::Array(
                        list.iter().map(|ns| json!({"ns": ns})).collect(),
                    )),
                    None => Reply::Error(
                        404,
                        "Path '/api2/json/admin/datastore/offsite/namespace' not found.".into(),
                    ),
                },
                ["groups"] => Reply::Data(groups(&Listing::of(store, ns, total, t0))),
                ["snapshots"] => Reply::Raw(snapshots(Listing::of(store, ns, total, t0))),
                _ => Reply::Error(501, "not implemented".into()),
            }
        }
        ["config", "verify"] => Reply::Data(json!([
            {"id": "v-main", "store": "main", "schedule": "daily", "ns": "", "ignore-verified": true},
        ])),
        ["config", "sync"] => Reply::Data(json!([
            {"id": "s-offsite", "store": "offsite", "remote": "remote1", "remote-store": "main", "schedule": "hourly"},
        ])),
        ["config", "prune"] => Reply::Data(json!([
            {"id": "p-main", "store": "main", "schedule": "daily", "keep-last": 7, "disable": false},
        ])),
        _ => Reply::Error(501, "not implemented".into()),
    }
}

/// `GET /nodes/localhost/status`.
fn node_status() -> Value {
    json!({
        "cpu": 0.021, "wait": 0.0005, "uptime": 1_234_567,
        "loadavg": [0.12, "0.10", 0.08],
        "memory": {"total": 16 * GIB, "used": (6 * GIB).to_string(), "free": 10 * GIB},
        "swap": {"total": 4 * GIB, "used": 0, "free": 4 * GIB},
        "root": {"total": 64 * GIB, "used": 12 * GIB, "avail": 52 * GIB},
        "kversion": "Linux 6.8.12-1-pve",
        "info": {"fingerprint": "aa:bb"},
    })
}

/// `GET /admin/datastore/{store}/status`; `offsite` uses the older field names.
fn datastore_status(store: &str) -> Value {
    if store == "offsite" {
        json!({"total-space": 20 * 1024 * GIB, "used-space": 4 * 1024 * GIB, "avail-space": 16 * 1024 * GIB,
               "deduplication-factor": 1.8})
    } else {
        json!({"total": (10 * 1024 * GIB).to_string(), "used": (6656 * GIB).to_string(), "avail": 3584 * GIB,
               "gc-status": {"index-data-bytes": 20 * 1024 * GIB, "disk-bytes": 6553 * GIB, "upid": "UPID:pbs:gc"}})
    }
}

/// `GET /nodes/localhost/tasks`: backups, a failed verification job, sync, prune, GC.
fn tasks(t0: i64) -> Value {
    let task = |kind: &str, id: &str, start: i64, status: Option<&str>| {
        let mut t = json!({
            "upid": format!("UPID:pbs:000012AB:0001E240:00000000:{start:08X}:{kind}:{id}:root@pam:"),
            "node": "pbs", "pid": 4779, "pstart": 123456, "starttime": start,
            "worker_type": kind, "worker_id": id, "user": "root@pam",
        });
        if let Some(status) = status {
            t["endtime"] = json!(start + 90);
            t["status"] = json!(status);
        }
        t
    };
    json!([
        task("backup", "main:vm/100", t0 - 60, Some("OK")),
        task("backup", "offsite:ct/101", t0 - 120, Some("OK")),
        task(
            "verificationjob",
            "main:v-main",
            t0 - 3600,
            Some("verification failed - please check the log for details")
        ),
        task("verificationjob", "main:v-main", t0 - 90_000, Some("OK")),
        task(
            "syncjob",
            "remote1:main:offsite::s-offsite",
            t0 - 1800,
            Some("WARNINGS: 1")
        ),
        task("prunejob", "main::p-main", t0 - 7200, Some("OK")),
        task("garbage_collection", "main", t0 - 10_800, Some("OK")),
        task("garbage_collection", "offsite", t0 - 30, None),
    ])
}

/// Where one listing's snapshots come from: deterministic from the index.
#[derive(Debug, Clone)]
struct Listing {
    store: String,
    ns: String,
    count: u64,
    groups: u64,
    t0: i64,
}

impl Listing {
    /// The listing of `store`/`ns` when `total` snapshots exist overall.
    fn of(store: &str, ns: &str, total: u64, t0: i64) -> Self {
        let assigned: u64 = SHARES
            .iter()
            .map(|(_, _, share)| total * share / 1000)
            .sum();
        let count = match SHARES.iter().find(|(s, n, _)| *s == store && *n == ns) {
            Some((_, _, share)) => total * share / 1000,
            None if store == "main" && ns.is_empty() => total - assigned,
            None => 0,
        };
        let groups = if count == 0 {
            0
        } else {
            (count / 50).clamp(3, 5000).min(count)
        };
        Listing {
            store: store.to_owned(),
            ns: ns.to_owned(),
            count,
            groups,
            t0,
        }
    }

    /// `(type, id)` of group `g`.
    fn group(&self, g: u64) -> (&'static str, String) {
        match g % 3 {
            0 => ("vm", (100 + g).to_string()),
            1 => ("ct", (100 + g).to_string()),
            _ => ("host", format!("host-{g}")),
        }
    }

    /// Appends the JSON of snapshot `i` to `out` (written directly: a 200,000-entry listing is
    /// generated on every request).
    fn write_snapshot(&self, i: u64, out: &mut String) {
        use std::fmt::Write as _;
        let (g, k) = (i % self.groups, i / self.groups);
        let (kind, id) = self.group(g);
        let time = self.t0 - (k as i64) * 86_400 - (g as i64) * 60;
        let size = GIB + g * (1 << 20) + k * 4096;
        let size_json = if i % 9 == 0 {
            format!("\"{size}\"")
        } else {
            size.to_string()
        };
        let _ = write!(
            out,
            "{{\"backup-type\":\"{kind}\",\"backup-id\":\"{id}\",\"backup-time\":{time},\
             \"files\":[{{\"filename\":\"index.json.blob\",\"size\":512,\"crypt-mode\":\"none\"}},\
             {{\"filename\":\"drive-scsi0.img.fidx\",\"size\":{size},\"crypt-mode\":\"none\"}},\
             {{\"filename\":\"client.log.blob\",\"size\":2048,\"crypt-mode\":\"none\"}}],\
             \"size\":{size_json},\"owner\":\"pulse@pbs!backup\""
        );
        let upid = || {
            format!(
                "UPID:pbs:000012AB:0001E240:00000000:{time:08X}:verify:{}:root@pam:",
                self.store
            )
        };
        let failed = self.store == "main" && self.ns.is_empty() && g == 1 && k == 0;
        if failed {
            let _ = write!(
                out,
                ",\"verification\":{{\"state\":\"failed\",\"upid\":\"{}\"}}",
                upid()
            );
        } else if k % 10 != 9 {
            if i % 5 == 0 {
                out.push_str(",\"verification\":\"ok\"");
            } else {
                let _ = write!(
                    out,
                    ",\"verification\":{{\"state\":\"ok\",\"upid\":\"{}\"}}",
                    upid()
                );
            }
        }
        if k == 0 && g % 7 == 0 {
            out.push_str(",\"protected\":true,\"comment\":\"keep\"");
        }
        out.push('}');
    }
}

/// `GET /admin/datastore/{store}/groups?ns=`.
fn groups(listing: &Listing) -> Value {
    let list: Vec<Value> = (0..listing.groups)
        .filter_map(|g| {
            let count = listing.count.checked_sub(g)?.div_ceil(listing.groups);
            let (kind, id) = listing.group(g);
            (count > 0).then(|| {
                json!({
                    "backup-type": kind, "backup-id": id, "last-backup": listing.t0 - (g as i64) * 60,
                    "backup-count": count, "owner": "pulse@pbs!backup",
                    "files": ["client.log.blob", "drive-scsi0.img.fidx", "index.json.blob"],
                })
            })
        })
        .collect();
    Value::Array(list)
}

/// `GET /admin/datastore/{store}/snapshots?ns=`, generated chunk by chunk.
fn snapshots(listing: Listing) -> HttpResponse {
    let stream =
        futures_util::stream::unfold((listing, 0u64, false), |(listing, next, done)| async move {
            if done {
                return None;
            }
            let mut chunk = String::with_capacity(CHUNK_BYTES + 1024);
            if next == 0 {
                chunk.push_str("{\"data\":[");
            }
            let mut i = next;
            while i < listing.count && chunk.len() < CHUNK_BYTES {
                if i > 0 {
                    chunk.push(',');
                }
                listing.write_snapshot(i, &mut chunk);
                i += 1;
            }
            let finished = i >= listing.count;
            if finished {
                chunk.push_str("]}");
            }
            Some((
                Ok::<Bytes, Infallible>(Bytes::from(chunk)),
                (listing, i, finished),
            ))
        });
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .streaming(stream)
}
