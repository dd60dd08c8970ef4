//! The page size, from the auxiliary vector's `AT_PAGESZ`, read once and cached.
//!
//! Sources, in order: an auxv handed over by a program that owns `_start`
//! ([`init_from_auxv`]); `prctl(PR_GET_AUXV)` (Linux 6.4); `/proc/self/auxv`; and, where
//! neither is available (no `/proc`, an old kernel), probing which alignment `mprotect`
//! accepts. 4096 is never assumed: arm64 kernels run with 4, 16 or 64 KiB pages.

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::auxv::{self, AT_NULL, AT_PAGESZ};
use crate::sys;

/// 0 until the first look-up.
static PAGE_SIZE: AtomicUsize = AtomicUsize::new(0);

/// The running system's page size in bytes.
#[inline]
pub fn page_size() -> usize {
    match PAGE_SIZE.load(Ordering::Relaxed) {
        0 => discover(),
        size => size,
    }
}

/// Records the page size from the auxiliary vector a program's `_start` received, so that
/// no system call or file read is needed later, and where the initial stack is.
///
/// # Safety
/// `auxv` must point to the process's auxiliary vector: `(type, value)` word pairs ending
/// with an `AT_NULL` entry, readable for its whole length.
pub unsafe fn init_from_auxv(auxv: *const usize) {
    // The vector lies at the top of the initial stack, whose reach the safe layer avoids.
    crate::stack_reach::note_initial_stack(auxv as usize);
    let mut entry = auxv;
    loop {
        // SAFETY: the caller guarantees the vector is readable up to and including AT_NULL.
        let (kind, value) = unsafe { (*entry, *entry.add(1)) };
        match kind {
            AT_NULL => return,
            AT_PAGESZ if value.is_power_of_two() => {
                PAGE_SIZE.store(value, Ordering::Relaxed);
                return;
            }
            // SAFETY: not yet at AT_NULL, so the next pair is part of the vector.
            _ => entry = unsafe { entry.add(2) },
        }
    }
}

#[cold]
fn discover() -> usize {
    let size = auxv::value(AT_PAGESZ)
        .filter(|size| size.is_power_of_two())
        .unwrap_or_else(probe);
    // Racing threads compute the same value, so a plain store is enough.
    PAGE_SIZE.store(size, Ordering::Relaxed);
    size
}

/// Finds the page size without an auxiliary vector: `mprotect` succeeds exactly on
/// addresses aligned to a page, so the smallest candidate offset it accepts from a 64 KiB
/// boundary is the page size.
fn probe() -> usize {
    const LARGEST: usize = 64 * 1024;
    const CANDIDATES: [usize; 5] = [4096, 8192, 16384, 32768, LARGEST];
    let len = 2 * LARGEST;
    let prot = crate::Prot::empty();
    let flags = crate::MapFlags::PRIVATE | crate::MapFlags::ANONYMOUS;
    // SAFETY: a new anonymous mapping at an address of the kernel's choosing.
    let Ok(base) = (unsafe { sys::mmap(core::ptr::null_mut(), len, prot, flags, -1, 0) }) else {
        return LARGEST;
    };
    let aligned = (base as usize + LARGEST - 1) & !(LARGEST - 1);
    let size = CANDIDATES
        .into_iter()
        // SAFETY: every probed address lies inside the mapping made above, which nothing
        // else uses; changing PROT_NONE to PROT_NONE has no effect on it.
        .find(|&offset| unsafe { sys::mprotect((aligned + offset) as *mut _, 1, prot) }.is_ok())
        .unwrap_or(LARGEST);
    // SAFETY: unmaps exactly the mapping made above.
    let _ = unsafe { sys::munmap(base, len) };
    size
}
