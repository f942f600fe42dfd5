//! The Registry actor: owns one tenant's unified resources.
//!
//! It ingests source snapshots, marks stale sources on a timer, and publishes one diff per tick to
//! the tenant's fan-out hub. Ticks are leading-edge throttled: a change after a quiet period is
//! published at once (low latency), further changes within the coalescing window wait for its end
//! (one frame per window). Every published diff carries a sequence number so a client that takes a
//! full snapshot can splice it exactly with the deltas queued around it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use pulse_actors::{ExitGuard, Hub};
use pulse_model::{RegistryState, Resource, ResourceDiff, SourceSnapshot, Timestamp};
use serde_json::Value;

use super::clock;
use super::query::{self, Aggregations, ResourcePage, ResourceQuery};
use crate::telemetry::names;

/// Mailbox capacity of a registry: collectors and ingest handlers use `try_send`/`send`.
pub const MAILBOX_CAPACITY: usize = 4096;
/// How often stale sources are looked for.
const STALE_SWEEP: Duration = Duration::from_secs(1);

/// What the registry publishes to its frame hub, for WebSocket sessions.
#[derive(Debug, Clone)]
pub enum HubItem {
    /// One `rawData` delta frame, already serialised once for every subscriber.
    Delta {
        /// Incarnation of the registry that produced it.
        epoch: u64,
        /// Position in this incarnation's sequence of diffs.
        seq: u64,
        /// The complete WebSocket frame text.
        frame: Arc<str>,
    },
    /// The registry restarted: every subscriber must resync from a full state.
    Reset,
    /// An `alert` or `alertResolved` WebSocket frame from the alert engine, forwarded as it is
    /// (outside the diff sequence).
    Alert {
        /// `alert` or `alertResolved`.
        kind: &'static str,
        /// The complete WebSocket frame text.
        frame: Arc<str>,
    },
}

/// What the registry publishes to its change hub, for in-process consumers (history writer,
/// alert engine).
///
/// It is a hub of its own so that a browser session's queue holds only the frames it sends: a
/// stalled client keeps up to a queue's worth of items alive, and the whole resources of 128
/// diffs are about 10 MB at 10,000 resources, five times their frames.
#[derive(Debug, Clone)]
pub enum ChangeItem {
    /// The diff just published as a frame, as whole resources.
    Changed(Arc<Changes>),
    /// The registry restarted.
    Reset,
}

/// The resources one diff touched, whole (not as patches), so in-process consumers such as the
/// history writer and the alert engine need neither parse frames nor keep a copy of the registry.
#[derive(Debug, Default)]
pub struct Changes {
    /// When the registry published the diff.
    pub at: Timestamp,
    /// Every new or changed resource as it is now.
    pub upserted: Vec<Resource>,
    /// Ids of removed resources.
    pub removed: Vec<String>,
}

/// A full state at a known position of the diff sequence, serialised once as the complete
/// `initialState` frame; `/api/state` serves the `data` part of the same buffer.
#[derive(Debug, Clone)]
pub struct FullState {
    /// Incarnation of the registry.
    pub epoch: u64,
    /// The last diff included in this state.
    pub seq: u64,
    /// `{"type":"initialState","data":{...},"timestamp":n}`.
    pub frame: Arc<str>,
    /// Where the `data` object lies inside `frame`.
    data: std::ops::Range<usize>,
}

impl FullState {
    /// The whole `initialState` frame, shared without copying.
    pub fn frame_bytes(&self) -> bytes::Bytes {
        shared_bytes(&self.frame)
    }

    /// The `data` object alone (the body of `/api/state`), shared without copying.
    pub fn data_bytes(&self) -> bytes::Bytes {
        self.frame_bytes().slice(self.data.clone())
    }
}

/// A frame text as `Bytes` sharing its buffer (no copy), for sending it to many clients.
pub fn shared_bytes(text: &Arc<str>) -> bytes::Bytes {
    bytes::Bytes::from_owner(SharedText(Arc::clone(text)))
}

/// Lets an `Arc<str>` back a `Bytes` without copying.
struct SharedText(Arc<str>);

