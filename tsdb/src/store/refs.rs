//! References to one tier's flushed chunks, 12 bytes each (they are the bulk of a long-running
//! series' memory: one per retained window and tier, ~72 per series at full default retention).
//!
//! A reference names the chunk's bundle (4 bytes), where the chunk lies in the bundle payload
//! (2 + 2 bytes) and when the chunk starts (4 bytes). Nothing on disk changes: these are derived
//! from the bundle index as before.
//!
//! * **Location.** Bundles are cut before they would exceed [`BUNDLE_TARGET_BYTES`] (60 KiB, the
//!   same in every store format), so a chunk after the first one of its bundle ends within the
//!   first 60 KiB + 1 byte of the payload, and the first one starts at offset 1. An offset always
//!   fits 16 bits; a length does unless the chunk is larger than 64 KiB, and such a chunk is alone
//!   in its bundle, i.e. it runs to the end of the payload: length 0 (never a real chunk's length)
//!   stands for that. [`Loc::new`] checks both, so a bundle that broke the rule would be reported
//!   as corrupt instead of misread.
//! * **Time.** Chunk selection needs a start and an end per chunk. Starts are kept as a `u32`
//!   count of `2^shift` ms units after a per-list `base`, rounded down: `shift` is 0 (exact
//!   starts) while the list spans less than 2^32 ms (49 days), and grows by one whenever a longer
//!   span would not fit (only the 90-day default tier of daily rollups needs a 2 or 4 ms unit).
//!   Ends are not stored: chunks of one tier never overlap (a tier only accepts newer rows), so a
//!   chunk ends before the next one starts, and the newest flushed chunk ends by the tier's newest
//!   sealed row. So for chunk `i`, with `lo(i) = base + at(i)·2^shift`:
//!   `lo(i) ≤ start(i) ≤ lo(i) + 2^shift − 1` and `end(i) ≤ lo(i+1) + 2^shift − 2`. Both bounds
//!   are conservative: a chunk they let through that holds no row in range is decoded and yields
//!   nothing, so answers never change; with exact starts the only slack is the gap between one
//!   chunk's last row and the next one's first.
//!
//! The list is kept in time order (by `lo`), which also makes the bounds monotonic, so a query
//! finds its first chunk by binary search. It is a boxed slice without spare capacity: a tier gains
//! a chunk about once per window.

use super::bundle::BUNDLE_TARGET_BYTES;
use crate::error::{Result, TsdbError};

/// Length value standing for "up to the end of the bundle payload".
const TO_END: u16 = 0;

/// Where a chunk lies in its bundle payload, in 4 bytes (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Loc {
    offset: u16,
    len: u16,
}

impl Loc {
    /// The compact form of a chunk at `offset` of `len` bytes in a payload of `payload_len` bytes.
    /// Fails only for a bundle laid out against the 60 KiB rule (written by no build).
    pub(crate) fn new(offset: u32, len: u32, payload_len: u32) -> Result<Loc> {
        const _: () = assert!(BUNDLE_TARGET_BYTES < u16::MAX as usize);
        let bad = || TsdbError::Corrupt("chunk lies beyond 64 KiB into its bundle");
        let offset16 = u16::try_from(offset).map_err(|_| bad())?;
        let to_end = offset.checked_add(len) == Some(payload_len);
        let len16 = match u16::try_from(len) {
            Ok(l) if l != TO_END => l,
            _ if to_end => TO_END,
            _ => return Err(bad()),
        };
        Ok(Loc {
            offset: offset16,
            len: len16,
        })
    }

    /// `(offset, len)` of the chunk in a payload of `payload_len` bytes (for [`super::bundle::slice`],
    /// which checks the range).
    pub(crate) fn range(self, payload_len: usize) -> (u32, u32) {
        let offset = u32::from(self.offset);
        let len = match self.len {
            TO_END => (payload_len as u32).saturating_sub(offset),
            l => u32::from(l),
        };
        (offset, len)
    }
}

