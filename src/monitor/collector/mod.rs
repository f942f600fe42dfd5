//! Collector actors: one per configured endpoint, supervised under its tenant (SPEC §7).
//!
//! A collector polls on its interval with jitter, backs off exponentially (capped at 5 minutes)
//! while its endpoint fails, bounds every cycle with a timeout so a hanging endpoint stalls only
//! itself, and hands each snapshot to the registry. Its health is kept on the tenant's
//! [`CollectorBoard`] (for `/api/system/actors` and the endpoint API), in the registry's
//! `connectionHealth`, and in the `pulse_poll_*` Prometheus series.

mod poller;
mod probe;

pub use poller::{proxmox_poller, truenas_poller, PollReport, Poller};
pub use probe::probe;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use actix::prelude::*;
use pulse_actors::{run_periodic, Backoff, ExitGuard, Outcome, PeriodicSchedule};
use serde::Serialize;

use super::clock;
use super::registry::{Ingest, Registry, SourceFailed};
use crate::error::Result;
use crate::telemetry::names;

/// Builds the poller of any configured endpoint.
pub fn poller_for(
    config: &crate::config::EndpointConfig,
    timeout: Duration,
) -> Result<Box<dyn Poller>> {
    match config.kind {
        crate::config::EndpointKind::Truenas => truenas_poller(config, timeout),
        _ => proxmox_poller(config, timeout),
    }
}

/// Mailbox capacity of a collector (it receives almost nothing: test hooks and stops).
pub const MAILBOX_CAPACITY: usize = 16;
/// The longest a failing endpoint waits between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// How a collector finds the current registry incarnation.
pub type RegistryLookup = Box<dyn Fn() -> Result<Addr<Registry>>>;

/// Live health of every collector of a tenant, by child name.
pub type CollectorBoard = Arc<RwLock<BTreeMap<String, CollectorStatus>>>;

/// Health of one collector as shown by the API.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CollectorStatus {
    /// `pve`, `pbs`, `pmg` or `truenas`.
    pub kind: String,
    /// The endpoint's name.
    pub endpoint: String,
    /// Whether the last poll succeeded (`None` before the first one ended).
    pub healthy: Option<bool>,
    /// Unix ms of the last finished poll.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_poll: Option<i64>,
    /// Unix ms of the last successful poll.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_success: Option<i64>,
    /// The last failure, verbatim from the platform client (never contains a secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// How long the last poll took, in ms.
    pub last_duration_ms: u64,
    /// Polls finished since the actor started.
    pub polls: u64,
    /// Non-fatal problems of the last poll.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Per-address health of a multi-address endpoint.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<AddressStatus>,
    /// The registry scope its snapshots carry (to forget them when the endpoint is removed).
    #[serde(skip)]
    pub scope: String,
    /// The source its snapshots feed.
    #[serde(skip)]
    pub source: Option<pulse_model::Source>,
}

/// Health of one API address of a cluster endpoint.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AddressStatus {
    /// The API base URL.
    pub url: String,
    /// Whether the last request to it reached it.
    pub healthy: bool,
    /// Why it is unhealthy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Who a collector is and how it polls.
#[derive(Debug, Clone)]
pub struct CollectorSpec {
    /// The supervisor child name (`<kind>:<id>`), also the board key.
    pub child: String,
    /// `pve`, `pbs`, `pmg` or `truenas`.
    pub kind: &'static str,
    /// The endpoint's name (metric label).
    pub endpoint: String,
    /// The tenant (metric label).
    pub org: String,
    /// Time between successful polls.
    pub interval: Duration,
    /// The longest one poll cycle may take before it is abandoned as hung.
    pub cycle_timeout: Duration,
}

/// The actor polling one endpoint.
pub struct Collector {
    spec: CollectorSpec,
    poller: Option<Box<dyn Poller>>,
    scope: String,
    source: pulse_model::Source,
    registry: RegistryLookup,
    board: CollectorBoard,
    _guard: ExitGuard,
}

impl Collector {
    /// A collector driving `poller` and reporting into `board`.
    pub fn new(
        spec: CollectorSpec,
        poller: Box<dyn Poller>,
        registry: RegistryLookup,
        board: CollectorBoard,
        guard: ExitGuard,
    ) -> Self {
        Collector {
            scope: poller.scope(),
            source: poller.source(),
            spec,
            poller: Some(poller),
            registry,
            board,
            _guard: guard,
        }
    }

    /// Starts one poll cycle; the poller travels with the future and comes back when it ends.
    fn tick(&mut self) -> ResponseActFuture<Self, Outcome> {
        let Some(mut poller) = self.poller.take() else {
            return Box::pin(fut::ready(Outcome::Failure));
        };
        let timeout = self.spec.cycle_timeout;
        let started = Instant::now();
        let now = clock::now();
        let cycle = async move {
            let result = match tokio::time::timeout(timeout, poller.poll(now)).await {
                Ok(result) => result,
                Err(_) => Err(crate::Error::Unavailable(format!(
                    "poll did not finish within {} s",
                    timeout.as_secs()
                ))),
            };
            (poller, result)
        };
        Box::pin(
            cycle
                .into_actor(self)
                .map(move |(poller, result), act, _| act.finish(poller, result, started)),
        )
    }

