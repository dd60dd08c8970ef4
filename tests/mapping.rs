//! The safe `Mapping` / `MapOptions` layer against the real kernel: what is mapped (extents
//! and permissions in `/proc/self/maps`, `VmFlags` in `smaps`), what the bytes read back,
//! residency (`mincore`), locked memory (`VmLck`), faults (in forked children) and errno
//! values, for every constructor, option and operation, and for the range checks in front
//! of them.
//!
//! Mappings whose extent is checked, or whose address must stay unmapped after a drop, are
//! placed in the quiet area (`common::quiet_address`) with `MapOptions::at`, where no other
//! test's mapping lands meanwhile and no neighbour merges with them. Tests that lock memory
//! or measure `VmLck` hold `common::serial()`.

#[macro_use]
mod common;

use std::ffi::c_void;
use std::ops::Bound;
use std::os::unix::fs::FileExt;

use common::*;
use mman::{
    sys, Access, Advice, Errno, Flush, Guard, MapFlags, MapOptions, Mapping, Memfd, Prot, Seals,
};

const RW: Prot = Prot::READ.union(Prot::WRITE);

/// The byte pattern tests write: byte `i` of a range filled with `seed`.
fn pattern(seed: u8, i: usize) -> u8 {
    seed.wrapping_add((i % 251) as u8)
}

/// Fills `len` bytes from `offset` with `pattern(seed, ..)` (works on every kind of memory).
fn fill(m: &mut Mapping, offset: usize, len: usize, seed: u8) {
    let data: Vec<u8> = (0..len).map(|i| pattern(seed, i)).collect();
    m.write_at(offset, &data).expect("write_at");
}

/// Reads `len` bytes at `offset` (works on every kind of memory).
fn read(m: &Mapping, offset: usize, len: usize) -> Vec<u8> {
    let mut buf = vec![0xa5; len];
    m.read_at(offset, &mut buf).expect("read_at");
    buf
}

#[track_caller]
fn assert_pattern(bytes: &[u8], seed: u8, what: &str) {
    for (i, &b) in bytes.iter().enumerate() {
        assert_eq!(b, pattern(seed, i), "{what}: byte {i}");
    }
}

#[track_caller]
fn assert_zero(bytes: &[u8], what: &str) {
    if let Some(i) = bytes.iter().position(|&b| b != 0) {
        panic!("{what}: byte {i} is {:#x}, expected 0", bytes[i]);
    }
}

/// Address of byte `offset` of the mapping, for `/proc/self/maps` look-ups.
fn addr(m: &Mapping, offset: usize) -> *const c_void {
    m.as_ptr().wrapping_add(offset).cast()
}

/// `len` bytes of private anonymous memory at a fresh quiet address.
fn quiet(len: usize) -> Mapping {
    let at = quiet_address(len) as usize;
    let m = MapOptions::new()
        .len(len)
        .at(at)
        .map()
        .expect("map at a quiet address");
    assert_eq!(m.as_ptr() as usize, at);
    m
}

/// The `/proc/self/maps` entry at `offset` of the mapping; panics if there is none.
#[track_caller]
fn entry(m: &Mapping, offset: usize) -> MapsEntry {
    maps_entry(addr(m, offset))
        .unwrap_or_else(|| panic!("{:p} not in /proc/self/maps", addr(m, offset)))
}

/// Checks that `[start, end)` is mapped with `perms`: as exactly one `/proc/self/maps`
/// entry on a real kernel; page by page under qemu-user, whose synthesized maps keeps apart
/// ranges that had different protections before, where the kernel merges them again.
#[track_caller]
fn assert_extent(start: usize, end: usize, perms: &str) {
    if is_qemu_user() {
        for a in (start..end).step_by(page()) {
            let e = maps_entry(a as *const c_void).unwrap_or_else(|| panic!("{a:#x} unmapped"));
            assert_eq!(e.perms, perms, "page {a:#x}");
        }
    } else {
        let e = maps_entry(start as *const c_void)
            .unwrap_or_else(|| panic!("{start:#x} not in /proc/self/maps"));
        assert_eq!((e.start, e.end, e.perms.as_str()), (start, end, perms));
    }
}

/// A memfd of `len` bytes holding `pattern(seed, ..)`.
fn memfd_with_pattern(len: usize, seed: u8) -> (Memfd, std::fs::File) {
    let fd = Memfd::new(&unique_cname("")).expect("memfd");
    let file = file_of(&fd);
    let data: Vec<u8> = (0..len).map(|i| pattern(seed, i)).collect();
    file.write_all_at(&data, 0).expect("pwrite");
    assert_eq!(fd.len(), Ok(len as u64));
    (fd, file)
}

fn pread(file: &std::fs::File, offset: usize, len: usize) -> Vec<u8> {
    let mut buf = vec![0xa5; len];
    file.read_exact_at(&mut buf, offset as u64).expect("pread");
    buf
}

/// Whether some entry of `maps` covers `addr`.
fn covered(maps: &[MapsEntry], addr: usize) -> bool {
    maps.iter().any(|e| e.start <= addr && addr < e.end)
}

// ---------------------------------------------------------------------------------------
// Mapping::anonymous

#[test]
fn anonymous_is_zero_filled_private_read_write_with_its_extent() {
    let p = page();
    let len = 3 * p + 100;
    let mut m = Mapping::anonymous(len).unwrap();
    assert_eq!(m.len(), len, "len() is what was asked, not rounded");
    assert!(!m.is_empty());
    assert!(!m.is_volatile(), "private anonymous memory is exclusive");
    assert_eq!(m.as_ptr() as usize % p, 0, "page aligned");
    assert_eq!(m.as_slice().unwrap().len(), len);
    assert_zero(m.as_slice().unwrap(), "fresh anonymous memory");
    let e = entry(&m, 0);
    assert_eq!(e.perms, "rw-p");
    assert_eq!(e.path, "");
    assert!(
        e.start <= m.as_ptr() as usize && m.as_ptr() as usize + 4 * p <= e.end,
        "{e:?} must cover the 4 pages"
    );
    m.as_mut_slice().unwrap()[len - 1] = 0x5a;
    assert_eq!(read(&m, len - 1, 1), [0x5a]);

    // The exact extent: in a single-threaded child, the pages that became mapped are exactly
    // the four pages of the mapping (the kernel may merge it with a neighbour in the maps
    // listing, so compare coverage before and after rather than one entry).
    let end = in_child_checked(move || {
        let before = maps();
        let m = Mapping::anonymous(len).unwrap();
        let after = maps();
        let start = m.as_ptr() as usize;
        for i in 0..4 {
            let a = start + i * p;
            assert!(
                covered(&after, a) && !covered(&before, a),
                "page {i} newly mapped"
            );
        }
        for a in [start - p, start + 4 * p] {
            assert_eq!(
                covered(&before, a),
                covered(&after, a),
                "{a:#x} outside unchanged"
            );
        }
        drop(m);
        let dropped = maps();
        for i in 0..4 {
            assert!(
                !covered(&dropped, start + i * p),
                "page {i} unmapped on drop"
            );
        }
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

#[test]
fn anonymous_of_zero_bytes_or_without_a_length_is_einval() {
    assert_eq!(err(Mapping::anonymous(0)), Errno::EINVAL);
    assert_eq!(err(MapOptions::new().map()), Errno::EINVAL, "no len");
    assert_eq!(err(MapOptions::new().len(0).shared().map()), Errno::EINVAL);
}

/// More than any address space holds, with room to round up to pages: 2^62 bytes on 64-bit
/// targets; on 32-bit ones all but the last 16 pages (a 32-bit kernel's user space ends at
/// 3 GiB, an x86_64 kernel's ia32 one 8 KiB below 4 GiB).
fn beyond_the_address_space() -> usize {
    usize::try_from(1u64 << 62).unwrap_or(usize::MAX - 16 * page() + 1)
}

#[test]
fn anonymous_of_a_huge_length_is_enomem_and_maps_nothing() {
    for len in [
        usize::MAX,
        usize::MAX - page() + 1,
        beyond_the_address_space(),
    ] {
        assert_eq!(err(Mapping::anonymous(len)), Errno::ENOMEM, "len {len:#x}");
    }
    let end = in_child_checked(|| {
        let before = maps();
        assert_eq!(err(Mapping::anonymous(usize::MAX)), Errno::ENOMEM);
        assert_eq!(
            err(Mapping::anonymous(beyond_the_address_space())),
            Errno::ENOMEM
        );
        let after = maps();
        let strip = |v: Vec<MapsEntry>| -> Vec<MapsEntry> {
            v.into_iter().filter(|e| e.path != "[heap]").collect()
        };
        assert_eq!(
            strip(before),
            strip(after),
            "a failed map leaves maps unchanged"
        );
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

#[test]
fn slices_and_copies_see_the_same_bytes() {
    let p = page();
    let mut m = Mapping::anonymous(2 * p + 7).unwrap();
    for (i, b) in m.as_mut_slice().unwrap().iter_mut().enumerate() {
        *b = pattern(3, i);
    }
    assert_pattern(m.as_slice().unwrap(), 3, "as_slice after as_mut_slice");
    assert_pattern(&read(&m, 0, 2 * p + 7), 3, "read_at after as_mut_slice");
    m.write_at(p - 2, b"across").unwrap();
    assert_eq!(&m.as_slice().unwrap()[p - 2..p + 4], b"across");
}

#[test]
fn read_at_and_write_at_check_their_ranges() {
    let p = page();
    let len = p + 10;
    let mut m = Mapping::anonymous(len).unwrap();
    fill(&mut m, 0, len, 9);
    let mut one = [0u8; 1];
    assert_eq!(m.read_at(len - 1, &mut one), Ok(()), "last byte");
    assert_eq!(one[0], pattern(9, len - 1));
    // The kernel mapped a whole second page, but the mapping is `len` bytes.
    assert_eq!(
        m.read_at(len, &mut one),
        Err(Errno::EINVAL),
        "one past the end"
    );
    assert_eq!(m.read_at(len - 1, &mut [0u8; 2]), Err(Errno::EINVAL));
    assert_eq!(m.read_at(len, &mut []), Ok(()), "empty read at the end");
    assert_eq!(m.read_at(len + 1, &mut []), Err(Errno::EINVAL));
    assert_eq!(
        m.read_at(usize::MAX, &mut [0u8; 2]),
        Err(Errno::EINVAL),
        "overflow"
    );
    assert_eq!(m.write_at(len, b"x"), Err(Errno::EINVAL));
    assert_eq!(m.write_at(len - 1, b"xy"), Err(Errno::EINVAL));
    assert_eq!(
        m.write_at(usize::MAX, b"xy"),
        Err(Errno::EINVAL),
        "overflow"
    );
    assert_eq!(m.write_at(len, b""), Ok(()));
    assert_pattern(&read(&m, 0, len), 9, "failed writes change nothing");
}

#[test]
fn mapping_moves_to_and_is_shared_between_threads() {
    let mut m = Mapping::anonymous(page()).unwrap();
    m.as_mut_slice().unwrap()[..5].copy_from_slice(b"hello");
    let m = std::thread::spawn(move || {
        assert_eq!(&m.as_slice().unwrap()[..5], b"hello");
        m
    })
    .join()
    .unwrap();
    std::thread::scope(|s| {
        s.spawn(|| assert_eq!(&m.as_slice().unwrap()[..5], b"hello"));
        s.spawn(|| assert_eq!(&read(&m, 0, 5), b"hello"));
    });
}

// ---------------------------------------------------------------------------------------
// Atomics

#[test]
fn atomics_on_shared_memory_are_checked_and_shared_with_a_child() {
    use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering::SeqCst};
    let p = page();
    let mut m = MapOptions::new().shared().len(p).map().unwrap();
    m.atomic_u32(8).unwrap().store(0x1122_3344, SeqCst);
    assert_eq!(read(&m, 8, 4), 0x1122_3344u32.to_ne_bytes());
    m.atomic_u64(16).unwrap().store(u64::MAX - 1, SeqCst);
    assert_eq!(read(&m, 16, 8), (u64::MAX - 1).to_ne_bytes());
    assert_eq!(m.atomic_u32(p - 4).map(|_| ()), Ok(()), "last word");
    assert_eq!(m.atomic_u64(p - 8).map(|_| ()), Ok(()), "last double word");
    assert_eq!(err(m.atomic_u32(2)), Errno::EINVAL, "misaligned");
    assert_eq!(err(m.atomic_u64(4)), Errno::EINVAL, "misaligned");
    assert_eq!(
        err(m.atomic_u32(p - 2)),
        Errno::EINVAL,
        "reaches past the end"
    );
    assert_eq!(err(m.atomic_u32(p)), Errno::EINVAL);
    assert_eq!(err(m.atomic_u64(usize::MAX - 3)), Errno::EINVAL, "overflow");
    assert_eq!(m.as_atomics::<AtomicU32>().unwrap().len(), p / 4);
    assert_eq!(m.as_atomics::<AtomicU64>().unwrap().len(), p / 8);
    assert_eq!(m.as_atomics::<AtomicU8>().unwrap().len(), p);

    let words = m.as_atomics::<AtomicU32>().unwrap();
    let end = in_child(|| {
        for _ in 0..1000 {
            words[2].fetch_add(1, SeqCst);
        }
        0
    });
    assert_eq!(end, ChildEnd::Exited(0));
    assert_eq!(
        words[2].load(SeqCst),
        0x1122_3344 + 1000,
        "child's increments seen"
    );

    let mut ro = MapOptions::new()
        .shared()
        .prot(Prot::READ)
        .len(p)
        .map()
        .unwrap();
    assert_eq!(err(ro.atomic_u32(0)), Errno::EACCES, "read-only memory");
    assert_eq!(
        ro.as_atomics::<AtomicU8>().err(),
        Some(Errno::EACCES),
        "read-only memory"
    );
}

/// Atomic views borrow the mapping mutably, so they work on exclusive memory too: no slice
/// of it can be alive meanwhile (a `&[u8]` and an atomic store through `&self` used to be
/// possible together), and no copy or view of another size can race with them.
#[test]
fn atomics_on_exclusive_memory_exclude_slices_by_borrowing() {
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    let mut m = Mapping::anonymous(page()).unwrap();
    let words = m.as_atomics::<AtomicU64>().unwrap();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..1000 {
                    words[1].fetch_add(1, Relaxed);
                }
            });
        }
    });
    assert_eq!(words[1].load(Relaxed), 2000);
    assert_eq!(&m.as_slice().unwrap()[8..16], &2000u64.to_ne_bytes());
}

