//! `Reservation` against the real kernel: what `/proc/self/maps` and `smaps` show after each
//! call, bytes read back, the errors for bad ranges (with nothing changed), placement of
//! mappings inside, and that nothing leaks.

#[macro_use]
mod common;

use std::ffi::c_void;

use common::reservation_addr as addr;
use common::reservation_page_perms as page_perms;
use common::{err, in_child_checked, is_mapped, maps_entry, page, perms, resident, ChildEnd};
use mman::fd::AsFd;
use mman::{Errno, MapOptions, MemfdFlags, Prot, Reservation};

#[test]
fn a_reservation_is_inaccessible_unreserved_address_space() {
    let space = Reservation::new(10 * page() - 1).unwrap();
    assert_eq!(space.len(), 10 * page(), "rounded up to whole pages");
    assert_eq!(space.committed(), 0);
    let entry = maps_entry(addr(&space, 0)).expect("mapped");
    assert!(entry.start <= space.as_ptr() as usize);
    assert!(entry.end >= space.as_ptr() as usize + space.len());
    assert_eq!(entry.perms, "---p");
    if common::smaps_is_real() {
        assert!(
            common::has_vm_flag(addr(&space, 0), "nr"),
            "MAP_NORESERVE: {:?}",
            common::vm_flags(addr(&space, 0))
        );
    }
}

#[test]
fn zero_length_and_bad_alignments_are_einval() {
    assert_eq!(err(Reservation::new(0)), Errno::EINVAL);
    for align in [0, 3, page() / 2, page() + 1, usize::MAX] {
        assert_eq!(
            err(Reservation::with_align(page(), align)),
            Errno::EINVAL,
            "{align}"
        );
    }
    assert_eq!(err(Reservation::new(usize::MAX)), Errno::ENOMEM);
}

#[test]
fn alignment_is_honoured_and_the_slack_given_back() {
    // In a forked child, where no other thread maps or unmaps meanwhile: the address space
    // the process holds (VmSize, exact) grows by the reservation alone, not by its slack.
    let end = common::in_child_checked(|| {
        for align in [page(), 2 << 20, 1 << 30] {
            let before = common::Held::now().vm_size_kb;
            let space = Reservation::with_align(3 * page(), align).unwrap();
            let after = common::Held::now().vm_size_kb;
            assert_eq!(space.as_ptr() as usize % align, 0, "{align:#x}");
            assert_eq!(perms(addr(&space, 0)), "---p");
            if !common::is_qemu_user() {
                // (qemu-user's VmSize is the emulator's own.)
                assert_eq!((after - before) * 1024, 3 * page() as u64, "{align:#x}");
            }
        }
    });
    assert_eq!(end, common::ChildEnd::Exited(0));
}

#[test]
fn commit_makes_pages_accessible_and_decommit_gives_them_back() {
    let p = page();
    let mut space = Reservation::new(8 * p).unwrap();
    space
        .commit(2 * p..5 * p, Prot::READ | Prot::WRITE)
        .unwrap();
    assert_eq!(space.committed(), 3 * p);
    let expected: Vec<&str> = (0..8)
        .map(|i| if (2..5).contains(&i) { "rw-p" } else { "---p" })
        .collect();
    assert_eq!(page_perms(&space), expected);
    let bytes = space.as_mut_slice(2 * p..5 * p).unwrap();
    assert!(bytes.iter().all(|&b| b == 0), "fresh pages read as zeros");
    bytes.fill(0xa5);
    assert_eq!(space.as_slice(3 * p..3 * p + 7).unwrap(), &[0xa5; 7]);
    assert_eq!(
        resident(space.as_ptr().wrapping_add(2 * p).cast(), 3 * p),
        vec![true; 3]
    );

    space.decommit(3 * p..4 * p).unwrap();
    assert_eq!(space.committed(), 2 * p);
    assert_eq!(perms(addr(&space, 3 * p)), "---p");
    assert_eq!(
        resident(space.as_ptr().wrapping_add(3 * p).cast(), p),
        vec![false],
        "decommitted memory is given back"
    );
    assert_eq!(err(space.as_slice(3 * p..3 * p + 1)), Errno::EACCES);
    space
        .commit(3 * p..4 * p, Prot::READ | Prot::WRITE)
        .unwrap();
    let again = space.as_slice(2 * p..5 * p).unwrap();
    assert!(again[..p].iter().all(|&b| b == 0xa5), "kept");
    assert!(
        again[p..2 * p].iter().all(|&b| b == 0),
        "zeros after decommit"
    );
    assert!(again[2 * p..].iter().all(|&b| b == 0xa5), "kept");
    assert_eq!(space.committed(), 3 * p);
}

