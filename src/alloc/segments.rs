//! [`Segments`]: dlmalloc's system layer over mman, memory committed from one reservation.

use core::cell::Cell;
use core::ffi::c_void;

use crate::place::{commit, discard, make_inaccessible, map_out_of_the_stacks_reach};
use crate::{page_size, sys, MapFlags, Prot};

/// The system layer [`Malloc`](crate::alloc::Malloc) gives each of its dlmalloc instances,
/// usable with a `dlmalloc::Dlmalloc` of one's own (`Dlmalloc::new_with_allocator`).
///
/// It reserves its whole address space once (`PROT_NONE`, `MAP_NORESERVE`: no memory and no
/// commit charge, placed out of the main stack's reach), on the first request, and hands
/// dlmalloc segments from it bottom up: each is committed by making its part of the
/// reservation read-write (`mprotect`), so consecutive segments are adjacent and dlmalloc
/// merges them into one. A freed segment, or the tail dlmalloc trims off one, is given back
/// to the kernel (`MADV_DONTNEED`) and made inaccessible again, so it reads as zeros when
/// committed next; when it was the last one handed out, its space is handed out again next.
/// The reservation stays mapped throughout: no other mapping can come between its pages.
///
/// `free` and `free_part` act only on ranges inside what was handed out, and
/// `remap` always refuses (dlmalloc's Rust port never asks). Dropping it unmaps the whole
/// reservation, so it must outlive every block of the dlmalloc using it (a `Dlmalloc` is
/// never dropped with blocks in use that are used afterwards; its blocks are raw pointers
/// whose use is `unsafe` anyway). No method panics.
///
/// Making one is `unsafe` ([`Segments::new`]): dlmalloc's `Allocator` methods are safe to
/// call, and `Dlmalloc::allocator` lends them to safe code, but `free` and `free_part`
/// cannot tell the `Dlmalloc`'s own call from anyone else's: a safe call could discard the
/// segment a live block, or dlmalloc's own book-keeping, lies in.
///
/// ```compile_fail,E0133
/// use mman::alloc::dlmalloc::{Allocator, Dlmalloc};
/// let heap = Dlmalloc::new_with_allocator(mman::alloc::Segments::new(1 << 24)); // refused
/// let _ = heap.allocator().free(core::ptr::null_mut(), 0);
/// ```
#[derive(Debug)]
pub struct Segments {
    /// Bytes of address space to reserve.
    space: usize,
    /// The reservation's start, 0 until it is made.
    base: Cell<usize>,
    /// Where the next segment starts, and where the reservation ends.
    next: Cell<usize>,
    end: Cell<usize>,
    /// Whether the reservation is this value's to unmap when dropped (not when a shard of
    /// `Malloc` lent it, keeping its own state at the reservation's start).
    owned: bool,
}

impl Segments {
    /// A system layer that will reserve `space` bytes (rounded up to pages) of address
    /// space on its first request, and never more: dlmalloc's requests beyond it fail.
    ///
    /// ```
    /// use mman::alloc::dlmalloc::Dlmalloc;
    /// use mman::alloc::Segments;
    /// // SAFETY: the segments serve this Dlmalloc only, and nothing else calls their
    /// // `Allocator` methods (no `heap.allocator().free(...)`).
    /// let mut heap = Dlmalloc::new_with_allocator(unsafe { Segments::new(1 << 30) });
    /// // SAFETY: GlobalAlloc's contract: a non-zero size, a valid alignment, freed once.
    /// unsafe {
    ///     let block = heap.malloc(64, 16);
    ///     assert!(!block.is_null());
    ///     heap.free(block, 64, 16);
    /// }
    /// ```
    ///
    /// # Safety
    /// `free` and `free_part` discard what they are given, if it lies in what was handed
    /// out. While any memory handed out is in use (by a `Dlmalloc` this value serves, or by
    /// the caller), they must be called only on ranges no longer in use: in practice, give
    /// the value to one `Dlmalloc` and call none of its `Allocator` methods yourself
    /// (`Dlmalloc::allocator` and `allocator_mut` reach them from safe code).
    pub const unsafe fn new(space: usize) -> Segments {
        Segments {
            space,
            base: Cell::new(0),
            next: Cell::new(0),
            end: Cell::new(0),
            owned: true,
        }
    }

