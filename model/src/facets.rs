//! Facets: the free-form per-source details of a resource (`proxmox`, `docker`, `storage`, …),
//! flattened into the top level of its JSON.
//!
//! A facet value is held as compact canonical JSON text ([`Facet`]), not as a `serde_json::Value`
//! tree. A tree costs several times the bytes of its text (a B-tree node per object, an allocation
//! per key and per string), and the registry holds every facet twice: in the contribution that
//! reported it and in the resource folded from it. As text behind an `Arc` both share one copy,
//! serialising a resource copies the text verbatim, and a diff parses the two versions of a facet
//! only when their texts differ.
//!
//! Reading a facet as a [`Value`] ([`Facets::get`], indexing) parses it on first use and caches
//! the tree in that copy of the [`Facets`]. Copies handed to consumers (cloned resources) start
//! with an empty cache, so the registry's own resources stay compact.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::json::prune_null_members;
use crate::names::FacetKey;

/// One facet value: canonical JSON (no `null` object members at any depth, see [`crate::json`])
/// as compact text, cheap to clone and shared between the copies of a resource.
#[derive(Clone)]
pub struct Facet(Arc<RawValue>);

impl Facet {
    /// The facet holding `value` in canonical form; `None` when `value` is `null` (a null facet is
    /// no facet).
    pub fn new(mut value: Value) -> Option<Facet> {
        if prune_null_members(&mut value) {
            return None;
        }
        Some(Facet::from_canonical(&value))
    }

    /// The facet of a value already in canonical form.
    pub(crate) fn from_canonical(value: &Value) -> Facet {
        // A `Value` always serialises (its keys are strings); the fallback is unreachable.
        let raw =
            serde_json::value::to_raw_value(value).unwrap_or_else(|_| RawValue::NULL.to_owned());
        Facet(Arc::from(raw))
    }

    /// The canonical JSON text.
    pub fn json(&self) -> &str {
        self.0.get()
    }

    /// The facet as a JSON value (parsed from its text).
    pub fn to_value(&self) -> Value {
        // The text was produced by `serde_json` from a `Value`, so it parses back exactly
        // (`float_roundtrip` keeps every number bit for bit).
        serde_json::from_str(self.json()).unwrap_or(Value::Null)
    }
}

impl PartialEq for Facet {
    fn eq(&self, other: &Facet) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.json() == other.json()
    }
}

impl fmt::Debug for Facet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.json())
    }
}

impl Serialize for Facet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// The name of a facet: one of the [`FacetKey`] names (static) or any other top-level member a
/// deserialised resource carried.
pub type FacetName = Cow<'static, str>;

/// The name for `name`, without allocating when it is a [`FacetKey`] name.
fn facet_name(name: String) -> FacetName {
    match name.parse::<FacetKey>() {
        Ok(key) => Cow::Borrowed(key.as_str()),
        Err(_) => Cow::Owned(name),
    }
}

/// One facet of a resource.
struct Entry {
    name: FacetName,
    facet: Facet,
    /// The facet parsed, filled on the first read through this copy (see the module docs).
    parsed: OnceLock<Box<Value>>,
}

impl Entry {
    fn new(name: FacetName, facet: Facet) -> Entry {
        Entry {
            name,
            facet,
            parsed: OnceLock::new(),
        }
    }

    fn value(&self) -> &Value {
        self.parsed.get_or_init(|| Box::new(self.facet.to_value()))
    }
}

impl Clone for Entry {
    fn clone(&self) -> Entry {
        Entry::new(self.name.clone(), self.facet.clone())
    }
}

/// The facets of a resource by name, in name order (the order they serialise in).
#[derive(Clone, Default)]
pub struct Facets {
    entries: Vec<Entry>,
}

impl Facets {
    /// No facets.
    pub fn new() -> Facets {
        Facets::default()
    }

    /// Number of facets.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|e| e.name.as_ref().cmp(name))
    }

    /// The facet `name` as a JSON value (parsed on first read, see the module docs).
    pub fn get(&self, name: &str) -> Option<&Value> {
        let index = self.position(name).ok()?;
        Some(self.entries[index].value())
    }

    /// The facet `name` as compact JSON.
    pub fn facet(&self, name: &str) -> Option<&Facet> {
        let index = self.position(name).ok()?;
        Some(&self.entries[index].facet)
    }

    /// Whether there is a facet `name`.
    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_ok()
    }

    /// Sets facet `name` to `value` in canonical form (null members pruned); a `null` value
    /// removes the facet.
    pub fn insert(&mut self, name: String, value: Value) {
        match Facet::new(value) {
            Some(facet) => self.insert_facet(facet_name(name), facet),
            None => self.remove(&name),
        }
    }

    /// Sets facet `name`.
    pub fn insert_facet(&mut self, name: FacetName, facet: Facet) {
        match self.position(&name) {
            Ok(index) => self.entries[index] = Entry::new(name, facet),
            Err(index) => {
                // Grow by one: a resource rarely has more than two facets.
                self.entries.reserve_exact(1);
                self.entries.insert(index, Entry::new(name, facet));
            }
        }
    }

    /// Removes facet `name`.
    pub fn remove(&mut self, name: &str) {
        if let Ok(index) = self.position(name) {
            self.entries.remove(index);
        }
    }

    /// The facets in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Facet)> + '_ {
        self.entries.iter().map(|e| (e.name.as_ref(), &e.facet))
    }

    /// The names in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.entries.iter().map(|e| e.name.as_ref())
    }

    /// Builds the facets from `(name, facet)` pairs in any order; of repeated names the first
    /// wins (the fold adds facets in ranking order).
    pub(crate) fn from_first_wins(pairs: impl Iterator<Item = (FacetKey, Facet)>) -> Facets {
        let mut facets = Facets::new();
        for (key, facet) in pairs {
            if let Err(index) = facets.position(key.as_str()) {
                facets.entries.reserve_exact(1);
                facets
                    .entries
                    .insert(index, Entry::new(Cow::Borrowed(key.as_str()), facet));
            }
        }
        facets
    }
}

