//! Tenants: one supervised actor subtree per organisation (the `default` org always exists).
//!
//! ```text
//! root ─ tenant:<org> (supervisor, permanent) ─ registry (permanent)
//!                                              ├ agent-ingest (permanent)
//!                                              └ history-writer (permanent)
//! ```
//! A restarted child has a new address, so each tenant keeps its registry address in a slot that
//! the child's start function refills; the fan-out hub belongs to the tenant, not to the registry,
//! so WebSocket subscriptions survive a registry restart (and resync from the new incarnation).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix::Addr;
use pulse_actors::{
    Backoff, ChildContext, ChildSpec, Hub, RestartPolicy, StartChild, Supervisor, SupervisorConfig,
};

use super::ingest::{self, AgentIngest};
use super::registry::{self as registry_actor, HubItem, Registry};
use crate::auth::validate_org_id;
use crate::error::{Error, Result};
use crate::history::{writer as history_writer, HistorySink, HistoryWriter};

/// How long a new tenant's actors may take to start.
const TENANT_START_TIMEOUT: Duration = Duration::from_secs(10);

/// The address of a child that may be replaced by a restart.
type Slot<A> = Arc<RwLock<Option<Addr<A>>>>;

/// Cheap handle to one tenant's actors.
#[derive(Clone)]
pub struct TenantHandle {
    org: Arc<str>,
    hub: Hub<HubItem>,
    registry: Slot<Registry>,
    agent_ingest: Slot<AgentIngest>,
}

impl TenantHandle {
    /// The organisation id.
    pub fn org(&self) -> &str {
        &self.org
    }

    /// The tenant's fan-out hub of registry diffs.
    pub fn hub(&self) -> &Hub<HubItem> {
        &self.hub
    }

    /// The current registry incarnation.
    pub fn registry(&self) -> Result<Addr<Registry>> {
        current(&self.registry, &self.org, "registry")
    }

    /// Waits until the tenant's children have started: the tenant supervisor starts them just after
    /// it reports itself started, so the first request for a new org must not race them.
    async fn ready(&self) -> Result<()> {
        let deadline = tokio::time::Instant::now() + TENANT_START_TIMEOUT;
        while self.registry().is_err() || self.agent_ingest().is_err() {
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::Unavailable(format!(
                    "org {} did not start in time",
                    self.org
                )));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok(())
    }

    /// The current agent-ingest incarnation.
    pub fn agent_ingest(&self) -> Result<Addr<AgentIngest>> {
        current(&self.agent_ingest, &self.org, "agent ingest")
    }
}

/// The live address in a slot, or 503 while its actor restarts.
fn current<A: actix::Actor>(slot: &Slot<A>, org: &str, what: &str) -> Result<Addr<A>> {
    slot.read()
        .ok()
        .and_then(|s| s.clone())
        .filter(|a| a.connected())
        .ok_or_else(|| Error::Unavailable(format!("{what} of org {org} is restarting")))
}

/// All tenants of this process.
pub struct Tenants {
    root: Addr<Supervisor>,
    coalesce: Duration,
    history: HistorySink,
    map: RwLock<HashMap<String, TenantHandle>>,
}

impl Tenants {
    /// Starts the tenant registry with the `default` org; every tenant's history writer hands its
    /// samples to `history`.
    pub async fn start(
        root: Addr<Supervisor>,
        coalesce: Duration,
        history: HistorySink,
    ) -> Result<Self> {
        let tenants = Tenants {
            root,
            coalesce,
            history,
            map: RwLock::new(HashMap::new()),
        };
        tenants.ensure(crate::auth::DEFAULT_ORG_ID).await?;
        Ok(tenants)
    }

    /// The tenant of `org`, if it is running.
    pub fn get(&self, org: &str) -> Option<TenantHandle> {
        self.map.read().ok()?.get(org).cloned()
    }

    /// The tenant of `org`, starting its subtree on first use.
    pub async fn ensure(&self, org: &str) -> Result<TenantHandle> {
        if let Some(t) = self.get(org) {
            // Possibly still starting (a concurrent first request): cheap when already up.
            t.ready().await?;
            return Ok(t);
        }
        validate_org_id(org)?;
        let handle = TenantHandle {
            org: Arc::from(org),
            hub: Hub::new(),
            registry: Arc::new(RwLock::new(None)),
            agent_ingest: Arc::new(RwLock::new(None)),
        };
        {
            let mut map = self
                .map
                .write()
                .map_err(|_| Error::Internal("tenant map poisoned".into()))?;
            if let Some(existing) = map.get(org) {
                return Ok(existing.clone());
            }
            map.insert(org.to_owned(), handle.clone());
        }
        let spec = tenant_spec(handle.clone(), self.coalesce, self.history.clone());
        self.root
            .send(StartChild(spec))
            .await
            .map_err(|e| Error::Unavailable(format!("root supervisor: {e}")))?
            .map_err(|e| Error::Internal(format!("tenant {org}: {e}")))?;
        handle.ready().await?;
        Ok(handle)
    }
}

/// The supervised subtree of one tenant.
fn tenant_spec(tenant: TenantHandle, coalesce: Duration, history: HistorySink) -> ChildSpec {
    let config = SupervisorConfig::new(format!("tenant:{}", tenant.org()))
        .kind("tenant")
        .intensity(10, Duration::from_secs(60))
        .backoff(Backoff::new(Duration::from_millis(100), Duration::from_secs(300)).jitter(0.2));
    ChildSpec::supervisor(config, RestartPolicy::Permanent, move |_| {
        vec![
            registry_spec(tenant.clone(), coalesce),
            agent_ingest_spec(tenant.clone()),
            history_writer_spec(tenant.clone(), history.clone()),
        ]
    })
}

fn registry_spec(tenant: TenantHandle, coalesce: Duration) -> ChildSpec {
    ChildSpec::new(
        "registry",
        "registry",
        RestartPolicy::Permanent,
        move |cx: ChildContext| {
            let org = tenant.org().to_owned();
            let hub = tenant.hub().clone();
            let (addr, handle) = cx.start_actor(|guard| Registry::new(org, hub, coalesce, guard));
            if let Ok(mut slot) = tenant.registry.write() {
                *slot = Some(addr);
            }
            Ok(handle)
        },
    )
    .mailbox_capacity(registry_actor::MAILBOX_CAPACITY)
}

fn agent_ingest_spec(tenant: TenantHandle) -> ChildSpec {
    ChildSpec::new(
        "agent-ingest",
        "ingest",
        RestartPolicy::Permanent,
        move |cx: ChildContext| {
            let lookup = tenant.clone();
            let (addr, handle) = cx
                .start_actor(|guard| AgentIngest::new(Box::new(move || lookup.registry()), guard));
            if let Ok(mut slot) = tenant.agent_ingest.write() {
                *slot = Some(addr);
            }
            Ok(handle)
        },
    )
    .mailbox_capacity(ingest::MAILBOX_CAPACITY)
}

fn history_writer_spec(tenant: TenantHandle, history: HistorySink) -> ChildSpec {
    ChildSpec::new(
        "history-writer",
        "history",
        RestartPolicy::Permanent,
        move |cx: ChildContext| {
            let org: Arc<str> = Arc::from(tenant.org());
            let subscription = tenant.hub().subscribe(history_writer::HUB_CAPACITY);
            let sink = history.clone();
            let (_, handle) =
                cx.start_actor(|guard| HistoryWriter::new(org, sink, subscription, guard));
            Ok(handle)
        },
    )
    .mailbox_capacity(history_writer::MAILBOX_CAPACITY)
}
