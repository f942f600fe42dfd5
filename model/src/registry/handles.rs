//! A short list of slab handles, held inline when it has one element: almost every resource has
//! one contribution and almost every stable id one contribution using it, and a `Vec` would cost
//! an allocation for each. Longer lists are boxed, so the list takes sixteen bytes in every entry
//! and alias rather than a `Vec`'s twenty-four plus a tag.

use super::slab::Handle;

/// Handles in insertion order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) enum Handles {
    /// None.
    #[default]
    Empty,
    /// Exactly one.
    One(Handle),
    /// Two or more.
    #[allow(clippy::box_collection)] // Boxed on purpose: see the module docs.
    Many(Box<Vec<Handle>>),
}

impl Handles {
    /// Appends a handle.
    pub(super) fn push(&mut self, handle: Handle) {
        *self = match std::mem::take(self) {
            Handles::Empty => Handles::One(handle),
            Handles::One(first) => Handles::Many(Box::new(vec![first, handle])),
            Handles::Many(mut all) => {
                all.push(handle);
                Handles::Many(all)
            }
        };
    }

    /// Keeps the handles for which `keep` holds.
    pub(super) fn retain(&mut self, mut keep: impl FnMut(Handle) -> bool) {
        *self = match std::mem::take(self) {
            Handles::One(h) if keep(h) => Handles::One(h),
            Handles::Many(mut all) => {
                all.retain(|&h| keep(h));
                match all[..] {
                    [] => Handles::Empty,
                    [h] => Handles::One(h),
                    _ => Handles::Many(all),
                }
            }
            _ => Handles::Empty,
        };
    }

    /// The handles in order.
    pub(super) fn iter(&self) -> impl Iterator<Item = Handle> + '_ {
        let slice: &[Handle] = match self {
            Handles::Empty => &[],
            Handles::One(h) => std::slice::from_ref(h),
            Handles::Many(all) => all,
        };
        slice.iter().copied()
    }

    /// The first handle.
    pub(super) fn first(&self) -> Option<Handle> {
        self.iter().next()
    }

    /// Number of handles.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        match self {
            Handles::Empty => 0,
            Handles::One(_) => 1,
            Handles::Many(all) => all.len(),
        }
    }

    /// Whether there are none.
    pub(super) fn is_empty(&self) -> bool {
        matches!(self, Handles::Empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_shrinks_and_keeps_order() {
        let mut h = Handles::default();
        assert!(h.is_empty());
        h.push(3);
        assert_eq!(h, Handles::One(3));
        h.push(5);
        h.push(7);
        assert_eq!(h.iter().collect::<Vec<_>>(), [3, 5, 7]);
        assert_eq!((h.len(), h.first()), (3, Some(3)));
        h.retain(|x| x != 3);
        assert_eq!(h, Handles::Many(Box::new(vec![5, 7])));
        assert_eq!(std::mem::size_of::<Handles>(), 16);
        h.retain(|x| x == 7);
        assert_eq!(h, Handles::One(7));
        h.retain(|_| false);
        assert_eq!((h.len(), h.first()), (0, None));
    }
}
