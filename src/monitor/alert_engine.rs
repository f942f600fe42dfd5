//! The AlertEngine actor of one tenant: owns the pure alert reducer's state and feeds it from the
//! registry's diffs (event-driven: one `Observed` per changed resource, `Removed` per removed
//! one), a tick about once a second, and operator actions from the API.
//!
//! What a step produces goes four ways: lifecycle events to the append-only history, `Notify`
//! intents to the durable delivery queue (both, with the state, in one flushed store commit, then
//! a kick to the Notifier and a `Delivered` signal back into the reducer; commits run one at a time
//! and steps arriving meanwhile share the next one), `alert`/`alertResolved`
//! frames to WebSocket sessions through the tenant hub, and the active/recently-resolved lists to
//! the registry for the full state and `rawData`. Steps that change the state but nothing else
//! durable (observations, pending delays) are saved every few seconds instead of on every report;
//! steps that leave the persisted state as it was (a quiet resource observed again) are not saved.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use pulse_actors::{ExitGuard, HubEvent};
use pulse_alerts::{
    apply_config, Alert, AlertConfig, AlertEvent, AlertState, NativeAlert, NotifyItem, Signal,
};
use pulse_model::{Resource, Timestamp};
use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::clock;
use super::notifier::Kick;
use super::registry::{AlertLists, ChangeItem, GetAllResources, HubItem, SetAlerts};
use super::tenant::TenantHandle;
use crate::error::{Error, Result};
use crate::notify::plan;
use crate::notify::{EmailConfig, Webhooks};
use crate::store::{AlertHistoryEntry, AlertStore, DocumentStore, Namespace, Store};
use crate::telemetry::names;

/// Mailbox capacity: API requests (config, ack, queries) only.
pub const MAILBOX_CAPACITY: usize = 256;
/// Diffs buffered for the engine before it counts as lagging and rebuilds from the registry.
const HUB_QUEUE: usize = 1024;
/// Tick interval (time delays, escalations, grouping windows, held notifications).
const TICK: Duration = Duration::from_secs(1);
/// Shortest interval between two updates of the registry's alert lists (the tick sends what a
/// burst left pending).
const LISTS_EVERY: Duration = Duration::from_secs(1);
/// How often a state changed only by observations is saved.
const SAVE_EVERY: Duration = Duration::from_secs(5);
/// How often old history is pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// History is kept this long (90 days)…
const HISTORY_KEEP_MS: i64 = 90 * 24 * 3_600_000;
/// …and at most this many entries per org.
const HISTORY_KEEP_MAX: usize = 100_000;

/// The alert configuration document of an org.
impl crate::store::Document for AlertConfig {
    const NAME: &'static str = "alerts-config";
    const VERSION: u32 = 1;
}

/// The AlertEngine of one tenant.
pub struct AlertEngine {
    tenant: TenantHandle,
    store: Store,
    state: AlertState,
    config: AlertConfig,
    /// Hash of each resource's last native alert list, to signal only changes (only resources
    /// with a `truenas.alerts` list have one).
    native: HashMap<String, u64>,
    /// State changed (its generation moved, the configuration changed, or a save failed) since
    /// it was last saved.
    dirty: bool,
    /// The alert lists may have changed since they were last given to the registry.
    lists_dirty: bool,
    /// The lists the registry holds (what was last sent; empty for a fresh registry), so an
    /// unchanged list causes no frame.
    sent_lists: Option<(Value, Value)>,
    /// When the lists were last given to the registry: they go at most once per
    /// [`LISTS_EVERY`], since each change makes every client receive the whole list.
    lists_sent_at: Option<Instant>,
    /// What the next commit writes.
    batch: Batch,
    /// A commit is running.
    committing: bool,
    _guard: ExitGuard,
}

/// Steps waiting to be made durable together.
#[derive(Default)]
struct Batch {
    /// Their events (the `Notify` ones become deliveries).
    events: Vec<AlertEvent>,
    /// Their history entries.
    history: Vec<AlertHistoryEntry>,
    /// Their notification items, confirmed to the reducer once queued.
    notifies: Vec<NotifyItem>,
    /// Callers waiting for durability.
    replies: Vec<oneshot::Sender<Result<()>>>,
    /// A commit was asked for (possibly of the state alone).
    wanted: bool,
}

