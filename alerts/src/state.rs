//! The engine's state: per resource the alerts (pending, firing, cleared) with their firing
//! history, the Docker restart counts seen, the notifications waiting for their grouping window
//! or held by a policy, the notifications emitted but not yet confirmed delivered, and the
//! recently resolved alerts.
//!
//! Only what carries something is kept: a resource has an entry while it has trackers (an agent
//! keeps its entry while observed, see `ResourceAlerts::worth_keeping`), and a container has
//! restart samples; a quiet resource costs nothing, and everything a new alert shows is taken
//! from the resource observed at that moment.
//!
//! It serialises (camelCase JSON or any serde format, format version 2) so the engine actor
//! can persist it; a restored state continues exactly where the old one stopped. Version 1
//! documents (restart samples inside an entry for every observed resource) still load.
//! [`AlertState::generation`] tells the owner when there is something new to persist.

use std::collections::{HashMap, VecDeque};

use pulse_model::{ResourceType, Timestamp};
use serde::{Deserialize, Serialize};

use crate::alert::{Alert, AlertKey};
use crate::event::{NotifyItem, NotifyKind, SuppressReason};
use crate::reducer::judge::Finding;
use crate::text::{push_digits, push_int};

/// How many resolved alerts [`AlertState::recently_resolved`] keeps at most (upstream: 1024).
pub(crate) const RECENTLY_RESOLVED_MAX: usize = 1024;
/// How long resolved alerts stay in [`AlertState::recently_resolved`] (upstream: 5 min).
pub(crate) const RECENTLY_RESOLVED_MS: u64 = 5 * 60_000;
/// How many unconfirmed notification items are kept for re-emission at most.
pub(crate) const OUTBOX_MAX: usize = 1024;
/// The version of the persisted form this build writes: 2 keeps restart samples in their own
/// map and only entries worth keeping; 1 (no `version` field) kept an entry, with its restart
/// samples, for every resource ever observed.
pub(crate) const STATE_VERSION: u32 = 2;

/// The hasher of the state's maps: foldhash, randomly seeded, several times faster than SipHash
/// on resource ids (every observation looks its resource up, a container twice).
pub(crate) type Hasher = foldhash::fast::RandomState;

/// Entries by resource id.
pub(crate) type Entries = HashMap<String, ResourceAlerts, Hasher>;

/// Docker restart counts seen, per container id: changes only, oldest first (what
/// restart-loop detection needs from earlier observations). Boxed slices: a quiet container
/// holds one sample, and its counts change rarely.
pub(crate) type RestartLog = HashMap<Box<str>, Box<[RestartSample]>, Hasher>;

/// Everything the alert engine remembers.
#[derive(Debug, Clone, Default)]
pub struct AlertState {
    /// Per resource id, for resources whose entry is worth keeping.
    pub(crate) resources: Entries,
    /// Docker restart counts seen, per container id.
    pub(crate) restarts: RestartLog,
    /// Notifications waiting for the grouping window or held by a policy.
    pub(crate) outgoing: Outgoing,
    /// Notification items emitted but not yet confirmed by `Delivered`, oldest first.
    pub(crate) outbox: VecDeque<Sent>,
    /// Alerts resolved or cleared in the last five minutes, oldest first.
    pub(crate) recently_resolved: VecDeque<Alert>,
    /// When idle trackers were last swept for stale history.
    pub(crate) swept_at: Option<Timestamp>,
    /// Bumped by every step that changed what is persisted (not serialised, not compared).
    pub(crate) generation: u64,
    /// An emptied entry kept for observing resources without one, so that observing a quiet
    /// resource allocates nothing (not state: never serialised or compared).
    pub(crate) spare: Option<ResourceAlerts>,
}