impl AsRef<[u8]> for SharedText {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// The Registry actor of one tenant.
pub struct Registry {
    org: String,
    state: RegistryState,
    hub: Hub<HubItem>,
    changes: Hub<ChangeItem>,
    epoch: u64,
    seq: u64,
    coalesce: Duration,
    last_flush: Option<Instant>,
    flush_scheduled: bool,
    health: BTreeMap<String, bool>,
    health_dirty: bool,
    stats: Aggregations,
    last_update: i64,
    full_cache: Option<FullState>,
    /// `activeAlerts` and `recentlyResolved` as last sent by the alert engine.
    alerts: AlertLists,
    alerts_dirty: bool,
    _guard: ExitGuard,
}

/// The alert lists the full state and `rawData` frames carry (SPEC §6), owned by the alert engine.
#[derive(Debug, Clone)]
pub struct AlertLists {
    /// Firing alerts.
    pub active: Value,
    /// Alerts resolved in the last minutes.
    pub recently_resolved: Value,
}

impl Default for AlertLists {
    fn default() -> Self {
        AlertLists {
            active: Value::Array(Vec::new()),
            recently_resolved: Value::Array(Vec::new()),
        }
    }
}

impl Registry {
    /// A registry for `org` publishing frames to `hub` and whole resources to `changes`,
    /// coalescing changes within `coalesce`.
    pub fn new(
        org: String,
        hub: Hub<HubItem>,
        changes: Hub<ChangeItem>,
        coalesce: Duration,
        guard: ExitGuard,
    ) -> Self {
        Registry {
            org,
            state: RegistryState::new(),
            hub,
            changes,
            epoch: rand::random::<u64>() >> 12,
            seq: 0,
            coalesce,
            last_flush: None,
            flush_scheduled: false,
            health: BTreeMap::new(),
            health_dirty: false,
            stats: Aggregations::default(),
            last_update: clock::now_millis(),
            full_cache: None,
            alerts: AlertLists::default(),
            alerts_dirty: false,
            _guard: guard,
        }
    }

    fn current_stats(&self) -> Aggregations {
        Aggregations::of(self.state.resources())
    }

    /// Schedules a flush: at once after a quiet period, else at the end of the window.
    fn schedule_flush(&mut self, ctx: &mut Context<Self>) {
        if self.flush_scheduled {
            return;
        }
        self.flush_scheduled = true;
        let delay = self
            .last_flush
            .map(|t| self.coalesce.saturating_sub(t.elapsed()))
            .unwrap_or_default();
        ctx.run_later(delay, |act, _| act.flush());
    }

    /// Publishes everything pending as one diff; does nothing when nothing changed.
    fn flush(&mut self) {
        self.flush_scheduled = false;
        let diff = self.state.take_diff();
        let stats = self.current_stats();
        let stats_changed = stats != self.stats;
        if diff.is_empty() && !self.health_dirty && !stats_changed && !self.alerts_dirty {
            return;
        }
        self.last_flush = Some(Instant::now());
        self.seq += 1;
        self.last_update = clock::now_millis();
        self.full_cache = None;
        let health = self.health_dirty.then_some(&self.health);
        self.health_dirty = false;
        let alerts = self.alerts_dirty.then_some(&self.alerts);
        self.alerts_dirty = false;
        let frame = delta_frame(
            &diff,
            health,
            alerts,
            stats_changed.then_some(&stats),
            self.last_update,
        );
        if stats_changed {
            self.stats = stats;
        }
        let changes = Changes {
            at: Timestamp::from_millis(self.last_update),
            upserted: diff
                .upserts
                .iter()
                .filter_map(|u| self.state.get(u.id()).cloned())
                .collect(),
            removed: diff.removed,
        };
        self.changes.publish(ChangeItem::Changed(Arc::new(changes)));
        let report = self.hub.publish(HubItem::Delta {
            epoch: self.epoch,
            seq: self.seq,
            frame: Arc::from(frame),
        });
        metrics::counter!(names::REGISTRY_DIFFS, "org" => self.org.clone()).increment(1);
        metrics::gauge!(names::REGISTRY_RESOURCES, "org" => self.org.clone())
            .set(self.state.len() as f64);
        if report.newly_lagged > 0 {
            metrics::counter!(names::WS_DROPPED, "org" => self.org.clone())
                .increment(report.newly_lagged as u64);
        }
    }