    /// Records the outcome of a cycle and forwards its snapshots.
    fn finish(
        &mut self,
        poller: Box<dyn Poller>,
        result: Result<PollReport>,
        started: Instant,
    ) -> Outcome {
        let elapsed = started.elapsed();
        let addresses = poller
            .addresses()
            .into_iter()
            .map(|h| AddressStatus {
                url: h.base_url,
                healthy: h.healthy,
                error: h.last_error,
            })
            .collect();
        self.poller = Some(poller);
        let labels = [
            ("org", self.spec.org.clone()),
            ("kind", self.spec.kind.to_owned()),
            ("endpoint", self.spec.endpoint.clone()),
        ];
        metrics::histogram!(names::POLL_DURATION, &labels).record(elapsed.as_secs_f64());
        let registry = (self.registry)();
        let outcome_label = match &result {
            Ok(_) => "success",
            Err(crate::Error::Unavailable(_)) => "timeout",
            Err(_) => "failure",
        };
        let mut with_outcome = labels.to_vec();
        with_outcome.push(("outcome", outcome_label.to_owned()));
        metrics::counter!(names::POLLS, &with_outcome).increment(1);
        let now = clock::now_millis();
        let mut status = self.status();
        status.polls += 1;
        status.last_poll = Some(now);
        status.last_duration_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        status.addresses = addresses;
        let outcome = match result {
            Ok(report) => {
                metrics::counter!(names::POLL_SKIPPED, &labels).increment(report.skipped);
                for warning in &report.warnings {
                    tracing::debug!(endpoint = %self.spec.endpoint, %warning, "partial poll");
                }
                if let Ok(registry) = &registry {
                    for snapshot in report.snapshots {
                        if registry.try_send(Ingest(snapshot)).is_err() {
                            metrics::counter!(names::POLL_DROPPED, &labels).increment(1);
                        }
                    }
                }
                status.healthy = Some(true);
                status.last_success = Some(now);
                status.last_error = None;
                status.consecutive_failures = 0;
                status.warnings = report.warnings;
                Outcome::Success
            }
            Err(e) => {
                let message = e.to_string();
                if status.consecutive_failures == 0 {
                    tracing::warn!(kind = self.spec.kind, endpoint = %self.spec.endpoint, error = %message, "poll failed");
                }
                if let Ok(registry) = &registry {
                    let _ = registry.try_send(SourceFailed {
                        scope: self.scope.clone(),
                    });
                }
                status.healthy = Some(false);
                status.last_error = Some(message);
                status.consecutive_failures = status.consecutive_failures.saturating_add(1);
                Outcome::Failure
            }
        };
        metrics::gauge!(names::POLL_FAILURES, &labels).set(f64::from(status.consecutive_failures));
        self.set_status(status);
        outcome
    }

    fn status(&self) -> CollectorStatus {
        self.board
            .read()
            .ok()
            .and_then(|b| b.get(&self.spec.child).cloned())
            .unwrap_or_else(|| CollectorStatus {
                kind: self.spec.kind.to_owned(),
                endpoint: self.spec.endpoint.clone(),
                scope: self.scope.clone(),
                source: Some(self.source),
                ..CollectorStatus::default()
            })
    }

    fn set_status(&self, status: CollectorStatus) {
        if let Ok(mut board) = self.board.write() {
            board.insert(self.spec.child.clone(), status);
        }
    }
}

impl Actor for Collector {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // A restarted collector keeps its history of failures on the board; a new one starts clean.
        let status = self.status();
        self.set_status(status);
        let interval = self.spec.interval;
        let schedule = PeriodicSchedule::new(interval)
            .jitter(0.1)
            .backoff(Backoff::new(interval, MAX_BACKOFF.max(interval)).jitter(0.2));
        run_periodic(ctx, schedule, |act: &mut Self, _| act.tick());
        tracing::info!(kind = self.spec.kind, endpoint = %self.spec.endpoint, interval_s = interval.as_secs(), "collector started");
    }
}

/// Fault injection for the supervision tests: the collector panics in its handler, as a bug in a
/// platform decoder would, and must be restarted by its supervisor without touching siblings.
#[doc(hidden)]
#[derive(Message)]
#[rtype(result = "()")]
pub struct InjectPanic;

impl Handler<InjectPanic> for Collector {
    type Result = ();

    fn handle(&mut self, _: InjectPanic, _: &mut Self::Context) {
        panic!("injected collector panic ({})", self.spec.child);
    }
}
