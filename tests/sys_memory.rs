//! `mman::sys` mapping calls against the real kernel: mmap, munmap, mprotect, msync, mremap,
//! madvise (every advice), mincore, mseal, process_madvise, cachestat.
//!
//! Results are checked through the memory itself, `/proc/self/maps` and `smaps`, `mincore`,
//! forked children (for accesses that must fault) and the errno values the man pages list.
//!
//! Ranges that must stay unmapped after a test unmaps them live in the quiet area (see
//! `common::quiet_area`), where no other test's mapping can land meanwhile.

#[macro_use]
mod common;

use mman::fd::{AsFd, AsRawFd};
use std::ffi::c_void;
use std::ptr;

use common::*;
use mman::sys::{self, CacheStatRange, IoVec};
use mman::{Advice, Errno, MapFlags, MemfdFlags, MremapFlags, MsyncFlags, Prot};

const RW: Prot = Prot::READ.union(Prot::WRITE);
const PRIVATE_ANON: MapFlags = MapFlags::PRIVATE.union(MapFlags::ANONYMOUS);

fn fill(map: &mut Map, seed: u8) {
    for (i, b) in map.bytes_mut().iter_mut().enumerate() {
        *b = seed.wrapping_add(i as u8);
    }
}

fn check_pattern(bytes: &[u8], seed: u8) {
    for (i, b) in bytes.iter().enumerate() {
        assert_eq!(*b, seed.wrapping_add(i as u8), "byte {i}");
    }
}

// ---------------------------------------------------------------------------------------
// mmap / munmap

#[test]
fn mmap_anonymous_is_zeroed_writable_and_listed_rw_p_with_its_extent() {
    let len = 3 * page();
    let (_reservation, p) = isolated(len, RW, PRIVATE_ANON, -1, 0);
    let mut map = Map::adopt(p, len);
    assert!(
        map.bytes().iter().all(|&b| b == 0),
        "fresh anonymous memory is zero"
    );
    fill(&mut map, 7);
    check_pattern(map.bytes(), 7);
    let entry = maps_entry(p).expect("mapping listed");
    assert_eq!(entry.perms, "rw-p");
    assert_eq!((entry.start, entry.end), (map.addr(), map.addr() + len));
    assert_eq!(entry.path, "");
    assert_eq!(unsafe { sys::munmap(map.ptr, len) }, Ok(()));
    assert!(!is_mapped(p), "unmapped range left /proc/self/maps");
    map.leak();
}

#[test]
fn mmap_lets_the_kernel_choose_a_page_aligned_address() {
    let map = Map::anon(page() + 1);
    assert_eq!(map.addr() % page(), 0);
    // The length is rounded up to whole pages: the last byte of the second page exists.
    write_byte(map.page_ptr(1).wrapping_add(page() - 1), 1);
    assert_eq!(read_byte(map.page_ptr(1).wrapping_add(page() - 1)), 1);
}

#[test]
fn mmap_memfd_at_an_offset_reads_what_write_put_there() {
    let fd = memfd("mmap-offset", MemfdFlags::CLOEXEC, 0);
    let mut contents = vec![b'a'; page()];
    contents.extend(std::iter::repeat_n(b'b', page()));
    assert_eq!(sys::write(fd.as_fd(), &contents), Ok(2 * page()));
    let map = Map::new(
        page(),
        Prot::READ,
        MapFlags::PRIVATE,
        fd.as_raw_fd(),
        page() as u64,
    );
    assert!(
        map.bytes().iter().all(|&b| b == b'b'),
        "second page of the file"
    );
    let entry = maps_entry(map.ptr).expect("mapping listed");
    assert_eq!(entry.perms, "r--p");
    assert_eq!(entry.path, "/memfd:mmap-offset (deleted)");
}

#[test]
fn mmap_shared_memfd_two_mappings_see_each_others_writes() {
    let fd = memfd("shared-twice", MemfdFlags::CLOEXEC, 2 * page() as u64);
    let mut a = Map::shared(&fd, 2 * page(), 0);
    let b = Map::shared(&fd, 2 * page(), 0);
    assert_ne!(a.ptr, b.ptr);
    fill(&mut a, 42);
    check_pattern(b.bytes(), 42);
    assert_eq!(perms(b.ptr), "rw-s");
}

#[test]
fn mmap_private_file_mapping_does_not_write_through() {
    let fd = memfd("private-cow", MemfdFlags::CLOEXEC, page() as u64);
    let shared = Map::shared(&fd, page(), 0);
    let mut private = Map::new(page(), RW, MapFlags::PRIVATE, fd.as_raw_fd(), 0);
    fill(&mut private, 3);
    assert!(
        shared.bytes().iter().all(|&b| b == 0),
        "copy-on-write stays private"
    );
}

#[test]
fn mmap_zero_length_is_einval() {
    let r = unsafe { sys::mmap(ptr::null_mut(), 0, RW, PRIVATE_ANON, -1, 0) };
    assert_eq!(err(r), Errno::EINVAL);
}

#[test]
fn mmap_unaligned_offset_is_einval() {
    let fd = memfd("unaligned-off", MemfdFlags::CLOEXEC, 2 * page() as u64);
    let r = unsafe {
        sys::mmap(
            ptr::null_mut(),
            page(),
            Prot::READ,
            MapFlags::SHARED,
            fd.as_raw_fd(),
            1,
        )
    };
    assert_eq!(err(r), Errno::EINVAL);
}

#[test]
fn mmap_bad_descriptor_is_ebadf() {
    let r = unsafe {
        sys::mmap(
            ptr::null_mut(),
            page(),
            Prot::READ,
            MapFlags::SHARED,
            9999,
            0,
        )
    };
    assert_eq!(err(r), Errno::EBADF);
}

