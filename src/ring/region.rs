//! The mirrored region: one control page, then a memfd mapped twice back to back, all in
//! address space reserved first, so that the views are placed with `MAP_FIXED` only over
//! pages this process owns.

use core::ffi::c_void;
use core::num::NonZeroUsize;
use core::ptr::NonNull;

use super::Control;
use crate::fd::{AsFd, AsRawFd};
use crate::place::{commit, map_out_of_the_stacks_reach};
use crate::{page_size, sys, Advice, Errno, MapFlags, Memfd, Prot, Result, Seals};

/// The region while it is being made: unmapped whole if dropped.
pub(super) struct Region {
    /// The control page; the views follow it.
    base: NonNull<u8>,
    capacity: NonZeroUsize,
}

impl Region {
    /// Reserves `page + 2 * capacity` bytes out of the main stack's reach, makes the first
    /// page private read-write memory wiped on fork, and maps a sealed memfd of
    /// `capacity` bytes over each half of the rest.
    pub(super) fn new(min_capacity: usize) -> Result<Region> {
        let page = page_size();
        let capacity = min_capacity
            .max(1)
            .checked_next_multiple_of(page)
            .and_then(NonZeroUsize::new)
            .ok_or(Errno::ENOMEM)?;
        let total = total_len(capacity).ok_or(Errno::ENOMEM)?;
        let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::NORESERVE;
        let base = map_out_of_the_stacks_reach(total, page, Prot::empty(), flags)?;
        // From here on, dropping `region` unmaps the whole reservation.
        let region = Region {
            base: NonNull::new(base.cast()).ok_or(Errno::ENOMEM)?,
            capacity,
        };
        let base = base as usize;
        // SAFETY: the first page of the reservation just made.
        unsafe { commit(base, page)? };
        // SAFETY: wiping on fork changes nothing in this process.
        unsafe { sys::madvise(base as *mut c_void, page, Advice::WipeOnFork)? };

        let memfd = Memfd::new(c"mman-mirror")?;
        memfd.set_len(capacity.get() as u64)?;
        // Nobody can resize it under the views (which would make them fault).
        memfd.add_seals(Seals::SHRINK | Seals::GROW | Seals::SEAL)?;
        let shared = MapFlags::SHARED | MapFlags::FIXED;
        for view in [base + page, base + page + capacity.get()] {
            // SAFETY: MAP_FIXED over a half of the reservation, which nothing refers to.
            let mapped = unsafe {
                sys::mmap(
                    view as *mut c_void,
                    capacity.get(),
                    Prot::READ | Prot::WRITE,
                    shared,
                    memfd.as_fd().as_raw_fd(),
                    0,
                )
            };
            if let Err(e) = mapped {
                region.release_all_but(view, capacity.get());
                return Err(e);
            }
        }
        // The views keep the memory; the descriptor closes here.
        Ok(region)
    }

    /// Unmaps the region except `[start, start + len)`, which a failed `MAP_FIXED` may
    /// have unmapped before failing, so that another thread's mapping may be there now: it
    /// is left as it is (a leak of address space at worst, which is sound).
    fn release_all_but(self, start: usize, len: usize) {
        let base = self.base.as_ptr() as usize;
        let end = total_len(self.capacity).map_or(start + len, |total| base + total);
        core::mem::forget(self);
        for (from, to) in [(base, start), (start + len, end)] {
            if to > from {
                // SAFETY: parts of the region that are surely still its own.
                let _ = unsafe { sys::munmap(from as *mut c_void, to - from) };
            }
        }
    }

    pub(super) fn control(&self) -> NonNull<Control> {
        self.base.cast()
    }

    /// Gives up ownership: the first view and the capacity. [`Region::unmap`] gives the
    /// region back.
    pub(super) fn into_raw(self) -> (NonNull<u8>, NonZeroUsize) {
        // SAFETY: the views start one page after the base, inside the region.
        let data = unsafe { self.base.add(page_size()) };
        let capacity = self.capacity;
        core::mem::forget(self);
        (data, capacity)
    }

    /// Unmaps the region whose control page is `control`.
    ///
    /// # Safety
    /// The region must be one [`Region::into_raw`] gave up, with nothing referring to it.
    pub(super) unsafe fn unmap(control: NonNull<Control>, capacity: NonZeroUsize) {
        if let Some(total) = total_len(capacity) {
            // SAFETY: forwarded to the caller.
            let _ = unsafe { sys::munmap(control.as_ptr().cast(), total) };
        }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: the region is still this value's, and nothing refers to it yet.
        unsafe { Region::unmap(self.control(), self.capacity) };
    }
}

/// The control page and the two views.
fn total_len(capacity: NonZeroUsize) -> Option<usize> {
    capacity.get().checked_mul(2)?.checked_add(page_size())
}
