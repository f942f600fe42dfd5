//! One poll of an appliance (reference §4.3): every method is called in turn and each one's
//! failure is its own — recorded in [`TruenasPoll::failures`] and counted, while the rest of the
//! poll lands. A method the release does not have is listed in [`TruenasPoll::unsupported`]
//! instead (CORE has no apps; older SCALE no `zfs.resource.snapshot.query`).
//!
//! **Carry-over.** When a method that answered before fails now, its section of the previous poll
//! is kept for up to [`CARRY_OVER_FOR`] (the failure records since when), so one flaky call does
//! not make 2,000 datasets vanish from the registry and reappear a minute later. After that the
//! section is empty until the method answers again.
//!
//! Only losing the connection (or the credentials) fails the whole poll.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use pulse_model::Timestamp;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::sources::flex::Listing;

use super::client::{Call, Inner, TruenasClient};
use super::error::TruenasError;
use super::negotiate::TransportMode;
use super::snapshots::SnapshotSummary;
use super::types::{
    Alert, App, Dataset, Disk, DiskTemperatures, Pool, ReplicationTask, Share, SystemInfo, Vm,
};

/// How long the last good answer of a failing method is carried over.
pub const CARRY_OVER_FOR: Duration = Duration::from_secs(300);

/// A method that failed in a poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodFailure {
    /// The JSON-RPC method (also for REST polls, so names are stable).
    pub method: &'static str,
    /// What went wrong.
    pub error: String,
    /// When the data shown instead was read, if an earlier answer was carried over.
    pub carried_from: Option<Timestamp>,
}

/// The raw result of one poll; a `None` section was not read (failed without carry-over, or not
/// supported).
#[derive(Debug, Clone, PartialEq)]
pub struct TruenasPoll {
    /// The transport that served it.
    pub mode: TransportMode,
    /// `system.info`.
    pub system: Option<SystemInfo>,
    /// `pool.query`.
    pub pools: Option<Vec<Pool>>,
    /// `boot.get_state`.
    pub boot_pool: Option<Pool>,
    /// `pool.dataset.query`, flattened (nested children listed on their own), unique by id.
    pub datasets: Option<Vec<Dataset>>,
    /// `disk.query`.
    pub disks: Option<Vec<Disk>>,
    /// Disk temperatures by disk name.
    pub disk_temperatures: Option<BTreeMap<String, f64>>,
    /// `alert.list`, dismissed ones included.
    pub alerts: Option<Vec<Alert>>,
    /// Snapshots per dataset.
    pub snapshots: Option<SnapshotSummary>,
    /// `replication.query`.
    pub replication: Option<Vec<ReplicationTask>>,
    /// `app.query`.
    pub apps: Option<Vec<App>>,
    /// `vm.query`.
    pub vms: Option<Vec<Vm>>,
    /// `sharing.smb.query`.
    pub smb_shares: Option<Vec<Share>>,
    /// `sharing.nfs.query`.
    pub nfs_shares: Option<Vec<Share>>,
    /// Malformed list items skipped.
    pub skipped: u64,
    /// Methods that failed.
    pub failures: Vec<MethodFailure>,
    /// Methods this release does not have.
    pub unsupported: Vec<&'static str>,
}

impl TruenasPoll {
    /// An empty poll over `mode`.
    pub fn empty(mode: TransportMode) -> Self {
        TruenasPoll {
            mode,
            system: None,
            pools: None,
            boot_pool: None,
            datasets: None,
            disks: None,
            disk_temperatures: None,
            alerts: None,
            snapshots: None,
            replication: None,
            apps: None,
            vms: None,
            smb_shares: None,
            nfs_shares: None,
            skipped: 0,
            failures: Vec::new(),
            unsupported: Vec::new(),
        }
    }
}

/// The methods, as both transports call them.
pub(super) mod calls {
    use serde_json::json;

    use crate::sources::truenas::client::{Call, RestCall};

    /// `system.info`.
    pub fn system() -> Call {
        Call {
            method: "system.info",
            params: json!([]),
            rest: RestCall::Get("/system/info"),
        }
    }

    /// `pool.query`.
    pub fn pools() -> Call {
        Call {
            method: "pool.query",
            params: json!([]),
            rest: RestCall::Get("/pool"),
        }
    }

    /// `boot.get_state`.
    pub fn boot_pool() -> Call {
        Call {
            method: "boot.get_state",
            params: json!([]),
            rest: RestCall::Get("/boot/get_state"),
        }
    }

    /// `pool.dataset.query`, flat and without nested children where the release honours it.
    pub fn datasets() -> Call {
        Call {
            method: "pool.dataset.query",
            params: json!([[], {"extra": {"flat": true, "retrieve_children": false}}]),
            rest: RestCall::Get("/pool/dataset"),
        }
    }

    /// `disk.query` with the pool each disk belongs to.
    pub fn disks() -> Call {
        Call {
            method: "disk.query",
            params: json!([[], {"extra": {"pools": true}}]),
            rest: RestCall::Get("/disk"),
        }
    }