    /// A system layer over `[start, end)`, page-aligned `PROT_NONE` address space reserved
    /// by the caller, which stays the caller's to unmap.
    pub(crate) const fn within(start: usize, end: usize) -> Segments {
        Segments {
            space: end - start,
            base: Cell::new(start),
            next: Cell::new(start),
            end: Cell::new(end),
            owned: false,
        }
    }

    /// Makes the reservation if it is not made yet; false if that failed.
    fn reserved(&self) -> bool {
        if self.base.get() != 0 {
            return true;
        }
        let Some(space) = self.space.checked_next_multiple_of(page_size()) else {
            return false;
        };
        let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::NORESERVE;
        match map_out_of_the_stacks_reach(space, page_size(), Prot::empty(), flags) {
            Ok(base) if space != 0 => {
                let base = base as usize;
                self.base.set(base);
                self.next.set(base);
                self.end.set(base + space);
                true
            }
            _ => false,
        }
    }

    /// Whether `[ptr, ptr + len)` is page aligned and inside what was handed out.
    fn handed_out(&self, ptr: usize, len: usize) -> bool {
        let mask = page_size() - 1;
        ptr & mask == 0
            && len & mask == 0
            && ptr >= self.base.get()
            && ptr
                .checked_add(len)
                .is_some_and(|end| end <= self.next.get())
    }

    /// Gives `[ptr, ptr + len)` back to the kernel, keeping the address space; hands it
    /// out again next if it was the last part handed out.
    ///
    /// `false` must mean untouched: dlmalloc then keeps using the range, its own records
    /// in it included. So once `MADV_DONTNEED` has discarded it, the answer is `true` even
    /// if making it inaccessible then fails (`ENOMEM` when the split would pass the
    /// map-count limit): the range stays read-write, and zero, until handed out again.
    /// `MADV_DONTNEED` itself fails before discarding anything: the range is one VMA (the
    /// segments handed out are read-write parts of one reservation, merged as they are
    /// committed), whose checks come before any page is dropped.
    fn give_back(&self, ptr: usize, len: usize) -> bool {
        if !self.handed_out(ptr, len) {
            return false;
        }
        // SAFETY: the range is inside this reservation and was handed out; dlmalloc gives
        // it back when it holds no block there any more.
        if unsafe { discard(ptr, len) }.is_err() {
            return false;
        }
        // Discarded: no longer dlmalloc's, whatever the protection change answers. If it
        // fails the pages stay read-write, still fresh zeros when committed again.
        // SAFETY: as above.
        let _ = unsafe { make_inaccessible(ptr, len) };
        if ptr + len == self.next.get() {
            self.next.set(ptr);
        }
        true
    }
}

// SAFETY: `alloc` returns fresh, zero-filled, read-write pages of this reservation that it
// never returns again until dlmalloc frees them; nothing else maps inside the reservation.
unsafe impl dlmalloc::Allocator for Segments {
    fn alloc(&self, size: usize) -> (*mut u8, usize, u32) {
        let failed = (core::ptr::null_mut(), 0, 0);
        let Some(size) = size.checked_next_multiple_of(page_size()) else {
            return failed;
        };
        if !self.reserved() || size > self.end.get() - self.next.get() {
            return failed;
        }
        let start = self.next.get();
        // SAFETY: `[start, start + size)` lies in this reservation past everything handed
        // out.
        if unsafe { commit(start, size) }.is_err() {
            return failed;
        }
        self.next.set(start + size);
        (start as *mut u8, size, 0)
    }

    fn remap(&self, _ptr: *mut u8, _old: usize, _new: usize, _can_move: bool) -> *mut u8 {
        core::ptr::null_mut()
    }

    fn free_part(&self, ptr: *mut u8, old_size: usize, new_size: usize) -> bool {
        let Some(tail) = old_size.checked_sub(new_size) else {
            return false;
        };
        (ptr as usize)
            .checked_add(new_size)
            .is_some_and(|start| self.give_back(start, tail))
    }

    fn free(&self, ptr: *mut u8, size: usize) -> bool {
        self.give_back(ptr as usize, size)
    }

    fn can_release_part(&self, _flags: u32) -> bool {
        true
    }

    fn allocates_zeros(&self) -> bool {
        true
    }

    fn page_size(&self) -> usize {
        page_size()
    }
}

impl Drop for Segments {
    fn drop(&mut self) {
        let base = self.base.get();
        if self.owned && base != 0 {
            // SAFETY: the reservation is this value's; `&mut self` in drop means dlmalloc,
            // its only user, is gone.
            let _ = unsafe { sys::munmap(base as *mut c_void, self.end.get() - base) };
        }
    }
}