#[test]
fn mmap_fixed_noreplace_over_a_mapping_is_eexist() {
    let existing = Map::anon(2 * page());
    let r = unsafe {
        sys::mmap(
            existing.ptr,
            page(),
            RW,
            PRIVATE_ANON | MapFlags::FIXED_NOREPLACE,
            -1,
            0,
        )
    };
    assert_eq!(err(r), Errno::EEXIST);
}

#[test]
fn mmap_fixed_noreplace_on_a_free_address_maps_exactly_there() {
    let want = free_address(page());
    let got = unsafe {
        sys::mmap(
            want,
            page(),
            RW,
            PRIVATE_ANON | MapFlags::FIXED_NOREPLACE,
            -1,
            0,
        )
    }
    .expect("mmap FIXED_NOREPLACE");
    let _map = Map::adopt(got, page());
    assert_eq!(got, want);
}

#[test]
fn mmap_fixed_replaces_what_was_there() {
    let mut map = Map::anon(page());
    fill(&mut map, 9);
    let got = unsafe { sys::mmap(map.ptr, page(), RW, PRIVATE_ANON | MapFlags::FIXED, -1, 0) };
    assert_eq!(got, Ok(map.ptr));
    assert!(
        map.bytes().iter().all(|&b| b == 0),
        "a fresh mapping replaced the old one"
    );
}

#[test]
fn mmap_shared_validate_rejects_flags_the_file_does_not_support() {
    let fd = memfd("validate", MemfdFlags::CLOEXEC, page() as u64);
    let raw = fd.as_raw_fd();
    // MAP_SYNC is only for DAX files; plain MAP_SHARED would ignore it. (mips has none.)
    #[cfg(not(target_arch = "mips64"))]
    {
        let flags = MapFlags::SHARED_VALIDATE | MapFlags::SYNC;
        let r = unsafe { sys::mmap(ptr::null_mut(), page(), RW, flags, raw, 0) };
        assert_eq!(err(r), Errno::EOPNOTSUPP);
    }
    // A bit no kernel defines.
    let unknown = MapFlags::SHARED_VALIDATE | MapFlags::from_bits_retain(0x0080_0000);
    let r = unsafe { sys::mmap(ptr::null_mut(), page(), RW, unknown, raw, 0) };
    assert_eq!(err(r), Errno::EOPNOTSUPP);
    // The same unknown bit with plain SHARED is ignored.
    let lax = MapFlags::SHARED | MapFlags::from_bits_retain(0x0080_0000);
    let p = unsafe { sys::mmap(ptr::null_mut(), page(), RW, lax, raw, 0) }
        .expect("MAP_SHARED ignores it");
    drop(Map::adopt(p, page()));
}

#[test]
fn mmap_huge_2mb_flag_reaches_the_kernel() {
    // Where 2 MiB is a huge page size of this kernel (/sys/kernel/mm/hugepages), the call
    // maps 2 MiB from the pool, or fails with ENOMEM when the pool has no free page and no
    // surplus is allowed; where it is not (arm64 with 16 or 64 KiB pages has other sizes),
    // EINVAL. Either way the call must not be mistaken for a normal mapping.
    let len = 2 << 20;
    let flags = PRIVATE_ANON | MapFlags::huge_page_size_log2(21);
    let result = unsafe { sys::mmap(ptr::null_mut(), len, RW, flags, -1, 0) };
    if !huge_page_sizes().contains(&len) {
        assert_eq!(
            err(result),
            Errno::EINVAL,
            "2 MiB is not a huge page size here"
        );
        skip!(
            "2 MiB is not a huge page size of this kernel (sizes: {:?})",
            huge_page_sizes()
        );
    }
    let pool = |file: &str| -> u64 {
        let path = format!("/sys/kernel/mm/hugepages/hugepages-2048kB/{file}");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        text.trim().parse().expect("a number")
    };
    match result {
        Ok(p) => {
            let map = Map::adopt(p, len);
            assert_eq!(
                map.addr() % len,
                0,
                "a 2 MiB huge page mapping is 2 MiB aligned"
            );
            if smaps_is_real() {
                assert_eq!(smaps_field(p, "KernelPageSize").as_deref(), Some("2048 kB"));
            }
        }
        Err(Errno::ENOMEM) => {
            // Read after the call: another process may have taken the last free page.
            assert_eq!(pool("free_hugepages"), 0, "ENOMEM with free huge pages");
            skip!("2 MiB huge page pool empty (ENOMEM checked): reserve some to map one");
        }
        Err(e) => panic!("MAP_HUGETLB|MAP_HUGE_2MB where 2 MiB is a huge page size: {e}"),
    }
}

#[test]
fn munmap_unaligned_address_is_einval() {
    let map = Map::anon(2 * page());
    let r = unsafe { sys::munmap(map.ptr.cast::<u8>().add(1).cast(), page()) };
    assert_eq!(err(r), Errno::EINVAL);
}

#[test]
fn munmap_zero_length_is_einval() {
    let map = Map::anon(page());
    assert_eq!(err(unsafe { sys::munmap(map.ptr, 0) }), Errno::EINVAL);
}

#[test]
fn munmap_of_one_page_splits_the_mapping() {
    let len = 3 * page();
    let (_reservation, p) = isolated(len, RW, PRIVATE_ANON, -1, 0);
    let middle = p.cast::<u8>().wrapping_add(page()).cast::<c_void>();
    assert_eq!(unsafe { sys::munmap(middle, page()) }, Ok(()));
    assert!(is_mapped(p));
    assert!(!is_mapped(middle));
    assert!(is_mapped(middle.cast::<u8>().wrapping_add(page()).cast()));
}

// ---------------------------------------------------------------------------------------
// mprotect

