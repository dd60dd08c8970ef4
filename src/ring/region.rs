//! The mirrored region: a memfd mapped twice back to back, then one control page, built
//! with the crate's address-space layer: a [`Reservation`] of the whole region, and each
//! part placed in it with [`MapOptions::map_in`] / [`MapOptions::map_file_in`], which never
//! replace anything (`MAP_FIXED_NOREPLACE` over pages the reservation gave up) and, when the
//! kernel refuses, leave every page either reserved again or no longer the region's.

use core::num::NonZeroUsize;
use core::ptr::NonNull;

use super::Control;
use crate::{
    page_size, shared_alignment, Advice, Errno, MapOptions, Memfd, Prot, Reservation, Result, Seals,
};

/// The region while it is being made: unmapped whole if dropped.
pub(super) struct Region {
    /// The first view; the second follows it, then the control page.
    base: NonNull<u8>,
    capacity: NonZeroUsize,
}

/// Attempts at building a region before giving up on `EEXIST`.
const ATTEMPTS: usize = 8;

impl Region {
    /// [`Region::place`], again from a new reservation while another thread's mapping took
    /// a part's place first (`EEXIST`): placing unmaps the reserved pages before mapping
    /// there without replacing anything, and in between the kernel may give those free
    /// pages to any other thread's `mmap` (seen with the tests' threads: a free range at
    /// the top is where the kernel looks first). A failed attempt leaves nothing behind.
    pub(super) fn new(min_capacity: usize) -> Result<Region> {
        for _ in 0..ATTEMPTS {
            match Region::place(min_capacity) {
                Err(Errno::EEXIST) => continue,
                placed => return placed,
            }
        }
        Err(Errno::EEXIST)
    }

    /// Reserves `2 * capacity + page` bytes (out of the main stack's reach, as every
    /// reservation), places a sealed memfd of `capacity` bytes over each of the two halves
    /// of the first `2 * capacity`, and private read-write memory wiped on fork in the last
    /// page.
    ///
    /// Both views map the memfd from offset 0, so where data caches alias (mips: see
    /// [`shared_alignment`]) each must start at that offset's cache colour, or the kernel
    /// refuses it (`EINVAL`): the capacity is a multiple of the shared alignment, and the
    /// reservation starts at one. Elsewhere that alignment is the page size.
    fn place(min_capacity: usize) -> Result<Region> {
        let page = page_size();
        let colour = shared_alignment();
        let capacity = min_capacity
            .max(1)
            .checked_next_multiple_of(colour)
            .and_then(NonZeroUsize::new)
            .ok_or(Errno::ENOMEM)?;
        let total = total_len(capacity).ok_or(Errno::ENOMEM)?;
        // Until the end, each part is owned by a value that gives it back if a later step
        // fails: the reservation what is not placed yet, each mapping its own pages.
        let mut space = Reservation::with_align(total, colour)?;
        let mut control = MapOptions::new()
            .len(page)
            .map_in(&mut space, 2 * capacity.get())?;
        // SAFETY: the control page is the ring's alone, and no reference into it exists
        // yet; in a forked child it reads as zeros, which every half checks before lending
        // anything (see `MirrorBuffer`).
        unsafe { control.advise_unchecked(.., Advice::WipeOnFork)? };

        let memfd = Memfd::new(c"mman-mirror")?;
        memfd.set_len(capacity.get() as u64)?;
        // Nobody can resize it under the views (which would make them fault).
        memfd.add_seals(Seals::SHRINK | Seals::GROW | Seals::SEAL)?;
        let view = MapOptions::new()
            .shared()
            .prot(Prot::READ | Prot::WRITE)
            .len(capacity.get());
        let first = view.map_file_in(&mut space, 0, &memfd, 0)?;
        let second = view.map_file_in(&mut space, capacity.get(), &memfd, 0)?;
        // Every page is placed: the reservation holds none of them any more (dropping it
        // unmaps nothing), and the three mappings, contiguous, become the region, unmapped
        // as one by `Region`. The views keep the memory; the descriptor closes here.
        drop(space);
        let (base, _) = first.into_raw();
        let _ = (second.into_raw(), control.into_raw());
        Ok(Region {
            base: NonNull::new(base).ok_or(Errno::ENOMEM)?,
            capacity,
        })
    }

    pub(super) fn control(&self) -> NonNull<Control> {
        // SAFETY: the control page follows the two views, inside the region.
        unsafe { self.base.add(2 * self.capacity.get()) }.cast()
    }

    /// Gives up ownership: the first view and the capacity. [`Region::unmap`] gives the
    /// region back.
    pub(super) fn into_raw(self) -> (NonNull<u8>, NonZeroUsize) {
        let (data, capacity) = (self.base, self.capacity);
        core::mem::forget(self);
        (data, capacity)
    }

    /// Unmaps the region whose control page is `control`.
    ///
    /// # Safety
    /// The region must be one [`Region::into_raw`] gave up, with nothing referring to it.
    pub(super) unsafe fn unmap(control: NonNull<Control>, capacity: NonZeroUsize) {
        if let Some(total) = total_len(capacity) {
            // The region starts two views below its control page.
            let start = control
                .as_ptr()
                .cast::<u8>()
                .wrapping_sub(2 * capacity.get());
            // SAFETY: forwarded to the caller.
            unsafe { crate::give_back::unmap(start.cast(), total) };
        }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: the region is still this value's, and nothing refers to it yet.
        unsafe { Region::unmap(self.control(), self.capacity) };
    }
}

/// The two views and the control page.
fn total_len(capacity: NonZeroUsize) -> Option<usize> {
    capacity.get().checked_mul(2)?.checked_add(page_size())
}
