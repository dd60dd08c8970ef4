//! `mman::alloc::Malloc`'s documented behaviour where mutation testing (cargo-mutants over
//! `src/alloc`) found that no other test would notice a change: each test says which
//! mutants it kills. Each runs in a forked child of one thread with an allocator of its
//! own, so that no other test's blocks come between (a shard is picked by the stack
//! address of the calling thread, and its cache is shared by every thread that picks it).
#![cfg(feature = "dlmalloc")]

#[macro_use]
mod common;

use std::alloc::{GlobalAlloc, Layout};

use common::{page, perms};
use mman::alloc::dlmalloc::Allocator;
use mman::alloc::{Malloc, Segments};
use mman::{MapOptions, Prot};

/// Runs `check` in a forked child, which must exit normally.
fn in_child(check: impl FnOnce()) {
    assert_eq!(common::in_child_checked(check), common::ChildEnd::Exited(0));
}

/// `n` blocks of `layout` from `malloc`, in the order it gave them.
fn allocate(malloc: &Malloc, layout: Layout, n: usize) -> Vec<usize> {
    (0..n)
        .map(|_| {
            // SAFETY: the layouts used here have a non-zero size.
            let block = unsafe { malloc.alloc(layout) };
            assert!(!block.is_null(), "{layout:?}");
            block as usize
        })
        .collect()
}

/// Frees `blocks` of `layout`, in order.
fn free(malloc: &Malloc, layout: Layout, blocks: &[usize]) {
    for &block in blocks {
        // SAFETY: each block came from `malloc` with this layout, and is freed once.
        unsafe { malloc.dealloc(block as *mut u8, layout) };
    }
}

#[test]
fn freed_small_blocks_serve_their_class_again_last_in_first_out() {
    // The cache of freed blocks by size class (up to 4 KiB, at most 64 blocks a class and
    // 256 KiB a shard): a block freed serves the next request of its class, the last freed
    // first. Without it, dlmalloc merges the freed neighbours and hands them out again in
    // address order. Kills: the budget made 0 (`256 << 10` made `>>`), pop made to find
    // nothing, pop's count of blocks or bytes growing instead of shrinking (the list or the
    // budget then fills up within a few rounds), and dlmalloc's alignment made 10 or 0
    // (blocks aligned to two words then bypass the cache).
    in_child(|| {
        let malloc = Malloc::new();
        // dlmalloc's alignment, two words, is the most the cache serves (16 bytes on 64-bit
        // targets, 8 on 32-bit ones, where blocks aligned to 16 bypass it).
        let two_words = 2 * std::mem::size_of::<usize>();
        for (size, align) in [(24, 8), (4000, two_words), (100, 1)] {
            let layout = Layout::from_size_align(size, align).unwrap();
            for round in 0..20 {
                let first = allocate(&malloc, layout, 8);
                free(&malloc, layout, &first);
                let again = allocate(&malloc, layout, 8);
                let reversed: Vec<usize> = first.iter().rev().copied().collect();
                assert_eq!(again, reversed, "{layout:?}, round {round}");
                free(&malloc, layout, &again);
            }
        }
    });
}

#[test]
fn small_blocks_share_pages_and_large_ones_have_their_own() {
    // Blocks under 256 KiB come from dlmalloc, next to each other; from 256 KiB on each is
    // a mapping of its own. Kills the threshold made 0 (`256 << 10` made `>>`), which made
    // every block a mapping.
    in_child(|| {
        let malloc = Malloc::new();
        let small = Layout::from_size_align(100, 8).unwrap();
        let blocks = allocate(&malloc, small, 2);
        assert!(
            blocks[0].abs_diff(blocks[1]) < page(),
            "two 100-byte blocks a page or more apart: {blocks:x?}"
        );
        let large = Layout::from_size_align(256 << 10, 8).unwrap();
        let big = allocate(&malloc, large, 1)[0];
        assert_eq!(big % page(), 0, "a large block starts a mapping");
        assert_eq!(common::perms(big as *const _), "rw-p");
        free(&malloc, large, &[big]);
        assert!(!common::is_mapped(big as *const _), "given back when freed");
        // Aligned to up to 4 KiB, a small block is dlmalloc's: in the shard's own address
        // space (4 GiB, 64 MiB on 32-bit targets, aligned to its size), with the other
        // small blocks; aligned to more, a mapping of its own, outside every shard. Kills
        // `align > 4096` made `==` (and `<`, and is_large made always true).
        let shard = if cfg!(target_pointer_width = "64") {
            1usize << 32
        } else {
            64 << 20
        };
        let region = |block: usize| block & !(shard - 1);
        let page_aligned = Layout::from_size_align(100, 4096).unwrap();
        let in_shard = allocate(&malloc, page_aligned, 1)[0];
        assert_eq!(in_shard % 4096, 0);
        assert_eq!(
            region(in_shard),
            region(blocks[0]),
            "{in_shard:x} {blocks:x?}"
        );
        let over_aligned = Layout::from_size_align(100, 8192).unwrap();
        let own = allocate(&malloc, over_aligned, 1)[0];
        assert_eq!(own % 8192, 0);
        assert_ne!(region(own), region(blocks[0]), "{own:x} {blocks:x?}");
        free(&malloc, over_aligned, &[own]);
        free(&malloc, page_aligned, &[in_shard]);
        free(&malloc, small, &blocks);
    });
}

