//! Every error path of the safe layer, and every acquire-and-release path, run many times:
//! afterwards the process holds exactly what it held before. Compared exactly (see
//! `common::leak`): every `/proc/self/maps` range with its permissions and path, `VmSize`,
//! resident anonymous memory, `VmLck`, every descriptor and its target, and this process's
//! names in `/dev/shm` and System V segments (`/proc/sysvipc/shm`).
//!
//! Each step runs in a forked child of its own, where no other test thread maps or
//! allocates anything, so that a leak names its step and nothing else can look like one.
//! `planted_leaks_are_caught` checks the check: a leaked 2-page mapping that the kernel
//! merges with its neighbour (no new `/proc/self/maps` line) must fail it.

#[macro_use]
mod common;

use mman::fd::AsFd;
use std::ffi::{c_void, CString};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use mman::{sys, Access, Advice, Errno, MapOptions, Mapping, Memfd, MemfdFlags, Mode, Prot};
use mman::{SecretMemory, SharedMemory, SysvSegment};

/// Rounds per step at full effort (`common::effort`): comparisons are exact, so one round
/// shows a leak; more rounds show one that happens only now and then.
const ROUNDS: usize = 25;

/// `ROUNDS` at this lane's effort, at least 3.
fn rounds() -> usize {
    scaled(ROUNDS, 3)
}

/// What outlives the process, so `Held` cannot see it: this process's names in `/dev/shm`
/// and its System V segments.
#[derive(Debug, PartialEq, Eq)]
struct NamedObjects {
    shm_names: Vec<String>,
    sysv_segments: Vec<i32>,
}

