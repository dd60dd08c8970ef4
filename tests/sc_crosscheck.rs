//! The crate's syscall numbers are private, so they are checked by behaviour: each call is
//! made once through `mman::sys` and once through the `sc` crate's independent tables (or
//! glibc's `syscall()` for calls newer than `sc`'s Linux 5.12), and the effects of one are
//! observed through the other. A wrong number would issue a different system call, whose
//! effect (or error) could not match.
//!
//! Where `sc` cannot be used (powerpc64, s390x, loongarch64, x86, arm, mips64), `sc_glibc`
//! stands in for it: the uapi headers' numbers through glibc's `syscall()`.

#[macro_use]
mod common;
#[cfg(any(
    target_arch = "powerpc64",
    target_arch = "s390x",
    target_arch = "loongarch64",
    target_arch = "x86",
    target_arch = "arm",
    target_arch = "mips64"
))]
#[path = "sc_glibc/mod.rs"]
mod sc;

use std::ffi::{c_void, CString};
use std::ptr;

use common::*;
use mman::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use mman::sys;
use mman::{
    Advice, Errno, FallocateFlags, MapFlags, MemfdFlags, MlockAllFlags, MlockFlags, MremapFlags,
    MsyncFlags, Prot, Seals, ShmAtFlags, ShmGetFlags,
};

const RW: Prot = Prot::READ.union(Prot::WRITE);
const PRIVATE_ANON: MapFlags = MapFlags::PRIVATE.union(MapFlags::ANONYMOUS);
const F_GET_SEALS: usize = 1034;
/// `IPC_STAT` for `shmctl`, as `shmid64_ds`: arm's and mips n64's `shmctl` is the kernel's
/// `old_shmctl`, which returns the old layout unless `IPC_64` (0x100) asks for the new one.
const IPC_STAT: usize = if cfg!(any(target_arch = "arm", target_arch = "mips64")) {
    2 | 0x100
} else {
    2
};

/// Decodes a raw return word the way the kernel encodes errors.
fn decode(ret: usize) -> mman::Result<usize> {
    if ret > (-4096isize) as usize {
        Err(Errno::from_raw(-(ret as isize) as i32))
    } else {
        Ok(ret)
    }
}

/// glibc's `syscall()` for numbers `sc` does not know, as a `Result`.
fn libc_syscall(r: libc::c_long) -> mman::Result<usize> {
    if r == -1 {
        Err(last_errno())
    } else {
        Ok(r as usize)
    }
}

fn sc_mmap_quiet(len: usize) -> *mut c_void {
    let want = quiet_address(len);
    let flags = (PRIVATE_ANON | MapFlags::FIXED_NOREPLACE).bits();
    let ret = unsafe { sc::syscall!(MMAP, want, len, RW.bits(), flags, -1isize, 0) };
    assert_eq!(decode(ret), Ok(want as usize), "sc mmap");
    want
}

#[test]
fn getpid_matches() {
    let theirs = unsafe { sc::syscall!(GETPID) } as i32;
    assert_eq!(sys::getpid(), theirs);
    assert_eq!(sys::getpid() as u32, std::process::id());
}

#[test]
fn mmap_and_munmap_undo_each_other() {
    // Ours maps, sc unmaps.
    let map = Map::quiet(2 * page(), RW, PRIVATE_ANON, -1, 0);
    assert_eq!(perms(map.ptr), "rw-p");
    assert_eq!(
        decode(unsafe { sc::syscall!(MUNMAP, map.ptr, map.len) }),
        Ok(0)
    );
    assert!(!is_mapped(map.ptr));
    map.leak();
    // sc maps, ours unmaps.
    let p = sc_mmap_quiet(2 * page());
    assert_eq!(perms(p), "rw-p");
    write_byte(p.cast(), 1);
    assert_eq!(unsafe { sys::munmap(p, 2 * page()) }, Ok(()));
    assert!(!is_mapped(p));
}

#[test]
fn mprotect_matches() {
    let ours = Map::anon(page());
    let theirs = Map::anon(page());
    assert_eq!(
        unsafe { sys::mprotect(ours.ptr, page(), Prot::READ | Prot::EXEC) },
        Ok(())
    );
    let ret = unsafe {
        sc::syscall!(
            MPROTECT,
            theirs.ptr,
            page(),
            (Prot::READ | Prot::EXEC).bits()
        )
    };
    assert_eq!(decode(ret), Ok(0));
    assert_eq!(perms(ours.ptr), "r-xp");
    assert_eq!(perms(theirs.ptr), "r-xp");
}