#[test]
fn mprotect_changes_are_visible_in_maps() {
    let map = Map::anon(page());
    assert_eq!(
        unsafe { sys::mprotect(map.ptr, page(), Prot::READ) },
        Ok(())
    );
    assert_eq!(perms(map.ptr), "r--p");
    assert_eq!(
        unsafe { sys::mprotect(map.ptr, page(), Prot::READ | Prot::EXEC) },
        Ok(())
    );
    assert_eq!(perms(map.ptr), "r-xp");
    assert_eq!(
        unsafe { sys::mprotect(map.ptr, page(), Prot::empty()) },
        Ok(())
    );
    assert_eq!(perms(map.ptr), "---p");
    assert_eq!(unsafe { sys::mprotect(map.ptr, page(), RW) }, Ok(()));
    assert_eq!(perms(map.ptr), "rw-p");
}

#[test]
fn mprotect_of_the_middle_page_splits_into_three_entries() {
    let len = 3 * page();
    let (_reservation, p) = isolated(len, RW, PRIVATE_ANON, -1, 0);
    let map = Map::adopt(p, len);
    assert_eq!(
        unsafe { sys::mprotect(map.page_ptr(1).cast(), page(), Prot::READ) },
        Ok(())
    );
    let middle = maps_entry(map.page_ptr(1).cast()).expect("middle listed");
    assert_eq!(
        (middle.start, middle.end, middle.perms.as_str()),
        (map.addr() + page(), map.addr() + 2 * page(), "r--p")
    );
    assert_eq!(perms(map.page_ptr(0).cast()), "rw-p");
    assert_eq!(perms(map.page_ptr(2).cast()), "rw-p");
}

#[test]
fn mprotect_read_only_makes_writes_fault() {
    let map = Map::anon(page());
    write_byte(map.page_ptr(0), 5);
    assert_eq!(
        unsafe { sys::mprotect(map.ptr, page(), Prot::READ) },
        Ok(())
    );
    assert_eq!(read_byte(map.page_ptr(0)), 5, "still readable");
    let end = in_child(|| {
        write_byte(map.page_ptr(0), 6);
        0
    });
    assert_eq!(end, ChildEnd::Signaled(libc::SIGSEGV));
}

/// Private pages that were only read map the kernel's shared zero page. Protecting them and
/// then discarding, writing and unmapping them must leave that page alone: a discarded page
/// reads as zeros, a written one gets a page of its own, and fresh memory reads as zeros.
/// mips kernels before 6.4 free the zero page here instead (`BUG: Bad page map`, which the
/// system lane's console check reports), so the test skips there.
#[test]
fn protecting_pages_that_map_the_zero_page_leaves_the_zero_page_alone() {
    if let Some(reason) = mips_zero_page_protect_bug() {
        skip!("{reason}");
    }
    let pages = 4;
    let len = pages * page();
    for prot in [Prot::empty(), Prot::READ, RW] {
        let map = Map::new(len, Prot::READ, PRIVATE_ANON, -1, 0);
        for i in 0..pages {
            assert_eq!(read_byte(map.page_ptr(i)), 0, "fresh page {i}");
        }
        assert_eq!(unsafe { sys::mprotect(map.ptr, len, prot) }, Ok(()));
        assert_eq!(
            unsafe { sys::madvise(map.ptr, page(), Advice::DontNeed) },
            Ok(())
        );
        assert_eq!(unsafe { sys::mprotect(map.ptr, len, RW) }, Ok(()));
        write_byte(map.page_ptr(1), 7);
        assert_eq!(read_byte(map.page_ptr(1)), 7, "{prot:?}: the written page");
        let others = map
            .bytes()
            .iter()
            .enumerate()
            .filter(|&(i, &b)| i != page() && b != 0)
            .count();
        assert_eq!(others, 0, "{prot:?}: bytes that are not zeros");
        drop(map);
        let fresh = Map::new(len, Prot::READ, PRIVATE_ANON, -1, 0);
        assert!(
            fresh.bytes().iter().all(|&b| b == 0),
            "{prot:?}: fresh memory after the unmap"
        );
    }
}

#[test]
fn mprotect_unaligned_is_einval() {
    let map = Map::anon(2 * page());
    let r = unsafe { sys::mprotect(map.ptr.cast::<u8>().add(1).cast(), page(), Prot::READ) };
    assert_eq!(err(r), Errno::EINVAL);
}

#[test]
fn mprotect_unmapped_range_is_enomem() {
    let hole = free_address(page());
    let r = unsafe { sys::mprotect(hole, page(), Prot::READ) };
    if r.is_ok() && qemu_user_reserves_the_address_space() {
        skip!("qemu-user's reservation backs a 32-bit program's holes: mprotect finds memory");
    }
    assert_eq!(err(r), Errno::ENOMEM);
}

#[test]
fn mprotect_unknown_prot_bit_is_einval() {
    let map = Map::anon(page());
    let r = unsafe { sys::mprotect(map.ptr, page(), Prot::READ | Prot::from_bits_retain(0x40)) };
    assert_eq!(err(r), Errno::EINVAL);
}

#[test]
fn mprotect_accepts_prot_sem_and_refuses_growsdown_on_an_ordinary_mapping() {
    let map = Map::anon(page());
    let r = unsafe { sys::mprotect(map.ptr, page(), Prot::READ | Prot::SEM) };
    assert_eq!(r, Ok(()));
    assert_eq!(perms(map.ptr), "r--p");
    // PROT_GROWSDOWN asks to extend the change to a grows-down mapping's start; this one
    // does not grow down.
    let r = unsafe { sys::mprotect(map.ptr, page(), Prot::READ | Prot::GROWSDOWN) };
    assert_eq!(err(r), Errno::EINVAL);
}

// ---------------------------------------------------------------------------------------
// msync

#[test]
fn msync_sync_on_a_shared_file_mapping_reaches_the_file() {
    let fd = memfd("msync", MemfdFlags::CLOEXEC, page() as u64);
    let mut map = Map::shared(&fd, page(), 0);
    fill(&mut map, 11);
    assert_eq!(
        unsafe { sys::msync(map.ptr, page(), MsyncFlags::SYNC) },
        Ok(())
    );
    assert_eq!(
        unsafe { sys::msync(map.ptr, page(), MsyncFlags::ASYNC) },
        Ok(())
    );
    assert_eq!(
        unsafe { sys::msync(map.ptr, page(), MsyncFlags::SYNC | MsyncFlags::INVALIDATE) },
        Ok(())
    );
    let mut back = vec![0u8; page()];
    let n = unsafe { libc::pread(fd.as_raw_fd(), back.as_mut_ptr().cast(), page(), 0) };
    assert_eq!(n, page() as isize);
    check_pattern(&back, 11);
}

