//! The AgentIngest actor of a tenant: turns validated agent reports into source snapshots.
//!
//! Parsing and validation happen in the HTTP handler (nothing unvalidated reaches an actor); this
//! actor owns what is stateful — the counter baselines that turn cumulative byte counters into
//! rates — and hands each snapshot to the tenant's registry with `try_send`, so a registry that
//! cannot keep up makes ingest answer 503 instead of queueing without bound.

use std::time::Duration;

use actix::prelude::*;
use pulse_actors::ExitGuard;
use pulse_model::SourceSnapshot;

use super::clock;
use super::registry::{Ingest, Registry};
use crate::error::{Error, Result};
use crate::sources::agent::{
    AgentIngestor, DockerReply, DockerReport, HostReply, HostReport, KubernetesReply,
    KubernetesReport,
};

/// Mailbox capacity: reports beyond it are refused with 503 rather than queued.
pub const MAILBOX_CAPACITY: usize = 2048;
/// How often idle counter baselines are evicted.
const SWEEP_EVERY: Duration = Duration::from_secs(300);

/// Finds the registry's current incarnation (it may restart independently).
pub type RegistryLookup = Box<dyn Fn() -> Result<Addr<Registry>>>;

/// Normalises agent reports for one tenant.
pub struct AgentIngest {
    ingestor: AgentIngestor,
    registry: RegistryLookup,
    _guard: ExitGuard,
}

impl AgentIngest {
    /// An ingest actor forwarding to the registry found by `registry`.
    pub fn new(registry: RegistryLookup, guard: ExitGuard) -> Self {
        AgentIngest {
            ingestor: AgentIngestor::new(crate::VERSION),
            registry,
            _guard: guard,
        }
    }

    fn forward(&self, snapshot: SourceSnapshot) -> Result<()> {
        (self.registry)()?
            .try_send(Ingest(snapshot))
            .map_err(|e| Error::Unavailable(format!("registry is busy: {e}")))
    }
}

impl Actor for AgentIngest {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(SWEEP_EVERY, |act, _| act.ingestor.sweep(clock::now()));
    }
}

/// A validated host report.
#[derive(Message)]
#[rtype(result = "Result<HostReply>")]
pub struct IngestHost(pub HostReport);

impl Handler<IngestHost> for AgentIngest {
    type Result = Result<HostReply>;

    fn handle(&mut self, msg: IngestHost, _: &mut Self::Context) -> Self::Result {
        let (snapshot, reply) = self.ingestor.host(msg.0, clock::now())?;
        self.forward(snapshot)?;
        Ok(reply)
    }
}

/// A validated Docker report.
#[derive(Message)]
#[rtype(result = "Result<DockerReply>")]
pub struct IngestDocker(pub DockerReport);

impl Handler<IngestDocker> for AgentIngest {
    type Result = Result<DockerReply>;

    fn handle(&mut self, msg: IngestDocker, _: &mut Self::Context) -> Self::Result {
        let (snapshot, reply) = self.ingestor.docker(msg.0, clock::now())?;
        self.forward(snapshot)?;
        Ok(reply)
    }
}

/// A validated Kubernetes report.
#[derive(Message)]
#[rtype(result = "Result<KubernetesReply>")]
pub struct IngestKubernetes(pub KubernetesReport);

impl Handler<IngestKubernetes> for AgentIngest {
    type Result = Result<KubernetesReply>;

    fn handle(&mut self, msg: IngestKubernetes, _: &mut Self::Context) -> Self::Result {
        let (snapshot, reply) = self.ingestor.kubernetes(msg.0, clock::now())?;
        self.forward(snapshot)?;
        Ok(reply)
    }
}