    /// The full state at the current sequence position (flushing anything pending first).
    fn full_state(&mut self) -> FullState {
        if self.state.has_pending() || self.health_dirty || self.alerts_dirty {
            self.flush();
        }
        if let Some(cached) = &self.full_cache {
            if cached.seq == self.seq {
                return cached.clone();
            }
        }
        let mut frame = String::from("{\"type\":\"initialState\",\"data\":");
        let start = frame.len();
        write_state_json(
            &mut frame,
            self.state.resources(),
            &self.health,
            &self.stats,
            &self.alerts,
            self.last_update,
        );
        let end = frame.len();
        frame.push_str(&format!(",\"timestamp\":{}}}", self.last_update));
        let full = FullState {
            epoch: self.epoch,
            seq: self.seq,
            frame: Arc::from(frame),
            data: start..end,
        };
        self.full_cache = Some(full.clone());
        full
    }
}

/// The `rawData` frame of one diff: `{"data":{…},"timestamp":n,"type":"rawData"}` whose data holds
/// the members that changed (`connectionHealth`, `resourceDelta`, `stats`) and `lastUpdate`, in
/// name order. Written straight from the typed diff, without an intermediate `Value` tree.
fn delta_frame(
    diff: &ResourceDiff,
    health: Option<&BTreeMap<String, bool>>,
    alerts: Option<&AlertLists>,
    stats: Option<&Aggregations>,
    last_update: i64,
) -> String {
    let mut frame: Vec<u8> = Vec::with_capacity(256 + 128 * diff.upserts.len());
    frame.extend_from_slice(b"{\"data\":{");
    if let Some(alerts) = alerts {
        frame.extend_from_slice(b"\"activeAlerts\":");
        push_json(&mut frame, &alerts.active);
        frame.extend_from_slice(b",\"recentlyResolved\":");
        push_json(&mut frame, &alerts.recently_resolved);
        frame.push(b',');
    }
    if let Some(health) = health {
        frame.extend_from_slice(b"\"connectionHealth\":");
        push_json(&mut frame, health);
        frame.push(b',');
    }
    frame.extend_from_slice(format!("\"lastUpdate\":{last_update}").as_bytes());
    if !diff.is_empty() {
        frame.extend_from_slice(b",\"resourceDelta\":{\"removed\":");
        push_json(&mut frame, &diff.removed);
        frame.extend_from_slice(b",\"upserts\":");
        push_json(&mut frame, &diff.upserts);
        frame.push(b'}');
    }
    if let Some(stats) = stats {
        frame.extend_from_slice(b",\"stats\":");
        push_json(&mut frame, stats);
    }
    frame.extend_from_slice(
        format!("}},\"timestamp\":{last_update},\"type\":\"rawData\"}}").as_bytes(),
    );
    // Only JSON text was written, so this never fails.
    String::from_utf8(frame).unwrap_or_default()
}

/// Appends the JSON of a value that always serialises (model types, maps with string keys).
fn push_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.extend_from_slice(b"null");
    }
}

/// Appends the `initialState` data object without building an intermediate `Value` tree.
fn write_state_json<'a>(
    out: &mut String,
    resources: impl Iterator<Item = &'a Resource>,
    health: &BTreeMap<String, bool>,
    stats: &Aggregations,
    alerts: &AlertLists,
    last_update: i64,
) {
    out.push_str("{\"resources\":[");
    for (i, r) in resources.enumerate() {
        if i > 0 {
            out.push(',');
        }
        if let Ok(s) = serde_json::to_string(r) {
            out.push_str(&s);
        }
    }
    out.push_str("],\"activeAlerts\":");
    out.push_str(&alerts.active.to_string());
    out.push_str(",\"recentlyResolved\":");
    out.push_str(&alerts.recently_resolved.to_string());
    out.push_str(",\"connectionHealth\":");
    out.push_str(&serde_json::to_string(health).unwrap_or_else(|_| "{}".into()));
    out.push_str(",\"stats\":");
    out.push_str(&serde_json::to_string(stats).unwrap_or_else(|_| "{}".into()));
    out.push_str(",\"lastUpdate\":");
    out.push_str(&last_update.to_string());
    out.push('}');
}

impl Actor for Registry {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.stats = self.current_stats();
        // Subscribers hold state of an earlier incarnation (if any): make them resync.
        self.hub.publish(HubItem::Reset);
        self.changes.publish(ChangeItem::Reset);
        ctx.run_interval(STALE_SWEEP, |act, ctx| {
            if act.state.mark_stale(clock::now()) > 0 {
                act.schedule_flush(ctx);
            }
        });
        tracing::info!(org = %self.org, epoch = self.epoch, "registry started");
    }
}

/// Merge a source snapshot into the tenant's resources.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct Ingest(pub SourceSnapshot);

impl Handler<Ingest> for Registry {
    type Result = usize;

