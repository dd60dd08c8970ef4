//! Growing a mapping without reaching into address space the program does not own.
//!
//! `mremap` grows a mapping in place whenever the pages above it are unmapped and checks
//! nothing else, not even the stack guard gap (see `stack_reach`): a mapping grown up to
//! the main stack would let the next deep recursion write through references this crate
//! lent out. Mapping the new pages above with their address as a hint, and checking them
//! against the stack's reach, would be sound, but would leave the mapping as two kernel
//! VMAs more often than not (the kernel merges them only when flags and offsets line up),
//! and `mremap` cannot move a mapping of several VMAs. So the safe layer never grows in
//! place:
//!
//! 1. Growth within the last page needs no call at all.
//! 2. Beyond it, the mapping moves with `mremap(MAYMOVE | FIXED)` into a region the kernel
//!    chose, checked to be out of the stack's reach, and reserved (`PROT_NONE`)
//!    beforehand, so that it is this process's own until the move replaces it. A mapping
//!    that is one kernel VMA stays one, so it can move again. A shared mapping's new
//!    address keeps its file offset's cache colour (see [`crate::shared_alignment`]),
//!    which mips kernels require of a move (`EINVAL` otherwise).

use core::ptr::NonNull;
use core::sync::atomic::Ordering;

use super::Mapping;
use crate::{page_size, shared_alignment, sys, Errno, MapFlags, MremapFlags, Prot, Result};

impl Mapping {
    /// Grows the mapping to `new_len` bytes (more than `len()`), by moving it if the new
    /// length needs more pages; new pages read as zeros (or, for a file, as the file).
    /// On failure nothing has changed.
    pub(super) fn grow(&mut self, new_len: usize, may_move: bool) -> Result<()> {
        if let Some(new_kernel_len) = self.check_growth(new_len, may_move)? {
            self.move_into_new_region(new_kernel_len)?;
        }
        self.len = new_len;
        Ok(())
    }

    /// Every refusal of a growth to `new_len` (more than `len()`) that needs no system
    /// call, so that `remap_file` can ask before it grows the file; `Some` kernel length if
    /// the growth needs a move.
    pub(super) fn check_growth(&self, new_len: usize, may_move: bool) -> Result<Option<usize>> {
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
        // No longer than a Rust object may be, also within the last page: `len()` is what
        // slices are lent with.
        super::object_len(new_kernel_len)?;
        if new_end <= old_end {
            return Ok(None);
        }
        if !may_move {
            return Err(Errno::ENOMEM);
        }
        if self.may_be_several_vmas() {
            // What mremap would answer, asked before reserving anything.
            return Err(Errno::EFAULT);
        }
        Ok(Some(new_kernel_len))
    }

    /// Moves the mapping, one VMA, into a new region of `new_kernel_len` bytes the kernel
    /// places.
    fn move_into_new_region(&mut self, new_kernel_len: usize) -> Result<()> {
        let old = self.kernel_span();
        let reserve = MapFlags::PRIVATE
            | MapFlags::ANONYMOUS
            | MapFlags::NORESERVE
            | self.flags.intersection(MapFlags::PLACEMENT_LIMITS);
        let (align, phase) = self.colour();
        let region = crate::place::map_out_of_the_stacks_reach(
            new_kernel_len.checked_add(phase).ok_or(Errno::ENOMEM)?,
            align,
            Prot::empty(),
            reserve,
        )?;
        if phase != 0 {
            // SAFETY: the head of the reservation just made, which nothing refers to; if
            // the unmap fails it stays reserved, address space and no memory.
            let _ = unsafe { sys::munmap(region, phase) };
        }
        let region = region.cast::<u8>().wrapping_add(phase).cast();
        let flags = MremapFlags::MAYMOVE | MremapFlags::FIXED;
        // SAFETY: `&mut self` means no slice of the mapping is alive while it moves; the
        // region it replaces is the reservation just made, which nothing else refers to.
        match unsafe { sys::mremap(old.ptr(), old.len, new_kernel_len, flags, region) } {
            Ok(base) => {
                // SAFETY: mremap returned the start of the mapping; `lead` stays inside it.
                self.ptr = unsafe { NonNull::new_unchecked(base.cast::<u8>().add(self.lead)) };
                // mremap moved one VMA, so one arrived.
                self.split_by_flags.store(false, Ordering::Relaxed);
                self.split_by_protection = false;
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

impl Mapping {
    /// Where a move may put the mapping: at `phase` past a multiple of `align`. For shared
    /// memory the kernel keeps the cache colour of the file offset (`shared_alignment`,
    /// above a page on mips only); shared anonymous memory counts from offset 0. Private
    /// memory goes anywhere page aligned.
    fn colour(&self) -> (usize, usize) {
        let page = page_size();
        if !self.flags.contains(MapFlags::SHARED) {
            return (page, 0);
        }
        let align = shared_alignment();
        let kernel_offset = self.file_offset.wrapping_sub(self.lead as u64);
        // `checked_rem`: the alignment is never 0, but the compiler cannot see it, and a
        // `%` would leave a panic path (the freestanding example's link check found it).
        let phase = kernel_offset.checked_rem(align as u64).unwrap_or(0);
        (align, phase as usize)
    }
}

/// The page-aligned end of `len` bytes from `start`, or `None` if it overflows.
fn page_end(start: usize, len: usize, page: usize) -> Option<usize> {
    start.checked_add(len)?.checked_next_multiple_of(page)
}
