//! Committing, decommitting and lazily resetting a reservation's pages.

use core::ops::{Range, RangeBounds};
use core::sync::atomic::{AtomicU8, Ordering};

use super::pages::{require_owned, Plane};
use super::Reservation;
use crate::{arch, page_size, sys, Advice, Errno, Prot, Result};

impl Reservation {
    /// Commits `range` with protection `prot` (`mprotect`): its pages become accessible as
    /// `prot` allows, holding what they held (zeros if never used or decommitted; for pages
    /// [`reset`](Reservation::reset), either what they held or zeros, page by page).
    /// Committing pages again changes only their protection. Making memory executable also
    /// makes the instruction cache coherent with what was written.
    ///
    /// `EINVAL` for a range not on page boundaries or reaching pages given to a placed
    /// mapping, and for `Prot::GROWSDOWN`/`GROWSUP`. Reusing reset read-write memory as
    /// read-write needs no system call unless the kernel has taken its pages. (On mips
    /// kernels before 6.4, see [`Mapping::protect`](crate::Mapping::protect) on the
    /// kernel's zero-page bug.)
    pub fn commit(&mut self, range: impl RangeBounds<usize>, prot: Prot) -> Result<()> {
        if prot.intersects(Prot::GROWSDOWN | Prot::GROWSUP) {
            return Err(Errno::EINVAL);
        }
        let pages = self.whole_pages(range)?;
        require_owned(&self.pages, pages.clone())?;
        // Lazily freed pages are still read-write: writing each one now makes the kernel
        // keep it (or fault in a zero page), so that it can be lent again.
        self.pin_lazy_pages(pages.clone());
        if prot == Prot::READ | Prot::WRITE && self.pages.all(Plane::Writable, pages.clone()) {
            return Ok(());
        }
        let (addr, len) = self.span_of(&pages);
        let executable = prot.contains(Prot::EXEC);
        let was_readable = self.pages.all(Plane::Readable, pages.clone());
        if executable && was_readable {
            // SAFETY: the span is inside the reservation and readable.
            unsafe { arch::sync_instruction_cache(addr as usize, len) };
        }
        // Pessimistic: what the call may take away is taken first, and a page the call may
        // commit counts as committed (not lendable) even if the call then fails.
        let newly = pages.len() - self.pages.count(Plane::Committed, pages.clone());
        self.pages.set(Plane::Committed, pages.clone());
        if !prot.contains(Prot::READ) {
            self.pages.clear(Plane::Readable, pages.clone());
        }
        if !prot.contains(Prot::READ | Prot::WRITE) {
            self.pages.clear(Plane::Writable, pages.clone());
        }
        self.committed += newly * page_size();
        // SAFETY: the pages are this reservation's own (none given away), and `&mut self`
        // means no slice of them is alive; their bits allow no new slice that the new
        // protection would not allow.
        unsafe { sys::mprotect(addr, len, prot)? };
        // Granted only now.
        if prot.contains(Prot::READ) {
            self.pages.set(Plane::Readable, pages.clone());
            if prot.contains(Prot::WRITE) {
                self.pages.set(Plane::Writable, pages);
            }
        }
        if executable && !was_readable && prot.contains(Prot::READ) {
            // SAFETY: the span is inside the reservation and readable now.
            unsafe { arch::sync_instruction_cache(addr as usize, len) };
        }
        Ok(())
    }

    /// Gives the pages of `range` back (`MADV_DONTNEED`, then `PROT_NONE`): no memory, no
    /// access; committed again, they read as zeros. `EINVAL` for a range not on page
    /// boundaries or reaching pages given to a placed mapping.
    pub fn decommit(&mut self, range: impl RangeBounds<usize>) -> Result<()> {
        let pages = self.whole_pages(range)?;
        require_owned(&self.pages, pages.clone())?;
        let committed = self.pages.count(Plane::Committed, pages.clone());
        // Pessimistic: nothing of the range is lendable from here on, and until both calls
        // succeeded its committed pages still count.
        self.pages.clear(Plane::Readable, pages.clone());
        self.pages.clear(Plane::Writable, pages.clone());
        let (addr, len) = self.span_of(&pages);
        // SAFETY: the pages are this reservation's own and none is lendable (bits above);
        // `&mut self` means no slice of them is alive.
        unsafe { sys::madvise(addr, len, Advice::DontNeed)? };
        // Zapped: no page is lazily freed any more (each faults in as a fresh zero page).
        // Cleared now, not after the protection change: a lazy page is pinned by writing
        // it as read-write memory, and `mprotect` may fail part-way (a split at the
        // map-count limit) after making the first VMAs inaccessible.
        self.pages.clear(Plane::Lazy, pages.clone());
        // SAFETY: as above.
        unsafe { sys::mprotect(addr, len, Prot::empty())? };
        self.pages.clear(Plane::Committed, pages);
        self.committed -= committed * page_size();
        Ok(())
    }

