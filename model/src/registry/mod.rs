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
//! For diffs, each resource touched since the last [`RegistryState::take_diff`] has its pre-tick
//! form in a side table — whole when its content changed, only its observation times when only
//! those changed — and the diff is computed from that at take time. No second copy of all
//! resources is kept. A record re-observed unchanged costs a fingerprint, one lookup and a
//! timestamp update (and is freed in the same pass, while it is in cache); only records whose
//! content changed are folded again.
//!
//! The state is kept compact, since it is most of a server's memory: contributions hold only what
//! folding needs and share their facet text with the resource ([`crate::contribution`],
//! [`crate::facets`]); a resource folded from one fresh contribution holds its measurements for
//! both; each resource id is stored once; entries and slots live in chunked slabs; small lists
//! of handles are inline.

mod forms;
mod handles;
mod index;
mod slab;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::mem;
use std::sync::Arc;

use crate::diff::{resource_patch, Observation, ResourceDiff, Upsert};
use crate::fingerprint::{content_fingerprint, parent_fingerprint};
use crate::id::{record_stable_key, stable_id};
use crate::merge::{fold, Contribution};
use crate::names::{Source, SourceState};
use crate::record::{ParentRef, SourceRecord, SourceSnapshot};
use crate::time::Timestamp;
use crate::types::Resource;

use forms::{Before, Forms, NO_FORM};
use handles::Handles;
use index::IdentityIndex;
use slab::{Handle, Slab};

/// A resource id as the registry's maps and slots hold it: one shared copy per id.
type Id = Arc<str>;

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
#[derive(Debug, Clone)]
struct Scope {
    /// The scope's name, shared by its contributions.
    name: Arc<str>,
    /// Observation time of the newest snapshot ingested; older snapshots are ignored.
    observed_at: Timestamp,
    /// The scope's contributions by `sourceId` (the key shared with the contribution).
    records: HashMap<Arc<str>, SlotId>,
}

impl Scope {
    fn new(name: &str) -> Scope {
        Scope {
            name: Arc::from(name),
            observed_at: Timestamp::default(),
            records: HashMap::new(),
        }
    }
}

/// One contribution and where it is folded.
#[derive(Debug, Clone)]
struct Slot {
    contribution: Contribution,
    resource_id: Id,
    /// The id the record's own stable key produces (usually the same `Arc` as `resource_id`).
    stable_id: Id,
    /// Freshness when the resource was last folded; a change means the fold is out of date.
    state: SourceState,
    /// The ingest that last saw this contribution (to find the ones a snapshot dropped).
    epoch: u64,
    /// Fingerprint of the record as received and of its resolved parent, to recognise
    /// unchanged re-reports without reading the stored record.
    fingerprint: Fingerprint,
    /// The entry of `resource_id` once it has been folded, as [`Slot::entry`] reads it (four
    /// bytes instead of sixteen: the slot table holds one slot per record).
    entry: u32,
}

/// [`Slot::entry`] of a contribution not yet folded.
const NO_ENTRY: u32 = u32::MAX;

impl Slot {
    /// The entry of the contribution's resource once it has been folded.
    fn entry(&self) -> Option<EntryId> {
        (self.entry != NO_ENTRY).then_some(self.entry as EntryId)
    }
}

/// The two fingerprints of a stored record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    /// Of the record's content as received.
    content: u64,
    /// Of its resolved parent id.
    parent: u64,
}

/// Where a record of a snapshot goes, decided before anything changes.
#[derive(Debug, Clone)]
enum Home {
    /// Its previous contribution (same scope, `sourceId` and type), on that one's resource.
    Slot(SlotId),
    /// A new contribution on this resource; `content` is the record's fingerprint as received
    /// (taken before it was canonicalised for placement).
    New { resource_id: String, content: u64 },
    /// An earlier duplicate of a later record with the same `sourceId`: ignored.
    Skip,
}

