//! A slab: values addressed by small integer handles, so the registry's hot paths index a vector
//! instead of hashing or searching by string.

/// Handle of one value in a [`Slab`].
pub(super) type Handle = usize;

/// Values by handle; freed handles are reused.
#[derive(Debug, Clone)]
pub(super) struct Slab<T> {
    items: Vec<Option<T>>,
    free: Vec<Handle>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            items: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Slab<T> {
    /// Stores a value and returns its handle.
    pub(super) fn insert(&mut self, value: T) -> Handle {
        match self.free.pop() {
            Some(handle) => {
                self.items[handle] = Some(value);
                handle
            }
            None => {
                self.items.push(Some(value));
                self.items.len() - 1
            }
        }
    }

    /// Removes and returns a value.
    pub(super) fn remove(&mut self, handle: Handle) -> Option<T> {
        let value = self.items.get_mut(handle)?.take()?;
        self.free.push(handle);
        Some(value)
    }

    /// The value with this handle.
    pub(super) fn get(&self, handle: Handle) -> Option<&T> {
        self.items.get(handle)?.as_ref()
    }

    /// The value with this handle, mutably.
    pub(super) fn get_mut(&mut self, handle: Handle) -> Option<&mut T> {
        self.items.get_mut(handle)?.as_mut()
    }

    /// Number of live values.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.items.len() - self.free.len()
    }
}