/// Review round 4 hole: huge pages mapped without a reservation come from the pool when
/// first touched, and where it has none the touch raises `SIGBUS`, with no one else doing
/// anything. Atomic views are references too: before, the first look at such a view
/// (formatting it) died of `SIGBUS` on a machine whose pool is empty. Copies still work.
#[test]
fn atomics_are_not_lent_over_huge_pages_without_a_reservation() {
    use std::sync::atomic::AtomicU32;
    for options in [MapOptions::new(), MapOptions::new().shared()] {
        let (mut unreserved, _) = match unreserved_huge_page(options) {
            Ok(page) => page,
            Err(why) => skip!("{why}"),
        };
        assert_eq!(err(unreserved.as_atomics::<AtomicU32>()), Errno::EPERM);
        assert_eq!(err(unreserved.atomic_u32(0)), Errno::EPERM);
    }
    // Review round 5: a hugetlbfs file mapped without a reservation was an ordinary file
    // mapping, whose views were lent: the first load through one, of the program's own
    // memfd, raised SIGBUS where the pool has no page (program
    // hole_13_atomics_over_an_unreserved_hugetlbfs_file.rs).
    let (memfd, _) = match huge_page_memfd(c"mman-test-unreserved-view") {
        Ok(memfd) => memfd,
        Err(why) => skip!("{why}"),
    };
    let r = MapOptions::new().shared().no_reserve().map_file(&memfd, 0);
    if qemu_refuses_hugetlb(&r) {
        skip!("{QEMU_REFUSES_HUGETLB}");
    }
    let mut unreserved = r.unwrap();
    assert_eq!(err(unreserved.as_atomics::<AtomicU32>()), Errno::EPERM);
    assert!(unreserved.is_volatile());
}

/// Review round 5 hole: `map_file` maps any length, as `mmap` does, and a page wholly past
/// the file's end raises `SIGBUS` when touched: `as_atomics` lent a view over it, and the
/// first load of its last word, of the program's own memfd with no one else doing anything,
/// killed the process (program hole_15_atomics_past_the_end_of_a_file.rs). And
/// `remap_file` takes any descriptor: grown with another file's, the mapping reached past
/// its own file's end the same way. Such mappings are copied only (`EPERM` for views)
/// until a `remap_file` finds their last page backed.
#[test]
fn atomics_are_not_lent_over_pages_past_the_end_of_a_file() {
    use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
    let p = page();
    let memfd = Memfd::new(c"mman-test-short").unwrap();
    memfd.set_len(p as u64 + 1).unwrap();
    // Within the last page's tail: zeros, no signal; a view as before.
    let mut within = MapOptions::new()
        .shared()
        .len(2 * p)
        .map_file(&memfd, 0)
        .unwrap();
    assert_eq!(
        within.as_atomics::<AtomicU32>().unwrap()[2 * p / 4 - 1].load(Relaxed),
        0
    );
    drop(within);
    // Whether the file covers a mapping that reached past its end is the kernel's answer to
    // MADV_POPULATE_READ, asked by `as_atomics`.
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}: MADV_POPULATE_READ");
    }
    let mut past = MapOptions::new()
        .shared()
        .len(3 * p)
        .map_file(&memfd, 0)
        .unwrap();
    assert_no_view_past_the_end(&mut past);
    assert_eq!(
        past.read_at(p, &mut [0; 4]),
        Ok(()),
        "copies within the file work"
    );
    // Grown with its own file, which now covers it: a view again.
    past.remap_file(&memfd, 3 * p, false).unwrap();
    assert_eq!(
        past.as_atomics::<AtomicU32>().unwrap()[3 * p / 4 - 1].load(Relaxed),
        0
    );
    // Grown with another file's descriptor: the new pages are past its own file's end.
    let other = Memfd::new(c"mman-test-other").unwrap();
    let mut m = MapOptions::new()
        .shared()
        .len(p)
        .map_file(&memfd, 0)
        .unwrap();
    assert!(m.as_atomics::<AtomicU32>().is_ok());
    m.remap_file(&other, 8 * p, true).unwrap();
    assert_no_view_past_the_end(&mut m);
}

