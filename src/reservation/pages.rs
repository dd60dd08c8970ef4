//! What the reservation knows of each of its pages, one bit a page in each of five planes:
//! given away, committed, readable, writable, lazily freed. Kept inline for reservations
//! of up to 512 pages, in a private mapping of their own beyond.
//!
//! The planes are the book-keeping that makes lending sound: a slice is given only over
//! pages whose bits say they are committed and accessible, and every call that may take
//! access away clears the bits before it is made. A page's state is one of:
//!
//! | state | given | committed | readable | writable | lazy |
//! |---|---|---|---|---|---|
//! | reserved: `PROT_NONE`, no memory | | | | | |
//! | given to a placed mapping, or lost: never touched again | 1 | | | | |
//! | committed, not lendable (no read access, or unknown after a failure) | | 1 | | | |
//! | read-write memory reset with `MADV_FREE` (zeros at any time until written) | | 1 | | | 1 |
//! | committed read-only | | 1 | 1 | | |
//! | committed read-write | | 1 | 1 | 1 | |
//!
//! Range operations work a 64-page word at a time, so book-keeping costs little next to
//! the system calls it accompanies.

use core::ops::Range;

use crate::{Errno, MapOptions, Mapping, Result};

/// One bit per page.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Plane {
    /// No longer the reservation's: given to a mapping placed there, or lost when a
    /// placement failed and the pages could not be reserved again.
    Given = 0,
    /// May hold memory.
    Committed = 1,
    /// Known readable.
    Readable = 2,
    /// Known writable.
    Writable = 3,
    /// Reset with `MADV_FREE`: not lent until a commit has written it.
    Lazy = 4,
}

const PLANES: usize = 5;
/// Words per plane kept inline: 512 pages, 2 MiB of 4 KiB pages.
const INLINE_WORDS: usize = 8;

/// The five planes, `words` 64-bit words each, one after the other.
#[derive(Debug)]
pub(crate) struct PageTable {
    pages: usize,
    words: usize,
    storage: Storage,
}

// The inline table is the point: a reservation of up to 512 pages needs no mapping of its
// own (two fewer system calls per reservation); the enum is no larger than that table.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Storage {
    Inline([u64; PLANES * INLINE_WORDS]),
    /// A private read-write mapping of its own (never lent, never shared): zero-filled, so
    /// every page starts reserved, and given memory by the kernel only where written.
    Mapped(Mapping),
}

impl PageTable {
    /// A table of `pages` reserved pages.
    pub(crate) fn new(pages: usize) -> Result<PageTable> {
        let words = pages.div_ceil(64);
        let storage = if words <= INLINE_WORDS {
            Storage::Inline([0; PLANES * INLINE_WORDS])
        } else {
            let bytes = words.checked_mul(PLANES * 8).ok_or(Errno::ENOMEM)?;
            Storage::Mapped(MapOptions::new().len(bytes).no_reserve().map()?)
        };
        Ok(PageTable {
            pages,
            words,
            storage,
        })
    }

    /// Whether every page of `pages` has its bit in `plane`.
    pub(crate) fn all(&self, plane: Plane, pages: Range<usize>) -> bool {
        let words = self.plane(plane);
        masks(pages).all(|(word, mask)| bits(words, plane, word) & mask == mask)
    }

    /// Whether no page of `pages` has its bit in `plane`.
    pub(crate) fn none(&self, plane: Plane, pages: Range<usize>) -> bool {
        let words = self.plane(plane);
        masks(pages).all(|(word, mask)| bits(words, plane, word) & mask == 0)
    }

    /// How many pages of `pages` have their bit in `plane`.
    pub(crate) fn count(&self, plane: Plane, pages: Range<usize>) -> usize {
        let words = self.plane(plane);
        masks(pages)
            .map(|(word, mask)| (bits(words, plane, word) & mask).count_ones() as usize)
            .sum()
    }

