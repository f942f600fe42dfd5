//! The server's global allocator: mimalloc, plus a way to give back zero-filled tables that a
//! library writes at start-up and then never uses.
//!
//! sled allocates 41 latency histograms of 512 KiB each the first time any database is used, and
//! writes every byte of them with zeros; built without its metrics (the default), it never
//! touches them again. On any heap that is 21 MB of resident memory, a quarter of the server's
//! budget for 10,000 resources (docs/performance.md → Memory). [`release_zero_pages_of`] runs a
//! closure with large allocations of the calling thread served from private anonymous mappings,
//! then hands every page of them that is still all zeros back to the OS. A private anonymous page
//! given back reads as zeros again and is re-created on the next write, so the program cannot
//! tell the difference, provided no other thread writes to those blocks during the check: the
//! caller must run the closure before handing any of its allocations to another thread (at
//! start-up, before other threads exist).
//!
//! Zero-filled blocks of at least [`ZEROED_MAP_THRESHOLD`] bytes always come from fresh mappings,
//! as the C library's `calloc` does: mimalloc clears a reused block by writing it, which would
//! make a large sparse table (sled's page table allocates 6 MB of them) resident at once.
//!
//! Mapped blocks are always at least [`OS_THRESHOLD`] bytes (a shrink below it moves the block to
//! mimalloc), and mimalloc's page map tells them apart from its own, so a free of a smaller block
//! never pays for the check.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::{Cell, RefCell};
use std::ptr;

use mimalloc::MiMalloc;

/// Blocks at least this large can be served by mappings.
pub const OS_THRESHOLD: usize = 256 * 1024;

/// Zero-filled blocks at least this large always come from mappings: mimalloc clears a block
/// it reuses by writing it, which makes a large sparse table resident at once.
pub const ZEROED_MAP_THRESHOLD: usize = 1024 * 1024;

/// Alignment every mapping has (the smallest page size).
const PAGE: usize = 4096;

/// Most blocks one [`release_zero_pages_of`] call tracks; later ones come from mimalloc.
const MAX_TRACKED: usize = 128;

/// mimalloc with start-up tables made releasable (see the module docs).
pub struct ServerAllocator;

thread_local! {
    /// Whether this thread is inside [`release_zero_pages_of`].
    static TRACKING: Cell<bool> = const { Cell::new(false) };
    /// Live mapped blocks allocated inside it: (address, length); the count is in `TRACKED_LEN`.
    static TRACKED: RefCell<[(usize, usize); MAX_TRACKED]> =
        const { RefCell::new([(0, 0); MAX_TRACKED]) };
    static TRACKED_LEN: Cell<usize> = const { Cell::new(0) };
}

/// Runs `f`, then returns to the OS every still all-zero page of the large blocks that `f`
/// allocated on this thread and did not free. Only for code whose blocks no other thread writes
/// until this returns (see the module docs). Returns `f`'s result and the bytes released.
pub fn release_zero_pages_of<R>(f: impl FnOnce() -> R) -> (R, usize) {
    TRACKED_LEN.with(|n| n.set(0));
    TRACKING.with(|t| t.set(true));
    let result = f();
    TRACKING.with(|t| t.set(false));
    let count = TRACKED_LEN.with(Cell::get);
    let blocks = TRACKED.with(|t| t.borrow()[..count].to_vec());
    TRACKED_LEN.with(|n| n.set(0));
    let released = blocks
        .into_iter()
        .map(|(addr, len)| {
            // SAFETY: a live mapping of `len` bytes made by `track_map` on this thread.
            unsafe { release_zero_pages(addr, len) }
        })
        .sum();
    (result, released)
}

/// Gives back each run of all-zero pages of the mapping `[addr, addr + len)`; returns the bytes.
unsafe fn release_zero_pages(addr: usize, len: usize) -> usize {
    let pages = len / PAGE;
    let is_zero = |i: usize| {
        // SAFETY: page `i` lies inside the mapping, which is readable.
        let page = unsafe { std::slice::from_raw_parts((addr + i * PAGE) as *const u64, PAGE / 8) };
        page.iter().all(|&w| w == 0)
    };
    let mut released = 0;
    let mut i = 0;
    while i < pages {
        if !is_zero(i) {
            i += 1;
            continue;
        }
        let start = i;
        while i < pages && is_zero(i) {
            i += 1;
        }
        let bytes = (i - start) * PAGE;
        if libc::madvise(
            (addr + start * PAGE) as *mut libc::c_void,
            bytes,
            libc::MADV_DONTNEED,
        ) == 0
        {
            released += bytes;
        }
    }
    released
}