/// Asks `m` for an atomic view in a child, which must be refused (`EPERM`); if one is lent,
/// loads its last word (where the file ends before: `SIGBUS`, the child's end).
fn assert_no_view_past_the_end(m: &mut Mapping) {
    use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
    let end = in_child_checked(|| match m.as_atomics::<AtomicU32>() {
        Ok(words) => {
            let word = words[words.len() - 1].load(Relaxed);
            panic!("a view over a page past the file's end (loaded {word})");
        }
        Err(e) => assert_eq!(e, Errno::EPERM),
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

/// `remap_file` grows the file it is given before it resizes the mapping. It used to shrink
/// the file back when the resize then failed (review round 6): another thread's
/// `as_atomics` on another mapping of the same memfd, made past the file's end, could find
/// its last page backed by the passing growth, and keep the view it was lent after the file
/// was shrunk back under it; the first load of the view's last word raised `SIGBUS`
/// (`Signaled(7)` before the fix, within a few thousand rounds). Now the refusal comes
/// before the file grows, and a file is never shrunk by `remap_file`.
#[test]
fn a_failed_remap_file_never_shrinks_the_file_under_a_view() {
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}: MADV_POPULATE_READ, which as_atomics asks past a file's end");
    }
    let p = page();
    let memfd = Memfd::new(c"mman-test-undo").unwrap();
    memfd.set_len(p as u64).unwrap();
    let mut grower = MapOptions::new()
        .shared()
        .len(p)
        .map_file(&memfd, 0)
        .unwrap();
    let mut viewer = MapOptions::new()
        .shared()
        .len(2 * p)
        .map_file(&memfd, 0)
        .unwrap();
    let end = in_child_checked(|| {
        let done = AtomicBool::new(false);
        let lent = std::thread::scope(|s| {
            s.spawn(|| {
                while !done.load(Relaxed) {
                    // Past the last page without moving: refused.
                    let refused = grower.remap_file(&memfd, 2 * p, false);
                    assert_eq!(refused, Err(Errno::ENOMEM));
                }
            });
            let start = std::time::Instant::now();
            let lent = loop {
                if viewer.as_atomics::<AtomicU32>().is_ok() {
                    break true;
                }
                if start.elapsed() > std::time::Duration::from_millis(500) {
                    break false;
                }
            };
            done.store(true, Relaxed);
            lent
        });
        assert_eq!(memfd.len(), Ok(p as u64), "the file's size");
        if lent {
            let words = viewer.as_atomics::<AtomicU32>().unwrap();
            let word = words[words.len() - 1].load(Relaxed);
            panic!("a view over a page past the file's end (loaded {word})");
        }
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

/// A file mapping at an odd offset starts off alignment: no view of wider atomics.
#[test]
fn atomics_need_an_aligned_start() {
    use std::sync::atomic::{AtomicU32, AtomicU8};
    let file = Memfd::new(c"atomics-offset").unwrap();
    file.set_len(2 * page() as u64).unwrap();
    let mut m = MapOptions::new()
        .shared()
        .len(16)
        .map_file(&file, 1)
        .unwrap();
    assert_eq!(m.as_atomics::<AtomicU32>().err(), Some(Errno::EINVAL));
    assert_eq!(m.as_atomics::<AtomicU8>().unwrap().len(), 16);
}

// ---------------------------------------------------------------------------------------
// MapOptions

#[test]
fn populate_prefaults_every_page() {
    let p = page();
    let m = MapOptions::new().len(8 * p).populate().map().unwrap();
    assert_eq!(
        resident(m.as_ptr().cast(), 8 * p),
        vec![true; 8],
        "populated"
    );
    assert_zero(m.as_slice().unwrap(), "populated memory");
    let plain = Mapping::anonymous(8 * p).unwrap();
    assert_eq!(
        resident(plain.as_ptr().cast(), 8 * p),
        vec![false; 8],
        "control: an untouched mapping has no resident page"
    );
}

#[test]
fn locked_counts_in_vmlck_until_dropped() {
    let _serial = serial();
    let p = page();
    let before = vm_lck_kb();
    let m = MapOptions::new().len(4 * p).locked().map().unwrap();
    assert_eq!(
        vm_lck_kb(),
        before + 4 * p / 1024,
        "VmLck grew by the mapping"
    );
    assert_eq!(
        resident(m.as_ptr().cast(), 4 * p),
        vec![true; 4],
        "MAP_LOCKED faults in"
    );
    assert_zero(m.as_slice().unwrap(), "locked memory");
    drop(m);
    assert_eq!(vm_lck_kb(), before, "VmLck back after drop");
}

#[test]
fn no_reserve_stack_and_grows_down_map_ordinary_memory() {
    let p = page();
    for (what, options) in [
        ("no_reserve", MapOptions::new().no_reserve()),
        ("stack", MapOptions::new().stack()),
        ("grows_down", MapOptions::new().grows_down()),
    ] {
        let mut m = options
            .len(2 * p)
            .map()
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_zero(m.as_slice().unwrap(), what);
        fill(&mut m, 0, 2 * p, 1);
        assert_pattern(m.as_slice().unwrap(), 1, what);
        let e = entry(&m, 0);
        assert_eq!(e.perms, "rw-p", "{what}");
        // Only the main thread's stack is labelled; MAP_STACK / MAP_GROWSDOWN are not.
        assert_eq!(e.path, "", "{what}");
    }
}

#[test]
fn map_options_show_in_smaps_vm_flags() {
    if !smaps_is_real() {
        skip!("qemu-user synthesizes smaps: VmFlags has only rd/wr/ex/sh/mr/mw/ms");
    }
    let p = page();
    let _serial = serial(); // `locked` below changes VmLck
    let cases = [
        ("locked", MapOptions::new().locked(), "lo"),
        ("no_reserve", MapOptions::new().no_reserve(), "nr"),
        ("grows_down", MapOptions::new().grows_down(), "gd"),
    ];
    for (what, options, flag) in cases {
        let m = options.len(2 * p).map().unwrap();
        let flags = vm_flags(addr(&m, 0));
        assert!(
            flags.iter().any(|f| f == flag),
            "{what}: {flag} in {flags:?}"
        );
    }
    let plain = quiet(2 * p);
    let flags = vm_flags(addr(&plain, 0));
    for flag in ["lo", "nr", "gd", "hg", "nh"] {
        assert!(
            !flags.iter().any(|f| f == flag),
            "control: no {flag} in {flags:?}"
        );
    }
    // MAP_STACK implies VM_NOHUGEPAGE since Linux 6.7, in kernels with transparent huge
    // pages (not 32-bit ARM ones without LPAE).
    let stack = MapOptions::new().stack().len(2 * p).map().unwrap();
    if kernel_at_least(6, 7) && thp_built_in() {
        assert!(has_vm_flag(addr(&stack, 0), "nh"), "stack: nh");
    }
    if thp_available() {
        let thp = MapOptions::new()
            .len(4 << 20)
            .transparent_huge_pages()
            .map()
            .unwrap();
        assert!(
            has_vm_flag(addr(&thp, 0), "hg"),
            "transparent_huge_pages: hg"
        );
    }
}

#[test]
fn grows_down_extends_when_the_page_below_is_touched() {
    if is_qemu_user() {
        skip!("qemu-user does not emulate MAP_GROWSDOWN growth (the access faults)");
    }
    let p = page();
    let at = quiet_address(4 * p) as usize + 2 * p;
    let m = MapOptions::new()
        .len(2 * p)
        .grows_down()
        .at(at)
        .map()
        .unwrap();
    assert_eq!(entry(&m, 0).start, at);
    let end = in_child_checked(move || {
        write_byte((at - 1) as *mut u8, 0x77);
        let e = maps_entry((at - 1) as *const c_void).expect("grown");
        assert_eq!((e.start, e.end), (at - p, at + 2 * p), "grew by one page");
        assert_eq!(read_byte((at - 1) as *const u8), 0x77);
    });
    assert_eq!(end, ChildEnd::Exited(0));
    drop(m);
}

#[test]
fn huge_pages_use_the_reserved_pool_or_fail_with_enomem() {
    let _serial = serial(); // the pool: see `every_spare_huge_page_reserved`
    let huge = match default_huge_page() {
        Ok(huge) => huge,
        Err(why) => {
            // No hugetlbfs mount for the default size: hugetlb_file_setup's ENOENT. No
            // hugetlbfs registered: built without it, that function's stub, ENOSYS (armmp
            // 6.1); built with it but disabled for want of a huge page size the CPU has
            // (s390x without EDAT-1), ENOENT again. /proc shows neither apart.
            let allowed: &[Errno] = match kernel_without_hugetlbfs() {
                Some(_) => &[Errno::ENOSYS, Errno::ENOENT],
                None => &[Errno::ENOENT],
            };
            let r = MapOptions::new().len(2 << 20).huge_pages().map();
            match r.map(|_| ()) {
                Err(e) if allowed.contains(&e) => skip!("{why}: MAP_HUGETLB is {e:?}"),
                other => panic!("MAP_HUGETLB answered {other:?}, not one of {allowed:?}"),
            }
        }
    };
    let free = meminfo_kb("HugePages_Free").unwrap_or(0);
    let r = MapOptions::new().len(huge).huge_pages().map();
    if qemu_refuses_hugetlb(&r) {
        skip!("{QEMU_REFUSES_HUGETLB}");
    }
    if free == 0 {
        // No pool: the kernel cannot reserve a huge page for the mapping.
        assert_eq!(r.map(|_| ()), Err(Errno::ENOMEM));
        skip!("no huge pages reserved (HugePages_Free is 0): MAP_HUGETLB gives ENOMEM");
    }
    let mut m = r.unwrap();
    assert_eq!(m.as_ptr() as usize % huge, 0, "huge-page aligned");
    fill(&mut m, huge - 4096, 4096, 4);
    assert_pattern(&read(&m, huge - 4096, 4096), 4, "huge page");
    if smaps_is_real() {
        assert_eq!(
            smaps_field(addr(&m, 0), "KernelPageSize"),
            Some(format!("{} kB", huge / 1024))
        );
    }
}

#[test]
fn huge_pages_of_a_size_the_architecture_lacks_are_einval() {
    // 128 MiB pages exist on no x86_64 or arm64 configuration.
    let r = MapOptions::new().len(128 << 20).huge_pages_log2(27).map();
    if is_qemu_user() {
        if qemu_refuses_hugetlb(&r) {
            skip!("{QEMU_REFUSES_HUGETLB}");
        }
        // qemu-user drops the MAP_HUGE_* size bits: the host sees a default-size request.
        assert_eq!(r.map(|_| ()), Err(Errno::ENOMEM));
        skip!("qemu-user drops the MAP_HUGE_* size bits (the host answers ENOMEM)");
    }
    assert_eq!(r.map(|_| ()), Err(Errno::EINVAL));
}

#[test]
fn transparent_huge_pages_maps_or_reports_the_kernel_lacks_them() {
    let r = MapOptions::new()
        .len(4 << 20)
        .transparent_huge_pages()
        .map();
    if !thp_available() {
        if let Some(why) = cpu_cannot_map_huge_pages() {
            // The advice is recorded on the VMA (`hg`), and maps base pages only.
            let m = r.expect("MADV_HUGEPAGE is accepted where THP is built in");
            if smaps_is_real() {
                assert!(vm_flags(m.as_ptr().cast()).contains(&"hg".to_string()));
            }
            skip!("{why}: MADV_HUGEPAGE is recorded and maps no huge page");
        }
        assert_eq!(r.map(|_| ()), Err(Errno::EINVAL));
        skip!(
            "kernel {} has no transparent huge pages: MADV_HUGEPAGE is EINVAL",
            kernel_release()
        );
    }
    let mut m = r.unwrap();
    assert_eq!(m.len(), 4 << 20);
    fill(&mut m, (4 << 20) - 10, 10, 2);
    assert_pattern(&read(&m, (4 << 20) - 10, 10), 2, "THP memory");
}

#[test]
fn at_a_free_address_maps_exactly_there() {
    let p = page();
    let at = quiet_address(3 * p) as usize;
    let m = MapOptions::new().len(3 * p).at(at).map().unwrap();
    assert_eq!(m.as_ptr() as usize, at);
    let e = entry(&m, 0);
    assert_eq!((e.start, e.end, e.perms.as_str()), (at, at + 3 * p, "rw-p"));
    drop(m);
    assert!(!is_mapped(at as *const c_void), "unmapped on drop");
}

#[test]
fn at_an_occupied_address_is_eexist_and_leaves_the_mapping_alone() {
    let p = page();
    let mut first = quiet(3 * p);
    fill(&mut first, 0, 3 * p, 6);
    let at = first.as_ptr() as usize;
    for (start, len) in [(at, p), (at + p, p), (at - p, 2 * p), (at + 2 * p, 4 * p)] {
        let r = MapOptions::new().len(len).at(start).map();
        assert_eq!(
            r.map(|_| ()),
            Err(Errno::EEXIST),
            "at {start:#x} len {len:#x}"
        );
    }
    assert_pattern(first.as_slice().unwrap(), 6, "existing mapping");
    let e = entry(&first, 0);
    assert_eq!((e.start, e.end, e.perms.as_str()), (at, at + 3 * p, "rw-p"));
    assert!(!is_mapped((at - p) as *const c_void), "nothing left below");
}

#[test]
fn at_address_zero_is_refused_and_leaves_page_zero_unmapped() {
    // The safe layer never hands out a null pointer, so it refuses address 0 itself (as a
    // hint, 0 would mean "anywhere").
    let r = MapOptions::new().len(page()).at(0).map();
    assert_eq!(r.map(|_| ()), Err(Errno::EINVAL));
    assert!(!is_mapped(std::ptr::null()), "page 0 stays unmapped");
}

#[test]
fn at_an_unaligned_address_is_einval() {
    let at = quiet_address(page()) as usize + 1;
    assert_eq!(
        err(MapOptions::new().len(page()).at(at).map()),
        Errno::EINVAL
    );
    assert!(!is_mapped(at as *const c_void));
}

#[cfg(target_arch = "x86_64")]
#[test]
fn below_2gib_maps_in_the_first_two_gibibytes() {
    let p = page();
    let mut m = MapOptions::new().len(4 * p).below_2gib().map().unwrap();
    let end = m.as_ptr() as usize + 4 * p;
    assert!(end <= 1 << 31, "mapping ends at {end:#x}, above 2 GiB");
    fill(&mut m, 0, 4 * p, 8);
    assert_pattern(m.as_slice().unwrap(), 8, "MAP_32BIT memory");
    assert_eq!(entry(&m, 0).perms, "rw-p");
}

#[test]
fn sync_on_anonymous_memory_is_einval_and_on_shmem_is_eopnotsupp() {
    let p = page();
    // Anonymous memory: the kernel rejects MAP_SHARED_VALIDATE itself (the anonymous path
    // knows only MAP_SHARED, MAP_PRIVATE and MAP_DROPPABLE), before looking at MAP_SYNC.
    #[cfg(not(target_arch = "mips64"))] // mips has no MAP_SYNC
    assert_eq!(err(MapOptions::new().len(p).sync().map()), Errno::EINVAL);
    assert_eq!(
        err(MapOptions::new().len(p).shared_validate().map()),
        Errno::EINVAL
    );
    // A file that is not DAX: shared_validate is accepted, MAP_SYNC is not supported.
    let (fd, _file) = memfd_with_pattern(p, 0);
    #[cfg(not(target_arch = "mips64"))]
    assert_eq!(
        err(MapOptions::new().sync().map_file(&fd, 0)),
        Errno::EOPNOTSUPP
    );
    let mut m = MapOptions::new()
        .shared_validate()
        .map_file(&fd, 0)
        .unwrap();
    assert!(m.is_volatile());
    fill(&mut m, 0, 10, 1);
}

#[test]
fn droppable_memory_is_volatile_on_6_11_and_einval_before() {
    let p = page();
    let mut m = match MapOptions::new().len(2 * p).droppable().map() {
        Ok(m) => m,
        Err(e) => {
            if kernel_is_32_bit() && kernel_at_least(6, 11) {
                assert_eq!(e, Errno::EOPNOTSUPP, "MAP_DROPPABLE on a 32-bit kernel");
                skip!(
                    "MAP_DROPPABLE is EOPNOTSUPP: kernel {} is 32-bit (VM_DROPPABLE is a high VMA flag)",
                    kernel_release()
                );
            }
            assert_eq!(
                e,
                Errno::EINVAL,
                "MAP_DROPPABLE refused with EINVAL when unknown"
            );
            if is_qemu_user() {
                skip!("qemu-user does not know MAP_DROPPABLE (EINVAL)");
            }
            assert!(!kernel_at_least(6, 11), "Linux 6.11+ has MAP_DROPPABLE");
            skip!(
                "MAP_DROPPABLE is EINVAL: needs Linux 6.11, kernel is {}",
                kernel_release()
            );
        }
    };
    assert!(m.is_volatile(), "the kernel may drop the pages: volatile");
    assert_eq!(err(m.as_slice()), Errno::EPERM);
    assert_eq!(err(m.as_mut_slice()), Errno::EPERM);
    assert_zero(&read(&m, 0, 2 * p), "droppable memory");
    fill(&mut m, 0, 2 * p, 11);
    assert_pattern(&read(&m, 0, 2 * p), 11, "droppable memory");
    assert_eq!(entry(&m, 0).perms, "rw-p", "private, as far as maps shows");
    assert_eq!(
        m.advise(.., Advice::DontNeed),
        Err(Errno::EINVAL),
        "volatile memory"
    );
}

#[test]
fn shared_anonymous_memory_is_volatile_and_shared_with_a_child() {
    let p = page();
    let mut m = MapOptions::new().shared().len(2 * p).map().unwrap();
    assert!(m.is_volatile());
    assert_eq!(
        err(m.as_slice()),
        Errno::EPERM,
        "volatile memory is not lent out"
    );
    assert_eq!(err(m.as_mut_slice()), Errno::EPERM);
    assert_zero(&read(&m, 0, 2 * p), "shared anonymous memory");
    assert_eq!(entry(&m, 0).perms, "rw-s");
    m.write_at(p, b"parent").unwrap();
    let end = in_child_checked(|| {
        let mut buf = [0u8; 6];
        m.read_at(p, &mut buf).unwrap();
        assert_eq!(&buf, b"parent");
        m.write_at(0, b"child").unwrap();
    });
    assert_eq!(end, ChildEnd::Exited(0));
    assert_eq!(read(&m, 0, 5), b"child", "the child's write is seen");
}

#[test]
fn private_file_mapping_is_copy_on_write_and_volatile() {
    let p = page();
    let (fd, file) = memfd_with_pattern(2 * p, 21);
    let mut m = MapOptions::new().map_file(&fd, 0).unwrap();
    assert!(
        m.is_volatile(),
        "file contents can change under the mapping"
    );
    assert_eq!(err(m.as_slice()), Errno::EPERM);
    assert_eq!(entry(&m, 0).perms, "rw-p");
    assert_pattern(&read(&m, 0, 2 * p), 21, "file contents");
    m.write_at(0, b"private").unwrap();
    assert_eq!(read(&m, 0, 7), b"private");
    assert_pattern(&pread(&file, 0, 2 * p), 21, "the file is unchanged");
}

// ---------------------------------------------------------------------------------------
// map_file

#[test]
fn map_file_defaults_to_the_rest_of_the_file() {
    let p = page();
    let size = 3 * p + 123;
    let (fd, _file) = memfd_with_pattern(size, 31);
    let m = MapOptions::new().shared().map_file(&fd, 0).unwrap();
    assert_eq!(m.len(), size, "default length is the file size");
    assert_pattern(&read(&m, 0, size), 31, "whole file");
    assert_eq!(m.read_at(size, &mut [0u8; 1]), Err(Errno::EINVAL));
    assert_eq!(entry(&m, 0).perms, "rw-s");

    let m = MapOptions::new().shared().map_file(&fd, p as u64).unwrap();
    assert_eq!(m.len(), size - p, "from a page-aligned offset to the end");
    assert_eq!(m.as_ptr() as usize % p, 0);
    let bytes = read(&m, 0, size - p);
    for (i, &b) in bytes.iter().enumerate() {
        assert_eq!(b, pattern(31, p + i), "byte {i} is file byte {}", p + i);
    }
}

#[test]
fn map_file_at_an_unaligned_offset_starts_at_the_byte_asked_for() {
    let p = page();
    let size = 3 * p;
    let (fd, file) = memfd_with_pattern(size, 41);
    let offset = p + 123;
    let mut m = MapOptions::new()
        .shared()
        .map_file(&fd, offset as u64)
        .unwrap();
    assert_eq!(
        m.as_ptr() as usize % p,
        123,
        "as_ptr is 123 bytes into a page"
    );
    assert_eq!(m.len(), size - offset);
    assert_eq!(
        read(&m, 0, 1)[0],
        pattern(41, offset),
        "first byte is file byte {offset}"
    );
    assert_eq!(
        read(&m, m.len() - 1, 1)[0],
        pattern(41, size - 1),
        "last byte"
    );
    let e = entry(&m, 0);
    assert_eq!(
        e.start,
        m.as_ptr() as usize - 123,
        "kernel mapping starts a page down"
    );
    m.write_at(0, b"here").unwrap();
    assert_eq!(
        pread(&file, offset, 4),
        b"here",
        "written at the file offset"
    );

    // With an explicit length, and at a chosen address naming where the byte goes. Where
    // data caches alias (mips), the kernel moves a shared mapping's hint up to the next
    // colour boundary and then by its offset's colour (`COLOUR_ALIGN`), so only an offset
    // whose page has colour 0 is placed where asked: there offset p + 123 is EEXIST at
    // either colour, and the placement is shown with offset 123.
    let colour = mman::shared_alignment();
    let quiet = quiet_address(2 * p + colour) as usize;
    let at_offset = if kernel_shared_colour() > p {
        for at in [quiet + 123, quiet + p + 123] {
            let moved = MapOptions::new()
                .shared()
                .len(10)
                .at(at)
                .map_file(&fd, offset as u64);
            assert_eq!(moved.err(), Some(Errno::EEXIST), "hint {at:#x} moved");
        }
        123
    } else {
        offset
    };
    let at = quiet + at_offset % colour;
    let m = MapOptions::new()
        .shared()
        .len(10)
        .at(at)
        .map_file(&fd, at_offset as u64)
        .unwrap();
    assert_eq!(m.as_ptr() as usize, at);
    assert_eq!(m.len(), 10);
    assert_eq!(read(&m, 0, 4), pread(&file, at_offset, 4));
    assert_eq!(entry(&m, 0).start, at - 123);
}

#[test]
fn map_file_past_the_end_is_einval_and_at_the_end_or_of_an_empty_file_is_empty() {
    let p = page();
    let (fd, _file) = memfd_with_pattern(2 * p, 0);
    assert_eq!(
        err(MapOptions::new().map_file(&fd, 3 * p as u64)),
        Errno::EINVAL
    );
    assert_eq!(
        err(MapOptions::new().map_file(&fd, 2 * p as u64 + 1)),
        Errno::EINVAL
    );
    assert_eq!(
        err(MapOptions::new().map_file(&fd, u64::MAX)),
        Errno::EINVAL
    );
    // Nothing left to map: an empty mapping, as memmap2 gives (tests/from_memmap2.rs
    // checks that its methods never reach the kernel).
    let at_end = MapOptions::new().map_file(&fd, 2 * p as u64).unwrap();
    assert_eq!(at_end.len(), 0, "at end");
    let empty = Memfd::new(c"empty").unwrap();
    let shared = MapOptions::new().shared().map_file(&empty, 0).unwrap();
    assert!(shared.is_empty());
    assert!(empty.map(Access::ReadWrite).unwrap().is_empty());
    assert!(MapOptions::new()
        .len(0)
        .map_file(&fd, 0)
        .unwrap()
        .is_empty());
}

#[test]
fn read_only_file_mapping_refuses_writes() {
    let p = page();
    let (fd, _file) = memfd_with_pattern(p, 51);
    let mut m = MapOptions::new()
        .shared()
        .prot(Prot::READ)
        .map_file(&fd, 0)
        .unwrap();
    assert_eq!(entry(&m, 0).perms, "r--s");
    assert_eq!(m.write_at(0, b"x"), Err(Errno::EACCES));
    assert_pattern(&read(&m, 0, p), 51, "readable");
}

// ---------------------------------------------------------------------------------------
// Ranges

#[test]
fn ranges_reaching_outside_overflowing_or_reversed_are_einval_and_change_nothing() {
    let p = page();
    let len = 4 * p;
    let mut m = quiet(len);
    fill(&mut m, 0, len, 61);
    let start = m.as_ptr() as usize;
    let unchanged = |m: &Mapping| {
        assert_extent(start, start + len, "rw-p");
        assert_pattern(m.as_slice().unwrap(), 61, "bytes");
    };

    // A range ending exactly at the end works (and is partial, so the last page only).
    m.protect(3 * p..len, Prot::READ).unwrap();
    assert_eq!(entry(&m, 3 * p).perms, "r--p");
    assert_eq!(entry(&m, 0).perms, "rw-p");
    m.protect(.., RW).unwrap();
    m.protect(..=len - 1, RW).unwrap();
    m.protect(0..len, RW).unwrap();
    unchanged(&m);

    let bad: [(Bound<usize>, Bound<usize>); 8] = [
        (Bound::Included(3 * p), Bound::Excluded(len + 1)), // one byte past
        (Bound::Unbounded, Bound::Included(len)),           // ..=len
        (Bound::Included(len), Bound::Excluded(len + p)),   // wholly past
        (Bound::Included(p), Bound::Excluded(usize::MAX)),  // end far past
        (Bound::Unbounded, Bound::Included(usize::MAX)),    // end + 1 overflows
        (Bound::Excluded(usize::MAX), Bound::Unbounded),    // start + 1 overflows
        (Bound::Included(2 * p), Bound::Excluded(p)),       // reversed
        (Bound::Excluded(p), Bound::Included(p - 1)),       // reversed, both kinds
    ];
    for range in bad {
        assert_eq!(
            m.protect(range, Prot::READ),
            Err(Errno::EINVAL),
            "protect {range:?}"
        );
        assert_eq!(
            m.advise(range, Advice::Normal),
            Err(Errno::EINVAL),
            "advise {range:?}"
        );
        assert_eq!(
            m.flush(range, Flush::Sync),
            Err(Errno::EINVAL),
            "flush {range:?}"
        );
        let advised = unsafe { m.advise_unchecked(range, Advice::Normal) };
        assert_eq!(advised, Err(Errno::EINVAL), "advise_unchecked {range:?}");
        assert_eq!(
            m.guard(range).map(|_| ()),
            Err(Errno::EINVAL),
            "guard {range:?}"
        );
        unchanged(&m); // the guard refused before touching anything: slices still lent
    }
    // Partial ranges must start on a page boundary: the kernel's EINVAL, nothing changed.
    // (A flush rounds its start down to the page instead, as memmap2 does.)
    assert_eq!(m.protect(1..p, Prot::READ), Err(Errno::EINVAL));
    assert_eq!(m.advise(1..p, Advice::Normal), Err(Errno::EINVAL));
    assert_eq!(m.flush(1..p, Flush::Sync), Ok(()));
    unchanged(&m);
    // An unaligned end is rounded up by the kernel: the whole last page changes.
    m.protect(p..p + 1, Prot::READ).unwrap();
    let e = entry(&m, p);
    assert_eq!(
        (e.start, e.end, e.perms.as_str()),
        (start + p, start + 2 * p, "r--p")
    );
    m.protect(.., RW).unwrap();
    unchanged(&m);
}

#[test]
fn zero_length_ranges_succeed_without_changing_memory() {
    let p = page();
    let len = 2 * p;
    let mut m = quiet(len);
    fill(&mut m, 0, len, 71);
    // An empty range at a page boundary: the kernel accepts len 0 and does nothing.
    m.protect(p..p, Prot::empty()).unwrap();
    m.protect(len..len, Prot::empty()).unwrap();
    assert_eq!(entry(&m, 0).perms, "rw-p");
    assert_eq!(entry(&m, p).perms, "rw-p");
    assert_eq!(entry(&m, 0).end, m.as_ptr() as usize + len, "no split");
    // The safe layer conservatively assumes a partial protect without READ removed access
    // somewhere, even when the range was empty: slices are refused until a whole-mapping
    // protect restores them. (Sound, if overly cautious.)
    assert_eq!(err(m.as_slice()), Errno::EACCES);
    m.protect(.., RW).unwrap();
    assert_pattern(m.as_slice().unwrap(), 71, "after empty protects");
    // An empty range must still start on a page boundary for mprotect (a flush rounds it
    // down to its page).
    assert_eq!(m.protect(5..5, Prot::READ), Err(Errno::EINVAL));
    assert_eq!(m.flush(5..5, Flush::Sync), Ok(()));
    assert_eq!(m.flush(p..p, Flush::Sync), Ok(()));
    assert_eq!(m.advise(p..p, Advice::DontNeed), Ok(()));
    assert_eq!(m.advise(len..len, Advice::Normal), Ok(()));
    assert_pattern(
        m.as_slice().unwrap(),
        71,
        "an empty DontNeed zeroes nothing",
    );
    assert_eq!(m.read_at(len, &mut []), Ok(()));
    assert_eq!(m.write_at(0, &[]), Ok(()));
    assert_pattern(m.as_slice().unwrap(), 71, "after empty copies");
}

// ---------------------------------------------------------------------------------------
// protect

#[test]
fn protect_changes_maps_permissions_and_what_the_safe_layer_lends() {
    let p = page();
    let len = 4 * p;
    let mut m = quiet(len);
    fill(&mut m, 0, len, 81);
    let start = m.as_ptr() as usize;

    m.protect(p..2 * p, Prot::READ).unwrap();
    let e = entry(&m, p);
    assert_eq!(
        (e.start, e.end, e.perms.as_str()),
        (start + p, start + 2 * p, "r--p")
    );
    assert_eq!(entry(&m, 0).perms, "rw-p");
    assert_eq!(entry(&m, 2 * p).perms, "rw-p");
    assert_pattern(m.as_slice().unwrap(), 81, "still readable everywhere");
    assert_eq!(err(m.as_mut_slice()), Errno::EACCES, "part is not writable");
    assert_eq!(m.write_at(0, b"x"), Err(Errno::EACCES));

    m.protect(2 * p..3 * p, Prot::empty()).unwrap();
    assert_eq!(entry(&m, 2 * p).perms, "---p");
    assert_eq!(err(m.as_slice()), Errno::EACCES);
    assert_eq!(err(m.as_mut_slice()), Errno::EACCES);
    assert_eq!(
        m.read_at(2 * p, &mut [0u8; 8]),
        Err(Errno::EACCES),
        "PROT_NONE range"
    );
    // Readability is tracked for the mapping as a whole, not per page.
    assert_eq!(
        m.read_at(0, &mut [0u8; 8]),
        Err(Errno::EACCES),
        "even a readable page"
    );
    // Nor are atomics.
    assert_eq!(m.atomic_u32(0).map(|_| ()), Err(Errno::EACCES));
    // The child can see the fault really is there.
    let end = in_child(|| read_byte((start + 2 * p) as *const u8) as i32);
    assert_eq!(end, ChildEnd::Signaled(libc::SIGSEGV));

    // Restoring a part does not restore the whole...
    m.protect(2 * p..3 * p, RW).unwrap();
    assert_eq!(entry(&m, 2 * p).perms, "rw-p");
    assert_eq!(
        err(m.as_slice()),
        Errno::EACCES,
        "only a whole-mapping protect restores"
    );
    // ...a whole-mapping protect does.
    m.protect(.., Prot::READ).unwrap();
    assert_extent(start, start + len, "r--p");
    assert_pattern(
        m.as_slice().unwrap(),
        81,
        "bytes survive protection changes",
    );
    assert_eq!(err(m.as_mut_slice()), Errno::EACCES);
    m.protect(.., RW).unwrap();
    assert_eq!(entry(&m, 0).perms, "rw-p");
    m.as_mut_slice().unwrap()[0] = 1;
    assert_eq!(read(&m, 0, 1), [1]);
}

#[test]
fn protect_of_the_whole_covers_the_rounded_up_last_page() {
    let p = page();
    let len = 2 * p + 5;
    let at = quiet_address(3 * p) as usize;
    let mut m = MapOptions::new().len(len).at(at).map().unwrap();
    m.protect(.., Prot::READ).unwrap();
    let e = entry(&m, 0);
    assert_eq!((e.start, e.end, e.perms.as_str()), (at, at + 3 * p, "r--p"));
    m.protect(0..len, RW).unwrap();
    assert_eq!(entry(&m, 2 * p).perms, "rw-p");
    assert!(m.as_mut_slice().is_ok(), "0..len is the whole mapping");
}

#[test]
fn prot_none_mapping_refuses_access_until_protected() {
    let p = page();
    let mut m = MapOptions::new().prot(Prot::empty()).len(p).map().unwrap();
    assert_eq!(entry(&m, 0).perms, "---p");
    assert_eq!(err(m.as_slice()), Errno::EACCES);
    assert_eq!(m.read_at(0, &mut [0u8; 1]), Err(Errno::EACCES));
    assert_eq!(m.write_at(0, b"x"), Err(Errno::EACCES));
    m.protect(.., Prot::READ).unwrap();
    assert_zero(m.as_slice().unwrap(), "now readable");
}

#[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
fn code_returning(v: u8) -> Vec<u8> {
    vec![0xb8, v, 0, 0, 0, 0xc3] // mov eax, v; ret
}

#[cfg(target_arch = "arm")]
fn code_returning(v: u8) -> Vec<u8> {
    let mov = 0xe3a0_0000u32 | u32::from(v); // mov r0, #v (A32)
    let bx = 0xe12f_ff1eu32; // bx lr
    [mov.to_le_bytes(), bx.to_le_bytes()].concat()
}

#[cfg(target_arch = "aarch64")]
fn code_returning(v: u8) -> Vec<u8> {
    let mov = 0x5280_0000u32 | (u32::from(v) << 5); // mov w0, #v
    let ret = 0xd65f_03c0u32; // ret
    [mov.to_le_bytes(), ret.to_le_bytes()].concat()
}

#[cfg(target_arch = "riscv64")]
fn code_returning(v: u8) -> Vec<u8> {
    let li = (u32::from(v) << 20) | (10 << 7) | 0x13; // li a0, v (addi a0, zero, v)
    let ret = 0x0000_8067u32; // ret (jalr zero, 0(ra))
    [li.to_le_bytes(), ret.to_le_bytes()].concat()
}

#[cfg(target_arch = "powerpc64")]
fn code_returning(v: u8) -> Vec<u8> {
    let li = 0x3860_0000u32 | u32::from(v); // li r3, v (addi r3, 0, v)
    let blr = 0x4e80_0020u32; // blr
    [li.to_le_bytes(), blr.to_le_bytes()].concat()
}

#[cfg(target_arch = "s390x")]
fn code_returning(v: u8) -> Vec<u8> {
    // lghi %r2, v (RI: a7, r1 << 4 | 9, imm16); br %r14 (bcr 15, %r14). Big-endian.
    vec![0xa7, 0x29, 0x00, v, 0x07, 0xfe]
}

#[cfg(target_arch = "loongarch64")]
fn code_returning(v: u8) -> Vec<u8> {
    let li = 0x0280_0000u32 | (u32::from(v) << 10) | 4; // li.w $a0, v (addi.w $a0, $zero, v)
    let ret = 0x4c00_0020u32; // ret (jirl $zero, $ra, 0)
    [li.to_le_bytes(), ret.to_le_bytes()].concat()
}

#[cfg(target_arch = "mips64")]
fn code_returning(v: u8) -> Vec<u8> {
    let jr = 0x03e0_0008u32; // jr $ra
    let li = 0x2402_0000u32 | u32::from(v); // (in jr's delay slot) li $v0, v (addiu $v0, $zero, v)
    [jr.to_ne_bytes(), li.to_ne_bytes()].concat()
}

fn call(m: &Mapping) -> u32 {
    // SAFETY: the mapping holds a complete function of this signature and is executable.
    let f = unsafe { std::mem::transmute::<*mut u8, extern "C" fn() -> u32>(m.as_ptr()) };
    f()
}

#[test]
fn protect_exec_runs_freshly_written_code() {
    let p = page();
    let mut m = Mapping::anonymous(p).unwrap();
    let code = code_returning(42);
    #[cfg(target_arch = "aarch64")]
    assert_eq!(code, [0x40, 0x05, 0x80, 0x52, 0xc0, 0x03, 0x5f, 0xd6]);
    m.as_mut_slice().unwrap()[..code.len()].copy_from_slice(&code);
    // Readable before the change: the cache is synchronised before mprotect.
    m.protect(.., Prot::READ | Prot::EXEC).unwrap();
    assert_eq!(entry(&m, 0).perms, "r-xp");
    assert_eq!(call(&m), 42);
    assert_eq!(
        &m.as_slice().unwrap()[..code.len()],
        &code[..],
        "still readable"
    );
    assert_eq!(err(m.as_mut_slice()), Errno::EACCES);

    // Rewritten in place: the new code, not a stale copy, must run.
    m.protect(.., RW).unwrap();
    let code = code_returning(7);
    m.as_mut_slice().unwrap()[..code.len()].copy_from_slice(&code);
    m.protect(.., Prot::READ | Prot::EXEC).unwrap();
    assert_eq!(call(&m), 7);

    // Unreadable before the change: the cache is synchronised after mprotect.
    m.protect(.., RW).unwrap();
    let code = code_returning(99);
    m.as_mut_slice().unwrap()[..code.len()].copy_from_slice(&code);
    m.protect(.., Prot::empty()).unwrap();
    m.protect(.., Prot::READ | Prot::EXEC).unwrap();
    assert_eq!(call(&m), 99);
}

// ---------------------------------------------------------------------------------------
// flush

#[test]
fn flush_writes_a_shared_file_mapping_back_in_every_mode() {
    let p = page();
    let (fd, file) = memfd_with_pattern(3 * p, 0);
    let mut m = fd.map(Access::ReadWrite).unwrap();
    for (i, how) in [Flush::Sync, Flush::Async, Flush::SyncInvalidate]
        .into_iter()
        .enumerate()
    {
        let text = format!("flushed {how:?}");
        m.write_at(i * p + 7, text.as_bytes()).unwrap();
        assert_eq!(m.flush(.., how), Ok(()), "{how:?} whole");
        assert_eq!(m.flush(i * p..(i + 1) * p, how), Ok(()), "{how:?} one page");
        assert_eq!(
            m.flush(i * p..i * p + 8, how),
            Ok(()),
            "{how:?} short, aligned start"
        );
        assert_eq!(
            pread(&file, i * p + 7, text.len()),
            text.as_bytes(),
            "{how:?}"
        );
    }
    // An unaligned start is rounded down to its page, as memmap2 does (msync's EINVAL
    // otherwise; tests/from_memmap2.rs checks the bytes this way).
    assert_eq!(m.flush(1..p, Flush::Sync), Ok(()), "unaligned start");
    assert_eq!(
        m.flush(0..3 * p + 1, Flush::Sync),
        Err(Errno::EINVAL),
        "past the end"
    );

    // A mapping that starts inside a page flushes whole (from the page below).
    let m = MapOptions::new().shared().map_file(&fd, 100).unwrap();
    assert_eq!(m.flush(.., Flush::Sync), Ok(()));
    assert_eq!(
        m.flush(0..10, Flush::Sync),
        Ok(()),
        "as_ptr is unaligned: rounded down to the page below, inside the mapping"
    );
    assert_eq!(
        m.flush(p - 100..2 * p - 100, Flush::Sync),
        Ok(()),
        "page-aligned part"
    );
}

#[test]
fn flush_with_invalidate_of_locked_memory_is_ebusy() {
    let _serial = serial();
    let m = Mapping::anonymous(2 * page()).unwrap();
    m.lock(..).unwrap();
    assert_eq!(m.flush(.., Flush::SyncInvalidate), Err(Errno::EBUSY));
    assert_eq!(m.flush(.., Flush::Sync), Ok(()));
    m.unlock(..).unwrap();
    assert_eq!(m.flush(.., Flush::SyncInvalidate), Ok(()));
}

// ---------------------------------------------------------------------------------------
// advise

fn ksm_available() -> bool {
    std::path::Path::new("/sys/kernel/mm/ksm").exists()
}

#[test]
fn harmless_advice_is_accepted_and_keeps_the_bytes() {
    let p = page();
    let len = 4 * p;
    let mut m = Mapping::anonymous(len).unwrap();
    fill(&mut m, 0, len, 91);
    use Advice::*;
    let mut always = vec![
        Normal,
        Random,
        Sequential,
        WillNeed,
        DoFork,
        DontDump,
        DoDump,
        KeepOnFork,
        Cold,
        PageOut,
        PopulateRead,
        PopulateWrite,
    ];
    if thp_built_in() {
        always.extend([HugePage, NoHugePage]);
    }
    if ksm_available() {
        always.extend([Mergeable, Unmergeable]);
    }
    for advice in always {
        assert_eq!(m.advise(.., advice), Ok(()), "{advice:?} on the whole");
        assert_eq!(m.advise(p..2 * p, advice), Ok(()), "{advice:?} on a page");
        assert_pattern(m.as_slice().unwrap(), 91, &format!("after {advice:?}"));
    }
    // Without the feature, the kernel does not know the advice at all.
    if !thp_built_in() {
        assert_eq!(m.advise(.., HugePage), Err(Errno::EINVAL));
    }
    if !ksm_available() {
        assert_eq!(m.advise(.., Mergeable), Err(Errno::EINVAL));
    }
}

#[test]
fn dont_need_on_exclusive_memory_zeroes_it() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}");
    }
    let p = page();
    let mut m = Mapping::anonymous(4 * p).unwrap();
    fill(&mut m, 0, 4 * p, 101);
    m.advise(p..2 * p, Advice::DontNeed).unwrap();
    let s = m.as_slice().unwrap();
    assert_pattern(&s[..p], 101, "page 0");
    assert_zero(&s[p..2 * p], "page 1 after DontNeed");
    assert_eq!(s[2 * p], pattern(101, 2 * p), "page 2");
    m.advise(2 * p.., Advice::DontNeedLocked).unwrap();
    assert_zero(
        &m.as_slice().unwrap()[2 * p..],
        "pages 2-3 after DontNeedLocked",
    );
    assert_pattern(&m.as_slice().unwrap()[..p], 101, "page 0 kept");
}

#[test]
fn destructive_advice_is_einval_through_the_safe_advise() {
    let p = page();
    let mut exclusive = Mapping::anonymous(2 * p).unwrap();
    fill(&mut exclusive, 0, 2 * p, 111);
    use Advice::*;
    for advice in [
        Free,
        Remove,
        GuardInstall,
        GuardRemove,
        HwPoison,
        SoftOffline,
        DontFork,
        WipeOnFork,
    ] {
        assert_eq!(
            exclusive.advise(.., advice),
            Err(Errno::EINVAL),
            "{advice:?}"
        );
        assert_eq!(
            exclusive.advise(p..2 * p, advice),
            Err(Errno::EINVAL),
            "{advice:?}"
        );
    }
    assert_pattern(
        exclusive.as_slice().unwrap(),
        111,
        "exclusive memory intact",
    );
    assert_eq!(entry(&exclusive, 0).perms, "rw-p");

    let mut shared = MapOptions::new().shared().len(2 * p).map().unwrap();
    fill(&mut shared, 0, 2 * p, 112);
    let (fd, _file) = memfd_with_pattern(2 * p, 113);
    let mut file = fd.map(Access::ReadWrite).unwrap();
    let mut private_file = MapOptions::new().map_file(&fd, 0).unwrap();
    for (what, m, seed) in [
        ("shared anonymous", &mut shared, 112),
        ("shared memfd", &mut file, 113),
        ("private memfd", &mut private_file, 113),
    ] {
        for advice in [
            DontNeed,
            DontNeedLocked,
            Free,
            Remove,
            GuardInstall,
            HwPoison,
        ] {
            assert_eq!(
                m.advise(.., advice),
                Err(Errno::EINVAL),
                "{what}: {advice:?}"
            );
        }
        assert_pattern(&read(m, 0, 2 * p), seed, what);
        assert_eq!(
            m.advise(.., Normal),
            Ok(()),
            "{what}: harmless advice still works"
        );
    }
}

#[test]
fn advise_unchecked_remove_punches_a_hole_in_a_shared_memfd() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}");
    }
    let p = page();
    let (fd, file) = memfd_with_pattern(3 * p, 121);
    let mut m = fd.map(Access::ReadWrite).unwrap();
    unsafe { m.advise_unchecked(p..2 * p, Advice::Remove) }.unwrap();
    assert_zero(&read(&m, p, p), "removed page through the mapping");
    assert_zero(&pread(&file, p, p), "removed page in the file");
    assert_pattern(&read(&m, 0, p), 121, "page 0");
    assert_eq!(pread(&file, 2 * p, 1)[0], pattern(121, 2 * p), "page 2");
    assert_eq!(fd.len(), Ok(3 * p as u64), "the size stays");

    // DontNeed on a shared file mapping only drops this mapping's page-table entries: the
    // bytes come back from the page cache.
    unsafe { m.advise_unchecked(.., Advice::DontNeed) }.unwrap();
    assert_pattern(&read(&m, 0, p), 121, "page 0 after shared DontNeed");
}

