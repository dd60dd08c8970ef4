//! [`FreeLists`]: a small cache of freed blocks by size class, in front of one dlmalloc
//! instance, so that a block freed and another of a similar size allocated soon after (the
//! common case of a busy program) skip dlmalloc's binning, splitting and coalescing.
//!
//! The lists belong to a shard and are used only under its lock, like the dlmalloc instance
//! behind them; a block on a list is, for dlmalloc, still in use.

use core::ptr::null_mut;

/// Blocks of up to this many bytes are cached.
const MAX_CACHED: usize = 4096;
/// Size classes are `GRANULE` bytes apart.
const GRANULE: usize = 16;
/// A class holds blocks whose requests round up to the same request size (see
/// [`request`]): class 1 is requests of 1 to 8 bytes, class 2 of 9 to 24, and so on.
const CLASSES: usize = class_of(MAX_CACHED) + 1;
/// At most this many blocks per class, and this many bytes in all, wait on the lists: the
/// rest goes back to dlmalloc, so the cache holds at most `BUDGET` bytes that dlmalloc
/// could otherwise reuse for other sizes or give back to the kernel.
const DEPTH: u16 = 64;
const BUDGET: usize = 256 << 10;

/// The class of a request of `size` bytes (1 to [`MAX_CACHED`]).
#[inline]
const fn class_of(size: usize) -> usize {
    (size + 8).div_ceil(GRANULE)
}

/// What to ask dlmalloc for to serve any request of class `class`: the largest request of
/// the class. On 64-bit targets that is the largest request dlmalloc serves with the same
/// chunk as the smallest (its chunks carry one word of overhead and are 16-byte multiples),
/// so rounding up costs no memory there; elsewhere it costs at most a granule.
#[inline]
pub(super) const fn request(class: usize) -> usize {
    class * GRANULE - 8
}

/// A freed block's first word: the next block on its list.
struct Node {
    next: *mut Node,
}

/// The freed blocks of one size class.
#[derive(Clone, Copy)]
struct List {
    head: *mut Node,
    len: u16,
}

/// One singly linked list of freed blocks per size class.
pub(super) struct FreeLists {
    lists: [List; CLASSES],
    /// Bytes (by request size) waiting on all lists together.
    bytes: usize,
}

impl FreeLists {
    pub(super) const fn new() -> FreeLists {
        FreeLists {
            lists: [List {
                head: null_mut(),
                len: 0,
            }; CLASSES],
            bytes: 0,
        }
    }

    /// The class that serves requests of `size` bytes aligned to at most dlmalloc's
    /// alignment (two words), if it is cached.
    #[inline]
    pub(super) fn class(size: usize) -> Option<usize> {
        (size <= MAX_CACHED).then(|| class_of(size.max(1)))
    }

    /// A block of class `class` from its list, or null if the list is empty. It holds at
    /// least [`request`]`(class)` bytes and is aligned to two words.
    #[inline]
    pub(super) fn pop(&mut self, class: usize) -> *mut u8 {
        let Some(list) = self.lists.get_mut(class) else {
            return null_mut();
        };
        let block = list.head;
        if !block.is_null() {
            // SAFETY: a block on a list holds a `Node`, written by `push`.
            list.head = unsafe { (*block).next };
            list.len -= 1;
            self.bytes -= request(class);
        }
        block.cast()
    }

    /// Puts `block` on the list of class `class`; false (and nothing done) if that list or
    /// the whole cache is full, when the block is to go back to dlmalloc.
    ///
    /// # Safety
    /// `block` is a block in use of at least [`request`]`(class)` bytes, aligned to two words,
    /// that nothing else will use: its first word becomes the list's link.
    #[inline]
    pub(super) unsafe fn push(&mut self, class: usize, block: *mut u8) -> bool {
        let size = request(class);
        let Some(list) = self.lists.get_mut(class) else {
            return false;
        };
        if list.len >= DEPTH || self.bytes + size > BUDGET {
            return false;
        }
        let node = block.cast::<Node>();
        // SAFETY: the caller gives the block up; it is aligned and large enough for a
        // `Node` (every class's request is at least 8 bytes).
        unsafe { node.write(Node { next: list.head }) };
        list.head = node;
        list.len += 1;
        self.bytes += size;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_size_fits_its_class_request() {
        for size in 1..=MAX_CACHED {
            let class = FreeLists::class(size).unwrap();
            assert!(request(class) >= size);
            assert!(request(class) < size + GRANULE, "{size}");
            assert!(class < CLASSES);
        }
        assert_eq!(FreeLists::class(MAX_CACHED + 1), None);
        assert_eq!(FreeLists::class(0), FreeLists::class(1));
    }
}
