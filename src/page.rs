//! The page size, from the auxiliary vector's `AT_PAGESZ`, read once and cached.
//!
//! Sources, in order: an auxv handed over by a program that owns `_start`
//! ([`init_from_auxv`]); `prctl(PR_GET_AUXV)` (Linux 6.4); `/proc/self/auxv`; and, where
//! neither is available (no `/proc`, an old kernel), probing which alignment `madvise`,
//! `mprotect` or `msync` accepts (with no memory needed). 4096 is never assumed, nor any
//! size guessed: arm64 kernels run with 4, 16 or 64 KiB pages.

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::auxv::{self, AT_NULL, AT_PAGESZ};
use crate::{sys, Errno, Result};

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

/// The alignment a shared mapping (`MAP_SHARED`) placed at an address of the caller's
/// choosing must share with its file offset: the kernel takes it at `addr` only if
/// `addr % shared_alignment() == offset % shared_alignment()`. This is the page size
/// wherever data caches keep every virtual address of a page coherent, so any page-aligned
/// address does; on mips it is `SHMLBA` (256 KiB), as virtually indexed data caches there
/// may alias: a misplaced shared mapping is `EINVAL` (`MapOptions::map_file_in`, a moving
/// `remap`), and the kernel moves a hint (`MapOptions::at`) up to the next multiple of its
/// colour size and then by the offset's colour, so there only a shared mapping whose
/// offset has colour 0 can be placed at a chosen address (`EEXIST` otherwise).
/// [`MirrorBuffer`] and growth by moving place their shared mappings this way themselves.
///
/// [`MirrorBuffer`]: crate::MirrorBuffer
#[inline]
pub fn shared_alignment() -> usize {
    match crate::arch::SHM_COLOUR {
        // No aliasing: any page.
        0 => page_size(),
        colour => colour.max(page_size()),
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

/// Finds the page size without an auxiliary vector, by asking calls that need no memory:
/// `madvise`, `mprotect` and `msync` each refuse an address that is not page aligned
/// (`EINVAL`) before anything else, and with an empty range at an aligned one then have
/// nothing to do (`Ok`, whether or not anything is mapped there). The first whose answers
/// make sense (see [`answer`]) gives the size; running out of memory (`ENOMEM`,
/// `RLIMIT_AS`) cannot change any answer.
///
/// The size is never guessed: too large, and `Mapping::remap` lends bytes of a "last page"
/// the kernel never mapped; too small, and a reservation's commit or decommit changes more
/// pages than its book-keeping counts. Where no call answers (a seccomp filter refusing all
/// three, on a kernel that also hides the auxiliary vector), no memory can be used soundly,
/// and the process stops.
fn probe() -> usize {
    let asks: [fn(usize) -> Result<()>; 3] = [
        // SAFETY: an empty range: nothing is advised, whatever lies at the address.
        |addr| unsafe { sys::madvise(addr as *mut _, 0, crate::Advice::Normal) },
        // SAFETY: an empty range: no protection changes.
        |addr| unsafe { sys::mprotect(addr as *mut _, 0, crate::Prot::empty()) },
        // SAFETY: an empty range: nothing is written back or invalidated.
        |addr| unsafe { sys::msync(addr as *mut _, 0, crate::MsyncFlags::ASYNC) },
    ];
    asks.into_iter()
        .find_map(answer)
        .unwrap_or_else(|| cannot_know())
}

/// The page size by what `ask` answers for addresses from a 64 KiB boundary (nothing needs
/// to be mapped there): `None` unless an address aligned to no page is `EINVAL`, and the
/// candidate offsets are `EINVAL` up to one that is `Ok`. Answers that are the same for every
/// address, or errors other than `EINVAL` (a filter's), say nothing.
fn answer(ask: fn(usize) -> Result<()>) -> Option<usize> {
    let boundary = 16 * LARGEST;
    if ask(boundary + CANDIDATES[0] / 2) != Err(Errno::EINVAL) {
        return None;
    }
    for size in CANDIDATES {
        match ask(boundary + size) {
            Err(Errno::EINVAL) => continue,
            Ok(()) => return Some(size),
            Err(_) => return None,
        }
    }
    None
}

/// Stops the process: its page size cannot be known, and a guess would be unsound.
#[cold]
fn cannot_know() -> ! {
    let message = b"mman: the page size cannot be found (no auxiliary vector; madvise, \
mprotect and msync refused to answer): stopping rather than guessing\n";
    // SAFETY: descriptor 2 is only written to, for as long as the call lasts.
    let _ = sys::write(unsafe { crate::fd::BorrowedFd::borrow_raw(2) }, message);
    sys::exit_group(127)
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
            // SAFETY: as above; the limit applies to this child alone. Where it cannot be
            // set, there is nothing to check (0).
            let code = unsafe {
                i32::from(libc::setrlimit(libc::RLIMIT_AS, &none) == 0 && super::probe() != real)
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

    /// Answers that are the same for every address (a seccomp filter's `Ok` or error)
    /// give no size; a kernel's, of any page size, give its size.
    #[test]
    fn only_answers_that_tell_aligned_from_unaligned_count() {
        use super::{answer, Errno};
        assert_eq!(answer(|_| Ok(())), None);
        assert_eq!(answer(|_| Err(Errno::EPERM)), None);
        assert_eq!(answer(|_| Err(Errno::EINVAL)), None);
        // A kernel of 16 KiB pages.
        let pages_of_16k = |addr: usize| match addr % 16384 {
            0 => Ok(()),
            _ => Err(Errno::EINVAL),
        };
        assert_eq!(answer(pages_of_16k), Some(16384));
        // Failing at the first aligned candidate says nothing, even if a larger one is Ok.
        let then_fails = |addr: usize| match (addr % 32768, addr % 16384) {
            (0, _) => Ok(()),
            (_, 0) => Err(Errno::ENOMEM),
            _ => Err(Errno::EINVAL),
        };
        assert_eq!(answer(then_fails), None);
        // SAFETY: sysconf reads a constant of the C library.
        let real = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        // SAFETY: an empty range: no protection changes.
        let mprotect =
            |addr: usize| unsafe { crate::sys::mprotect(addr as *mut _, 0, crate::Prot::empty()) };
        assert_eq!(answer(mprotect), Some(real));
    }
}