#[test]
fn slices_need_committed_accessible_pages() {
    let p = page();
    let mut space = Reservation::new(4 * p).unwrap();
    assert_eq!(err(space.as_slice(..)), Errno::EACCES);
    assert_eq!(space.as_slice(0..0).unwrap(), &[] as &[u8]);
    space.commit(0..p, Prot::READ).unwrap();
    assert_eq!(space.as_slice(0..p).unwrap().len(), p);
    assert_eq!(err(space.as_mut_slice(0..1)), Errno::EACCES, "read-only");
    assert_eq!(
        err(space.as_slice(0..p + 1)),
        Errno::EACCES,
        "reaches a reserved page"
    );
    space.commit(0..p, Prot::empty()).unwrap();
    assert_eq!(
        space.committed(),
        p,
        "committed without access still counts"
    );
    assert_eq!(err(space.as_slice(0..1)), Errno::EACCES);
    assert_eq!(perms(addr(&space, 0)), "---p");
    space.commit(0..p, Prot::WRITE).unwrap();
    // Write-only memory is readable on most CPUs, but not promised to be.
    assert_eq!(err(space.as_slice(0..1)), Errno::EACCES);
    assert_eq!(err(space.as_slice(0..4 * p + 1)), Errno::EINVAL, "outside");
}

#[test]
fn bad_ranges_are_einval_and_change_nothing() {
    let p = page();
    let mut space = Reservation::new(4 * p).unwrap();
    space.commit(0..p, Prot::READ | Prot::WRITE).unwrap();
    space.as_mut_slice(0..p).unwrap()[0] = 9;
    let before = page_perms(&space);
    let rw = Prot::READ | Prot::WRITE;
    assert_eq!(
        err(space.commit(1..p, rw)),
        Errno::EINVAL,
        "unaligned start"
    );
    assert_eq!(
        err(space.commit(0..p - 1, rw)),
        Errno::EINVAL,
        "unaligned end"
    );
    assert_eq!(err(space.commit(0..5 * p, rw)), Errno::EINVAL, "outside");
    #[allow(clippy::reversed_empty_ranges)]
    let reversed = 2 * p..p;
    assert_eq!(err(space.commit(reversed, rw)), Errno::EINVAL, "reversed");
    assert_eq!(err(space.commit(0..p, rw | Prot::GROWSDOWN)), Errno::EINVAL);
    assert_eq!(err(space.decommit(0..1)), Errno::EINVAL);
    assert_eq!(err(space.reset(p..usize::MAX)), Errno::EINVAL);
    assert_eq!(page_perms(&space), before);
    assert_eq!(space.committed(), p);
    assert_eq!(space.as_slice(0..1).unwrap(), &[9]);
}

#[test]
fn reset_memory_is_not_lent_until_committed_again() {
    let p = page();
    let mut space = Reservation::new(4 * p).unwrap();
    let rw = Prot::READ | Prot::WRITE;
    space.commit(.., rw).unwrap();
    space.as_mut_slice(..).unwrap().fill(7);
    space.reset(0..2 * p).unwrap();
    assert_eq!(space.committed(), 4 * p, "reset memory stays committed");
    assert_eq!(err(space.as_slice(0..1)), Errno::EACCES);
    assert_eq!(space.as_slice(2 * p..).unwrap()[0], 7, "outside the reset");
    // MADV_FREE leaves the pages in place until memory runs short; the MADV_DONTNEED
    // fallback would have taken them at once.
    assert_eq!(
        resident(space.as_ptr().cast(), 2 * p),
        vec![true; 2],
        "reset used MADV_FREE"
    );
    space.commit(0..2 * p, rw).unwrap();
    let bytes = space.as_slice(0..2 * p).unwrap();
    for chunk in bytes.chunks(p) {
        // Each page reads as what it held or as zeros, all of it one or the other.
        assert!(
            chunk.iter().all(|&b| b == 7) || chunk.iter().all(|&b| b == 0),
            "a page mixes old bytes and zeros"
        );
    }
    // Only read-write memory is reset.
    space.commit(3 * p..4 * p, Prot::READ).unwrap();
    assert_eq!(err(space.reset(2 * p..4 * p)), Errno::EINVAL);
    assert_eq!(
        space.as_slice(2 * p..3 * p).unwrap()[0],
        7,
        "nothing was reset"
    );
}