// ---------------------------------------------------------------------------------------
// lock / unlock / lock_on_fault

#[test]
fn lock_and_unlock_move_vmlck_and_fault_pages_in() {
    let _serial = serial();
    let p = page();
    let m = quiet(4 * p);
    let base = vm_lck_kb();
    assert_eq!(
        resident(m.as_ptr().cast(), 4 * p),
        vec![false; 4],
        "untouched"
    );

    m.lock(..).unwrap();
    assert_eq!(vm_lck_kb(), base + 4 * p / 1024, "whole mapping locked");
    assert_eq!(
        resident(m.as_ptr().cast(), 4 * p),
        vec![true; 4],
        "mlock faults in"
    );
    if smaps_is_real() {
        assert!(has_vm_flag(addr(&m, 0), "lo"));
    }
    m.unlock(..).unwrap();
    assert_eq!(vm_lck_kb(), base, "unlocked");

    m.lock(p..3 * p).unwrap();
    assert_eq!(vm_lck_kb(), base + 2 * p / 1024, "two pages");
    m.unlock(2 * p..3 * p).unwrap();
    assert_eq!(vm_lck_kb(), base + p / 1024, "one page left");
    m.unlock(..).unwrap();
    assert_eq!(vm_lck_kb(), base);

    // Range errors change nothing.
    assert_eq!(m.lock(0..4 * p + 1), Err(Errno::EINVAL));
    assert_eq!(
        m.lock((Bound::Excluded(usize::MAX), Bound::Unbounded)),
        Err(Errno::EINVAL)
    );
    assert_eq!(m.unlock(3 * p..2 * p), Err(Errno::EINVAL));
    assert_eq!(vm_lck_kb(), base);
    // An empty range locks nothing.
    assert_eq!(m.lock(p..p), Ok(()));
    assert_eq!(vm_lck_kb(), base);
    // mlock rounds an unaligned start down (unlike mprotect): the first page is locked.
    assert_eq!(m.lock(1..p), Ok(()));
    assert_eq!(vm_lck_kb(), base + p / 1024);
    m.unlock(..).unwrap();
    assert_eq!(vm_lck_kb(), base);

    // Dropping a locked mapping releases the lock.
    let locked = Mapping::anonymous(2 * p).unwrap();
    locked.lock(..).unwrap();
    assert_eq!(vm_lck_kb(), base + 2 * p / 1024);
    drop(locked);
    assert_eq!(vm_lck_kb(), base);
}

