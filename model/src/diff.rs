//! Resource deltas (SPEC §6 `resourceDelta`): new resources whole, changed ones as RFC 7386
//! merge-patches carrying their `id`, removed ones by id.
//!
//! Upserts are typed ([`Upsert`]) and serialise straight to their JSON: most of a diff is usually
//! resources that were merely observed again, whose patch (`lastSeen` and the sources'
//! `lastSeen`) is kept as two timestamps instead of a tree of JSON maps.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::ModelError;
use crate::facets::Facets;
use crate::json::to_json;
use crate::names::Source;
use crate::patch::{apply_merge_patch, merge_patch_between};
use crate::source_status::SourceStatuses;
use crate::time::Timestamp;
use crate::types::{MetricKind, Metrics, Resource};

/// What changed between two resource sets; serialises as `{"upserts":[...],"removed":[...]}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResourceDiff {
    /// New resources whole, changed ones as merge-patches with `"id"`; in id order.
    pub upserts: Vec<Upsert>,
    /// Ids of removed resources, sorted.
    pub removed: Vec<String>,
}

impl ResourceDiff {
    /// Whether nothing changed (then no frame is sent).
    pub fn is_empty(&self) -> bool {
        self.upserts.is_empty() && self.removed.is_empty()
    }
}

/// One entry of [`ResourceDiff::upserts`].
#[derive(Debug, Clone, PartialEq)]
pub enum Upsert {
    /// A resource the client does not have yet, whole.
    Whole(Box<Resource>),
    /// An RFC 7386 merge-patch of a resource the client has, with its `"id"` member.
    Patch(Value),
    /// A resource the client has whose observation times alone moved.
    Observed(Observation),
}

impl Upsert {
    /// The id of the resource.
    pub fn id(&self) -> &str {
        match self {
            Upsert::Whole(resource) => &resource.id,
            Upsert::Patch(patch) => patch.get("id").and_then(Value::as_str).unwrap_or_default(),
            Upsert::Observed(observation) => observation.id(),
        }
    }

    /// The upsert as JSON (what it serialises to).
    pub fn to_json(&self) -> Value {
        to_json(self)
    }
}

/// A client reads every upsert as a [`Upsert::Patch`]: the wire form does not say which kind it
/// is, and [`apply_diff`] inserts a patch for an unknown id whole.
impl<'de> Deserialize<'de> for Upsert {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(Upsert::Patch)
    }
}

impl Serialize for Upsert {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Upsert::Whole(resource) => resource.serialize(serializer),
            Upsert::Patch(patch) => patch.serialize(serializer),
            Upsert::Observed(observation) => observation.serialize(serializer),
        }
    }
}

/// Observation times per source, by [`Source::index`]: plain milliseconds with a marker for
/// "none" (compact: registries keep one of these per observed resource and tick).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SourceTimes([i64; Source::COUNT]);

/// Marks an absent time (below every valid timestamp).
const NO_TIME: i64 = i64::MIN;

impl SourceTimes {
    /// No times.
    pub(crate) const NONE: SourceTimes = SourceTimes([NO_TIME; Source::COUNT]);

    /// The time of `source`.
    pub(crate) fn get(&self, source: Source) -> Option<Timestamp> {
        let ms = self.0[source.index()];
        (ms != NO_TIME).then(|| Timestamp::from_millis(ms))
    }

    /// Sets the time of `source`.
    pub(crate) fn set(&mut self, source: Source, at: Timestamp) {
        self.0[source.index()] = at.as_millis();
    }

    /// Whether no source has a time.
    fn is_empty(&self) -> bool {
        self.0.iter().all(|&ms| ms == NO_TIME)
    }
}

/// The merge-patch of a resource whose observation times alone changed:
/// `{"id", "lastSeen"?, "sourceStatus"?: {source: {"lastSeen"}}}` with the members that moved.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// The resource id (the registry's shared copy).
    id: Arc<str>,
    /// The new `lastSeen`, if it moved.
    last_seen: Option<Timestamp>,
    /// Each source's new `lastSeen` where it moved.
    sources: SourceTimes,
}

impl Observation {
    /// The patch of resource `id` turning the observation times `last_seen` and `source_seen`
    /// into those of `new`; `None` when none moved.
    pub(crate) fn between(
        id: Arc<str>,
        last_seen: Timestamp,
        source_seen: &SourceTimes,
        new: &Resource,
    ) -> Option<Observation> {
        let mut sources = SourceTimes::NONE;
        for (source, entry) in &new.source_status {
            if source_seen.get(*source) != Some(entry.last_seen) {
                sources.set(*source, entry.last_seen);
            }
        }
        let last_seen = (last_seen != new.last_seen).then_some(new.last_seen);
        (last_seen.is_some() || !sources.is_empty()).then_some(Observation {
            id,
            last_seen,
            sources,
        })
    }

