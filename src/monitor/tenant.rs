//! Tenants: one supervised actor subtree per organisation (the `default` org always exists).
//!
//! ```text
//! root ─ tenant:<org> (supervisor, permanent) ─┬ registry (permanent)
//!                                               ├ agent-ingest (permanent)
//!                                               ├ alert-engine (permanent)
//!                                               ├ notifier (permanent)
//!                                               ├ history-writer (permanent)
//!                                               └ collectors (supervisor) ─ <kind>:<id> (one per endpoint)
//! ```
//! Collectors sit under their own supervisor so that an endpoint that keeps crashing is retried
//! with backoff (capped at 5 min) forever, without counting against the tenant's core actors.
//! A restarted child has a new address, so each tenant keeps its registry address in a slot that
//! the child's start function refills; the fan-out hub belongs to the tenant, not to the registry,
//! so WebSocket subscriptions survive a registry restart (and resync from the new incarnation).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix::Addr;
use pulse_actors::{
    Backoff, ChildContext, ChildSpec, Hub, RemoveChild, RestartPolicy, StartChild, Supervisor,
    SupervisorConfig,
};

use super::alert_engine::{self, AlertEngine};
use super::collector::{self, Collector, CollectorBoard, CollectorSpec};
use super::endpoints::{self as endpoint_set, ManagedEndpoint};
use super::ingest::{self, AgentIngest};
use super::notifier::{self, Notifier};
use super::registry::{self as registry_actor, ChangeItem, ForgetSource, HubItem, Registry};
use crate::auth::validate_org_id;
use crate::error::{Error, Result};
use crate::history::{writer as history_writer, HistorySink, HistoryWriter};
use crate::notify::SsrfGuard;
use crate::store::Store;

/// How long a new tenant's actors may take to start.
const TENANT_START_TIMEOUT: Duration = Duration::from_secs(10);

/// The address of a child that may be replaced by a restart.
type Slot<A> = Arc<RwLock<Option<Addr<A>>>>;

/// Cheap handle to one tenant's actors.
#[derive(Clone)]
pub struct TenantHandle {
    org: Arc<str>,
    hub: Hub<HubItem>,
    changes: Hub<ChangeItem>,
    registry: Slot<Registry>,
    agent_ingest: Slot<AgentIngest>,
    collectors: Slot<Supervisor>,
    endpoints: Arc<RwLock<BTreeMap<String, ManagedEndpoint>>>,
    board: CollectorBoard,
    collector_addrs: Arc<RwLock<HashMap<String, Addr<Collector>>>>,
    timeout: Duration,
    alert_engine: Slot<AlertEngine>,
    notifier: Slot<Notifier>,
}

/// What every tenant's alerting children need from the process.
#[derive(Clone, Debug)]
pub struct TenantServices {
    /// The store (alert state, history, delivery queue, channel settings).
    pub store: Store,
    /// The webhook SSRF guard (from `PULSE_WEBHOOK_ALLOWED_CIDRS`).
    pub webhook_guard: SsrfGuard,
    /// Where every tenant's history writer hands its samples.
    pub history: HistorySink,
}

impl TenantHandle {
    /// The organisation id.
    pub fn org(&self) -> &str {
        &self.org
    }

    /// The tenant's fan-out hub of WebSocket frames (registry diffs and alerts).
    pub fn hub(&self) -> &Hub<HubItem> {
        &self.hub
    }

    /// The tenant's fan-out hub of registry diffs as whole resources, for in-process consumers.
    pub fn changes(&self) -> &Hub<ChangeItem> {
        &self.changes
    }

    /// The current registry incarnation.
    pub fn registry(&self) -> Result<Addr<Registry>> {
        current(&self.registry, &self.org, "registry")
    }

