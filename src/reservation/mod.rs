//! [`Reservation`]: address space owned ahead of use, committed and given back page by page.
//!
//! Module layout: this file holds the type, how it is made (aligned if asked), adopted and
//! released; `pages` keeps the state of each page; `commit` changes what is committed;
//! `lend` gives slices of committed memory; `placement` hands pages over to mappings placed
//! inside the reservation with `MapOptions::map_in`.

use core::ffi::{c_void, CStr};
use core::ops::{Range, RangeBounds};
use core::ptr::NonNull;

use crate::{page_size, place, stack_reach, sys, Errno, MapFlags, Prot, Result};

mod advise;
mod commit;
mod lend;
mod numa;
mod pages;
mod placement;

use pages::{PageTable, Plane};

/// `len` bytes of address space that this value owns: reserved with no access and no
/// commit charge (`PROT_NONE`, `MAP_NORESERVE`, private anonymous), committed and
/// decommitted page by page, and unmapped on drop, except for pages handed to mappings
/// placed inside it ([`MapOptions::map_in`](crate::MapOptions::map_in)), which are theirs.
///
/// What an allocator's operating-system layer does by hand: reserve once, commit what is
/// used, give it back, reuse it lazily, and place mappings at addresses it chose.
///
/// ```
/// use mman::{Prot, Reservation};
/// let mut space = Reservation::with_align(8 << 20, 2 << 20)?; // 8 MiB on a 2 MiB boundary
/// assert_eq!(space.as_ptr() as usize % (2 << 20), 0);
/// let page = mman::page_size();
/// space.commit(0..4 * page, Prot::READ | Prot::WRITE)?;
/// space.as_mut_slice(0..4 * page)?.fill(7);
/// assert_eq!(space.committed(), 4 * page);
/// space.decommit(0..4 * page)?;                    // given back: zeros when committed again
/// assert_eq!(space.committed(), 0);
/// assert!(space.as_slice(0..page).is_err());       // not committed: nothing to lend
/// # Ok::<(), mman::Errno>(())
/// ```
///
/// Every range is of byte offsets from [`as_ptr`](Reservation::as_ptr) (`..` for all);
/// those that change memory must start and end on page boundaries (else `EINVAL`), slices
/// may be of any bytes of committed pages. Book-keeping is pessimistic, as for
/// [`Mapping`](crate::Mapping): a call that may take access away takes it from the pages'
/// states before it is made, and grants only after it succeeded; a call that fails part-way
/// leaves the pages it may have committed counted as committed and not lendable, until
/// [`decommit`](Reservation::decommit) gives them back.
#[derive(Debug)]
pub struct Reservation {
    base: NonNull<u8>,
    /// Bytes, a whole number of pages.
    len: usize,
    /// Bytes of pages that may hold memory (committed, locked or lazily freed).
    committed: usize,
    pages: PageTable,
}

// SAFETY: a Reservation owns its address space as a Box owns its allocation; its `&self`
// methods only read (slices of committed memory, which changes only through `&mut self`).
unsafe impl Send for Reservation {}
// SAFETY: as above.
unsafe impl Sync for Reservation {}

impl Reservation {
    /// Reserves `len` bytes (rounded up to whole pages) wherever the kernel places them,
    /// outside the main stack's reach (see the [`soundness`](crate::soundness) page).
    /// `EINVAL` for a zero length.
    pub fn new(len: usize) -> Result<Reservation> {
        Reservation::with_align(len, page_size())
    }

    /// Reserves `len` bytes starting at a multiple of `align`, a power of two of at least a
    /// page (`EINVAL` otherwise): `len + align` bytes are reserved and the ends beyond the
    /// aligned range unmapped again, so a 2 MiB or 1 GiB alignment costs no memory.
    /// `ENOMEM` also for more than `isize::MAX` bytes, the longest a Rust object may be
    /// (only a 32-bit program's address space holds more).
    pub fn with_align(len: usize, align: usize) -> Result<Reservation> {
        let page = page_size();
        if len == 0 || !align.is_power_of_two() || align < page {
            return Err(Errno::EINVAL);
        }
        let len = len.checked_next_multiple_of(page).ok_or(Errno::ENOMEM)?;
        // Slices and pointer offsets inside it must fit in an `isize`.
        let len = crate::mapping::object_len(len)?;
        // The table first: failing there leaves nothing to undo.
        let pages = PageTable::new(len >> page_shift())?;
        let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::NORESERVE;
        let raw = place::map_out_of_the_stacks_reach(len, align, Prot::empty(), flags)?;
        // Address 0 (only where `vm.mmap_min_addr` is 0) is left mapped rather than used.
        let base = NonNull::new(raw.cast::<u8>()).ok_or(Errno::ENOMEM)?;
        Ok(Reservation {
            base,
            len,
            committed: 0,
            pages,
        })
    }