    /// The resource id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The new `lastSeen`, if it moved.
    pub fn last_seen(&self) -> Option<Timestamp> {
        self.last_seen
    }

    /// The new `lastSeen` of `source`, if it moved.
    pub fn source_last_seen(&self, source: Source) -> Option<Timestamp> {
        self.sources.get(source)
    }
}

impl Serialize for Observation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        /// `{"lastSeen": t}`.
        struct Seen(Timestamp);
        impl Serialize for Seen {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("lastSeen", &self.0)?;
                map.end()
            }
        }
        /// The moved sources in name order (as a JSON map of them would be).
        struct Sources<'a>(&'a Observation);
        impl Serialize for Sources<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut moved: Vec<(Source, Timestamp)> = Source::ALL
                    .iter()
                    .filter_map(|&s| self.0.source_last_seen(s).map(|t| (s, t)))
                    .collect();
                moved.sort_unstable_by_key(|(s, _)| s.as_str());
                let mut map = serializer.serialize_map(Some(moved.len()))?;
                for (source, t) in moved {
                    map.serialize_entry(source.as_str(), &Seen(t))?;
                }
                map.end()
            }
        }
        let any_source = !self.sources.is_empty();
        let last_seen = self.last_seen();
        let len = 1 + usize::from(last_seen.is_some()) + usize::from(any_source);
        let mut map = serializer.serialize_map(Some(len))?;
        map.serialize_entry("id", &*self.id)?;
        if let Some(t) = &last_seen {
            map.serialize_entry("lastSeen", t)?;
        }
        if any_source {
            map.serialize_entry("sourceStatus", &Sources(self))?;
        }
        map.end()
    }
}

/// The merge-patch turning `old` into `new` (same resource), with `"id"` always included; `None`
/// when nothing changed. Equal to the generic [`merge_patch_between`] of the two canonical JSON
/// forms, but compares typed fields first so unchanged parts are never serialised.
pub fn resource_patch(old: &Resource, new: &Resource) -> Option<Value> {
    let mut patch = Map::new();
    put(&mut patch, "id", &old.id, &new.id);
    put(&mut patch, "type", &old.resource_type, &new.resource_type);
    put(&mut patch, "name", &old.name, &new.name);
    put(&mut patch, "status", &old.status, &new.status);
    put(&mut patch, "lastSeen", &old.last_seen, &new.last_seen);
    put(&mut patch, "updatedAt", &old.updated_at, &new.updated_at);
    put(&mut patch, "sources", &old.sources, &new.sources);
    put_source_status(&mut patch, &old.source_status, &new.source_status);
    put_nested(&mut patch, "identity", &old.identity, &new.identity);
    put_metrics(&mut patch, &old.metrics, &new.metrics);
    put_optional(&mut patch, "parentId", &old.parent_id, &new.parent_id);
    put(&mut patch, "tags", &old.tags, &new.tags);
    put_optional(&mut patch, "uptime", &old.uptime, &new.uptime);
    put_optional(
        &mut patch,
        "temperature",
        &old.temperature,
        &new.temperature,
    );
    put_facets(&mut patch, &old.facets, &new.facets);
    finish(patch, &new.id)
}

/// The facet members: removed ones as `null`, added ones whole, changed ones as the recursive
/// patch between their parsed forms (facets whose texts are equal are never parsed).
fn put_facets(patch: &mut Map<String, Value>, old: &Facets, new: &Facets) {
    if old == new {
        return;
    }
    for (name, old_facet) in old.iter() {
        match new.facet(name) {
            None => {
                patch.insert(name.to_owned(), Value::Null);
            }
            Some(new_facet) if new_facet != old_facet => {
                if let Some(member) =
                    merge_patch_between(&old_facet.to_value(), &new_facet.to_value())
                {
                    patch.insert(name.to_owned(), member);
                }
            }
            Some(_) => {}
        }
    }
    for (name, new_facet) in new.iter() {
        if !old.contains_key(name) {
            patch.insert(name.to_owned(), new_facet.to_value());
        }
    }
}

/// Adds `"id"` to a non-empty patch.
fn finish(mut patch: Map<String, Value>, id: &str) -> Option<Value> {
    if patch.is_empty() {
        return None;
    }
    patch.insert("id".to_owned(), Value::String(id.to_owned()));
    Some(Value::Object(patch))
}

