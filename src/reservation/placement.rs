//! Handing a reservation's pages over to a mapping placed there.
//!
//! `MAP_FIXED` replaces whatever is mapped at the address, and when it fails it may already
//! have unmapped it (kernels differ in which failures come before): a hole that another
//! thread's mapping may take at once, which neither the reservation nor a retry with
//! `MAP_FIXED` may then touch. So placement never replaces: it unmaps the claimed pages
//! itself, maps into the hole with `MAP_FIXED_NOREPLACE` (which fails rather than replace
//! anything), and on failure reserves the hole again the same way. Whatever another thread
//! took in between is left to it, and the pages it took stay given away. The pages placed
//! are the mapping's from then on (the reservation never touches them again), so the
//! `Mapping` that `MapOptions::map_in` returns is an ordinary one.

use core::ops::Range;

use super::pages::{require_owned, Plane};
use super::Reservation;
use crate::{page_size, sys, Errno, MapFlags, Prot, Result};

/// Pages of a reservation taken out of it for a mapping about to be placed there.
#[derive(Debug)]
#[must_use]
pub(crate) struct Claim {
    pages: Range<usize>,
    /// Where the pages start.
    pub(crate) addr: usize,
}

impl Reservation {
    /// Takes `len` bytes from byte `offset` (rounded up to whole pages) out of the
    /// reservation, before a mapping is placed there: `EINVAL` unless `offset` is page
    /// aligned and the pages lie inside and still belong to the reservation, `EBUSY` if one
    /// is committed (decommit it first).
    pub(crate) fn claim(&mut self, offset: usize, len: usize) -> Result<Claim> {
        let page = page_size();
        let end = offset
            .checked_add(len)
            .and_then(|end| end.checked_next_multiple_of(page))
            .ok_or(Errno::EINVAL)?;
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let pages = self.whole_pages(offset..end)?;
        require_owned(&self.pages, pages.clone())?;
        if !self.pages.none(Plane::Committed, pages.clone()) {
            return Err(Errno::EBUSY);
        }
        // Pessimistic: the pages are given away before they are unmapped for the mapping.
        self.pages.set(Plane::Given, pages.clone());
        let addr = self.span_of(&pages).0 as usize;
        Ok(Claim { pages, addr })
    }

    /// Unmaps the claimed pages, for a mapping to be placed there with
    /// `MAP_FIXED_NOREPLACE`. If that fails, the pages are still reserved and the claim is
    /// withdrawn.
    pub(crate) fn vacate(&mut self, claim: &Claim) -> Result<()> {
        let (addr, len) = self.span_of(&claim.pages);
        // SAFETY: the claimed pages are this reservation's own, unused (all were reserved),
        // and no longer counted as the reservation's.
        match unsafe { sys::munmap(addr, len) } {
            Ok(()) => Ok(()),
            Err(e) => {
                // munmap fails before unmapping anything (splitting at the map-count limit).
                self.pages.clear(Plane::Given, claim.pages.clone());
                Err(e)
            }
        }
    }

    /// After a placement into `claim` failed: reserves the hole again, unless anything is
    /// mapped in it by now, in which case its pages stay given away.
    pub(crate) fn restore(&mut self, claim: Claim) {
        let (addr, len) = self.span_of(&claim.pages);
        let flags = MapFlags::PRIVATE
            | MapFlags::ANONYMOUS
            | MapFlags::NORESERVE
            | MapFlags::FIXED_NOREPLACE;
        // SAFETY: MAP_FIXED_NOREPLACE maps nothing over an existing mapping.
        match unsafe { sys::mmap(addr, len, Prot::empty(), flags, -1, 0) } {
            Ok(raw) if raw == addr => self.pages.clear(Plane::Given, claim.pages),
            Ok(raw) => {
                // A kernel older than 4.17 took the flag for a hint and put it elsewhere.
                // SAFETY: the region just mapped, which nothing refers to.
                let _ = unsafe { sys::munmap(raw, len) };
            }
            Err(_) => {}
        }
    }
}
