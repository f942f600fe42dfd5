//! The registry state: every unified resource of one tenant, the contributions they are folded
//! from, and what changed since the last published diff. Pure: an actor owns it and passes the
//! time in.
//!
//! Ingest places each record of a snapshot on a resource, in this order: (1) the resource its
//! `(source, scope, sourceId)` already contributes to, if of the same type — ids stay stable;
//! (2) the resource of a live contribution with the same stable key, else the resource whose id
//! the record's stable key produces; (3) for hosts and physical disks, an existing resource of
//! the same type matched by identity at confidence ≥ 0.85; (4) a new resource with the
//! stable-key id. Records of one snapshot therefore merge with each other only through a shared
//! stable key.
//!
//! For diffs, each resource touched since the last [`RegistryState::take_diff`] carries its
//! pre-tick form — whole when its content changed, only its observation times when only those
//! changed — and the diff is computed from that at take time. No second copy of all resources is
//! kept. A record re-observed unchanged costs one lookup and a timestamp update; only records
//! whose content changed are folded again.

mod index;
mod slab;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::mem;

use crate::diff::{observation_patch, resource_patch, ResourceDiff};
use crate::fingerprint::{content_fingerprint, parent_fingerprint};
use crate::id::{record_stable_key, stable_id};
use crate::json::to_json;
use crate::merge::{fold, Contribution};
use crate::names::{Source, SourceState};
use crate::record::{ParentRef, SourceRecord, SourceSnapshot};
use crate::time::Timestamp;
use crate::types::Resource;

use index::IdentityIndex;
use slab::{Handle, Slab};

/// Handle of a contribution.
type SlotId = Handle;
/// Handle of a resource entry.
type EntryId = Handle;

/// A `(source, scope)` pair: the unit a snapshot replaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ScopeKey {
    source: Source,
    scope: String,
}

/// What the registry remembers of one scope.
#[derive(Debug, Clone, Default)]
struct Scope {
    /// Observation time of the newest snapshot ingested; older snapshots are ignored.
    observed_at: Timestamp,
    /// The scope's contributions by `sourceId`.
    records: HashMap<String, SlotId>,
}

/// One contribution and where it is folded.
#[derive(Debug, Clone)]
struct Slot {
    contribution: Contribution,
    resource_id: String,
    /// The id the record's own stable key produces (equal to `resource_id` unless it merged).
    stable_id: String,
    /// Freshness when the resource was last folded; a change means the fold is out of date.
    state: SourceState,
    /// The ingest that last saw this contribution (to find the ones a snapshot dropped).
    epoch: u64,
    /// Fingerprint of the record as received and of its resolved parent, to recognise
    /// unchanged re-reports without reading the stored record.
    fingerprint: Fingerprint,
    /// The entry of `resource_id` once it has been folded.
    entry: Option<EntryId>,
}

/// The two fingerprints of a stored record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    /// Of the record's content as received.
    content: u64,
    /// Of its resolved parent id.
    parent: u64,
}

/// What a record had before this snapshot.
#[derive(Debug, Clone, Copy)]
struct Prior {
    /// Its previous contribution (same scope and `sourceId`), if any.
    slot: Option<SlotId>,
    /// Its content fingerprint as received now.
    content: u64,
    /// Whether the previous contribution holds exactly this content.
    unchanged: bool,
}

/// A resource's form before the current tick.
#[derive(Debug, Clone)]
enum Before {
    /// It did not exist.
    Absent,
    /// It existed like this (boxed: a resource is large and most captures are observations).
    Full(Box<Resource>),
    /// It existed with the current content but these observation times: `lastSeen` and each
    /// source's `lastSeen` by [`Source::index`].
    Observation {
        last_seen: Timestamp,
        source_seen: [Option<Timestamp>; Source::COUNT],
    },
}

impl Before {
    /// The observation times of a resource.
    fn observation_of(resource: &Resource) -> Before {
        let mut source_seen = [None; Source::COUNT];
        for (source, entry) in &resource.source_status {
            source_seen[source.index()] = Some(entry.last_seen);
        }
        Before::Observation {
            last_seen: resource.last_seen,
            source_seen,
        }
    }

