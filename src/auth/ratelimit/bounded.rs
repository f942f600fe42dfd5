//! A hash map with a size cap: when full, idle entries go first, then the least recently seen.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Instant;

/// What the map needs to know about an entry to evict it.
pub(super) trait Evictable {
    /// Whether the entry no longer carries any state worth keeping at `now`.
    fn is_idle(&self, now: Instant) -> bool;
    /// When the entry was last touched.
    fn last_seen(&self) -> Instant;
}

/// A map holding at most `cap` entries.
pub(super) struct BoundedMap<K, V> {
    map: HashMap<K, V>,
    cap: usize,
}

impl<K: Hash + Eq + Clone, V: Evictable> BoundedMap<K, V> {
    /// An empty map that never holds more than `cap` (at least 1) entries.
    pub(super) fn new(cap: usize) -> Self {
        Self {
            map: HashMap::new(),
            cap: cap.max(1),
        }
    }

    /// The entry for `key`, if any.
    pub(super) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.map.get_mut(key)
    }

    /// The entry for `key`, created with `make` (after making room if the map is full).
    pub(super) fn entry(&mut self, key: &K, now: Instant, make: impl FnOnce() -> V) -> &mut V {
        if !self.map.contains_key(key) && self.map.len() >= self.cap {
            self.make_room(now);
        }
        self.map.entry(key.clone()).or_insert_with(make)
    }

    /// Removes the entry for `key`.
    pub(super) fn remove(&mut self, key: &K) {
        self.map.remove(key);
    }

    /// Number of entries.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    /// Drops idle entries; if that frees less than a tenth of the cap, also drops the least recently
    /// seen entries down to 90 % of the cap, so the cost of a full scan is paid at most once per
    /// `cap / 10` insertions.
    fn make_room(&mut self, now: Instant) {
        self.map.retain(|_, v| !v.is_idle(now));
        let target = self.cap - self.cap.div_ceil(10);
        if self.map.len() <= target {
            return;
        }
        let mut seen: Vec<Instant> = self.map.values().map(Evictable::last_seen).collect();
        let excess = self.map.len() - target;
        let (_, threshold, _) = seen.select_nth_unstable(excess - 1);
        let threshold = *threshold;
        self.map.retain(|_, v| v.last_seen() > threshold);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    struct Item {
        seen: Instant,
        idle: bool,
    }

    impl Evictable for Item {
        fn is_idle(&self, _now: Instant) -> bool {
            self.idle
        }
        fn last_seen(&self) -> Instant {
            self.seen
        }
    }

    #[test]
    fn never_exceeds_the_cap_and_evicts_idle_then_oldest() {
        let t0 = Instant::now();
        let mut map = BoundedMap::new(10);
        for i in 0..10u64 {
            let idle = i == 7;
            map.entry(&i, t0, || Item {
                seen: t0 + Duration::from_secs(i),
                idle,
            });
        }
        assert_eq!(map.len(), 10);
        map.entry(&100, t0, || Item {
            seen: t0 + Duration::from_secs(100),
            idle: false,
        });
        assert!(map.get_mut(&7).is_none(), "idle entry evicted first");
        assert!(
            map.get_mut(&0).is_some(),
            "freeing the idle entry made enough room"
        );
        for i in 200..1_000u64 {
            map.entry(&i, t0, || Item {
                seen: t0 + Duration::from_secs(i),
                idle: false,
            });
            assert!(map.len() <= 10);
        }
        assert!(map.get_mut(&999).is_some());
        assert!(map.get_mut(&0).is_none(), "oldest evicted");
    }
}