#[test]
fn msync_unaligned_is_einval() {
    let map = Map::anon(2 * page());
    let r = unsafe { sys::msync(map.ptr.cast::<u8>().add(1).cast(), page(), MsyncFlags::SYNC) };
    assert_eq!(err(r), Errno::EINVAL);
}

#[test]
fn msync_async_and_sync_together_is_einval() {
    let map = Map::anon(page());
    let r = unsafe { sys::msync(map.ptr, page(), MsyncFlags::ASYNC | MsyncFlags::SYNC) };
    assert_eq!(err(r), Errno::EINVAL);
}

#[test]
fn msync_unmapped_range_is_enomem() {
    let hole = free_address(page());
    let r = unsafe { sys::msync(hole, page(), MsyncFlags::SYNC) };
    if r.is_ok() && qemu_user_reserves_the_address_space() {
        skip!("qemu-user's reservation backs a 32-bit program's holes: msync finds memory");
    }
    assert_eq!(err(r), Errno::ENOMEM);
}

// ---------------------------------------------------------------------------------------
// mremap

#[test]
fn mremap_grow_keeps_contents_and_maps_the_new_length() {
    let mut map = Map::anon(2 * page());
    fill(&mut map, 21);
    let old = map.ptr;
    let p = unsafe {
        sys::mremap(
            old,
            2 * page(),
            8 * page(),
            MremapFlags::MAYMOVE,
            ptr::null_mut(),
        )
    }
    .expect("mremap grow");
    map.leak();
    let grown = Map::adopt(p, 8 * page());
    check_pattern(&grown.bytes()[..2 * page()], 21);
    assert!(
        grown.bytes()[2 * page()..].iter().all(|&b| b == 0),
        "new pages are zero"
    );
    let last = grown.page_ptr(7).cast::<c_void>();
    assert_eq!(perms(last), "rw-p");
}

#[test]
fn mremap_grow_in_place_without_maymove_fails_when_blocked() {
    // The page after the mapping is taken by a guard, so growing in place is impossible and,
    // without MAYMOVE, the kernel must refuse rather than move.
    let (_reservation, p) = isolated(page(), RW, PRIVATE_ANON, -1, 0);
    let r = unsafe { sys::mremap(p, page(), 2 * page(), MremapFlags::empty(), ptr::null_mut()) };
    assert_eq!(err(r), Errno::ENOMEM);
}

#[test]
fn mremap_shrink_releases_the_tail() {
    let len = 4 * page();
    let (_reservation, p) = isolated(len, RW, PRIVATE_ANON, -1, 0);
    let mut map = Map::adopt(p, len);
    fill(&mut map, 33);
    let q = unsafe { sys::mremap(p, len, page(), MremapFlags::empty(), ptr::null_mut()) };
    assert_eq!(q, Ok(p), "shrinking stays in place");
    map.len = page();
    check_pattern(map.bytes(), 33);
    let entry = maps_entry(p).expect("head still mapped");
    assert_eq!((entry.start, entry.end), (map.addr(), map.addr() + page()));
    assert!(!is_mapped(map.page_ptr(1).cast()));
}

#[test]
fn mremap_fixed_moves_to_the_chosen_address() {
    let mut map = Map::quiet(2 * page(), RW, PRIVATE_ANON, -1, 0);
    fill(&mut map, 44);
    let target = free_address(2 * page());
    let flags = MremapFlags::MAYMOVE | MremapFlags::FIXED;
    let p = unsafe { sys::mremap(map.ptr, 2 * page(), 2 * page(), flags, target) };
    assert_eq!(p, Ok(target));
    let old = map.ptr;
    map.leak();
    let moved = Map::adopt(target, 2 * page());
    check_pattern(moved.bytes(), 44);
    assert!(!is_mapped(old), "the old range is gone");
}

#[test]
fn mremap_dontunmap_leaves_the_old_range_mapped_and_empty() {
    let mut map = Map::anon(2 * page());
    fill(&mut map, 55);
    let flags = MremapFlags::MAYMOVE | MremapFlags::DONTUNMAP;
    let r = unsafe { sys::mremap(map.ptr, 2 * page(), 2 * page(), flags, ptr::null_mut()) };
    let p = match r {
        Ok(p) => p,
        Err(e) if is_qemu_user() => skip!("qemu-user does not implement MREMAP_DONTUNMAP ({e})"),
        Err(e) => panic!("mremap DONTUNMAP: {e}"),
    };
    let moved = Map::adopt(p, 2 * page());
    assert_ne!(p, map.ptr);
    check_pattern(moved.bytes(), 55);
    if is_qemu_user() && !is_mapped(map.ptr) {
        skip!(
            "qemu-user ignores MREMAP_DONTUNMAP: it moved the mapping and unmapped the old range"
        );
    }
    assert_eq!(perms(map.ptr), "rw-p", "old range still mapped");
    assert!(
        map.bytes().iter().all(|&b| b == 0),
        "old private anonymous range reads zero"
    );
}

#[test]
fn mremap_zero_new_length_is_einval() {
    if qemu_user_reserves_the_address_space() {
        // Seen with qemu-i386 10.0.2: "page_find_range_empty: Assertion `len != 0' failed".
        skip!("qemu-user aborts on mremap to length 0 in a 32-bit program's reservation");
    }
    let map = Map::anon(page());
    let r = unsafe { sys::mremap(map.ptr, page(), 0, MremapFlags::MAYMOVE, ptr::null_mut()) };
    match r {
        Err(Errno::ENOMEM) if is_qemu_user() => {
            skip!("qemu-user's mremap does not check new_len 0 (ENOMEM instead of EINVAL)")
        }
        r => assert_eq!(err(r), Errno::EINVAL),
    }
}