    /// The pre-tick form given an earlier capture (if any) and `old`, the resource as it was
    /// just before a content change: an observation capture is completed into a full one.
    fn completed(earlier: Option<Before>, mut old: Resource) -> Before {
        match earlier {
            None => Before::Full(Box::new(old)),
            Some(Before::Observation {
                last_seen,
                source_seen,
            }) => {
                old.last_seen = last_seen;
                for (source, entry) in old.source_status.iter_mut() {
                    if let Some(t) = source_seen[source.index()] {
                        entry.last_seen = t;
                    }
                }
                Before::Full(Box::new(old))
            }
            Some(before) => before,
        }
    }
}

/// One resource with its contributions and its pending pre-tick form.
#[derive(Debug, Clone)]
struct Entry {
    resource: Resource,
    members: Vec<SlotId>,
    before: Option<Before>,
}

/// What ingest does with one record.
enum Step {
    /// Same content, placement and parent as its existing contribution: just re-observed.
    Observe(SlotId),
    /// New or changed: store it (replacing `previous`) on `resource_id`.
    Store {
        previous: Option<SlotId>,
        resource_id: String,
        parent_id: Option<String>,
        fingerprint: Fingerprint,
    },
    /// An earlier duplicate of a later record with the same `sourceId`: ignored.
    Skip,
}

/// Result of refreshing a resource's observation times.
enum Refresh {
    /// Nothing changed.
    Same,
    /// Observation times moved.
    Moved,
    /// A contribution changed freshness: the resource with this id must be folded again.
    Refold(String),
}

/// All unified resources of a tenant plus the bookkeeping to merge snapshots into them and to
/// report what changed.
#[derive(Debug, Clone, Default)]
pub struct RegistryState {
    entries: Slab<Entry>,
    /// Entries by resource id, in id order.
    by_id: BTreeMap<String, EntryId>,
    slots: Slab<Slot>,
    scopes: HashMap<ScopeKey, Scope>,
    index: IdentityIndex,
    /// Contributions by the id their own stable key produces, to find merged resources by key.
    aliases: HashMap<String, Vec<SlotId>>,
    /// Members of resources being created by the ingest in progress (empty between calls).
    newcomers: HashMap<String, Vec<SlotId>>,
    /// Pre-tick forms of resources removed since the last diff.
    removed: BTreeMap<String, Before>,
    /// Whether anything was captured since the last diff.
    dirty: bool,
    epoch: u64,
}

impl RegistryState {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Merges a snapshot observed by its source, replacing everything that `(source, scope)`
    /// reported before; `now` decides freshness. A snapshot older than the last one ingested for
    /// its scope is ignored. Duplicate `sourceId`s: the last wins; unknown parents are dropped.
    ///
    /// Returns the number of resources created, removed or changed in content (a change of
    /// observation times alone is not counted, but does appear in the next diff).
    pub fn ingest(&mut self, snapshot: SourceSnapshot, now: Timestamp) -> usize {
        let SourceSnapshot {
            source,
            scope,
            observed_at,
            records,
        } = snapshot;
        let key = ScopeKey { source, scope };
        let mut scope = self.scopes.remove(&key).unwrap_or_default();
        if observed_at < scope.observed_at {
            self.scopes.insert(key, scope);
            return 0;
        }
        let mut records = records;
        let prior = self.prior(&scope, &mut records);
        let steps = self.plan(key.source, &prior, &records);
        self.epoch += 1;

        let mut refold: Vec<String> = Vec::new();
        let mut observed: Vec<SlotId> = Vec::with_capacity(records.len());
        let mut added: Vec<(String, SlotId)> = Vec::new();
        for (record, step) in records.into_iter().zip(steps) {
            match step {
                Step::Observe(slot_id) => {
                    if let Some(slot) = self.slots.get_mut(slot_id) {
                        slot.contribution.observe(observed_at);
                        slot.epoch = self.epoch;
                    }
                    observed.push(slot_id);
                }
                Step::Skip => {}
                Step::Store {
                    previous,
                    resource_id,
                    parent_id,
                    fingerprint,
                } => {
                    let mut record = record;
                    record.canonicalise();
                    let own_id =
                        stable_id(record.resource_type, &record_stable_key(source, &record));
                    let source_id = previous.is_none().then(|| record.source_id.clone());
                    let contribution = Contribution::from_canonical(
                        source,
                        key.scope.clone(),
                        observed_at,
                        record,
                        parent_id,
                    );
                    match (previous, source_id) {
                        (Some(slot_id), _) => {
                            refold.extend(self.replace_slot(
                                slot_id,
                                contribution,
                                &resource_id,
                                own_id,
                                fingerprint,
                            ));
                        }
                        (None, Some(source_id)) => {
                            added.push((
                                source_id,
                                self.add_slot(contribution, &resource_id, own_id, fingerprint),
                            ));
                        }
                        (None, None) => {}
                    }
                    refold.push(resource_id);
                }
            }
        }
        let epoch = self.epoch;
        let mut dropped = Vec::new();
        scope.records.retain(|_, slot_id| {
            let seen = self.slots.get(*slot_id).is_some_and(|s| s.epoch == epoch);
            if !seen {
                dropped.push(*slot_id);
            }
            seen
        });
        for slot_id in dropped {
            refold.extend(self.remove_slot(slot_id));
        }
        scope.records.extend(added);
        scope.observed_at = observed_at;
        self.scopes.insert(key, scope);

        refold.sort_unstable();
        refold.dedup();
        let mut changed = 0;
        for id in &refold {
            changed += usize::from(self.refold(id, now));
        }
        // Resources folded above are already current, so refreshing them finds nothing to do.
        let mut outdated = Vec::new();
        for slot_id in observed {
            let Some(entry_id) = self.slots.get(slot_id).and_then(|slot| slot.entry) else {
                continue;
            };
            match refresh(&mut self.entries, &self.slots, entry_id, now) {
                Refresh::Same => {}
                Refresh::Moved => self.dirty = true,
                Refresh::Refold(id) => outdated.push(id),
            }
        }
        for id in &outdated {
            changed += usize::from(self.refold(id, now));
        }
        changed
    }