#[test]
fn mremap_moves_what_sc_mapped() {
    let p = sc_mmap_quiet(page());
    write_byte(p.cast(), 0x77);
    let target = quiet_address(page());
    let flags = MremapFlags::MAYMOVE | MremapFlags::FIXED;
    assert_eq!(
        unsafe { sys::mremap(p, page(), page(), flags, target) },
        Ok(target)
    );
    let _moved = Map::adopt(target, page());
    assert_eq!(read_byte(target.cast()), 0x77);
    assert!(!is_mapped(p));
    // And sc's mremap on ours.
    let map = Map::quiet(page(), RW, PRIVATE_ANON, -1, 0);
    write_byte(map.page_ptr(0), 0x78);
    let target = quiet_address(page());
    let ret = unsafe { sc::syscall!(MREMAP, map.ptr, page(), page(), flags.bits(), target) };
    assert_eq!(decode(ret), Ok(target as usize));
    map.leak();
    let _moved = Map::adopt(target, page());
    assert_eq!(read_byte(target.cast()), 0x78);
}

#[test]
fn msync_gives_the_same_answers() {
    let fd = memfd("sc-msync", MemfdFlags::CLOEXEC, page() as u64);
    let map = Map::shared(&fd, page(), 0);
    let hole = quiet_address(page());
    let cases = [
        (map.ptr, MsyncFlags::SYNC),
        (map.ptr, MsyncFlags::ASYNC | MsyncFlags::SYNC),
        (hole, MsyncFlags::SYNC),
    ];
    for (addr, flags) in cases {
        let ours = unsafe { sys::msync(addr, page(), flags) };
        let theirs = decode(unsafe { sc::syscall!(MSYNC, addr, page(), flags.bits()) }).map(drop);
        assert_eq!(ours, theirs, "msync({addr:p}, {flags:?})");
    }
    let r = unsafe { sys::msync(hole, page(), MsyncFlags::SYNC) };
    if r.is_ok() && qemu_user_reserves_the_address_space() {
        skip!("qemu-user's reservation backs a 32-bit program's holes: msync finds memory");
    }
    assert_eq!(r, Err(Errno::ENOMEM));
}

#[test]
fn mincore_fills_the_same_vector() {
    let map = Map::anon(4 * page());
    write_byte(map.page_ptr(1), 1);
    write_byte(map.page_ptr(3), 1);
    let mut ours = [0u8; 4];
    let mut theirs = [0u8; 4];
    assert_eq!(
        unsafe { sys::mincore(map.ptr, map.len, ours.as_mut_ptr()) },
        Ok(())
    );
    assert_eq!(
        decode(unsafe { sc::syscall!(MINCORE, map.ptr, map.len, theirs.as_mut_ptr()) }),
        Ok(0)
    );
    assert_eq!(ours, theirs);
    assert_eq!(ours.map(|b| b & 1), [0, 1, 0, 1]);
}

#[test]
fn madvise_dontneed_zeroes_both_ways() {
    for through_sc in [false, true] {
        let map = Map::anon(page());
        write_byte(map.page_ptr(0), 9);
        let r = if through_sc {
            decode(unsafe { sc::syscall!(MADVISE, map.ptr, page(), Advice::DontNeed.raw()) })
                .map(drop)
        } else {
            unsafe { sys::madvise(map.ptr, page(), Advice::DontNeed) }
        };
        assert_eq!(r, Ok(()));
        assert_eq!(
            read_byte(map.page_ptr(0)),
            0,
            "DontNeed via {}",
            if through_sc { "sc" } else { "mman" }
        );
    }
}