    /// Lets the kernel take the pages of `range` when it needs memory, cheaply
    /// (`MADV_FREE`, Linux 4.5; where the kernel lacks it, `MADV_DONTNEED`, which takes them
    /// now). Their contents are unspecified from here on: each page reads as what it held or
    /// as zeros, and may change from one to the other until written. So they are not lent
    /// again until [`commit`](Reservation::commit)ted, which makes the kernel keep them.
    /// They stay committed (and counted) meanwhile.
    ///
    /// Only read-write memory is reset: `EINVAL` for a range not on page boundaries, or
    /// holding pages that are committed with another protection or given to a mapping
    /// (reserved pages are passed over).
    pub fn reset(&mut self, range: impl RangeBounds<usize>) -> Result<()> {
        let pages = self.whole_pages(range)?;
        // Reserved, read-write or lazy pages only.
        let resettable = self
            .pages
            .none_where(pages.clone(), |[given, committed, _, writable, lazy]| {
                given | (committed & !writable & !lazy)
            });
        if !resettable {
            return Err(Errno::EINVAL);
        }
        // Pessimistic: from the call on, the kernel may zero any page at any time.
        self.pages
            .copy_set(Plane::Writable, Plane::Lazy, pages.clone());
        self.pages.clear(Plane::Readable, pages.clone());
        self.pages.clear(Plane::Writable, pages.clone());
        // Only the pages marked lazy are given to MADV_FREE: a reserved page may hold memory
        // too (adopted with `from_raw`), and freeing it lazily unmarked would let the next
        // commit lend it without pinning it.
        let mut freed = Ok(());
        let mut lacks_free = false;
        self.pages.runs(Plane::Lazy, true, pages.clone(), |run| {
            let (addr, len) = self.span_of(&run);
            // SAFETY: the pages are this reservation's own, private anonymous, and none is
            // lendable; `&mut self` means no slice of them is alive.
            match unsafe { sys::madvise(addr, len, Advice::Free) } {
                // A kernel without MADV_FREE: take the pages now instead (below).
                Err(Errno::EINVAL) => lacks_free = true,
                other => freed = freed.and(other),
            }
        });
        if lacks_free {
            let mut taken = Ok(());
            self.pages.runs(Plane::Lazy, true, pages.clone(), |run| {
                let (addr, len) = self.span_of(&run);
                // SAFETY: as above.
                taken = taken.and(unsafe { sys::madvise(addr, len, Advice::DontNeed) });
            });
            taken?;
            // Zero now and for good: read-write memory again.
            self.unmark_lazy(pages);
        }
        freed
    }

    /// Writes each lazily freed page of `pages` (with its own value, atomically), which
    /// makes the kernel keep the page, or fault in a zero page if it took it; then it is
    /// read-write memory again.
    fn pin_lazy_pages(&mut self, pages: Range<usize>) {
        if self.pages.none(Plane::Lazy, pages.clone()) {
            return;
        }
        let (base, page) = (self.as_ptr() as usize, page_size());
        self.pages.each(Plane::Lazy, pages.clone(), |index| {
            let first = (base + index * page) as *mut u8;
            // SAFETY: a lazy page is mapped read-write (reset takes only read-write pages
            // and changes no protection), and `&mut self` means nothing else in this
            // process accesses it.
            let byte = unsafe { AtomicU8::from_ptr(first) };
            // A compare-exchange of the value with itself writes it (an idempotent
            // read-modify-write such as `fetch_or(0)` may be compiled into a plain load).
            // If the kernel takes the page between the load and the exchange, the exchange
            // fails against its zero and the next round writes the zero page.
            let mut seen = byte.load(Ordering::Relaxed);
            while let Err(now) =
                byte.compare_exchange_weak(seen, seen, Ordering::Relaxed, Ordering::Relaxed)
            {
                seen = now;
            }
        });
        self.unmark_lazy(pages);
    }

    /// Lazy pages of `pages` are read-write memory again.
    fn unmark_lazy(&mut self, pages: Range<usize>) {
        self.pages
            .copy_set(Plane::Lazy, Plane::Readable, pages.clone());
        self.pages
            .copy_set(Plane::Lazy, Plane::Writable, pages.clone());
        self.pages.clear(Plane::Lazy, pages);
    }
}