#[test]
fn mremap_fixed_without_maymove_is_einval() {
    let map = Map::anon(page());
    let target = free_address(page());
    let r = unsafe { sys::mremap(map.ptr, page(), page(), MremapFlags::FIXED, target) };
    assert_eq!(err(r), Errno::EINVAL);
}

#[test]
fn mremap_dontunmap_without_maymove_is_einval() {
    let map = Map::anon(page());
    let r = unsafe {
        sys::mremap(
            map.ptr,
            page(),
            page(),
            MremapFlags::DONTUNMAP,
            ptr::null_mut(),
        )
    };
    assert_eq!(err(r), Errno::EINVAL);
}

// ---------------------------------------------------------------------------------------
// madvise

#[test]
fn madvise_dontneed_zeroes_private_anonymous_memory() {
    let mut map = Map::anon(2 * page());
    fill(&mut map, 66);
    assert_eq!(
        unsafe { sys::madvise(map.ptr, 2 * page(), Advice::DontNeed) },
        Ok(())
    );
    assert!(
        map.bytes().iter().all(|&b| b == 0),
        "DontNeed discarded the pages"
    );
}

#[test]
fn madvise_dontneed_keeps_shared_file_contents() {
    let fd = memfd("dontneed-shared", MemfdFlags::CLOEXEC, page() as u64);
    let mut map = Map::shared(&fd, page(), 0);
    fill(&mut map, 67);
    assert_eq!(
        unsafe { sys::madvise(map.ptr, page(), Advice::DontNeed) },
        Ok(())
    );
    check_pattern(map.bytes(), 67);
}

#[test]
fn madvise_dontneed_locked_discards_locked_pages_that_dontneed_refuses() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}");
    }
    let mut map = Map::anon(page());
    fill(&mut map, 68);
    assert_eq!(unsafe { sys::mlock(map.ptr, page()) }, Ok(()));
    assert_eq!(
        err(unsafe { sys::madvise(map.ptr, page(), Advice::DontNeed) }),
        Errno::EINVAL
    );
    check_pattern(map.bytes(), 68);
    assert_eq!(
        unsafe { sys::madvise(map.ptr, page(), Advice::DontNeedLocked) },
        Ok(())
    );
    assert!(
        map.bytes().iter().all(|&b| b == 0),
        "locked pages discarded"
    );
    assert_eq!(unsafe { sys::munlock(map.ptr, page()) }, Ok(()));
}

/// Advice that only sets or clears a flag on the mapping: each shows (or stops showing) in
/// the `VmFlags` line of smaps.
#[test]
fn madvise_flag_advice_shows_in_smaps_vmflags() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}");
    }
    let map = Map::anon(page());
    let cases: &[(Advice, &str, bool)] = &[
        (Advice::Random, "rr", true),
        (Advice::Normal, "rr", false),
        (Advice::Sequential, "sr", true),
        (Advice::Normal, "sr", false),
        (Advice::DontFork, "dc", true),
        (Advice::DoFork, "dc", false),
        (Advice::DontDump, "dd", true),
        (Advice::DoDump, "dd", false),
        (Advice::WipeOnFork, "wf", true),
        (Advice::KeepOnFork, "wf", false),
    ];
    for &(advice, flag, set) in cases {
        assert_eq!(
            unsafe { sys::madvise(map.ptr, page(), advice) },
            Ok(()),
            "{advice:?}"
        );
        assert_eq!(
            has_vm_flag(map.ptr, flag),
            set,
            "{advice:?}: VmFlag {flag} in {:?}",
            vm_flags(map.ptr)
        );
    }
}

#[test]
fn madvise_mergeable_sets_and_clears_the_ksm_flag() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}");
    }
    let map = Map::anon(page());
    match unsafe { sys::madvise(map.ptr, page(), Advice::Mergeable) } {
        Ok(()) => {}
        Err(Errno::EINVAL) if !std::path::Path::new("/sys/kernel/mm/ksm").exists() => {
            skip!("kernel built without KSM (CONFIG_KSM=n): MADV_MERGEABLE is EINVAL")
        }
        Err(e) => panic!("MADV_MERGEABLE: {e}"),
    }
    assert!(has_vm_flag(map.ptr, "mg"), "{:?}", vm_flags(map.ptr));
    assert_eq!(
        unsafe { sys::madvise(map.ptr, page(), Advice::Unmergeable) },
        Ok(())
    );
    assert!(!has_vm_flag(map.ptr, "mg"));
}

#[test]
fn madvise_hugepage_and_nohugepage_set_their_flags() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}");
    }
    let map = Map::anon(page());
    match unsafe { sys::madvise(map.ptr, page(), Advice::HugePage) } {
        Ok(()) => {}
        Err(Errno::EINVAL) if !thp_available() => {
            skip!("kernel without transparent huge pages: MADV_HUGEPAGE is EINVAL")
        }
        Err(e) => panic!("MADV_HUGEPAGE: {e}"),
    }
    assert!(has_vm_flag(map.ptr, "hg"), "{:?}", vm_flags(map.ptr));
    assert_eq!(
        unsafe { sys::madvise(map.ptr, page(), Advice::NoHugePage) },
        Ok(())
    );
    assert!(has_vm_flag(map.ptr, "nh"), "{:?}", vm_flags(map.ptr));
    assert!(!has_vm_flag(map.ptr, "hg"));
}

