//! Guard pages inside a mapping: [`Mapping::guard`] and [`Mapping::unguard`].
//!
//! `MADV_GUARD_INSTALL` (Linux 6.13) puts markers in the page tables that make accesses
//! fault, and they outlive `mprotect`: while any may be present, no protection change makes
//! the mapping lendable again, only a successful `MADV_GUARD_REMOVE`. Like `mprotect`, the
//! advice walks the range VMA by VMA and can fail part-way, after installing markers in
//! the VMAs before, so a failure counts as "markers may be present" unless the kernel does
//! not know the advice at all (then it touched nothing): a question asked of the install
//! itself, since a seccomp filter may refuse one guard advice and let the other through.

use core::ops::RangeBounds;

use super::Mapping;
use crate::{sys, Advice, Errno, Prot, Result};

/// How [`Mapping::guard`] made a range fault on access.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Guard {
    /// `MADV_GUARD_INSTALL` (Linux 6.13): page-table markers, no extra mapping. Private
    /// anonymous contents of the range are discarded.
    Madvise,
    /// `PROT_NONE` pages, on kernels without guard advice (or where the kernel refused it
    /// for this kind of memory). Contents are kept.
    ProtNone,
}

impl Mapping {
    /// Makes `range` fault on any access: `MADV_GUARD_INSTALL` where the kernel has it
    /// (6.13) and the memory takes it, `PROT_NONE` otherwise (huge-page memory always).
    /// Slices of the mapping are refused from then on, until
    /// the whole mapping is made accessible again with [`unguard`](Mapping::unguard).
    pub fn guard(&mut self, range: impl RangeBounds<usize>) -> Result<Guard> {
        if self.sealed {
            return Err(Errno::EPERM);
        }
        let span = self.aligned_span(range)?;
        if self.has_no_pages() {
            // An empty mapping: nothing to guard, and no address to give the kernel.
            return Ok(Guard::ProtNone);
        }
        // The fallback protects the range alone.
        self.split_by_protection = true;
        self.mark_guarded();
        let installed = if self.huge_page.is_some() {
            // Huge-page memory refuses guard advice (VM_HUGETLB), and a refused install
            // counts as markers that may be present, which `unguard` could then never
            // remove: it gets PROT_NONE without asking.
            Err(Errno::EINVAL)
        } else {
            // SAFETY: `&mut self` means no slice is alive, and the flags above refuse new
            // ones.
            let installed = unsafe { sys::madvise(span.ptr(), span.len, Advice::GuardInstall) };
            self.note_guard_install(span.addr, installed);
            installed
        };
        match installed {
            Ok(()) => Ok(Guard::Madvise),
            Err(Errno::EINVAL) => {
                // SAFETY: as above.
                unsafe { sys::mprotect(span.ptr(), span.len, Prot::empty())? };
                Ok(Guard::ProtNone)
            }
            Err(e) => Err(e),
        }
    }

    /// Records what `MADV_GUARD_INSTALL` at `addr` may have left: markers, unless the
    /// install is known to have done nothing (the kernel does not know the advice, or `addr`
    /// is not page aligned: then it refused before touching anything). Any other failure
    /// may come after markers were installed in the VMAs before the refused one.
    pub(super) fn note_guard_install(&mut self, addr: usize, installed: Result<()>) {
        if installed.is_ok() || install_can_act(addr) {
            self.guard_markers = true;
        }
    }

    /// Removes guards from the whole mapping and sets its protection to `prot`. What the
    /// formerly guarded bytes hold depends on how they were guarded: after
    /// [`Guard::Madvise`] private anonymous pages read as zeros (installing the guard
    /// discarded them); after [`Guard::ProtNone`] they keep their contents. If guard
    /// markers may be present and the kernel does not remove them all, the error is
    /// returned and the mapping stays guarded.
    pub fn unguard(&mut self, prot: Prot) -> Result<()> {
        if self.guard_markers {
            let span = self.kernel_span();
            // SAFETY: removing guard markers only makes accesses possible again.
            unsafe { sys::madvise(span.ptr(), span.len, Advice::GuardRemove)? };
            self.guard_markers = false;
        }
        self.guarded = false;
        self.protect(.., prot)
    }

    /// Records that part of the mapping may fault: no slice is lent until [`unguard`].
    ///
    /// [`unguard`]: Mapping::unguard
    pub(super) fn mark_guarded(&mut self) {
        self.guarded = true;
        self.readable = false;
        self.writable = false;
    }
}

/// Whether `MADV_GUARD_INSTALL` at `addr` gets past the checks the kernel makes before
/// touching anything (the advice known, `addr` page aligned): asked with an empty range,
/// which then changes nothing. Asked of the install itself, not of `MADV_GUARD_REMOVE`: a
/// seccomp filter that refuses removal only (review round 4) made a part-way install look
/// like an unknown advice, and `unguard` lent the markers' pages.
fn install_can_act(addr: usize) -> bool {
    // SAFETY: an empty range: nothing is advised.
    unsafe { sys::madvise(addr as *mut _, 0, Advice::GuardInstall) }.is_ok()
}