impl AlertEngine {
    /// The persisted configuration (defaults when none was saved) and state of `org`. A value
    /// that cannot be read (written by another version, damaged) is logged and replaced by the
    /// default rather than keeping the whole organisation from starting.
    pub fn restore(store: &Store, org: &str) -> (AlertConfig, AlertState) {
        let config = store
            .load::<AlertConfig>(Namespace::Org(org))
            .unwrap_or_else(|e| {
                tracing::error!(org, error = %e, "alert configuration unreadable; using the defaults");
                None
            })
            .unwrap_or_default();
        let state = store.load_alert_state(org).unwrap_or_else(|e| {
            tracing::error!(org, error = %e, "alert state unreadable; starting without alerts");
            None
        });
        (config, state.unwrap_or_default())
    }

    /// An engine for `tenant` continuing from a restored configuration and state.
    pub fn new(
        tenant: TenantHandle,
        store: Store,
        (config, state): (AlertConfig, AlertState),
        guard: ExitGuard,
    ) -> Self {
        AlertEngine {
            tenant,
            store,
            state: apply_config(state, &config),
            config,
            native: HashMap::new(),
            dirty: false,
            lists_dirty: true,
            sent_lists: Some((json!([]), json!([]))),
            lists_sent_at: None,
            batch: Batch::default(),
            committing: false,
            _guard: guard,
        }
    }

    fn org(&self) -> &str {
        self.tenant.org()
    }

    /// Folds one signal into the state; it needs saving only if the step changed what the state
    /// persists (observing a quiet resource again changes nothing).
    fn step(&mut self, signal: &Signal, now: Timestamp, events: &mut Vec<AlertEvent>) {
        let generation = self.state.generation();
        events.extend(self.state.step(signal, &self.config, now));
        self.dirty |= self.state.generation() != generation;
    }

    /// Observes the resources of one diff (and their native alerts), then removals.
    fn observe(&mut self, upserted: &[Resource], removed: &[String], ctx: &mut Context<Self>) {
        let now = clock::now();
        let mut events = Vec::new();
        for resource in upserted {
            let signal = Signal::Observed {
                resource: Box::new(resource.clone()),
            };
            self.step(&signal, now, &mut events);
            if let Some(signal) = self.native_change(resource) {
                self.step(&signal, now, &mut events);
            }
        }
        for id in removed {
            self.native.remove(id);
            self.step(&Signal::Removed { id: id.clone() }, now, &mut events);
        }
        self.settle(events, None, ctx);
    }

    /// A `NativeAlerts` signal when the resource's `truenas.alerts` list changed.
    fn native_change(&mut self, resource: &Resource) -> Option<Signal> {
        let list = resource
            .facets
            .get("truenas")
            .and_then(|t| t.get("alerts"))
            .and_then(Value::as_array);
        let Some(list) = list else {
            // A list that disappears means no native alerts any more.
            return self
                .native
                .remove(&resource.id)
                .map(|_| Signal::NativeAlerts {
                    resource_id: resource.id.clone(),
                    alerts: Vec::new(),
                });
        };
        let mut hasher = DefaultHasher::new();
        Value::Array(list.clone()).to_string().hash(&mut hasher);
        let hash = hasher.finish();
        if self.native.insert(resource.id.clone(), hash) == Some(hash) {
            return None;
        }
        let alerts = list.iter().filter_map(native_alert).collect();
        Some(Signal::NativeAlerts {
            resource_id: resource.id.clone(),
            alerts,
        })
    }

    /// Handles what a step produced: frames and lists at once; history, deliveries and state in
    /// one durable commit when anything needs it (then `reply` learns the outcome).
    fn settle(
        &mut self,
        events: Vec<AlertEvent>,
        reply: Option<oneshot::Sender<Result<()>>>,
        ctx: &mut Context<Self>,
    ) {
        let now_ms = clock::now_millis();
        let mut history = Vec::new();
        for event in &events {
            if let Some(entry) = history_entry(event, now_ms) {
                metrics::counter!(names::ALERT_EVENTS, "event" => entry.event.clone()).increment(1);
                self.publish_frame(&entry);
                history.push(entry);
            }
        }
        if !history.is_empty() {
            self.lists_dirty = true;
        }
        let due = self
            .lists_sent_at
            .is_none_or(|at| at.elapsed() >= LISTS_EVERY);
        if self.lists_dirty && due {
            self.send_lists();
        }
        let notifies: Vec<NotifyItem> = events
            .iter()
            .filter_map(|e| match e {
                AlertEvent::Notify { items, .. } => Some(items.iter().cloned()),
                _ => None,
            })
            .flatten()
            .collect();
        if history.is_empty() && notifies.is_empty() && reply.is_none() {
            return;
        }
        self.commit(events, history, notifies, reply, ctx);
    }