#[test]
fn madvise_collapse_makes_a_transparent_huge_page() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}");
    }
    // The size of a PMD-mapped transparent huge page: 2 MiB with 4 KiB pages and with
    // powerpc's radix MMU at 64 KiB pages, 16 MiB under its hash MMU, 512 MiB on arm64
    // with 64 KiB pages.
    const PMD_SIZE: &str = "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size";
    let huge: usize = match std::fs::read_to_string(PMD_SIZE) {
        Ok(size) => size.trim().parse().expect(PMD_SIZE),
        Err(e) => skip!("kernel without transparent huge pages ({PMD_SIZE}: {e})"),
    };
    // A huge-page-aligned, fully populated huge page's range inside a mapping twice as long.
    let map = Map::anon(2 * huge);
    let start = (map.addr() + huge - 1) & !(huge - 1);
    let range = start as *mut c_void;
    unsafe { std::ptr::write_bytes(range.cast::<u8>(), 1, huge) };
    match unsafe { sys::madvise(range, huge, Advice::Collapse) } {
        Ok(()) => {}
        Err(Errno::EINVAL) if !thp_available() => {
            skip!("kernel without transparent huge pages: MADV_COLLAPSE is EINVAL")
        }
        Err(e @ (Errno::EAGAIN | Errno::ENOMEM)) => skip!("no huge page could be allocated ({e})"),
        Err(e) => panic!("MADV_COLLAPSE: {e}"),
    }
    let thp = smaps_field(range, "AnonHugePages").expect("AnonHugePages line");
    assert_eq!(thp, format!("{} kB", huge >> 10));
    assert!(
        unsafe { std::slice::from_raw_parts(range.cast::<u8>(), huge) }
            .iter()
            .all(|&b| b == 1)
    );
}

/// Advice whose effect is invisible from user space (reclaim hints): the kernel accepts it
/// on the kinds of memory it applies to. A wrong value would be `EINVAL`.
#[test]
fn madvise_hint_advice_is_accepted() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}");
    }
    let mut anon = Map::anon(2 * page());
    fill(&mut anon, 1);
    let fd = memfd("hints", MemfdFlags::CLOEXEC, 2 * page() as u64);
    let file = Map::shared(&fd, 2 * page(), 0);
    for advice in [Advice::WillNeed, Advice::Cold, Advice::PageOut] {
        for map in [&anon, &file] {
            let r = unsafe { sys::madvise(map.ptr, map.len, advice) };
            assert_eq!(r, Ok(()), "{advice:?} on {}", perms(map.ptr));
        }
    }
    // Without swap, reclaim keeps anonymous contents; with swap it brings them back.
    check_pattern(anon.bytes(), 1);
}

#[test]
fn madvise_dontfork_hides_the_range_from_a_child() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}");
    }
    let map = Map::anon(page());
    assert_eq!(
        unsafe { sys::madvise(map.ptr, page(), Advice::DontFork) },
        Ok(())
    );
    let p = map.ptr;
    let end = in_child(|| if is_mapped(p) { 1 } else { 0 });
    assert_eq!(end, ChildEnd::Exited(0), "child must not have the range");
    assert_eq!(
        unsafe { sys::madvise(map.ptr, page(), Advice::DoFork) },
        Ok(())
    );
    let end = in_child(|| if is_mapped(p) { 0 } else { 1 });
    assert_eq!(end, ChildEnd::Exited(0), "after DoFork the child has it");
}

#[test]
fn madvise_wipeonfork_gives_the_child_zeros() {
    // (qemu-user passes WIPEONFORK/KEEPONFORK on private anonymous memory to the kernel.)
    let mut map = Map::anon(page());
    fill(&mut map, 77);
    assert_eq!(
        unsafe { sys::madvise(map.ptr, page(), Advice::WipeOnFork) },
        Ok(())
    );
    let p = map.page_ptr(0);
    let end = in_child(|| read_byte(p.wrapping_add(1)) as i32);
    assert_eq!(end, ChildEnd::Exited(0), "child reads zero");
    assert_eq!(
        unsafe { sys::madvise(map.ptr, page(), Advice::KeepOnFork) },
        Ok(())
    );
    let end = in_child(|| read_byte(p.wrapping_add(1)) as i32);
    assert_eq!(end, ChildEnd::Exited(78), "child reads the parent's data");
    check_pattern(map.bytes(), 77);
}

#[test]
fn madvise_wipeonfork_on_shared_memory_is_einval() {
    let fd = memfd("wipe-shared", MemfdFlags::CLOEXEC, page() as u64);
    let map = Map::shared(&fd, page(), 0);
    assert_eq!(
        err(unsafe { sys::madvise(map.ptr, page(), Advice::WipeOnFork) }),
        Errno::EINVAL
    );
}

#[test]
fn madvise_populate_read_and_write_make_pages_resident() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}");
    }
    for advice in [Advice::PopulateRead, Advice::PopulateWrite] {
        let map = Map::anon(4 * page());
        assert_eq!(resident(map.ptr, map.len), vec![false; 4], "fresh mapping");
        assert_eq!(
            unsafe { sys::madvise(map.ptr, 4 * page(), advice) },
            Ok(()),
            "{advice:?}"
        );
        assert_eq!(
            resident(map.ptr, map.len),
            vec![true; 4],
            "after {advice:?}"
        );
    }
}

#[test]
fn madvise_populate_write_on_read_only_memory_is_einval() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}");
    }
    let map = Map::new(page(), Prot::READ, PRIVATE_ANON, -1, 0);
    let r = unsafe { sys::madvise(map.ptr, page(), Advice::PopulateWrite) };
    assert_eq!(err(r), Errno::EINVAL);
}