#[test]
fn lock_on_fault_counts_the_range_but_faults_in_only_touched_pages() {
    let _serial = serial();
    let p = page();
    let mut m = quiet(4 * p);
    let base = vm_lck_kb();
    match m.lock_on_fault(..) {
        Ok(()) => {}
        Err(Errno::ENOSYS) => {
            assert_eq!(vm_lck_kb(), base);
            skip!("{}", enosys("mlock2", "4.4"));
        }
        Err(e) => panic!("lock_on_fault: {e}"),
    }
    assert_eq!(
        vm_lck_kb(),
        base + 4 * p / 1024,
        "the whole range counts as locked"
    );
    assert_eq!(
        resident(m.as_ptr().cast(), 4 * p),
        vec![false; 4],
        "nothing faulted in"
    );
    m.as_mut_slice().unwrap()[p] = 1;
    assert_eq!(
        resident(m.as_ptr().cast(), 4 * p),
        vec![false, true, false, false],
        "the touched page is in"
    );
    if smaps_is_real() {
        // smaps names VM_LOCKONFAULT `lf`; older kernels (6.1 here) print it as `??`.
        let flags = vm_flags(addr(&m, 0));
        assert!(
            flags.iter().any(|f| f == "lf" || f == "??"),
            "VM_LOCKONFAULT: {flags:?}"
        );
    }
    m.unlock(..).unwrap();
    assert_eq!(vm_lck_kb(), base);
    assert_eq!(m.lock_on_fault(0..4 * p + 1), Err(Errno::EINVAL));
    assert_eq!(vm_lck_kb(), base);
}

// ---------------------------------------------------------------------------------------
// remap

#[test]
fn remap_grow_keeps_the_bytes_and_zero_fills_the_rest() {
    let p = page();
    let mut m = Mapping::anonymous(2 * p).unwrap();
    fill(&mut m, 0, 2 * p, 131);
    m.remap(6 * p + 3, true).unwrap();
    assert_eq!(m.len(), 6 * p + 3);
    let s = m.as_slice().unwrap();
    assert_pattern(&s[..2 * p], 131, "old bytes");
    assert_zero(&s[2 * p..], "new bytes");
    let e = entry(&m, 0);
    assert!(e.start <= m.as_ptr() as usize && m.as_ptr() as usize + 7 * p <= e.end);
    assert_eq!(e.perms, "rw-p");
    m.as_mut_slice().unwrap()[6 * p + 2] = 9;
    assert_eq!(read(&m, 6 * p + 2, 1), [9]);
}

#[test]
fn remap_shrink_unmaps_the_tail() {
    let p = page();
    let mut m = quiet(4 * p);
    fill(&mut m, 0, 4 * p, 141);
    let start = m.as_ptr() as usize;
    m.remap(p + 10, false).unwrap();
    assert_eq!((m.as_ptr() as usize, m.len()), (start, p + 10));
    assert_pattern(m.as_slice().unwrap(), 141, "kept bytes");
    let e = entry(&m, 0);
    assert_eq!(
        (e.start, e.end),
        (start, start + 2 * p),
        "rounded up to pages"
    );
    assert!(
        !is_mapped((start + 2 * p) as *const c_void),
        "tail unmapped"
    );
    assert_eq!(m.read_at(p + 10, &mut [0u8; 1]), Err(Errno::EINVAL));
    drop(m);
    assert!(!is_mapped(start as *const c_void));
}

#[test]
fn remap_in_place_blocked_by_a_neighbour_is_enomem_then_moves_if_allowed() {
    let p = page();
    let (mut m, blocker) = hemmed_in(2);
    let at = m.as_ptr() as usize;
    fill(&mut m, 0, 2 * p, 151);
    assert_eq!(m.remap(4 * p, false), Err(Errno::ENOMEM));
    assert_eq!((m.as_ptr() as usize, m.len()), (at, 2 * p), "unchanged");
    assert_pattern(m.as_slice().unwrap(), 151, "bytes intact");
    let e = entry(&m, 0);
    assert_eq!((e.start, e.end, e.perms.as_str()), (at, at + 2 * p, "rw-p"));

    m.remap(4 * p, true).unwrap();
    assert_ne!(m.as_ptr() as usize, at, "moved");
    assert_eq!(m.len(), 4 * p);
    assert_pattern(&m.as_slice().unwrap()[..2 * p], 151, "moved bytes");
    assert_zero(&m.as_slice().unwrap()[2 * p..], "new bytes");
    assert!(!is_mapped(at as *const c_void), "old range unmapped");
    assert_eq!(entry(&blocker, 0).perms, "r--p", "neighbour untouched");
}

#[test]
fn drop_after_a_failed_remap_still_unmaps() {
    let p = page();
    let (mut m, blocker) = hemmed_in(2);
    let at = m.as_ptr() as usize;
    assert_eq!(m.remap(3 * p, false), Err(Errno::ENOMEM));
    assert_eq!(m.remap(0, true), Err(Errno::EINVAL));
    drop(m);
    assert!(!is_mapped(at as *const c_void), "first page unmapped");
    assert!(
        !is_mapped((at + p) as *const c_void),
        "second page unmapped"
    );
    assert!(is_mapped(blocker.as_ptr().cast()), "neighbour kept");
}

#[test]
fn remap_to_zero_or_a_huge_length_fails_and_keeps_the_mapping() {
    let p = page();
    let mut m = quiet(2 * p);
    fill(&mut m, 0, 2 * p, 161);
    assert_eq!(m.remap(0, true), Err(Errno::EINVAL));
    // A length whose page-aligned end overflows: EINVAL, as the kernel's PAGE_ALIGN wraps
    // to 0 (the safe layer answers before asking it).
    assert_eq!(m.remap(usize::MAX, true), Err(Errno::EINVAL));
    assert_eq!(m.remap(usize::MAX, false), Err(Errno::EINVAL));
    assert_eq!(m.len(), 2 * p);
    assert_pattern(m.as_slice().unwrap(), 161, "bytes intact");
    // At an odd offset of a file the kernel mapping starts `lead` bytes earlier: to zero
    // is refused there too, not a shrink of the kernel mapping to the lead alone.
    let (file, _) = memfd_with_pattern(2 * p, 162);
    let mut odd = MapOptions::new().len(p).map_file(&file, 100).unwrap();
    let before = entry(&odd, 0);
    assert_eq!(odd.remap(0, false), Err(Errno::EINVAL));
    assert_eq!((odd.len(), entry(&odd, 0)), (p, before));
    let e = entry(&m, 0);
    assert_eq!(
        (e.start, e.end),
        (m.as_ptr() as usize, m.as_ptr() as usize + 2 * p)
    );
}

#[test]
fn remap_of_locked_memory_keeps_vmlck_in_step() {
    let _serial = serial();
    let p = page();
    let base = vm_lck_kb();
    let mut m = Mapping::anonymous(2 * p).unwrap();
    fill(&mut m, 0, 2 * p, 171);
    m.lock(..).unwrap();
    assert_eq!(vm_lck_kb(), base + 2 * p / 1024);
    m.remap(5 * p, true).unwrap();
    assert_eq!(
        vm_lck_kb(),
        base + 5 * p / 1024,
        "grown: the new pages are locked too"
    );
    assert_eq!(
        resident(m.as_ptr().cast(), 5 * p),
        vec![true; 5],
        "and faulted in"
    );
    assert_pattern(&m.as_slice().unwrap()[..2 * p], 171, "bytes");
    m.remap(p, true).unwrap();
    assert_eq!(vm_lck_kb(), base + p / 1024, "shrunk");
    drop(m);
    assert_eq!(vm_lck_kb(), base, "dropped");
}

