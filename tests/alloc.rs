//! `mman::alloc`: the page allocator and (feature `dlmalloc`) the general-purpose allocator,
//! called through `GlobalAlloc` and checked against what the kernel reports: where blocks
//! lie and how long they are (`/proc/self/maps`), which pages are resident (`mincore`,
//! smaps `Rss`), and what a child under `RLIMIT_AS` is left holding after failures.
#![cfg(feature = "alloc")]

#[macro_use]
mod common;

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use common::*;
use mman::alloc::PageAllocator;
use mman::{Errno, MapOptions, Prot};

const MIB: usize = 1 << 20;
const GIB: usize = 1 << 30;
/// The largest alignment asked for: 1 GiB, or 64 MiB in a 32-bit address space (a block
/// aligned to 1 GiB needs a free 2 GiB; qemu-i386's largest gap is under 1 GiB).
const LARGEST_ALIGN: usize = if usize::BITS == 64 { GIB } else { 64 * MIB };

fn layout(size: usize, align: usize) -> Layout {
    Layout::from_size_align(size, align).expect("layout")
}

/// The `/proc/self/maps` entry of the block at `ptr`, which must start there.
fn block_entry(ptr: *mut u8) -> MapsEntry {
    let entry = maps_entry(ptr.cast()).unwrap_or_else(|| panic!("{ptr:p} is not mapped"));
    assert_eq!(entry.perms, "rw-p", "block at {ptr:p}");
    entry
}

/// Fills every 97th byte of `len` at `ptr` with a pattern that depends on `seed` and the
/// offset.
fn fill(ptr: *mut u8, len: usize, seed: u8) {
    for i in (0..len).step_by(97) {
        write_byte(unsafe { ptr.add(i) }, seed.wrapping_add(i as u8));
    }
}

/// Checks the pattern [`fill`] wrote, over the first `len` bytes.
fn check(ptr: *const u8, len: usize, seed: u8) {
    for i in (0..len).step_by(97) {
        assert_eq!(
            read_byte(unsafe { ptr.add(i) }),
            seed.wrapping_add(i as u8),
            "byte {i} of the block at {ptr:p}"
        );
    }
}

/// Resident pages of `[ptr, ptr + len)`, from `mincore`.
fn resident_pages(ptr: *mut u8, len: usize) -> usize {
    resident(ptr.cast(), len).into_iter().filter(|&r| r).count()
}

#[test]
fn page_blocks_are_aligned_up_to_1_gib_and_unmapped_when_freed() {
    // In a child of one thread: nothing else maps into what the blocks give back.
    in_child_ok(|| {
        let mut align = 8;
        while align <= LARGEST_ALIGN {
            let size = 3 * page() + 5;
            let l = layout(size, align);
            let ptr = unsafe { PageAllocator.alloc(l) };
            assert!(!ptr.is_null(), "alloc of {size} bytes aligned to {align}");
            assert_eq!(ptr as usize % align.max(page()), 0, "alignment {align}");
            block_entry(ptr);
            fill(ptr, size, align.trailing_zeros() as u8);
            check(ptr, size, align.trailing_zeros() as u8);
            unsafe { PageAllocator.dealloc(ptr, l) };
            assert!(!is_mapped(ptr.cast()), "block at {ptr:p} still mapped");
            align *= 8;
        }
    });
}

#[test]
fn over_aligned_blocks_leave_no_padding_mapped() {
    in_child_ok(|| {
        // Two lists at once first, as `before` and the final `maps()` will be: the heap
        // grows (malloc makes reserved arena pages read-write) for the lists now, not
        // between the two (qemu-user's maps, never merged, run to a thousand entries).
        drop((maps(), maps()));
        // And the thread's arena grown beforehand, kept (under qemu-user the lists above
        // were not enough: the arena still grew between the two).
        quiet_allocator();
        let before = maps();
        let l = layout(page(), LARGEST_ALIGN);
        let ptr = unsafe { PageAllocator.alloc(l) };
        assert!(!ptr.is_null());
        assert_eq!(ptr as usize % LARGEST_ALIGN, 0);
        let added: Vec<_> = maps().into_iter().filter(|e| !before.contains(e)).collect();
        let mapped: usize = added.iter().map(|e| e.end - e.start).sum();
        // The block's page, possibly merged with a neighbour that changed: never the
        // alignment's padding.
        assert!(
            mapped < LARGEST_ALIGN / 16,
            "after a page aligned to {LARGEST_ALIGN:#x}: {added:#x?}"
        );
        unsafe { PageAllocator.dealloc(ptr, l) };
        assert_eq!(maps(), before, "everything given back");
    });
}