    /// Re-evaluates every resource whose contributions changed freshness since it was folded
    /// (call on a timer). Returns the number of resources whose content changed.
    pub fn mark_stale(&mut self, now: Timestamp) -> usize {
        let outdated: Vec<String> = self
            .by_id
            .iter()
            .filter(|(_, &e)| {
                self.entries
                    .get(e)
                    .is_some_and(|entry| fold_outdated(&self.slots, &entry.members, now))
            })
            .map(|(id, _)| id.clone())
            .collect();
        outdated.iter().filter(|id| self.refold(id, now)).count()
    }

    /// Everything that changed since the previous call, coalescing any number of ingests and
    /// staleness passes: new resources whole, changed ones as merge-patches, removed ones by id.
    pub fn take_diff(&mut self) -> ResourceDiff {
        let mut diff = ResourceDiff::default();
        if !mem::take(&mut self.dirty) {
            return diff;
        }
        diff.upserts.reserve(self.by_id.len());
        for &entry_id in self.by_id.values() {
            let Some(entry) = self.entries.get_mut(entry_id) else {
                continue;
            };
            let now = &entry.resource;
            match entry.before.take() {
                None => {}
                Some(Before::Absent) => diff.upserts.push(to_json(now)),
                Some(Before::Full(old)) => diff.upserts.extend(resource_patch(&old, now)),
                Some(Before::Observation {
                    last_seen,
                    source_seen,
                }) => diff
                    .upserts
                    .extend(observation_patch(last_seen, &source_seen, now)),
            }
        }
        diff.removed = mem::take(&mut self.removed).into_keys().collect();
        diff
    }

    /// Whether anything was touched since the last [`RegistryState::take_diff`] (the diff may
    /// still turn out empty if the changes cancelled out).
    pub fn has_pending(&self) -> bool {
        self.dirty
    }

    /// The resource with this id.
    pub fn get(&self, id: &str) -> Option<&Resource> {
        self.entry(id).map(|e| &e.resource)
    }