/// A flushed chunk: its bundle, its location in it and its start (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkRef {
    /// Bundle holding the chunk.
    pub bundle: u32,
    /// Start, in `2^shift` ms units after the list's base, rounded down.
    at: u32,
    /// Location in the bundle payload.
    pub loc: Loc,
}

/// The flushed chunks of one tier of one series, in time order (see the module docs).
#[derive(Debug, Clone, Default)]
pub(crate) struct ChunkRefs {
    /// Time of unit 0; at most the first chunk's start.
    base: i64,
    /// Units are `2^shift` ms.
    shift: u8,
    refs: Box<[ChunkRef]>,
}

impl ChunkRefs {
    /// Number of chunks.
    pub(crate) fn len(&self) -> usize {
        self.refs.len()
    }

    /// Whether there is no chunk.
    pub(crate) fn is_empty(&self) -> bool {
        self.refs.is_empty()
    }

    /// Lower bound of a chunk's start.
    fn lo(&self, r: &ChunkRef) -> i64 {
        // Between the base and the newest start, so it fits; `at << shift` alone may not.
        let lo = i128::from(self.base) + (i128::from(r.at) << self.shift);
        i64::try_from(lo).unwrap_or(i64::MAX)
    }

    /// Re-expresses every start over `base` in `2^shift` ms units. `base` must be at most every
    /// chunk's `lo` and differ from the current base by whole current units, and `shift` must not
    /// shrink: then every `lo` stays a lower bound and `lo + 2^shift − 1` an upper bound of its
    /// chunk's start.
    fn rebase(&mut self, refs: &mut [ChunkRef], base: i64, shift: u8) {
        for r in refs.iter_mut() {
            let from_base = i128::from(self.lo(r)) - i128::from(base);
            // In range: the caller chose `shift` so that the newest start fits.
            r.at = u32::try_from(from_base >> shift).unwrap_or(u32::MAX);
        }
        self.base = base;
        self.shift = shift;
    }

    /// Adds the chunk starting at `start` (exact) in `bundle` at `loc`, in time order.
    pub(crate) fn insert(&mut self, start: i64, bundle: u32, loc: Loc) {
        let mut refs = Vec::from(std::mem::take(&mut self.refs));
        if refs.is_empty() {
            self.base = start;
            self.shift = 0;
        }
        // An older chunk than every one held (not seen in practice: chunks are flushed, and read
        // on open, in time order) lowers the base by whole units.
        let unit = 1i128 << self.shift;
        let mut base = i128::from(self.base);
        if i128::from(start) < base {
            let below = base - i128::from(start);
            base -= (below + unit - 1) / unit * unit;
        }
        let newest = refs.last().map_or(i128::from(start), |r| {
            i128::from(self.lo(r)).max(start.into())
        });
        let mut shift = self.shift;
        while (newest - base) >> shift > i128::from(u32::MAX) {
            shift += 1;
        }
        // Within ±2^62 of the stored timestamps, so it fits.
        let base = i64::try_from(base).unwrap_or(i64::MIN);
        if base != self.base || shift != self.shift {
            self.rebase(&mut refs, base, shift);
        }
        let at = u32::try_from((i128::from(start) - i128::from(base)) >> shift).unwrap_or(u32::MAX);
        let at_or_after = refs.partition_point(|r| r.at <= at);
        refs.reserve_exact(1);
        refs.insert(at_or_after, ChunkRef { bundle, at, loc });
        self.refs = refs.into_boxed_slice();
    }

    /// Keeps the chunks whose bundle `keep` accepts; returns how many were dropped. The base moves
    /// up to the first chunk left, so the span (and the unit) stays that of the retained data.
    pub(crate) fn retain_bundles(&mut self, mut keep: impl FnMut(u32) -> bool) -> usize {
        let before = self.refs.len();
        let mut refs = Vec::from(std::mem::take(&mut self.refs));
        refs.retain(|r| keep(r.bundle));
        let dropped = before - refs.len();
        if let Some(first) = refs.first() {
            let base = self.lo(first);
            let shift = self.shift;
            self.rebase(&mut refs, base, shift);
        }
        self.refs = refs.into_boxed_slice();
        dropped
    }