#[test]
fn zero_size_blocks_are_a_page_each() {
    // In a child of one thread: nothing else maps into what the blocks give back.
    in_child_ok(|| {
        for align in [1, 16, page(), 2 * MIB] {
            let l = layout(0, align);
            let a = unsafe { PageAllocator.alloc(l) };
            let b = unsafe { PageAllocator.alloc(l) };
            assert!(!a.is_null() && !b.is_null());
            assert_ne!(a, b, "two zero-size blocks are distinct");
            assert_eq!(a as usize % align.max(page()), 0);
            write_byte(a, 1);
            unsafe {
                PageAllocator.dealloc(a, l);
                PageAllocator.dealloc(b, l);
            }
            assert!(!is_mapped(a.cast()));
        }
    });
}

#[test]
fn realloc_shrinks_in_place_and_grows_in_place_into_free_pages() {
    // A child of one thread: nothing else maps into the pages the shrink frees.
    in_child_ok(|| {
        let p = page();
        let l = layout(8 * p, 8);
        let ptr = unsafe { PageAllocator.alloc(l) };
        fill(ptr, 8 * p, 3);
        let shrunk = unsafe { PageAllocator.realloc(ptr, l, 2 * p) };
        assert_eq!(shrunk, ptr, "shrinks in place");
        assert!(
            !is_mapped(unsafe { ptr.add(2 * p) }.cast()),
            "tail unmapped"
        );
        check(ptr, 2 * p, 3);
        let grown = unsafe { PageAllocator.realloc(ptr, layout(2 * p, 8), 8 * p) };
        if grown != ptr && qemu_user_reserves_the_address_space() {
            // The host's mremap finds the freed pages mapped (qemu's PROT_NONE reservation).
            skip!("qemu-user's reservation backs a 32-bit program's holes: mremap cannot grow in place");
        }
        assert_eq!(grown, ptr, "grows in place into the pages it freed");
        check(ptr, 2 * p, 3);
        assert_eq!(
            read_byte(unsafe { ptr.add(8 * p - 1) }),
            0,
            "new pages are zero"
        );
        // Within the same pages: nothing to do.
        assert_eq!(
            unsafe { PageAllocator.realloc(ptr, layout(8 * p, 8), 8 * p - 1) },
            ptr
        );
        unsafe { PageAllocator.dealloc(ptr, layout(8 * p - 1, 8)) };
    });
}

