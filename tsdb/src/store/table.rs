//! The series table: every series' state, found by key (in key order, for prefix scans and the
//! rollup and retention cursors), by id (chunk and WAL records name series by id) and by slot.
//!
//! States live in pages of slots rather than in one allocation each. A boxed state paid for the
//! allocator's size class (336 bytes took a 384-byte block) and a pointer in the key index; in a
//! page it costs its own size, the key index holds a 4-byte slot, and the id index maps 4 bytes to
//! 4 bytes instead of to a shared key (docs/performance.md, issue 2). A page is at most 64 KiB, so
//! it is never more than one size class away from its bytes either. Slots of forgotten series are
//! reused by new ones; empty pages at the end are released.
//!
//! A slot may be reused once its series is forgotten, so work that names a slot across a lock
//! release (a flush acknowledging what it wrote) checks the series id too:
//! [`SeriesTable::at_slot_mut`].

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use super::series::SeriesState;
use crate::error::{Result, TsdbError};

/// Bytes of one page of slots (a power of two: an allocator size class).
const PAGE_BYTES: usize = 64 * 1024;
/// Slots per page.
const PAGE_LEN: usize = {
    let n = PAGE_BYTES / std::mem::size_of::<Option<SeriesState>>();
    if n == 0 {
        1
    } else {
        n
    }
};

/// Every series' state (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct SeriesTable {
    /// Slot of every series, by key.
    by_key: BTreeMap<Box<[u8]>, u32>,
    /// Slot of every series, by id.
    by_id: HashMap<u32, u32>,
    /// Slot `s` is `pages[s / PAGE_LEN][s % PAGE_LEN]`; every page but the last is full length.
    pages: Vec<Vec<Option<SeriesState>>>,
    /// Occupied slots per page.
    live: Vec<u32>,
    /// Empty slots below the end of the last page, reused first.
    free: Vec<u32>,
}

impl SeriesTable {
    /// Number of series.
    pub(crate) fn len(&self) -> usize {
        self.by_key.len()
    }

    fn slot(&self, slot: u32) -> Option<&SeriesState> {
        let s = slot as usize;
        self.pages.get(s / PAGE_LEN)?.get(s % PAGE_LEN)?.as_ref()
    }

    fn slot_mut(&mut self, slot: u32) -> Option<&mut SeriesState> {
        let s = slot as usize;
        self.pages
            .get_mut(s / PAGE_LEN)?
            .get_mut(s % PAGE_LEN)?
            .as_mut()
    }

    /// Whether series `key` exists.
    pub(crate) fn contains_key(&self, key: &[u8]) -> bool {
        self.by_key.contains_key(key)
    }

    /// Whether series `id` exists.
    pub(crate) fn contains_id(&self, id: u32) -> bool {
        self.by_id.contains_key(&id)
    }

    /// The series of `key`.
    pub(crate) fn get(&self, key: &[u8]) -> Option<&SeriesState> {
        self.slot(*self.by_key.get(key)?)
    }

    /// The series of `key`, for changes.
    pub(crate) fn get_mut(&mut self, key: &[u8]) -> Option<&mut SeriesState> {
        let slot = *self.by_key.get(key)?;
        self.slot_mut(slot)
    }

    /// The series with id `id`.
    pub(crate) fn by_id(&self, id: u32) -> Option<&SeriesState> {
        self.slot(*self.by_id.get(&id)?)
    }

    /// The series with id `id`, for changes.
    pub(crate) fn by_id_mut(&mut self, id: u32) -> Option<&mut SeriesState> {
        let slot = *self.by_id.get(&id)?;
        self.slot_mut(slot)
    }

    /// The series in `slot` if it is still series `id` (see the module docs).
    pub(crate) fn at_slot_mut(&mut self, slot: u32, id: u32) -> Option<&mut SeriesState> {
        self.slot_mut(slot).filter(|s| s.id == id)
    }

    /// Adds series `key` with `state`, replacing a series registered under the same key before
    /// (which a crash between a flush's two sled batches can leave behind); ids are unique.
    /// Returns the state's slot.
    pub(crate) fn insert(&mut self, key: &[u8], state: SeriesState) -> Result<u32> {
        if self.by_id.contains_key(&state.id) {
            return Err(TsdbError::InvalidArgument("series id registered twice"));
        }
        self.remove(key);
        let id = state.id;
        let slot = match self.free.pop() {
            Some(slot) => {
                let s = slot as usize;
                self.pages[s / PAGE_LEN][s % PAGE_LEN] = Some(state);
                self.live[s / PAGE_LEN] += 1;
                slot
            }
            None => {
                if self.pages.last().is_none_or(|p| p.len() == PAGE_LEN) {
                    self.pages.push(Vec::with_capacity(PAGE_LEN));
                    self.live.push(0);
                }
                let p = self.pages.len() - 1;
                let slot = u32::try_from(p * PAGE_LEN + self.pages[p].len())
                    .map_err(|_| TsdbError::InvalidArgument("too many series"))?;
                self.pages[p].push(Some(state));
                self.live[p] += 1;
                slot
            }
        };
        self.by_key.insert(key.into(), slot);
        self.by_id.insert(id, slot);
        Ok(slot)
    }

    /// Removes series `key` and returns its state.
    pub(crate) fn remove(&mut self, key: &[u8]) -> Option<SeriesState> {
        let slot = self.by_key.remove(key)?;
        let s = slot as usize;
        let (p, i) = (s / PAGE_LEN, s % PAGE_LEN);
        let state = self.pages.get_mut(p)?.get_mut(i)?.take()?;
        self.by_id.remove(&state.id);
        self.live[p] -= 1;
        self.free.push(slot);
        // Release empty pages at the end, with their slots.
        let before = self.pages.len();
        while self.live.last() == Some(&0) {
            self.pages.pop();
            self.live.pop();
        }
        if self.pages.len() < before {
            let end = self.pages.len() * PAGE_LEN;
            self.free.retain(|&f| (f as usize) < end);
        }
        Some(state)
    }

