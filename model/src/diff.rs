//! Resource deltas (SPEC §6 `resourceDelta`): new resources whole, changed ones as RFC 7386
//! merge-patches carrying their `id`, removed ones by id.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::ModelError;
use crate::json::to_json;
use crate::names::Source;
use crate::patch::{apply_merge_patch, merge_patch_between};
use crate::time::Timestamp;
use crate::types::{Metrics, Resource, SourceStatusEntry};

/// What changed between two resource sets; serialises as `{"upserts":[...],"removed":[...]}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResourceDiff {
    /// New resources as whole JSON, changed ones as merge-patches with `"id"`; in id order.
    pub upserts: Vec<Value>,
    /// Ids of removed resources, sorted.
    pub removed: Vec<String>,
}

impl ResourceDiff {
    /// Whether nothing changed (then no frame is sent).
    pub fn is_empty(&self) -> bool {
        self.upserts.is_empty() && self.removed.is_empty()
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
    put_map(
        &mut patch,
        &old.facets,
        &new.facets,
        |v| v.clone(),
        merge_patch_between,
    );
    finish(patch, &new.id)
}

/// The patch for a resource whose observation times alone changed, given the times before:
/// `lastSeen` and each source's `lastSeen` (indexed by [`Source::index`]).
pub(crate) fn observation_patch(
    last_seen: Timestamp,
    source_seen: &[Option<Timestamp>; Source::COUNT],
    new: &Resource,
) -> Option<Value> {
    let mut patch = Map::new();
    let mut text: Option<(Timestamp, String)> = None;
    let mut stamp = |t: Timestamp| match &text {
        Some((at, s)) if *at == t => Value::String(s.clone()),
        _ => {
            let s = t.to_string();
            text = Some((t, s.clone()));
            Value::String(s)
        }
    };
    if last_seen != new.last_seen {
        patch.insert("lastSeen".to_owned(), stamp(new.last_seen));
    }
    let mut sources = Map::new();
    for (source, entry) in &new.source_status {
        if source_seen[source.index()] != Some(entry.last_seen) {
            let mut member = Map::new();
            member.insert("lastSeen".to_owned(), stamp(entry.last_seen));
            sources.insert(source.as_str().to_owned(), Value::Object(member));
        }
    }
    if !sources.is_empty() {
        patch.insert("sourceStatus".to_owned(), Value::Object(sources));
    }
    finish(patch, &new.id)
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

/// The `metrics` member: each changed metric patched on its own, so unchanged ones are never
/// serialised.
fn put_metrics(patch: &mut Map<String, Value>, old: &Metrics, new: &Metrics) {
    if old == new {
        return;
    }
    let mut member = Map::new();
    for ((name, a), b) in Metrics::NAMES.iter().zip(old.slots()).zip(new.slots()) {
        match (a, b) {
            (Some(a), Some(b)) if a != b => {
                if let Some(p) = merge_patch_between(&to_json(a), &to_json(b)) {
                    member.insert((*name).to_owned(), p);
                }
            }
            (None, Some(b)) => {
                member.insert((*name).to_owned(), to_json(b));
            }
            (Some(_), None) => {
                member.insert((*name).to_owned(), Value::Null);
            }
            _ => {}
        }
    }
    if !member.is_empty() {
        patch.insert("metrics".to_owned(), Value::Object(member));
    }
}

/// The `sourceStatus` member: per source added whole, removed as `null`, changed as a patch.
fn put_source_status(
    patch: &mut Map<String, Value>,
    old: &BTreeMap<Source, SourceStatusEntry>,
    new: &BTreeMap<Source, SourceStatusEntry>,
) {
    if old == new {
        return;
    }
    let mut member = Map::new();
    put_map(&mut member, old, new, to_json, |a, b| {
        merge_patch_between(&to_json(a), &to_json(b))
    });
    if !member.is_empty() {
        patch.insert("sourceStatus".to_owned(), Value::Object(member));
    }
}

/// Patches the members of `patch` named by the keys of two maps: removed keys as `null`, added
/// keys whole (`whole`), changed keys by `diff`.
fn put_map<K: AsRef<str> + Ord, V: PartialEq>(
    patch: &mut Map<String, Value>,
    old: &BTreeMap<K, V>,
    new: &BTreeMap<K, V>,
    whole: impl Fn(&V) -> Value,
    diff: impl Fn(&V, &V) -> Option<Value>,
) {
    for (key, old_value) in old {
        match new.get(key) {
            None => {
                patch.insert(key.as_ref().to_owned(), Value::Null);
            }
            Some(new_value) if new_value != old_value => {
                if let Some(member) = diff(old_value, new_value) {
                    patch.insert(key.as_ref().to_owned(), member);
                }
            }
            Some(_) => {}
        }
    }
    for (key, new_value) in new {
        if !old.contains_key(key) {
            patch.insert(key.as_ref().to_owned(), whole(new_value));
        }
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
            None => diff.upserts.push(to_json(resource)),
            Some(before) => diff.upserts.extend(resource_patch(before, resource)),
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
    let mut ids = Vec::with_capacity(diff.upserts.len());
    for (index, upsert) in diff.upserts.iter().enumerate() {
        match upsert.get("id") {
            Some(Value::String(id)) => ids.push(id),
            _ => return Err(ModelError::UpsertWithoutId { index }),
        }
    }
    for id in &diff.removed {
        state.remove(id);
    }
    for (id, upsert) in ids.into_iter().zip(&diff.upserts) {
        match state.get_mut(id) {
            Some(current) => apply_merge_patch(current, upsert),
            None => {
                state.insert(id.clone(), upsert.clone());
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
            upserts: vec![json!({"id": "a", "name": "x"})],
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
            upserts: vec![json!({"id": "b"}), json!({"name": "no id"})],
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
                json!({"id": "a", "tags": null, "status": "online"}),
                json!({"id": "b", "name": "new"}),
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