    fn handle(&mut self, msg: Ingest, ctx: &mut Self::Context) -> usize {
        let scope = msg.0.scope.clone();
        let changed = self.state.ingest(msg.0, clock::now());
        metrics::counter!(names::REGISTRY_SNAPSHOTS, "org" => self.org.clone()).increment(1);
        if self.health.insert(scope, true) != Some(true) {
            self.health_dirty = true;
        }
        if changed > 0 || self.health_dirty {
            self.schedule_flush(ctx);
        }
        changed
    }
}

/// A source could not be polled: its connection health turns false.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SourceFailed {
    /// The snapshot scope of the source (e.g. `pve:cluster-a`).
    pub scope: String,
}

impl Handler<SourceFailed> for Registry {
    type Result = ();

    fn handle(&mut self, msg: SourceFailed, ctx: &mut Self::Context) {
        if self.health.insert(msg.scope, false) != Some(false) {
            self.health_dirty = true;
            self.schedule_flush(ctx);
        }
    }
}

/// An endpoint was removed: its resources leave the registry and its `connectionHealth` entry goes.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ForgetSource {
    /// The snapshot scope of the source.
    pub scope: String,
    /// Which source it fed.
    pub source: pulse_model::Source,
}

impl Handler<ForgetSource> for Registry {
    type Result = ();

    fn handle(&mut self, msg: ForgetSource, ctx: &mut Self::Context) {
        // An empty snapshot replaces everything the scope contributed.
        let empty = SourceSnapshot {
            source: msg.source,
            scope: msg.scope.clone(),
            observed_at: clock::now(),
            records: Vec::new(),
        };
        self.state.ingest(empty, clock::now());
        if self.health.remove(&msg.scope).is_some() {
            self.health_dirty = true;
        }
        self.schedule_flush(ctx);
    }
}

/// Ask for the full state at the current sequence position.
#[derive(Message)]
#[rtype(result = "FullState")]
pub struct GetFullState;

impl Handler<GetFullState> for Registry {
    type Result = MessageResult<GetFullState>;

    fn handle(&mut self, _: GetFullState, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.full_state())
    }
}

/// Run a resource query.
#[derive(Message)]
#[rtype(result = "ResourcePage")]
pub struct QueryResources(pub ResourceQuery);

impl Handler<QueryResources> for Registry {
    type Result = MessageResult<QueryResources>;

    fn handle(&mut self, msg: QueryResources, _: &mut Self::Context) -> Self::Result {
        MessageResult(query::run(self.state.resources(), &msg.0))
    }
}

/// Fetch one resource by id.
#[derive(Message)]
#[rtype(result = "Option<Resource>")]
pub struct GetResource(pub String);

impl Handler<GetResource> for Registry {
    type Result = Option<Resource>;

    fn handle(&mut self, msg: GetResource, _: &mut Self::Context) -> Option<Resource> {
        self.state.get(&msg.0).cloned()
    }
}

/// Fetch the children of a resource; `None` when the resource itself is unknown.
#[derive(Message)]
#[rtype(result = "Option<Vec<Resource>>")]
pub struct GetChildren(pub String);

impl Handler<GetChildren> for Registry {
    type Result = Option<Vec<Resource>>;

    fn handle(&mut self, msg: GetChildren, _: &mut Self::Context) -> Self::Result {
        self.state.get(&msg.0)?;
        Some(
            self.state
                .resources()
                .filter(|r| r.parent_id.as_deref() == Some(msg.0.as_str()))
                .cloned()
                .collect(),
        )
    }
}

/// Counts of all resources by type, status and source.
#[derive(Message)]
#[rtype(result = "Aggregations")]
pub struct GetStats;

impl Handler<GetStats> for Registry {
    type Result = MessageResult<GetStats>;

    fn handle(&mut self, _: GetStats, _: &mut Self::Context) -> Self::Result {
        MessageResult(Aggregations::of(self.state.resources()))
    }
}

/// The alert engine's current lists: the next frame publishes them whole, and the full state
/// includes them.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetAlerts(pub AlertLists);

impl Handler<SetAlerts> for Registry {
    type Result = ();

    fn handle(&mut self, msg: SetAlerts, ctx: &mut Self::Context) {
        self.alerts = msg.0;
        self.alerts_dirty = true;
        self.schedule_flush(ctx);
    }
}

/// Every resource, whole (for a consumer that must rebuild its view, e.g. the alert engine after
/// it fell behind the hub).
#[derive(Message)]
#[rtype(result = "Vec<Resource>")]
pub struct GetAllResources;

impl Handler<GetAllResources> for Registry {
    type Result = MessageResult<GetAllResources>;

    fn handle(&mut self, _: GetAllResources, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.state.resources().cloned().collect())
    }
}