#[test]
fn realloc_moves_pages_not_bytes_and_keeps_the_alignment() {
    // In a child of one thread: nothing else maps into what the blocks give back.
    in_child_ok(|| {
        // With transparent huge pages always on (Debian's riscv64 kernel), one touched page
        // would make its whole 2 MiB resident, copy or not: off for this child.
        // (qemu-user refuses this prctl, -1: it has no huge pages to turn off either.)
        // SAFETY: a prctl that takes no pointer.
        let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
        let p = page();
        for align in [8, 2 * MIB] {
            let (size, new_size) = (16 * MIB, 64 * MIB);
            let l = layout(size, align);
            let ptr = unsafe { PageAllocator.alloc(l) };
            assert!(!ptr.is_null());
            // A neighbour right above the block: it cannot grow in place.
            let above = ptr as usize + size;
            let neighbour = MapOptions::new().prot(Prot::READ).len(p).at(above).map();
            match &neighbour {
                Ok(_) => assert!(is_mapped(above as *const c_void)),
                // Taken already, so no room either: qemu-user answers so for pages it keeps
                // for itself, which its synthesized maps do not show.
                Err(Errno::EEXIST) => {}
                Err(e) => panic!("neighbour: {e:?}"),
            }
            // Touch one page in four: a copy would make every page of the new block resident.
            for i in (0..size).step_by(4 * p) {
                write_byte(unsafe { ptr.add(i) }, (i / p) as u8 | 1);
            }
            let moved = unsafe { PageAllocator.realloc(ptr, l, new_size) };
            assert!(!moved.is_null());
            assert_ne!(moved, ptr, "moved");
            assert_eq!(
                moved as usize % align.max(p),
                0,
                "aligned to {align} after the move"
            );
            // Before any read: reading an untouched page maps the zero page, resident too.
            let resident = resident_pages(moved, new_size);
            assert!(
                resident <= size / (4 * p) + 1,
                "{resident} pages resident after the move: bytes were copied"
            );
            for i in (0..size).step_by(p) {
                let want = if i % (4 * p) == 0 {
                    (i / p) as u8 | 1
                } else {
                    0
                };
                assert_eq!(read_byte(unsafe { moved.add(i) }), want, "page {}", i / p);
            }
            assert_eq!(block_entry(moved).end - moved as usize, new_size);
            unsafe { PageAllocator.dealloc(moved, layout(new_size, align)) };
            assert!(!is_mapped(moved.cast()));
            drop(neighbour);
        }
    });
}

#[test]
fn alloc_zeroed_writes_nothing() {
    let _serial = serial();
    let len = 16 * MIB;
    let l = layout(len, 2 * MIB);
    let ptr = unsafe { PageAllocator.alloc_zeroed(l) };
    assert!(!ptr.is_null());
    assert_eq!(resident_pages(ptr, len), 0, "no page touched");
    if smaps_is_real() {
        let rss = smaps_field(ptr.cast(), "Rss").expect("Rss");
        assert_eq!(rss, "0 kB", "Rss of a fresh zeroed block");
    }
    for i in (0..len).step_by(page()) {
        assert_eq!(read_byte(unsafe { ptr.add(i) }), 0);
    }
    unsafe { PageAllocator.dealloc(ptr, l) };
}

#[test]
fn blocks_never_lie_in_the_stacks_reach() {
    let _serial = serial();
    // The stack's top: the highest address of the initial stack ([stack] in maps).
    let Some(stack) = maps().into_iter().find(|e| e.path == "[stack]") else {
        skip!("no [stack] entry in /proc/self/maps");
    };
    let mut blocks = Vec::new();
    for _ in 0..64 {
        let l = layout(MIB, 8);
        let ptr = unsafe { PageAllocator.alloc(l) };
        assert!(!ptr.is_null());
        blocks.push(ptr);
    }
    let above = blocks.iter().any(|&ptr| ptr as usize >= stack.end);
    for &ptr in &blocks {
        unsafe { PageAllocator.dealloc(ptr, layout(MIB, 8)) };
    }
    if above && is_qemu_user() {
        skip!(
            "qemu-user placed a block above [stack]: its own allocator places guest \
             mappings, not the kernel's top-down one below the stack"
        );
    }
    for ptr in blocks {
        assert!(
            (ptr as usize) < stack.start,
            "block at {ptr:p} above the stack's mapping"
        );
    }
}

