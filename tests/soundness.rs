//! Regression tests for the ways safe code once reached undefined behaviour (issue 9), each
//! written as the attack it was: placing or growing memory into the stack's guard gap,
//! `protect` reaching past its range through `PROT_GROWSDOWN`, a `protect` that fails
//! part-way, and planted book-keeping bugs that the other tests let through. (Atomics racing
//! copies, and freeing protection keys, are now refused at compile time: see the
//! `compile_fail` examples in the crate documentation.)

#[macro_use]
mod common;

use std::ffi::c_void;
use std::ptr::null_mut;

use common::*;
use mman::{
    sys, Advice, Errno, MapFlags, MapOptions, Mapping, Memfd, Prot, Protection, SecretMemory,
};

const RW: Prot = Prot::READ.union(Prot::WRITE);

/// The main thread's stack VMA, `[start, end)`.
fn stack_vma() -> Option<(usize, usize)> {
    maps()
        .into_iter()
        .find(|e| e.path == "[stack]")
        .map(|e| (e.start, e.end))
}

/// Whether anything but the stack itself is mapped in `[from, to)`.
fn anything_mapped_in(from: usize, to: usize) -> Option<MapsEntry> {
    maps()
        .into_iter()
        .find(|e| e.path != "[stack]" && e.start < to && e.end > from)
}

/// Where the main stack is and may grow, as the tests see it: `[floor, top)`, with the
/// stack now at `[start, top)`.
struct Reach {
    floor: usize,
    start: usize,
    top: usize,
    gap: usize,
}

/// The main stack's reach (its top less the soft `RLIMIT_STACK`, less the kernel's default
/// guard gap, as the crate computes it), or the reason to skip.
fn stack_reach() -> Result<Reach, String> {
    if is_qemu_user() {
        return Err(
            "qemu-user: the guest's stack is an ordinary mapping of QEMU's, \
                    with no grows-down VMA and no guard gap of its own"
                .into(),
        );
    }
    let (start, top) = stack_vma().ok_or("no [stack] entry in /proc/self/maps")?;
    let gap = stack_guard_gap();
    if gap != 256 * page() {
        return Err(format!(
            "stack_guard_gap is {gap} bytes, not the default 256 pages"
        ));
    }
    let limit = limit(libc::RLIMIT_STACK);
    if limit.rlim_cur == libc::RLIM_INFINITY {
        return Err("RLIMIT_STACK is unlimited: the reach is bounded by RAM and swap".into());
    }
    let floor = top - limit.rlim_cur as usize - gap;
    Ok(Reach {
        floor,
        start,
        top,
        gap,
    })
}

/// Placing memory anywhere the main stack may grow is refused: inside the guard gap below
/// the stack as it is now the kernel refuses the hint (`EEXIST`); further down, where the
/// stack may still grow, the safe layer does (`ENOMEM`). Below the reach, `at` works.
#[test]
fn placement_in_the_stacks_reach_is_refused() {
    // The tests below the stack share that address space.
    let _below_the_stack = serial();
    let reach = match stack_reach() {
        Ok(reach) => reach,
        Err(reason) => skip!("{reason}"),
    };
    let p = page();
    if let Some(e) = anything_mapped_in(reach.floor - 64 * p, reach.start) {
        skip!("something is mapped in the stack's reach: {e:?}");
    }
    for len in [p, 4 << 20] {
        for end_below_stack in [0, p, reach.gap / 2, reach.gap - p] {
            let at = reach.start - end_below_stack - len;
            let placed = MapOptions::new().len(len).at(at).map();
            assert_eq!(
                err(placed),
                Errno::EEXIST,
                "{len} bytes ending {end_below_stack} bytes below the stack"
            );
            assert!(!is_mapped(at as *const c_void), "nothing left mapped");
        }
        // Between the guard gap's bottom and the floor: the middle of that stretch, not of
        // the whole reach, which lies inside the gap where the gap is larger than the
        // stack limit (256 pages of 64 KiB are 16 MiB, RLIMIT_STACK is 8 MiB by default).
        let below_the_gap = reach.start - reach.gap;
        for end in [
            below_the_gap,
            (reach.floor + (below_the_gap - reach.floor) / 2) & !(p - 1),
            reach.floor + 2 * p,
        ] {
            let at = end - len;
            let placed = MapOptions::new().len(len).prot(Prot::empty()).at(at).map();
            assert_eq!(
                err(placed),
                Errno::ENOMEM,
                "{len} bytes ending {:#x} below the stack",
                reach.start - end
            );
            assert!(!is_mapped(at as *const c_void), "nothing left mapped");
        }
    }
    let below = reach.floor - 2 * p - p;
    let m = MapOptions::new()
        .len(p)
        .prot(Prot::empty())
        .at(below)
        .map()
        .expect("below the reach");
    assert_eq!(m.as_ptr() as usize, below);
    let _ = reach.top;
}

