//! A global allocator for measurements: mimalloc, plus a counter of the live bytes it has
//! handed out, taken from mimalloc's own block sizes (`mi_usable_size`), so rounding to
//! size classes is counted too. Shared by the memory example and the GC memory test.

use libmimalloc_sys as mi;
use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};

static LIVE: AtomicUsize = AtomicUsize::new(0);

/// mimalloc with a live-bytes counter.
pub struct Counting;

/// Bytes currently allocated through [`Counting`].
pub fn live_bytes() -> usize {
    LIVE.load(Ordering::Relaxed)
}

fn added(p: *mut c_void) -> *mut u8 {
    if !p.is_null() {
        // SAFETY: `p` was just returned by mimalloc and is live.
        LIVE.fetch_add(unsafe { mi::mi_usable_size(p) }, Ordering::Relaxed);
    }
    p.cast()
}

fn removing(p: *mut u8) {
    // SAFETY: `p` is a live mimalloc block, about to be freed or moved by our caller.
    LIVE.fetch_sub(unsafe { mi::mi_usable_size(p.cast()) }, Ordering::Relaxed);
}

// SAFETY: every call forwards to mimalloc's aligned API with the caller's size and
// alignment unchanged; the counter only reads block sizes of live blocks. Exercised by
// every allocation of the binaries that install it (the memory example, the GC test).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: mimalloc accepts any size and power-of-two alignment.
        added(unsafe { mi::mi_malloc_aligned(layout.size(), layout.align()) })
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        added(unsafe { mi::mi_zalloc_aligned(layout.size(), layout.align()) })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        removing(ptr);
        // SAFETY: `ptr` came from this allocator and is freed once, per GlobalAlloc's contract.
        unsafe { mi::mi_free(ptr.cast()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        removing(ptr);
        // SAFETY: `ptr` came from this allocator with `layout.align()`.
        let p = unsafe { mi::mi_realloc_aligned(ptr.cast(), new_size, layout.align()) };
        if p.is_null() {
            // The old block is still live when reallocation fails.
            added(ptr.cast());
            return std::ptr::null_mut();
        }
        added(p)
    }
}
