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

/// The kernel's stack guard gap: `stack_guard_gap=` pages on the command line, else 256.
fn stack_guard_gap() -> usize {
    let cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_default();
    let pages = cmdline
        .split_whitespace()
        .find_map(|word| word.strip_prefix("stack_guard_gap="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(256);
    pages * page()
}

/// Whether anything but the stack itself is mapped in `[from, to)`.
fn anything_mapped_in(from: usize, to: usize) -> Option<MapsEntry> {
    maps()
        .into_iter()
        .find(|e| e.path != "[stack]" && e.start < to && e.end > from)
}

/// The guard gap below the stack, or the reason to skip.
fn stack_and_gap() -> Result<((usize, usize), usize), String> {
    if is_qemu_user() {
        return Err(
            "qemu-user: the guest's stack is an ordinary mapping of QEMU's, \
                    with no grows-down VMA and no guard gap of its own"
                .into(),
        );
    }
    let stack = stack_vma().ok_or("no [stack] entry in /proc/self/maps")?;
    Ok((stack, stack_guard_gap()))
}

/// `at` is `unsafe` (the caller answers for the stack's reach); what the kernel still
/// checks is the guard gap below the stack as it is now, which `at` must not get around.
#[test]
fn placement_inside_the_stack_guard_gap_is_refused() {
    // The tests below the stack share that address space.
    let _below_the_stack = serial();
    let ((stack, _), gap) = match stack_and_gap() {
        Ok(found) => found,
        Err(reason) => skip!("{reason}"),
    };
    let p = page();
    // SAFETY (all placements here): the kernel refuses them (asserted), or, for the one it
    // accepts, the mapping stays read-write and is dropped at once.
    let at_address = |len: usize, at: usize| unsafe { MapOptions::new().len(len).at(at) }.map();
    for len in [p, 4 << 20] {
        // Every placement whose end falls inside the gap, down to the last page of it.
        for end_below_stack in [0, p, gap / 2, gap - p] {
            let at = stack - end_below_stack - len;
            assert_eq!(
                err(at_address(len, at)),
                Errno::EEXIST,
                "{len} bytes ending {end_below_stack} bytes below the stack"
            );
            assert!(!is_mapped(at as *const c_void), "nothing left mapped");
        }
    }
    // Right at the edge of the gap the kernel takes the hint.
    let at = stack - gap - p;
    if let Some(e) = anything_mapped_in(at, stack) {
        skip!("something is mapped just below the stack's guard gap: {e:?}");
    }
    let m = at_address(p, at).expect("at the gap's edge");
    assert_eq!(m.as_ptr() as usize, at);
}

/// What the kernel places itself is below its mapping base, out of the main stack's reach
/// (its top less `RLIMIT_STACK`, less the guard gap): the premise that makes mappings
/// without `at` safe to leave inaccessible and make accessible again.
#[test]
fn the_kernel_places_mappings_out_of_the_stacks_reach() {
    let ((stack, stack_top), gap) = match stack_and_gap() {
        Ok(found) => found,
        Err(reason) => skip!("{reason}"),
    };
    let _ = stack;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given.
    assert_eq!(
        unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut limit) },
        0
    );
    if limit.rlim_cur == libc::RLIM_INFINITY {
        skip!("RLIMIT_STACK is unlimited: the kernel lays mappings out bottom-up");
    }
    let reach = stack_top - limit.rlim_cur as usize - gap;
    for prot in [Prot::empty(), RW] {
        let m = MapOptions::new().len(16 * page()).prot(prot).map().unwrap();
        let end = m.as_ptr() as usize + m.len();
        assert!(
            end <= reach,
            "{end:#x} is within the stack's reach ({reach:#x})"
        );
    }
}

#[test]
fn growth_never_happens_in_place() {
    let _below_the_stack = serial();
    let ((stack, _), gap) = match stack_and_gap() {
        Ok(found) => found,
        Err(reason) => skip!("{reason}"),
    };
    let p = page();
    let len = 4 << 20;
    let below_gap = stack - gap;
    let at = below_gap - len - 8 * p;
    if let Some(e) = anything_mapped_in(at, stack) {
        skip!("something is mapped below the stack's guard gap: {e:?}");
    }
    // SAFETY: read-write, so the stack keeps its gap from it; it moves away or is dropped.
    let just_below_the_gap = || unsafe { MapOptions::new().len(len).at(at) }.map();
    let mut m = just_below_the_gap().expect("below the gap");
    m.as_mut_slice().unwrap().fill(7);

    // The attack: 8 MiB more, which in place would reach the stack. It moves.
    m.remap(len + (8 << 20), true).expect("grow by moving");
    assert_ne!(m.as_ptr() as usize, at, "moved");
    assert!(m.as_slice().unwrap()[..len].iter().all(|&b| b == 7));
    assert_eq!(
        anything_mapped_in(below_gap, stack),
        None,
        "gap still empty"
    );
    drop(m);

    // Without moving: not even a page more, though it would fit below the gap.
    let mut m = just_below_the_gap().expect("below the gap");
    for more in [p, 8 * p, 9 * p, 8 << 20] {
        assert_eq!(m.remap(len + more, false), Err(Errno::ENOMEM), "{more}");
        assert_eq!((m.as_ptr() as usize, m.len()), (at, len), "unchanged");
    }
    assert_eq!(anything_mapped_in(below_gap, stack), None);
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
        .placed_at(at)
        .map()
        .unwrap();
    let mut upper = MapOptions::new()
        .grows_down()
        .len(2 * p)
        .placed_at(at + 2 * p)
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
        .placed_at(at + gap + 2 * p)
        .map()
        .unwrap();
    let top = stack_like.as_ptr() as usize;
    assert_eq!(
        err(MapOptions::new().len(p).placed_at(top - p).map()),
        Errno::EEXIST,
        "right below a grows-down mapping"
    );
    assert_eq!(
        err(MapOptions::new().len(p).placed_at(top - gap).map()),
        Errno::EEXIST,
        "the gap's last page"
    );
    let outside = MapOptions::new().len(p).placed_at(top - gap - p).map();
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
            .placed_at(quiet_address(3 * p) as usize)
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
        .placed_at(at)
        .map_file(&file, 0)
        .unwrap();
    // Something right above: the mapping cannot grow in place.
    let _neighbour = MapOptions::new()
        .len(p)
        .placed_at(at + 2 * p)
        .map()
        .unwrap();
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
            .placed_at(start)
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