/// Sets `key` to `new` when it differs from `old` (replaced whole).
fn put<T: Serialize + PartialEq>(patch: &mut Map<String, Value>, key: &str, old: &T, new: &T) {
    if old != new {
        patch.insert(key.to_owned(), to_json(new));
    }
}

/// Sets an optional member: the new value when it changed, `null` when it disappeared.
fn put_optional<T: Serialize + PartialEq>(
    patch: &mut Map<String, Value>,
    key: &str,
    old: &Option<T>,
    new: &Option<T>,
) {
    match (old, new) {
        (_, Some(value)) if old.as_ref() != Some(value) => {
            patch.insert(key.to_owned(), to_json(value));
        }
        (Some(_), None) => {
            patch.insert(key.to_owned(), Value::Null);
        }
        _ => {}
    }
}

/// Sets an object member to the recursive patch between its two JSON forms.
fn put_nested<T: Serialize + PartialEq>(
    patch: &mut Map<String, Value>,
    key: &str,
    old: &T,
    new: &T,
) {
    if old != new {
        if let Some(member) = merge_patch_between(&to_json(old), &to_json(new)) {
            patch.insert(key.to_owned(), member);
        }
    }
}

/// The `metrics` member: each changed metric patched field by field, so unchanged ones are
/// never serialised.
fn put_metrics(patch: &mut Map<String, Value>, old: &Metrics, new: &Metrics) {
    if old == new {
        return;
    }
    let mut member = Map::new();
    for kind in MetricKind::ALL {
        let name = kind.name();
        match (old.get(kind), new.get(kind)) {
            (Some(a), Some(b)) if a != b => {
                let mut fields = Map::new();
                put_optional(&mut fields, "value", &a.value, &b.value);
                put_optional(&mut fields, "used", &a.used, &b.used);
                put_optional(&mut fields, "total", &a.total, &b.total);
                put_optional(&mut fields, "percent", &a.percent, &b.percent);
                put(&mut fields, "unit", &a.unit, &b.unit);
                member.insert(name.to_owned(), Value::Object(fields));
            }
            (None, Some(b)) => {
                member.insert(name.to_owned(), to_json(b));
            }
            (Some(_), None) => {
                member.insert(name.to_owned(), Value::Null);
            }
            _ => {}
        }
    }
    if !member.is_empty() {
        patch.insert("metrics".to_owned(), Value::Object(member));
    }
}

/// The `sourceStatus` member: per source added whole, removed as `null`, changed field by field.
fn put_source_status(patch: &mut Map<String, Value>, old: &SourceStatuses, new: &SourceStatuses) {
    if old == new {
        return;
    }
    let mut member = Map::new();
    for (source, a) in old {
        match new.get(source) {
            None => {
                member.insert(source.as_str().to_owned(), Value::Null);
            }
            Some(b) if a != b => {
                let mut fields = Map::new();
                put(&mut fields, "status", &a.status, &b.status);
                put(&mut fields, "lastSeen", &a.last_seen, &b.last_seen);
                put_optional(&mut fields, "error", &a.error, &b.error);
                member.insert(source.as_str().to_owned(), Value::Object(fields));
            }
            Some(_) => {}
        }
    }
    for (source, b) in new {
        if !old.contains_key(source) {
            member.insert(source.as_str().to_owned(), to_json(b));
        }
    }
    if !member.is_empty() {
        patch.insert("sourceStatus".to_owned(), Value::Object(member));
    }
}

/// The diff turning the resource set `old` into `new` (each keyed by id; ids must be unique).
pub fn diff_resources<'a, O, N>(old: O, new: N) -> ResourceDiff
where
    O: IntoIterator<Item = &'a Resource>,
    N: IntoIterator<Item = &'a Resource>,
{
    let mut old: BTreeMap<&str, &Resource> = old.into_iter().map(|r| (r.id.as_str(), r)).collect();
    let new: BTreeMap<&str, &Resource> = new.into_iter().map(|r| (r.id.as_str(), r)).collect();
    let mut diff = ResourceDiff::default();
    for (id, resource) in &new {
        match old.remove(id) {
            None => diff
                .upserts
                .push(Upsert::Whole(Box::new((*resource).clone()))),
            Some(before) => diff
                .upserts
                .extend(resource_patch(before, resource).map(Upsert::Patch)),
        }
    }
    diff.removed = old.into_keys().map(str::to_owned).collect();
    diff
}