#[test]
fn a_placed_mapping_takes_exactly_its_pages() {
    // In a forked child: another test thread could otherwise map into the hole the dropped mapping leaves.
    let end = common::in_child_checked(|| {
        let p = page();
        let mut space = Reservation::new(6 * p).unwrap();
        let mut placed = MapOptions::new()
            .len(2 * p)
            .map_in(&mut space, 2 * p)
            .unwrap();
        assert_eq!(placed.as_ptr(), space.as_ptr().wrapping_add(2 * p));
        placed.as_mut_slice().unwrap().fill(3);
        let expected = ["---p", "---p", "rw-p", "rw-p", "---p", "---p"];
        assert_eq!(page_perms(&space), expected);
        // The pages are the mapping's: the reservation refuses them.
        let rw = Prot::READ | Prot::WRITE;
        assert_eq!(err(space.commit(2 * p..3 * p, rw)), Errno::EINVAL);
        assert_eq!(err(space.decommit(..)), Errno::EINVAL);
        assert_eq!(err(space.as_slice(2 * p..2 * p + 1)), Errno::EACCES);
        assert_eq!(
            err(MapOptions::new().len(p).map_in(&mut space, 3 * p)),
            Errno::EINVAL
        );
        // Dropping the mapping unmaps its pages; dropping the reservation leaves them alone.
        let hole = placed.as_ptr() as usize;
        drop(placed);
        assert!(!is_mapped(hole as *const c_void));
        let squatter = unsafe {
            mman::sys::mmap(
                hole as *mut c_void,
                2 * p,
                Prot::READ,
                mman::MapFlags::PRIVATE
                    | mman::MapFlags::ANONYMOUS
                    | mman::MapFlags::FIXED_NOREPLACE,
                -1,
                0,
            )
        }
        .unwrap();
        assert_eq!(squatter as usize, hole);
        let rest = space.as_ptr() as usize;
        drop(space);
        assert!(
            !is_mapped(rest as *const c_void),
            "the reservation's own pages are unmapped"
        );
        assert_eq!(
            perms(squatter),
            "r--p",
            "the mapping in the hole was left alone"
        );
        unsafe { mman::sys::munmap(squatter, 2 * p) }.unwrap();
    });
    assert_eq!(end, common::ChildEnd::Exited(0));
}