    /// Queues what a step must make durable; starts a commit unless one is running (then it
    /// joins the next one: under a burst, many steps share one transaction and one flush).
    fn commit(
        &mut self,
        events: Vec<AlertEvent>,
        history: Vec<AlertHistoryEntry>,
        notifies: Vec<NotifyItem>,
        reply: Option<oneshot::Sender<Result<()>>>,
        ctx: &mut Context<Self>,
    ) {
        self.batch.events.extend(events);
        self.batch.history.extend(history);
        self.batch.notifies.extend(notifies);
        self.batch.replies.extend(reply);
        self.batch.wanted = true;
        if !self.committing {
            self.start_commit(ctx);
        }
    }

    /// Writes the queued batch (state, history, deliveries) in one transaction off the actor
    /// thread. Commits run one at a time, so they reach the disk in the order of the steps.
    fn start_commit(&mut self, ctx: &mut Context<Self>) {
        let Batch {
            events,
            history,
            notifies,
            replies,
            ..
        } = std::mem::take(&mut self.batch);
        self.committing = true;
        self.dirty = false;
        let store = self.store.clone();
        let org = self.org().to_owned();
        let state = self.state.clone();
        let work =
            tokio::task::spawn_blocking(move || persist(&store, &org, &state, &events, &history));
        ctx.spawn(work.into_actor(self).map(move |joined, act, ctx| {
            let outcome = joined
                .map_err(|e| Error::Internal(format!("alert commit task: {e}")))
                .and_then(|r| r);
            match &outcome {
                Ok(fresh) => {
                    if *fresh > 0 {
                        if let Ok(notifier) = act.tenant.notifier() {
                            let _ = notifier.try_send(Kick);
                        }
                    }
                    // Durably queued: the reducer may forget these notifications.
                    let now = clock::now();
                    for item in &notifies {
                        if let Some(event) = item
                            .event_id
                            .strip_prefix(item.alert.id.as_str())
                            .and_then(|rest| rest.strip_prefix(':'))
                        {
                            let signal = Signal::Delivered {
                                alert_id: item.alert.id.clone(),
                                event: event.to_owned(),
                            };
                            let mut events = Vec::new();
                            act.step(&signal, now, &mut events);
                        }
                    }
                }
                Err(e) => {
                    tracing::error!(org = %act.org(), error = %e, "alert engine could not persist a step");
                    act.dirty = true;
                }
            }
            for reply in replies {
                let _ = reply.send(match &outcome {
                    Ok(_) => Ok(()),
                    Err(e) => Err(Error::Unavailable(format!("alert store: {}", e.public_message()))),
                });
            }
            act.committing = false;
            if act.batch.wanted {
                act.start_commit(ctx);
            }
        }));
    }

    /// Saves a state changed only by observations.
    fn save_if_dirty(&mut self, ctx: &mut Context<Self>) {
        if self.dirty && !self.committing {
            self.commit(Vec::new(), Vec::new(), Vec::new(), None, ctx);
        }
    }

    /// Sends `alert`/`alertResolved` frames to the tenant's WebSocket sessions.
    fn publish_frame(&self, entry: &AlertHistoryEntry) {
        let now = clock::now_millis();
        let resolved = matches!(entry.event.as_str(), "resolved" | "cleared");
        let frame = match resolved {
            true => json!({
                "type": "alertResolved",
                "data": {"alertIdentifier": entry.alert.id, "alert": entry.alert, "event": entry.event},
                "timestamp": now,
            }),
            false => json!({"type": "alert", "data": entry.alert, "timestamp": now}),
        };
        self.tenant.hub().publish(HubItem::Alert {
            kind: if resolved { "alertResolved" } else { "alert" },
            frame: Arc::from(frame.to_string()),
        });
    }

    /// Hands the current lists to the registry (retried on the next tick if its mailbox is full).
    fn send_lists(&mut self) {
        let Ok(registry) = self.tenant.registry() else {
            return;
        };
        let active = self.active();
        metrics::gauge!(names::ALERTS_ACTIVE, "org" => self.org().to_owned())
            .set(active.len() as f64);
        let lists = AlertLists {
            active: serde_json::to_value(&active).unwrap_or_else(|_| json!([])),
            recently_resolved: serde_json::to_value(
                self.state.recently_resolved().collect::<Vec<_>>(),
            )
            .unwrap_or_else(|_| json!([])),
        };
        let current = (lists.active.clone(), lists.recently_resolved.clone());
        if self.sent_lists.as_ref() == Some(&current) {
            self.lists_dirty = false;
            return;
        }
        if registry.try_send(SetAlerts(lists)).is_ok() {
            self.lists_dirty = false;
            self.sent_lists = Some(current);
            self.lists_sent_at = Some(Instant::now());
        }
    }