    /// Whether `bad(given, committed, readable, writable, lazy)`, computed word by word,
    /// is clear for every page of `pages`.
    pub(crate) fn none_where(
        &self,
        pages: Range<usize>,
        bad: impl Fn([u64; PLANES]) -> u64,
    ) -> bool {
        masks(pages).all(|(word, mask)| {
            let planes = [
                Plane::Given,
                Plane::Committed,
                Plane::Readable,
                Plane::Writable,
                Plane::Lazy,
            ]
            .map(|plane| bits(self.plane(plane), plane, word));
            bad(planes) & mask == 0
        })
    }

    /// Sets the bit of every page of `pages` in `plane`.
    pub(crate) fn set(&mut self, plane: Plane, pages: Range<usize>) {
        let words = self.plane_mut(plane);
        for (word, mask) in masks(pages) {
            if let Some(bits) = words.get_mut(word) {
                *bits |= mask;
            }
        }
    }

    /// Clears the bit of every page of `pages` in `plane`.
    pub(crate) fn clear(&mut self, plane: Plane, pages: Range<usize>) {
        let words = self.plane_mut(plane);
        for (word, mask) in masks(pages) {
            if let Some(bits) = words.get_mut(word) {
                *bits &= !mask;
            }
        }
    }

    /// Sets the bit in `to` of every page of `pages` whose bit in `from` is set.
    pub(crate) fn copy_set(&mut self, from: Plane, to: Plane, pages: Range<usize>) {
        for (word, mask) in masks(pages) {
            let set = bits(self.plane(from), from, word) & mask;
            if let Some(bits) = self.plane_mut(to).get_mut(word) {
                *bits |= set;
            }
        }
    }

    /// Calls `found` with each page of `pages` whose bit in `plane` is set.
    pub(crate) fn each(&self, plane: Plane, pages: Range<usize>, mut found: impl FnMut(usize)) {
        let words = self.plane(plane);
        for (word, mask) in masks(pages) {
            let mut set = bits(words, plane, word) & mask;
            while set != 0 {
                found(word * 64 + set.trailing_zeros() as usize);
                set &= set - 1;
            }
        }
    }

    /// Calls `found` with each maximal run of pages whose bit in `plane` is clear.
    pub(crate) fn clear_runs(&self, plane: Plane, found: impl FnMut(Range<usize>)) {
        self.runs(plane, false, 0..self.pages, found);
    }

    /// Calls `found` with each maximal run of pages of `pages` whose bit in `plane` is
    /// `set`.
    pub(crate) fn runs(
        &self,
        plane: Plane,
        set: bool,
        pages: Range<usize>,
        mut found: impl FnMut(Range<usize>),
    ) {
        let end = pages.end.min(self.pages);
        let mut page = pages.start;
        while page < end {
            let start = self.next(plane, page, set);
            if start >= end {
                break;
            }
            let stop = self.next(plane, start, !set).min(end);
            found(start..stop);
            page = stop;
        }
    }

    /// The first page from `from` on whose bit in `plane` is `set`, or the page count.
    fn next(&self, plane: Plane, from: usize, set: bool) -> usize {
        let words = self.plane(plane);
        let wanted = |word| match set {
            true => bits(words, plane, word),
            false => !bits(words, plane, word),
        };
        let mut word = from / 64;
        let mut bits = wanted(word) & (u64::MAX << (from % 64));
        while bits == 0 {
            word += 1;
            if word >= self.words {
                return self.pages;
            }
            bits = wanted(word);
        }
        (word * 64 + bits.trailing_zeros() as usize).min(self.pages)
    }

    /// The words of `plane` (empty past the storage, which no caller reaches).
    fn plane(&self, plane: Plane) -> &[u64] {
        let start = (plane as usize).wrapping_mul(self.words);
        self.storage()
            .get(start..start.wrapping_add(self.words))
            .unwrap_or(&[])
    }