    /// All resources, ordered by id.
    pub fn resources(&self) -> impl Iterator<Item = &Resource> + '_ {
        self.by_id
            .values()
            .filter_map(|&e| self.entries.get(e))
            .map(|e| &e.resource)
    }

    /// Number of resources.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether there are no resources.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The entry of a resource id.
    fn entry(&self, id: &str) -> Option<&Entry> {
        self.entries.get(*self.by_id.get(id)?)
    }

    /// Finds each record's previous contribution and whether its content is unchanged, and
    /// canonicalises the records that are new or changed (unchanged ones are dropped after the
    /// snapshot anyway, so they are never canonicalised).
    fn prior(&self, scope: &Scope, records: &mut [SourceRecord]) -> Vec<Prior> {
        records
            .iter_mut()
            .map(|record| {
                let content = content_fingerprint(record);
                let slot = scope.records.get(record.source_id.as_str()).copied();
                let stored = slot.and_then(|s| self.slots.get(s));
                let unchanged = stored.is_some_and(|s| s.fingerprint.content == content);
                if !unchanged {
                    record.canonicalise();
                }
                // A different type is a different thing: no previous contribution to reuse.
                let slot = slot.filter(|_| {
                    unchanged
                        || stored.is_some_and(|s| {
                            s.contribution.record().resource_type == record.resource_type
                        })
                });
                Prior {
                    slot,
                    content,
                    unchanged,
                }
            })
            .collect()
    }

    /// Decides, without changing anything, what happens to each record of a snapshot: its
    /// previous contribution, its resource (see the module docs) and its resolved parent.
    /// Parents named by `sourceId` are placed before their children; of several records with
    /// the same `sourceId` the last counts.
    fn plan(&self, source: Source, prior: &[Prior], records: &[SourceRecord]) -> Vec<Step> {
        let position: HashMap<&str, usize> = records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.source_id.as_str(), i))
            .collect();
        let counts = |i: usize| position.get(records[i].source_id.as_str()) == Some(&i);

        let mut placed: Vec<Option<Cow<'_, str>>> = vec![None; records.len()];
        let mut parents: Vec<Option<Cow<'_, str>>> = vec![None; records.len()];
        let mut visiting = vec![false; records.len()];
        let mut stack = Vec::new();
        for start in (0..records.len()).filter(|&i| counts(i)) {
            stack.push(start);
            while let Some(&i) = stack.last() {
                if placed[i].is_some() {
                    stack.pop();
                    continue;
                }
                visiting[i] = true;
                let parent: Option<Cow<'_, str>> = match &records[i].parent {
                    None => None,
                    Some(ParentRef::StableKey { resource_type, key }) => {
                        let own_id = stable_id(*resource_type, key);
                        Some(Cow::Owned(match self.resolve_alias(&own_id) {
                            Some(id) => id.clone(),
                            None => own_id,
                        }))
                    }
                    Some(ParentRef::SourceId(parent)) => match position.get(parent.as_str()) {
                        Some(&j) if placed[j].is_some() => placed[j].clone(),
                        Some(&j) if !visiting[j] => {
                            stack.push(j);
                            continue;
                        }
                        // Unknown parent, or a cycle: no parent.
                        _ => None,
                    },
                };
                placed[i] = Some(match prior[i].slot.and_then(|s| self.slots.get(s)) {
                    Some(slot) => Cow::Borrowed(slot.resource_id.as_str()),
                    None => {
                        Cow::Owned(self.resource_id_for(source, &records[i], parent.as_deref()))
                    }
                });
                parents[i] = parent;
                stack.pop();
            }
        }

        prior
            .iter()
            .zip(placed.into_iter().zip(parents))
            .map(|(prior, (resource_id, parent_id))| {
                let Some(resource_id) = resource_id else {
                    return Step::Skip;
                };
                let fingerprint = Fingerprint {
                    content: prior.content,
                    parent: parent_fingerprint(parent_id.as_deref()),
                };
                match prior.slot {
                    Some(slot_id)
                        if prior.unchanged
                            && self
                                .slots
                                .get(slot_id)
                                .is_some_and(|slot| slot.fingerprint == fingerprint) =>
                    {
                        Step::Observe(slot_id)
                    }
                    previous => Step::Store {
                        previous,
                        resource_id: resource_id.into_owned(),
                        parent_id: parent_id.map(Cow::into_owned),
                        fingerprint,
                    },
                }
            })
            .collect()
    }

    /// The resource a record without a previous contribution belongs to (rules 2–4 of the
    /// module docs).
    fn resource_id_for(
        &self,
        source: Source,
        record: &SourceRecord,
        parent: Option<&str>,
    ) -> String {
        let computed = stable_id(record.resource_type, &record_stable_key(source, record));
        if let Some(id) = self.resolve_alias(&computed) {
            return id.clone();
        }
        if self.by_id.contains_key(&computed) {
            return computed;
        }
        let resources = |id: &str| self.entry(id).map(|e| &e.resource);
        self.index
            .best_match(record, parent, resources)
            .unwrap_or(computed)
    }

    /// The resource that a live contribution with this own stable id belongs to.
    fn resolve_alias(&self, own_id: &str) -> Option<&String> {
        let slot_id = *self.aliases.get(own_id)?.first()?;
        self.slots.get(slot_id).map(|slot| &slot.resource_id)
    }

    /// The member list of a resource, including one being created by the current ingest.
    fn members_mut(&mut self, resource_id: &str) -> &mut Vec<SlotId> {
        let entry = self.by_id.get(resource_id).copied();
        match entry.and_then(|e| self.entries.get_mut(e)) {
            Some(entry) => &mut entry.members,
            None => self.newcomers.entry(resource_id.to_owned()).or_default(),
        }
    }

    /// Stores a new contribution for `resource_id`; `own_id` is the id of its own stable key.
    fn add_slot(
        &mut self,
        contribution: Contribution,
        resource_id: &str,
        own_id: String,
        fingerprint: Fingerprint,
    ) -> SlotId {
        let slot_id = self.slots.insert(Slot {
            contribution,
            resource_id: resource_id.to_owned(),
            stable_id: own_id.clone(),
            // Never equal to a computed freshness, so the first fold always happens.
            state: SourceState::Unknown,
            epoch: self.epoch,
            fingerprint,
            entry: None,
        });
        self.members_mut(resource_id).push(slot_id);
        self.aliases.entry(own_id).or_default().push(slot_id);
        slot_id
    }

    /// Replaces the contribution in `slot_id`, moving it to `resource_id` if needed. Returns the
    /// resource it left, if it moved.
    fn replace_slot(
        &mut self,
        slot_id: SlotId,
        contribution: Contribution,
        resource_id: &str,
        own_id: String,
        fingerprint: Fingerprint,
    ) -> Option<String> {
        let epoch = self.epoch;
        let slot = self.slots.get_mut(slot_id)?;
        slot.contribution = contribution;
        slot.epoch = epoch;
        slot.fingerprint = fingerprint;
        let old_own_id = mem::replace(&mut slot.stable_id, own_id.clone());
        let moved_from = (slot.resource_id != resource_id)
            .then(|| mem::replace(&mut slot.resource_id, resource_id.to_owned()));
        if old_own_id != own_id {
            self.unalias(&old_own_id, slot_id);
            self.aliases.entry(own_id).or_default().push(slot_id);
        }
        if let Some(old_id) = &moved_from {
            self.detach(old_id, slot_id);
            self.members_mut(resource_id).push(slot_id);
        }
        moved_from
    }

    /// Deletes a contribution; returns the resource it belonged to.
    fn remove_slot(&mut self, slot_id: SlotId) -> Option<String> {
        let slot = self.slots.remove(slot_id)?;
        self.detach(&slot.resource_id, slot_id);
        self.unalias(&slot.stable_id, slot_id);
        Some(slot.resource_id)
    }

    /// Removes a contribution from a resource's member list.
    fn detach(&mut self, resource_id: &str, slot_id: SlotId) {
        self.members_mut(resource_id).retain(|&s| s != slot_id);
    }

    /// Removes a contribution from the alias list of its own stable id.
    fn unalias(&mut self, own_id: &str, slot_id: SlotId) {
        if let Some(slot_ids) = self.aliases.get_mut(own_id) {
            slot_ids.retain(|&s| s != slot_id);
            if slot_ids.is_empty() {
                self.aliases.remove(own_id);
            }
        }
    }

    /// Re-folds a resource from its contributions at `now`, creating or removing it as needed,
    /// and records its pre-tick form. Returns whether its content changed.
    fn refold(&mut self, id: &str, now: Timestamp) -> bool {
        let existing = self.by_id.get(id).copied();
        let members = match existing.and_then(|e| self.entries.get_mut(e)) {
            Some(entry) => mem::take(&mut entry.members),
            None => self.newcomers.remove(id).unwrap_or_default(),
        };
        let contributions: Vec<&Contribution> = members
            .iter()
            .filter_map(|&s| self.slots.get(s))
            .map(|slot| &slot.contribution)
            .collect();
        let Some(mut resource) = fold(id, &contributions, now) else {
            return self.remove_entry(id);
        };
        let entry_id = match existing {
            Some(entry_id) => entry_id,
            None => {
                self.dirty = true;
                self.index.insert(&resource);
                let before = self.removed.remove(id).unwrap_or(Before::Absent);
                let entry_id = self.entries.insert(Entry {
                    resource,
                    members: Vec::new(),
                    before: Some(before),
                });
                self.by_id.insert(id.to_owned(), entry_id);
                self.adopt(entry_id, members, now);
                return true;
            }
        };
        self.adopt(entry_id, members, now);
        let Some(entry) = self.entries.get_mut(entry_id) else {
            return false;
        };
        if entry.resource.same_content(&resource) {
            resource.updated_at = entry.resource.updated_at;
            if entry.resource != resource {
                if entry.before.is_none() {
                    entry.before = Some(Before::observation_of(&entry.resource));
                }
                entry.resource = resource;
                self.dirty = true;
            }
            return false;
        }
        self.dirty = true;
        let reindex = entry.resource.identity != resource.identity;
        let old = mem::replace(&mut entry.resource, resource);
        if reindex {
            self.index.remove(&old);
            self.index.insert(&entry.resource);
        }
        entry.before = Some(Before::completed(entry.before.take(), old));
        true
    }

    /// Makes `members` the contributions of an entry just folded at `now`: each records its
    /// entry and the freshness the fold used.
    fn adopt(&mut self, entry_id: EntryId, members: Vec<SlotId>, now: Timestamp) {
        for &slot_id in &members {
            if let Some(slot) = self.slots.get_mut(slot_id) {
                slot.state = slot.contribution.freshness(now);
                slot.entry = Some(entry_id);
            }
        }
        if let Some(entry) = self.entries.get_mut(entry_id) {
            entry.members = members;
        }
    }

    /// Removes a resource that lost its last contribution. Returns whether it existed.
    fn remove_entry(&mut self, id: &str) -> bool {
        let Some(entry) = self.by_id.remove(id).and_then(|e| self.entries.remove(e)) else {
            return false;
        };
        self.index.remove(&entry.resource);
        self.dirty = true;
        // Created and removed within one tick: the client never saw it.
        if !matches!(entry.before, Some(Before::Absent)) {
            self.removed.insert(
                id.to_owned(),
                Before::completed(entry.before, entry.resource),
            );
        }
        true
    }
}