#[test]
fn madvise_guard_install_makes_access_fault_and_guard_remove_restores() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}");
    }
    let mut map = Map::anon(2 * page());
    fill(&mut map, 88);
    let guard = map.page_ptr(1);
    match unsafe { sys::madvise(guard.cast(), page(), Advice::GuardInstall) } {
        Ok(()) => {}
        Err(Errno::EINVAL) => skip!(
            "MADV_GUARD_INSTALL needs Linux 6.13 (kernel {})",
            kernel_release()
        ),
        Err(e) => panic!("MADV_GUARD_INSTALL: {e}"),
    }
    let end = in_child(|| read_byte(guard) as i32);
    assert_eq!(
        end,
        ChildEnd::Signaled(libc::SIGSEGV),
        "reading a guard page"
    );
    let end = in_child(|| {
        write_byte(guard, 1);
        0
    });
    assert_eq!(
        end,
        ChildEnd::Signaled(libc::SIGSEGV),
        "writing a guard page"
    );
    // The neighbouring page is untouched and the mapping keeps its protection.
    check_pattern(&map.bytes()[..page()], 88);
    assert_eq!(perms(guard.cast()), "rw-p");
    assert_eq!(
        unsafe { sys::madvise(guard.cast(), page(), Advice::GuardRemove) },
        Ok(())
    );
    assert_eq!(
        read_byte(guard),
        0,
        "guard removed: the page reads as a fresh zero page"
    );
    write_byte(guard, 5);
    assert_eq!(read_byte(guard), 5);
}

#[test]
fn madvise_free_is_accepted_on_private_anonymous_and_refused_on_shared() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}");
    }
    let mut anon = Map::anon(2 * page());
    fill(&mut anon, 99);
    assert_eq!(
        unsafe { sys::madvise(anon.ptr, 2 * page(), Advice::Free) },
        Ok(())
    );
    // Lazily freed pages read back as either the old data or zeros; a write cancels it.
    write_byte(anon.page_ptr(0), 1);
    assert_eq!(read_byte(anon.page_ptr(0)), 1);
    let fd = memfd("free-shared", MemfdFlags::CLOEXEC, page() as u64);
    let shared = Map::shared(&fd, page(), 0);
    assert_eq!(
        err(unsafe { sys::madvise(shared.ptr, page(), Advice::Free) }),
        Errno::EINVAL
    );
}

#[test]
fn madvise_remove_punches_a_hole_in_shared_memory() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}");
    }
    let fd = memfd("remove", MemfdFlags::CLOEXEC, 2 * page() as u64);
    let mut map = Map::shared(&fd, 2 * page(), 0);
    fill(&mut map, 111);
    assert_eq!(
        unsafe { sys::madvise(map.ptr, page(), Advice::Remove) },
        Ok(())
    );
    assert!(
        map.bytes()[..page()].iter().all(|&b| b == 0),
        "first page punched out"
    );
    check_pattern(&map.bytes()[page()..], 111u8.wrapping_add(page() as u8));
    // The file itself lost the data, not just this mapping.
    let mut back = vec![0xffu8; page()];
    let n = unsafe { libc::pread(fd.as_raw_fd(), back.as_mut_ptr().cast(), page(), 0) };
    assert_eq!(n, page() as isize);
    assert!(back.iter().all(|&b| b == 0));
}

#[test]
fn madvise_remove_on_private_anonymous_is_einval() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}");
    }
    let map = Map::anon(page());
    assert_eq!(
        err(unsafe { sys::madvise(map.ptr, page(), Advice::Remove) }),
        Errno::EINVAL
    );
}

#[test]
fn madvise_hwpoison_and_soft_offline_need_privilege() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}");
    }
    // CONFIG_MEMORY_FAILURE, which the two advices need, also adds the vm sysctls
    // memory_failure_early_kill and memory_failure_recovery; without it both are EINVAL.
    let configured = std::path::Path::new("/proc/sys/vm/memory_failure_recovery").exists();
    let expected = if configured {
        Errno::EPERM
    } else {
        Errno::EINVAL
    };
    // In a child that is not root (dropping to nobody clears every capability), so that a
    // wrong answer cannot poison the test process's memory.
    let end = in_child_checked(move || {
        if unsafe { libc::geteuid() } == 0 {
            assert_eq!(
                unsafe { libc::setuid(65534) },
                0,
                "setuid(nobody): {}",
                last_errno()
            );
        }
        let map = Map::anon(page());
        write_byte(map.page_ptr(0), 1);
        for advice in [Advice::HwPoison, Advice::SoftOffline] {
            let answer = unsafe { sys::madvise(map.ptr, page(), advice) };
            assert_eq!(answer, Err(expected), "{advice:?} without CAP_SYS_ADMIN");
        }
    });
    assert_eq!(end, ChildEnd::Exited(0), "see the child's message above");
    if !configured {
        skip!("MADV_HWPOISON/SOFT_OFFLINE are EINVAL (checked): kernel built without CONFIG_MEMORY_FAILURE (no vm.memory_failure_recovery)");
    }
}

#[test]
fn madvise_unmapped_range_is_enomem() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}");
    }
    let hole = free_address(page());
    assert_eq!(
        err(unsafe { sys::madvise(hole, page(), Advice::WillNeed) }),
        Errno::ENOMEM
    );
}

#[test]
fn madvise_unaligned_is_einval() {
    let map = Map::anon(2 * page());
    let r = unsafe { sys::madvise(map.ptr.cast::<u8>().add(1).cast(), page(), Advice::Normal) };
    assert_eq!(err(r), Errno::EINVAL);
}

// ---------------------------------------------------------------------------------------
// mincore

#[test]
fn mincore_reports_exactly_the_touched_pages() {
    let map = Map::anon(4 * page());
    write_byte(map.page_ptr(0), 1);
    write_byte(map.page_ptr(2), 1);
    assert_eq!(
        resident(map.ptr, 4 * page()),
        vec![true, false, true, false]
    );
}

#[test]
fn mincore_unaligned_is_einval() {
    let map = Map::anon(2 * page());
    let mut vec = [0u8; 2];
    let r = unsafe { sys::mincore(map.ptr.cast::<u8>().add(1).cast(), page(), vec.as_mut_ptr()) };
    assert_eq!(err(r), Errno::EINVAL);
}

#[test]
fn mincore_unmapped_range_is_enomem() {
    let hole = free_address(page());
    let mut vec = [0u8; 1];
    assert_eq!(
        err(unsafe { sys::mincore(hole, page(), vec.as_mut_ptr()) }),
        Errno::ENOMEM
    );
}