/// A fresh private anonymous mapping of `size` bytes, or null.
unsafe fn map(size: usize) -> *mut u8 {
    let p = libc::mmap(
        ptr::null_mut(),
        size,
        libc::PROT_READ | libc::PROT_WRITE,
        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
        -1,
        0,
    );
    if p == libc::MAP_FAILED {
        ptr::null_mut()
    } else {
        p.cast()
    }
}

/// Inside [`release_zero_pages_of`]: maps and records a large block; `None` otherwise (or when
/// the record is full), so the caller uses mimalloc.
unsafe fn track_map(layout: &Layout) -> Option<*mut u8> {
    if layout.size() < OS_THRESHOLD || layout.align() > PAGE || !TRACKING.with(Cell::get) {
        return None;
    }
    let n = TRACKED_LEN.with(Cell::get);
    if n == MAX_TRACKED {
        return None;
    }
    let p = map(layout.size());
    if !p.is_null() {
        TRACKED.with(|t| t.borrow_mut()[n] = (p as usize, layout.size()));
        TRACKED_LEN.with(|c| c.set(n + 1));
    }
    Some(p)
}

/// Forgets a tracked block that is freed or moved.
fn untrack(ptr: *mut u8) {
    if !TRACKING.with(Cell::get) {
        return;
    }
    let n = TRACKED_LEN.with(Cell::get);
    TRACKED.with(|t| {
        let mut t = t.borrow_mut();
        if let Some(i) = t[..n].iter().position(|&(a, _)| a == ptr as usize) {
            t[i] = t[n - 1];
            TRACKED_LEN.with(|c| c.set(n - 1));
        }
    });
}

/// Whether `ptr`, a live block of at least [`OS_THRESHOLD`] bytes, is one of our mappings.
fn is_mapping(ptr: *mut u8) -> bool {
    // SAFETY: a lookup in mimalloc's page map; it accepts any address.
    !unsafe { libmimalloc_sys::mi_is_in_heap_region(ptr.cast()) }
}