#[test]
fn placement_errors_change_nothing() {
    // In a forked child: another test thread could otherwise map into the pages a refused placement frees for a moment.
    let end = common::in_child_checked(|| {
        let p = page();
        // Aligned to the shared alignment, so that the shared placement below, of file
        // offset p at p, is at its cache colour on mips too and reaches the kernel's
        // permission check (a misplaced one would be EINVAL there first).
        let mut space = Reservation::with_align(4 * p, mman::shared_alignment()).unwrap();
        space.commit(0..p, Prot::READ).unwrap();
        let one = MapOptions::new().len(p);
        assert_eq!(err(one.map_in(&mut space, 0)), Errno::EBUSY, "committed");
        assert_eq!(
            err(one.map_in(&mut space, p + 1)),
            Errno::EINVAL,
            "unaligned"
        );
        assert_eq!(err(one.map_in(&mut space, 4 * p)), Errno::EINVAL, "outside");
        assert_eq!(
            err(one.map_in(&mut space, usize::MAX)),
            Errno::EINVAL,
            "overflow"
        );
        assert_eq!(
            err(MapOptions::new().len(2 * p).map_in(&mut space, 3 * p)),
            Errno::EINVAL
        );
        assert_eq!(
            err(MapOptions::new().map_in(&mut space, p)),
            Errno::EINVAL,
            "no length"
        );
        assert_eq!(err(one.grows_down().map_in(&mut space, p)), Errno::EINVAL);
        let at = space.as_ptr() as usize + p;
        assert_eq!(err(one.at(at).map_in(&mut space, p)), Errno::EINVAL);
        let misaligned = if (space.as_ptr() as usize + p) % (2 * p) != 0 {
            p
        } else {
            2 * p
        };
        let refused = one.align(2 * p).map_in(&mut space, misaligned);
        assert_eq!(err(refused), Errno::EINVAL, "misaligned");
        assert_eq!(page_perms(&space), ["r--p", "---p", "---p", "---p"]);
        // The kernel's refusal (a read-only descriptor mapped shared and writable): the pages
        // are reserved again, and can be placed into afterwards.
        let memfd = common::memfd("mman-place", MemfdFlags::CLOEXEC, 2 * p as u64);
        let path = format!(
            "/proc/self/fd/{}",
            mman::fd::AsRawFd::as_raw_fd(&memfd.as_fd())
        );
        let read_only = std::os::fd::IntoRawFd::into_raw_fd(std::fs::File::open(path).unwrap());
        // SAFETY: the descriptor was just opened and is owned by nothing else.
        let read_only =
            unsafe { <mman::fd::OwnedFd as mman::fd::FromRawFd>::from_raw_fd(read_only) };
        let refused = MapOptions::new()
            .len(p)
            .shared()
            .map_file_in(&mut space, p, &read_only, p as u64);
        assert_eq!(err(refused), Errno::EACCES);
        assert_eq!(page_perms(&space), ["r--p", "---p", "---p", "---p"]);
        let colour = common::kernel_shared_colour();
        assert_eq!(
            mman::shared_alignment() % colour,
            0,
            "SHMLBA bounds the colour"
        );
        if colour > p {
            // Where data caches alias (mips), a shared placement away from its offset's
            // colour (offset 0 at p) is the kernel's EINVAL, the pages reserved again.
            let refused = MapOptions::new()
                .len(p)
                .shared()
                .map_file_in(&mut space, p, &memfd, 0);
            assert_eq!(err(refused), Errno::EINVAL, "misplaced colour");
            assert_eq!(page_perms(&space), ["r--p", "---p", "---p", "---p"]);
        }
        let placed = one
            .map_in(&mut space, p)
            .expect("the pages are the reservation's again");
        assert_eq!(perms(placed.as_ptr().cast()), "rw-p");
    });
    assert_eq!(end, common::ChildEnd::Exited(0));
}

#[test]
fn one_file_placed_twice_back_to_back_is_one_ring_of_bytes() {
    // Two pages, or on mips a multiple of SHMLBA, each half at the cache colour of offset 0
    // (a reservation aligned to it), as the kernel requires there of shared placements.
    let p = page().max(mman::shared_alignment() / 2);
    let memfd = common::memfd("mman-mirror", MemfdFlags::CLOEXEC, 2 * p as u64);
    let mut space = Reservation::with_align(4 * p, 2 * p).unwrap();
    let shared = MapOptions::new().len(2 * p).shared();
    let mut low = shared.map_file_in(&mut space, 0, &memfd, 0).unwrap();
    let mut high = shared.map_file_in(&mut space, 2 * p, &memfd, 0).unwrap();
    assert_eq!(high.as_ptr(), low.as_ptr().wrapping_add(2 * p));
    low.write_at(0, b"ring").unwrap();
    high.write_at(2 * p - 2, b"xy").unwrap();
    let mut seen = [0u8; 4];
    high.read_at(0, &mut seen).unwrap();
    assert_eq!(
        &seen, b"ring",
        "the low half's bytes, seen through the high half"
    );
    // Read straight across the boundary of the two halves: one run of bytes.
    let across: Vec<u8> = (0..6)
        .map(|i| common::read_byte(low.as_ptr().wrapping_add(2 * p - 2 + i)))
        .collect();
    assert_eq!(&across, b"xyring");
}

#[test]
fn a_file_placed_at_an_unaligned_offset_starts_with_its_page() {
    let p = page();
    let memfd = common::memfd("mman-place-offset", MemfdFlags::CLOEXEC, 2 * p as u64);
    mman::sys::write(memfd.as_fd(), &[1u8; 16]).unwrap();
    let mut space = Reservation::new(2 * p).unwrap();
    let placed = MapOptions::new()
        .len(4)
        .map_file_in(&mut space, 0, &memfd, 10)
        .unwrap();
    assert_eq!(placed.as_ptr(), space.as_ptr().wrapping_add(10));
    let mut bytes = [0u8; 4];
    placed.read_at(0, &mut bytes).unwrap();
    assert_eq!(bytes, [1; 4]);
    assert_eq!(
        perms(addr(&space, p)),
        "---p",
        "only the first page was placed"
    );
}

