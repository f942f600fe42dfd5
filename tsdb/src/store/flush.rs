//! Persisting in-memory state: block records, then the sled index, then the WAL segment.
//!
//! A flush, under the store lock, first seals heads whose window is over (raw heads whose window
//! ended `late_tolerance_ms` before the newest sample, rollup heads whose window the rollup
//! watermark has passed), then snapshots:
//! * every chunk sealed since the last flush, packed per tier window into bundles: each bundle is
//!   one record appended to the window's block file (written once, never modified) and indexed by
//!   an `X` value in sled;
//! * one WAL segment with the payload bits each raw head gained since the last flush (and the
//!   samples-written counter);
//! * new `I` records, deletions of `I` records of forgotten series, and which WAL files no open
//!   head needs any more.
//!
//! Without holding the store lock it then writes, each step durable (fsync) before the next:
//! 1. the block records;
//! 2. new `I` records, in sled batches of at most [`SERIES_BATCH`] (a registration alone is
//!    harmless: a series with no data);
//! 3. one atomic `sled::Batch` with the index entries, removed `I` records and the counter, only
//!    if there are any (most flushes seal nothing and leave sled untouched);
//! 4. the WAL segment, appended to the current WAL file;
//! 5. deletion of the WAL files below the low-water mark.
//!
//! An index entry thus never names a record that is not durable (a crash after step 1 or 2 leaves
//! unindexed records, which reopening truncates away), and a WAL segment never refers to a chunk
//! that is not indexed. A crash after step 3 loses the flush's head samples, as a crash before the
//! flush would: replaying the older segments rebuilds the heads as they were, minus the rows the
//! newly indexed chunks hold. Then it acknowledges what it wrote. Nothing is ever rewritten.
//!
//! Rollup heads are not persisted at all: they are re-derived from the finer tier after a restart
//! (see open.rs), and retention keeps the finer tier until the coarser window is sealed.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::bundle::{self, Entry, Located};
use super::keys::{bundle_key, series_key, COUNTERS_KEY, INDEX};
use super::refs::Loc;
use super::series::TierState;
use super::wal::{self, Run};
use super::{lock, BundleMeta, Inner, Tsdb};
use crate::error::Result;

/// What a [`Tsdb::flush`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlushSummary {
    /// Raw heads with new samples written to the WAL.
    pub heads: usize,
    /// Sealed chunks written.
    pub chunks: usize,
    /// Bundles written.
    pub bundles: usize,
    /// WAL segments no open head needs any more (their files are deleted once every segment in
    /// them is).
    pub segments_deleted: usize,
    /// Bytes of keys and values written.
    pub bytes: usize,
}

/// A chunk copied out for writing.
struct Sealed {
    series: u32,
    /// The series' slot in the table, checked against `series` when acknowledging.
    slot: u32,
    tier: u8,
    window: i64,
    start: i64,
    end: i64,
    complete: bool,
    bytes: Arc<[u8]>,
    seq: u64,
}

/// A bundle to write and then acknowledge.
struct WrittenBundle {
    id: u32,
    meta: BundleMeta,
    /// Record payload.
    data: Vec<u8>,
    /// Index body (see bundle.rs).
    body: Vec<u8>,
    /// `((slot, series), pending seq, located, compact location)` of each chunk.
    chunks: Vec<((u32, u32), u64, Located, Loc)>,
}

/// A WAL run, to acknowledge.
struct WalAck {
    series: u32,
    /// The series' slot in the table, checked against `series` when acknowledging.
    slot: u32,
    head_gen: u32,
    samples: u32,
    bits: usize,
    new_head: bool,
}

/// Most series registrations written to sled in one batch. sled 0.34 keeps every intermediate
/// copy of the tree nodes a batch touches alive until the batch ends, and many are never
/// reclaimed: one batch registering 70,000 series left ~300 MB of heap behind, batches of 1,000
/// ~13 MB (measured with a counting allocator). A registration is harmless on its own (a series
/// with no data), so registrations may be applied ahead of, and apart from, the flush's batch.
const SERIES_BATCH: usize = 1_000;