/// Locks through one side and unlocks through the other, checked by `VmLck` (the only test
/// of this binary that locks memory in this process).
#[test]
fn mlock_family_is_undone_by_the_other_side() {
    let map = Map::anon(2 * page());
    let locked = map.len / 1024;
    let before = vm_lck_kb();
    // mlock ours, munlock sc.
    assert_eq!(unsafe { sys::mlock(map.ptr, map.len) }, Ok(()));
    assert_eq!(vm_lck_kb(), before + locked);
    assert_eq!(
        decode(unsafe { sc::syscall!(MUNLOCK, map.ptr, map.len) }),
        Ok(0)
    );
    assert_eq!(vm_lck_kb(), before);
    // mlock sc, munlock ours.
    assert_eq!(
        decode(unsafe { sc::syscall!(MLOCK, map.ptr, map.len) }),
        Ok(0)
    );
    assert_eq!(vm_lck_kb(), before + locked);
    assert_eq!(unsafe { sys::munlock(map.ptr, map.len) }, Ok(()));
    assert_eq!(vm_lck_kb(), before);
    // mlock2(ONFAULT) ours, on fresh pages: locked without faulting in.
    let map = Map::anon(2 * page());
    match unsafe { sys::mlock2(map.ptr, map.len, MlockFlags::ONFAULT) } {
        Ok(()) => {
            assert_eq!(vm_lck_kb(), before + locked);
            assert_eq!(resident(map.ptr, map.len), vec![false; 2]);
            assert_eq!(
                decode(unsafe { sc::syscall!(MUNLOCK, map.ptr, map.len) }),
                Ok(0)
            );
            assert_eq!(vm_lck_kb(), before);
        }
        Err(Errno::ENOSYS) => {
            // sc agrees that there is no such call here.
            let theirs = decode(unsafe { sc::syscall!(MLOCK2, map.ptr, map.len, 1) });
            assert_eq!(theirs, Err(Errno::ENOSYS));
            skip!("{}", enosys("mlock2", "4.4"));
        }
        Err(e) => panic!("mlock2: {e}"),
    }
}

#[test]
fn mlockall_and_munlockall_undo_each_other() {
    // In a child: mlockall affects every mapping of the process. A mapping made while
    // MCL_FUTURE is in force is faulted in at once; one made after munlockall is not.
    let end = in_child(|| {
        if sys::mlockall(MlockAllFlags::FUTURE) != Ok(()) {
            return 1;
        }
        let a = Map::anon(2 * page());
        if resident(a.ptr, a.len) != vec![true; 2] || vm_lck_kb() == 0 {
            return 2;
        }
        if decode(unsafe { sc::syscall!(MUNLOCKALL) }) != Ok(0) || vm_lck_kb() != 0 {
            return 3;
        }
        let b = Map::anon(2 * page());
        if resident(b.ptr, b.len) != vec![false; 2] {
            return 4;
        }
        let current = MlockAllFlags::CURRENT.bits();
        if decode(unsafe { sc::syscall!(MLOCKALL, current) }) != Ok(0)
            || resident(b.ptr, b.len) != vec![true; 2]
            || vm_lck_kb() == 0
        {
            return 5;
        }
        if sys::munlockall() != Ok(()) || vm_lck_kb() != 0 {
            return 6;
        }
        0
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

#[test]
fn memfd_create_fcntl_ftruncate_read_write_interoperate() {
    // memfd_create through sc, everything else through ours, and the reverse.
    let name = CString::new("sc-memfd").unwrap();
    let flags = (MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING).bits();
    let raw = decode(unsafe { sc::syscall!(MEMFD_CREATE, name.as_ptr(), flags) })
        .expect("sc memfd_create");
    let theirs = unsafe { OwnedFd::from_raw_fd(raw as i32) };
    let ours = sys::memfd_create(&name, MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)
        .expect("memfd_create");
    assert_eq!(fd_link(theirs.as_raw_fd()), fd_link(ours.as_raw_fd()));
    assert_eq!(fd_link(ours.as_raw_fd()), "/memfd:sc-memfd (deleted)");

    // write (ours) / read (sc), then write (sc) / read (ours), on the same file.
    assert_eq!(sys::write(theirs.as_fd(), b"abc"), Ok(3));
    assert_eq!(
        unsafe { libc::lseek(theirs.as_raw_fd(), 0, libc::SEEK_SET) },
        0
    );
    let mut buf = [0u8; 3];
    assert_eq!(
        decode(unsafe { sc::syscall!(READ, theirs.as_raw_fd(), buf.as_mut_ptr(), 3) }),
        Ok(3)
    );
    assert_eq!(&buf, b"abc");
    assert_eq!(
        decode(unsafe { sc::syscall!(WRITE, ours.as_raw_fd(), b"xyz".as_ptr(), 3) }),
        Ok(3)
    );
    assert_eq!(
        unsafe { libc::lseek(ours.as_raw_fd(), 0, libc::SEEK_SET) },
        0
    );
    let mut buf = [0u8; 3];
    assert_eq!(sys::read(ours.as_fd(), &mut buf), Ok(3));
    assert_eq!(&buf, b"xyz");

    // ftruncate both ways, checked by the size the other side maps.
    assert_eq!(sys::ftruncate(theirs.as_fd(), 5 * page() as u64), Ok(()));
    assert_eq!(
        decode(unsafe { sc::syscall!(FTRUNCATE, ours.as_raw_fd(), 3 * page()) }),
        Ok(0)
    );
    let size = |fd: &OwnedFd| {
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) }, 0);
        st.st_size as usize
    };
    assert_eq!((size(&theirs), size(&ours)), (5 * page(), 3 * page()));

    // Seals added by ours, read by sc.
    assert_eq!(
        sys::fcntl_add_seals(theirs.as_fd(), Seals::GROW | Seals::SHRINK),
        Ok(())
    );
    let seals = decode(unsafe { sc::syscall!(FCNTL, theirs.as_raw_fd(), F_GET_SEALS) });
    assert_eq!(seals, Ok((Seals::GROW | Seals::SHRINK).bits() as usize));
    assert_eq!(sys::fcntl_get_seals(ours.as_fd()), Ok(Seals::empty()));
}