// SAFETY: every block is either mimalloc's (calls forwarded unchanged) or a private anonymous
// mapping of at least OS_THRESHOLD bytes, page-aligned (≥ its layout's alignment), which
// `dealloc` and `realloc` recognise by asking mimalloc whether it owns the address.
unsafe impl GlobalAlloc for ServerAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match track_map(&layout) {
            Some(p) => p,
            None => MiMalloc.alloc(layout),
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if let Some(p) = track_map(&layout) {
            return p;
        }
        if layout.size() >= ZEROED_MAP_THRESHOLD && layout.align() <= PAGE {
            return map(layout.size());
        }
        MiMalloc.alloc_zeroed(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.size() >= OS_THRESHOLD && is_mapping(ptr) {
            untrack(ptr);
            libc::munmap(ptr.cast(), layout.size());
        } else {
            MiMalloc.dealloc(ptr, layout);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.size() < OS_THRESHOLD || !is_mapping(ptr) {
            return MiMalloc.realloc(ptr, layout, new_size);
        }
        untrack(ptr);
        if new_size >= OS_THRESHOLD {
            // The kernel moves or extends the pages without copying; new pages read zero.
            let p = libc::mremap(ptr.cast(), layout.size(), new_size, libc::MREMAP_MAYMOVE);
            return if p == libc::MAP_FAILED {
                ptr::null_mut()
            } else {
                p.cast()
            };
        }
        // Shrinking below the threshold: mappings stay large, so move the block to mimalloc.
        let p = MiMalloc.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
        if !p.is_null() {
            ptr::copy_nonoverlapping(ptr, p, new_size);
            libc::munmap(ptr.cast(), layout.size());
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize) -> Layout {
        Layout::from_size_align(size, 8).expect("layout")
    }

    /// Resident pages of `[p, p + len)`, from mincore.
    fn resident_pages(p: *mut u8, len: usize) -> usize {
        let mut vec = vec![0u8; len.div_ceil(PAGE)];
        // SAFETY: `p` is a page-aligned live mapping of `len` bytes; `vec` has a byte per page.
        let rc = unsafe { libc::mincore(p.cast(), len, vec.as_mut_ptr()) };
        assert_eq!(rc, 0);
        vec.iter().filter(|&&b| b & 1 == 1).count()
    }

    #[test]
    fn zero_tables_written_at_start_up_are_given_back_and_read_zero() {
        let a = ServerAllocator;
        let size = 2 * OS_THRESHOLD;
        let ((table, used), released) = release_zero_pages_of(|| unsafe {
            // What sled does: allocate, then write zeros everywhere (and here data in one page).
            let table = a.alloc(layout(size));
            ptr::write_bytes(table, 0, size);
            table.add(3 * PAGE + 5).write(42);
            // A block freed inside the call is forgotten, and one not large enough is mimalloc's.
            let gone = a.alloc(layout(OS_THRESHOLD));
            a.dealloc(gone, layout(OS_THRESHOLD));
            let small = a.alloc(layout(1000));
            assert!(!is_mapping(small));
            a.dealloc(small, layout(1000));
            (table, resident_pages(table, size))
        });
        assert!(is_mapping(table));
        assert_eq!(used, size / PAGE);
        assert_eq!(released, size - PAGE);
        assert_eq!(resident_pages(table, size), 1);
        unsafe {
            let bytes = std::slice::from_raw_parts(table, size);
            assert_eq!(bytes[3 * PAGE + 5], 42);
            assert_eq!(bytes.iter().filter(|&&b| b != 0).count(), 1);
            // Writable again after release.
            table.write(7);
            assert_eq!(table.read(), 7);
            a.dealloc(table, layout(size));
        }
    }

    #[test]
    fn mapped_blocks_grow_and_shrink() {
        let a = ServerAllocator;
        let (p, _) = release_zero_pages_of(|| unsafe { a.alloc_zeroed(layout(OS_THRESHOLD)) });
        unsafe {
            assert!(is_mapping(p));
            p.write(7);
            p.add(OS_THRESHOLD - 1).write(9);
            // Grow: contents kept, the new tail reads zero.
            let big = OS_THRESHOLD * 3;
            let q = a.realloc(p, layout(OS_THRESHOLD), big);
            assert!(!q.is_null() && is_mapping(q));
            assert_eq!((q.read(), q.add(OS_THRESHOLD - 1).read()), (7, 9));
            let tail = std::slice::from_raw_parts(q.add(OS_THRESHOLD), big - OS_THRESHOLD);
            assert!(tail.iter().all(|&b| b == 0));
            // Shrink below the threshold: moved to mimalloc with its prefix.
            let r = a.realloc(q, layout(big), 100);
            assert!(!r.is_null() && !is_mapping(r));
            assert_eq!(r.read(), 7);
            a.dealloc(r, layout(100));
        }
    }

    #[test]
    fn large_zero_filled_blocks_are_fresh_mappings() {
        let a = ServerAllocator;
        let l = layout(ZEROED_MAP_THRESHOLD);
        unsafe {
            let p = a.alloc_zeroed(l);
            assert!(!p.is_null() && is_mapping(p));
            assert_eq!(resident_pages(p, l.size()), 0);
            p.add(PAGE).write(1);
            assert_eq!(resident_pages(p, l.size()), 1);
            assert!(std::slice::from_raw_parts(p, PAGE).iter().all(|&b| b == 0));
            a.dealloc(p, l);
        }
    }

    #[test]
    fn outside_the_call_everything_else_is_mimallocs() {
        let a = ServerAllocator;
        unsafe {
            let l = layout(OS_THRESHOLD * 2);
            let p = a.alloc(l);
            assert!(!p.is_null() && !is_mapping(p));
            p.write(5);
            let q = a.realloc(p, l, OS_THRESHOLD * 4);
            assert!(!q.is_null() && !is_mapping(q));
            assert_eq!(q.read(), 5);
            a.dealloc(q, layout(OS_THRESHOLD * 4));
            let z = a.alloc_zeroed(layout(OS_THRESHOLD));
            assert!(!is_mapping(z));
            assert!(std::slice::from_raw_parts(z, OS_THRESHOLD)
                .iter()
                .all(|&b| b == 0));
            a.dealloc(z, layout(OS_THRESHOLD));
        }
    }
}