#[test]
fn aligned_mappings_start_at_the_multiple() {
    for align in [page(), 2 << 20, 64 << 20] {
        let mut m = MapOptions::new()
            .len(3 * page())
            .align(align)
            .map()
            .unwrap();
        assert_eq!(m.as_ptr() as usize % align, 0, "{align:#x}");
        m.as_mut_slice().unwrap().fill(1);
        m.remap(6 * page(), true).unwrap();
        assert_eq!(
            m.as_slice().unwrap()[3 * page() - 1],
            1,
            "an ordinary mapping"
        );
    }
    for bad in [3, page() / 2] {
        assert_eq!(
            err(MapOptions::new().len(page()).align(bad).map()),
            Errno::EINVAL
        );
    }
    let at = MapOptions::new()
        .len(page())
        .align(2 << 20)
        .at(2 << 20)
        .map();
    assert_eq!(err(at), Errno::EINVAL);
}

/// Why transparent huge pages cannot be checked here, if they cannot.
fn thp_unavailable() -> Option<String> {
    if common::is_qemu_user() {
        return Some("qemu-user reports the host's smaps, not the guest's".into());
    }
    match std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled") {
        Err(e) => Some(format!("no transparent huge pages in this kernel ({e})")),
        Ok(mode) if mode.contains("[never]") => Some(format!("THP disabled: {}", mode.trim())),
        Ok(_) => None,
    }
}

/// `thp_fault_fallback` of `/proc/vmstat`: faults in huge-page-eligible memory that found
/// no free huge page and took a small one (0 where the kernel does not count them).
fn thp_fault_fallbacks() -> u64 {
    std::fs::read_to_string("/proc/vmstat")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("thp_fault_fallback ")?.parse().ok())
        .unwrap_or(0)
}

/// The size of a transparent huge page (a PMD's worth: 2 MiB with 4 KiB pages, 32 MiB with
/// 16 KiB, 512 MiB with 64 KiB), as the kernel reports it.
fn pmd_size() -> usize {
    std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size")
        .expect("hpage_pmd_size")
        .trim()
        .parse()
        .expect("a number")
}

#[test]
fn an_aligned_populated_region_is_backed_by_huge_pages() {
    if let Some(reason) = thp_unavailable() {
        skip!("{reason}");
    }
    let huge = pmd_size();
    let mut m = MapOptions::new()
        .len(4 * huge)
        .align(huge)
        .transparent_huge_pages()
        .map()
        .unwrap();
    let fallbacks = thp_fault_fallbacks();
    m.as_mut_slice().unwrap().fill(1);
    let kb: usize = common::smaps_field(m.as_ptr().cast(), "AnonHugePages")
        .and_then(|v| v.trim_end_matches(" kB").parse().ok())
        .expect("AnonHugePages in smaps");
    let fell_back = thp_fault_fallbacks().saturating_sub(fallbacks);
    if kb == 0 && fell_back > 0 {
        // The region was eligible, and the kernel said so: it tried, and found no free
        // huge page (memory fragmented, by the page cache of a long-running machine).
        skip!("the kernel found no free huge page for this region's faults (thp_fault_fallback rose by {fell_back})");
    }
    assert!(
        kb >= huge / 1024,
        "AnonHugePages {kb} kB after touching 4 huge pages of {huge} bytes"
    );
}