/// Everything a flush writes, collected under the lock.
struct Plan {
    /// New series registrations, applied before `batch` in batches of at most
    /// [`SERIES_BATCH`] (see there).
    series_batches: Vec<sled::Batch>,
    batch: sled::Batch,
    /// The batch holds index or series changes (otherwise sled is not written).
    sled_dirty: bool,
    /// Parts of the WAL segment to append.
    wal_parts: Vec<Vec<u8>>,
    /// Lowest segment an open head needs after this flush.
    low_water: u64,
    summary: FlushSummary,
    bundles: Vec<WrittenBundle>,
    wal: Vec<WalAck>,
    segment: Option<(u64, u16)>,
    delete_segments: Vec<u64>,
    new_ids: usize,
    removed_ids: usize,
    samples_written: u64,
}

impl Tsdb {
    /// Makes everything appended, rolled up or dropped so far durable (block records, sled index,
    /// WAL segment; see the module docs). After it returns, a crash loses nothing that preceded the call.
    /// Appends proceed concurrently while the data is written.
    pub fn flush(&self) -> Result<FlushSummary> {
        let _serial = lock(&self.flush_lock);
        let Some(plan) = self.plan_flush()? else {
            return Ok(FlushSummary::default());
        };
        let Plan {
            series_batches,
            mut batch,
            sled_dirty,
            wal_parts,
            low_water,
            mut summary,
            mut bundles,
            wal,
            segment,
            delete_segments,
            new_ids,
            removed_ids,
            samples_written,
        } = plan;
        self.write_blocks(&mut bundles, &mut batch, &mut summary)?;
        for series in series_batches {
            self.tree.apply_batch(series)?;
        }
        if sled_dirty || !bundles.is_empty() {
            self.tree.apply_batch(batch)?;
            self.tree.flush()?;
        }
        if let Some((seq, _)) = segment {
            summary.bytes += self.wal.append(seq, samples_written, &wal_parts)?;
        }
        self.wal.remove_below(low_water)?;

        let mut inner = lock(&self.inner);
        let n = new_ids.min(inner.new_ids.len());
        inner.new_ids.drain(..n);
        let n = removed_ids.min(inner.removed_ids.len());
        inner.removed_ids.drain(..n);
        // Registrations come in bursts (a store's first flush registers every series): keep no
        // buffer, with its keys' room, between them.
        if inner.new_ids.is_empty() {
            inner.new_ids = Vec::new();
        }
        if inner.removed_ids.is_empty() {
            inner.removed_ids = Vec::new();
        }
        inner.flushed_samples_written = samples_written;
        for seq in delete_segments {
            inner.segments.remove(&seq);
        }
        if let Some((seq, parts)) = segment {
            inner.segments.insert(seq, parts);
        }
        for b in bundles {
            let tier = usize::from(b.meta.tier);
            let spec = &self.config.tiers[tier];
            for ((slot, series), seq, loc, compact) in &b.chunks {
                let state = inner.series.at_slot_mut(*slot, *series);
                let Some(t) = state.and_then(|s| s.tier_mut(tier)) else {
                    continue;
                };
                t.ack_pending(*seq);
                t.refs.insert(loc.start, b.id, *compact);
                let durable = TierState::durable_end(spec, loc.start, loc.end, loc.complete);
                t.sealed_through.raise(durable);
            }
            inner.bundles.insert(b.id, b.meta);
        }
        if let Some((seq, _)) = segment {
            for ack in wal {
                let Some(state) = inner.series.at_slot_mut(ack.slot, ack.series) else {
                    continue;
                };
                let wal = &mut state.wal;
                if wal.head_gen != ack.head_gen {
                    continue;
                }
                wal.samples = ack.samples;
                wal.bits = ack.bits;
                if ack.new_head || wal.first_segment().is_none() {
                    wal.set_first_segment(seq);
                }
            }
        }
        Ok(summary)
    }