/// Applies a diff to a client-side view (`id` → resource JSON): removals first, then each upsert
/// whose id is unknown is inserted whole and each known one is merge-patched. Nothing is changed
/// when an upsert lacks a string `"id"`.
pub fn apply_diff(
    state: &mut BTreeMap<String, Value>,
    diff: &ResourceDiff,
) -> Result<(), ModelError> {
    let upserts: Vec<Value> = diff.upserts.iter().map(Upsert::to_json).collect();
    let mut ids = Vec::with_capacity(upserts.len());
    for (index, upsert) in upserts.iter().enumerate() {
        match upsert.get("id") {
            Some(Value::String(id)) => ids.push(id.clone()),
            _ => return Err(ModelError::UpsertWithoutId { index }),
        }
    }
    for id in &diff.removed {
        state.remove(id);
    }
    for (id, upsert) in ids.into_iter().zip(upserts) {
        match state.get_mut(&id) {
            Some(current) => apply_merge_patch(current, &upsert),
            None => {
                state.insert(id, upsert);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::has_no_null_members;
    use crate::testgen;
    use proptest::prelude::*;
    use serde_json::json;

    fn json_state(resources: &BTreeMap<String, Resource>) -> BTreeMap<String, Value> {
        resources
            .iter()
            .map(|(id, r)| (id.clone(), to_json(r)))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn applying_the_diff_reproduces_the_new_state(
            old in testgen::resource_set(),
            new in testgen::resource_set(),
        ) {
            let diff = diff_resources(old.values(), new.values());
            let mut client = json_state(&old);
            apply_diff(&mut client, &diff).expect("valid diff");
            prop_assert_eq!(client, json_state(&new));
            let mut sorted = diff.removed.clone();
            sorted.sort();
            prop_assert_eq!(&sorted, &diff.removed);
            prop_assert_eq!(diff.is_empty(), old == new);
        }

        #[test]
        fn typed_patch_equals_generic_patch(
            old in testgen::resource("r0".to_owned()),
            new in testgen::resource("r0".to_owned()),
        ) {
            let generic = merge_patch_between(&to_json(&old), &to_json(&new)).map(|mut p| {
                if let Value::Object(map) = &mut p {
                    map.insert("id".to_owned(), json!("r0"));
                }
                p
            });
            prop_assert_eq!(resource_patch(&old, &new), generic);
        }

        #[test]
        fn canonical_resources_have_no_null_members_and_roundtrip(
            resource in testgen::resource("r0".to_owned()),
        ) {
            let json = to_json(&resource);
            prop_assert!(has_no_null_members(&json));
            let back: Resource = serde_json::from_value(json.clone()).expect("deserialise");
            prop_assert_eq!(to_json(&back), json);
        }
    }

    #[test]
    fn diff_serialises_as_upserts_and_removed() {
        let diff = ResourceDiff {
            upserts: vec![Upsert::Patch(json!({"id": "a", "name": "x"}))],
            removed: vec!["b".to_owned()],
        };
        assert_eq!(
            serde_json::to_string(&diff).expect("serialise"),
            r#"{"upserts":[{"id":"a","name":"x"}],"removed":["b"]}"#
        );
        assert!(ResourceDiff::default().is_empty());
    }

    #[test]
    fn apply_diff_rejects_upserts_without_id() {
        let mut state = BTreeMap::from([("a".to_owned(), json!({"id": "a"}))]);
        let diff = ResourceDiff {
            upserts: vec![
                Upsert::Patch(json!({"id": "b"})),
                Upsert::Patch(json!({"name": "no id"})),
            ],
            removed: vec!["a".to_owned()],
        };
        assert_eq!(
            apply_diff(&mut state, &diff),
            Err(ModelError::UpsertWithoutId { index: 1 })
        );
        assert!(state.contains_key("a"), "nothing applied");
    }

    #[test]
    fn apply_diff_patches_known_and_inserts_unknown() {
        let mut state = BTreeMap::from([
            (
                "a".to_owned(),
                json!({"id": "a", "name": "x", "tags": ["t"]}),
            ),
            ("c".to_owned(), json!({"id": "c"})),
        ]);
        let diff = ResourceDiff {
            upserts: vec![
                Upsert::Patch(json!({"id": "a", "tags": null, "status": "online"})),
                Upsert::Patch(json!({"id": "b", "name": "new"})),
            ],
            removed: vec!["c".to_owned()],
        };
        apply_diff(&mut state, &diff).expect("valid");
        assert_eq!(
            state,
            BTreeMap::from([
                (
                    "a".to_owned(),
                    json!({"id": "a", "name": "x", "status": "online"})
                ),
                ("b".to_owned(), json!({"id": "b", "name": "new"})),
            ])
        );
    }
}