/// What the kernel places itself is below its mapping base, out of the main stack's reach,
/// while there is room there. When there is not (the address space filled, here with
/// `PROT_NONE` mappings that cost no memory), the kernel places mappings anywhere the guard
/// gap as it is now allows, near the stack: the safe layer refuses those (`ENOMEM`).
#[test]
fn kernel_placements_in_the_stacks_reach_are_refused() {
    let reach = match stack_reach() {
        Ok(reach) => reach,
        Err(reason) => skip!("{reason}"),
    };
    let p = page();
    let none = |len: usize| MapOptions::new().len(len).prot(Prot::empty()).map();
    for prot in [Prot::empty(), RW] {
        let m = MapOptions::new().len(16 * p).prot(prot).map().unwrap();
        let end = m.as_ptr() as usize + m.len();
        assert!(
            end <= reach.floor,
            "{end:#x} is within the stack's reach ({:#x})",
            reach.floor
        );
    }
    let end = in_child_checked(move || {
        // Fill the address space (the ballast lives until the child exits).
        let mut ballast = Vec::new();
        let mut size = 1usize << (usize::BITS - 1).min(46);
        while size >= p {
            match none(size) {
                Ok(m) => ballast.push(m),
                Err(Errno::ENOMEM) => size /= 2,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(ballast.len() > 10, "filled with {} mappings", ballast.len());
        for m in &ballast {
            let (start, end) = (m.as_ptr() as usize, m.as_ptr() as usize + m.len());
            assert!(
                end <= reach.floor || start >= reach.top,
                "{start:#x}..{end:#x} in the reach {:#x}..{:#x}",
                reach.floor,
                reach.top
            );
        }
        // Whatever room is left near the stack is refused.
        assert_eq!(err(none(16 * p)), Errno::ENOMEM);
        // Nor can a mapping move there to grow.
        let mut smallest = ballast.pop().unwrap();
        let len = smallest.len();
        assert_eq!(smallest.remap(len + 64 * p, true), Err(Errno::ENOMEM));
        assert_eq!(smallest.len(), len);
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

/// `grows_down` mappings get no guard gap from the stack at all (the kernel skips it for a
/// grows-down neighbour), so they above all must stay out of its reach.
#[test]
fn grows_down_mappings_stay_out_of_the_stacks_reach() {
    let _below_the_stack = serial();
    let reach = match stack_reach() {
        Ok(reach) => reach,
        Err(reason) => skip!("{reason}"),
    };
    let p = page();
    let m = MapOptions::new().len(16 * p).grows_down().map().unwrap();
    assert!(m.as_ptr() as usize + m.len() <= reach.floor);
    let at = reach.start - reach.gap - 16 * p;
    assert_eq!(
        err(MapOptions::new().len(16 * p).grows_down().at(at).map()),
        Errno::ENOMEM
    );
}

#[test]
fn growth_never_happens_in_place() {
    let _below_the_stack = serial();
    let reach = match stack_reach() {
        Ok(reach) => reach,
        Err(reason) => skip!("{reason}"),
    };
    let p = page();
    let len = 4 << 20;
    // Right below the reach: growing in place would enter it.
    let at = reach.floor - len - 2 * p;
    if let Some(e) = anything_mapped_in(at, reach.start) {
        skip!("something is mapped in or below the stack's reach: {e:?}");
    }
    let just_below = || MapOptions::new().len(len).at(at).map();
    let mut m = just_below().expect("below the reach");
    m.as_mut_slice().unwrap().fill(7);

    // 8 MiB more, which in place would reach into the stack's reach: it moves.
    m.remap(len + (8 << 20), true).expect("grow by moving");
    assert_ne!(m.as_ptr() as usize, at, "moved");
    assert!(
        m.as_ptr() as usize + m.len() <= reach.floor,
        "out of the reach"
    );
    assert!(m.as_slice().unwrap()[..len].iter().all(|&b| b == 7));
    assert_eq!(
        anything_mapped_in(reach.floor, reach.start),
        None,
        "reach still empty"
    );
    drop(m);

    // Without moving: not even a page more, though it would fit.
    let mut m = just_below().expect("below the reach");
    for more in [p, 2 * p, 8 << 20] {
        assert_eq!(m.remap(len + more, false), Err(Errno::ENOMEM), "{more}");
        assert_eq!((m.as_ptr() as usize, m.len()), (at, len), "unchanged");
    }
    // Within the last page: only the length changes.
    m.remap(len - 10, false).unwrap();
    m.remap(len, false).unwrap();
    assert_eq!(m.as_ptr() as usize, at);

    // Several VMAs, which mremap cannot move: EFAULT, asked of nobody, and no reservation
    // left behind (checked in a child, where no other test thread maps anything meanwhile).
    m.protect(..p, Prot::READ).unwrap();
    let end = in_child_checked(move || {
        let before = maps();
        assert_eq!(m.remap(len + (8 << 20), true), Err(Errno::EFAULT));
        assert_eq!(maps(), before, "nothing mapped or unmapped");
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

/// Growing with `may_move` keeps a mapping one VMA, so it can grow again and again, as
/// `realloc` does.
#[test]
fn growing_by_moving_can_be_repeated() {
    let p = page();
    let mut m = Mapping::anonymous(p).unwrap();
    m.as_mut_slice().unwrap()[0] = 1;
    for pages in 2..40 {
        m.remap(pages * p, true).unwrap();
        let bytes = m.as_mut_slice().unwrap();
        assert_eq!(bytes[(pages - 2) * p], (pages - 1) as u8, "kept");
        assert_eq!(bytes[(pages - 1) * p], 0, "new");
        bytes[(pages - 1) * p] = pages as u8;
        let vma = maps_entry(m.as_ptr() as *const c_void).unwrap();
        assert!(
            vma.end >= m.as_ptr() as usize + pages * p,
            "one VMA: {vma:?}"
        );
    }
}

#[test]
fn protect_cannot_reach_past_its_range_with_growsdown() {
    let p = page();
    let at = quiet_address(4 * p) as usize;
    // Two grows-down mappings, the upper right above the lower: the kernel merges them
    // into one VMA, so PROT_GROWSDOWN on the upper would change the lower too.
    let mut lower = MapOptions::new()
        .grows_down()
        .len(2 * p)
        .at(at)
        .map()
        .unwrap();
    let mut upper = MapOptions::new()
        .grows_down()
        .len(2 * p)
        .at(at + 2 * p)
        .map()
        .unwrap();
    lower.as_mut_slice().unwrap().fill(3);
    for prot in [Prot::GROWSDOWN, Prot::GROWSDOWN | Prot::READ, Prot::GROWSUP] {
        assert_eq!(upper.protect(.., prot), Err(Errno::EINVAL), "{prot:?}");
        assert_eq!(upper.protect(p.., prot), Err(Errno::EINVAL), "{prot:?}");
    }
    assert_eq!(perms(at as *const c_void), "rw-p", "lower untouched");
    assert_eq!(
        perms((at + 2 * p) as *const c_void),
        "rw-p",
        "upper untouched"
    );
    assert!(lower.as_slice().unwrap().iter().all(|&b| b == 3));
    assert_eq!(
        upper.as_mut_slice().map(|s| s.len()),
        Ok(2 * p),
        "nothing was taken away"
    );
    // Nor can a mapping be made with them.
    assert_eq!(
        err(MapOptions::new()
            .len(p)
            .prot(Prot::READ | Prot::GROWSDOWN)
            .map()),
        Errno::EINVAL
    );
}

#[test]
fn nothing_is_placed_in_the_guard_gap_below_a_grows_down_mapping() {
    let p = page();
    let gap = stack_guard_gap();
    let at = quiet_address(gap + 4 * p) as usize;
    let stack_like = MapOptions::new()
        .grows_down()
        .len(2 * p)
        .at(at + gap + 2 * p)
        .map()
        .unwrap();
    let top = stack_like.as_ptr() as usize;
    let below = MapOptions::new().len(p).at(top - p).map();
    if below.is_ok() && qemu_user_reserves_the_address_space() {
        skip!("qemu-user places a 32-bit program's mappings itself (MAP_FIXED in its reservation): the host's stack guard gap never applies");
    }
    assert_eq!(
        err(below),
        Errno::EEXIST,
        "right below a grows-down mapping"
    );
    assert_eq!(
        err(MapOptions::new().len(p).at(top - gap).map()),
        Errno::EEXIST,
        "the gap's last page"
    );
    let outside = MapOptions::new().len(p).at(top - gap - p).map();
    assert_eq!(outside.map(|m| m.as_ptr() as usize), Ok(top - gap - p));
}

/// Fills this process's VMA count up to `vm.max_map_count` by splitting a reservation, so
/// that the next split fails with `ENOMEM`. Returns the reservation (unmap it to undo).
/// Allocates nothing once filling starts (the allocator could not map anything after).
fn fill_map_count() -> Result<(*mut c_void, usize), String> {
    let p = page();
    let max: usize = std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .map_err(|e| format!("vm.max_map_count: {e}"))?
        .trim()
        .parse()
        .map_err(|e| format!("vm.max_map_count: {e}"))?;
    let pages = 2 * max.saturating_sub(maps().len()) + 64;
    let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::NORESERVE;
    // SAFETY: a new mapping where the kernel chooses.
    let base = unsafe { sys::mmap(null_mut(), pages * p, Prot::empty(), flags, -1, 0) }
        .map_err(|e| format!("reserve {pages} pages: {e}"))?;
    let at = |i: usize| (base as usize + i * p) as *mut c_void;
    // Two VMAs more per odd page made readable, until a split is refused...
    let mut i = 1;
    // SAFETY (both loops): the pages are the reservation's, which nothing else uses.
    while i + 2 < pages && unsafe { sys::mprotect(at(i), p, Prot::READ) }.is_ok() {
        i += 2;
    }
    // ...then one more at a time (the tail, split off with a protection unlike the page
    // before it), until the count is exactly at the limit.
    let mut k = i + 1;
    let tails = [Prot::READ, RW];
    while k + 1 < pages && unsafe { sys::mprotect(at(k), (pages - k) * p, tails[k % 2]) }.is_ok() {
        k += 1;
    }
    if k + 1 >= pages {
        return Err(format!(
            "{pages} pages did not reach vm.max_map_count ({max})"
        ));
    }
    Ok((base, pages * p))
}

#[test]
fn a_protect_that_fails_part_way_leaves_nothing_lent() {
    if is_qemu_user() {
        skip!("qemu-user emulates mprotect page by page over its own mappings");
    }
    let p = page();
    let end = in_child_checked(|| {
        // [0, p) read-write and not dumped, [p, 3p) read-only: two VMAs that stay apart
        // whatever their protection (else the kernel would move the boundary between them
        // rather than split), with unmapped space around them.
        let mut m = MapOptions::new()
            .len(3 * p)
            .at(quiet_address(3 * p) as usize)
            .map()
            .unwrap();
        m.as_mut_slice().unwrap().fill(9);
        m.advise(..p, Advice::DontDump).unwrap();
        m.protect(p.., Prot::READ).unwrap();
        assert!(m.as_slice().is_ok(), "all of it is readable");
        let (filler, filler_len) = fill_map_count().unwrap();

        // The first VMA becomes PROT_NONE; splitting the second at 2p is refused.
        let result = m.protect(..2 * p, Prot::empty());
        let lent = (m.as_slice().err(), m.read_at(0, &mut [0; 1]).err());
        // SAFETY: the reservation is this test's own.
        unsafe { sys::munmap(filler, filler_len) }.unwrap();
        assert_eq!(result, Err(Errno::ENOMEM), "the split is refused");
        assert_eq!(
            perms(m.as_ptr() as *const c_void),
            "---p",
            "the kernel changed the first VMA before failing"
        );
        assert_eq!(
            lent,
            (Some(Errno::EACCES), Some(Errno::EACCES)),
            "nothing of a mapping that lost access is lent"
        );
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

/// Review hole: a `decommit` whose `mprotect(PROT_NONE)` failed part-way (the split at the
/// map-count limit) left lazily freed pages marked lazy, which the next `commit` pins by
/// writing to them, as read-write memory: but the first VMA had become `PROT_NONE`, and
/// the write killed the process from a safe call. Pages `MADV_DONTNEED` has zapped are
/// lazily freed no longer, so the mark now goes with that call's success.
#[test]
fn a_decommit_that_fails_part_way_leaves_no_page_to_pin() {
    if is_qemu_user() {
        skip!("qemu-user emulates mprotect page by page over its own mappings");
    }
    let p = page();
    let end = in_child_checked(|| {
        // Page 0 stays reserved; [p, 2p) read-write and not dumped, [2p, 4p) read-write:
        // two VMAs that stay apart whatever their protection.
        let mut space = mman::Reservation::new(5 * p).unwrap();
        space.commit(p..4 * p, RW).unwrap();
        space.advise(p..2 * p, Advice::DontDump).unwrap();
        space.as_mut_slice(p..4 * p).unwrap().fill(9);
        // Lazily freed: read-write, not lent until a commit writes each page.
        space.reset(p..3 * p).unwrap();
        let (filler, filler_len) = fill_map_count().unwrap();
        // The first VMA becomes PROT_NONE; splitting the second at 3p is refused.
        let result = space.decommit(p..3 * p);
        // SAFETY: the reservation is this test's own.
        unsafe { sys::munmap(filler, filler_len) }.unwrap();
        assert_eq!(result, Err(Errno::ENOMEM), "the split is refused");
        let first = space.as_ptr().wrapping_add(p) as *const c_void;
        assert_eq!(
            perms(first),
            "---p",
            "the first VMA changed before the failure"
        );
        // Safe calls: committing again must neither fault nor lend what it did not grant.
        space.commit(p..3 * p, RW).unwrap();
        assert!(space.as_slice(p..3 * p).unwrap().iter().all(|&b| b == 0));
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

/// Planted bug from the test audit: `protect` judging "the whole mapping" by its start
/// address alone would grant access back after restoring only the first page.
#[test]
fn restoring_part_of_a_mapping_does_not_restore_the_whole() {
    let p = page();
    let mut m = Mapping::anonymous(3 * p).unwrap();
    m.protect(p..2 * p, Prot::empty()).unwrap();
    m.protect(..p, RW).unwrap();
    assert_eq!(err(m.as_slice()), Errno::EACCES);
    m.protect(0..3 * p, RW).unwrap();
    assert_eq!(m.as_slice().map(<[u8]>::len), Ok(3 * p));
    m.protect(p..2 * p, Prot::empty()).unwrap();
    m.protect(..3 * p - 1, RW).unwrap();
    assert_eq!(
        err(m.as_slice()),
        Errno::EACCES,
        "one byte short of the whole"
    );
}

#[test]
fn remap_file_that_fails_gives_the_file_its_size_back() {
    let p = page();
    let file = Memfd::new(c"remap-file-undo").unwrap();
    file.set_len(2 * p as u64).unwrap();
    let at = quiet_address(3 * p) as usize;
    let mut m = MapOptions::new()
        .shared()
        .at(at)
        .map_file(&file, 0)
        .unwrap();
    // Something right above: the mapping cannot grow in place.
    let _neighbour = MapOptions::new().len(p).at(at + 2 * p).map().unwrap();
    assert_eq!(m.remap_file(&file, 3 * p, false), Err(Errno::ENOMEM));
    assert_eq!(file.len(), Ok(2 * p as u64), "file size restored");
    assert_eq!(m.len(), 2 * p);
    m.remap_file(&file, 3 * p, true).expect("moves");
    assert_eq!(file.len(), Ok(3 * p as u64));
}

#[test]
fn sealed_mappings_refuse_protect_without_losing_access() {
    let p = page();
    let mut m = Mapping::anonymous(2 * p).unwrap();
    match m.seal() {
        Ok(()) => {}
        Err(Errno::ENOSYS) => skip!("{}", enosys("mseal", "6.10")),
        Err(e) => panic!("seal: {e}"),
    }
    assert_eq!(m.protect(.., Prot::READ), Err(Errno::EPERM));
    assert_eq!(m.guard(..p).err(), Some(Errno::EPERM));
    assert_eq!(m.remap(4 * p, true), Err(Errno::EPERM));
    assert_eq!(m.as_mut_slice().map(|s| s.len()), Ok(2 * p));
}

/// A forked child keeps its copy of a `SecretMemory` value, but not the pages of a
/// `memfd_secret` (advised `DONTFORK`): the copy must lend nothing, and drop without
/// touching them. The fallback's pages are inherited (zeroed, with `WIPEONFORK`).
#[test]
fn a_forked_child_neither_reads_nor_wipes_a_secret_it_lacks() {
    let mut kept = SecretMemory::new(100).unwrap();
    kept.as_mut_slice().fill(0x5a);
    let mut dropped_in_child = SecretMemory::new(100).unwrap();
    dropped_in_child.as_mut_slice().fill(0x5a);
    let protection = kept.protection();
    let end = in_child_checked(|| {
        let lent = kept.as_slice().to_vec();
        match protection {
            Protection::MemfdSecret => assert!(lent.is_empty(), "pages not inherited"),
            Protection::Hardened(h) if h.wiped_on_fork => assert_eq!(lent, vec![0; 100]),
            Protection::Hardened(_) => assert_eq!(lent, vec![0x5a; 100]),
        }
        assert_eq!(kept.as_mut_slice().len(), lent.len());
        drop(dropped_in_child);
    });
    assert_eq!(end, ChildEnd::Exited(0));
    assert_eq!(
        kept.as_slice(),
        &[0x5a; 100][..],
        "the parent's secret is intact"
    );
}

/// `MADV_GUARD_INSTALL` walks VMA by VMA: on a locked VMA it fails (EINVAL) after guarding
/// the VMAs before it. The markers left there outlive the `PROT_NONE` fallback, so they
/// must be removed before anything is lent again (else a slice would fault).
#[test]
fn a_guard_that_fails_part_way_is_removed_before_anything_is_lent() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE} (MADV_GUARD_INSTALL would report success and install nothing)");
    }
    let p = page();
    let mut m = Mapping::anonymous(2 * p).unwrap();
    m.as_mut_slice().unwrap().fill(4);
    m.lock(p..).unwrap();
    assert_eq!(m.guard(..), Ok(mman::Guard::ProtNone));
    assert_eq!(err(m.as_slice()), Errno::EACCES);
    m.protect(.., RW).unwrap();
    assert_eq!(
        err(m.as_slice()),
        Errno::EACCES,
        "protect does not lift a guard"
    );
    m.unguard(RW).unwrap();
    let bytes = m.as_slice().unwrap();
    assert!(
        bytes[p..].iter().all(|&b| b == 4),
        "the locked page kept its bytes"
    );
    let partly_guarded = kernel_at_least(6, 13) && !is_qemu_user();
    let first = if partly_guarded { 0 } else { 4 };
    assert!(
        bytes[..p].iter().all(|&b| b == first),
        "first page: {first}s (guard markers installed and removed on 6.13+)"
    );
}

/// Makes every `madvise(_, _, MADV_GUARD_REMOVE)` of this process fail with `EPERM`, as a
/// sandbox that allows installing guard pages but not removing them would: call it in a
/// forked child.
fn refuse_guard_removal() {
    const MADV_GUARD_REMOVE: u32 = 103;
    // `struct seccomp_data`: the call number at byte 0; the third argument (the advice) at
    // 32, its low half (36 on big-endian targets).
    let advice = if cfg!(target_endian = "big") { 36 } else { 32 };
    let load = |at| libc::sock_filter {
        code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
        jt: 0,
        jf: 0,
        k: at,
    };
    let skip_unless = |value, skip| libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt: 0,
        jf: skip,
        k: value,
    };
    let answer = |verdict| libc::sock_filter {
        code: (libc::BPF_RET | libc::BPF_K) as u16,
        jt: 0,
        jf: 0,
        k: verdict,
    };
    let mut program = [
        load(0),
        skip_unless(libc::SYS_madvise as u32, 3),
        load(advice),
        skip_unless(MADV_GUARD_REMOVE, 1),
        answer(libc::SECCOMP_RET_ERRNO | libc::EPERM as u32),
        answer(libc::SECCOMP_RET_ALLOW),
    ];
    install_seccomp_filter(&mut program);
}

/// Review round 4 hole: whether guard markers may be present after a failed
/// `MADV_GUARD_INSTALL` was judged by asking about another advice (an empty
/// `MADV_GUARD_REMOVE`). Where only that was refused (this filter), an install that failed
/// part-way (on a locked VMA, after guarding the first) counted as "guard advice unknown":
/// `unguard` skipped the removal and lent the first page, and reading it killed the child
/// (`SIGSEGV`) from safe code. The install is now asked about itself.
#[test]
fn a_guard_whose_removal_is_refused_stays_guarded() {
    if is_qemu_user() {
        skip!("qemu-user refuses seccomp filters (PR_SET_SECCOMP), and {QEMU_MADVISE}");
    }
    if !kernel_at_least(6, 13) {
        skip!("{}", enosys("MADV_GUARD_INSTALL", "6.13"));
    }
    let p = page();
    let end = in_child_checked(|| {
        let mut m = Mapping::anonymous(2 * p).unwrap();
        m.as_mut_slice().unwrap().fill(4);
        // Two VMAs: the install guards the first, then fails on the locked second.
        m.lock(p..).unwrap();
        refuse_guard_removal();
        assert_eq!(m.guard(..), Ok(mman::Guard::ProtNone));
        // What a safe caller does: lift the guard, and read what is lent.
        let unguarded = m.unguard(RW);
        if let Ok(bytes) = m.as_slice() {
            assert_eq!(read_byte(bytes.as_ptr()), 0, "the guarded page was zeroed");
        }
        // The markers on the first page cannot be removed: the mapping stays guarded.
        assert_eq!(unguarded, Err(Errno::EPERM));
        assert_eq!(err(m.as_slice()), Errno::EACCES);
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

/// Review round 4 hole: a 32-bit program on a 64-bit kernel has 4 GiB of address space, and
/// a mapping of more than `isize::MAX` bytes (2 GiB) lent a slice longer than any Rust
/// object may be: undefined behaviour, which the standard library's debug check stopped
/// ("slice::from_raw_parts requires ... the total size of the slice not to exceed
/// `isize::MAX`"). Now nothing that lends is made, grown or attached that long (`ENOMEM`).
#[test]
fn nothing_that_lends_is_longer_than_isize_max() {
    if cfg!(target_pointer_width = "64") {
        skip!("a 64-bit address space (2^57 bytes at most) holds no mapping of isize::MAX");
    }
    let p = page();
    let longest = isize::MAX as usize;
    let too_long = longest + 1;
    // The longest allowed, whose last page ends past it: growing within that page is
    // refused too.
    let mut m = match MapOptions::new().len(longest).no_reserve().map() {
        Ok(m) => m,
        Err(e) => skip!("no 2 GiB hole in this 32-bit address space ({e:?})"),
    };
    assert_eq!(m.as_slice().map(<[u8]>::len), Ok(longest));
    assert_eq!(m.remap(too_long, false), Err(Errno::ENOMEM));
    assert_eq!(m.len(), longest);
    // Its pages, just given back, would hold one byte more: refused for that byte alone.
    drop(m);
    assert_eq!(
        err(MapOptions::new().len(too_long).no_reserve().map()),
        Errno::ENOMEM
    );
    assert_eq!(err(mman::Reservation::new(too_long)), Errno::ENOMEM);
    // A System V segment a 64-bit program could have made: attached, then detached.
    let flags = mman::ShmGetFlags::CREAT
        | mman::ShmGetFlags::NORESERVE
        | mman::ShmGetFlags::from_mode(mman::Mode::RUSR | mman::Mode::WUSR);
    let id = match sys::shmget(sys::IPC_PRIVATE, too_long + p, flags) {
        Ok(id) => id,
        // Seen under qemu-i386 and qemu-arm (its cause inside QEMU not looked into).
        Err(Errno::EINVAL) if is_qemu_user() => {
            skip!("qemu-user refuses a System V segment of 2 GiB and a page (EINVAL); the mappings and reservation above were checked")
        }
        Err(e) => panic!("shmget of 2 GiB and a page: {e:?}"),
    };
    let segment = mman::SysvSegment::from_id(id).remove_on_drop(true);
    assert_eq!(err(segment.attach(mman::Access::ReadWrite)), Errno::ENOMEM);
}

/// The address range of a `memfd_secret` the child did not inherit is free in the child,
/// and the child's own mappings may land there: dropping the child's copy of the
/// `SecretMemory` must not unmap them.
#[test]
fn a_forked_child_dropping_a_secret_it_lacks_unmaps_nothing_of_its_own() {
    let secret = SecretMemory::new(100).unwrap();
    if secret.protection() != Protection::MemfdSecret {
        skip!("SecretMemory fell back to ordinary memory, which a child inherits");
    }
    let end = in_child_checked(|| {
        let p = page();
        let start = secret.as_slice().as_ptr() as usize - p;
        // What the child maps next lands in the free range, or is placed there.
        let mut mine = MapOptions::new()
            .len(3 * p)
            .at(start)
            .map()
            .expect("the range the child did not inherit is free");
        mine.as_mut_slice().unwrap().fill(0x11);
        drop(secret);
        // (The drop unmaps the canary page, which the child did inherit.)
        for at in (start..start + 3 * p).step_by(p) {
            assert_eq!(
                perms(at as *const c_void),
                "rw-p",
                "still mapped at {at:#x}"
            );
        }
        assert!(mine.as_slice().unwrap().iter().all(|&b| b == 0x11));
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

/// A device's or a special filesystem's `mmap` may give the mapping flags the safe layer
/// cannot account for (tracefs ring buffers and perf set `VM_DONTCOPY`: a forked child's
/// copy of the `Mapping` would name a range the child lacks, where its own memory may go),
/// so the safe `map_file` takes only regular files of plain page-cache filesystems.
#[test]
fn map_file_takes_only_plain_files() {
    let p = page();
    let zero = std::fs::File::open("/dev/zero").unwrap();
    let zero = borrowed(&zero);
    assert_eq!(
        err(MapOptions::new().len(p).map_file(zero, 0)),
        Errno::ENODEV,
        "a device"
    );
    let proc_file = std::fs::File::open("/proc/self/status").unwrap();
    assert_eq!(
        err(MapOptions::new()
            .len(p)
            .prot(Prot::READ)
            .map_file(borrowed(&proc_file), 0)),
        Errno::ENODEV,
        "procfs"
    );
    // SAFETY: /dev/zero's mmap is an ordinary (private, anonymous-like) mapping.
    let zeros = unsafe { MapOptions::new().len(p).map_file_unchecked(zero, 0) }.unwrap();
    assert_eq!(zeros.len(), p);
    // What is plain maps as before: memfds (tmpfs) and files of the filesystem holding the
    // test binary.
    let memfd = Memfd::new(c"plain").unwrap();
    memfd.set_len(p as u64).unwrap();
    assert!(MapOptions::new().shared().map_file(&memfd, 0).is_ok());
    let binary = std::fs::File::open(std::env::current_exe().unwrap()).unwrap();
    let own = MapOptions::new()
        .len(p)
        .prot(Prot::READ)
        .map_file(borrowed(&binary), 0);
    assert_eq!(own.map(|m| m.len()), Ok(p), "the test binary's filesystem");
}

/// Review round 6d, hole 20: overlayfs, a plain filesystem to `fstatfs`, hands a mapping to
/// its layer's file, and tracefs can be a layer: `map_file` of `trace_pipe_raw` through an
/// overlay was `Ok`, with `VM_DONTCOPY`, and a forked child's copy of the `Mapping` unmapped
/// on drop what the child had placed there since, under a live slice (`SIGSEGV`). Now the
/// mapping is refused (`ENODEV`) and nothing stays mapped, while a plain file through the
/// same overlay maps and reads. Root only (tracefs and overlay mounts, in a mount namespace
/// of the test's own); Linux 6.10 and later (`trace_pipe_raw` maps since then).
#[test]
fn a_special_file_through_an_overlay_is_refused() {
    if is_qemu_user() {
        skip!("qemu-user emulates madvise: returns 0 for MADV_DODUMP without asking the kernel");
    }
    let end = in_child(|| match special_file_through_an_overlay() {
        Ok(()) => 0,
        Err(code) => code,
    });
    match end {
        ChildEnd::Exited(code @ 60..=99) => {
            skip!(
                "no mount namespace: unshare(CLONE_NEWNS) is {:?}",
                Errno::from_raw(code - 60)
            )
        }
        ChildEnd::Exited(code @ 110..=159) => {
            skip!(
                "no tmpfs over /dev/shm to work in: {:?}",
                Errno::from_raw(code - 110)
            )
        }
        ChildEnd::Exited(code @ 160..=209) => {
            skip!("no tracefs to mount: {:?}", Errno::from_raw(code - 160))
        }
        ChildEnd::Exited(code @ 210..=249) => {
            skip!("no overlay over tracefs: {:?}", Errno::from_raw(code - 210))
        }
        ChildEnd::Exited(250) => {
            skip!("tracefs's trace_pipe_raw cannot be mapped here (Linux 6.10 and later)")
        }
        end => assert_eq!(end, ChildEnd::Exited(0)),
    }
}

/// The body of `a_special_file_through_an_overlay_is_refused`, in a forked child: `Err` with
/// the exit code naming what this kernel or user lacks (60 + `unshare`'s errno, 110 + that
/// of the tmpfs mount to work in, 160 + tracefs's, 210 + the overlay's, 250:
/// `trace_pipe_raw` has no `mmap`).
fn special_file_through_an_overlay() -> Result<(), i32> {
    let errno = || std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
    let mount = |source: &str, target: &str, fstype: &str, data: &str| {
        let cstr = |s: &str| std::ffi::CString::new(s).unwrap();
        let (source, target, fstype, data) = (cstr(source), cstr(target), cstr(fstype), cstr(data));
        // SAFETY: four NUL-terminated strings that outlive the call.
        let r = unsafe {
            libc::mount(
                source.as_ptr(),
                target.as_ptr(),
                fstype.as_ptr(),
                0,
                data.as_ptr().cast(),
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(errno())
        }
    };
    // SAFETY: unshare and mount take no pointers but the string constants here.
    if unsafe { libc::unshare(libc::CLONE_NEWNS) } != 0 {
        return Err(60 + errno());
    }
    let none = std::ptr::null();
    let private = libc::MS_REC | libc::MS_PRIVATE;
    // SAFETY: as above; nothing propagates back to the test's own namespace.
    let r = unsafe { libc::mount(none, c"/".as_ptr(), none, private, none.cast()) };
    assert_eq!(r, 0, "making mounts private: {}", errno());
    let work = "/dev/shm";
    mount("mman-test", work, "tmpfs", "size=1m").map_err(|e| 110 + e)?;
    for dir in ["trace", "plain", "merged"] {
        std::fs::create_dir(format!("{work}/{dir}")).unwrap();
    }
    std::fs::write(format!("{work}/plain/data"), b"through the overlay").unwrap();
    mount("mman-test", &format!("{work}/trace"), "tracefs", "").map_err(|e| 160 + e)?;
    let layers = format!("lowerdir={work}/trace/per_cpu/cpu0:{work}/plain");
    mount("mman-test", &format!("{work}/merged"), "overlay", &layers).map_err(|e| 210 + e)?;
    let p = page();
    let options = MapOptions::new().shared().prot(Prot::READ).len(p);
    let raw = std::fs::File::open(format!("{work}/trace/per_cpu/cpu0/trace_pipe_raw")).unwrap();
    // SAFETY: mapped to learn whether the kernel can; dropped at once, never lent, and
    // this child forks nothing.
    if unsafe { options.map_file_unchecked(borrowed(&raw), 0) }.is_err() {
        return Err(250);
    }
    let stacked = std::fs::File::open(format!("{work}/merged/trace_pipe_raw")).unwrap();
    assert_eq!(
        err(options.map_file(borrowed(&stacked), 0)),
        Errno::ENODEV,
        "tracefs's ring buffer through an overlay (VM_DONTCOPY)"
    );
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    assert!(
        !maps.contains("trace_pipe_raw"),
        "nothing left mapped:\n{maps}"
    );
    let data = std::fs::File::open(format!("{work}/merged/data")).unwrap();
    let plain = options
        .map_file(borrowed(&data), 0)
        .expect("a plain file through the overlay");
    let mut bytes = [0; 19];
    plain.read_at(0, &mut bytes).unwrap();
    assert_eq!(&bytes, b"through the overlay");
    Ok(())
}

/// `file`'s descriptor as the crate's own type (std's with feature `std`).
fn borrowed(file: &std::fs::File) -> mman::fd::BorrowedFd<'_> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor stays open while `file` is borrowed.
    unsafe { mman::fd::BorrowedFd::borrow_raw(file.as_raw_fd()) }
}

/// Review round 3: a `Mapping` the kernel merged with both neighbours into one VMA is the
/// middle of it, and unmapping it needs a split, which the kernel refuses at
/// `vm.max_map_count` (`ENOMEM`). The drop then left the memory mapped and resident for
/// good, its bytes included; it now gives the memory back (`MADV_DONTNEED`) where it cannot
/// give back the address space.
#[test]
fn a_drop_refused_at_the_map_count_limit_still_gives_the_memory_back() {
    if is_qemu_user() {
        skip!("qemu-user emulates munmap over its own mappings");
    }
    let p = page();
    // Exit codes: 0 given back, 1 not even refused, 2 still resident, 3 filling failed.
    let end = in_child(|| {
        // Three anonymous read-write mappings back to back: one VMA.
        let at = quiet_address(6 * p) as usize;
        let map = |offset: usize| MapOptions::new().len(2 * p).at(at + offset).map();
        let (Ok(below), Ok(mut middle), Ok(above)) = (map(0), map(2 * p), map(4 * p)) else {
            return 3;
        };
        let Ok(bytes) = middle.as_mut_slice() else {
            return 3;
        };
        bytes.fill(7);
        let start = middle.as_ptr() as *mut c_void;
        let Ok((filler, filler_len)) = fill_map_count() else {
            return 3;
        };
        // Nothing after the filling allocates: no new mapping can be made until it ends.
        drop(middle);
        let mut pages = [0u8; 2];
        // SAFETY: the range was `middle`'s; mincore only reports on it.
        let asked = unsafe { sys::mincore(start, 2 * p, pages.as_mut_ptr()) };
        // SAFETY: the reservation is this test's own.
        let _ = unsafe { sys::munmap(filler, filler_len) };
        drop((below, above));
        match asked {
            Err(_) => 1,
            Ok(()) if pages.iter().any(|page| page & 1 == 1) => 2,
            Ok(()) => 0,
        }
    });
    assert_eq!(
        end,
        ChildEnd::Exited(0),
        "0 given back, 1 unmapped, 2 resident"
    );
}

/// As above, for `PageAllocator`'s shrinking `realloc`: the tail of a block merged with the
/// mapping above it lies in the middle of one VMA, and the kernel refuses to unmap it at the
/// map-count limit; the tail's memory is given back all the same.
#[cfg(feature = "alloc")]
#[test]
fn a_shrink_refused_at_the_map_count_limit_still_gives_the_tail_back() {
    use std::alloc::{GlobalAlloc, Layout};
    if is_qemu_user() {
        skip!("qemu-user emulates munmap over its own mappings");
    }
    let p = page();
    // Exit codes: 0 given back, 1 not even refused, 2 still resident, 3 setup failed.
    let end = in_child(|| {
        let (Ok(nine), Ok(layout)) = (
            Layout::from_size_align(9 * p, p),
            Layout::from_size_align(8 * p, p),
        ) else {
            return 3;
        };
        // SAFETY: a non-zero size; shrunk to `layout` at once, and given back with it.
        let block = unsafe {
            let block = mman::alloc::PageAllocator.alloc(nine);
            mman::alloc::PageAllocator.realloc(block, nine, 8 * p)
        };
        if block.is_null() {
            return 3;
        }
        // SAFETY: the block's own 8 pages.
        unsafe { block.write_bytes(7, 8 * p) };
        // A read-write anonymous mapping right above, in the page the block gave back: one
        // VMA with the block.
        let end = block as usize + 8 * p;
        let above = MapOptions::new().len(p).at(end).map();
        if maps_entry(block.cast()).is_none_or(|vma| vma.end <= end) {
            return 4;
        }
        let Ok((filler, filler_len)) = fill_map_count() else {
            return 3;
        };
        // SAFETY: the block was made with `layout`, and shrinks to 2 pages.
        let kept = unsafe { mman::alloc::PageAllocator.realloc(block, layout, 2 * p) };
        let tail = block.wrapping_add(2 * p).cast::<c_void>();
        let mut pages = [0u8; 6];
        // SAFETY: mincore only reports on the range.
        let asked = unsafe { sys::mincore(tail, 6 * p, pages.as_mut_ptr()) };
        // SAFETY: the reservation is this test's own.
        let _ = unsafe { sys::munmap(filler, filler_len) };
        drop(above);
        if kept != block {
            return 5;
        }
        match asked {
            Err(_) => 1,
            Ok(()) if pages.iter().any(|page| page & 1 == 1) => 2,
            Ok(()) => 0,
        }
    });
    assert_eq!(
        end,
        ChildEnd::Exited(0),
        "0 given back, 1 unmapped, 2 resident, 3 to 5 setup"
    );
}