    /// Seals finished heads and collects the batch; `None` when there is nothing to write.
    fn plan_flush(&self) -> Result<Option<Plan>> {
        let mut inner = lock(&self.inner);
        self.seal_finished(&mut inner)?;
        let mut batch = sled::Batch::default();
        let mut summary = FlushSummary::default();

        // Sealed chunks, grouped by tier and window.
        let mut sealed: Vec<Sealed> = Vec::new();
        let mut runs: Vec<Run> = Vec::new();
        let mut acks: Vec<WalAck> = Vec::new();
        let mut pins: Option<u64> = None;
        let this_segment = inner.next_segment;
        for (slot, state) in inner.series.slots() {
            for (tier, t) in state.tiers() {
                let span = self.config.tiers[tier].max_chunk_span_ms;
                for p in t.pending.iter() {
                    sealed.push(Sealed {
                        series: state.id,
                        slot,
                        tier: tier as u8,
                        window: super::aggregate::floor_to(p.start, span),
                        start: p.start,
                        end: p.end,
                        complete: p.complete,
                        bytes: Arc::clone(&p.bytes),
                        seq: p.seq,
                    });
                }
            }
            let (raw, wal) = (state.raw(), &state.wal);
            let grown = raw.head.len() as u32 > wal.samples;
            if grown {
                let new_head = wal.samples == 0;
                let from = if new_head { 0 } else { wal.bits };
                let to = raw.head.bit_len();
                runs.push(Run {
                    series: state.id,
                    new_head: new_head.then(|| raw.head.first_tick()),
                    samples: raw.head.len() as u32 - wal.samples,
                    bits: to - from,
                    payload: raw.head.payload_bits(from, to),
                });
                acks.push(WalAck {
                    series: state.id,
                    slot,
                    head_gen: wal.head_gen,
                    samples: raw.head.len() as u32,
                    bits: to,
                    new_head,
                });
            }
            // Segments this head needs after the flush.
            let starts_here = grown && wal.samples == 0;
            let pin = match wal.first_segment() {
                Some(from) if !raw.head.is_empty() && !starts_here => Some(from),
                _ if grown => Some(this_segment),
                _ => None,
            };
            if let Some(p) = pin {
                pins = Some(pins.map_or(p, |m| m.min(p)));
            }
        }

        let nothing_else = sealed.is_empty()
            && runs.is_empty()
            && inner.new_ids.is_empty()
            && inner.removed_ids.is_empty()
            && inner.samples_written == inner.flushed_samples_written;
        let low_water = pins.unwrap_or(if runs.is_empty() {
            inner.next_segment
        } else {
            this_segment
        });
        let delete_segments: Vec<u64> = inner
            .segments
            .range(..low_water)
            .map(|(&seq, _)| seq)
            .collect();
        if nothing_else && delete_segments.is_empty() {
            return Ok(None);
        }

        // Bundles.
        sealed.sort_by_key(|s| (s.tier, s.window, s.series, s.start));
        let mut bundles = Vec::new();
        let mut groups: BTreeMap<(u8, i64), Vec<&Sealed>> = BTreeMap::new();
        for s in &sealed {
            groups.entry((s.tier, s.window)).or_default().push(s);
        }
        for ((tier, window), chunks) in groups {
            let entries: Vec<Entry<'_>> = chunks
                .iter()
                .map(|s| Entry {
                    series: s.series,
                    start: s.start,
                    end: s.end,
                    complete: s.complete,
                    bytes: &s.bytes,
                })
                .collect();
            let mut done = 0;
            for group in bundle::split(&entries) {
                let id = inner.next_bundle;
                inner.next_bundle = inner.next_bundle.wrapping_add(1);
                let (data, body) = bundle::encode(window, group);
                let located = bundle::decode_body(window, &body)?;
                // Checked before anything is written (the 60 KiB cut guarantees it, refs.rs).
                let payload = data.len() as u32;
                let compact = located
                    .iter()
                    .map(|l| Loc::new(l.offset, l.len, payload))
                    .collect::<Result<Vec<Loc>>>()?;
                summary.chunks += group.len();
                summary.bundles += 1;
                let members = &chunks[done..done + group.len()];
                done += group.len();
                let mut series: Vec<u32> = members.iter().map(|s| s.series).collect();
                series.dedup();
                bundles.push(WrittenBundle {
                    id,
                    meta: BundleMeta {
                        tier,
                        window,
                        series,
                        // Set once the record is written.
                        offset: 0,
                        len: 0,
                    },
                    data,
                    body,
                    chunks: members
                        .iter()
                        .zip(located)
                        .zip(compact)
                        .map(|((s, loc), c)| ((s.slot, s.series), s.seq, loc, c))
                        .collect(),
                });
            }
        }

        // WAL segment.
        summary.heads = runs.len();
        let mut wal_parts = Vec::new();
        let segment = if runs.is_empty() {
            None
        } else {
            inner.next_segment += 1;
            wal_parts = wal::encode(&mut runs);
            Some((this_segment, wal_parts.len() as u16))
        };
        summary.segments_deleted = delete_segments.len();

        let mut series_batches = Vec::new();
        for ids in inner.new_ids.chunks(SERIES_BATCH) {
            let mut series = sled::Batch::default();
            for (id, key) in ids {
                if inner.series.contains_id(*id) {
                    series.insert(&series_key(*id)[..], &key[..]);
                }
            }
            series_batches.push(series);
        }
        for &id in &inner.removed_ids {
            batch.remove(&series_key(id)[..]);
        }
        let sled_dirty = !inner.new_ids.is_empty() || !inner.removed_ids.is_empty();
        batch.insert(COUNTERS_KEY, &inner.samples_written.to_be_bytes());
        Ok(Some(Plan {
            series_batches,
            batch,
            sled_dirty,
            wal_parts,
            low_water,
            summary,
            bundles,
            wal: acks,
            segment,
            delete_segments,
            new_ids: inner.new_ids.len(),
            removed_ids: inner.removed_ids.len(),
            samples_written: inner.samples_written,
        }))
    }