    /// Temperatures of `names`: `disk.temperature_agg` over one day, or REST
    /// `POST /disk/temperatures`.
    pub fn disk_temperatures(names: &[&str]) -> Call {
        Call {
            method: "disk.temperature_agg",
            params: json!([names, 1]),
            rest: RestCall::Post("/disk/temperatures", json!({ "names": names })),
        }
    }

    /// `alert.list`.
    pub fn alerts() -> Call {
        Call {
            method: "alert.list",
            params: json!([]),
            rest: RestCall::Get("/alert/list"),
        }
    }

    /// The newer snapshot method.
    pub const ZFS_RESOURCE_SNAPSHOTS: &str = "zfs.resource.snapshot.query";
    /// The snapshot method of older SCALE releases.
    pub const POOL_SNAPSHOTS: &str = "pool.snapshot.query";

    /// Snapshots through `method` (one of the two constants).
    pub fn snapshots(method: &'static str) -> Call {
        let params = if method == ZFS_RESOURCE_SNAPSHOTS {
            json!([{"paths": [], "recursive": true, "properties": ["creation", "used", "referenced"]}])
        } else {
            json!([[], {"extra": {"properties": ["creation", "used", "referenced"]}}])
        };
        Call {
            method,
            params,
            rest: RestCall::Get("/zfs/snapshot"),
        }
    }

    /// `replication.query`.
    pub fn replication() -> Call {
        Call {
            method: "replication.query",
            params: json!([]),
            rest: RestCall::Get("/replication"),
        }
    }

    /// `app.query`.
    pub fn apps() -> Call {
        Call {
            method: "app.query",
            params: json!([]),
            rest: RestCall::Get("/app"),
        }
    }

    /// `vm.query`.
    pub fn vms() -> Call {
        Call {
            method: "vm.query",
            params: json!([]),
            rest: RestCall::Get("/vm"),
        }
    }

    /// `sharing.smb.query`.
    pub fn smb_shares() -> Call {
        Call {
            method: "sharing.smb.query",
            params: json!([]),
            rest: RestCall::Get("/sharing/smb"),
        }
    }

    /// `sharing.nfs.query`.
    pub fn nfs_shares() -> Call {
        Call {
            method: "sharing.nfs.query",
            params: json!([]),
            rest: RestCall::Get("/sharing/nfs"),
        }
    }
}

/// The state of one poll in progress.
struct Collect<'a> {
    client: &'a TruenasClient,
    inner: &'a mut Inner,
    poll: TruenasPoll,
    previous: Option<TruenasPoll>,
    now: Timestamp,
}

impl Collect<'_> {
    /// Reads one section: the first of `alternatives` the release has (each tried only when the
    /// one before is unsupported), decoded as `W` and turned into the section by `convert`
    /// (which also reports skipped items). On failure the previous poll's section is carried
    /// over by `carry` while it is recent enough.
    async fn section<W, T>(
        &mut self,
        key: &'static str,
        alternatives: &[Call],
        convert: impl FnOnce(W) -> (T, usize),
        carry: impl FnOnce(&TruenasPoll) -> Option<T>,
    ) -> Result<Option<T>, TruenasError>
    where
        W: DeserializeOwned,
    {
        let mut last_unsupported = None;
        for call in alternatives {
            match self.client.fetch::<W>(self.inner, call, self.now).await? {
                Ok(wire) => {
                    let (section, skipped) = convert(wire);
                    self.poll.skipped += skipped as u64;
                    self.inner.last_ok.insert(key, self.now);
                    if key == "snapshots" && self.inner.mode == TransportMode::JsonRpcWebSocket {
                        self.inner.snapshot_method = Some(call.method);
                    }
                    return Ok(Some(section));
                }
                Err(e) if e.is_unsupported() => last_unsupported = Some(call.method),
                Err(e) => {
                    let carried_from = self.inner.last_ok.get(key).copied().filter(|at| {
                        self.now.millis_since(*at) <= CARRY_OVER_FOR.as_millis() as u64
                    });
                    let carried = carried_from.and(self.previous.as_ref()).and_then(carry);
                    tracing::debug!(
                        connection = %self.client.settings().connection_id,
                        method = call.method,
                        error = %e,
                        carried = carried.is_some(),
                        "truenas: method failed"
                    );
                    self.poll.failures.push(MethodFailure {
                        method: call.method,
                        error: e.to_string(),
                        carried_from: carried.as_ref().and(carried_from),
                    });
                    return Ok(carried);
                }
            }
        }
        if let Some(method) = last_unsupported {
            self.poll.unsupported.push(method);
        }
        Ok(None)
    }
}

/// A listing as a vector and its skip count.
fn listed<T>(listing: Listing<T>) -> (Vec<T>, usize) {
    (listing.items, listing.skipped)
}

/// Datasets with nested children listed on their own, each id once, and every skip counted.
fn flatten_datasets(listing: Listing<Dataset>) -> (Vec<Dataset>, usize) {
    let mut out = Vec::with_capacity(listing.items.len());
    let mut seen = HashSet::with_capacity(listing.items.len());
    let mut skipped = listing.skipped;
    let mut stack: Vec<Dataset> = listing.items.into_iter().rev().collect();
    while let Some(mut dataset) = stack.pop() {
        let children = std::mem::take(&mut dataset.children);
        skipped += children.skipped;
        stack.extend(children.items.into_iter().rev());
        if seen.insert(dataset.id.clone()) {
            out.push(dataset);
        }
    }
    (out, skipped)
}