impl PartialEq for Facets {
    fn eq(&self, other: &Facets) -> bool {
        self.entries.len() == other.entries.len()
            && self
                .entries
                .iter()
                .zip(&other.entries)
                .all(|(a, b)| a.name == b.name && a.facet == b.facet)
    }
}

impl fmt::Debug for Facets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl std::ops::Index<&str> for Facets {
    type Output = Value;

    /// The facet `name` as a JSON value; panics when there is none, like a map index.
    fn index(&self, name: &str) -> &Value {
        match self.get(name) {
            Some(value) => value,
            None => panic!("no facet {name:?}"),
        }
    }
}

impl FromIterator<(String, Value)> for Facets {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Facets {
        let mut facets = Facets::new();
        for (name, value) in iter {
            facets.insert(name, value);
        }
        facets
    }
}

impl Serialize for Facets {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for entry in &self.entries {
            map.serialize_entry(entry.name.as_ref(), &entry.facet)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Facets {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Facets, D::Error> {
        struct FacetsVisitor;

        impl<'de> Visitor<'de> for FacetsVisitor {
            type Value = Facets;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("facets as JSON object members")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Facets, A::Error> {
                let mut facets = Facets::new();
                while let Some((name, value)) = map.next_entry::<String, Value>()? {
                    facets.insert(name, value);
                }
                Ok(facets)
            }
        }

        deserializer.deserialize_map(FacetsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn facets_are_canonical_sorted_and_serialise_verbatim() {
        let mut facets = Facets::new();
        facets.insert(
            "proxmox".into(),
            json!({"node": "n", "lock": null, "x": 1.5}),
        );
        facets.insert("docker".into(), json!({"b": [null], "a": {"c": null}}));
        facets.insert("custom".into(), json!(3));
        facets.insert("gone".into(), Value::Null);
        assert_eq!(
            facets.keys().collect::<Vec<_>>(),
            ["custom", "docker", "proxmox"]
        );
        assert_eq!(facets["proxmox"], json!({"node": "n", "x": 1.5}));
        assert_eq!(
            facets.facet("docker").map(Facet::json),
            Some(r#"{"a":{},"b":[null]}"#)
        );
        assert_eq!(
            serde_json::to_string(&facets).expect("serialise"),
            r#"{"custom":3,"docker":{"a":{},"b":[null]},"proxmox":{"node":"n","x":1.5}}"#
        );
        assert_eq!(
            serde_json::to_value(&facets).expect("to value"),
            json!({"custom": 3, "docker": {"a": {}, "b": [null]}, "proxmox": {"node": "n", "x": 1.5}})
        );
        facets.insert("docker".into(), Value::Null);
        assert!(!facets.contains_key("docker"));
        assert_eq!(facets.len(), 2);
    }

    #[test]
    fn copies_share_the_text_and_compare_by_content() {
        let facets: Facets = [("storage".to_owned(), json!({"kind": "zfs"}))]
            .into_iter()
            .collect();
        let copy = facets.clone();
        assert_eq!(facets, copy);
        let (a, b) = (facets.facet("storage"), copy.facet("storage"));
        assert!(matches!((a, b), (Some(a), Some(b)) if Arc::ptr_eq(&a.0, &b.0)));
        let other: Facets = [("storage".to_owned(), json!({"kind": "zfs"}))]
            .into_iter()
            .collect();
        assert_eq!(facets, other, "equal content, separate text");
        let changed: Facets = [("storage".to_owned(), json!({"kind": "lvm"}))]
            .into_iter()
            .collect();
        assert_ne!(facets, changed);
    }

    #[test]
    fn numbers_roundtrip_exactly() {
        for x in [0.1 + 0.2, 2994.372, 1e-300, 18.626_451_492_309_57, f64::MAX] {
            let facet = Facet::new(json!({"x": x})).expect("facet");
            assert_eq!(facet.to_value()["x"].as_f64(), Some(x), "{}", facet.json());
        }
    }

    #[test]
    fn deserialises_from_a_map_dropping_nulls() {
        let facets: Facets =
            serde_json::from_value(json!({"docker": null, "agent": {"v": null, "w": 1}}))
                .expect("deserialise");
        assert_eq!(facets.keys().collect::<Vec<_>>(), ["agent"]);
        assert_eq!(facets["agent"], json!({"w": 1}));
    }
}