    /// Appends the planned bundles to their block files (durably) and adds their index entries to
    /// `batch`. Bundles arrive grouped by tier window.
    fn write_blocks(
        &self,
        bundles: &mut [WrittenBundle],
        batch: &mut sled::Batch,
        summary: &mut FlushSummary,
    ) -> Result<()> {
        let mut from = 0;
        while from < bundles.len() {
            let file = (bundles[from].meta.tier, bundles[from].meta.window);
            let to = from
                + bundles[from..]
                    .iter()
                    .take_while(|b| (b.meta.tier, b.meta.window) == file)
                    .count();
            let group = &mut bundles[from..to];
            let records: Vec<(u32, &[u8])> =
                group.iter().map(|b| (b.id, b.data.as_slice())).collect();
            let addrs = self.blocks.append(file, &records)?;
            for (b, addr) in group.iter_mut().zip(addrs) {
                b.meta.offset = addr.offset;
                b.meta.len = addr.len;
                let index = bundle::index_value(addr.offset, addr.len, &b.body);
                summary.bytes += (super::blocks::HEADER as usize) + b.data.len() + index.len() + 14;
                batch.insert(&bundle_key(INDEX, file.0, file.1, b.id)[..], index);
                // The payload is on disk; readers fetch it from the block file.
                b.data = Vec::new();
            }
            from = to;
        }
        Ok(())
    }

    /// Seals raw heads whose window ended `late_tolerance_ms` before the newest sample (idle
    /// series would otherwise pin the WAL) and rollup heads whose window the watermark passed.
    fn seal_finished(&self, inner: &mut Inner) -> Result<()> {
        let raw_limit = inner
            .newest
            .map(|n| n.saturating_sub(self.config.late_tolerance_ms));
        let Inner { series, seq, .. } = inner;
        let raw = &self.config.tiers[0];
        for state in series.values_mut() {
            let end = state.raw().head_window_end(raw);
            if end.is_some_and(|end| raw_limit.is_some_and(|l| end <= l)) {
                state.seal_raw(seq, true)?;
            }
            for (tier, t) in state.rollups_mut() {
                let spec = &self.config.tiers[tier];
                let end = t.head_window_end(spec);
                if end.is_some_and(|end| t.watermark.get().is_some_and(|l| end <= l)) {
                    t.seal(seq, true)?;
                }
            }
        }
        Ok(())
    }
}
