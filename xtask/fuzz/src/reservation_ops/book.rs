//! The book: what each page of the reservation is, by the documented rules, and so what
//! each call must answer.

use std::ops::Range;

use mman::{Errno, Prot, Result};

use crate::mapping_ops::checks::span;
use crate::mapping_ops::input::Bounds;

/// What the documentation says one page is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Page {
    Reserved,
    /// Committed; lent for reading, or also for writing, as the flags say.
    Committed {
        read: bool,
        write: bool,
    },
    /// Reset: still committed, but not lent until committed again.
    Lazy,
    /// Given to the mapping placed in this slot.
    Given(usize),
    /// Given to a placed mapping since dropped.
    Gone,
}

impl Page {
    /// Still the reservation's.
    pub(super) fn owned(self) -> bool {
        matches!(self, Page::Reserved | Page::Committed { .. } | Page::Lazy)
    }

    /// Counted by `committed()`.
    pub(super) fn committed(self) -> bool {
        matches!(self, Page::Committed { .. } | Page::Lazy)
    }

    pub(super) fn lendable(self, write: bool) -> bool {
        matches!(self, Page::Committed { read: true, write: w } if w || !write)
    }

    /// What a successful commit with `prot` makes of an owned page.
    pub(super) fn committed_with(prot: Prot) -> Page {
        let read = prot.contains(Prot::READ);
        Page::Committed {
            read,
            write: read && prot.contains(Prot::WRITE),
        }
    }

    /// What is left after a commit with `prot` that the kernel refused: reset pages were
    /// pinned (read-write again) first, access `prot` does not grant is taken away, and a
    /// page the call may have committed counts as committed.
    pub(super) fn lowered(self, prot: Prot) -> Page {
        let (read, write) = match self {
            Page::Committed { read, write } => (read, write),
            Page::Lazy => (true, true),
            _ => (false, false),
        };
        let read = read && prot.contains(Prot::READ);
        Page::Committed {
            read,
            write: write && read && prot.contains(Prot::WRITE),
        }
    }
}

/// The pages of a reservation of `pages.len()` pages.
pub(super) struct Book {
    pub(super) page: usize,
    pub(super) pages: Vec<Page>,
}

impl Book {
    pub(super) fn len(&self) -> usize {
        self.pages.len() * self.page
    }

    /// The pages of `bounds` for a call that changes them: `EINVAL` unless it lies inside,
    /// on page boundaries, and reaches no page given away.
    pub(super) fn owned(&self, bounds: Bounds) -> Result<Range<usize>> {
        let (start, end) = span(bounds, self.len()).ok_or(Errno::EINVAL)?;
        if !start.is_multiple_of(self.page) || !end.is_multiple_of(self.page) {
            return Err(Errno::EINVAL);
        }
        let pages = start / self.page..end / self.page;
        match self.pages[pages.clone()].iter().all(|p| p.owned()) {
            true => Ok(pages),
            false => Err(Errno::EINVAL),
        }
    }

    /// What `as_slice` (`as_mut_slice` if `write`) of `bounds` must answer: the bytes, or
    /// `EINVAL` outside, `EACCES` unless every page they touch is lendable.
    pub(super) fn lends(&self, bounds: Bounds, write: bool) -> Result<(usize, usize)> {
        let (start, end) = span(bounds, self.len()).ok_or(Errno::EINVAL)?;
        // An empty slice touches no page.
        let touched = match start == end {
            true => 0..0,
            false => start / self.page..end.div_ceil(self.page),
        };
        match self.pages[touched].iter().all(|p| p.lendable(write)) {
            true => Ok((start, end)),
            false => Err(Errno::EACCES),
        }
    }

    /// What `reset` of `bounds` must answer: `EINVAL` as for any change, and for pages
    /// committed other than read-write.
    pub(super) fn resets(&self, bounds: Bounds) -> Result<Range<usize>> {
        let pages = self.owned(bounds)?;
        let resettable = |p: &Page| {
            matches!(
                p,
                Page::Reserved
                    | Page::Lazy
                    | Page::Committed {
                        read: true,
                        write: true
                    }
            )
        };
        match self.pages[pages.clone()].iter().all(resettable) {
            true => Ok(pages),
            false => Err(Errno::EINVAL),
        }
    }

    /// The pages a placement of `len` bytes (`lead` more before them) at `offset` takes:
    /// `EINVAL` for a length of 0, an offset off a page boundary, pages outside or given
    /// away; `EBUSY` if one is committed.
    pub(super) fn places(&self, offset: usize, len: usize, lead: usize) -> Result<Range<usize>> {
        if len == 0 || !offset.is_multiple_of(self.page) {
            return Err(Errno::EINVAL);
        }
        let end = len
            .checked_add(lead)
            .and_then(|n| n.checked_next_multiple_of(self.page))
            .and_then(|n| n.checked_add(offset))
            .filter(|&end| end <= self.len())
            .ok_or(Errno::EINVAL)?;
        let pages = offset / self.page..end / self.page;
        let taken = &self.pages[pages.clone()];
        if !taken.iter().all(|p| p.owned()) {
            return Err(Errno::EINVAL);
        }
        match taken.iter().all(|&p| p == Page::Reserved) {
            true => Ok(pages),
            false => Err(Errno::EBUSY),
        }
    }

    /// What `committed()` must answer.
    pub(super) fn committed(&self) -> usize {
        self.pages.iter().filter(|p| p.committed()).count() * self.page
    }
}