#[test]
fn names_show_in_proc_self_maps() {
    let p = page();
    let mut space = Reservation::new(4 * p).unwrap();
    match space.set_name(c"mman-test-space") {
        Ok(()) => {}
        Err(Errno::EINVAL) if common::is_qemu_user() => {
            skip!("qemu-user does not emulate PR_SET_VMA")
        }
        Err(Errno::EINVAL) => skip!(
            "PR_SET_VMA_ANON_NAME refused a valid name: kernel {} without CONFIG_ANON_VMA_NAME",
            common::kernel_release()
        ),
        Err(e) => panic!("set_name: {e}"),
    }
    let entry = maps_entry(addr(&space, 0)).unwrap();
    if common::is_qemu_user() {
        skip!("qemu-user synthesizes /proc/self/maps without names");
    }
    assert_eq!(entry.path, "[anon:mman-test-space]");
    space.commit(0..p, Prot::READ | Prot::WRITE).unwrap();
    assert_eq!(
        maps_entry(addr(&space, 0)).unwrap().path,
        "[anon:mman-test-space]"
    );
    let m = MapOptions::new()
        .len(p)
        .name(c"mman-test-map")
        .map()
        .unwrap();
    assert_eq!(
        maps_entry(m.as_ptr().cast()).unwrap().path,
        "[anon:mman-test-map]"
    );
    m.set_name(c"renamed").unwrap();
    assert_eq!(
        maps_entry(m.as_ptr().cast()).unwrap().path,
        "[anon:renamed]"
    );
    assert_eq!(err(m.set_name(c"no[brackets]")), Errno::EINVAL);
    let long = std::ffi::CString::new("x".repeat(80)).unwrap();
    assert_eq!(err(m.set_name(&long)), Errno::EINVAL, "80 bytes and a NUL");
    let memfd = common::memfd("mman-name", MemfdFlags::CLOEXEC, p as u64);
    let file = MapOptions::new().len(p).map_file(&memfd, 0).unwrap();
    assert_eq!(err(file.set_name(c"file")), Errno::EBADF);
}