/// How a record's parent resolved.
#[derive(Debug, Clone)]
enum Parent {
    /// No parent, or one that does not resolve.
    None,
    /// The resource of another record of the snapshot, by position.
    Record(usize),
    /// A resource id (from a stable key).
    Id(String),
}

/// The plan for one record: where it goes, its parent and the fingerprint of the parent's id.
#[derive(Debug, Clone)]
struct Plan {
    home: Home,
    parent: Parent,
    parent_fingerprint: u64,
}

/// One resource with its contributions and where its pending pre-tick form is.
#[derive(Debug, Clone)]
struct Entry {
    resource: Resource,
    members: Handles,
    /// Position of its form in [`RegistryState::forms`], or [`NO_FORM`].
    form: u32,
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
    by_id: BTreeMap<Id, EntryId>,
    slots: Slab<Slot>,
    scopes: HashMap<ScopeKey, Scope>,
    index: IdentityIndex,
    /// Contributions by the id their own stable key produces, to find merged resources by key.
    aliases: HashMap<Id, Handles>,
    /// Members of resources being created by the ingest in progress (empty between calls).
    newcomers: HashMap<String, Handles>,
    /// Pre-tick forms of the entries touched since the last diff.
    forms: Forms,
    /// Pre-tick forms of resources removed since the last diff.
    removed: BTreeMap<String, Before>,
    /// Whether anything was captured since the last diff.
    dirty: bool,
    epoch: u64,
    /// Tests run a registry that never lends measurements as the reference for one that does.
    #[cfg(test)]
    lending_disabled: bool,
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
        let mut scope = self
            .scopes
            .remove(&key)
            .unwrap_or_else(|| Scope::new(&key.scope));
        if observed_at < scope.observed_at {
            self.scopes.insert(key, scope);
            return 0;
        }
        let mut records = records;
        let prior = self.prior(&scope, &mut records);
        let plans = self.plan(key.source, &prior, &records);
        self.epoch += 1;