    /// The firing alerts, oldest first.
    fn active(&self) -> Vec<Alert> {
        let mut active: Vec<Alert> = self.state.active_alerts().cloned().collect();
        active.sort_by(|a, b| a.start_time.cmp(&b.start_time).then(a.id.cmp(&b.id)));
        active
    }

    /// Observes every resource of the registry (after starting, or after falling behind).
    fn rebuild(&mut self, ctx: &mut Context<Self>) {
        let Ok(registry) = self.tenant.registry() else {
            ctx.run_later(Duration::from_millis(200), |act, ctx| act.rebuild(ctx));
            return;
        };
        registry
            .send(GetAllResources)
            .into_actor(self)
            .map(|res, act, ctx| match res {
                Ok(resources) => act.observe(&resources, &[], ctx),
                Err(_) => {
                    ctx.run_later(Duration::from_millis(200), |act, ctx| act.rebuild(ctx));
                }
            })
            .wait(ctx);
    }
}

/// Makes a batch durable: plans the deliveries of its `Notify` events for the org's channels and
/// writes them with the state and the history in one transaction. Returns how many deliveries
/// were new.
fn persist(
    store: &Store,
    org: &str,
    state: &AlertState,
    events: &[AlertEvent],
    history: &[AlertHistoryEntry],
) -> Result<usize> {
    let ns = Namespace::Org(org);
    let deliveries = if events
        .iter()
        .any(|e| matches!(e, AlertEvent::Notify { .. }))
    {
        let webhooks = store.load::<Webhooks>(ns)?.unwrap_or_default();
        let email = store.load::<EmailConfig>(ns)?.unwrap_or_default();
        plan::deliveries(org, events, &webhooks, &email, clock::now_millis())
    } else {
        Vec::new()
    };
    let fresh = store.commit_alert_step(org, Some(state), history, &deliveries)?;
    Ok(fresh.len())
}

/// A native alert from one `truenas.alerts` item (`{id, level, message, source, dismissed}`).
fn native_alert(item: &Value) -> Option<NativeAlert> {
    let text = |k: &str| match item.get(k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    Some(NativeAlert {
        id: text("id")?,
        level: text("level").unwrap_or_default(),
        message: text("message")
            .or_else(|| text("formatted"))
            .unwrap_or_default(),
        source: text("source").unwrap_or_default(),
        dismissed: item
            .get("dismissed")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// The history entry for a lifecycle event (none for notification intents and suppressions).
fn history_entry(event: &AlertEvent, at: i64) -> Option<AlertHistoryEntry> {
    let (name, alert, previous_level, escalation_level) = match event {
        AlertEvent::Fired { alert } => ("fired", alert, None, None),
        AlertEvent::Resolved { alert } => ("resolved", alert, None, None),
        AlertEvent::LevelChanged { alert, previous } => {
            ("levelChanged", alert, Some(*previous), None)
        }
        AlertEvent::Acknowledged { alert } => ("acknowledged", alert, None, None),
        AlertEvent::Unacknowledged { alert } => ("unacknowledged", alert, None, None),
        AlertEvent::Cleared { alert } => ("cleared", alert, None, None),
        AlertEvent::Escalated { alert, level, .. } => ("escalated", alert, None, Some(*level)),
        AlertEvent::Suppressed { .. } | AlertEvent::Notify { .. } => return None,
    };
    Some(AlertHistoryEntry {
        event: name.to_owned(),
        at,
        alert: alert.clone(),
        previous_level,
        escalation_level,
    })
}

impl Actor for AlertEngine {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Notifications emitted before a restart but never durably queued go out again, with
        // their original event ids (the queue ignores ones it already has).
        let mut events = Vec::new();
        self.step(&Signal::Restarted, clock::now(), &mut events);
        self.settle(events, None, ctx);
        ctx.add_stream(self.tenant.changes().subscribe(HUB_QUEUE).events());
        self.rebuild(ctx);
        ctx.run_interval(TICK, |act, ctx| {
            let mut events = Vec::new();
            act.step(&Signal::Tick, clock::now(), &mut events);
            act.settle(events, None, ctx);
        });
        ctx.run_interval(SAVE_EVERY, |act, ctx| act.save_if_dirty(ctx));
        ctx.run_interval(PRUNE_EVERY, |act, _| {
            let store = act.store.clone();
            let org = act.org().to_owned();
            tokio::task::spawn_blocking(move || {
                let before = clock::now_millis() - HISTORY_KEEP_MS;
                if let Err(e) = store.prune_alert_history(&org, before, HISTORY_KEEP_MAX) {
                    tracing::warn!(org = %org, error = %e, "pruning alert history failed");
                }
            });
        });
        tracing::info!(org = %self.org(), "alert engine started");
    }

    fn stopping(&mut self, _: &mut Self::Context) -> Running {
        if self.dirty || self.batch.wanted {
            let batch = std::mem::take(&mut self.batch);
            let saved = persist(
                &self.store,
                self.org(),
                &self.state,
                &batch.events,
                &batch.history,
            );
            if let Err(e) = saved {
                tracing::warn!(org = %self.org(), error = %e, "saving alert state on stop failed");
            }
        }
        Running::Stop
    }
}

impl StreamHandler<HubEvent<ChangeItem>> for AlertEngine {
    fn handle(&mut self, event: HubEvent<ChangeItem>, ctx: &mut Self::Context) {
        match event {
            HubEvent::Item(ChangeItem::Changed(changes)) => {
                self.observe(&changes.upserted, &changes.removed, ctx);
            }
            HubEvent::Lagged { dropped, .. } => {
                tracing::warn!(org = %self.org(), dropped, "alert engine fell behind the registry; rebuilding");
                self.rebuild(ctx);
            }
            // A restarted registry re-learns its resources from the sources; alerts stay as they
            // are until their resources are observed again. It has lost the alert lists, though.
            HubEvent::Item(ChangeItem::Reset) => {
                self.sent_lists = None;
                self.lists_dirty = true;
            }
        }
    }

    fn finished(&mut self, _: &mut Self::Context) {}
}

/// The firing alerts, oldest first.
#[derive(Message)]
#[rtype(result = "Vec<Alert>")]
pub struct GetActive;

impl Handler<GetActive> for AlertEngine {
    type Result = MessageResult<GetActive>;

    fn handle(&mut self, _: GetActive, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.active())
    }
}

/// The configuration in force.
#[derive(Message)]
#[rtype(result = "AlertConfig")]
pub struct GetConfig;

impl Handler<GetConfig> for AlertEngine {
    type Result = MessageResult<GetConfig>;

    fn handle(&mut self, _: GetConfig, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.config.clone())
    }
}

/// Adopt a validated configuration that is already saved. Emits nothing (SPEC §10).
#[derive(Message)]
#[rtype(result = "()")]
pub struct ApplyConfig(pub AlertConfig);

impl Handler<ApplyConfig> for AlertEngine {
    type Result = ();

    fn handle(&mut self, msg: ApplyConfig, _: &mut Self::Context) {
        self.state = apply_config(std::mem::take(&mut self.state), &msg.0);
        self.config = msg.0;
        self.dirty = true;
        self.lists_dirty = true;
    }
}

/// What an operator does to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorAction {
    /// Acknowledge (stops escalation).
    Acknowledge,
    /// Withdraw an acknowledgement.
    Unacknowledge,
    /// Clear by hand.
    Clear,
}