#[test]
fn segments_hand_out_exactly_their_space_and_take_a_freed_last_segment_back() {
    // Kills alloc's `!reserved || size > end - next` made `&&`, `==`, `>=` and
    // `end + next`: the space fits exactly, and nothing past it is handed out (the page
    // after it is mapped here, so that a mutant's mprotect there would succeed); and
    // `free` made to answer false (the segment stays dlmalloc's, never handed out again),
    // and the drop made empty. Also page_size made 0 or 1: dlmalloc 0.2.14 reads it only
    // to size the remap of a chunk it mapped itself, which it never does through Segments
    // (remap always refuses), so only asking it shows the answer.
    in_child(|| {
        let p = page();
        // SAFETY: no Dlmalloc uses these segments; the test gives back only memory it no
        // longer uses.
        let segments = unsafe { Segments::new(4 * p) };
        // SAFETY: sysconf has no preconditions.
        let kernels = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        assert_eq!(
            segments.page_size() as libc::c_long,
            kernels,
            "glibc's page size"
        );
        let (first, len, _) = segments.alloc(p);
        assert!(!first.is_null());
        assert_eq!(len, p);
        let end = first as usize + 4 * p;
        // The page after the space, mapped read-only here unless something is there
        // already (then it is mapped all the same).
        let after = MapOptions::new().len(p).prot(Prot::READ).at(end).map();
        let (rest, len, _) = segments.alloc(3 * p);
        assert_eq!(
            (rest as usize, len),
            (first as usize + p, 3 * p),
            "the rest fits"
        );
        let (past, len, _) = segments.alloc(p);
        assert_eq!((past, len), (std::ptr::null_mut(), 0), "nothing is left");
        if after.is_ok() {
            assert_eq!(
                perms(end as *const _),
                "r--p",
                "the page after is untouched"
            );
        }
        // The last segment handed out, freed: given back, and handed out again next.
        assert!(segments.free(rest, 3 * p));
        assert_eq!(perms(rest.cast()), "---p");
        let (again, len, _) = segments.alloc(2 * p);
        assert_eq!((again, len), (rest, 2 * p));
        assert_eq!(perms(again.cast()), "rw-p");
        // Dropped, the segments unmap their whole space (kills the drop made empty).
        drop(segments);
        assert!(!common::is_mapped(first.cast()), "the space is given back");
        assert!(!common::is_mapped(again.cast()));
    });
}

#[test]
fn the_cache_holds_at_most_its_byte_budget_after_blocks_come_and_go() {
    // The cache's byte budget (256 KiB a shard) is counted down as blocks leave it as well
    // as up as they arrive: 64 blocks of 4000 bytes (4008 each, the most one class holds)
    // and two of 2000 (2008 each) fill it to 260,528 bytes, so a third 2000-byte block goes
    // back to dlmalloc, and the next request of its class gets the second, the last cached.
    // One 4000-byte block taken and given back on the way must leave the count where it was.
    // Kills pop's `bytes -= request` made `/=` (the count fell to 64 at that pop, and the
    // third block was cached and served first).
    in_child(|| {
        let malloc = Malloc::new();
        let two_words = 2 * std::mem::size_of::<usize>();
        let big = Layout::from_size_align(4000, two_words).unwrap();
        let small = Layout::from_size_align(2000, two_words).unwrap();
        let bigs = allocate(&malloc, big, 64);
        let smalls = allocate(&malloc, small, 3);
        free(&malloc, big, &bigs);
        let again = allocate(&malloc, big, 1);
        assert_eq!(
            again,
            [bigs[63]],
            "the last 4000-byte block freed comes first"
        );
        free(&malloc, big, &again);
        free(&malloc, small, &smalls);
        let next = allocate(&malloc, small, 1);
        assert_eq!(
            next,
            [smalls[1]],
            "the third 2000-byte block is past the budget: {smalls:x?}"
        );
        free(&malloc, small, &next);
    });
}

#[test]
fn freeing_the_top_of_a_heap_gives_its_pages_back() {
    // dlmalloc trims its top once more than 2 MiB of it is free, through Segments'
    // free_part: the pages are discarded and made inaccessible, as /proc/self/maps shows.
    // 40 blocks of 200 KiB (small blocks: dlmalloc's, in the shard's segments) freed leave
    // 8000 KiB free at the top. Kills can_release_part made false (dlmalloc then keeps
    // every page, read-write).
    in_child(|| {
        let malloc = Malloc::new();
        let layout = Layout::from_size_align(200 << 10, 8).unwrap();
        let blocks = allocate(&malloc, layout, 40);
        let (first, last) = (blocks[0], blocks[39]);
        assert_eq!(perms(last as *const _), "rw-p");
        free(&malloc, layout, &blocks);
        for block in [blocks[20], last] {
            assert_eq!(
                perms(block as *const _),
                "---p",
                "{block:x}, from {first:x}"
            );
        }
        // The space given back is handed out again.
        let again = allocate(&malloc, layout, 40);
        assert_eq!(again, blocks);
        assert_eq!(perms(last as *const _), "rw-p");
        free(&malloc, layout, &again);
    });
}