#[test]
fn out_of_address_space_is_null_and_leaks_nothing() {
    if is_qemu_user() {
        skip!("qemu-user does not apply RLIMIT_AS to the emulated process");
    }
    in_child_ok(|| {
        quiet_allocator();
        let small = layout(4 * page(), 8);
        let kept = unsafe { PageAllocator.alloc(small) };
        fill(kept, 4 * page(), 9);
        let before = Held::now();
        let old = set_soft_limit(libc::RLIMIT_AS, before.vm_size_kb * 1024 + 32 * MIB as u64);
        for _ in 0..50 {
            assert!(unsafe { PageAllocator.alloc(layout(GIB, 8)) }.is_null());
            assert!(unsafe { PageAllocator.alloc_zeroed(layout(page(), GIB)) }.is_null());
            assert!(unsafe { PageAllocator.realloc(kept, small, GIB) }.is_null());
        }
        // Fill the limit with small blocks, then give them back.
        let mut blocks = Vec::with_capacity(1024);
        loop {
            let ptr = unsafe { PageAllocator.alloc(layout(MIB, 8)) };
            if ptr.is_null() {
                break;
            }
            blocks.push(ptr);
        }
        assert!(
            !blocks.is_empty() && blocks.len() < 64,
            "{} blocks",
            blocks.len()
        );
        for ptr in blocks {
            unsafe { PageAllocator.dealloc(ptr, layout(MIB, 8)) };
        }
        restore_limit(libc::RLIMIT_AS, old);
        check(kept, 4 * page(), 9);
        let differences = Held::now().differences_from(&before);
        assert!(differences.is_empty(), "leaked: {differences:#?}");
        unsafe { PageAllocator.dealloc(kept, small) };
    });
}