/// Equal when everything persisted is equal ([`AlertState::generation`] is bookkeeping of one
/// owner, not state).
impl PartialEq for AlertState {
    fn eq(&self, other: &Self) -> bool {
        self.resources == other.resources
            && self.restarts == other.restarts
            && self.outgoing == other.outgoing
            && self.outbox == other.outbox
            && self.recently_resolved == other.recently_resolved
            && self.swept_at == other.swept_at
    }
}

/// The persisted form as written ([`STATE_VERSION`]), borrowing the state.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StateDocRef<'a> {
    /// [`STATE_VERSION`].
    version: u32,
    /// [`AlertState::resources`].
    resources: &'a Entries,
    /// [`AlertState::restarts`].
    restarts: &'a RestartLog,
    /// [`AlertState::outgoing`].
    outgoing: &'a Outgoing,
    /// [`AlertState::outbox`].
    outbox: &'a VecDeque<Sent>,
    /// [`AlertState::recently_resolved`].
    recently_resolved: &'a VecDeque<Alert>,
    /// [`AlertState::swept_at`].
    #[serde(skip_serializing_if = "Option::is_none")]
    swept_at: Option<&'a Timestamp>,
}

impl Serialize for AlertState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        StateDocRef {
            version: STATE_VERSION,
            resources: &self.resources,
            restarts: &self.restarts,
            outgoing: &self.outgoing,
            outbox: &self.outbox,
            recently_resolved: &self.recently_resolved,
            swept_at: self.swept_at.as_ref(),
        }
        .serialize(serializer)
    }
}

/// The persisted form as read: version 2, or version 1 (no `version` field), whose entries
/// carry their restart samples and exist for every resource ever observed.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct StateDoc {
    /// The format version (1 when absent).
    version: u32,
    /// The entries.
    resources: HashMap<String, EntryDoc, Hasher>,
    /// Restart samples (version 2).
    restarts: RestartLog,
    /// Waiting notifications.
    outgoing: Outgoing,
    /// Unconfirmed notification items.
    outbox: VecDeque<Sent>,
    /// Recently resolved alerts.
    recently_resolved: VecDeque<Alert>,
    /// Last sweep.
    swept_at: Option<Timestamp>,
}

impl Default for StateDoc {
    fn default() -> Self {
        StateDoc {
            version: 1,
            resources: HashMap::default(),
            restarts: HashMap::default(),
            outgoing: Outgoing::default(),
            outbox: VecDeque::new(),
            recently_resolved: VecDeque::new(),
            swept_at: None,
        }
    }
}

/// One entry as read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntryDoc {
    /// [`ResourceAlerts::meta`].
    meta: ResourceMeta,
    /// [`ResourceAlerts::trackers`].
    #[serde(default)]
    trackers: Vec<Tracker>,
    /// Restart samples (version 1 only).
    #[serde(default)]
    restarts: Vec<RestartSample>,
    /// [`ResourceAlerts::due`].
    #[serde(default)]
    due: Option<Timestamp>,
}

impl TryFrom<StateDoc> for AlertState {
    type Error = String;

    /// Adopts a document of version 1 or 2: restart samples move to their own map, and entries
    /// not worth keeping are dropped (what this build's reducer would have done to them).
    fn try_from(doc: StateDoc) -> Result<Self, Self::Error> {
        if doc.version == 0 || doc.version > STATE_VERSION {
            return Err(format!(
                "alert state version {} is not supported by this build (reads 1 to {STATE_VERSION})",
                doc.version
            ));
        }
        let mut restarts = doc.restarts;
        let mut resources =
            Entries::with_capacity_and_hasher(doc.resources.len().min(1024), Hasher::default());
        for (id, entry) in doc.resources {
            if !entry.restarts.is_empty() {
                restarts
                    .entry(Box::from(id.as_str()))
                    .or_insert_with(|| entry.restarts.into_boxed_slice());
            }
            let entry = ResourceAlerts {
                meta: entry.meta,
                trackers: entry.trackers,
                due: entry.due,
            };
            if entry.worth_keeping() {
                resources.insert(id, entry);
            }
        }
        resources.shrink_to_fit();
        Ok(AlertState {
            resources,
            restarts,
            outgoing: doc.outgoing,
            outbox: doc.outbox,
            recently_resolved: doc.recently_resolved,
            swept_at: doc.swept_at,
            generation: 0,
            spare: None,
        })
    }
}

