//! A global allocator for the memory examples and benches of the workspace (included by path):
//! the system allocator plus counts of the live allocations, sled's included: how many there are
//! ([`live_blocks`]), the bytes they requested ([`live_bytes`]) and the bytes mimalloc, the
//! server's allocator, would hand out for them ([`live_class_bytes`]: each request rounded up to
//! its size class, which is what a struct one byte over a class boundary really costs).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);
static LIVE_BLOCKS: AtomicIsize = AtomicIsize::new(0);
static LIVE_CLASS: AtomicIsize = AtomicIsize::new(0);

/// The size mimalloc serves a request of `size` bytes from.
fn class_of(size: usize) -> isize {
    // SAFETY: a pure computation on mimalloc's size-class table; allocates nothing.
    unsafe { libmimalloc_sys::mi_good_size(size) as isize }
}

// SAFETY: forwards every call to the system allocator unchanged; the counters are plain atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        LIVE_BLOCKS.fetch_add(1, Ordering::Relaxed);
        LIVE_CLASS.fetch_add(class_of(layout.size()), Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        LIVE_BLOCKS.fetch_sub(1, Ordering::Relaxed);
        LIVE_CLASS.fetch_sub(class_of(layout.size()), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let grown = new_size as isize - layout.size() as isize;
        LIVE.fetch_add(grown, Ordering::Relaxed);
        LIVE_CLASS.fetch_add(
            class_of(new_size) - class_of(layout.size()),
            Ordering::Relaxed,
        );
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes requested by the allocations alive now.
pub fn live_bytes() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// Bytes of the allocations alive now, each rounded up to its mimalloc size class.
#[allow(dead_code)] // not every example reports it
pub fn live_class_bytes() -> isize {
    LIVE_CLASS.load(Ordering::Relaxed)
}

/// Number of allocations alive now.
#[allow(dead_code)] // not every example reports it
pub fn live_blocks() -> isize {
    LIVE_BLOCKS.load(Ordering::Relaxed)
}