// ---------------------------------------------------------------------------------------
// mseal

#[test]
fn mseal_blocks_unmap_protect_remap_and_destructive_advice() {
    let mut map = Map::anon(page());
    fill(&mut map, 5);
    // Destructive advice is refused only where the caller could not write anyway.
    assert_eq!(
        unsafe { sys::mprotect(map.ptr, page(), Prot::READ) },
        Ok(())
    );
    match unsafe { sys::mseal(map.ptr, page()) } {
        Ok(()) => {}
        Err(Errno::ENOSYS) => skip!("{}", enosys("mseal", "6.10")),
        Err(e) => panic!("mseal: {e}"),
    }
    let p = map.ptr;
    // From here on the page can never be unmapped: do not try on drop.
    map.leak();
    assert_eq!(
        err(unsafe { sys::munmap(p, page()) }),
        Errno::EPERM,
        "munmap"
    );
    assert_eq!(
        err(unsafe { sys::mprotect(p, page(), RW) }),
        Errno::EPERM,
        "mprotect"
    );
    let r = unsafe { sys::mremap(p, page(), 2 * page(), MremapFlags::MAYMOVE, ptr::null_mut()) };
    assert_eq!(err(r), Errno::EPERM, "mremap");
    let r = unsafe { sys::mmap(p, page(), RW, PRIVATE_ANON | MapFlags::FIXED, -1, 0) };
    assert_eq!(err(r), Errno::EPERM, "mmap FIXED over it");
    assert_eq!(
        err(unsafe { sys::madvise(p, page(), Advice::DontNeed) }),
        Errno::EPERM,
        "DontNeed"
    );
    assert_eq!(perms(p), "r--p");
    assert!(has_vm_flag(p, "sl"), "sealed VmFlag: {:?}", vm_flags(p));
    check_pattern(
        unsafe { std::slice::from_raw_parts(p.cast::<u8>(), page()) },
        5,
    );
}

#[test]
fn mseal_unaligned_is_einval_and_unmapped_is_enomem() {
    let map = Map::anon(2 * page());
    let r = unsafe { sys::mseal(map.ptr.cast::<u8>().add(1).cast(), page()) };
    match r {
        Err(Errno::ENOSYS) => skip!("{}", enosys("mseal", "6.10")),
        r => assert_eq!(err(r), Errno::EINVAL),
    }
    let hole = free_address(page());
    assert_eq!(err(unsafe { sys::mseal(hole, page()) }), Errno::ENOMEM);
}

// ---------------------------------------------------------------------------------------
// process_madvise, cachestat

#[test]
fn process_madvise_on_self_returns_the_bytes_advised() {
    let pidfd = match sys::pidfd_open(sys::getpid(), 0) {
        Ok(fd) => fd,
        Err(Errno::ENOSYS) => skip!("{}", enosys("pidfd_open", "5.3")),
        Err(e) => panic!("pidfd_open: {e}"),
    };
    let mut a = Map::anon(2 * page());
    let mut b = Map::anon(3 * page());
    fill(&mut a, 1);
    fill(&mut b, 2);
    let ranges = [
        IoVec {
            base: a.ptr,
            len: a.len,
        },
        IoVec {
            base: b.ptr,
            len: b.len,
        },
    ];
    for advice in [Advice::Cold, Advice::PageOut] {
        match unsafe { sys::process_madvise(pidfd.as_fd(), &ranges, advice) } {
            Ok(n) => assert_eq!(n, 5 * page(), "{advice:?}"),
            Err(Errno::ENOSYS) => skip!("{}", enosys("process_madvise", "5.10")),
            Err(e) => panic!("process_madvise({advice:?}): {e}"),
        }
    }
    check_pattern(a.bytes(), 1);
    check_pattern(b.bytes(), 2);
}

#[test]
fn process_madvise_with_a_non_pidfd_is_ebadf() {
    let fd = memfd("not-a-pidfd", MemfdFlags::CLOEXEC, page() as u64);
    let map = Map::anon(page());
    let ranges = [IoVec {
        base: map.ptr,
        len: map.len,
    }];
    match unsafe { sys::process_madvise(fd.as_fd(), &ranges, Advice::Cold) } {
        Err(Errno::ENOSYS) => skip!("{}", enosys("process_madvise", "5.10")),
        r => assert_eq!(err(r), Errno::EBADF),
    }
}

#[test]
fn cachestat_counts_the_pages_written_to_a_memfd() {
    let fd = memfd("cachestat", MemfdFlags::CLOEXEC, 0);
    let data = vec![7u8; 3 * page()];
    assert_eq!(sys::write(fd.as_fd(), &data), Ok(3 * page()));
    sys::ftruncate(fd.as_fd(), 8 * page() as u64).expect("ftruncate");
    let whole = CacheStatRange { off: 0, len: 0 };
    let stat = match sys::cachestat(fd.as_fd(), &whole) {
        Ok(stat) => stat,
        Err(Errno::ENOSYS) => skip!("{}", enosys("cachestat", "6.5")),
        Err(e) => panic!("cachestat: {e}"),
    };
    assert_eq!(stat.nr_cache, 3, "{stat:?}");
    // A range over the last page only: nothing cached there.
    let tail = CacheStatRange {
        off: 7 * page() as u64,
        len: page() as u64,
    };
    assert_eq!(sys::cachestat(fd.as_fd(), &tail).map(|s| s.nr_cache), Ok(0));
}

#[test]
fn cachestat_on_a_descriptor_that_is_not_open_is_ebadf() {
    // No process has this many descriptors (the kernel caps RLIMIT_NOFILE at nr_open).
    let closed = unsafe { mman::fd::BorrowedFd::borrow_raw(0x7fff_0000) };
    match sys::cachestat(closed, &CacheStatRange::default()) {
        Err(Errno::ENOSYS) => skip!("{}", enosys("cachestat", "6.5")),
        r => assert_eq!(err(r), Errno::EBADF),
    }
}