/// `fallocate` against glibc's `fallocate64`, which splits its 64-bit offset and length
/// into the registers each ABI wants on its own: an offset past 4 GiB and a length of a
/// page check both halves of both (swapped or misplaced words would give another size).
#[test]
fn fallocate_matches_glibc() {
    use std::os::unix::fs::MetadataExt;
    let p = page() as u64;
    let far = 5 << 30;
    let fd = sys::memfd_create(c"sc-fallocate", MemfdFlags::CLOEXEC).expect("memfd_create");
    let size = |fd: &OwnedFd| {
        let meta = std::fs::metadata(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap();
        (meta.len(), meta.blocks() * 512)
    };
    // Ours grows and allocates; glibc's punches the page out again.
    assert_eq!(
        sys::fallocate(fd.as_fd(), FallocateFlags::empty(), far, p),
        Ok(())
    );
    assert_eq!(size(&fd), (far + p, p));
    let punch = libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE;
    let r = unsafe { libc::fallocate64(fd.as_raw_fd(), punch, far as i64, p as i64) };
    assert_eq!(r, 0, "glibc fallocate64: {}", last_errno());
    assert_eq!(size(&fd), (far + p, 0));
    // glibc's allocates past the end, keeping the size; ours punches.
    let keep = libc::FALLOC_FL_KEEP_SIZE;
    let r = unsafe { libc::fallocate64(fd.as_raw_fd(), keep, (far + p) as i64, 2 * p as i64) };
    assert_eq!(r, 0, "glibc fallocate64: {}", last_errno());
    assert_eq!(size(&fd), (far + p, 2 * p));
    let punch = FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE;
    assert_eq!(sys::fallocate(fd.as_fd(), punch, far + p, p), Ok(()));
    assert_eq!(size(&fd), (far + p, p));
    assert_eq!(
        sys::fallocate(fd.as_fd(), FallocateFlags::empty(), 0, 0),
        Err(Errno::EINVAL),
        "a length of 0"
    );
}

#[test]
fn openat_and_unlinkat_behind_shm_open_and_shm_unlink() {
    let name = unique_name("");
    let path = CString::new(format!("/dev/shm/{name}")).unwrap();
    // shm_open (openat) creates, sc unlinkat removes.
    let fd = sys::shm_open(
        &CString::new(name.clone()).unwrap(),
        mman::OFlags::RDWR | mman::OFlags::CREAT | mman::OFlags::EXCL,
        mman::Mode::from_bits_truncate(0o600),
    )
    .expect("shm_open");
    drop(fd);
    const AT_FDCWD: isize = -100;
    assert_eq!(
        decode(unsafe { sc::syscall!(UNLINKAT, AT_FDCWD, path.as_ptr(), 0) }),
        Ok(0)
    );
    assert!(!std::path::Path::new(path.to_str().unwrap()).exists());
    // sc openat creates, shm_unlink (unlinkat) removes.
    let flags = libc::O_RDWR | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC;
    let raw = decode(unsafe { sc::syscall!(OPENAT, AT_FDCWD, path.as_ptr(), flags, 0o600) })
        .expect("sc openat");
    drop(unsafe { OwnedFd::from_raw_fd(raw as i32) });
    assert_eq!(sys::shm_unlink(&CString::new(name).unwrap()), Ok(()));
    assert!(!std::path::Path::new(path.to_str().unwrap()).exists());
}

#[test]
fn sysv_shm_calls_interoperate() {
    let id = sys::shmget(
        sys::IPC_PRIVATE,
        2 * page(),
        ShmGetFlags::CREAT | ShmGetFlags::RUSR | ShmGetFlags::WUSR,
    )
    .expect("shmget");
    let _remove = Segment(id);
    // Attach through sc, write; attach through ours, read.
    let a = decode(unsafe { sc::syscall!(SHMAT, id, 0, 0) }).expect("sc shmat") as *mut u8;
    write_byte(a, 0x42);
    let b = unsafe { sys::shmat(id, ptr::null(), ShmAtFlags::RDONLY) }.expect("shmat");
    assert_eq!(read_byte(b.cast()), 0x42);
    assert_eq!(perms(b), "r--s");
    // Detach each through the other.
    assert_eq!(unsafe { sys::shmdt(a.cast()) }, Ok(()));
    assert_eq!(decode(unsafe { sc::syscall!(SHMDT, b) }), Ok(0));
    // IPC_STAT through sc and through ours agree on the size. Where `shm_segsz` lies
    // differs (byte 48 in the asm-generic layout, 72 on powerpc64): the libc crate's
    // `shmid_ds` (glibc's, the kernel's 64-bit `shmid64_ds`) says.
    let mut ds: libc::shmid_ds = unsafe { std::mem::zeroed() };
    let ds_ptr = &mut ds as *mut libc::shmid_ds;
    assert_eq!(
        decode(unsafe { sc::syscall!(SHMCTL, id, IPC_STAT, ds_ptr) }),
        Ok(0)
    );
    assert_eq!(sys::shm_segment_size(id), Ok(ds.shm_segsz));
    assert_eq!(ds.shm_segsz, 2 * page());
    // shmget by sc finds nothing new: the same id for IPC_PRIVATE is never returned twice.
    assert_eq!(sys::shm_remove(id), Ok(()));
    assert_eq!(
        decode(unsafe { sc::syscall!(SHMCTL, id, IPC_STAT, ds_ptr) }),
        Err(Errno::EINVAL)
    );
    let sc_id =
        decode(unsafe { sc::syscall!(SHMGET, 0, page(), 0o1600) }).expect("sc shmget") as i32;
    assert_eq!(sys::shm_segment_size(sc_id), Ok(page()));
    assert_eq!(sys::shm_remove(sc_id), Ok(()));
}

#[test]
fn pkey_calls_interoperate() {
    let key = match pkey_alloc_or_skip(sys::PKEY_DISABLE_WRITE) {
        Ok(key) => key,
        Err(reason) => {
            // No keys here (by /proc/cpuinfo). Without PKU some kernels answer a process's
            // first pkey_alloc with EINVAL and later ones with ENOSPC, so compare two calls
            // made in the same state: ours again, then sc's with the same arguments.
            let ours = sys::pkey_alloc(0, sys::PKEY_DISABLE_WRITE).map(|k| k as usize);
            let theirs = decode(unsafe { sc::syscall!(PKEY_ALLOC, 0, sys::PKEY_DISABLE_WRITE) });
            assert_eq!(theirs, ours, "sc's pkey_alloc must fail alike");
            skip!("{reason}");
        }
    };
    let map = Map::anon(page());
    let ret = unsafe { sc::syscall!(PKEY_MPROTECT, map.ptr, page(), RW.bits(), key) };
    assert_eq!(decode(ret), Ok(0));
    assert_eq!(smaps_field(map.ptr, "ProtectionKey"), Some(key.to_string()));
    assert_eq!(decode(unsafe { sc::syscall!(PKEY_FREE, key) }), Ok(0));
    assert_eq!(
        // SAFETY: the key is already free; the call must only fail.
        unsafe { sys::pkey_free(key) },
        Err(Errno::EINVAL),
        "already freed by sc"
    );
    // A key from sc, used and freed by ours.
    let key = decode(unsafe { sc::syscall!(PKEY_ALLOC, 0, 0) }).expect("sc pkey_alloc") as i32;
    assert_eq!(
        unsafe { sys::pkey_mprotect(map.ptr, page(), RW, key) },
        Ok(())
    );
    assert_eq!(smaps_field(map.ptr, "ProtectionKey"), Some(key.to_string()));
    // SAFETY: the page tagged with the key allows all access (rights 0), so it stays usable.
    assert_eq!(unsafe { sys::pkey_free(key) }, Ok(()));
}

#[test]
fn pidfd_open_and_process_madvise_match() {
    let pid = sys::getpid();
    let ours = match sys::pidfd_open(pid, 0) {
        Ok(fd) => fd,
        Err(Errno::ENOSYS) => skip!("{}", enosys("pidfd_open", "5.3")),
        Err(e) => panic!("pidfd_open: {e}"),
    };
    let raw = decode(unsafe { sc::syscall!(PIDFD_OPEN, pid, 0) }).expect("sc pidfd_open");
    let theirs = unsafe { OwnedFd::from_raw_fd(raw as i32) };
    let fdinfo_pid = |fd: &OwnedFd| {
        std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd()))
            .expect("fdinfo")
            .lines()
            .find_map(|l| l.strip_prefix("Pid:").map(|v| v.trim().to_string()))
    };
    if is_qemu_user() && fdinfo_pid(&ours).is_none() {
        skip!("qemu-user: /proc/self/fdinfo of a pidfd has no Pid: line");
    }
    assert_eq!(fdinfo_pid(&ours), Some(pid.to_string()));
    assert_eq!(fdinfo_pid(&theirs), Some(pid.to_string()));

    let map = Map::anon(3 * page());
    let ranges = [sys::IoVec {
        base: map.ptr,
        len: map.len,
    }];
    let r_ours = unsafe { sys::process_madvise(ours.as_fd(), &ranges, Advice::Cold) };
    let r_theirs = decode(unsafe {
        sc::syscall!(
            PROCESS_MADVISE,
            theirs.as_raw_fd(),
            ranges.as_ptr(),
            1,
            Advice::Cold.raw(),
            0
        )
    });
    assert_eq!(r_ours, r_theirs);
    match r_ours {
        Ok(n) => assert_eq!(n, 3 * page()),
        Err(Errno::ENOSYS) => skip!("{}", enosys("process_madvise", "5.10")),
        Err(e) => panic!("process_madvise: {e}"),
    }
}