fn named_objects() -> NamedObjects {
    let prefix = format!("mman-{}-", std::process::id());
    let mut shm_names: Vec<String> = std::fs::read_dir("/dev/shm")
        .expect("/dev/shm")
        .map(|e| {
            e.expect("/dev/shm entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.starts_with(&prefix))
        .collect();
    shm_names.sort();
    NamedObjects {
        shm_names,
        sysv_segments: sysv_segments_of_this_process(),
    }
}

/// Ids of the System V segments this process created.
fn sysv_segments_of_this_process() -> Vec<i32> {
    let text = std::fs::read_to_string("/proc/sysvipc/shm").expect("/proc/sysvipc/shm");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    let col = |name: &str| header.iter().position(|&h| h == name).unwrap();
    let (shmid, cpid) = (col("shmid"), col("cpid"));
    let pid = std::process::id().to_string();
    let mut ids: Vec<i32> = lines
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|f| f[cpid] == pid)
        .map(|f| f[shmid].parse().unwrap())
        .collect();
    ids.sort();
    ids
}

fn key(n: i32) -> i32 {
    0x3000_0000 | ((std::process::id() as i32 & 0xfffff) << 8) | n
}

/// A named step, in a forked child: run once to warm up (first-use allocations, lazily
/// opened files), then `rounds()` times, comparing exactly what is held before and after.
#[track_caller]
fn step(name: &str, f: impl Fn()) {
    assert_no_leak(name, rounds(), named_objects, f);
}

/// `ranges` less the entry that is exactly `[start, end)` (which must be there).
#[track_caller]
fn without(mut ranges: Vec<MapsEntry>, start: usize, end: usize) -> Vec<MapsEntry> {
    let i = ranges
        .iter()
        .position(|e| (e.start, e.end) == (start, end))
        .unwrap_or_else(|| panic!("no maps entry {start:#x}-{end:#x}"));
    ranges.remove(i);
    ranges
}

/// The errno `MapOptions::huge_pages_log2(27)` (128 MiB pages) must give: EINVAL where
/// the kernel has no such huge page size (the usual case: x86_64 has 2 MiB and 1 GiB, arm64
/// 64 KiB, 2 MiB, 32 MiB and 1 GiB with 4 KiB pages), ENOMEM under qemu-user, which drops
/// the size bits and asks for the default size, whose pool is empty (EINVAL for a 32-bit
/// program, which qemu maps at small-page addresses of its own choosing, where the host
/// refuses MAP_HUGETLB: seen under qemu-arm). `None` where the system has the size: the
/// answer then depends on its pool.
fn huge_128mib_errno() -> Option<Errno> {
    if qemu_user_reserves_the_address_space() {
        Some(Errno::EINVAL)
    } else if is_qemu_user() {
        Some(Errno::ENOMEM)
    } else {
        (!huge_page_sizes().contains(&(128 << 20))).then_some(Errno::EINVAL)
    }
}

#[test]
fn error_and_release_paths_leave_nothing_behind() {
    let p = page();

    step("anonymous mapping errors", || {
        assert_eq!(err(Mapping::anonymous(0)), Errno::EINVAL);
        assert_eq!(err(Mapping::anonymous(usize::MAX)), Errno::ENOMEM);
        assert_eq!(err(MapOptions::new().map()), Errno::EINVAL);
        #[cfg(not(target_arch = "mips64"))] // mips has no MAP_SYNC
        assert_eq!(err(MapOptions::new().len(p).sync().map()), Errno::EINVAL);
        let at = quiet_address(p) as usize;
        assert_eq!(
            err(MapOptions::new().len(p).at(at + 1).map()),
            Errno::EINVAL,
            "unaligned address"
        );
        let huge = MapOptions::new().len(128 << 20).huge_pages_log2(27).map();
        if let Some(expected) = huge_128mib_errno() {
            assert_eq!(err(huge), expected, "128 MiB huge pages");
        }
    });

    step("map at an occupied address", || {
        let first = MapOptions::new()
            .len(2 * p)
            .at(quiet_address(2 * p) as usize)
            .map();
        let first = first.unwrap();
        let again = MapOptions::new()
            .len(p)
            .at(first.as_ptr() as usize + p)
            .map();
        assert_eq!(again.map(|_| ()), Err(Errno::EEXIST));
    });

    step("map_file errors", || {
        let fd = Memfd::new(c"leaks").unwrap();
        // An empty file maps empty: nothing mapped, nothing left behind by its drop.
        let empty = fd.map(Access::ReadWrite).unwrap();
        assert!(empty.is_empty(), "empty");
        drop(empty);
        fd.set_len(p as u64).unwrap();
        assert_eq!(
            err(MapOptions::new().map_file(&fd, 2 * p as u64)),
            Errno::EINVAL
        );
        #[cfg(not(target_arch = "mips64"))] // mips has no MAP_SYNC
        assert_eq!(
            err(MapOptions::new().sync().map_file(&fd, 0)),
            Errno::EOPNOTSUPP
        );
        let m = MapOptions::new().shared().map_file(&fd, 100).unwrap();
        drop(m);
    });

    step("failed remaps, then drop", || {
        let (mut m, _blocker) = hemmed_in(2);
        let at = m.as_ptr() as usize;
        assert_eq!(m.remap(3 * p, false), Err(Errno::ENOMEM));
        assert_eq!(m.remap(0, true), Err(Errno::EINVAL));
        assert_eq!(
            m.remap(usize::MAX, true),
            Err(Errno::EINVAL),
            "length past the address space"
        );
        let before = maps();
        drop(m);
        assert_eq!(
            maps(),
            without(before, at, at + 2 * p),
            "the failed-remap mapping (alone: its neighbour is read-only) unmapped on drop"
        );
        assert!(!is_mapped(at as *const c_void));
    });

    step("successful remaps, then drop", || {
        let mut m = Mapping::anonymous(p).unwrap();
        m.remap(8 * p, true).unwrap();
        m.remap(2 * p, true).unwrap();
        let fd = Memfd::new(c"remap-file").unwrap();
        fd.set_len(p as u64).unwrap();
        let mut f = fd.map(Access::ReadWrite).unwrap();
        f.remap_file(&fd, 4 * p, true).unwrap();
    });

    step("into_raw / from_raw: one unmap", || {
        let before = maps();
        let m = MapOptions::new()
            .len(2 * p)
            .at(quiet_address(2 * p) as usize)
            .map();
        let (ptr, len) = m.unwrap().into_raw();
        let (start, end) = (ptr as usize, ptr as usize + len);
        let mapped = maps();
        assert_eq!(
            without(mapped.clone(), start, end),
            before,
            "mapped once, alone in the quiet area"
        );
        // SAFETY: `ptr`/`len` come from `into_raw` and nothing else owns them.
        let m = unsafe { Mapping::from_raw(ptr, len) };
        assert_eq!(maps(), mapped, "adopting maps nothing");
        drop(m);
        assert_eq!(maps(), before, "unmapped once");
    });

    step("range errors of every operation", || {
        let mut m = Mapping::anonymous(2 * p).unwrap();
        assert_eq!(m.protect(0..2 * p + 1, Prot::READ), Err(Errno::EINVAL));
        assert_eq!(m.protect(1..p, Prot::READ), Err(Errno::EINVAL));
        assert_eq!(m.lock(0..usize::MAX), Err(Errno::EINVAL));
        assert_eq!(m.advise(.., Advice::Free), Err(Errno::EINVAL));
        assert_eq!(m.flush(0..2 * p + 1, mman::Flush::Sync), Err(Errno::EINVAL));
        assert_eq!(m.read_at(usize::MAX, &mut [0; 2]), Err(Errno::EINVAL));
        assert_eq!(
            m.atomic_u32(1).map(|_| ()),
            Err(Errno::EINVAL),
            "misaligned atomic"
        );
        assert_eq!(
            m.guard(1..p).map(drop),
            Err(Errno::EINVAL),
            "unaligned guard"
        );
        m.unguard(Prot::READ | Prot::WRITE).unwrap();
    });

    step("lock, guard, unguard, then drop", || {
        let mut m = Mapping::anonymous(4 * p).unwrap();
        m.lock(..).unwrap();
        m.guard(p..2 * p).unwrap();
        m.unguard(Prot::READ | Prot::WRITE).unwrap();
        let on_fault = m.lock_on_fault(2 * p..);
        if is_qemu_user() {
            assert_eq!(on_fault, Err(Errno::ENOSYS), "qemu-user has no mlock2");
        } else {
            assert_eq!(on_fault, Ok(()), "mlock2 (Linux 4.4)");
        }
        m.unlock(..).unwrap();
        let thp = MapOptions::new()
            .len(4 << 20)
            .transparent_huge_pages()
            .map();
        drop(thp);
        let locked = MapOptions::new().len(2 * p).locked().map().unwrap();
        drop(locked);
    });

    step("SharedMemory error paths", || {
        let name = unique_cname("");
        let shm = SharedMemory::create(&name, 0).unwrap();
        assert_eq!(err(SharedMemory::create(&name, 1)), Errno::EEXIST);
        assert!(shm.map().unwrap().is_empty(), "an empty object maps empty");
        shm.set_len(p as u64).unwrap();
        let ro = SharedMemory::open(&name, Access::ReadOnly).unwrap();
        let mut m = ro.map().unwrap();
        assert_eq!(m.protect(.., Prot::READ | Prot::WRITE), Err(Errno::EACCES));
        assert_eq!(ro.set_len(1), Err(Errno::EINVAL));
        drop((m, ro, shm));
        // glibc's rules: empty once leading slashes are stripped, or a slash inside.
        for bad in ["", "/", "a/b", "//"] {
            let c = CString::new(bad).unwrap();
            assert_eq!(err(SharedMemory::create(&c, 1)), Errno::EINVAL, "{bad:?}");
            assert_eq!(
                err(SharedMemory::open(&c, Access::ReadWrite)),
                Errno::EINVAL,
                "{bad:?}"
            );
        }
        let long = CString::new("x".repeat(300)).unwrap();
        assert_eq!(err(SharedMemory::create(&long, 1)), Errno::ENAMETOOLONG);
        let missing = unique_cname("-missing");
        assert_eq!(
            err(SharedMemory::open(&missing, Access::ReadWrite)),
            Errno::ENOENT
        );
        let failing = unique_cname("-ftruncate");
        assert_eq!(err(SharedMemory::create(&failing, u64::MAX)), Errno::EINVAL);
        let mut unlinked = SharedMemory::create(&failing, 1).unwrap();
        unlinked.unlink().unwrap();
        assert_eq!(unlinked.unlink(), Err(Errno::ENOENT));
    });

    step("Memfd error paths", || {
        let long = CString::new("m".repeat(250)).unwrap();
        assert_eq!(err(Memfd::new(&long)), Errno::EINVAL);
        let fd = Memfd::new(c"freeze").unwrap();
        fd.set_len(p as u64).unwrap();
        let m = fd.map(Access::ReadWrite).unwrap();
        assert_eq!(fd.freeze(), Err(Errno::EBUSY));
        drop(m);
        fd.freeze().unwrap();
        assert_eq!(err(fd.map(Access::ReadWrite)), Errno::EPERM);
        assert_eq!(fd.set_len(0), Err(Errno::EPERM));
        // A read-only shared mapping of a write-sealed memfd: refused before Linux 6.7,
        // which stopped counting it as a possible writer (VM_MAYWRITE cleared instead); the
        // change reached stable kernels too (Debian's 6.1.0-56 allows it).
        let read_only = fd.map(Access::ReadOnly).map(drop);
        if kernel_at_least(6, 7) {
            assert_eq!(read_only, Ok(()), "read-only map of a frozen memfd");
        } else {
            assert!(
                [Ok(()), Err(Errno::EPERM)].contains(&read_only),
                "read-only map of a frozen memfd: {read_only:?}"
            );
        }
        let unsealable = Memfd::with_flags(c"unsealable", MemfdFlags::CLOEXEC).unwrap();
        assert_eq!(unsealable.add_seals(mman::Seals::GROW), Err(Errno::EPERM));
        let noexec = Memfd::new_noexec(c"noexec").map(drop);
        if kernel_at_least(6, 3) {
            assert_eq!(noexec, Ok(()), "MFD_NOEXEC_SEAL");
        } else {
            assert_eq!(
                noexec,
                Err(Errno::EINVAL),
                "MFD_NOEXEC_SEAL needs Linux 6.3"
            );
        }
        drop(Memfd::new(c"into").unwrap().into_fd());
    });

    step("SysvSegment error and release paths", || {
        let mode = Mode::from_bits_truncate(0o600);
        let seg = SysvSegment::create(key(1), p, mode).unwrap();
        assert_eq!(err(SysvSegment::create(key(1), p, mode)), Errno::EEXIST);
        let opened = SysvSegment::open(key(1)).unwrap();
        let before = maps();
        let a = opened.attach(Access::ReadWrite).unwrap();
        let b = seg.attach(Access::ReadOnly).unwrap();
        let attached = maps();
        let (a_at, b_at) = (a.as_ptr() as usize, b.as_ptr() as usize);
        let attached = without(without(attached, a_at, a_at + p), b_at, b_at + p);
        assert_eq!(
            attached, before,
            "two attachments mapped, each its own entry"
        );
        drop((a, b));
        assert_eq!(maps(), before, "both detached on drop");
        drop(opened);
        let id = seg.id();
        drop(seg);
        assert_eq!(
            err(SysvSegment::from_id(id).attach(Access::ReadWrite)),
            Errno::EINVAL
        );
        assert_eq!(err(SysvSegment::open(key(1))), Errno::ENOENT);
        assert_eq!(err(SysvSegment::create_private(0)), Errno::EINVAL);
        let private = SysvSegment::create_private(p).unwrap();
        let mut m = private.attach(Access::ReadWrite).unwrap();
        m.write_at(0, b"x").unwrap();
        drop(m);
        private.remove().unwrap();
    });

    step("SecretMemory", || {
        assert_eq!(SecretMemory::new(0).err(), Some(Errno::EINVAL));
        assert_eq!(SecretMemory::new(usize::MAX).err(), Some(Errno::ENOMEM));
        let mut s = SecretMemory::new(3 * p + 1).unwrap();
        s.as_mut_slice().fill(1);
    });

    step("thin-layer descriptors used by the safe layer", || {
        let fd = sys::memfd_create(c"thin", MemfdFlags::CLOEXEC).unwrap();
        sys::ftruncate(fd.as_fd(), p as u64).unwrap();
        let m = MapOptions::new().shared().map_file(&fd, 0).unwrap();
        drop(fd);
        drop(m);
    });
}

/// Checks the check: a leaked 2-page anonymous mapping must fail it, both where the kernel
/// merges the leak into a neighbour (so `/proc/self/maps` gets no new line, which a count
/// of lines missed) and where the kernel places it; the same mapping released passes.
#[test]
fn planted_leaks_are_caught() {
    let p = page();
    let rw = Prot::READ | Prot::WRITE;
    let private_anon = mman::MapFlags::PRIVATE | mman::MapFlags::ANONYMOUS;
    let neighbour = Map::quiet(2 * p, rw, private_anon, -1, 0);
    // Each leak goes right after the previous one, the first right after the neighbour:
    // the same kind of memory, so the kernel extends the neighbour's entry.
    let next = AtomicUsize::new(neighbour.addr() + 2 * p);
    let merged_leak = || {
        let at = next.fetch_add(2 * p, Ordering::Relaxed) as *mut c_void;
        let flags = private_anon | mman::MapFlags::FIXED_NOREPLACE;
        // SAFETY: maps fresh memory at an address of the quiet area that nothing uses.
        let got = unsafe { sys::mmap(at, 2 * p, rw, flags, -1, 0) }.expect("mmap the leak");
        assert_eq!(got, at);
    };
    let line_count_is_blind = in_child_checked(|| {
        let lines = maps().len();
        merged_leak();
        assert_eq!(
            maps().len(),
            lines,
            "the leak merged into its neighbour: no new line"
        );
        let entry = maps_entry(neighbour.ptr).expect("the neighbour");
        assert_eq!(
            entry.end - entry.start,
            4 * p,
            "one entry for both: {entry:?}"
        );
    });
    assert_eq!(line_count_is_blind, ChildEnd::Exited(0));
    assert_eq!(
        leak_check_in_child("a leak merged into its neighbour", 1, || (), merged_leak),
        ChildEnd::Exited(LEAKED),
        "a merged 2-page leak must be caught"
    );
    let placed_by_the_kernel = || std::mem::forget(Mapping::anonymous(2 * p).expect("map"));
    assert_eq!(
        leak_check_in_child(
            "a leak placed by the kernel",
            1,
            || (),
            placed_by_the_kernel
        ),
        ChildEnd::Exited(LEAKED),
        "a 2-page leak wherever the kernel puts it must be caught"
    );
    assert_no_leak(
        "the same mapping, released",
        rounds(),
        || (),
        || drop(Mapping::anonymous(2 * p).expect("map")),
    );
}
