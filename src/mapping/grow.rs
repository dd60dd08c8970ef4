//! Growing a mapping without reaching into address space the program does not own.
//!
//! `mremap` grows a mapping in place whenever the pages above it are unmapped and checks
//! nothing else, not even the stack guard gap: the unmapped space (`stack_guard_gap`, 1 MiB
//! by default) the kernel keeps below every grows-down mapping, such as the main thread's
//! stack, so that a stack running past its end faults instead of running into other memory.
//! A mapping grown up to a stack would let the next deep recursion write through references
//! this crate lent out, and the stack's own locals be written through the mapping. So the
//! safe layer never lets `mremap` grow in place:
//!
//! 1. Growth within the last page needs no call at all.
//! 2. A mapping that may move, and that is one kernel VMA, moves with
//!    `mremap(MAYMOVE | FIXED)` into a region the kernel chose and that was reserved
//!    (`PROT_NONE`) beforehand, so that it is this process's own until the move replaces
//!    it. It stays one VMA, so it can move again.
//! 3. Otherwise the new pages are mapped right above the mapping with that address as a
//!    *hint*. The kernel honours a hint only where it would have placed a mapping itself
//!    (free, inside the address space, outside every guard gap), and checks that under its
//!    lock, so no other thread can make the answer stale. If the pages land there, the
//!    mapping has grown in place, possibly as a second VMA (the kernel merges the two only
//!    when their flags and offsets line up), which `mremap` can no longer move.
//!
//! Unmapping the new pages again and letting `mremap` grow in place would merge the two,
//! but between the two calls the stack could grow down to within the guard gap of where
//! the mapping is about to end; and `mremap` grows in place whenever it can, so a move
//! with `MAYMOVE` alone is no better.

use core::ffi::c_void;
use core::ptr::{null_mut, NonNull};
use core::sync::atomic::Ordering;

use super::Mapping;
use crate::fd::{AsRawFd, BorrowedFd};
use crate::{page_size, sys, Errno, MapFlags, MremapFlags, Prot, Result};

/// Flags that place a mapping or that only make sense once: never given to added pages.
const PLACEMENT: MapFlags = MapFlags::FIXED
    .union(MapFlags::FIXED_NOREPLACE)
    .union(MapFlags::GROWSDOWN);

impl Mapping {
    /// Grows the mapping to `new_len` bytes (more than `len()`), adding pages backed as the
    /// mapping's own are: anonymous, or `file` from the matching offset. On failure nothing
    /// has changed.
    pub(super) fn grow(
        &mut self,
        new_len: usize,
        may_move: bool,
        file: Option<BorrowedFd<'_>>,
    ) -> Result<()> {
        // The kernel cannot grow huge-page mappings either (EINVAL from mremap).
        if self.huge_page.is_some() {
            return Err(Errno::EINVAL);
        }
        if self.sealed {
            return Err(Errno::EPERM);
        }
        let page = page_size();
        let start = self.kernel_start();
        // A length whose page-aligned end overflows: EINVAL, as from mremap (whose
        // PAGE_ALIGN wraps to 0).
        let new_kernel_len = new_len.checked_add(self.lead).ok_or(Errno::EINVAL)?;
        let old_end = page_end(start, self.kernel_len(), page).ok_or(Errno::EINVAL)?;
        let new_end = page_end(start, new_kernel_len, page).ok_or(Errno::EINVAL)?;
        if new_end > old_end {
            let several_vmas = self.several_vmas.load(Ordering::Relaxed);
            if may_move && !several_vmas {
                self.move_into_new_region(new_kernel_len)?;
            } else if self.map_above(old_end, new_end - old_end, file)? {
                self.mark_several_vmas();
            } else if may_move {
                // Several VMAs: what mremap would answer, without reserving anything.
                return Err(Errno::EFAULT);
            } else {
                return Err(Errno::ENOMEM);
            }
        }
        self.len = new_len;
        Ok(())
    }

    /// Maps `len` bytes at `at` (the end of the mapping) as a hint, the way the mapping is
    /// mapped; whether they landed there (if not, they are unmapped again).
    fn map_above(&self, at: usize, len: usize, file: Option<BorrowedFd<'_>>) -> Result<bool> {
        let (fd, offset) = match file {
            // The file offset of `at`: the mapping's start is at `file_offset - lead`.
            Some(file) => (
                file.as_raw_fd(),
                (self.file_offset - self.lead as u64) + (at - self.kernel_start()) as u64,
            ),
            None => (-1, 0),
        };
        let mut prot = Prot::empty();
        prot.set(Prot::READ, self.readable);
        prot.set(Prot::WRITE, self.writable);
        // SAFETY: without MAP_FIXED the kernel replaces nothing; the address is only a hint.
        let got = unsafe {
            sys::mmap(
                at as *mut c_void,
                len,
                prot,
                self.flags.difference(PLACEMENT),
                fd,
                offset,
            )?
        };
        if got as usize == at {
            return Ok(true);
        }
        // SAFETY: the kernel just made this mapping elsewhere; nothing refers to it.
        let _ = unsafe { sys::munmap(got, len) };
        Ok(false)
    }

    /// Moves the mapping, one VMA, into a new region of `new_kernel_len` bytes the kernel
    /// places.
    fn move_into_new_region(&mut self, new_kernel_len: usize) -> Result<()> {
        let old = self.kernel_span();
        let reserve = MapFlags::PRIVATE
            | MapFlags::ANONYMOUS
            | MapFlags::NORESERVE
            | self.flags.intersection(MapFlags::PLACEMENT_LIMITS);
        // SAFETY: without MAP_FIXED the kernel replaces nothing.
        let region =
            unsafe { sys::mmap(null_mut(), new_kernel_len, Prot::empty(), reserve, -1, 0)? };
        let flags = MremapFlags::MAYMOVE | MremapFlags::FIXED;
        // SAFETY: `&mut self` means no slice of the mapping is alive while it moves; the
        // region it replaces is the reservation just made, which nothing else refers to.
        match unsafe { sys::mremap(old.ptr(), old.len, new_kernel_len, flags, region) } {
            Ok(base) => {
                // SAFETY: mremap returned the start of the mapping; `lead` stays inside it.
                self.ptr = unsafe { NonNull::new_unchecked(base.cast::<u8>().add(self.lead)) };
                // mremap moved one VMA, so one arrived.
                self.several_vmas.store(false, Ordering::Relaxed);
                Ok(())
            }
            // Kernels clear the destination of `mremap(FIXED)` before their checks (6.1,
            // 6.12) or after them (6.18), so after a failure the reservation may be gone,
            // and another thread may have mapped something there since: that cannot be told
            // apart from the reservation, and unmapping it could pull memory from under its
            // owner. So it is left as it is: at worst address space, `PROT_NONE`, with no
            // memory behind it. The failure that is not rare, a mapping of several VMAs
            // (EFAULT), is answered before reserving (see `grow`); what remains is running
            // out of memory, map slots or `RLIMIT_MEMLOCK` during the move.
            Err(e) => Err(e),
        }
    }
}

/// The page-aligned end of `len` bytes from `start`, or `None` if it overflows.
fn page_end(start: usize, len: usize, page: usize) -> Option<usize> {
    start.checked_add(len)?.checked_next_multiple_of(page)
}