impl<'de> Deserialize<'de> for AlertState {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        AlertState::try_from(StateDoc::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

impl AlertState {
    /// An empty state.
    pub fn new() -> Self {
        AlertState::default()
    }

    /// The firing alerts (not the ones still pending their time delay, not cleared ones).
    pub fn active_alerts(&self) -> impl Iterator<Item = &Alert> {
        self.resources
            .values()
            .flat_map(|entry| entry.trackers.iter())
            .filter_map(Tracker::firing_alert)
    }

    /// The firing alert with this id.
    pub fn alert(&self, alert_id: &str) -> Option<&Alert> {
        let resource_id = locate(&self.resources, alert_id)?;
        self.resources
            .get(resource_id)?
            .trackers
            .iter()
            .filter_map(Tracker::firing_alert)
            .find(|alert| alert.id == alert_id)
    }

    /// Alerts resolved or cleared within the last five minutes (at most 1024), oldest first.
    pub fn recently_resolved(&self) -> impl Iterator<Item = &Alert> {
        self.recently_resolved.iter()
    }

    /// Notification items emitted but not yet confirmed by [`crate::Signal::Delivered`].
    pub fn undelivered(&self) -> impl Iterator<Item = &NotifyItem> {
        self.outbox.iter().map(|sent| &sent.item)
    }

    /// A number that changes whenever a step (or [`crate::apply_config`]) changed what the state
    /// persists, so an owner saves only when it differs from the one it last saved. Conservative:
    /// a step that emitted events counts as a change. Moving the idle-tracker sweep time alone
    /// does not count: an older saved value only brings the first sweep after a restart forward,
    /// and a sweep drops nothing a policy still reads.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// How many resources have an entry (trackers, or an observed agent).
    pub fn tracked_resources(&self) -> usize {
        self.resources.len()
    }

    /// How many containers have Docker restart counts remembered.
    pub fn restart_histories(&self) -> usize {
        self.restarts.len()
    }
}

/// The id of the resource that has a firing alert with id `alert_id`. Alert ids are
/// `<resourceId>-<suffix>` and resource ids contain dashes themselves, so every dash is tried as
/// the separator (one hash lookup each).
pub(crate) fn locate<'a>(resources: &Entries, alert_id: &'a str) -> Option<&'a str> {
    alert_id
        .match_indices('-')
        .map(|(at, _)| &alert_id[..at])
        .find(|resource_id| {
            resources.get(*resource_id).is_some_and(|entry| {
                entry
                    .trackers
                    .iter()
                    .any(|t| t.firing_alert().is_some_and(|a| a.id == alert_id))
            })
        })
}

/// What the engine knows about one resource that has alert state.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResourceAlerts {
    /// Facts copied onto its alerts.
    pub meta: ResourceMeta,
    /// One per alert key that is pending, firing, cleared, or idle with recent history.
    pub trackers: Vec<Tracker>,
    /// The earliest time a tick has something to do for this resource (a delay or clear delay
    /// elapsing, an escalation falling due).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<Timestamp>,
}

impl ResourceAlerts {
    /// A resource with no alerts yet.
    pub fn new(meta: ResourceMeta) -> Self {
        ResourceAlerts {
            meta,
            trackers: Vec::new(),
            due: None,
        }
    }

    /// Whether the entry must outlive the step: it has trackers (pending, firing, cleared, or
    /// idle with history that flapping, cooldown or the hourly cap still need; due times come
    /// from trackers only), or it is an observed agent. An agent keeps its facts because
    /// platform-native alerts (TrueNAS systems are agents) arrive by resource id alone and must
    /// show the name, node and instance it was observed with. Anything else is rebuilt from the
    /// resource when it is next observed.
    pub fn worth_keeping(&self) -> bool {
        !self.trackers.is_empty() || self.meta.resource_type == Some(ResourceType::Agent)
    }