/// Whether any of these contributions changed freshness since the last fold.
fn fold_outdated(slots: &Slab<Slot>, members: &[SlotId], now: Timestamp) -> bool {
    members.iter().any(|&s| {
        slots
            .get(s)
            .is_some_and(|slot| slot.contribution.freshness(now) != slot.state)
    })
}

/// Moves an entry's observation times to those of its contributions, capturing the old ones
/// as its pre-tick form if it has none yet.
fn refresh(
    entries: &mut Slab<Entry>,
    slots: &Slab<Slot>,
    entry_id: EntryId,
    now: Timestamp,
) -> Refresh {
    let Some(entry) = entries.get_mut(entry_id) else {
        return Refresh::Same;
    };
    let mut last_seen = None;
    let mut source_seen = [None; Source::COUNT];
    for &slot_id in &entry.members {
        let Some(slot) = slots.get(slot_id) else {
            continue;
        };
        if slot.contribution.freshness(now) != slot.state {
            return Refresh::Refold(entry.resource.id.clone());
        }
        let t = slot.contribution.observed_at();
        last_seen = last_seen.max(Some(t));
        let seen = &mut source_seen[slot.contribution.source().index()];
        *seen = (*seen).max(Some(t));
    }
    let resource = &entry.resource;
    let same = last_seen.is_none_or(|t| t == resource.last_seen)
        && resource
            .source_status
            .iter()
            .all(|(source, e)| source_seen[source.index()].is_none_or(|t| t == e.last_seen));
    if same {
        return Refresh::Same;
    }
    if entry.before.is_none() {
        entry.before = Some(Before::observation_of(resource));
    }
    if let Some(t) = last_seen {
        entry.resource.last_seen = t;
    }
    for (source, e) in entry.resource.source_status.iter_mut() {
        if let Some(t) = source_seen[source.index()] {
            e.last_seen = t;
        }
    }
    Refresh::Moved
}
