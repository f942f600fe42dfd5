//! `sourceStatus`: a resource's freshness per source, as a small sorted map.
//!
//! Almost every resource is seen by one or two sources, and a `BTreeMap` allocates a node sized
//! for eleven entries (≈ 0.5 KB) even for one; the registry keeps one per resource, so this holds
//! the entries in a vector instead. It offers the map operations the model's users need, keeps
//! [`Source`] order, and serialises exactly like the map it replaces.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::names::Source;
use crate::types::SourceStatusEntry;

/// Freshness per source, in [`Source`] order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceStatuses {
    entries: Vec<(Source, SourceStatusEntry)>,
}

impl SourceStatuses {
    /// No sources.
    pub fn new() -> SourceStatuses {
        SourceStatuses::default()
    }

    /// Number of sources.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, source: Source) -> Result<usize, usize> {
        self.entries.binary_search_by_key(&source, |(s, _)| *s)
    }

    /// The entry of `source`.
    pub fn get(&self, source: &Source) -> Option<&SourceStatusEntry> {
        let index = self.position(*source).ok()?;
        Some(&self.entries[index].1)
    }

    /// The entry of `source`, mutably.
    pub fn get_mut(&mut self, source: &Source) -> Option<&mut SourceStatusEntry> {
        let index = self.position(*source).ok()?;
        Some(&mut self.entries[index].1)
    }

    /// Whether `source` has an entry.
    pub fn contains_key(&self, source: &Source) -> bool {
        self.position(*source).is_ok()
    }

    /// Sets the entry of `source`, returning the one it replaced.
    pub fn insert(
        &mut self,
        source: Source,
        entry: SourceStatusEntry,
    ) -> Option<SourceStatusEntry> {
        match self.position(source) {
            Ok(index) => Some(std::mem::replace(&mut self.entries[index].1, entry)),
            Err(index) => {
                // Grow by one: a resource rarely has more than two sources.
                self.entries.reserve_exact(1);
                self.entries.insert(index, (source, entry));
                None
            }
        }
    }

    /// Removes the entry of `source`.
    pub fn remove(&mut self, source: &Source) -> Option<SourceStatusEntry> {
        let index = self.position(*source).ok()?;
        Some(self.entries.remove(index).1)
    }

    /// The entries in source order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&Source, &SourceStatusEntry)> + '_ {
        self.entries.iter().map(|(s, e)| (s, e))
    }

    /// The entries in source order, mutably.
    pub fn iter_mut(
        &mut self,
    ) -> impl ExactSizeIterator<Item = (&Source, &mut SourceStatusEntry)> + '_ {
        self.entries.iter_mut().map(|(s, e)| (&*s, e))
    }

    /// The sources in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &Source> + '_ {
        self.entries.iter().map(|(s, _)| s)
    }

    /// The entries in source order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &SourceStatusEntry> + '_ {
        self.entries.iter().map(|(_, e)| e)
    }
}

impl std::ops::Index<&Source> for SourceStatuses {
    type Output = SourceStatusEntry;

    /// The entry of `source`; panics when there is none, like a map index.
    fn index(&self, source: &Source) -> &SourceStatusEntry {
        match self.get(source) {
            Some(entry) => entry,
            None => panic!("no sourceStatus entry for {source}"),
        }
    }
}

impl FromIterator<(Source, SourceStatusEntry)> for SourceStatuses {
    /// Collects entries; of repeated sources the last wins, as in a map.
    fn from_iter<I: IntoIterator<Item = (Source, SourceStatusEntry)>>(iter: I) -> Self {
        let mut statuses = SourceStatuses::new();
        for (source, entry) in iter {
            statuses.insert(source, entry);
        }
        statuses
    }
}

impl<const N: usize> From<[(Source, SourceStatusEntry); N]> for SourceStatuses {
    fn from(entries: [(Source, SourceStatusEntry); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl<'a> IntoIterator for &'a SourceStatuses {
    type Item = (&'a Source, &'a SourceStatusEntry);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Source, SourceStatusEntry)>,
        fn(&'a (Source, SourceStatusEntry)) -> (&'a Source, &'a SourceStatusEntry),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(s, e)| (s, e))
    }
}

impl Serialize for SourceStatuses {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (source, entry) in &self.entries {
            map.serialize_entry(source, entry)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for SourceStatuses {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StatusesVisitor;

        impl<'de> Visitor<'de> for StatusesVisitor {
            type Value = SourceStatuses;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from source to status entry")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SourceStatuses, A::Error> {
                let mut statuses = SourceStatuses::new();
                while let Some((source, entry)) = map.next_entry::<Source, SourceStatusEntry>()? {
                    statuses.insert(source, entry);
                }
                Ok(statuses)
            }
        }

        deserializer.deserialize_map(StatusesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::SourceState;
    use crate::time::Timestamp;
    use std::collections::BTreeMap;

    fn entry(ms: i64) -> SourceStatusEntry {
        SourceStatusEntry {
            status: SourceState::Online,
            last_seen: Timestamp::from_millis(ms),
            error: None,
        }
    }

    #[test]
    fn behaves_and_serialises_like_the_map() {
        let pairs = [
            (Source::Docker, entry(3)),
            (Source::Proxmox, entry(1)),
            (Source::Agent, entry(2)),
            (Source::Docker, entry(4)),
        ];
        let statuses: SourceStatuses = pairs.iter().cloned().collect();
        let map: BTreeMap<Source, SourceStatusEntry> = pairs.iter().cloned().collect();
        assert_eq!(
            serde_json::to_string(&statuses).expect("serialise"),
            serde_json::to_string(&map).expect("serialise")
        );
        assert_eq!(
            statuses.keys().copied().collect::<Vec<_>>(),
            map.keys().copied().collect::<Vec<_>>()
        );
        assert_eq!(statuses[&Source::Docker], entry(4));
        assert_eq!(statuses.get(&Source::Pbs), None);
        let back: SourceStatuses =
            serde_json::from_str(&serde_json::to_string(&map).expect("serialise"))
                .expect("deserialise");
        assert_eq!(back, statuses);
        let mut edited = statuses.clone();
        assert_eq!(edited.remove(&Source::Agent), Some(entry(2)));
        assert_eq!(edited.insert(Source::Proxmox, entry(9)), Some(entry(1)));
        assert_eq!(edited.len(), 2);
        assert!(!edited.contains_key(&Source::Agent));
    }
}
