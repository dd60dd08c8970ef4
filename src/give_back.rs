//! Giving address space back to the kernel, and where the kernel refuses, at least the
//! memory.
//!
//! `munmap` of a range in the middle of a VMA splits it in two, and the kernel refuses
//! that split (`ENOMEM`) once the process holds `vm.max_map_count` VMAs. A range is in the
//! middle more often than it seems: the kernel merges adjacent mappings of the same kind
//! (two `Mapping`s placed back to back, a block and the one above it) into one VMA. The
//! range then stays mapped, owned by no one: its address space is lost, but its memory
//! need not be. `MADV_DONTNEED` splits nothing: it frees the private pages (what is mapped
//! from an object stays the object's), and the range reads as zeros if anything ever
//! touched it again, which nothing does.

use core::ffi::c_void;

use crate::{sys, Advice, Errno};

/// Unmaps `[addr, addr + len)`; if the kernel refuses to split a VMA for it, frees its
/// memory instead and leaves the address space mapped.
///
/// # Safety
/// As `munmap`: the range must be the caller's to give back, with nothing referring to it
/// any more.
pub(crate) unsafe fn unmap(addr: *mut c_void, len: usize) {
    // SAFETY: forwarded to the caller.
    if unsafe { sys::munmap(addr, len) } == Err(Errno::ENOMEM) {
        // SAFETY: the range is the caller's and nothing refers to it: its contents go.
        let _ = unsafe { sys::madvise(addr, len, Advice::DontNeed) };
    }
}