    /// Sets [`ResourceAlerts::due`] (as computed from the trackers); true when it moved.
    pub fn set_due(&mut self, due: Option<Timestamp>) -> bool {
        let moved = self.due != due;
        self.due = due;
        moved
    }
}

/// The resource facts an alert shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResourceMeta {
    /// Resource id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Type, unknown for resources only seen through native alerts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<ResourceType>,
    /// `proxmox.node`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// `proxmox.instance`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// `physicalDisk.type`, which picks the disk temperature threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_type: Option<String>,
}

impl ResourceMeta {
    /// Facts for a resource known only by id.
    pub fn bare(id: &str) -> Self {
        ResourceMeta {
            id: id.to_owned(),
            name: id.to_owned(),
            resource_type: None,
            node: None,
            instance: None,
            disk_type: None,
        }
    }

    /// Makes these facts [`ResourceMeta::bare`]`(id)` again, keeping the string buffers.
    pub fn reset(&mut self, id: &str) {
        self.id.clear();
        self.id.push_str(id);
        self.name.clear();
        self.name.push_str(id);
        self.resource_type = None;
        self.node = None;
        self.instance = None;
        self.disk_type = None;
    }
}

/// One alert key of one resource through its firings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Tracker {
    /// Which alert.
    pub key: AlertKey,
    /// Where it is in its lifecycle.
    pub phase: Phase,
    /// Transitions and notifications across firings (flapping, cooldown, hourly cap).
    #[serde(default)]
    pub history: History,
}

impl Tracker {
    /// An idle tracker for `key`.
    pub fn new(key: AlertKey) -> Self {
        Tracker {
            key,
            phase: Phase::Idle,
            history: History::default(),
        }
    }

    /// Whether the key is pending or firing.
    pub fn is_active(&self) -> bool {
        matches!(self.phase, Phase::Pending { .. } | Phase::Firing { .. })
    }

    /// The alert, while firing.
    pub fn firing_alert(&self) -> Option<&Alert> {
        match &self.phase {
            Phase::Firing { alert, .. } => Some(alert),
            _ => None,
        }
    }

    /// The alert, while firing, for changing it.
    pub fn firing_alert_mut(&mut self) -> Option<&mut Alert> {
        match &mut self.phase {
            Phase::Firing { alert, .. } => Some(alert),
            _ => None,
        }
    }
}

/// Lifecycle of an alert key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "phase",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub(crate) enum Phase {
    /// The condition does not hold.
    Idle,
    /// The condition holds but not yet for the time delay.
    Pending {
        /// First observation of the condition.
        since: Timestamp,
        /// The `firing` number the alert will have.
        firing: i64,
        /// The latest breach.
        finding: Finding,
    },
    /// The alert is active.
    Firing {
        /// The alert.
        alert: Box<Alert>,
        /// Good observations since the condition last held.
        #[serde(default)]
        recovery: Recovery,
        /// Which notifications of this firing went out.
        #[serde(default)]
        notice: Notice,
    },
    /// Cleared by hand; quiet until the condition goes away.
    Cleared,
}

/// Progress of a firing alert towards resolving.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Recovery {
    /// Consecutive good observations.
    pub ok_count: u32,
    /// When the first of them happened.
    pub ok_since: Option<Timestamp>,
}

/// Notifications emitted for one firing.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Notice {
    /// The firing notification went out (so exactly one resolve notification is owed).
    pub fired: bool,
    /// The became-critical notification was queued (at most one per firing).
    pub critical: bool,
}

