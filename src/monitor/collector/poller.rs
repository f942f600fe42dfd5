//! What a collector drives: one [`Poller`] per endpoint kind, turning a configured endpoint into
//! source snapshots. The pollers own the platform clients and whatever state must survive between
//! cycles (rate baselines, the node-offline grace, which optional parts are due).

use std::time::Duration;

use futures_util::future::LocalBoxFuture;
use pulse_model::{ResourceType, Source, SourceSnapshot, Timestamp};

use crate::config::{EndpointConfig, EndpointKind, MonitorFlags};
use crate::error::{Error, Result};
use crate::sources::proxmox::normalise::{normalise_pbs, normalise_pmg, PveNormaliser};
use crate::sources::proxmox::pbs::{poll_pbs, PbsClient, PbsPollPlan};
use crate::sources::proxmox::pmg::{poll_pmg, PmgClient};
use crate::sources::proxmox::pve::{poll_pve, PollPlan, PveClient};
use crate::sources::proxmox::{endpoint::settings_for, EndpointHealth, EndpointSettings};
use crate::sources::truenas::{normalise_truenas, TruenasClient, TruenasSettings};

/// Physical disks change slowly and are expensive to list: polled about every 5 minutes.
const DISKS_EVERY: Duration = Duration::from_secs(300);
/// vzdump task lists: about every minute.
const BACKUPS_EVERY: Duration = Duration::from_secs(60);

/// The result of one successful poll cycle.
#[derive(Debug, Default)]
pub struct PollReport {
    /// Snapshots to hand to the registry, in order.
    pub snapshots: Vec<SourceSnapshot>,
    /// Malformed items that were skipped (counted, never fatal).
    pub skipped: u64,
    /// Parts of the poll that failed without failing it, one line each.
    pub warnings: Vec<String>,
}

/// One endpoint's polling logic, driven by a collector actor one cycle at a time (never
/// concurrently with itself).
pub trait Poller {
    /// The registry scope its snapshots carry (also the `connectionHealth` key).
    fn scope(&self) -> String;
    /// The source its snapshots feed.
    fn source(&self) -> Source;
    /// Runs one poll cycle.
    fn poll(&mut self, now: Timestamp) -> LocalBoxFuture<'_, Result<PollReport>>;
    /// Health of each API address of a multi-address endpoint (a PVE cluster with failover);
    /// empty for single-address endpoints, whose health is the collector's own.
    fn addresses(&self) -> Vec<EndpointHealth> {
        Vec::new()
    }
}

/// Builds the poller of a configured Proxmox endpoint (TrueNAS has its own builder).
pub fn proxmox_poller(config: &EndpointConfig, timeout: Duration) -> Result<Box<dyn Poller>> {
    let settings = settings_for(config, timeout)?;
    let name = config.name.clone();
    let cycles = |every: Duration| {
        let interval = config.poll_interval.max(Duration::from_secs(1));
        (every.as_secs() / interval.as_secs().max(1)).max(1)
    };
    Ok(match config.kind {
        EndpointKind::Pve => Box::new(PvePoller {
            monitor: config.monitor,
            client: PveClient::new(&settings)?,
            normaliser: PveNormaliser::new(name),
            cycle: 0,
            disks_every: cycles(DISKS_EVERY),
            backups_every: cycles(BACKUPS_EVERY),
        }),
        EndpointKind::Pbs => Box::new(PbsPoller {
            plan: PbsPollPlan {
                inventory: config.monitor.backups,
                jobs: true,
            },
            client: PbsClient::new(first(&settings)?)?,
            name,
        }),
        EndpointKind::Pmg => Box::new(PmgPoller {
            client: PmgClient::new(first(&settings)?)?,
            name,
        }),
        EndpointKind::Truenas => {
            return Err(Error::Internal(
                "a TrueNAS connection needs the TrueNAS poller".into(),
            ))
        }
    })
}

/// Builds the poller of a TrueNAS connection; its WebSocket session stays open between polls.
pub fn truenas_poller(config: &EndpointConfig, timeout: Duration) -> Result<Box<dyn Poller>> {
    let settings = TruenasSettings::from_endpoint(config)?.with_timeout(timeout);
    let connection = settings.connection_id.clone();
    Ok(Box::new(TruenasPoller {
        client: TruenasClient::new(settings)?,
        connection,
    }))
}