    fn plane_mut(&mut self, plane: Plane) -> &mut [u64] {
        let (start, words) = ((plane as usize).wrapping_mul(self.words), self.words);
        self.storage_mut()
            .and_then(|storage| storage.get_mut(start..start.wrapping_add(words)))
            .unwrap_or(&mut [])
    }

    fn storage(&self) -> &[u64] {
        match &self.storage {
            Storage::Inline(words) => words,
            Storage::Mapped(mapping) => match mapping.as_slice() {
                // SAFETY: the mapping is page aligned (so aligned for u64), private, read and
                // written only through this table, and `bytes.len() / 8` words long.
                Ok(bytes) => unsafe {
                    core::slice::from_raw_parts(bytes.as_ptr().cast::<u64>(), bytes.len() / 8)
                },
                Err(_) => &[],
            },
        }
    }

    fn storage_mut(&mut self) -> Option<&mut [u64]> {
        match &mut self.storage {
            Storage::Inline(words) => Some(words),
            Storage::Mapped(mapping) => mapping.as_mut_slice().ok().map(|bytes| {
                // SAFETY: as in `storage`, and the borrow of the mapping is unique.
                unsafe {
                    core::slice::from_raw_parts_mut(
                        bytes.as_mut_ptr().cast::<u64>(),
                        bytes.len() / 8,
                    )
                }
            }),
        }
    }
}

/// Word `word` of a plane's `words`. Past them (which no caller reaches) a page reads as
/// given away in that plane and as nothing in the others: never lent, never touched.
fn bits(words: &[u64], plane: Plane, word: usize) -> u64 {
    let outside = match plane {
        Plane::Given => u64::MAX,
        _ => 0,
    };
    words.get(word).copied().unwrap_or(outside)
}

/// The words `pages` touches, each with the mask of its bits inside `pages`: all ones but
/// in the first and the last word.
fn masks(pages: Range<usize>) -> impl Iterator<Item = (usize, u64)> {
    let (start, end) = (pages.start, pages.end.max(pages.start));
    let (first, last) = (start / 64, end.div_ceil(64));
    let head = u64::MAX << (start % 64);
    let tail = match end % 64 {
        0 => u64::MAX,
        used => u64::MAX >> (64 - used),
    };
    (first..last).map(move |word| {
        let mut mask = u64::MAX;
        if word == first {
            mask &= head;
        }
        if word + 1 == last {
            mask &= tail;
        }
        (word, mask)
    })
}

/// `EINVAL` unless every page of `pages` still belongs to the reservation.
pub(crate) fn require_owned(table: &PageTable, pages: Range<usize>) -> Result<()> {
    if table.none(Plane::Given, pages) {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    #[test]
    fn range_operations_touch_exactly_their_pages() {
        for pages in [1, 63, 64, 65, 511, 512, 513, 5000] {
            let mut table = PageTable::new(pages).unwrap();
            let ranges = [0..0, 0..1, 3..70, 60..pages, 0..pages, pages - 1..pages];
            for range in ranges.iter().filter(|r| r.start <= r.end && r.end <= pages) {
                table.set(Plane::Committed, range.clone());
                assert_eq!(table.count(Plane::Committed, 0..pages), range.len());
                assert!(table.all(Plane::Committed, range.clone()));
                let mut seen = Vec::new();
                table.each(Plane::Committed, 0..pages, |page| seen.push(page));
                assert_eq!(seen, range.clone().collect::<Vec<_>>());
                let mut runs = Vec::new();
                table.clear_runs(Plane::Committed, |run| runs.push(run));
                let expected: Vec<Range<usize>> = [0..range.start, range.end..pages]
                    .into_iter()
                    .filter(|r| !r.is_empty())
                    .collect();
                if range.is_empty() {
                    assert_eq!(
                        runs,
                        std::vec![Range {
                            start: 0,
                            end: pages
                        }]
                    );
                } else {
                    assert_eq!(runs, expected);
                }
                table.clear(Plane::Committed, 0..pages);
                assert!(table.none(Plane::Committed, 0..pages));
            }
        }
    }
}