/// What an alert key did recently, across firings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct History {
    /// Fire and resolve times within the flapping window.
    pub transitions: Vec<Timestamp>,
    /// Flapping until then.
    pub flapping_until: Option<Timestamp>,
    /// Firing notifications within the last hour.
    pub notified: Vec<Timestamp>,
    /// The `firing` number of the latest firing.
    pub last_firing: i64,
}

impl History {
    /// The `firing` number for a firing first observed at `now`: its unix milliseconds, bumped
    /// above the previous one.
    pub fn next_firing(&mut self, now: Timestamp) -> i64 {
        let firing = now.as_millis().max(self.last_firing.saturating_add(1));
        self.last_firing = firing;
        firing
    }

    /// The newest time recorded.
    pub fn latest(&self) -> Option<Timestamp> {
        [
            self.transitions.last().copied(),
            self.flapping_until,
            self.notified.last().copied(),
        ]
        .into_iter()
        .flatten()
        .max()
    }
}

/// A Docker restart count and when it was first seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RestartSample {
    /// When.
    pub at: Timestamp,
    /// `docker.restartCount`.
    pub count: u64,
}

/// Notifications not yet emitted.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Outgoing {
    /// The items, in the order they became due.
    pub items: Vec<OutgoingItem>,
    /// When the current grouping window opened.
    pub opened: Option<Timestamp>,
    /// When the earliest held item may be released (held items are re-checked then).
    pub recheck: Option<Timestamp>,
}

impl Outgoing {
    /// Queues an item and opens the grouping window if none is open.
    pub fn push(&mut self, item: OutgoingItem, now: Timestamp) {
        self.items.push(item);
        self.opened.get_or_insert(now);
    }

    /// Drops the unsent firing, critical and escalation items of an alert.
    pub fn forget(&mut self, resource_id: &str, key: &AlertKey) {
        self.items.retain(|item| {
            item.token == Token::Resolved || item.key != *key || item.resource_id != resource_id
        });
    }
}

/// One notification item waiting to go out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OutgoingItem {
    /// Which notification.
    pub token: Token,
    /// The alert's resource.
    pub resource_id: String,
    /// The alert's key.
    pub key: AlertKey,
    /// The alert's `firing` number.
    pub firing: i64,
    /// The alert as it resolved (resolve items only; the others read their alert from its
    /// tracker when they go out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Box<Alert>>,
    /// Why it is held, if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<SuppressReason>,
    /// When a held item may be released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<Timestamp>,
}

/// Which notification of a firing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub(crate) enum Token {
    /// The alert fired.
    Fired,
    /// The notified alert became critical.
    Critical,
    /// The notified alert resolved.
    Resolved,
    /// The alert reached an escalation level.
    Escalated {
        /// The level.
        level: u32,
    },
}

impl Token {
    /// The notification kind.
    pub const fn kind(self) -> NotifyKind {
        match self {
            Token::Fired | Token::Critical => NotifyKind::Fired,
            Token::Resolved => NotifyKind::Resolved,
            Token::Escalated { .. } => NotifyKind::Escalated,
        }
    }

    /// The event id `<alertId>:<event>` of this notification about firing `firing`, where the
    /// event is `fired-<n>`, `critical-<n>`, `resolved-<n>` or `escalated-<n>-<level>`.
    pub fn event_id(self, alert_id: &str, firing: i64) -> String {
        let mut id = String::with_capacity(alert_id.len() + 36);
        id.push_str(alert_id);
        id.push(':');
        id.push_str(match self {
            Token::Fired => "fired-",
            Token::Critical => "critical-",
            Token::Resolved => "resolved-",
            Token::Escalated { .. } => "escalated-",
        });
        push_int(&mut id, firing);
        if let Token::Escalated { level } = self {
            id.push('-');
            push_digits(&mut id, u64::from(level));
        }
        id
    }
}

/// A notification item emitted and awaiting `Delivered`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Sent {
    /// Its kind.
    pub kind: NotifyKind,
    /// The item as emitted.
    pub item: NotifyItem,
}