#[test]
fn remap_file_grows_the_file_so_the_new_bytes_are_backed() {
    let p = page();
    let (fd, file) = memfd_with_pattern(p, 181);
    let mut m = fd.map(Access::ReadWrite).unwrap();
    m.remap_file(&fd, 3 * p + 5, true).unwrap();
    assert_eq!(fd.len(), Ok(3 * p as u64 + 5), "memfd grew");
    assert_eq!(m.len(), 3 * p + 5);
    assert_pattern(&read(&m, 0, p), 181, "old bytes");
    assert_zero(&read(&m, p, 2 * p + 5), "new bytes");
    m.write_at(3 * p + 4, b"!").unwrap();
    assert_eq!(pread(&file, 3 * p + 4, 1), b"!");
    // Shrinking the mapping never shrinks the file.
    m.remap_file(&fd, p, true).unwrap();
    assert_eq!(m.len(), p);
    assert_eq!(fd.len(), Ok(3 * p as u64 + 5), "file kept its size");
}

/// The file grows only when it is shorter than the new end: a file exactly long enough is
/// left alone, even through a descriptor that could not grow it (read-only).
#[test]
fn remap_file_leaves_a_file_that_is_long_enough_alone() {
    let p = page();
    let (fd, _file) = memfd_with_pattern(3 * p, 201);
    let path = format!(
        "/proc/self/fd/{}",
        mman::fd::AsRawFd::as_raw_fd(&mman::fd::AsFd::as_fd(&fd))
    );
    let read_only = std::fs::File::open(path).unwrap();
    // SAFETY: the descriptor stays open until the end of the test.
    let read_only =
        unsafe { mman::fd::BorrowedFd::borrow_raw(std::os::fd::AsRawFd::as_raw_fd(&read_only)) };
    let mut m = MapOptions::new()
        .prot(Prot::READ)
        .len(p)
        .map_file(read_only, 0)
        .unwrap();
    // To exactly the file's length, and shorter: no truncation asked.
    m.remap_file(read_only, 3 * p, true).unwrap();
    m.remap_file(read_only, 2 * p, true).unwrap();
    assert_eq!(fd.len(), Ok(3 * p as u64));
    assert_pattern(&read(&m, 0, 2 * p), 201, "the file's bytes");
    // Longer: the file must grow, which the read-only descriptor cannot do.
    assert_eq!(m.remap_file(read_only, 4 * p, true), Err(Errno::EINVAL));
    assert_eq!(m.len(), 2 * p);
}

#[test]
fn remap_file_of_a_mapping_at_an_unaligned_offset_keeps_the_start_byte() {
    let p = page();
    let (fd, _file) = memfd_with_pattern(2 * p, 191);
    let offset = p + 100;
    let mut m = MapOptions::new()
        .shared()
        .map_file(&fd, offset as u64)
        .unwrap();
    assert_eq!(m.len(), p - 100);
    m.remap_file(&fd, 2 * p, true).unwrap();
    assert_eq!(
        fd.len(),
        Ok((offset + 2 * p) as u64),
        "file grown to offset + new len"
    );
    assert_eq!(m.as_ptr() as usize % p, 100);
    assert_eq!(read(&m, 0, 1)[0], pattern(191, offset), "same first byte");
    assert_zero(&read(&m, p - 100, p + 100), "new bytes");
    let (start, len) = m.into_raw();
    assert_eq!(len, 2 * p + 100, "the kernel mapping includes the lead");
    drop(unsafe { Mapping::from_raw_volatile(start, len, RW) });
}

#[test]
fn remap_file_of_a_grow_sealed_memfd_is_eperm_and_keeps_the_mapping() {
    let p = page();
    let (fd, _file) = memfd_with_pattern(p, 201);
    let mut m = fd.map(Access::ReadWrite).unwrap();
    fd.add_seals(Seals::GROW).unwrap();
    assert_eq!(m.remap_file(&fd, 2 * p, true), Err(Errno::EPERM));
    assert_eq!(m.len(), p);
    assert_eq!(fd.len(), Ok(p as u64));
    assert_pattern(&read(&m, 0, p), 201, "bytes intact");
}

/// BUG: `remap` documents "New anonymous bytes read as zeros", but a shared anonymous
/// mapping is backed by a shmem file whose size is fixed when it is mapped: growing the
/// mapping adds pages past that end, and `read_at` of them (safe code) raises SIGBUS.
#[test]
fn remap_refuses_to_grow_shared_anonymous_memory() {
    let p = page();
    let end = in_child_checked(move || {
        let mut m = MapOptions::new().shared().len(p).map().unwrap();
        m.write_at(0, b"kept").unwrap();
        assert_eq!(m.remap(3 * p, true), Err(Errno::EINVAL));
        assert_eq!(m.len(), p, "unchanged");
        assert_eq!(read(&m, 0, 4), b"kept");
        // Shrinking is always allowed.
        let mut two = MapOptions::new().shared().len(2 * p).map().unwrap();
        assert_eq!(two.remap(p, true), Ok(()));
        assert_eq!(two.len(), p);
    });
    assert_eq!(
        end,
        ChildEnd::Exited(0),
        "reading the grown part of a shared anonymous mapping through safe read_at \
         must not kill the process (Signaled(7) is SIGBUS)"
    );
}

// ---------------------------------------------------------------------------------------
// seal

#[test]
fn seal_blocks_protect_and_remap_and_the_drop_leaks_the_mapping() {
    let p = page();
    let mut m = quiet(2 * p);
    fill(&mut m, 0, 2 * p, 211);
    let start = m.as_ptr() as usize;
    match m.seal() {
        Ok(()) => {}
        Err(Errno::ENOSYS) => {
            let missing = is_qemu_user() || !kernel_at_least(6, 10) || kernel_is_32_bit();
            assert!(missing, "6.10+ has mseal (64-bit kernels only)");
            skip!("{}", enosys("mseal", "6.10 and a 64-bit kernel"));
        }
        Err(e) => panic!("seal: {e}"),
    }
    assert_eq!(m.protect(.., Prot::READ), Err(Errno::EPERM));
    assert_eq!(m.protect(p..2 * p, Prot::empty()), Err(Errno::EPERM));
    assert_eq!(m.remap(4 * p, true), Err(Errno::EPERM));
    assert_eq!(
        m.remap(p, false),
        Err(Errno::EPERM),
        "shrinking unmaps: refused"
    );
    assert_eq!(m.len(), 2 * p);
    let e = entry(&m, 0);
    assert_eq!(
        (e.start, e.end, e.perms.as_str()),
        (start, start + 2 * p, "rw-p")
    );
    assert_pattern(m.as_slice().unwrap(), 211, "bytes");
    m.write_at(0, b"still writable").unwrap();
    assert_eq!(m.advise(.., Advice::Normal), Ok(()));
    assert_eq!(m.seal(), Ok(()), "sealing again is fine");
    drop(m);
    // munmap is refused (EPERM): the mapping stays, by design.
    let e = maps_entry(start as *const c_void).expect("a sealed mapping survives its drop");
    assert_eq!(
        (e.start, e.end, e.perms.as_str()),
        (start, start + 2 * p, "rw-p")
    );
    assert_eq!(read_byte(start as *const u8), b's');
}

// ---------------------------------------------------------------------------------------
// guard / unguard

#[test]
fn guard_makes_accesses_fault_and_unguard_restores_them() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE} (MADV_GUARD_INSTALL would report success and install nothing)");
    }
    let p = page();
    let mut m = quiet(4 * p);
    fill(&mut m, 0, 4 * p, 221);
    let start = m.as_ptr() as usize;
    let guard = m.guard(p..2 * p).unwrap();
    if kernel_at_least(6, 13) {
        assert_eq!(guard, Guard::Madvise, "6.13+ has MADV_GUARD_INSTALL");
        // Guard markers live in the page tables: the mapping itself is unchanged.
        assert_eq!(entry(&m, p).perms, "rw-p");
    } else {
        assert_eq!(
            guard,
            Guard::ProtNone,
            "before 6.13 the fallback is PROT_NONE"
        );
        assert_eq!(entry(&m, p).perms, "---p");
    }
    assert_eq!(err(m.as_slice()), Errno::EACCES);
    assert_eq!(err(m.as_mut_slice()), Errno::EACCES);
    assert_eq!(m.read_at(p, &mut [0u8; 1]), Err(Errno::EACCES));
    assert_eq!(m.write_at(0, b"x"), Err(Errno::EACCES));

    let guarded = start + p;
    assert_eq!(
        in_child(|| read_byte(guarded as *const u8) as i32),
        ChildEnd::Signaled(libc::SIGSEGV),
        "reading a guarded page"
    );
    assert_eq!(
        in_child(|| {
            write_byte((guarded + p - 1) as *mut u8, 1);
            0
        }),
        ChildEnd::Signaled(libc::SIGSEGV),
        "writing a guarded page"
    );
    assert_eq!(
        in_child(|| read_byte((start + 2 * p) as *const u8) as i32),
        ChildEnd::Exited(i32::from(pattern(221, 2 * p))),
        "control: the page after the guard reads fine"
    );

    m.unguard(RW).unwrap();
    let s = m.as_slice().unwrap();
    assert_pattern(&s[..p], 221, "page 0");
    assert_eq!(
        s[2 * p..],
        (2 * p..4 * p).map(|i| pattern(221, i)).collect::<Vec<_>>()[..]
    );
    if guard == Guard::Madvise {
        assert_zero(
            &s[p..2 * p],
            "a guard discards the page: zeros after unguard",
        );
    }
    let e = entry(&m, 0);
    assert_eq!(
        (e.start, e.end, e.perms.as_str()),
        (start, start + 4 * p, "rw-p")
    );
    // After Guard::Madvise the page was discarded; after Guard::ProtNone it kept its bytes.
    let expected = match guard {
        Guard::Madvise => 0,
        Guard::ProtNone => i32::from(pattern(221, p)),
    };
    assert_eq!(
        in_child(|| read_byte(guarded as *const u8) as i32),
        ChildEnd::Exited(expected)
    );
}

#[test]
fn guard_of_locked_memory_falls_back_to_prot_none() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE} (MADV_GUARD_INSTALL would report success and install nothing)");
    }
    let _serial = serial();
    let p = page();
    let mut m = quiet(3 * p);
    m.lock(..).unwrap();
    // MADV_GUARD_INSTALL refuses VM_LOCKED memory (EINVAL), like kernels before 6.13.
    assert_eq!(m.guard(p..2 * p), Ok(Guard::ProtNone));
    assert_eq!(entry(&m, p).perms, "---p");
    assert_eq!(
        in_child(|| read_byte(m.as_ptr().wrapping_add(p)) as i32),
        ChildEnd::Signaled(libc::SIGSEGV)
    );
    m.unguard(RW).unwrap();
    assert_eq!(entry(&m, p).perms, "rw-p");
    assert!(m.as_slice().is_ok());
    m.unlock(..).unwrap();
}

/// `unguard` after the `PROT_NONE` fallback (kernels before 6.13, or locked memory on any
/// kernel) gives the old bytes back, as [`Guard::ProtNone`] documents: code that guards a
/// page to retire its contents must not rely on the guard to erase them.
#[test]
fn unguard_after_the_prot_none_fallback_keeps_the_contents() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE} (MADV_GUARD_INSTALL would report success and install nothing)");
    }
    let _serial = serial();
    let p = page();
    let mut m = quiet(3 * p);
    fill(&mut m, 0, 3 * p, 231);
    m.lock(..).unwrap(); // forces the PROT_NONE fallback on every kernel
    assert_eq!(m.guard(p..2 * p), Ok(Guard::ProtNone));
    m.unguard(RW).unwrap();
    m.unlock(..).unwrap();
    // As `unguard` documents for Guard::ProtNone: nothing was discarded.
    assert_pattern(
        m.as_slice().unwrap(),
        231,
        "all pages, the formerly guarded one too",
    );
}

#[test]
fn zero_length_guard_and_failed_guards() {
    let p = page();
    let mut m = quiet(2 * p);
    // An unaligned partial start fails in the kernel (both the advice and the fallback):
    // nothing changes in memory, but the safe layer has already stopped lending slices.
    assert_eq!(m.guard(1..p).map(|_| ()), Err(Errno::EINVAL));
    assert_eq!(entry(&m, 0).perms, "rw-p");
    assert_eq!(
        err(m.as_slice()),
        Errno::EACCES,
        "conservative after a failed guard"
    );
    m.unguard(RW).unwrap();
    assert!(m.as_slice().is_ok());
    // An empty range guards nothing: no fault anywhere, but slices are refused as well.
    assert!(m.guard(p..p).is_ok());
    assert_eq!(entry(&m, 0).perms, "rw-p");
    assert_eq!(err(m.as_slice()), Errno::EACCES);
    let start = m.as_ptr() as usize;
    assert_eq!(
        in_child(|| read_byte((start + p) as *const u8) as i32),
        ChildEnd::Exited(0)
    );
}

// ---------------------------------------------------------------------------------------
// into_raw / from_raw

#[test]
fn into_raw_and_from_raw_round_trip_with_one_unmap() {
    let p = page();
    let mut m = quiet(3 * p);
    fill(&mut m, 0, 3 * p, 241);
    let start = m.as_ptr();
    let (ptr, len) = m.into_raw();
    assert_eq!((ptr, len), (start, 3 * p));
    assert!(is_mapped(ptr.cast()), "into_raw does not unmap");
    assert_eq!(read_byte(ptr.wrapping_add(2 * p)), pattern(241, 2 * p));
    let back = unsafe { Mapping::from_raw(ptr, len) };
    assert_eq!((back.as_ptr(), back.len()), (start, 3 * p));
    assert!(!back.is_volatile());
    assert_pattern(back.as_slice().unwrap(), 241, "bytes through from_raw");
    drop(back);
    assert!(!is_mapped(ptr.cast()), "the adopted mapping unmaps on drop");
    assert!(!is_mapped(ptr.wrapping_add(2 * p).cast()));
}

#[test]
fn into_raw_of_an_unaligned_file_mapping_gives_the_whole_kernel_mapping() {
    let p = page();
    let (fd, _file) = memfd_with_pattern(2 * p, 251);
    let at = quiet_address(2 * p) as usize + 100;
    let m = MapOptions::new()
        .shared()
        .at(at)
        .map_file(&fd, 100)
        .unwrap();
    assert_eq!(m.len(), 2 * p - 100);
    let (ptr, len) = m.into_raw();
    assert_eq!(
        (ptr as usize, len),
        (at - 100, 2 * p),
        "from the page start"
    );
    let back = unsafe { Mapping::from_raw_volatile(ptr, len, RW) };
    assert_eq!(read(&back, 100, 1)[0], pattern(251, 100));
    assert!(back.is_volatile());
    drop(back);
    assert!(!is_mapped((at - 100) as *const c_void));
}