impl TruenasClient {
    /// Polls every method (see the module docs). Fails only when the appliance cannot be
    /// reached or rejects the credentials; `now` drives the reconnect backoff and carry-over.
    pub async fn poll(&self, now: Timestamp) -> Result<TruenasPoll, TruenasError> {
        let mut inner = self.lock().await;
        self.establish(&mut inner, now).await?;
        let previous = inner.previous.take();
        let mode = inner.mode;
        let mut c = Collect {
            client: self,
            inner: &mut inner,
            poll: TruenasPoll::empty(mode),
            previous,
            now,
        };
        let outcome = collect(&mut c).await;
        let poll = c.poll;
        let previous = c.previous;
        match outcome {
            Ok(()) => {
                self.record_success(poll.system.as_ref().and_then(|s| s.version.as_deref()));
                inner.previous = Some(poll.clone());
                Ok(poll)
            }
            Err(e) => {
                inner.previous = previous;
                Err(e)
            }
        }
    }
}

/// Reads every section in turn.
async fn collect(c: &mut Collect<'_>) -> Result<(), TruenasError> {
    c.poll.system = c
        .section(
            "system",
            &[calls::system()],
            |s: SystemInfo| (s, 0),
            |p| p.system.clone(),
        )
        .await?;
    c.poll.pools = c
        .section("pools", &[calls::pools()], listed::<Pool>, |p| {
            p.pools.clone()
        })
        .await?;
    c.poll.boot_pool = c
        .section(
            "bootPool",
            &[calls::boot_pool()],
            |b: Pool| (b, 0),
            |p| p.boot_pool.clone(),
        )
        .await?;
    c.poll.datasets = c
        .section("datasets", &[calls::datasets()], flatten_datasets, |p| {
            p.datasets.clone()
        })
        .await?;
    c.poll.disks = c
        .section("disks", &[calls::disks()], listed::<Disk>, |p| {
            p.disks.clone()
        })
        .await?;
    let names: Vec<String> = c
        .poll
        .disks
        .iter()
        .flatten()
        .map(|d| d.name.clone())
        .collect();
    if !names.is_empty() {
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        c.poll.disk_temperatures = c
            .section(
                "diskTemperatures",
                &[calls::disk_temperatures(&names)],
                |t: DiskTemperatures| (t.0, 0),
                |p| p.disk_temperatures.clone(),
            )
            .await?;
    }
    c.poll.alerts = c
        .section("alerts", &[calls::alerts()], listed::<Alert>, |p| {
            p.alerts.clone()
        })
        .await?;
    let snapshot_calls = match (c.inner.mode, c.inner.snapshot_method) {
        (TransportMode::JsonRpcWebSocket, Some(method)) => vec![calls::snapshots(method)],
        (TransportMode::JsonRpcWebSocket, None) => vec![
            calls::snapshots(calls::ZFS_RESOURCE_SNAPSHOTS),
            calls::snapshots(calls::POOL_SNAPSHOTS),
        ],
        _ => vec![calls::snapshots(calls::POOL_SNAPSHOTS)],
    };
    c.poll.snapshots = c
        .section(
            "snapshots",
            &snapshot_calls,
            |s: SnapshotSummary| {
                let skipped = usize::try_from(s.skipped).unwrap_or(usize::MAX);
                (s, skipped)
            },
            |p| p.snapshots.clone(),
        )
        .await?;
    c.poll.replication = c
        .section(
            "replication",
            &[calls::replication()],
            listed::<ReplicationTask>,
            |p| p.replication.clone(),
        )
        .await?;
    c.poll.apps = c
        .section("apps", &[calls::apps()], listed::<App>, |p| p.apps.clone())
        .await?;
    c.poll.vms = c
        .section("vms", &[calls::vms()], listed::<Vm>, |p| p.vms.clone())
        .await?;
    c.poll.smb_shares = c
        .section("smbShares", &[calls::smb_shares()], listed::<Share>, |p| {
            p.smb_shares.clone()
        })
        .await?;
    c.poll.nfs_shares = c
        .section("nfsShares", &[calls::nfs_shares()], listed::<Share>, |p| {
            p.nfs_shares.clone()
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_datasets_are_flattened_once() {
        let listing: Listing<Dataset> = serde_json::from_value(json!([
            {"id": "tank", "children": [
                {"id": "tank/a", "children": [{"id": "tank/a/b"}, {"broken": true}]},
                {"id": "tank/c"}
            ]},
            {"id": "tank/a"},
            7
        ]))
        .expect("listing");
        let (flat, skipped) = flatten_datasets(listing);
        let ids: Vec<&str> = flat.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["tank", "tank/a", "tank/a/b", "tank/c"]);
        assert_eq!(skipped, 2);
        assert!(flat.iter().all(|d| d.children.items.is_empty()));
    }
}