    /// Adopts `[ptr, ptr + len)` as a reservation whose every page is reserved, for example
    /// one [`into_raw`](Reservation::into_raw) gave out. `ENOMEM` where it lies in the main
    /// stack's reach or is longer than `isize::MAX` bytes, `EINVAL` unless `ptr` and `len`
    /// are page aligned and `len > 0`.
    ///
    /// # Safety
    /// The range must be private anonymous memory of ordinary pages (not huge pages, whose
    /// reservation a forked child does not hold) that nothing else uses or will unmap: it
    /// is this value's from now on, and its bytes read as whatever they hold once committed.
    /// No part of it may be lazily freed (`MADV_FREE`) and unwritten since: the reservation
    /// would lend it as committed memory, which the kernel may zero at any time.
    pub unsafe fn from_raw(ptr: *mut u8, len: usize) -> Result<Reservation> {
        let mask = page_size() - 1;
        let base = NonNull::new(ptr).ok_or(Errno::EINVAL)?;
        if len == 0 || (ptr as usize | len) & mask != 0 {
            return Err(Errno::EINVAL);
        }
        crate::mapping::object_len(len)?;
        stack_reach::check(ptr as usize, len)?;
        let pages = PageTable::new(len >> page_shift())?;
        Ok(Reservation {
            base,
            len,
            committed: 0,
            pages,
        })
    }

    /// Gives up ownership: returns the start and length of the whole range. Unmapping it is
    /// now the caller's job, except for pages given to mappings placed inside it.
    pub fn into_raw(self) -> (*mut u8, usize) {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: the table is read out once, and `this` is neither used nor dropped after;
        // dropping the table gives back its own mapping, if it has one.
        drop(unsafe { core::ptr::read(&this.pages) });
        (this.as_ptr(), this.len)
    }

    /// The first byte.
    #[inline]
    pub fn as_ptr(&self) -> *mut u8 {
        self.base.as_ptr()
    }

    /// The length in bytes (a whole number of pages).
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the length is 0 (never).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes that may hold memory: committed, not yet decommitted (pages of a commit that
    /// failed part-way included).
    #[inline]
    pub fn committed(&self) -> usize {
        self.committed
    }

    /// Names the pages the reservation still owns: they show as `[anon:NAME]` in
    /// `/proc/self/maps`, committed or not (see [`sys::set_anon_name`] for what the kernel
    /// accepts). `EINVAL` also where the kernel lacks `CONFIG_ANON_VMA_NAME` (or is older
    /// than 5.17): an error the caller may ignore.
    pub fn set_name(&mut self, name: &CStr) -> Result<()> {
        let mut named = Ok(());
        self.pages.clear_runs(Plane::Given, |run| {
            let (addr, len) = self.span_of(&run);
            // SAFETY: the run is this reservation's own; naming changes no bytes and
            // no access, and the reservation needs no run to stay one kernel mapping.
            let result = unsafe { sys::set_anon_name(addr, len, Some(name)) };
            named = named.and(result);
        });
        named
    }

    /// The pages `range` covers, which must start and end on page boundaries.
    fn whole_pages(&self, range: impl RangeBounds<usize>) -> Result<Range<usize>> {
        let bytes = self.bytes(range)?;
        let mask = page_size() - 1;
        if (bytes.start | bytes.end) & mask != 0 {
            return Err(Errno::EINVAL);
        }
        Ok(bytes.start >> page_shift()..bytes.end >> page_shift())
    }

    /// `range` as byte offsets inside the reservation: `EINVAL` if it reaches outside, is
    /// reversed, or its end overflows.
    fn bytes(&self, range: impl RangeBounds<usize>) -> Result<Range<usize>> {
        crate::mapping::offsets(range, self.len)
    }

    /// The pages the bytes `bytes` (offsets inside the reservation) lie on: an empty range
    /// lies on none, wherever it starts.
    fn pages_touched(bytes: &Range<usize>) -> Range<usize> {
        let shift = page_shift();
        match bytes.is_empty() {
            true => 0..0,
            // The end rounded up to a page index; `end + page - 1` cannot overflow, as the
            // reservation ends at a page boundary inside the address space.
            false => bytes.start >> shift..(bytes.end + (page_size() - 1)) >> shift,
        }
    }

    /// The address and length of `pages`.
    fn span_of(&self, pages: &Range<usize>) -> (*mut c_void, usize) {
        let page = page_size();
        let addr = self.as_ptr() as usize + pages.start * page;
        (addr as *mut c_void, pages.len() * page)
    }
}

/// The page size as a shift: page indexes come from shifts, not divisions, which the
/// compiler could not prove free of a division by zero (and so of a panic).
pub(crate) fn page_shift() -> u32 {
    page_size().trailing_zeros()
}

impl Drop for Reservation {
    fn drop(&mut self) {
        // Pages given to placed mappings are theirs; the rest is unmapped run by run.
        self.pages.clear_runs(Plane::Given, |run| {
            let (addr, len) = self.span_of(&run);
            // SAFETY: the run is this reservation's own, and `&mut self` in drop means
            // no slice of it remains.
            unsafe { crate::give_back::unmap(addr, len) };
        });
    }
}