/// An operator action on a firing alert; answers once the outcome is durable, with the alert as
/// it is afterwards.
#[derive(Message)]
#[rtype(result = "Result<Alert>")]
pub struct Operate {
    /// The alert id.
    pub alert_id: String,
    /// What to do.
    pub action: OperatorAction,
    /// Who does it.
    pub user: String,
}

impl Handler<Operate> for AlertEngine {
    type Result = ResponseFuture<Result<Alert>>;

    fn handle(&mut self, msg: Operate, ctx: &mut Self::Context) -> Self::Result {
        let Some(before) = self.state.alert(&msg.alert_id).cloned() else {
            let id = msg.alert_id;
            return Box::pin(async move { Err(Error::NotFound(format!("active alert {id}"))) });
        };
        let signal = match msg.action {
            OperatorAction::Acknowledge => Signal::Acknowledge {
                alert_id: msg.alert_id.clone(),
                user: msg.user,
            },
            OperatorAction::Unacknowledge => Signal::Unacknowledge {
                alert_id: msg.alert_id.clone(),
            },
            OperatorAction::Clear => Signal::Clear {
                alert_id: msg.alert_id.clone(),
            },
        };
        let mut events = Vec::new();
        self.step(&signal, clock::now(), &mut events);
        let after = self
            .state
            .alert(&msg.alert_id)
            .cloned()
            .or_else(|| {
                events.iter().find_map(|e| match e {
                    AlertEvent::Cleared { alert } if alert.id == msg.alert_id => {
                        Some(alert.clone())
                    }
                    _ => None,
                })
            })
            .unwrap_or(before);
        let (tx, rx) = oneshot::channel();
        self.settle(events, Some(tx), ctx);
        Box::pin(async move {
            rx.await
                .map_err(|_| Error::Unavailable("alert engine stopped".into()))??;
            Ok(after)
        })
    }
}