#[test]
fn threads_allocate_grow_and_free_their_own_blocks() {
    let threads: Vec<_> = (0..4u8)
        .map(|t| {
            std::thread::spawn(move || {
                for round in 0..50u8 {
                    let seed = t.wrapping_mul(31).wrapping_add(round);
                    let mut size = page() + usize::from(round) * 100;
                    let ptr = unsafe { PageAllocator.alloc(layout(size, 64)) };
                    assert!(!ptr.is_null());
                    fill(ptr, size, seed);
                    let mut ptr = ptr;
                    for _ in 0..4 {
                        let new_size = size * 3;
                        ptr = unsafe { PageAllocator.realloc(ptr, layout(size, 64), new_size) };
                        assert!(!ptr.is_null());
                        check(ptr, size, seed);
                        fill(ptr, new_size, seed);
                        size = new_size;
                    }
                    unsafe { PageAllocator.dealloc(ptr, layout(size, 64)) };
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("thread");
    }
}

#[test]
fn impossible_sizes_are_null() {
    // isize::MAX - 7, 2^62 and 2^47 bytes exceed any 64-bit address space. A 32-bit one (4
    // GiB under qemu-i386 and an x86_64 kernel's ia32 layer) may hold isize::MAX - 7 bytes:
    // there the child may use only 256 MiB more than it has.
    if usize::BITS == 32 && is_qemu_user() {
        skip!("qemu-user does not apply RLIMIT_AS, and a 32-bit program's 4 GiB there hold isize::MAX bytes");
    }
    in_child_ok(|| {
        if usize::BITS == 32 {
            let used = Held::now().vm_size_kb * 1024;
            set_soft_limit(libc::RLIMIT_AS, used + 256 * MIB as u64);
        }
        let beyond = [1u64 << 62, 1 << 47]
            .into_iter()
            .filter_map(|s| usize::try_from(s).ok());
        for size in std::iter::once(isize::MAX as usize - 7).chain(beyond) {
            assert!(
                unsafe { PageAllocator.alloc(layout(size, 8)) }.is_null(),
                "{size}"
            );
        }
        let ptr = unsafe { PageAllocator.alloc(layout(8, 8)) };
        let grown = unsafe { PageAllocator.realloc(ptr, layout(8, 8), isize::MAX as usize - 7) };
        assert!(grown.is_null());
        write_byte(ptr, 1);
        unsafe { PageAllocator.dealloc(ptr, layout(8, 8)) };
    });
}

/// Runs `check` in a forked child, which must return without panicking.
fn in_child_ok(check: impl FnOnce()) {
    assert_eq!(in_child_checked(check), ChildEnd::Exited(0));
}

#[cfg(feature = "dlmalloc")]
mod malloc {
    use super::*;
    use mman::alloc::Malloc;

    static MALLOC: Malloc = Malloc::new();

    #[test]
    fn small_blocks_of_every_alignment_keep_their_contents() {
        let mut blocks = Vec::new();
        for (i, size) in [1, 7, 8, 24, 100, 4000, 4096, 70_000, 200_000]
            .iter()
            .enumerate()
        {
            for align in [1, 8, 16, 64, 4096] {
                let l = layout(*size, align);
                let ptr = unsafe { MALLOC.alloc(l) };
                assert!(!ptr.is_null(), "{size} aligned to {align}");
                assert_eq!(ptr as usize % align, 0);
                fill(ptr, *size, i as u8);
                blocks.push((ptr, l, i as u8));
            }
        }
        for (ptr, l, seed) in blocks {
            check(ptr, l.size(), seed);
            unsafe { MALLOC.dealloc(ptr, l) };
        }
    }

    #[test]
    fn large_blocks_are_mappings_of_their_own_and_go_back_on_free() {
        // In a child of one thread: nothing else maps into what the blocks give back.
        in_child_ok(|| {
            let l = layout(4 * MIB, 8);
            let ptr = unsafe { MALLOC.alloc_zeroed(l) };
            assert!(!ptr.is_null());
            assert_eq!(resident_pages(ptr, 4 * MIB), 0, "zeroed without a write");
            let entry = block_entry(ptr);
            assert!(entry.start <= ptr as usize && entry.end >= ptr as usize + 4 * MIB);
            unsafe { MALLOC.dealloc(ptr, l) };
            assert!(!is_mapped(ptr.cast()));
        });
    }

    #[test]
    fn realloc_crosses_between_small_and_large_keeping_the_bytes() {
        let mut size = 8;
        let mut ptr = unsafe { MALLOC.alloc(layout(size, 8)) };
        fill(ptr, size, 5);
        // Doubling from 8 bytes to 64 MiB, then halving back down.
        let sizes: Vec<usize> = (4..=26).map(|s| 1 << s).collect();
        for &new_size in sizes.iter().chain(sizes.iter().rev()) {
            ptr = unsafe { MALLOC.realloc(ptr, layout(size, 8), new_size) };
            assert!(!ptr.is_null(), "realloc to {new_size}");
            check(ptr, size.min(new_size), 5);
            fill(ptr, new_size, 5);
            size = new_size;
        }
        unsafe { MALLOC.dealloc(ptr, layout(size, 8)) };
    }

    #[test]
    fn over_aligned_small_blocks_stay_aligned_through_realloc() {
        let mut ptr = unsafe { MALLOC.alloc(layout(40, 256)) };
        fill(ptr, 40, 1);
        let mut size = 40;
        for new_size in [100, 3000, 300_000, 50] {
            ptr = unsafe { MALLOC.realloc(ptr, layout(size, 256), new_size) };
            assert!(!ptr.is_null());
            assert_eq!(ptr as usize % 256, 0);
            check(ptr, size.min(new_size), 1);
            fill(ptr, new_size, 1);
            size = new_size;
        }
        unsafe { MALLOC.dealloc(ptr, layout(size, 256)) };
    }

    #[test]
    fn small_zeroed_blocks_are_zero_after_reuse() {
        for round in 0..100 {
            let l = layout(64 + round, 8);
            let dirty = unsafe { MALLOC.alloc(l) };
            fill(dirty, l.size(), 0xff);
            unsafe { MALLOC.dealloc(dirty, l) };
            let clean = unsafe { MALLOC.alloc_zeroed(l) };
            for i in 0..l.size() {
                assert_eq!(read_byte(unsafe { clean.add(i) }), 0);
            }
            unsafe { MALLOC.dealloc(clean, l) };
        }
    }

    /// Freed small blocks wait in their shard's cache by size class and serve the next
    /// request of any size of the class: each must hold the largest. Live blocks are filled
    /// whole, each with its own byte, so a block too small for what it serves overwrites
    /// its neighbour and the check sees it. Sizes shrunk by `realloc` are freed too.
    #[test]
    fn cached_blocks_serve_every_size_of_their_class() {
        let whole = |ptr: *mut u8, size: usize, byte: u8| {
            unsafe { ptr.write_bytes(byte, size) };
            byte
        };
        for size in (1..=4200).step_by(13) {
            // Freed at the smallest size of a class (or shrunk there), then asked for
            // at sizes up to 16 bytes more.
            let small = unsafe { MALLOC.alloc(layout(size, 8)) };
            unsafe { MALLOC.dealloc(small, layout(size, 8)) };
            let shrunk = unsafe { MALLOC.alloc(layout(size + 4000, 8)) };
            let shrunk = unsafe { MALLOC.realloc(shrunk, layout(size + 4000, 8), size) };
            assert!(!shrunk.is_null());
            unsafe { MALLOC.dealloc(shrunk, layout(size, 8)) };
            // No glibc allocation here: tests that fork and count their child's memory run
            // alongside.
            let live: [(*mut u8, usize, u8); 16] = core::array::from_fn(|i| {
                let len = size + i;
                let ptr = unsafe { MALLOC.alloc(layout(len, 8)) };
                assert!(!ptr.is_null(), "{len} bytes");
                assert_eq!(ptr as usize % 8, 0);
                (ptr, len, whole(ptr, len, i as u8 + 1))
            });
            for &(ptr, len, byte) in &live {
                let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
                assert!(
                    bytes.iter().all(|&b| b == byte),
                    "block of {len} overwritten"
                );
            }
            for (ptr, len, _) in live {
                unsafe { MALLOC.dealloc(ptr, layout(len, 8)) };
            }
        }
    }

    #[test]
    fn threads_free_each_others_blocks() {
        use std::sync::mpsc;
        let (send, receive) = mpsc::channel::<(usize, usize, u8)>();
        let producers: Vec<_> = (0..4u8)
            .map(|t| {
                let send = send.clone();
                std::thread::spawn(move || {
                    let mut own = Vec::new();
                    for i in 0..20_000usize {
                        let size = 8 + (i * 37 + usize::from(t) * 11) % 4096;
                        let ptr = unsafe { MALLOC.alloc(layout(size, 8)) };
                        assert!(!ptr.is_null());
                        let seed = (i as u8).wrapping_add(t);
                        fill(ptr, size, seed);
                        if i % 3 == 0 {
                            send.send((ptr as usize, size, seed)).expect("send");
                        } else {
                            own.push((ptr, size, seed));
                        }
                        if own.len() > 500 {
                            let (ptr, size, seed) = own.swap_remove(i % own.len());
                            check(ptr, size, seed);
                            unsafe { MALLOC.dealloc(ptr, layout(size, 8)) };
                        }
                    }
                    for (ptr, size, seed) in own {
                        check(ptr, size, seed);
                        unsafe { MALLOC.dealloc(ptr, layout(size, 8)) };
                    }
                })
            })
            .collect();
        drop(send);
        // This thread frees a third of the blocks the others made.
        for (ptr, size, seed) in receive {
            check(ptr as *const u8, size, seed);
            unsafe { MALLOC.dealloc(ptr as *mut u8, layout(size, 8)) };
        }
        for thread in producers {
            thread.join().expect("thread");
        }
    }

    #[test]
    fn segments_give_back_only_what_they_handed_out() {
        use mman::alloc::dlmalloc::Allocator;
        use mman::alloc::Segments;
        let p = page();
        // SAFETY: no Dlmalloc uses these segments; the test gives back only memory it
        // no longer uses (the trimmed tail is read through `perms` only).
        let segments = unsafe { Segments::new(64 * p) };
        let (first, len, _) = segments.alloc(3 * p);
        assert!(!first.is_null());
        assert_eq!(len, 3 * p);
        let (second, _, _) = segments.alloc(p);
        assert_eq!(
            second as usize,
            first as usize + 3 * p,
            "bottom up, adjacent"
        );
        fill(first, 4 * p, 8);
        // Memory the segments did not hand out stays untouched: another mapping's, beyond
        // what was handed out, unaligned, or reaching past the end.
        let other = mman::Mapping::anonymous(p).expect("map");
        write_byte(other.as_ptr(), 5);
        assert!(!segments.free(other.as_ptr(), p));
        assert!(!segments.free(unsafe { first.add(4 * p) }, p));
        assert!(!segments.free(unsafe { first.add(1) }, p));
        assert!(!segments.free(first, 5 * p));
        assert!(!segments.free_part(first, 3 * p, 4 * p));
        assert_eq!(read_byte(other.as_ptr()), 5);
        check(first, 4 * p, 8);
        // Trimming the tail of the first gives those pages back: no access, no memory.
        assert!(segments.free_part(first, 3 * p, p));
        assert_eq!(perms(unsafe { first.add(p) }.cast()), "---p");
        assert_eq!(perms(first.cast()), "rw-p");
        check(first, p, 8);
    }

    /// Makes every `mprotect(_, _, PROT_NONE)` of this process fail with `ENOMEM`, as it
    /// does when the split it needs would pass `vm.max_map_count`: call it in a child.
    fn fail_every_mprotect_to_none() {
        let ld = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
        let jeq = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
        let ret = (libc::BPF_RET | libc::BPF_K) as u16;
        // `struct seccomp_data`: the call number at 0, the third argument's low half at 32
        // (36 on big-endian targets).
        let prot_low = if cfg!(target_endian = "big") { 36 } else { 32 };
        let at = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
        let mut program = [
            at(ld, 0, 0, 0),
            at(jeq, 0, 3, libc::SYS_mprotect as u32),
            at(ld, 0, 0, prot_low),
            at(jeq, 0, 1, 0),
            at(ret, 0, 0, libc::SECCOMP_RET_ERRNO | libc::ENOMEM as u32),
            at(ret, 0, 0, libc::SECCOMP_RET_ALLOW),
        ];
        install_seccomp_filter(&mut program);
    }

    /// dlmalloc keeps using a range `free` or `free_part` answered `false` for, so `false`
    /// must mean "untouched": once `MADV_DONTNEED` has discarded the range, a `PROT_NONE`
    /// that then fails (the map-count limit) must still count as given back.
    #[test]
    fn segments_that_discarded_a_range_say_so_even_if_protecting_it_fails() {
        use mman::alloc::dlmalloc::Allocator;
        use mman::alloc::Segments;
        if is_qemu_user() {
            skip!("qemu-user refuses seccomp filters (PR_SET_SECCOMP): no mprotect can be failed");
        }
        let p = page();
        let end = in_child(|| {
            // SAFETY: no Dlmalloc uses these segments; the test reads the tail only if
            // the call says it was not given back.
            let segments = unsafe { Segments::new(64 * p) };
            let (first, len, _) = segments.alloc(4 * p);
            assert_eq!(len, 4 * p);
            fill(first, 4 * p, 3);
            fail_every_mprotect_to_none();
            if segments.free_part(first, 4 * p, p) {
                // Given back, and handed out again as fresh zeros.
                let (again, _, _) = segments.alloc(3 * p);
                assert_eq!(again as usize, first as usize + p);
                // SAFETY: `again` starts 3 pages the segments just handed out.
                assert!((0..3 * p).all(|i| read_byte(unsafe { again.add(i) }) == 0));
            } else {
                check(first, 4 * p, 3);
            }
            check(first, p, 3);
            0
        });
        assert_eq!(end, ChildEnd::Exited(0));
    }

    #[test]
    fn a_moved_allocator_still_frees_its_blocks() {
        let first = Malloc::new();
        let l = layout(100, 8);
        let ptr = unsafe { first.alloc(l) };
        fill(ptr, 100, 4);
        let moved = Box::new(first);
        check(ptr, 100, 4);
        unsafe { moved.dealloc(ptr, l) };
        let again = unsafe { moved.alloc(l) };
        assert!(!again.is_null());
        unsafe { moved.dealloc(again, l) };
    }
}
