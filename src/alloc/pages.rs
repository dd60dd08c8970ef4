//! [`PageAllocator`]: every block is a mapping of its own, moved rather than copied.

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;
use core::ptr::null_mut;

use crate::place::map_out_of_the_stacks_reach;
use crate::{page_size, stack_reach, sys, MapFlags, MremapFlags, Prot};

/// A page-granular global allocator: each block is a private anonymous mapping of its own,
/// rounded up to whole pages.
///
/// - **Alignment**: up to a page, as the kernel places mappings; above it (any power of two
///   whose padding fits the address space, 2 MiB and 1 GiB included), by reserving
///   `size + align - page` bytes with no access, unmapping the ends and mapping the block
///   over the rest, so the padding costs neither memory nor commit charge.
/// - **Zeroed blocks are free**: fresh anonymous pages read as zeros, so
///   [`alloc_zeroed`](GlobalAlloc::alloc_zeroed) writes nothing and touches no page.
/// - **`realloc` moves pages, not bytes**: a block grows in place when the pages above it
///   are free and out of the main stack's reach, else `mremap(MREMAP_MAYMOVE |
///   MREMAP_FIXED)` moves its pages into a region placed (and aligned, for an over-aligned
///   block) beforehand; it shrinks in place, unmapping its tail.
/// - **`dealloc` gives the memory back** (`munmap`).
/// - **Placement**: every block, also after a move, lies out of the main stack's reach (see
///   the [`soundness`](crate::soundness) page).
///
/// Each call is one or two system calls, so it suits large blocks; small ones belong to a
/// general-purpose allocator such as [`Malloc`](crate::alloc::Malloc), which sends its large
/// requests here. A zero size is served as one page. No call panics; failure is a null
/// pointer (and, for `realloc`, the old block unchanged).
#[derive(Clone, Copy, Debug, Default)]
pub struct PageAllocator;

// SAFETY: blocks are mappings of their own, never handed out twice; their sizes and
// alignments are as asked; `realloc` keeps the contents (the pages themselves move) and the
// alignment; failures return null and leave the old block as it was.
unsafe impl GlobalAlloc for PageAllocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        allocate(layout.size(), layout.align())
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // Fresh anonymous pages are zero-filled by the kernel.
        allocate(layout.size(), layout.align())
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller gives back a block this allocator made with `layout`.
        unsafe { release(ptr, layout.size()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller passes a block this allocator made with `layout`.
        unsafe { resize(ptr, layout.size(), layout.align(), new_size) }
    }
}

/// The bytes a block of `size` occupies: whole pages, at least one; `None` on overflow.
#[inline]
fn block_len(size: usize) -> Option<usize> {
    size.max(1).checked_next_multiple_of(page_size())
}

/// The flags of every block.
const BLOCK: MapFlags = MapFlags::PRIVATE.union(MapFlags::ANONYMOUS);

/// A new block of `size` bytes aligned to `align` (a power of two), or null.
pub(crate) fn allocate(size: usize, align: usize) -> *mut u8 {
    let Some(len) = block_len(size) else {
        return null_mut();
    };
    let align = align.max(page_size());
    match map_out_of_the_stacks_reach(len, align, Prot::READ | Prot::WRITE, BLOCK) {
        Ok(block) => block.cast(),
        Err(_) => null_mut(),
    }
}

/// Gives back the block of `size` bytes at `ptr`.
///
/// # Safety
/// `ptr` must be a block [`allocate`] or [`resize`] made with `size`, not used afterwards.
pub(crate) unsafe fn release(ptr: *mut u8, size: usize) {
    if let Some(len) = block_len(size) {
        // SAFETY: the block is the caller's to give back, and nothing uses it any more.
        unsafe { crate::give_back::unmap(ptr.cast(), len) };
    }
}

/// Resizes the block of `size` bytes aligned to `align` at `ptr` to `new_size` bytes: in
/// place when it shrinks or the pages above are free, else by moving its pages. Null, with
/// the block unchanged, on failure.
///
/// # Safety
/// `ptr` must be a block [`allocate`] or `resize` made with `size` and `align`; on success
/// only the returned pointer may be used.
pub(crate) unsafe fn resize(ptr: *mut u8, size: usize, align: usize, new_size: usize) -> *mut u8 {
    let (Some(old), Some(new)) = (block_len(size), block_len(new_size)) else {
        return null_mut();
    };
    let old_ptr: *mut c_void = ptr.cast();
    if new <= old {
        if new < old {
            // SAFETY: the tail is the caller's block, which has no user past `new_size`.
            // (Merged with the next block, it may stay mapped: then its memory goes.)
            unsafe { crate::give_back::unmap(old_ptr.cast::<u8>().add(new).cast(), old - new) };
        }
        return ptr;
    }
    // In place, only where the grown block stays out of the main stack's reach: mremap
    // checks nothing but that the pages above are unmapped.
    if stack_reach::check(ptr as usize, new).is_ok() {
        // SAFETY: without MREMAP_MAYMOVE the block stays where it is, and it grows only
        // into unmapped pages (else ENOMEM, with nothing changed).
        let grown = unsafe { sys::mremap(old_ptr, old, new, MremapFlags::empty(), null_mut()) };
        if grown.is_ok() {
            return ptr;
        }
    }
    let align = align.max(page_size());
    let reserve = BLOCK.union(MapFlags::NORESERVE);
    let Ok(region) = map_out_of_the_stacks_reach(new, align, Prot::empty(), reserve) else {
        return null_mut();
    };
    let flags = MremapFlags::MAYMOVE | MremapFlags::FIXED;
    // SAFETY: the block is the caller's, with no reference alive across `realloc`; the
    // region it replaces was just reserved and nothing refers to it. On failure the block
    // is unchanged; the region may or may not be left (see `Mapping`'s growth): a leak of
    // PROT_NONE address space at worst.
    match unsafe { sys::mremap(old_ptr, old, new, flags, region) } {
        Ok(moved) => moved.cast(),
        Err(_) => null_mut(),
    }
}