/// memfd_secret's number for glibc's syscall(): the libc crate's, but where it names none
/// (loongarch64, whose 6.12 uapi headers lack it too, while its 7.2 kernel has the call)
/// the shared table's 447 (from 424 on the same on every architecture).
#[cfg(not(target_arch = "loongarch64"))]
const SYS_MEMFD_SECRET: libc::c_long = libc::SYS_memfd_secret;
#[cfg(target_arch = "loongarch64")]
const SYS_MEMFD_SECRET: libc::c_long = 447;

/// memfd_secret (447): not in sc's tables; glibc's syscall() with the libc crate's number.
#[test]
fn memfd_secret_matches_glibc_syscall() {
    let ours = sys::memfd_secret(true);
    let theirs = libc_syscall(unsafe { libc::syscall(SYS_MEMFD_SECRET, libc::O_CLOEXEC) });
    assert_eq!(
        ours.as_ref().map(|_| ()).map_err(|e| *e),
        theirs.map(drop),
        "memfd_secret"
    );
    match (ours, theirs, memfd_secret_missing()) {
        (Ok(fd), Ok(raw), None) => {
            let theirs = unsafe { OwnedFd::from_raw_fd(raw as i32) };
            assert_eq!(fd_link(fd.as_raw_fd()), fd_link(theirs.as_raw_fd()));
            assert!(fd_link(fd.as_raw_fd()).contains("secretmem"));
        }
        (Err(Errno::ENOSYS), _, Some(reason)) => skip!("{reason} (both sides: ENOSYS)"),
        (ours, _, missing) => {
            panic!("memfd_secret: {ours:?}, yet memfd_secret_missing() = {missing:?}")
        }
    }
}