        let mut refold: Vec<Id> = Vec::new();
        let mut observed: Vec<SlotId> = Vec::with_capacity(records.len());
        let mut added: Vec<(Arc<str>, SlotId)> = Vec::new();
        // One pass: a record with a previous contribution is fingerprinted and, when unchanged,
        // released at once, while it is still in cache. Records are worked on in place (moving
        // one out copies 416 bytes).
        for (index, record) in records.iter_mut().enumerate() {
            let plan = &plans[index];
            let (previous, content) = match &plan.home {
                Home::Skip => continue,
                Home::Slot(slot_id) => (Some(*slot_id), content_fingerprint(record)),
                Home::New { content, .. } => (None, *content),
            };
            let fingerprint = Fingerprint {
                content,
                parent: plan.parent_fingerprint,
            };
            if let Some(slot_id) = previous {
                let Some(slot) = self.slots.get_mut(slot_id) else {
                    continue;
                };
                if slot.fingerprint == fingerprint {
                    slot.contribution.observe(observed_at);
                    slot.epoch = self.epoch;
                    observed.push(slot_id);
                    release(record);
                    continue;
                }
                record.canonicalise();
            }
            let record = mem::replace(
                record,
                SourceRecord::new("", record.resource_type, "", record.status),
            );
            let (Some(resource_id), parent_id) = (
                self.home_id(&plans, index),
                match &plan.parent {
                    Parent::None => None,
                    Parent::Record(parent) => self.home_id(&plans, *parent),
                    Parent::Id(id) => Some(self.intern(id)),
                },
            ) else {
                continue;
            };
            let own_id = stable_id(record.resource_type, &record_stable_key(source, &record));
            // A replaced contribution keeps its (equal) shared `sourceId`.
            let source_id = previous
                .and_then(|s| self.slots.get(s))
                .map(|slot| Arc::clone(slot.contribution.shared_source_id()))
                .unwrap_or_else(|| Arc::from(record.source_id.as_str()));
            let contribution = Contribution::from_canonical(
                source,
                Arc::clone(&scope.name),
                Arc::clone(&source_id),
                observed_at,
                record,
                parent_id,
                previous
                    .and_then(|s| self.slots.get(s))
                    .map(|slot| &slot.contribution),
            );
            match previous {
                Some(slot_id) => {
                    refold.extend(self.replace_slot(
                        slot_id,
                        contribution,
                        &resource_id,
                        own_id,
                        fingerprint,
                    ));
                }
                None => {
                    added.push((
                        source_id,
                        self.add_slot(contribution, &resource_id, own_id, fingerprint),
                    ));
                }
            }
            refold.push(resource_id);
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
            let Some(entry_id) = self.slots.get(slot_id).and_then(Slot::entry) else {
                continue;
            };
            match refresh(
                &mut self.entries,
                &mut self.forms,
                &self.slots,
                entry_id,
                now,
            ) {
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
        let outdated: Vec<Id> = self
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
        let mut forms = self.forms.drain();
        let entries = &self.entries;
        // In id order: walk every entry when most have a form, else sort those that do.
        let order: Vec<(&Id, EntryId, Before)> =
            if forms.len().saturating_mul(8) >= self.by_id.len() {
                self.by_id
                    .iter()
                    .filter_map(|(id, &e)| {
                        let at = entries.get(e)?.form as usize;
                        Some((id, e, forms.get_mut(at)?.1.take()?))
                    })
                    .collect()
            } else {
                let mut live: Vec<(&Id, EntryId, Before)> = forms
                    .iter_mut()
                    .filter_map(|(e, form)| {
                        let entry = entries.get(*e)?;
                        let (id, _) = self.by_id.get_key_value(entry.resource.id.as_str())?;
                        Some((id, *e, form.take()?))
                    })
                    .collect();
                live.sort_unstable_by(|a, b| a.0.cmp(b.0));
                live
            };
        diff.upserts.reserve(order.len());
        for (id, entry_id, before) in order {
            let Some(entry) = entries.get(entry_id) else {
                continue;
            };
            let now = &entry.resource;
            let upsert = match before {
                Before::Absent => Some(Upsert::Whole(Box::new(now.clone()))),
                Before::Full(old) => resource_patch(&old, now).map(Upsert::Patch),
                Before::Observation {
                    last_seen,
                    source_seen,
                } => Observation::between(Arc::clone(id), last_seen, &source_seen, now)
                    .map(Upsert::Observed),
            };
            diff.upserts.extend(upsert);
        }
        for (entry_id, _) in &forms {
            if let Some(entry) = self.entries.get_mut(*entry_id) {
                entry.form = NO_FORM;
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

    /// The resource id a planned record goes to: its previous contribution's resource (which
    /// replacing the contribution does not change) or the one planned for it.
    fn home_id(&self, plans: &[Plan], index: usize) -> Option<Id> {
        match &plans.get(index)?.home {
            Home::Slot(slot_id) => self.slots.get(*slot_id).map(|s| Arc::clone(&s.resource_id)),
            Home::New { resource_id, .. } => Some(self.intern(resource_id)),
            Home::Skip => None,
        }
    }

    /// The shared copy of `id`: the registry's own when it knows the id, else a new one.
    fn intern(&self, id: &str) -> Id {
        if let Some((known, _)) = self.by_id.get_key_value(id) {
            return Arc::clone(known);
        }
        if let Some((known, _)) = self.aliases.get_key_value(id) {
            return Arc::clone(known);
        }
        Arc::from(id)
    }

    /// Finds each record's previous contribution (same scope, `sourceId` and type). Records
    /// without one are new to the registry: they are fingerprinted as received and then
    /// canonicalised, since placing them matches on their identity. Records with one are
    /// fingerprinted later, in the pass that drops the unchanged ones.
    fn prior(&self, scope: &Scope, records: &mut [SourceRecord]) -> Vec<Result<SlotId, u64>> {
        records
            .iter_mut()
            .map(|record| {
                let slot = scope
                    .records
                    .get(record.source_id.as_str())
                    .copied()
                    // A different type is a different thing: no previous contribution to reuse.
                    .filter(|&s| {
                        self.slots.get(s).is_some_and(|slot| {
                            slot.contribution.resource_type() == record.resource_type
                        })
                    });
                slot.ok_or_else(|| {
                    let content = content_fingerprint(record);
                    record.canonicalise();
                    content
                })
            })
            .collect()
    }

    /// Decides, without changing anything, where each record of a snapshot goes (see the module
    /// docs) and resolves its parent. Parents named by `sourceId` are placed before their
    /// children; of several records with the same `sourceId` the last counts.
    fn plan(
        &self,
        source: Source,
        prior: &[Result<SlotId, u64>],
        records: &[SourceRecord],
    ) -> Vec<Plan> {
        // Records by `sourceId`, the last of duplicates counting. A per-snapshot map: foldhash
        // (randomly seeded) is several times faster than SipHash on these short keys.
        let mut position: HashMap<&str, usize, foldhash::fast::RandomState> =
            HashMap::with_capacity_and_hasher(records.len(), Default::default());
        let mut counts = vec![true; records.len()];
        for (i, record) in records.iter().enumerate() {
            if let Some(earlier) = position.insert(record.source_id.as_str(), i) {
                counts[earlier] = false;
            }
        }

        let mut placed: Vec<Option<Cow<'_, str>>> = vec![None; records.len()];
        let mut parents: Vec<(Parent, u64)> = Vec::with_capacity(records.len());
        parents.resize_with(records.len(), || (Parent::None, 0));
        let mut visiting = vec![false; records.len()];
        let mut stack = Vec::new();
        for start in (0..records.len()).filter(|&i| counts[i]) {
            stack.push(start);
            while let Some(&i) = stack.last() {
                if placed[i].is_some() {
                    stack.pop();
                    continue;
                }
                visiting[i] = true;
                let (parent, parent_id): (Parent, Option<Cow<'_, str>>) = match &records[i].parent {
                    None => (Parent::None, None),
                    Some(ParentRef::StableKey { resource_type, key }) => {
                        let own_id = stable_id(*resource_type, key);
                        let id = match self.resolve_alias(&own_id) {
                            Some(id) => id.to_string(),
                            None => own_id,
                        };
                        (Parent::Id(id.clone()), Some(Cow::Owned(id)))
                    }
                    Some(ParentRef::SourceId(parent)) => match position.get(parent.as_str()) {
                        Some(&j) if placed[j].is_some() => (Parent::Record(j), placed[j].clone()),
                        Some(&j) if !visiting[j] => {
                            stack.push(j);
                            continue;
                        }
                        // Unknown parent, or a cycle: no parent.
                        _ => (Parent::None, None),
                    },
                };
                placed[i] = Some(match prior[i].ok().and_then(|s| self.slots.get(s)) {
                    Some(slot) => Cow::Borrowed(&*slot.resource_id),
                    None => {
                        Cow::Owned(self.resource_id_for(source, &records[i], parent_id.as_deref()))
                    }
                });
                parents[i] = (parent, parent_fingerprint(parent_id.as_deref()));
                stack.pop();
            }
        }

        prior
            .iter()
            .zip(placed)
            .zip(parents)
            .map(|((prior, resource_id), (parent, parent_fingerprint))| {
                let home = match (resource_id, prior) {
                    (None, _) => Home::Skip,
                    (Some(_), Ok(slot_id)) => Home::Slot(*slot_id),
                    (Some(resource_id), Err(content)) => Home::New {
                        resource_id: resource_id.into_owned(),
                        content: *content,
                    },
                };
                Plan {
                    home,
                    parent,
                    parent_fingerprint,
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
            return id.to_string();
        }
        if self.by_id.contains_key(computed.as_str()) {
            return computed;
        }
        let resources = |id: &str| self.entry(id).map(|e| &e.resource);
        self.index
            .best_match(record, parent, resources)
            .unwrap_or(computed)
    }

    /// The resource that a live contribution with this own stable id belongs to.
    fn resolve_alias(&self, own_id: &str) -> Option<&Id> {
        let slot_id = self.aliases.get(own_id)?.first()?;
        self.slots.get(slot_id).map(|slot| &slot.resource_id)
    }

    /// The member list of a resource, including one being created by the current ingest.
    fn members_mut(&mut self, resource_id: &str) -> &mut Handles {
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
        resource_id: &Id,
        own_id: String,
        fingerprint: Fingerprint,
    ) -> SlotId {
        let own_id = self.shared_own_id(resource_id, own_id);
        let slot_id = self.slots.insert(Slot {
            contribution,
            resource_id: Arc::clone(resource_id),
            stable_id: Arc::clone(&own_id),
            // Never equal to a computed freshness, so the first fold always happens.
            state: SourceState::Unknown,
            epoch: self.epoch,
            fingerprint,
            entry: NO_ENTRY,
        });
        self.members_mut(resource_id).push(slot_id);
        self.aliases.entry(own_id).or_default().push(slot_id);
        slot_id
    }

    /// The shared copy of a contribution's own id: its resource's when equal.
    fn shared_own_id(&self, resource_id: &Id, own_id: String) -> Id {
        if *own_id == **resource_id {
            Arc::clone(resource_id)
        } else {
            self.intern(&own_id)
        }
    }

    /// Replaces the contribution in `slot_id`, moving it to `resource_id` if needed. Returns the
    /// resource it left, if it moved.
    fn replace_slot(
        &mut self,
        slot_id: SlotId,
        contribution: Contribution,
        resource_id: &Id,
        own_id: String,
        fingerprint: Fingerprint,
    ) -> Option<Id> {
        let epoch = self.epoch;
        let own_id = self.shared_own_id(resource_id, own_id);
        let slot = self.slots.get_mut(slot_id)?;
        slot.contribution = contribution;
        slot.epoch = epoch;
        slot.fingerprint = fingerprint;
        let old_own_id = mem::replace(&mut slot.stable_id, Arc::clone(&own_id));
        let moved_from = (slot.resource_id != *resource_id)
            .then(|| mem::replace(&mut slot.resource_id, Arc::clone(resource_id)));
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
    fn remove_slot(&mut self, slot_id: SlotId) -> Option<Id> {
        let slot = self.slots.remove(slot_id)?;
        self.detach(&slot.resource_id, slot_id);
        self.unalias(&slot.stable_id, slot_id);
        Some(slot.resource_id)
    }

    /// Removes a contribution from a resource's member list.
    fn detach(&mut self, resource_id: &str, slot_id: SlotId) {
        self.members_mut(resource_id).retain(|s| s != slot_id);
    }

    /// Removes a contribution from the alias list of its own stable id.
    fn unalias(&mut self, own_id: &str, slot_id: SlotId) {
        if let Some(slot_ids) = self.aliases.get_mut(own_id) {
            slot_ids.retain(|s| s != slot_id);
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
        // A contribution that lent its measurements to this resource takes them back first.
        if let Some(entry) = existing.and_then(|e| self.entries.get(e)) {
            for slot_id in members.iter() {
                if let Some(slot) = self.slots.get_mut(slot_id) {
                    slot.contribution.reclaim_measurements(&entry.resource);
                }
            }
        }
        let contributions: Vec<&Contribution> = members
            .iter()
            .filter_map(|s| self.slots.get(s))
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
                    members: Handles::Empty,
                    form: NO_FORM,
                });
                if let Some(entry) = self.entries.get_mut(entry_id) {
                    self.forms.put(entry_id, &mut entry.form, before);
                }
                let key = members
                    .first()
                    .and_then(|s| self.slots.get(s))
                    .map(|slot| Arc::clone(&slot.resource_id))
                    .unwrap_or_else(|| Arc::from(id));
                self.by_id.insert(key, entry_id);
                self.adopt(entry_id, members, now);
                self.lend(entry_id);
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
                let current = &entry.resource;
                self.forms.capture(entry_id, &mut entry.form, || {
                    Before::observation_of(current)
                });
                entry.resource = resource;
                self.dirty = true;
            }
            self.lend(entry_id);
            return false;
        }
        self.dirty = true;
        let reindex = entry.resource.identity != resource.identity;
        let old = mem::replace(&mut entry.resource, resource);
        if reindex {
            self.index.remove(&old);
            self.index.insert(&entry.resource);
        }
        let earlier = self.forms.take(&mut entry.form);
        self.forms
            .put(entry_id, &mut entry.form, Before::completed(earlier, old));
        self.lend(entry_id);
        true
    }

    /// Lets an entry's resource hold the measurements of its contribution when it is the only one
    /// and fresh or stale: the fold then shows exactly that contribution's measurements, so
    /// keeping a second copy in the contribution would be waste. [`RegistryState::refold`] takes
    /// them back before folding again.
    fn lend(&mut self, entry_id: EntryId) {
        #[cfg(test)]
        if self.lending_disabled {
            return;
        }
        let Some(Handles::One(slot_id)) = self.entries.get(entry_id).map(|e| &e.members) else {
            return;
        };
        if let Some(slot) = self.slots.get_mut(*slot_id) {
            if matches!(slot.state, SourceState::Online | SourceState::Stale) {
                slot.contribution.lend_measurements();
            }
        }
    }

    /// Makes `members` the contributions of an entry just folded at `now`: each records its
    /// entry and the freshness the fold used.
    fn adopt(&mut self, entry_id: EntryId, members: Handles, now: Timestamp) {
        for slot_id in members.iter() {
            if let Some(slot) = self.slots.get_mut(slot_id) {
                slot.state = slot.contribution.freshness(now);
                // An entry handle beyond `u32` (four billion resources) stays unlinked; the
                // resource is then refreshed by its next fold instead.
                slot.entry = u32::try_from(entry_id).unwrap_or(NO_ENTRY);
            }
        }
        if let Some(entry) = self.entries.get_mut(entry_id) {
            entry.members = members;
        }
    }

    /// Removes a resource that lost its last contribution. Returns whether it existed.
    fn remove_entry(&mut self, id: &str) -> bool {
        let Some(mut entry) = self.by_id.remove(id).and_then(|e| self.entries.remove(e)) else {
            return false;
        };
        self.index.remove(&entry.resource);
        self.dirty = true;
        let earlier = self.forms.take(&mut entry.form);
        // Created and removed within one tick: the client never saw it.
        if !matches!(earlier, Some(Before::Absent)) {
            self.removed
                .insert(id.to_owned(), Before::completed(earlier, entry.resource));
        }
        true
    }
}

/// Frees what a record owns (its strings, lists and facets) without moving it.
fn release(record: &mut SourceRecord) {
    drop((
        mem::take(&mut record.source_id),
        mem::take(&mut record.name),
        mem::take(&mut record.identity),
        record.parent.take(),
        mem::take(&mut record.tags),
        mem::take(&mut record.facets),
        record.error.take(),
        record.guest_key.take(),
    ));
}

/// Whether any of these contributions changed freshness since the last fold.
fn fold_outdated(slots: &Slab<Slot>, members: &Handles, now: Timestamp) -> bool {
    members.iter().any(|s| {
        slots
            .get(s)
            .is_some_and(|slot| slot.contribution.freshness(now) != slot.state)
    })
}

/// Moves an entry's observation times to those of its contributions, capturing the old ones
/// as its pre-tick form if it has none yet.
fn refresh(
    entries: &mut Slab<Entry>,
    forms: &mut Forms,
    slots: &Slab<Slot>,
    entry_id: EntryId,
    now: Timestamp,
) -> Refresh {
    let Some(entry) = entries.get_mut(entry_id) else {
        return Refresh::Same;
    };
    let mut last_seen = None;
    let mut source_seen = [None; Source::COUNT];
    for slot_id in entry.members.iter() {
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
    forms.capture(entry_id, &mut entry.form, || {
        Before::observation_of(resource)
    });
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
