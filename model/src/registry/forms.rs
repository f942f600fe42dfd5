//! The pre-tick forms of resources: what each resource touched since the last diff looked like
//! before, so the diff can be computed at take time without a second copy of every resource.
//!
//! Forms live in a side table rather than in each entry (an entry points at its form, if it has
//! one): only the resources of one tick have a form, and an inline slot would cost every entry
//! its size.

use std::mem;

use super::slab::Handle;
use crate::diff::SourceTimes;
use crate::time::Timestamp;
use crate::types::Resource;

/// Marks an entry without a pending form.
pub(super) const NO_FORM: u32 = u32::MAX;

/// A resource's form before the current tick.
#[derive(Debug, Clone)]
pub(super) enum Before {
    /// It did not exist.
    Absent,
    /// It existed like this (boxed: a resource is large and most captures are observations).
    Full(Box<Resource>),
    /// It existed with the current content but these observation times: `lastSeen` and each
    /// source's `lastSeen`.
    Observation {
        last_seen: Timestamp,
        source_seen: SourceTimes,
    },
}

impl Before {
    /// The observation times of a resource.
    pub(super) fn observation_of(resource: &Resource) -> Before {
        let mut source_seen = SourceTimes::NONE;
        for (source, entry) in &resource.source_status {
            source_seen.set(*source, entry.last_seen);
        }
        Before::Observation {
            last_seen: resource.last_seen,
            source_seen,
        }
    }

    /// The pre-tick form given an earlier capture (if any) and `old`, the resource as it was
    /// just before a content change: an observation capture is completed into a full one.
    pub(super) fn completed(earlier: Option<Before>, mut old: Resource) -> Before {
        match earlier {
            None => Before::Full(Box::new(old)),
            Some(Before::Observation {
                last_seen,
                source_seen,
            }) => {
                old.last_seen = last_seen;
                for (source, entry) in old.source_status.iter_mut() {
                    if let Some(t) = source_seen.get(*source) {
                        entry.last_seen = t;
                    }
                }
                Before::Full(Box::new(old))
            }
            Some(before) => before,
        }
    }
}

/// The pending forms, by position; an entry holds the position of its own ([`NO_FORM`] when it
/// has none).
#[derive(Debug, Clone, Default)]
pub(super) struct Forms {
    forms: Vec<(Handle, Option<Before>)>,
}

impl Forms {
    /// Whether an entry whose form position is `at` has a form.
    pub(super) fn has(&self, at: u32) -> bool {
        self.forms
            .get(at as usize)
            .is_some_and(|(_, form)| form.is_some())
    }

    /// Gives the entry `handle` the form `make()` unless it has one; returns whether it did.
    pub(super) fn capture(
        &mut self,
        handle: Handle,
        at: &mut u32,
        make: impl FnOnce() -> Before,
    ) -> bool {
        if self.has(*at) {
            return false;
        }
        self.put(handle, at, make());
        true
    }

    /// Sets the form of entry `handle`, replacing any it had.
    pub(super) fn put(&mut self, handle: Handle, at: &mut u32, form: Before) {
        match self.forms.get_mut(*at as usize) {
            Some(slot) => slot.1 = Some(form),
            None => {
                *at = u32::try_from(self.forms.len()).unwrap_or(NO_FORM);
                self.forms.push((handle, Some(form)));
            }
        }
    }

    /// Removes and returns the form of an entry.
    pub(super) fn take(&mut self, at: &mut u32) -> Option<Before> {
        let form = self.forms.get_mut(*at as usize)?.1.take();
        *at = NO_FORM;
        form
    }

    /// The entry whose form is at `at`, if a form is there (for invariant checks).
    #[cfg(test)]
    pub(super) fn owner(&self, at: u32) -> Option<Handle> {
        self.forms
            .get(at as usize)
            .filter(|(_, form)| form.is_some())
            .map(|(handle, _)| *handle)
    }

    /// All remaining forms with their entries, leaving none; the entries' positions must be
    /// reset by the caller.
    pub(super) fn drain(&mut self) -> Vec<(Handle, Option<Before>)> {
        mem::take(&mut self.forms)
    }
}