/// A TrueNAS SCALE/CORE appliance.
struct TruenasPoller {
    client: TruenasClient,
    connection: String,
}

impl Poller for TruenasPoller {
    fn source(&self) -> Source {
        Source::Truenas
    }

    fn scope(&self) -> String {
        self.connection.clone()
    }

    fn poll(&mut self, now: Timestamp) -> LocalBoxFuture<'_, Result<PollReport>> {
        Box::pin(async move {
            let poll = self.client.poll(now).await?;
            Ok(PollReport {
                skipped: poll.skipped,
                warnings: poll
                    .failures
                    .iter()
                    .map(|f| format!("{}: {}", f.method, f.error))
                    .collect(),
                snapshots: vec![normalise_truenas(&poll, &self.connection, now)],
            })
        })
    }

    fn addresses(&self) -> Vec<EndpointHealth> {
        vec![self.client.health()]
    }
}

/// The primary address of a single-address endpoint.
fn first(settings: &[EndpointSettings]) -> Result<&EndpointSettings> {
    settings
        .first()
        .ok_or_else(|| Error::Internal("endpoint without an address".into()))
}

/// A Proxmox VE cluster (or single node).
struct PvePoller {
    monitor: MonitorFlags,
    client: PveClient,
    normaliser: PveNormaliser,
    cycle: u64,
    disks_every: u64,
    backups_every: u64,
}

impl Poller for PvePoller {
    fn source(&self) -> Source {
        Source::Proxmox
    }

    fn scope(&self) -> String {
        self.normaliser.scope()
    }

    fn poll(&mut self, now: Timestamp) -> LocalBoxFuture<'_, Result<PollReport>> {
        let cycle = self.cycle;
        self.cycle += 1;
        let monitor = self.monitor;
        let plan = PollPlan {
            disks: monitor.physical_disks && cycle % self.disks_every == 0,
            backups: monitor.backups && cycle % self.backups_every == 0,
            ceph: monitor.storage,
            replication: true,
        };
        Box::pin(async move {
            let poll = poll_pve(&self.client, plan).await?;
            let mut snapshot = self.normaliser.normalise(&poll, now);
            snapshot.records.retain(|r| match r.resource_type {
                ResourceType::Vm => monitor.vms,
                ResourceType::SystemContainer => monitor.containers,
                ResourceType::Storage | ResourceType::Ceph => monitor.storage,
                ResourceType::PhysicalDisk => monitor.physical_disks,
                _ => true,
            });
            Ok(PollReport {
                skipped: poll.skipped as u64,
                warnings: poll.all_warnings().map(str::to_owned).collect(),
                snapshots: vec![snapshot],
            })
        })
    }

    fn addresses(&self) -> Vec<EndpointHealth> {
        self.client.api().health()
    }
}

/// A Proxmox Backup Server.
struct PbsPoller {
    plan: PbsPollPlan,
    client: PbsClient,
    name: String,
}

impl Poller for PbsPoller {
    fn source(&self) -> Source {
        Source::Pbs
    }

    fn scope(&self) -> String {
        format!("pbs:{}", self.name)
    }

    fn poll(&mut self, now: Timestamp) -> LocalBoxFuture<'_, Result<PollReport>> {
        Box::pin(async move {
            let poll = poll_pbs(&self.client, self.plan).await?;
            Ok(PollReport {
                skipped: poll.skipped,
                warnings: poll.warnings.clone(),
                snapshots: vec![normalise_pbs(&poll, &self.name, now)],
            })
        })
    }
}

/// A Proxmox Mail Gateway.
struct PmgPoller {
    client: PmgClient,
    name: String,
}

impl Poller for PmgPoller {
    fn source(&self) -> Source {
        Source::Pmg
    }

    fn scope(&self) -> String {
        format!("pmg:{}", self.name)
    }

    fn poll(&mut self, now: Timestamp) -> LocalBoxFuture<'_, Result<PollReport>> {
        Box::pin(async move {
            let poll = poll_pmg(&self.client).await?;
            Ok(PollReport {
                skipped: poll.skipped as u64,
                warnings: poll.warnings.clone(),
                snapshots: vec![normalise_pmg(&poll, &self.name, now)],
            })
        })
    }
}
