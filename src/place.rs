//! Placing new memory where the kernel chooses, aligned, and out of the main stack's reach;
//! and committing and decommitting pages of address space the caller reserved.
//!
//! Shared by `Mapping`'s growth (which moves into a region placed here) and the allocators
//! in `alloc`, which need the same guarantee for every block they hand out (see
//! `stack_reach`) and, for over-aligned blocks, an aligned start.

use core::ffi::c_void;
use core::iter::once;

use crate::{page_size, stack_reach, sys, Advice, Errno, MapFlags, Prot, Result};

/// Maps `len` bytes (a whole number of pages, not 0) of anonymous memory with `prot` and
/// `flags` (which must not hold `MAP_FIXED`), starting at a multiple of `align` (a power of
/// two, at least a page), where the kernel places them; if that is where the main stack may
/// grow, right below that reach. `ENOMEM` if neither works.
///
/// An alignment above a page is had by reserving `len + align - page` bytes with no access
/// (which no overcommit policy charges for), unmapping the ends beyond the aligned range,
/// and mapping what was asked over the rest (`MAP_FIXED` inside the reservation just made),
/// so the padding costs neither memory nor commit charge. If unmapping an end fails (the
/// map-count limit), that end stays mapped and unused; if the last mapping fails, the
/// aligned range is left as it is, since a kernel may have unmapped it before failing and
/// another thread's mapping may be there now: leaks of address space, which are sound.
pub(crate) fn map_out_of_the_stacks_reach(
    len: usize,
    align: usize,
    prot: Prot,
    flags: MapFlags,
) -> Result<*mut c_void> {
    if align <= page_size() {
        return place(len, page_size(), prot, flags);
    }
    let start = place(len, align, Prot::empty(), flags | MapFlags::NORESERVE)?;
    if prot.is_empty() && flags.contains(MapFlags::NORESERVE) {
        return Ok(start);
    }
    // SAFETY: MAP_FIXED over the reservation just made, which nothing refers to.
    unsafe { sys::mmap(start, len, prot, flags | MapFlags::FIXED, -1, 0) }
}

/// [`map_out_of_the_stacks_reach`] in one `mmap`, trimmed to `align`.
fn place(len: usize, align: usize, prot: Prot, flags: MapFlags) -> Result<*mut c_void> {
    let page = page_size();
    let total = len.checked_add(align - page).ok_or(Errno::ENOMEM)?;
    // The kernel's choice first, then below the stack's reach.
    for hint in once(0).chain(stack_reach::hints_below(total, align)) {
        // SAFETY: without MAP_FIXED the kernel replaces nothing.
        let raw = unsafe { sys::mmap(hint as *mut c_void, total, prot, flags, -1, 0)? } as usize;
        let start = raw.wrapping_add(align - 1) & !(align - 1);
        // SAFETY: the ends lie inside the mapping just made, which nothing refers to yet.
        unsafe {
            unmap_if_any(raw, start - raw);
            unmap_if_any(start + len, raw + total - (start + len));
        }
        if stack_reach::check(start, len).is_ok() {
            return Ok(start as *mut c_void);
        }
        // SAFETY: as above.
        unsafe { unmap_if_any(start, len) };
    }
    Err(Errno::ENOMEM)
}

/// Commits `[addr, addr + len)` of a private anonymous `PROT_NONE` reservation: makes it
/// read-write (`mprotect`), so it reads as zeros until written, or as it was left by
/// [`discard`]. The range stays mapped whatever happens, so no other mapping can come
/// between: on failure it may be partly committed.
///
/// # Safety
/// The range must be page aligned and lie inside a reservation the caller owns.
#[cfg_attr(not(feature = "dlmalloc"), allow(dead_code))] // only `Malloc` commits this way
pub(crate) unsafe fn commit(addr: usize, len: usize) -> Result<()> {
    // SAFETY: access is only added to the caller's own range.
    unsafe { sys::mprotect(addr as *mut c_void, len, Prot::READ | Prot::WRITE) }
}

/// Gives committed pages back to the kernel (`MADV_DONTNEED`): committed again, or read
/// while still accessible, they read as zeros. Follow with [`make_inaccessible`].
///
/// # Safety
/// The range must be page aligned, inside a private anonymous reservation the caller owns,
/// with no reference into it alive: its contents are discarded.
#[cfg_attr(not(feature = "dlmalloc"), allow(dead_code))] // only `Segments` gives pages back
pub(crate) unsafe fn discard(addr: usize, len: usize) -> Result<()> {
    // SAFETY: the caller's own private range, whose contents it gives up.
    unsafe { sys::madvise(addr as *mut c_void, len, Advice::DontNeed) }
}

/// Makes pages of a reservation inaccessible again (`mprotect(PROT_NONE)`). On failure
/// (the map-count limit) they stay as they were, mapped.
///
/// # Safety
/// The range must be page aligned, inside a reservation the caller owns, with no reference
/// into it alive.
#[cfg_attr(not(feature = "dlmalloc"), allow(dead_code))] // only `Segments` gives pages back
pub(crate) unsafe fn make_inaccessible(addr: usize, len: usize) -> Result<()> {
    // SAFETY: the caller's own range, which nothing uses.
    unsafe { sys::mprotect(addr as *mut c_void, len, Prot::empty()) }
}

/// Unmaps `len` bytes at `addr` unless `len` is 0.
///
/// # Safety
/// As `munmap`: the range must be the caller's, with nothing referring to it.
unsafe fn unmap_if_any(addr: usize, len: usize) {
    if len != 0 {
        // SAFETY: forwarded to the caller.
        let _ = unsafe { sys::munmap(addr as *mut c_void, len) };
    }
}