    /// The chunks that may hold rows in `[from, to)`, with a lower bound of their start, in time
    /// order. `last_end` is the tier's newest sealed row (bounds the newest chunk's end).
    pub(crate) fn overlapping(
        &self,
        from: i64,
        to: i64,
        last_end: Option<i64>,
    ) -> impl Iterator<Item = (i64, ChunkRef)> + '_ {
        // Chunk i ends by `lo(i+1) + unit − 2`, monotonic in i: skip those ending before `from`.
        let unit = 1i64 << self.shift;
        let first = match self.refs.get(1..) {
            Some(next) => next.partition_point(|r| self.lo(r) + unit - 2 < from),
            None => 0,
        };
        let newest_ok = last_end.is_none_or(|end| end >= from);
        let n = self.refs.len();
        self.refs[first.min(n)..]
            .iter()
            .enumerate()
            .map(move |(i, r)| (first + i, self.lo(r), *r))
            .take_while(move |&(_, lo, _)| lo < to)
            .filter(move |&(i, _, _)| i + 1 < n || newest_ok)
            .map(|(_, lo, r)| (lo, r))
    }

    /// Every chunk with a lower bound of its start, in time order.
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = (i64, ChunkRef)> + '_ {
        self.refs.iter().map(|r| (self.lo(r), *r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(offset: u32) -> Loc {
        Loc::new(offset, 10, 1_000).unwrap()
    }

    fn bundles(r: &ChunkRefs, from: i64, to: i64, last: Option<i64>) -> Vec<u32> {
        r.overlapping(from, to, last)
            .map(|(_, c)| c.bundle)
            .collect()
    }

    #[test]
    fn locations_fit_four_bytes_at_the_bundle_edges() {
        let max = BUNDLE_TARGET_BYTES as u32;
        // First chunk, a chunk ending exactly at the 60 KiB cut, one just below 64 KiB.
        assert_eq!(Loc::new(1, 7, 8).unwrap().range(8), (1, 7));
        assert_eq!(
            Loc::new(max - 99, 100, max + 1)
                .unwrap()
                .range(max as usize + 1),
            (max - 99, 100)
        );
        assert_eq!(
            Loc::new(1, 65_535, 70_000).unwrap().range(70_000),
            (1, 65_535)
        );
        // An oversized chunk alone in its bundle runs to the payload's end.
        let big = Loc::new(1, 3_000_000, 3_000_001).unwrap();
        assert_eq!(big.range(3_000_001), (1, 3_000_000));
        assert_eq!(
            Loc::new(1, 65_536, 65_537).unwrap().range(65_537),
            (1, 65_536)
        );
        // Against the 60 KiB rule: reported, never misread.
        assert!(Loc::new(1, 65_536, 70_000).is_err());
        assert!(Loc::new(65_536, 10, 65_546).is_err());
        assert_eq!(size_of::<Loc>(), 4);
        assert_eq!(size_of::<ChunkRef>(), 12);
    }

    #[test]
    fn starts_round_trip_exactly_at_window_edges() {
        let window = 1_800_000;
        let t0 = 1_699_920_000_000;
        let mut r = ChunkRefs::default();
        let starts = [
            t0,
            t0 + window - 1,
            t0 + window,
            t0 + 2 * window - 1_000,
            t0 + 3 * window,
        ];
        for (i, &s) in starts.iter().enumerate() {
            r.insert(s, i as u32, loc(1 + i as u32));
        }
        let got: Vec<(i64, u32)> = r.iter().map(|(lo, c)| (lo, c.bundle)).collect();
        let want: Vec<(i64, u32)> = starts.iter().zip(0..).map(|(&s, b)| (s, b)).collect();
        assert_eq!(got, want);
        assert_eq!(r.iter().nth(2).unwrap().1.loc.range(1_000), (3, 10));
        // End of chunk 1 is before chunk 2's start; the newest ends by `last`.
        let last = Some(t0 + 3 * window + 500);
        assert_eq!(bundles(&r, t0 + window, t0 + window + 1, last), vec![2]);
        assert_eq!(bundles(&r, t0 + window - 1, t0 + window, last), vec![1]);
        assert_eq!(bundles(&r, t0, t0 + 1, last), vec![0]);
        assert_eq!(bundles(&r, i64::MIN, i64::MAX, last), vec![0, 1, 2, 3, 4]);
        assert_eq!(bundles(&r, t0 + 3 * window + 500, i64::MAX, last), vec![4]);
        assert!(bundles(&r, t0 + 3 * window + 501, i64::MAX, last).is_empty());
        assert!(bundles(&r, i64::MIN, t0, last).is_empty());
        // Out-of-order inserts land in time order, also before the base.
        r.insert(t0 + window + 5, 9, loc(9));
        r.insert(t0 - 7, 8, loc(8));
        let order: Vec<u32> = r.iter().map(|(_, c)| c.bundle).collect();
        assert_eq!(order, vec![8, 0, 1, 2, 9, 3, 4]);
        assert_eq!(r.iter().next().unwrap().0, t0 - 7);
    }

    #[test]
    fn long_spans_coarsen_the_unit_and_stay_conservative() {
        let day = 86_400_000i64;
        let mut r = ChunkRefs::default();
        // 100 daily chunks: more than 2^32 ms.
        let starts: Vec<i64> = (0..100).map(|d| 1_699_920_000_000 + d * day + 3).collect();
        for (i, &s) in starts.iter().enumerate() {
            r.insert(s, i as u32, loc(1));
        }
        assert!(r.shift >= 1);
        let unit = 1i64 << r.shift;
        for ((lo, _), &s) in r.iter().zip(&starts) {
            assert!(lo <= s && s < lo + unit, "{lo} {s}");
        }
        // Every chunk holding a row of the range is selected.
        let last = Some(starts[99] + day - 1);
        for (i, &s) in starts.iter().enumerate() {
            let end = s + day - 1;
            for (from, to) in [(s, s + 1), (end, end + 1), (s - 1, s)] {
                let got = bundles(&r, from, to, last);
                let holds = from <= end && s < to;
                assert_eq!(got.contains(&(i as u32)), holds, "chunk {i} [{from}, {to})");
            }
        }
        // The extremes of the timestamp range fit.
        let mut wide = ChunkRefs::default();
        wide.insert(-(1 << 62), 1, loc(1));
        wide.insert(1 << 62, 2, loc(1));
        let got: Vec<i64> = wide.iter().map(|(lo, _)| lo).collect();
        assert_eq!(got[0], -(1 << 62));
        assert!(got[1] <= 1 << 62 && (1 << 62) - got[1] < 1 << wide.shift);
    }

    #[test]
    fn retention_drops_bundles_and_moves_the_base() {
        let mut r = ChunkRefs::default();
        for i in 0..6u32 {
            r.insert(1_000 * i64::from(i), i % 3, loc(1 + i));
        }
        assert_eq!(r.retain_bundles(|b| b != 0), 2);
        let got: Vec<(i64, u32)> = r.iter().map(|(lo, c)| (lo, c.bundle)).collect();
        assert_eq!(got, vec![(1_000, 1), (2_000, 2), (4_000, 1), (5_000, 2)]);
        assert_eq!(r.base, 1_000);
        assert_eq!(r.retain_bundles(|_| true), 0);
        assert_eq!(r.retain_bundles(|_| false), 4);
        assert!(r.is_empty() && r.refs.is_empty());
        assert!(bundles(&r, i64::MIN, i64::MAX, None).is_empty());
    }
}
