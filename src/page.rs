//! The page size, from the auxiliary vector's `AT_PAGESZ`, read once and cached.
//!
//! Sources, in order: an auxv handed over by a program that owns `_start`
//! ([`init_from_auxv`]); `prctl(PR_GET_AUXV)` (Linux 6.4); `/proc/self/auxv`; and, where
//! neither is available (no `/proc`, an old kernel), probing which alignment `madvise`
//! accepts (with no memory needed). 4096 is never assumed: arm64 kernels run with 4, 16 or
//! 64 KiB pages.

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

/// The largest page size Linux has (arm64, powerpc64 and loongarch64 kernels of 64 KiB
/// pages), and the sizes between.
const LARGEST: usize = 64 * 1024;
const CANDIDATES: [usize; 5] = [4096, 8192, 16384, 32768, LARGEST];

/// Finds the page size without an auxiliary vector: `madvise` refuses an address that is
/// not page aligned (`EINVAL`) before anything else, and an empty range at an aligned one
/// then touches nothing (`Ok`, whether or not anything is mapped there), so the smallest
/// candidate offset from a 64 KiB boundary it accepts is the page size. No memory is
/// needed, so running out of it (`ENOMEM`, `RLIMIT_AS`) cannot make the answer a guess:
/// a size too large lets `Mapping::remap` lend bytes of a "last page" the kernel never
/// mapped, one too small lets a reservation's decommit take pages it still counts.
/// Where `madvise` answers nothing useful (a seccomp filter), `mprotect` on a mapping of
/// its own is asked the same question.
fn probe() -> usize {
    // Any 64 KiB boundary: nothing needs to be mapped there.
    let boundary = 16 * LARGEST;
    let accepted = |offset: usize| {
        // SAFETY: an empty range: nothing is advised, whatever lies at the address.
        unsafe { sys::madvise((boundary + offset) as *mut _, 0, crate::Advice::Normal) }
    };
    let found = CANDIDATES
        .into_iter()
        .find(|&offset| accepted(offset).is_ok());
    // Half of it must be refused as unaligned: an answer that is the same for every
    // address (a filter's) says nothing.
    match found {
        Some(size) if size == LARGEST || accepted(size / 2) == Err(crate::Errno::EINVAL) => size,
        _ => probe_with_mprotect(),
    }
}

/// [`probe`] by `mprotect` on a mapping of its own: it succeeds exactly on page-aligned
/// addresses. 64 KiB, the largest page size, if even the mapping cannot be made.
fn probe_with_mprotect() -> usize {
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

#[cfg(test)]
mod tests {
    extern crate std;

    /// With the address space at its limit (`RLIMIT_AS`: every new mapping is `ENOMEM`),
    /// the probe still finds the page size: a guess would be unsound (too large, and
    /// `Mapping::remap` lends bytes of a "last page" the kernel never mapped; too small,
    /// and a reservation's decommit takes more pages than it counts).
    #[test]
    fn the_probe_needs_no_memory_and_never_guesses() {
        // SAFETY: sysconf reads a constant of the C library.
        let real = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        // SAFETY: the child only calls async-signal-safe functions and system calls, and
        // leaves with `_exit`.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork");
        if pid == 0 {
            let none = libc::rlimit {
                rlim_cur: 0,
                rlim_max: libc::RLIM_INFINITY,
            };
            // SAFETY: as above; the limit applies to this child alone.
            let code = unsafe {
                if libc::setrlimit(libc::RLIMIT_AS, &none) != 0 {
                    0
                } else if super::probe() == real {
                    0
                } else {
                    1
                }
            };
            // SAFETY: leaves the child without running the parent's destructors.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: waits for the child made above.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status), "status {status:#x}");
        assert_eq!(libc::WEXITSTATUS(status), 0, "the probe guessed wrong");
    }
}