#[test]
fn from_raw_adopts_a_mapping_made_by_the_thin_layer() {
    let p = page();
    let ptr = unsafe {
        sys::mmap(
            quiet_address(p),
            p,
            RW,
            MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED_NOREPLACE,
            -1,
            0,
        )
    }
    .unwrap();
    let mut m = unsafe { Mapping::from_raw(ptr.cast(), p) };
    m.as_mut_slice().unwrap()[..3].copy_from_slice(b"raw");
    assert_eq!(read_byte(ptr.cast()), b'r');
    drop(m);
    assert!(!is_mapped(ptr));
}

/// `read_at`/`write_at` copy word by word over the aligned middle and byte by byte at the
/// ends: every start alignment and length around a few words, checked against the file.
#[test]
fn volatile_copies_are_exact_at_every_alignment_and_length() {
    let p = page();
    let memfd = Memfd::new(c"volatile-copy").unwrap();
    memfd.set_len(p as u64).unwrap();
    let mut m = memfd.map(Access::ReadWrite).unwrap();
    let file = file_of(&memfd);
    for offset in 0..17 {
        for len in 0..70 {
            let data: Vec<u8> = (0..len)
                .map(|i| (offset * 31 + len * 7 + i) as u8)
                .collect();
            m.write_at(offset, &data).unwrap();
            let mut back = vec![0u8; len];
            m.read_at(offset, &mut back).unwrap();
            assert_eq!(back, data, "read_at at offset {offset}, length {len}");
            assert_eq!(
                pread(&file, offset, len),
                data,
                "file at offset {offset}, length {len}"
            );
        }
    }
    // A large copy, and the bytes around a copy untouched.
    let big: Vec<u8> = (0..p - 3).map(|i| (i * 13) as u8).collect();
    m.write_at(0, &vec![0xee; p]).unwrap();
    m.write_at(1, &big).unwrap();
    let mut back = vec![0u8; p];
    m.read_at(0, &mut back).unwrap();
    assert_eq!(back[0], 0xee);
    assert_eq!(&back[1..p - 2], &big[..]);
    assert_eq!(&back[p - 2..], &[0xee, 0xee]);
}

// ---------------------------------------------------------------------------------------
// Huge pages: the kernel rounds a huge-page mapping up to whole huge pages and unmaps or
// splits it only at huge-page boundaries, so a `Mapping` shorter than a huge page must
// still be unmapped whole on drop. Found by the mapping_ops fuzz target.

/// The default huge page size, from `/proc/meminfo` (the test's own source, independent of
/// how the crate finds it), or why the kernel has none.
/// Whether `r` is qemu-user's `EINVAL` for a huge-page mapping of a 32-bit program: qemu
/// places such a guest's mappings in its reserved address space at addresses of its own
/// choosing (`MAP_FIXED`, small-page aligned), where the host refuses `MAP_HUGETLB`. (A
/// function that skipped itself would return only from itself, and the test went on.)
fn qemu_refuses_hugetlb(r: &mman::Result<Mapping>) -> bool {
    matches!(r, Err(Errno::EINVAL)) && qemu_user_reserves_the_address_space()
}

/// The skip reason when [`qemu_refuses_hugetlb`].
const QEMU_REFUSES_HUGETLB: &str = "qemu-user maps a 32-bit program's memory at addresses of its own choosing in its reservation, where the host answers MAP_HUGETLB with EINVAL";

/// One default-size huge page mapped with `options` and no reservation (`no_reserve`: nothing
/// is taken from the usually empty pool, and no page is touched), with that size; or why
/// there is none here (no huge pages, qemu-user's refusal), for a skip.
fn unreserved_huge_page(options: MapOptions) -> Result<(Mapping, usize), String> {
    let huge = default_huge_page()?;
    let r = options.huge_pages().no_reserve().len(huge).map();
    if qemu_refuses_hugetlb(&r) {
        return Err(QEMU_REFUSES_HUGETLB.to_string());
    }
    Ok((r.unwrap(), huge))
}

/// An `MFD_HUGETLB` memfd one default-size huge page long (no page of it touched), with
/// that size; or why there is none here, for a skip.
fn huge_page_memfd(name: &std::ffi::CStr) -> Result<(Memfd, usize), String> {
    let huge = default_huge_page()?;
    let flags = mman::MemfdFlags::CLOEXEC | mman::MemfdFlags::HUGETLB;
    let memfd = Memfd::with_flags(name, flags).expect("MFD_HUGETLB memfd");
    memfd.set_len(huge as u64).unwrap();
    Ok((memfd, huge))
}

fn default_huge_page() -> Result<usize, String> {
    match meminfo_kb("Hugepagesize") {
        Some(kb) => Ok(kb * 1024),
        None => Err(cpu_cannot_map_huge_pages()
            .or_else(kernel_without_hugetlbfs)
            .expect("/proc/meminfo has Hugepagesize, or the CPU or kernel says why not")),
    }
}

/// Why the kernel has no huge pages, if it was built without hugetlbfs (32-bit ARM kernels
/// have it only with LPAE, which Debian's armmp flavour lacks): none in /proc/filesystems.
fn kernel_without_hugetlbfs() -> Option<String> {
    let filesystems = std::fs::read_to_string("/proc/filesystems").expect("/proc/filesystems");
    let listed = filesystems
        .lines()
        .any(|line| line.split_whitespace().last() == Some("hugetlbfs"));
    (!listed).then(|| {
        format!(
            "kernel {} is built without hugetlbfs (not in /proc/filesystems)",
            kernel_release()
        )
    })
}

/// Checks that the mapping `r` (asked for one base page at `at`) occupies a whole huge
/// page, then that dropping it leaves nothing mapped.
#[track_caller]
fn assert_unmapped_whole_on_drop(r: mman::Result<Mapping>, at: usize, huge: usize) {
    if qemu_refuses_hugetlb(&r) {
        skip!("{QEMU_REFUSES_HUGETLB}");
    }
    let m = match r {
        Ok(m) => m,
        Err(e) => panic!("huge-page mapping: {e:?}"),
    };
    assert_eq!((m.as_ptr() as usize, m.len()), (at, page()));
    if is_qemu_user() {
        drop(m);
        assert!(!is_mapped(at as *const c_void), "outlived its Mapping");
        skip!(
            "qemu-user's synthesized /proc/self/maps shows the page asked for, not the huge page"
        );
    }
    let e = entry(&m, 0);
    assert_eq!((e.start, e.end), (at, at + huge), "rounded to a huge page");
    if smaps_is_real() {
        assert_eq!(
            smaps_field(addr(&m, 0), "KernelPageSize"),
            Some(format!("{} kB", huge / 1024))
        );
    }
    drop(m);
    assert!(
        !is_mapped(at as *const c_void),
        "the huge-page mapping outlived its Mapping"
    );
}

/// A quiet address where a huge page of `huge` bytes can start: aligned to it. (Huge pages
/// can be larger than `quiet_address`'s slots: 32 MiB with loongarch64's 16 KiB base pages,
/// 512 MiB with 64 KiB ones.)
fn quiet_huge_address(huge: usize) -> usize {
    (quiet_address(2 * huge) as usize).next_multiple_of(huge)
}

#[test]
fn huge_page_mappings_shorter_than_a_huge_page_unmap_whole_on_drop() {
    let huge = match default_huge_page() {
        Ok(huge) => huge,
        Err(why) => skip!("{why}"),
    };
    let log2 = huge.trailing_zeros();
    // no_reserve: nothing is taken from the huge page pool (empty on most machines), so the
    // mapping succeeds anyway; its page is never touched, which would raise SIGBUS then.
    // The default size, and the same size named explicitly.
    for options in [
        MapOptions::new().huge_pages(),
        MapOptions::new().huge_pages_log2(log2),
    ] {
        let at = quiet_huge_address(huge);
        let r = options.len(page()).no_reserve().at(at).map();
        assert_unmapped_whole_on_drop(r, at, huge);
    }
}

/// A huge-page mapping cannot grow (EINVAL, as from mremap), but a remap to its own length,
/// or within its huge page, changes nothing and succeeds.
#[test]
fn huge_page_mappings_remap_within_their_huge_pages_only() {
    let (mut m, huge) = match unreserved_huge_page(MapOptions::new()) {
        Ok(page) => page,
        Err(why) => skip!("{why}"),
    };
    let start = m.as_ptr();
    assert_eq!(m.remap(huge, false), Ok(()), "to its own length");
    assert_eq!(m.remap(huge, true), Ok(()), "to its own length, may move");
    assert_eq!(m.remap(huge + page(), true), Err(Errno::EINVAL), "growing");
    assert_eq!((m.as_ptr(), m.len()), (start, huge));
}

/// Huge-page memory refuses guard advice (`EINVAL` for VM_HUGETLB, at install and at
/// removal alike), so `guard` gives it `PROT_NONE` without asking: asked, the refusal counted
/// as markers that may be present, `unguard` then answered the removal's `EINVAL` forever
/// and the mapping was never lent again (review round 4).
#[test]
fn a_guarded_huge_page_mapping_can_be_unguarded() {
    let (mut m, _) = match unreserved_huge_page(MapOptions::new()) {
        Ok(page) => page,
        Err(why) => skip!("{why}"),
    };
    assert_eq!(m.guard(..), Ok(mman::Guard::ProtNone));
    assert_eq!(perms(m.as_ptr().cast()), "---p");
    assert_eq!(
        m.read_at(0, &mut [0]),
        Err(Errno::EACCES),
        "refused, nothing touched"
    );
    assert_eq!(m.unguard(Prot::READ | Prot::WRITE), Ok(()));
    assert_eq!(perms(m.as_ptr().cast()), "rw-p");
    assert_eq!(m.protection(), Some(Prot::READ | Prot::WRITE));
}

/// Review round 4 hole: huge pages mapped without a reservation (`no_reserve`) come from
/// the pool when first touched, and a touch the pool cannot supply raises `SIGBUS`. They
/// were lent as slices (private anonymous memory, or a sealed hugetlbfs memfd), and reading
/// one killed the process from safe code on a machine whose pool is empty. Such memory is
/// volatile now: copies only, whose `SIGBUS` is a signal, as for a truncated file.
#[test]
fn huge_pages_without_a_reservation_are_not_lent() {
    let (m, huge) = match unreserved_huge_page(MapOptions::new()) {
        Ok(page) => page,
        Err(why) => skip!("{why}"),
    };
    assert!(m.is_volatile());
    assert_eq!(err(m.as_slice()), Errno::EPERM);
    // With a reservation the pages are the mapping's (or the map fails): lent as before.
    if let Ok(reserved) = MapOptions::new().huge_pages().len(huge).map() {
        assert!(!reserved.is_volatile());
    }
    // A sealed hugetlbfs memfd with a hole: mapped without a reservation, the hole is a
    // page the pool may not have.
    let flags =
        mman::MemfdFlags::CLOEXEC | mman::MemfdFlags::ALLOW_SEALING | mman::MemfdFlags::HUGETLB;
    let memfd = Memfd::with_flags(c"mman-test-unreserved", flags).expect("MFD_HUGETLB memfd");
    memfd.set_len(huge as u64).unwrap();
    memfd.freeze().unwrap();
    let options = MapOptions::new().prot(Prot::READ);
    let r = options.no_reserve().map_file(&memfd, 0);
    if qemu_refuses_hugetlb(&r) {
        skip!("{QEMU_REFUSES_HUGETLB}");
    }
    let unreserved = r.unwrap();
    assert!(unreserved.is_volatile());
    assert_eq!(err(unreserved.as_slice()), Errno::EPERM);
    // Shared: a private mapping's writes would take pages of its own (review round 5).
    if let Ok(reserved) = options.shared().map_file(&memfd, 0) {
        assert!(
            !reserved.is_volatile(),
            "sealed, and its page reserved and held"
        );
    }
    // Where the pool has no page, the copy raises the signal (not undefined behaviour);
    // under qemu-user the emulator takes the host's signal first.
    if meminfo_kb("HugePages_Free") == Some(0) && !is_qemu_user() {
        let end = in_child(|| {
            let mut byte = [1];
            m.read_at(0, &mut byte).unwrap();
            i32::from(byte[0])
        });
        assert_eq!(end, ChildEnd::Signaled(libc::SIGBUS));
    }
}

/// A private huge-page mapping, with a reservation, of every huge page the pool has free
/// and not reserved (so that nothing is left for a process without a reservation), with the
/// huge page size; or why there is none here, for a skip. Its callers, and the other tests
/// that need a page of the pool, hold `serial()`, so that none finds the pool taken.
fn every_spare_huge_page_reserved() -> Result<(Mapping, usize), String> {
    if is_qemu_user() {
        // The fault-in and the fork canary are madvise's (MADV_POPULATE_READ, WIPEONFORK).
        return Err(QEMU_MADVISE.to_string());
    }
    let huge = default_huge_page()?;
    let free = meminfo_kb("HugePages_Free").unwrap_or(0);
    let reserved = meminfo_kb("HugePages_Rsvd").unwrap_or(0);
    let spare = free.saturating_sub(reserved);
    if spare == 0 {
        return Err(format!(
            "no spare huge page (HugePages_Free {free}, HugePages_Rsvd {reserved}): \
             a private huge-page mapping with a reservation cannot be made"
        ));
    }
    let r = MapOptions::new().huge_pages().len(spare * huge).map();
    if qemu_refuses_hugetlb(&r) {
        return Err(QEMU_REFUSES_HUGETLB.to_string());
    }
    match r {
        Ok(m) => Ok((m, huge)),
        // Another process took pages between the look at /proc/meminfo and the map.
        Err(Errno::ENOMEM) if meminfo_kb("HugePages_Free") != Some(free) => Err(format!(
            "another process took some of the {spare} spare huge pages meanwhile (ENOMEM)"
        )),
        Err(e) => panic!("{spare} reserved huge pages: {e:?}"),
    }
}