#[test]
fn into_raw_and_from_raw_hand_the_range_over() {
    let p = page();
    let space = Reservation::new(3 * p).unwrap();
    let (ptr, len) = space.into_raw();
    assert_eq!(len, 3 * p);
    assert!(is_mapped(ptr.cast()), "into_raw unmaps nothing");
    assert_eq!(
        err(unsafe { Reservation::from_raw(ptr.wrapping_add(1), p) }),
        Errno::EINVAL
    );
    assert_eq!(err(unsafe { Reservation::from_raw(ptr, 0) }), Errno::EINVAL);
    assert_eq!(
        err(unsafe { Reservation::from_raw(core::ptr::null_mut(), p) }),
        Errno::EINVAL
    );
    let mut space = unsafe { Reservation::from_raw(ptr, len) }.unwrap();
    space.commit(.., Prot::READ | Prot::WRITE).unwrap();
    space.as_mut_slice(..).unwrap()[0] = 1;
    // Dropped in a child, of one thread: in this process another test's mapping may take
    // the range as soon as it is free.
    let end = in_child_checked(move || {
        drop(space);
        assert!(!is_mapped(ptr.cast()), "the drop unmaps the range");
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

#[test]
fn from_raw_refuses_the_stacks_reach() {
    // The auxiliary vector's random bytes lie at the top of the main thread's stack (the
    // test runs on another thread, whose stack is an ordinary mapping).
    let random = unsafe { libc::getauxval(libc::AT_RANDOM) } as usize;
    assert_ne!(random, 0);
    let near = (random & !(page() - 1)) - 16 * page();
    let adopted = unsafe { Reservation::from_raw(near as *mut u8, page()) };
    assert_eq!(err(adopted), Errno::ENOMEM);
}

#[test]
fn large_reservations_keep_their_page_states_in_a_mapping_of_their_own() {
    // 4 GiB: a million pages of 4 KiB, beyond what fits inline (512 pages); in a 32-bit
    // address space 256 MiB, still 65,536 pages.
    let p = page();
    let size = if usize::BITS == 64 {
        1 << (usize::BITS / 2)
    } else {
        256 << 20
    };
    let mut space = Reservation::with_align(size, size / 4).unwrap();
    let last = space.len() - p;
    space.commit(last.., Prot::READ | Prot::WRITE).unwrap();
    space.as_mut_slice(last..).unwrap()[p - 1] = 5;
    assert_eq!(space.as_slice(last..).unwrap()[p - 1], 5);
    assert_eq!(err(space.as_slice(last - 1..)), Errno::EACCES);
    assert_eq!(space.committed(), p);
}

#[test]
fn nothing_leaks() {
    let p = page();
    common::assert_no_leak(
        "reservations",
        20,
        || (),
        || {
            let mut space = Reservation::with_align(64 * p, 16 * p).unwrap();
            space.commit(0..8 * p, Prot::READ | Prot::WRITE).unwrap();
            space.as_mut_slice(0..8 * p).unwrap().fill(1);
            space.reset(0..4 * p).unwrap();
            space.decommit(4 * p..8 * p).unwrap();
            let placed = MapOptions::new()
                .len(4 * p)
                .map_in(&mut space, 16 * p)
                .unwrap();
            let refused = MapOptions::new().len(p).map_in(&mut space, 0);
            assert_eq!(refused.err(), Some(Errno::EBUSY));
            drop(placed);
            let big = Reservation::new(1 << 30).unwrap();
            drop(big);
            let aligned = MapOptions::new().len(p).align(32 * p).map().unwrap();
            drop(aligned);
            // Handed over: the range is the caller's, the page table (a mapping of its own
            // for a reservation this large: 4 GiB, 256 MiB on 32-bit targets) is given back.
            let large = if usize::BITS == 64 {
                1 << (usize::BITS / 2)
            } else {
                256 << 20
            };
            let (ptr, len) = Reservation::new(large).unwrap().into_raw();
            unsafe { mman::sys::munmap(ptr.cast(), len) }.unwrap();
        },
    );
}

#[test]
fn a_placement_whose_name_is_refused_gives_its_pages_back_to_the_reservation() {
    // In a forked child: another test thread could otherwise map into the pages a refused placement frees for a moment.
    let end = common::in_child_checked(|| {
        let p = page();
        let mut space = Reservation::new(4 * p).unwrap();
        // '$' is refused in names (and so is every name where the kernel cannot name memory).
        let named = MapOptions::new()
            .len(p)
            .name(c"bad$name")
            .map_in(&mut space, p);
        assert_eq!(err(named), Errno::EINVAL);
        assert_eq!(perms(addr(&space, p)), "---p", "reserved again");
        let placed = MapOptions::new().len(p).map_in(&mut space, p).unwrap();
        assert_eq!(placed.as_ptr(), space.as_ptr().wrapping_add(p));
    });
    assert_eq!(end, common::ChildEnd::Exited(0));
}

#[test]
fn reset_never_leaves_lent_memory_lazily_freed() {
    // Adopted memory may hold bytes although its pages count as reserved: reset must not
    // free it lazily behind the book-keeping's back.
    let p = page();
    let mut space = Reservation::new(p).unwrap();
    space.commit(.., Prot::READ | Prot::WRITE).unwrap();
    space.as_mut_slice(..).unwrap().fill(7);
    let (ptr, len) = space.into_raw();
    let mut space = unsafe { Reservation::from_raw(ptr, len) }.unwrap();
    space.reset(..).unwrap();
    space.commit(.., Prot::READ | Prot::WRITE).unwrap();
    let bytes = space.as_slice(..).unwrap();
    assert_eq!(bytes[0], 7);
    // Memory pressure, as the kernel may apply it at any time (it changes no byte of
    // memory that is not lazily freed).
    match unsafe { mman::sys::madvise(ptr.cast(), p, mman::Advice::PageOut) } {
        Ok(()) => {}
        Err(Errno::EINVAL) => skip!(
            "MADV_PAGEOUT unknown (Linux 5.4; {})",
            common::kernel_release()
        ),
        Err(e) => panic!("MADV_PAGEOUT: {e}"),
    }
    assert_eq!(common::read_byte(&bytes[0]), 7, "a lent slice changed");
}

#[test]
fn map_in_refuses_alignments_below_a_page() {
    let mut space = Reservation::new(page()).unwrap();
    let small = MapOptions::new().len(page()).align(16);
    assert_eq!(err(small.map()), Errno::EINVAL);
    assert_eq!(err(small.map_in(&mut space, 0)), Errno::EINVAL);
    // 0 is the default: no alignment beyond a page.
    let default = MapOptions::new().len(page()).align(0);
    assert!(default.map_in(&mut space, 0).is_ok());
}

#[test]
fn an_empty_slice_touches_no_page() {
    let space = Reservation::new(page()).unwrap();
    assert_eq!(space.as_slice(0..0).map(<[u8]>::len), Ok(0));
    assert_eq!(space.as_slice(3..3).map(<[u8]>::len), Ok(0));
    assert_eq!(err(space.as_slice(3..4)), Errno::EACCES);
}
