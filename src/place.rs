//! Placing new memory where the kernel chooses, aligned, and out of the main stack's reach;
//! and replacing memory inside address space the caller already owns.
//!
//! Shared by `Mapping`'s growth (which moves into a region placed here) and the allocators
//! in `alloc`, which need the same guarantee for every block they hand out (see
//! `stack_reach`) and, for over-aligned blocks, an aligned start.

use core::ffi::c_void;
use core::ptr::null_mut;

use crate::{page_size, stack_reach, sys, Errno, MapFlags, Prot, Result};

/// Maps `len` bytes (a whole number of pages, not 0) of anonymous memory with `prot` and
/// `flags` (which must not hold `MAP_FIXED`), starting at a multiple of `align` (a power of
/// two, at least a page), where the kernel places them; if that is where the main stack may
/// grow, right below that reach. `ENOMEM` if neither works.
///
/// An alignment above a page is had by mapping `len + align - page` bytes and unmapping
/// the ends beyond the aligned range, which costs address space only for a moment. If
/// unmapping an end fails (the map-count limit), that end stays mapped and unused: a leak,
/// which is sound.
pub(crate) fn map_out_of_the_stacks_reach(
    len: usize,
    align: usize,
    prot: Prot,
    flags: MapFlags,
) -> Result<*mut c_void> {
    let page = page_size();
    let total = len.checked_add(align - page).ok_or(Errno::ENOMEM)?;
    let mut hint = null_mut();
    for _ in 0..2 {
        // SAFETY: without MAP_FIXED the kernel replaces nothing.
        let raw = unsafe { sys::mmap(hint, total, prot, flags, -1, 0)? } as usize;
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
        hint = stack_reach::below(total, align).ok_or(Errno::ENOMEM)? as *mut c_void;
    }
    Err(Errno::ENOMEM)
}

/// Replaces `[addr, addr + len)` with fresh private anonymous memory of protection `prot`
/// (`MAP_FIXED`): zero-filled pages when accessible, no memory and no commit charge
/// (`MAP_NORESERVE`) when `prot` is empty. This is how an allocator commits and gives back
/// pages of address space it reserved.
///
/// # Safety
/// The range must be page aligned and lie inside a mapping the caller owns, with no
/// reference into it alive: its contents are discarded.
pub(crate) unsafe fn replace(addr: usize, len: usize, prot: Prot) -> Result<()> {
    let mut flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED;
    if prot.is_empty() {
        flags |= MapFlags::NORESERVE;
    }
    // SAFETY: MAP_FIXED replaces only the caller's own range, as the caller guarantees.
    unsafe { sys::mmap(addr as *mut c_void, len, prot, flags, -1, 0)? };
    Ok(())
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