/// Review round 5 hole: a private huge-page mapping's reservation is its maker's; a forked
/// child holds none, and its first touch of a page takes one from the pool outside every
/// reservation, or raises `SIGBUS` (also its copy-on-write, and a read of a page the
/// parent's copy-on-write took back from it). The child's copy of the `Mapping` lent slices
/// as the parent's does: reading one killed the child (`Signaled(SIGBUS)`). A fork canary
/// tells the child now: there the memory is volatile (copies only, whose `SIGBUS` is a
/// signal), and the parent's is lent as before.
#[test]
fn a_forked_child_does_not_lend_private_huge_pages_it_holds_no_reservation_for() {
    let _serial = serial();
    let (m, huge) = match every_spare_huge_page_reserved() {
        Ok(reserved) => reserved,
        Err(why) => skip!("{why}"),
    };
    assert!(!m.is_volatile(), "its maker holds the reservation");
    let end = in_child_checked(|| {
        match m.as_slice() {
            Ok(bytes) => {
                // The last huge page, which no one has touched: no page for the child.
                let byte = read_byte(&bytes[bytes.len() - huge]);
                panic!("lent to a child without a reservation (read {byte})");
            }
            Err(e) => assert_eq!(e, Errno::EPERM),
        }
        assert!(m.is_volatile());
    });
    assert_eq!(end, ChildEnd::Exited(0));
    // The maker's pages are all there, untouched ones included.
    let bytes = m.as_slice().expect("lent to its maker");
    assert_eq!(read_byte(&bytes[bytes.len() - huge]), 0);
}

/// Review round 5 hole: a reservation does not make a huge page present. The hugetlb cgroup
/// controller charges a page when it is faulted in, and a fault past `hugetlb.<size>.max`
/// raises `SIGBUS`: a private huge-page mapping with a reservation was lent at once, and the
/// first read through the slice killed the process (program
/// `hole_13_huge_pages_past_a_hugetlb_cgroup_limit.rs`). Every page of huge-page memory
/// with a reservation is faulted in when mapped (`MADV_POPULATE_READ`) before anything is
/// lent or viewed; where that fails the memory is volatile.
#[test]
fn reserved_huge_pages_are_all_held_before_anything_is_lent() {
    let _serial = serial(); // the pool: see `every_spare_huge_page_reserved`
    let (m, huge) = match every_spare_huge_page_reserved() {
        Ok(reserved) => reserved,
        Err(why) => skip!("{why}"),
    };
    assert!(!m.is_volatile());
    if smaps_is_real() {
        assert_eq!(hugetlb_held(&m), m.len(), "every page held");
    }
    drop(m);
    // Shared memory's pages too, which atomic views are lent over.
    let mut shared = MapOptions::new()
        .shared()
        .huge_pages()
        .len(huge)
        .map()
        .unwrap();
    if smaps_is_real() {
        assert_eq!(hugetlb_held(&shared), huge, "every page held");
    }
    assert!(shared.as_atomics::<std::sync::atomic::AtomicU32>().is_ok());
}

/// The bytes of huge pages `m`'s mapping holds, by `/proc/self/smaps` (which counts a page
/// no other process maps as private, whatever the mapping).
fn hugetlb_held(m: &Mapping) -> usize {
    ["Private_Hugetlb", "Shared_Hugetlb"]
        .map(|field| smaps_field(m.as_ptr().cast(), field).expect(field))
        .iter()
        .map(|kb| kb.trim_end_matches(" kB").parse::<usize>().unwrap() * 1024)
        .sum()
}

/// Where cgroup v2 lets a new group use the hugetlb controller (mounted, enabled for the
/// root's children, and this process may make groups): the root's path; or why not.
fn hugetlb_cgroup_root() -> Result<String, String> {
    let mounts = std::fs::read_to_string("/proc/self/mounts").map_err(|e| e.to_string())?;
    let root = mounts
        .lines()
        .map(|line| line.split(' ').collect::<Vec<_>>())
        .find(|fields| fields.get(2) == Some(&"cgroup2"))
        .and_then(|fields| fields.get(1).map(|path| path.to_string()))
        .ok_or("no cgroup2 file system mounted")?;
    let enabled = std::fs::read_to_string(format!("{root}/cgroup.subtree_control"))
        .map_err(|e| format!("{root}/cgroup.subtree_control: {e}"))?;
    if !enabled.split_whitespace().any(|c| c == "hugetlb") {
        return Err(format!(
            "the hugetlb controller is not enabled for {root}'s groups \
             (cgroup.subtree_control: {:?})",
            enabled.trim()
        ));
    }
    if unsafe { libc::geteuid() } != 0 {
        return Err("not root: no cgroup can be made".into());
    }
    Ok(root)
}

/// How the hugetlb controller names a huge page size in its files (`2MB`, `1GB`, `64KB`).
fn hugetlb_cgroup_size(huge: usize) -> String {
    match huge {
        huge if huge >= 1 << 30 => format!("{}GB", huge >> 30),
        huge if huge >= 1 << 20 => format!("{}MB", huge >> 20),
        huge => format!("{}KB", huge >> 10),
    }
}

/// The attack itself, where a cgroup can be made: a child in a group whose hugetlb limit is
/// 0 maps a huge page with a reservation (charged separately, so the map succeeds); lent,
/// its first read raised `SIGBUS` (`Signaled(7)`). Now the page cannot be faulted in when
/// mapped, and the memory is volatile.
#[test]
fn huge_pages_past_a_hugetlb_cgroup_limit_are_not_lent() {
    let _serial = serial(); // the pool: see `every_spare_huge_page_reserved`
    let huge = match default_huge_page() {
        Ok(huge) => huge,
        Err(why) => skip!("{why}"),
    };
    let root = match hugetlb_cgroup_root() {
        Ok(root) => root,
        Err(why) => skip!("{why}"),
    };
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}: MADV_POPULATE_READ");
    }
    let free = meminfo_kb("HugePages_Free").unwrap_or(0);
    let reserved = meminfo_kb("HugePages_Rsvd").unwrap_or(0);
    if free <= reserved {
        skip!("no spare huge page (HugePages_Free {free}, HugePages_Rsvd {reserved})");
    }
    let group = format!("{root}/mman-test-{}", std::process::id());
    std::fs::create_dir(&group).unwrap_or_else(|e| panic!("{group}: {e}"));
    let limit = format!("{group}/hugetlb.{}.max", hugetlb_cgroup_size(huge));
    std::fs::write(&limit, "0").unwrap_or_else(|e| panic!("{limit}: {e}"));
    let end = in_child_checked(|| {
        std::fs::write(format!("{group}/cgroup.procs"), "0").expect("join the group");
        let m = MapOptions::new().huge_pages().len(huge).map();
        let m = m.expect("reserved: the limit is on faults, not reservations");
        match m.as_slice() {
            Ok(bytes) => {
                let byte = read_byte(&bytes[0]);
                panic!("lent past the group's limit (read {byte})");
            }
            Err(e) => assert_eq!(e, Errno::EPERM),
        }
        assert!(m.is_volatile());
    });
    std::fs::remove_dir(&group).unwrap_or_else(|e| panic!("{group}: {e}"));
    assert_eq!(end, ChildEnd::Exited(0));
}

/// Review round 5 hole: `advise(.., DontNeed)` on private huge pages frees them, and the
/// kernel gives their reservation back to the mapping only since Linux 6.9 ("mm/hugetlb:
/// restore the reservation"), and not while the pool has surplus pages: another mapping can
/// then take the freed page, and the next touch through a slice raises `SIGBUS` (program
/// `hole_12_dontneed_loses_the_huge_page_reservation.rs`, run with a surplus pool). Not
/// the same as writing zeros there, so the safe `advise` refuses it.
#[test]
fn discarding_private_huge_pages_is_refused_as_it_may_lose_their_reservation() {
    let _serial = serial();
    let (mut m, huge) = match every_spare_huge_page_reserved() {
        Ok(reserved) => reserved,
        Err(why) => skip!("{why}"),
    };
    m.as_mut_slice().unwrap()[0] = 7;
    assert_eq!(m.advise(.., Advice::DontNeed), Err(Errno::EINVAL));
    assert_eq!(m.advise(..huge, Advice::DontNeedLocked), Err(Errno::EINVAL));
    assert_eq!(m.as_slice().unwrap()[0], 7, "nothing discarded");
    if smaps_is_real() {
        assert_eq!(hugetlb_held(&m), m.len(), "every page still held");
    }
}

#[test]
fn hugetlbfs_file_mappings_shorter_than_a_huge_page_unmap_whole_on_drop() {
    let (memfd, huge) = match huge_page_memfd(c"mman-test-hugetlbfs") {
        Ok(memfd) => memfd,
        Err(why) => skip!("{why}"),
    };
    let at = quiet_huge_address(huge);
    let r = MapOptions::new()
        .len(page())
        .shared()
        .no_reserve()
        .at(at)
        .map_file(&memfd, 0);
    assert_unmapped_whole_on_drop(r, at, huge);
}

#[test]
fn transparent_huge_page_advice_on_a_huge_page_mapping_covers_it_whole() {
    let huge = match default_huge_page() {
        Ok(huge) => huge,
        Err(why) => skip!("{why}"),
    };
    let at = quiet_huge_address(huge);
    // MADV_HUGEPAGE goes to the whole kernel mapping; given only the length asked for, it
    // would split the huge page (EINVAL) and the failed `map` used to leak the mapping.
    let r = MapOptions::new()
        .len(page())
        .huge_pages()
        .no_reserve()
        .transparent_huge_pages()
        .at(at)
        .map();
    if !thp_available() {
        assert_eq!(r.map(|_| ()), Err(Errno::EINVAL));
        assert!(
            !is_mapped(at as *const c_void),
            "failed map left memory behind"
        );
        skip!("kernel {} has no transparent huge pages", kernel_release());
    }
    assert_unmapped_whole_on_drop(r, at, huge);
}

/// Making a guarded mapping executable must not clean the data cache over its guard pages
/// (the review's hole: aarch64's `dc cvau` or powerpc's `dcbst` on a guard marker kills the
/// process). QEMU's CPUs treat cache maintenance as a no-op and x86_64 has none, so only
/// real aarch64 or POWER hardware with Linux 6.13 can fail this; the lanes run it so that
/// such a machine does.
#[test]
fn making_a_guarded_mapping_executable_leaves_its_guard_pages_alone() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE} (MADV_GUARD_INSTALL would report success and install nothing)");
    }
    let p = page();
    let end = in_child(|| {
        let mut m = MapOptions::new().len(3 * p).map().expect("map");
        if m.guard(p..2 * p).expect("guard") != Guard::Madvise {
            return 2;
        }
        m.protect(.., Prot::READ | Prot::EXEC).expect("protect");
        m.unguard(Prot::READ | Prot::EXEC).expect("unguard");
        0
    });
    match end {
        ChildEnd::Exited(2) => skip!("no guard advice (Linux 6.13): PROT_NONE guards instead"),
        end => assert_eq!(
            end,
            ChildEnd::Exited(0),
            "a safe protect killed the process"
        ),
    }
}

#[test]
fn protect_does_not_lift_a_guard() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE} (MADV_GUARD_INSTALL would report success and install nothing)");
    }
    let p = page();
    let mut m = quiet(3 * p);
    let guard = m.guard(p..2 * p).unwrap();
    // Protecting the whole mapping would make it accessible, were it not for the guard
    // markers, which mprotect leaves in place: slices and copies stay refused.
    m.protect(.., RW).unwrap();
    assert_eq!(err(m.as_slice()), Errno::EACCES);
    assert_eq!(err(m.as_mut_slice()), Errno::EACCES);
    assert_eq!(m.read_at(p, &mut [0u8; 1]), Err(Errno::EACCES));
    assert_eq!(m.write_at(p, b"x"), Err(Errno::EACCES));
    if guard == Guard::Madvise {
        let guarded = m.as_ptr() as usize + p;
        assert_eq!(
            in_child(|| read_byte(guarded as *const u8) as i32),
            ChildEnd::Signaled(libc::SIGSEGV),
            "the guard outlived mprotect"
        );
    }
    m.unguard(RW).unwrap();
    assert_zero(m.as_slice().unwrap(), "after unguard");

    // Guard advice given directly counts as a guard too.
    // SAFETY: no slice of the mapping is used while the guard is installed.
    unsafe { m.advise_unchecked(p..2 * p, Advice::GuardInstall) }.ok();
    m.protect(.., RW).unwrap();
    assert_eq!(err(m.as_slice()), Errno::EACCES);
    m.unguard(RW).unwrap();
    assert!(m.as_slice().is_ok());
}

/// Anonymous mappings pass the kernel a descriptor of -1, as POSIX asks and as seccomp
/// policies and other kernels may require (Linux itself ignores it): a filter in a forked
/// child kills it at any `mmap` whose descriptor is not -1. (s390x's `mmap` takes its
/// arguments in memory, where a filter cannot see them.)
#[test]
#[cfg(not(target_arch = "s390x"))]
fn anonymous_mappings_pass_the_kernel_descriptor_minus_one() {
    if is_qemu_user() {
        skip!("qemu-user: seccomp filters would see QEMU's host calls, not the guest's");
    }
    let end = in_child_checked(|| {
        quiet_allocator();
        kill_at_mmap_with_a_descriptor();
        let mut m = Mapping::anonymous(page()).expect("map");
        m.as_mut_slice().expect("slice")[0] = 1;
        let shared = MapOptions::new()
            .len(page())
            .shared()
            .map()
            .expect("map shared");
        drop((m, shared));
    });
    assert_eq!(
        end,
        ChildEnd::Exited(0),
        "an anonymous mapping passed a descriptor"
    );
}

/// The call `sys::mmap` makes: `mmap2` on 32-bit ABIs (i386's `mmap`, 90, is the old
/// one-argument call, which a filter on it would never see).
#[cfg(all(target_pointer_width = "64", not(target_arch = "s390x")))]
const MMAP_NR: u32 = linux_raw_sys::general::__NR_mmap;
#[cfg(target_pointer_width = "32")]
const MMAP_NR: u32 = linux_raw_sys::general::__NR_mmap2;

/// Installs a seccomp filter: `mmap` with a descriptor other than -1 kills the process.
#[cfg(not(target_arch = "s390x"))]
fn kill_at_mmap_with_a_descriptor() {
    // struct seccomp_data: nr (4 bytes), arch (4), instruction pointer (8), then the six
    // arguments, 8 bytes each in the CPU's byte order; the descriptor is the fifth.
    let fd_low_word = 16 + 4 * 8 + if cfg!(target_endian = "big") { 4 } else { 0 };
    let insn = |code: u32, jt: u8, jf: u8, k: u32| libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    let mut program = [
        insn(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0, 0, 0),
        // Not mmap: allow (jump over the next two).
        insn(libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K, 0, 2, MMAP_NR),
        insn(
            libc::BPF_LD | libc::BPF_W | libc::BPF_ABS,
            0,
            0,
            fd_low_word,
        ),
        // The descriptor's low 32 bits are all ones for -1: allow, else kill.
        insn(libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K, 0, 1, u32::MAX),
        insn(libc::BPF_RET | libc::BPF_K, 0, 0, libc::SECCOMP_RET_ALLOW),
        insn(
            libc::BPF_RET | libc::BPF_K,
            0,
            0,
            libc::SECCOMP_RET_KILL_PROCESS,
        ),
    ];
    install_seccomp_filter(&mut program);
}
