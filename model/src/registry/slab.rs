//! A slab: values addressed by small integer handles, so the registry's hot paths index a vector
//! instead of hashing or searching by string.
//!
//! Values live in fixed-size chunks rather than one growing vector: registry entries are about a
//! kilobyte each, and doubling a vector of ten thousand of them would copy ten megabytes and hold
//! old and new buffer at once; a chunk is allocated once and never moves.

/// Handle of one value in a [`Slab`].
pub(super) type Handle = usize;

/// Values per chunk.
const CHUNK: usize = 256;

/// Values by handle; freed handles are reused.
#[derive(Debug, Clone)]
pub(super) struct Slab<T> {
    chunks: Vec<Box<[Option<T>]>>,
    /// Handles handed out so far (the next fresh one).
    len: usize,
    free: Vec<Handle>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            chunks: Vec::new(),
            len: 0,
            free: Vec::new(),
        }
    }
}

impl<T> Slab<T> {
    /// Stores a value and returns its handle.
    pub(super) fn insert(&mut self, value: T) -> Handle {
        let handle = match self.free.pop() {
            Some(handle) => handle,
            None => {
                if self.len == self.chunks.len() * CHUNK {
                    self.chunks
                        .push(std::iter::repeat_with(|| None).take(CHUNK).collect());
                }
                self.len += 1;
                self.len - 1
            }
        };
        if let Some(slot) = self.slot_mut(handle) {
            *slot = Some(value);
        }
        handle
    }

    fn slot_mut(&mut self, handle: Handle) -> Option<&mut Option<T>> {
        self.chunks.get_mut(handle / CHUNK)?.get_mut(handle % CHUNK)
    }

    /// Removes and returns a value.
    pub(super) fn remove(&mut self, handle: Handle) -> Option<T> {
        let value = self.slot_mut(handle)?.take()?;
        self.free.push(handle);
        Some(value)
    }

    /// The value with this handle.
    pub(super) fn get(&self, handle: Handle) -> Option<&T> {
        self.chunks
            .get(handle / CHUNK)?
            .get(handle % CHUNK)?
            .as_ref()
    }

    /// The value with this handle, mutably.
    pub(super) fn get_mut(&mut self, handle: Handle) -> Option<&mut T> {
        self.slot_mut(handle)?.as_mut()
    }

    /// Number of live values.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.len - self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_stay_valid_across_chunks_and_are_reused() {
        let mut slab = Slab::default();
        let handles: Vec<Handle> = (0..CHUNK * 2 + 3).map(|i| slab.insert(i)).collect();
        assert_eq!(slab.len(), CHUNK * 2 + 3);
        for (i, &h) in handles.iter().enumerate() {
            assert_eq!(slab.get(h), Some(&i));
        }
        assert_eq!(slab.remove(handles[CHUNK + 1]), Some(CHUNK + 1));
        assert_eq!(slab.remove(handles[CHUNK + 1]), None);
        assert_eq!(slab.get(handles[CHUNK + 1]), None);
        assert_eq!(slab.insert(7), handles[CHUNK + 1], "freed handle reused");
        if let Some(v) = slab.get_mut(handles[0]) {
            *v = 42;
        }
        assert_eq!(slab.get(handles[0]), Some(&42));
        assert_eq!(slab.get(CHUNK * 9), None);
    }
}