/// cachestat (451, Linux 6.5): not in sc's tables; the number is the same everywhere.
#[test]
fn cachestat_matches_glibc_syscall() {
    let fd = memfd("sc-cachestat", MemfdFlags::CLOEXEC, 0);
    assert_eq!(
        sys::write(fd.as_fd(), &vec![1u8; 2 * page()]),
        Ok(2 * page())
    );
    let range = sys::CacheStatRange::default();
    let mut stat = sys::CacheStat::default();
    // The uapi headers' number: 451 in the shared table, 5451 on mips n64.
    const CACHESTAT: libc::c_long = linux_raw_sys::general::__NR_cachestat as libc::c_long;
    let theirs = libc_syscall(unsafe {
        libc::syscall(
            CACHESTAT,
            fd.as_raw_fd(),
            &range as *const _,
            &mut stat as *mut _,
            0,
        )
    });
    match sys::cachestat(fd.as_fd(), &range) {
        Ok(ours) => {
            assert_eq!(theirs, Ok(0));
            assert_eq!(ours, stat);
            assert_eq!(ours.nr_cache, 2);
        }
        Err(Errno::ENOSYS) if is_qemu_user() || !kernel_at_least(6, 5) => {
            assert_eq!(theirs, Err(Errno::ENOSYS), "glibc's syscall() fails alike");
            skip!("{} (both sides)", enosys("cachestat", "6.5"));
        }
        Err(e) => panic!("cachestat: {e} (glibc's syscall(): {theirs:?})"),
    }
}