    /// Every series, in slot order (no particular order).
    pub(crate) fn values(&self) -> impl Iterator<Item = &SeriesState> {
        self.pages.iter().flatten().filter_map(Option::as_ref)
    }

    /// Every series with its slot, in slot order.
    pub(crate) fn slots(&self) -> impl Iterator<Item = (u32, &SeriesState)> {
        self.pages
            .iter()
            .flatten()
            .enumerate()
            .filter_map(|(s, state)| state.as_ref().map(|state| (s as u32, state)))
    }

    /// Every series for changes, in slot order.
    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut SeriesState> {
        self.pages.iter_mut().flatten().filter_map(Option::as_mut)
    }

    /// Every key, in byte order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &[u8]> {
        self.by_key.keys().map(|k| &k[..])
    }

    /// The keys from `from` on (inclusive), in byte order.
    pub(crate) fn keys_from<'a>(&'a self, from: &[u8]) -> impl Iterator<Item = &'a [u8]> {
        self.by_key
            .range::<[u8], _>((Bound::Included(from), Bound::Unbounded))
            .map(|(k, _)| &k[..])
    }

    /// Every series with its key, in key order.
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], &SeriesState)> {
        self.by_key
            .iter()
            .filter_map(|(k, &s)| self.slot(s).map(|state| (&k[..], state)))
    }

    /// The first key after `cursor` (or the first key), copied (a cursor outlives the lock).
    pub(crate) fn next_key(&self, cursor: Option<&[u8]>) -> Option<Box<[u8]>> {
        let lower = cursor.map_or(Bound::Unbounded, Bound::Excluded);
        self.by_key
            .range::<[u8], _>((lower, Bound::Unbounded))
            .next()
            .map(|(k, _)| k.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::config::TierConfig;

    fn state(id: u32) -> SeriesState {
        SeriesState::new(&TierConfig::default(), id).expect("state")
    }

    #[test]
    fn states_sit_in_pages_without_a_box_each() {
        use std::mem::size_of;
        // What every series pays (docs/performance.md, issue 2): its state, a slot in the key
        // index (key plus 4 bytes) and one in the id index (4 + 4 bytes).
        assert_eq!(size_of::<Option<SeriesState>>(), size_of::<SeriesState>());
        assert!(PAGE_LEN * size_of::<SeriesState>() <= PAGE_BYTES && PAGE_LEN > 200);
    }

    #[test]
    fn finds_series_by_key_id_and_slot_and_reuses_slots() {
        let mut t = SeriesTable::default();
        let n = 2 * PAGE_LEN as u32 + 5;
        let keys: Vec<Vec<u8>> = (0..n).map(|i| format!("k{i:05}").into_bytes()).collect();
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(
                t.insert(k, state(100 + i as u32)).expect("insert"),
                i as u32
            );
        }
        assert_eq!((t.len(), t.pages.len()), (n as usize, 3));
        assert_eq!(t.get(b"k00007").map(|s| s.id), Some(107));
        assert_eq!(t.by_id(100 + n - 1).map(|s| s.id), Some(100 + n - 1));
        assert!(t.by_id(99).is_none() && t.get(b"nope").is_none());
        assert!(t.at_slot_mut(3, 103).is_some() && t.at_slot_mut(3, 104).is_none());
        assert_eq!(t.keys().next(), Some(&b"k00000"[..]));
        assert_eq!(t.keys_from(b"k00010").next(), Some(&b"k00010"[..]));
        assert_eq!(t.next_key(Some(b"k00010")).as_deref(), Some(&b"k00011"[..]));
        assert_eq!(t.next_key(None).as_deref(), Some(&b"k00000"[..]));
        assert_eq!(t.values().count(), n as usize);
        assert_eq!(t.iter().map(|(_, s)| s.id).max(), Some(100 + n - 1));

        // A forgotten series' slot goes to the next new one, checked by id.
        let gone = t.remove(b"k00003").expect("remove");
        assert_eq!(gone.id, 103);
        assert!(t.remove(b"k00003").is_none());
        assert!(!t.contains_id(103) && !t.contains_key(b"k00003"));
        assert!(t.at_slot_mut(3, 103).is_none());
        assert_eq!(t.insert(b"new", state(900)).expect("insert"), 3);
        assert!(t.at_slot_mut(3, 103).is_none() && t.at_slot_mut(3, 900).is_some());
        assert_eq!(t.values().count(), n as usize);

        // Registering a key again replaces the older series; an id must be new.
        t.insert(b"new", state(901)).expect("insert");
        assert!(!t.contains_id(900) && t.get(b"new").map(|s| s.id) == Some(901));
        assert!(t.insert(b"renamed", state(901)).is_err());
        assert!(!t.contains_key(b"renamed") && t.by_id(901).is_some());
        assert_eq!(t.len(), t.values().count());

        // Emptied pages at the end are released, with their free slots.
        for k in &keys[PAGE_LEN..] {
            t.remove(k);
        }
        assert_eq!(t.pages.len(), 1);
        assert!(t.free.iter().all(|&f| (f as usize) < PAGE_LEN));
        assert!(t.free.is_empty(), "the first page is full again");
        let slot = t.insert(b"again", state(5_000)).expect("insert");
        assert_eq!((slot as usize, t.pages.len()), (PAGE_LEN, 2));
        assert_eq!(t.len(), t.values().count());
        assert_eq!(t.slots().map(|(s, _)| s).max(), Some(slot));
        assert_eq!(t.by_id(5_000).map(|s| s.id), Some(5_000));
    }
}
