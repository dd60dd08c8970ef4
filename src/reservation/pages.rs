//! What the reservation knows of each of its pages: four bits a page, kept inline for small
//! reservations and in a private mapping of their own for larger ones.
//!
//! The table is the book-keeping that makes lending sound: a slice is given only over pages
//! whose state says they are committed and accessible, and every call that may take access
//! away lowers the state before it is made.

use core::ops::Range;

use crate::{Errno, MapOptions, Mapping, Prot, Result};

/// The state of one page of a reservation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(crate) enum Page {
    /// Reserved: `PROT_NONE`, no memory behind it. A fresh table reads as this (zero).
    Reserved = 0,
    /// No longer the reservation's: given to a mapping placed there, or lost when a placement
    /// failed and the reservation could not be restored. Never touched again.
    Given = 1,
    /// Committed (may hold memory) but not lendable: its protection has no read access, or
    /// is unknown after a call that failed part-way.
    Locked = 2,
    /// Read-write memory reset with `MADV_FREE`: the kernel may replace it with zeros at any
    /// time until it is written, so it is not lent until a commit pins it by writing.
    Lazy = 3,
    /// Committed read-only.
    Read = 4,
    /// Committed read-write.
    ReadWrite = 5,
}

impl Page {
    const fn from_bits(bits: u8) -> Page {
        match bits {
            0 => Page::Reserved,
            2 => Page::Locked,
            3 => Page::Lazy,
            4 => Page::Read,
            5 => Page::ReadWrite,
            // Only the values above are ever stored; anything else would be left alone.
            _ => Page::Given,
        }
    }

    /// The state a successful commit with `prot` gives.
    pub(crate) fn committed(prot: Prot) -> Page {
        match (prot.contains(Prot::READ), prot.contains(Prot::WRITE)) {
            (true, true) => Page::ReadWrite,
            (true, false) => Page::Read,
            _ => Page::Locked,
        }
    }

    /// Whether the page may hold memory (counts as committed).
    pub(crate) fn is_committed(self) -> bool {
        matches!(
            self,
            Page::Locked | Page::Lazy | Page::Read | Page::ReadWrite
        )
    }

    /// What is left of this state after a call that may set `prot` (before the call):
    /// access `prot` does not grant is taken away, and a page that may have been committed
    /// by it counts as committed but locked.
    pub(crate) fn lowered_by(self, prot: Prot) -> Page {
        match self {
            Page::Given => Page::Given,
            Page::ReadWrite if prot.contains(Prot::READ | Prot::WRITE) => Page::ReadWrite,
            Page::ReadWrite | Page::Read if prot.contains(Prot::READ) => Page::Read,
            _ => Page::Locked,
        }
    }
}

/// Pages whose state fits inline: 512 pages, 2 MiB of 4 KiB pages.
const INLINE_BYTES: usize = 256;

/// One state per page, two pages a byte (the low nibble holds the even page).
#[derive(Debug)]
pub(crate) struct PageTable {
    pages: usize,
    storage: Storage,
}

#[derive(Debug)]
enum Storage {
    Inline([u8; INLINE_BYTES]),
    /// A private mapping of its own (never lent, never shared): zero-filled, so every page
    /// starts reserved, and committed by the kernel only where it is written.
    Mapped(Mapping),
}

impl PageTable {
    /// A table of `pages` reserved pages.
    pub(crate) fn new(pages: usize) -> Result<PageTable> {
        let bytes = pages.div_ceil(2);
        let storage = if bytes <= INLINE_BYTES {
            Storage::Inline([0; INLINE_BYTES])
        } else {
            Storage::Mapped(MapOptions::new().len(bytes).no_reserve().map()?)
        };
        Ok(PageTable { pages, storage })
    }

    pub(crate) fn get(&self, page: usize) -> Page {
        let byte = self
            .bytes()
            .get(page / 2)
            .copied()
            .unwrap_or(Page::Given as u8);
        Page::from_bits((byte >> (4 * (page % 2))) & 0xf)
    }

    pub(crate) fn set(&mut self, page: usize, state: Page) {
        let shift = 4 * (page % 2);
        if let Some(byte) = self.bytes_mut().and_then(|bytes| bytes.get_mut(page / 2)) {
            *byte = (*byte & !(0xf << shift)) | ((state as u8) << shift);
        }
    }

    /// Sets every page of `pages` to `state`.
    pub(crate) fn fill(&mut self, pages: Range<usize>, state: Page) {
        for page in pages {
            self.set(page, state);
        }
    }

    /// Replaces each state `s` of `pages` with `change(s)`.
    pub(crate) fn update(&mut self, pages: Range<usize>, change: impl Fn(Page) -> Page) {
        for page in pages {
            let state = self.get(page);
            self.set(page, change(state));
        }
    }

    /// Whether every page of `pages` satisfies `test`.
    pub(crate) fn all(&self, pages: Range<usize>, test: impl Fn(Page) -> bool) -> bool {
        pages.into_iter().all(|page| test(self.get(page)))
    }

    /// How many pages of `pages` satisfy `test`.
    pub(crate) fn count(&self, pages: Range<usize>, test: impl Fn(Page) -> bool) -> usize {
        pages
            .into_iter()
            .filter(|&page| test(self.get(page)))
            .count()
    }

    /// The maximal runs of pages that satisfy `test`, in order, as `found(run)` calls.
    pub(crate) fn runs(&self, test: impl Fn(Page) -> bool, mut found: impl FnMut(Range<usize>)) {
        let mut start = None;
        for page in 0..self.pages {
            match (test(self.get(page)), start) {
                (true, None) => start = Some(page),
                (false, Some(first)) => {
                    found(first..page);
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(first) = start {
            found(first..self.pages);
        }
    }

    fn bytes(&self) -> &[u8] {
        match &self.storage {
            Storage::Inline(bytes) => bytes,
            // Private anonymous read-write memory that nothing but this table changes.
            Storage::Mapped(mapping) => mapping.as_slice().unwrap_or(&[]),
        }
    }

    fn bytes_mut(&mut self) -> Option<&mut [u8]> {
        match &mut self.storage {
            Storage::Inline(bytes) => Some(bytes),
            Storage::Mapped(mapping) => mapping.as_mut_slice().ok(),
        }
    }
}

/// `EINVAL` unless `test` holds for every page of `pages`.
pub(crate) fn require(
    table: &PageTable,
    pages: Range<usize>,
    test: impl Fn(Page) -> bool,
) -> Result<()> {
    if table.all(pages, test) {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}