/// mseal's number, from the uapi headers: 462 in the table every architecture shares from 424
/// on, offset like all of mips n64's (5462); the libc crate does not name it for every target
/// (riscv64, powerpc64).
const SYS_MSEAL: libc::c_long = linux_raw_sys::general::__NR_mseal as libc::c_long;

/// mseal (462, Linux 6.10, 64-bit): a sealed page refuses munmap from either side. It
/// cannot be undone, so the page is given up.
#[test]
fn mseal_matches_glibc_syscall() {
    let map = Map::anon(page());
    let theirs = libc_syscall(unsafe { libc::syscall(SYS_MSEAL, map.ptr, page(), 0) });
    match theirs {
        Ok(_) => {
            let p = map.ptr;
            map.leak();
            assert_eq!(unsafe { sys::munmap(p, page()) }, Err(Errno::EPERM));
            // Sealing again through ours is allowed (idempotent).
            assert_eq!(unsafe { sys::mseal(p, page()) }, Ok(()));
        }
        Err(Errno::ENOSYS) if is_qemu_user() || !kernel_at_least(6, 10) || kernel_is_32_bit() => {
            assert_eq!(unsafe { sys::mseal(map.ptr, page()) }, Err(Errno::ENOSYS));
            skip!(
                "{} (both sides)",
                enosys("mseal", "6.10 and a 64-bit kernel")
            );
        }
        Err(e) => panic!("mseal through glibc's syscall(): {e}"),
    }
}

#[test]
fn close_closes_what_either_side_opened() {
    // In a child, where no other test opens descriptors that could reuse the numbers.
    let end = in_child(|| {
        let before = fd_count();
        let name = CString::new("sc-close").unwrap();
        let Ok(raw) = decode(unsafe { sc::syscall!(MEMFD_CREATE, name.as_ptr(), 1) }) else {
            return 1;
        };
        if fd_count() != before + 1 {
            return 2;
        }
        if sys::close(unsafe { OwnedFd::from_raw_fd(raw as i32) }) != Ok(()) || fd_count() != before
        {
            return 3;
        }
        if decode(unsafe { sc::syscall!(FCNTL, raw, libc::F_GETFD) }) != Err(Errno::EBADF) {
            return 4;
        }
        // Closing it again: the kernel's answer comes back.
        if sys::close(unsafe { OwnedFd::from_raw_fd(raw as i32) }) != Err(Errno::EBADF) {
            return 5;
        }
        let ours = memfd("close", MemfdFlags::CLOEXEC, 0);
        let raw = ours.as_raw_fd();
        if sys::close(ours) != Ok(()) {
            return 6;
        }
        if decode(unsafe { sc::syscall!(CLOSE, raw) }) != Err(Errno::EBADF) || fd_count() != before
        {
            return 7;
        }
        0
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

#[test]
fn exit_group_ends_every_thread_with_the_code() {
    let end = in_child(|| {
        // Were this a thread-only exit, the other thread would end the process with 99.
        std::thread::spawn(|| {
            std::thread::sleep(std::time::Duration::from_secs(5));
            unsafe { libc::_exit(99) };
        });
        sys::exit_group(42)
    });
    assert_eq!(end, ChildEnd::Exited(42));
    // The same through sc, for comparison.
    let end = in_child(|| {
        unsafe { sc::syscall!(EXIT_GROUP, 43) };
        unreachable!()
    });
    assert_eq!(end, ChildEnd::Exited(43));
}
