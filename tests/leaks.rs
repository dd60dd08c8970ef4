//! Every error path of the safe layer, and every acquire-and-release path, run many times:
//! afterwards the process holds exactly what it held before. Counted: open descriptors
//! (`/proc/self/fd`), `/proc/self/maps` entries, `VmLck`, this process's names in
//! `/dev/shm` and its System V segments (`/proc/sysvipc/shm`).
//!
//! The counts are process-wide, so this binary has a single test and runs its steps one
//! after another; each step is also checked on its own, so a leak names its step.

#[macro_use]
mod common;

use mman::fd::AsFd;
use std::ffi::{c_void, CString};

use common::*;
use mman::{sys, Access, Advice, Errno, MapOptions, Mapping, Memfd, MemfdFlags, Mode, Prot};
use mman::{SecretMemory, SharedMemory, SysvSegment};

const ROUNDS: usize = 25;

#[derive(Debug, PartialEq, Eq)]
struct Held {
    fds: usize,
    maps: usize,
    vm_lck_kb: usize,
    shm_names: Vec<String>,
    sysv_segments: Vec<i32>,
}

fn held() -> Held {
    let prefix = format!("mman-{}-", std::process::id());
    let mut shm_names: Vec<String> = std::fs::read_dir("/dev/shm")
        .expect("/dev/shm")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(&prefix))
        .collect();
    shm_names.sort();
    Held {
        fds: fd_count(),
        maps: maps().len(),
        vm_lck_kb: vm_lck_kb(),
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

/// A named step: run once to warm up (first-use allocations, lazily opened files), then
/// `ROUNDS` times, and compare what is held before and after the rounds.
fn step(name: &str, f: impl Fn()) {
    f();
    let before = held();
    for _ in 0..ROUNDS {
        f();
    }
    let after = held();
    assert_eq!(
        before, after,
        "step {name:?} leaked (before vs after {ROUNDS} rounds)"
    );
}

#[test]
fn error_and_release_paths_leave_nothing_behind() {
    let p = page();
    let start = held();

    step("anonymous mapping errors", || {
        assert_eq!(err(Mapping::anonymous(0)), Errno::EINVAL);
        assert_eq!(err(Mapping::anonymous(usize::MAX)), Errno::ENOMEM);
        assert_eq!(err(MapOptions::new().map()), Errno::EINVAL);
        assert_eq!(err(MapOptions::new().len(p).sync().map()), Errno::EINVAL);
        let at = quiet_address(p) as usize;
        assert_eq!(
            err(MapOptions::new().len(p).at(at + 1).map()),
            Errno::EINVAL
        );
        // EINVAL from the kernel; ENOMEM under qemu-user, which drops the size bits.
        let huge = MapOptions::new().len(128 << 20).huge_pages_log2(27).map();
        assert!(huge.is_err());
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
        assert_eq!(err(fd.map(Access::ReadWrite)), Errno::EINVAL, "empty");
        fd.set_len(p as u64).unwrap();
        assert_eq!(
            err(MapOptions::new().map_file(&fd, 2 * p as u64)),
            Errno::EINVAL
        );
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
        assert!(m.remap(usize::MAX, true).is_err());
        let before = maps().len();
        drop(m);
        assert_eq!(
            maps().len(),
            before - 1,
            "the failed-remap mapping unmapped on drop"
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
        let before = maps().len();
        let m = MapOptions::new()
            .len(2 * p)
            .at(quiet_address(2 * p) as usize)
            .map();
        let (ptr, len) = m.unwrap().into_raw();
        assert_eq!(maps().len(), before + 1, "mapped once");
        let m = unsafe { Mapping::from_raw(ptr, len) };
        assert_eq!(maps().len(), before + 1, "adopting maps nothing");
        drop(m);
        assert_eq!(maps().len(), before, "unmapped once");
    });

    step("range errors of every operation", || {
        let mut m = Mapping::anonymous(2 * p).unwrap();
        assert_eq!(m.protect(0..2 * p + 1, Prot::READ), Err(Errno::EINVAL));
        assert_eq!(m.protect(1..p, Prot::READ), Err(Errno::EINVAL));
        assert_eq!(m.lock(0..usize::MAX), Err(Errno::EINVAL));
        assert_eq!(m.advise(.., Advice::Free), Err(Errno::EINVAL));
        assert_eq!(m.flush(1..p, mman::Flush::Sync), Err(Errno::EINVAL));
        assert_eq!(m.read_at(usize::MAX, &mut [0; 2]), Err(Errno::EINVAL));
        // Exclusive memory is never shared as atomics (a slice may alias it).
        assert_eq!(m.atomic_u32(1).map(|_| ()), Err(Errno::EPERM));
        assert!(m.guard(1..p).is_err());
        m.unguard(Prot::READ | Prot::WRITE).unwrap();
    });

    step("lock, guard, unguard, then drop", || {
        let mut m = Mapping::anonymous(4 * p).unwrap();
        m.lock(..).unwrap();
        m.guard(p..2 * p).unwrap();
        m.unguard(Prot::READ | Prot::WRITE).unwrap();
        let _ = m.lock_on_fault(2 * p..); // ENOSYS under qemu-user
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
        assert_eq!(err(shm.map()), Errno::EINVAL, "empty object");
        shm.set_len(p as u64).unwrap();
        let ro = SharedMemory::open(&name, Access::ReadOnly).unwrap();
        let mut m = ro.map().unwrap();
        assert_eq!(m.protect(.., Prot::READ | Prot::WRITE), Err(Errno::EACCES));
        assert_eq!(ro.set_len(1), Err(Errno::EINVAL));
        drop((m, ro, shm));
        for bad in ["", "/", "a/b", "."] {
            let c = CString::new(bad).unwrap();
            assert!(SharedMemory::create(&c, 1).is_err(), "{bad:?}");
            assert!(
                SharedMemory::open(&c, Access::ReadWrite).is_err(),
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
        let _ = fd.map(Access::ReadOnly); // EPERM before Linux 6.7
        let unsealable = Memfd::with_flags(c"unsealable", MemfdFlags::CLOEXEC).unwrap();
        assert_eq!(unsealable.add_seals(mman::Seals::GROW), Err(Errno::EPERM));
        let _ = Memfd::new_noexec(c"noexec"); // EINVAL before Linux 6.3
        drop(Memfd::new(c"into").unwrap().into_fd());
    });

    step("SysvSegment error and release paths", || {
        let mode = Mode::from_bits_truncate(0o600);
        let seg = SysvSegment::create(key(1), p, mode).unwrap();
        assert_eq!(err(SysvSegment::create(key(1), p, mode)), Errno::EEXIST);
        let opened = SysvSegment::open(key(1)).unwrap();
        let before = maps().len();
        let a = opened.attach(Access::ReadWrite).unwrap();
        let b = seg.attach(Access::ReadOnly).unwrap();
        assert_eq!(maps().len(), before + 2, "two attachments mapped");
        drop((a, b));
        assert_eq!(maps().len(), before, "both detached on drop");
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

    assert_eq!(start, held(), "the whole run leaked");
}