    /// Waits until the tenant's children have started: the tenant supervisor starts them just after
    /// it reports itself started, so the first request for a new org must not race them.
    async fn ready(&self) -> Result<()> {
        let deadline = tokio::time::Instant::now() + TENANT_START_TIMEOUT;
        while self.registry().is_err()
            || self.agent_ingest().is_err()
            || self.alert_engine().is_err()
            || self.notifier().is_err()
        {
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

    /// The current alert engine incarnation.
    pub fn alert_engine(&self) -> Result<Addr<AlertEngine>> {
        current(&self.alert_engine, &self.org, "alert engine")
    }

    /// The current notifier incarnation.
    pub fn notifier(&self) -> Result<Addr<Notifier>> {
        current(&self.notifier, &self.org, "notifier")
    }

    /// The current agent-ingest incarnation.
    pub fn agent_ingest(&self) -> Result<Addr<AgentIngest>> {
        current(&self.agent_ingest, &self.org, "agent ingest")
    }

    /// The endpoints this tenant monitors, by collector child name.
    pub fn endpoints(&self) -> BTreeMap<String, ManagedEndpoint> {
        self.endpoints.read().map(|e| e.clone()).unwrap_or_default()
    }

    /// Live health of the tenant's collectors, by child name.
    pub fn collector_health(&self) -> BTreeMap<String, collector::CollectorStatus> {
        self.board.read().map(|b| b.clone()).unwrap_or_default()
    }

    /// The running collector of child `name` (fault-injection tests).
    pub fn collector(&self, name: &str) -> Option<Addr<Collector>> {
        self.collector_addrs
            .read()
            .ok()?
            .get(name)
            .filter(|a| a.connected())
            .cloned()
    }

    /// Makes `desired` the set of monitored endpoints: starts collectors of new endpoints,
    /// restarts those whose configuration changed and stops those that are gone; every other
    /// collector keeps running untouched.
    pub async fn apply_endpoints(&self, desired: Vec<ManagedEndpoint>) -> Result<()> {
        let desired: BTreeMap<String, ManagedEndpoint> =
            desired.into_iter().map(|e| (e.child_name(), e)).collect();
        let (plan, renamed) = {
            let mut running = self
                .endpoints
                .write()
                .map_err(|_| Error::Internal("endpoint set poisoned".into()))?;
            let plan = endpoint_set::plan(&running, &desired);
            // A restarted endpoint under a new name feeds a new scope: the old one must go.
            let renamed: Vec<String> = plan
                .restart
                .iter()
                .filter(|n| {
                    running.get(*n).map(|e| &e.config.name)
                        != desired.get(*n).map(|e| &e.config.name)
                })
                .cloned()
                .collect();
            *running = desired;
            (plan, renamed)
        };
        if plan.is_empty() {
            return Ok(());
        }
        let supervisor = current(&self.collectors, &self.org, "collector supervisor")?;
        for name in plan.stop.iter().chain(&plan.restart) {
            // An unknown child is fine: it may have been given up on, or never started.
            let _ = supervisor.send(RemoveChild(name.clone())).await;
            let status = self.board.write().ok().and_then(|mut b| b.remove(name));
            let forget = plan.stop.contains(name) || renamed.contains(name);
            if let (true, Some(status), Ok(registry)) = (forget, status, self.registry()) {
                if let Some(source) = status.source {
                    registry.do_send(ForgetSource {
                        scope: status.scope,
                        source,
                    });
                }
            }
        }
        for name in plan.restart.iter().chain(&plan.start) {
            supervisor
                .send(StartChild(collector_spec(self.clone(), name.clone())))
                .await
                .map_err(|e| Error::Unavailable(format!("collector supervisor: {e}")))?
                .map_err(|e| Error::Internal(format!("collector {name}: {e}")))?;
        }
        tracing::info!(org = %self.org, started = plan.start.len(), restarted = plan.restart.len(), stopped = plan.stop.len(), "endpoints applied");
        Ok(())
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

/// Where a tenant's endpoints come from when it starts.
pub type EndpointSource = Box<dyn Fn(&str) -> Result<Vec<ManagedEndpoint>> + Send + Sync>;

/// How tenants are set up.
pub struct TenantOptions {
    /// Registry coalescing window.
    pub coalesce: Duration,
    /// Per-request timeout of platform clients.
    pub timeout: Duration,
    /// The endpoints of an org at start (file endpoints for `default`, plus those of the store).
    pub endpoints: EndpointSource,
}

/// All tenants of this process.
pub struct Tenants {
    root: Addr<Supervisor>,
    options: TenantOptions,
    services: TenantServices,
    map: RwLock<HashMap<String, TenantHandle>>,
}

impl Tenants {
    /// Starts the tenant registry with the `default` org.
    pub async fn start(
        root: Addr<Supervisor>,
        options: TenantOptions,
        services: TenantServices,
    ) -> Result<Self> {
        let tenants = Tenants {
            root,
            options,
            services,
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
        let endpoints = (self.options.endpoints)(org)?
            .into_iter()
            .map(|e| (e.child_name(), e))
            .collect();
        let handle = TenantHandle {
            org: Arc::from(org),
            hub: Hub::new(),
            changes: Hub::new(),
            registry: Arc::new(RwLock::new(None)),
            agent_ingest: Arc::new(RwLock::new(None)),
            collectors: Arc::new(RwLock::new(None)),
            endpoints: Arc::new(RwLock::new(endpoints)),
            board: CollectorBoard::default(),
            collector_addrs: Arc::new(RwLock::new(HashMap::new())),
            timeout: self.options.timeout,
            alert_engine: Arc::new(RwLock::new(None)),
            notifier: Arc::new(RwLock::new(None)),
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
        let spec = tenant_spec(handle.clone(), self.options.coalesce, self.services.clone());
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
fn tenant_spec(tenant: TenantHandle, coalesce: Duration, services: TenantServices) -> ChildSpec {
    let config = SupervisorConfig::new(format!("tenant:{}", tenant.org()))
        .kind("tenant")
        .intensity(10, Duration::from_secs(60))
        .backoff(Backoff::new(Duration::from_millis(100), Duration::from_secs(300)).jitter(0.2));
    ChildSpec::supervisor(config, RestartPolicy::Permanent, move |_| {
        vec![
            registry_spec(tenant.clone(), coalesce),
            agent_ingest_spec(tenant.clone()),
            alert_engine_spec(tenant.clone(), services.store.clone()),
            notifier_spec(tenant.clone(), services.clone()),
            collectors_spec(tenant.clone()),
            history_writer_spec(tenant.clone(), services.history.clone()),
        ]
    })
}

/// The supervisor of a tenant's collectors; on every (re)start it starts one collector per
/// endpoint currently in the tenant's set.
fn collectors_spec(tenant: TenantHandle) -> ChildSpec {
    let config = SupervisorConfig::new("collectors")
        .kind("collectors")
        // Backoff caps each endpoint's restarts at one per 5 min, so this never gives up in practice.
        .intensity(1000, Duration::from_secs(3600))
        .backoff(Backoff::new(Duration::from_secs(1), Duration::from_secs(300)).jitter(0.2));
    ChildSpec::supervisor(config, RestartPolicy::Permanent, move |addr| {
        if let Ok(mut slot) = tenant.collectors.write() {
            *slot = Some(addr.clone());
        }
        tenant
            .endpoints()
            .into_keys()
            .map(|name| collector_spec(tenant.clone(), name))
            .collect()
    })
}

/// The collector of endpoint child `name`; it reads the endpoint's configuration at every start,
/// so a restart after a change picks up the new one.
fn collector_spec(tenant: TenantHandle, name: String) -> ChildSpec {
    ChildSpec::new(
        name.clone(),
        "collector",
        RestartPolicy::Permanent,
        move |cx: ChildContext| {
            let endpoint = tenant
                .endpoints()
                .remove(&name)
                .ok_or_else(|| format!("endpoint {name} is no longer configured"))?;
            let config = &endpoint.config;
            let poller =
                collector::poller_for(config, tenant.timeout).map_err(|e| e.to_string())?;
            let spec = CollectorSpec {
                child: name.clone(),
                kind: config.kind.as_str(),
                endpoint: config.name.clone(),
                org: tenant.org().to_owned(),
                interval: config.poll_interval,
                cycle_timeout: cycle_timeout(tenant.timeout),
            };
            let lookup = tenant.clone();
            let board = tenant.board.clone();
            let (addr, handle) = cx.start_actor(|guard| {
                Collector::new(
                    spec,
                    poller,
                    Box::new(move || lookup.registry()),
                    board,
                    guard,
                )
            });
            if let Ok(mut addrs) = tenant.collector_addrs.write() {
                addrs.insert(name.clone(), addr);
            }
            Ok(handle)
        },
    )
    .mailbox_capacity(collector::MAILBOX_CAPACITY)
}

/// A whole poll cycle may take a few request timeouts (listing, then per-node calls, then a retry
/// on another cluster member) before it counts as hung.
fn cycle_timeout(request_timeout: Duration) -> Duration {
    request_timeout
        .saturating_mul(3)
        .max(Duration::from_secs(5))
}

fn registry_spec(tenant: TenantHandle, coalesce: Duration) -> ChildSpec {
    ChildSpec::new(
        "registry",
        "registry",
        RestartPolicy::Permanent,
        move |cx: ChildContext| {
            let org = tenant.org().to_owned();
            let hub = tenant.hub().clone();
            let changes = tenant.changes().clone();
            let (addr, handle) =
                cx.start_actor(|guard| Registry::new(org, hub, changes, coalesce, guard));
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

fn alert_engine_spec(tenant: TenantHandle, store: Store) -> ChildSpec {
    ChildSpec::new(
        "alert-engine",
        "alerts",
        RestartPolicy::Permanent,
        move |cx: ChildContext| {
            let restored = AlertEngine::restore(&store, tenant.org());
            let (engine_tenant, engine_store) = (tenant.clone(), store.clone());
            let (addr, handle) = cx.start_actor(move |guard| {
                AlertEngine::new(engine_tenant, engine_store, restored, guard)
            });
            if let Ok(mut slot) = tenant.alert_engine.write() {
                *slot = Some(addr);
            }
            Ok(handle)
        },
    )
    .mailbox_capacity(alert_engine::MAILBOX_CAPACITY)
}

fn notifier_spec(tenant: TenantHandle, services: TenantServices) -> ChildSpec {
    ChildSpec::new(
        "notifier",
        "notifier",
        RestartPolicy::Permanent,
        move |cx: ChildContext| {
            let client =
                Notifier::client(services.webhook_guard.clone()).map_err(|e| e.to_string())?;
            let org = tenant.org().to_owned();
            let store = services.store.clone();
            let (addr, handle) =
                cx.start_actor(move |guard| Notifier::new(org, store, client, guard));
            if let Ok(mut slot) = tenant.notifier.write() {
                *slot = Some(addr);
            }
            Ok(handle)
        },
    )
    .mailbox_capacity(notifier::MAILBOX_CAPACITY)
}

fn history_writer_spec(tenant: TenantHandle, history: HistorySink) -> ChildSpec {
    ChildSpec::new(
        "history-writer",
        "history",
        RestartPolicy::Permanent,
        move |cx: ChildContext| {
            let org: Arc<str> = Arc::from(tenant.org());
            let subscription = tenant.changes().subscribe(history_writer::HUB_CAPACITY);
            let sink = history.clone();
            let (_, handle) =
                cx.start_actor(|guard| HistoryWriter::new(org, sink, subscription, guard));
            Ok(handle)
        },
    )
    .mailbox_capacity(history_writer::MAILBOX_CAPACITY)
}
