//! memfd_create, file seals and memfd_secret against the real kernel.

#[macro_use]
mod common;

use mman::fd::{AsFd, AsRawFd, OwnedFd};
use std::ffi::CString;
use std::ptr;

use common::*;
use mman::sys;
use mman::{Errno, MapFlags, MemfdFlags, Prot, Seals};

const RW: Prot = Prot::READ.union(Prot::WRITE);

fn sealable(tag: &str, len: u64) -> OwnedFd {
    memfd(tag, MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING, len)
}

fn fd_flags(fd: &OwnedFd) -> i32 {
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
    assert!(flags >= 0, "F_GETFD: {}", last_errno());
    flags
}

/// `fstat64`: plain `fstat` answers `EOVERFLOW` for files past 2 GiB on 32-bit targets.
fn file_mode_and_size(fd: &OwnedFd) -> (u32, u64) {
    let mut st: libc::stat64 = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { libc::fstat64(fd.as_raw_fd(), &mut st) },
        0,
        "fstat: {}",
        last_errno()
    );
    (st.st_mode, st.st_size as u64)
}

fn try_mmap(fd: &OwnedFd, prot: Prot, flags: MapFlags) -> mman::Result<Map> {
    let p = unsafe { sys::mmap(ptr::null_mut(), page(), prot, flags, fd.as_raw_fd(), 0) }?;
    Ok(Map::adopt(p, page()))
}

#[test]
fn memfd_create_shows_its_name_in_proc_self_fd() {
    let name = unique_name("");
    let fd = memfd(&name, MemfdFlags::CLOEXEC, 0);
    assert_eq!(fd_link(fd.as_raw_fd()), format!("/memfd:{name} (deleted)"));
}

#[test]
fn memfd_create_opens_one_descriptor_and_drop_closes_it() {
    // Counted in a child, where no other test opens descriptors meanwhile.
    let end = in_child(|| {
        let before = fd_count();
        let fd = memfd("count", MemfdFlags::CLOEXEC, 0);
        let during = fd_count();
        drop(fd);
        let after = fd_count();
        if during == before + 1 && after == before {
            0
        } else {
            1
        }
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

#[test]
fn memfd_cloexec_flag_is_honoured() {
    let with = memfd("cloexec", MemfdFlags::CLOEXEC, 0);
    assert_eq!(fd_flags(&with) & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
    let without = memfd("no-cloexec", MemfdFlags::empty(), 0);
    assert_eq!(fd_flags(&without) & libc::FD_CLOEXEC, 0);
}

#[test]
fn memfd_ftruncate_sets_the_size_and_the_mapping_reads_and_writes_the_file() {
    let fd = memfd("truncate-map", MemfdFlags::CLOEXEC, 0);
    assert_eq!(file_mode_and_size(&fd).1, 0);
    assert_eq!(sys::ftruncate(fd.as_fd(), 3 * page() as u64), Ok(()));
    assert_eq!(file_mode_and_size(&fd).1, 3 * page() as u64);
    let mut map = Map::shared(&fd, 3 * page(), 0);
    map.bytes_mut()[page()..page() + 5].copy_from_slice(b"hello");
    let mut back = [0u8; 5];
    let n = unsafe {
        libc::pread(
            fd.as_raw_fd(),
            back.as_mut_ptr().cast(),
            5,
            page() as libc::off_t,
        )
    };
    assert_eq!(n, 5);
    assert_eq!(&back, b"hello");
}

#[test]
fn ftruncate_takes_lengths_up_to_i64_max_and_refuses_larger_ones() {
    let fd = memfd("truncate-huge", MemfdFlags::CLOEXEC, 0);
    // tmpfs files are sparse and may be as long as the largest offset (MAX_LFS_FILESIZE).
    let longest = i64::MAX as u64;
    match sys::ftruncate(fd.as_fd(), longest) {
        // A 32-bit kernel indexes a file's pages with an unsigned long: its
        // MAX_LFS_FILESIZE is 2^32 pages less one (about 16 TiB with 4 KiB pages).
        Err(Errno::EFBIG) if usize::BITS == 32 => {
            let max = u64::from(u32::MAX) << page().trailing_zeros();
            assert_eq!(sys::ftruncate(fd.as_fd(), max), Ok(()));
            assert_eq!(file_mode_and_size(&fd).1, max);
            assert_eq!(err(sys::ftruncate(fd.as_fd(), max + 1)), Errno::EFBIG);
        }
        r => {
            assert_eq!(r, Ok(()));
            assert_eq!(file_mode_and_size(&fd).1, longest);
        }
    }
    // Above it the kernel sees a negative length.
    assert_eq!(err(sys::ftruncate(fd.as_fd(), 1 << 63)), Errno::EINVAL);
    assert_eq!(err(sys::ftruncate(fd.as_fd(), u64::MAX)), Errno::EINVAL);
}

#[test]
fn memfd_without_allow_sealing_is_sealed_against_seals() {
    let fd = memfd("unsealable", MemfdFlags::CLOEXEC, 0);
    assert_eq!(sys::fcntl_get_seals(fd.as_fd()), Ok(Seals::SEAL));
    assert_eq!(
        err(sys::fcntl_add_seals(fd.as_fd(), Seals::WRITE)),
        Errno::EPERM
    );
}

#[test]
fn seal_write_blocks_write_and_writable_shared_mappings() {
    let fd = sealable("seal-write", page() as u64);
    assert_eq!(sys::fcntl_get_seals(fd.as_fd()), Ok(Seals::empty()));
    assert_eq!(sys::fcntl_add_seals(fd.as_fd(), Seals::WRITE), Ok(()));
    assert_eq!(sys::fcntl_get_seals(fd.as_fd()), Ok(Seals::WRITE));
    assert_eq!(err(sys::write(fd.as_fd(), b"x")), Errno::EPERM);
    assert_eq!(err(try_mmap(&fd, RW, MapFlags::SHARED)), Errno::EPERM);
    // Reading, and private (copy-on-write) mappings, are still allowed.
    assert!(try_mmap(&fd, Prot::READ, MapFlags::SHARED).is_ok());
    assert!(try_mmap(&fd, RW, MapFlags::PRIVATE).is_ok());
}

#[test]
fn seal_write_while_a_writable_shared_mapping_exists_is_ebusy() {
    let fd = sealable("seal-busy", page() as u64);
    let map = Map::shared(&fd, page(), 0);
    assert_eq!(
        err(sys::fcntl_add_seals(fd.as_fd(), Seals::WRITE)),
        Errno::EBUSY
    );
    drop(map);
    assert_eq!(sys::fcntl_add_seals(fd.as_fd(), Seals::WRITE), Ok(()));
}

#[test]
fn seal_future_write_keeps_existing_mappings_writable_but_blocks_new_writers() {
    let fd = sealable("seal-future", page() as u64);
    let mut map = Map::shared(&fd, page(), 0);
    assert_eq!(
        sys::fcntl_add_seals(fd.as_fd(), Seals::FUTURE_WRITE),
        Ok(())
    );
    assert_eq!(sys::fcntl_get_seals(fd.as_fd()), Ok(Seals::FUTURE_WRITE));
    map.bytes_mut()[0] = 42;
    let reader = try_mmap(&fd, Prot::READ, MapFlags::SHARED).expect("read-only mapping");
    assert_eq!(
        reader.bytes()[0],
        42,
        "the old writable mapping still writes the file"
    );
    assert_eq!(err(try_mmap(&fd, RW, MapFlags::SHARED)), Errno::EPERM);
    assert_eq!(err(sys::write(fd.as_fd(), b"x")), Errno::EPERM);
}

#[test]
fn seal_shrink_and_grow_block_ftruncate() {
    let len = 2 * page() as u64;
    let fd = sealable("seal-size", len);
    assert_eq!(sys::fcntl_add_seals(fd.as_fd(), Seals::SHRINK), Ok(()));
    assert_eq!(err(sys::ftruncate(fd.as_fd(), len - 1)), Errno::EPERM);
    assert_eq!(
        sys::ftruncate(fd.as_fd(), len + 1),
        Ok(()),
        "growing still allowed"
    );
    assert_eq!(sys::fcntl_add_seals(fd.as_fd(), Seals::GROW), Ok(()));
    assert_eq!(err(sys::ftruncate(fd.as_fd(), len + 2)), Errno::EPERM);
    // Writing at the end would grow the file too.
    assert!(unsafe { libc::lseek(fd.as_raw_fd(), 0, libc::SEEK_END) } > 0);
    assert_eq!(err(sys::write(fd.as_fd(), b"x")), Errno::EPERM);
    assert_eq!(
        sys::ftruncate(fd.as_fd(), len + 1),
        Ok(()),
        "same size is not a change"
    );
    assert_eq!(
        sys::fcntl_get_seals(fd.as_fd()),
        Ok(Seals::SHRINK | Seals::GROW)
    );
    assert_eq!(file_mode_and_size(&fd).1, len + 1);
}

#[test]
fn seal_seal_forbids_further_seals() {
    let fd = sealable("seal-seal", 0);
    assert_eq!(
        sys::fcntl_add_seals(fd.as_fd(), Seals::SHRINK | Seals::SEAL),
        Ok(())
    );
    assert_eq!(
        err(sys::fcntl_add_seals(fd.as_fd(), Seals::GROW)),
        Errno::EPERM
    );
    assert_eq!(
        sys::fcntl_get_seals(fd.as_fd()),
        Ok(Seals::SHRINK | Seals::SEAL)
    );
}

#[test]
fn unknown_seal_is_einval() {
    let fd = sealable("seal-unknown", 0);
    let r = sys::fcntl_add_seals(fd.as_fd(), Seals::from_bits_retain(0x4000));
    assert_eq!(err(r), Errno::EINVAL);
}

#[test]
fn seals_on_a_pipe_are_einval() {
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    let (r, w) = unsafe {
        use mman::fd::FromRawFd;
        (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
    };
    assert_eq!(err(sys::fcntl_get_seals(r.as_fd())), Errno::EINVAL);
    // (The write end: on a descriptor not open for writing, adding seals is EPERM first.)
    assert_eq!(
        err(sys::fcntl_add_seals(w.as_fd(), Seals::WRITE)),
        Errno::EINVAL
    );
    assert_eq!(
        err(sys::fcntl_add_seals(r.as_fd(), Seals::WRITE)),
        Errno::EPERM
    );
}

#[test]
fn noexec_seal_implies_the_exec_seal_and_clears_exec_bits() {
    let name = CString::new("noexec").unwrap();
    let fd = match sys::memfd_create(&name, MemfdFlags::CLOEXEC | MemfdFlags::NOEXEC_SEAL) {
        Ok(fd) => fd,
        // MFD_NOEXEC_SEAL and MFD_EXEC arrived together in Linux 6.3; older kernels reject
        // the unknown flag.
        Err(Errno::EINVAL) if !kernel_at_least(6, 3) => skip!(
            "MFD_NOEXEC_SEAL needs Linux 6.3 (kernel {})",
            kernel_release()
        ),
        Err(e) => panic!("memfd_create(NOEXEC_SEAL): {e}"),
    };
    let seals = sys::fcntl_get_seals(fd.as_fd()).expect("F_GET_SEALS");
    assert!(seals.contains(Seals::EXEC), "{seals:?}");
    assert!(
        !seals.contains(Seals::SEAL),
        "NOEXEC_SEAL implies ALLOW_SEALING: {seals:?}"
    );
    let (mode, _) = file_mode_and_size(&fd);
    assert_eq!(mode & 0o111, 0, "mode {mode:o}");
    assert_eq!(unsafe { libc::fchmod(fd.as_raw_fd(), 0o755) }, -1);
    assert_eq!(last_errno(), Errno::EPERM);
}

/// `vm.memfd_noexec` of this process's pid namespace (Linux 6.3), if there is one.
fn memfd_noexec_sysctl() -> Option<u32> {
    let value = std::fs::read_to_string("/proc/sys/vm/memfd_noexec").ok()?;
    Some(value.trim().parse().expect("numeric vm.memfd_noexec"))
}

#[test]
fn memfd_exec_keeps_exec_bits() {
    let name = CString::new("exec").unwrap();
    let fd = match sys::memfd_create(&name, MemfdFlags::CLOEXEC | MemfdFlags::EXEC) {
        Ok(fd) => fd,
        Err(Errno::EINVAL) if !kernel_at_least(6, 3) => {
            skip!("MFD_EXEC needs Linux 6.3 (kernel {})", kernel_release())
        }
        Err(Errno::EACCES) if memfd_noexec_sysctl() == Some(2) => {
            skip!("vm.memfd_noexec = 2 refuses MFD_EXEC")
        }
        Err(e) => panic!("memfd_create(EXEC): {e}"),
    };
    let (mode, _) = file_mode_and_size(&fd);
    assert_eq!(mode & 0o111, 0o111, "mode {mode:o}");
}

#[test]
fn exec_and_noexec_seal_together_are_einval() {
    let name = CString::new("both").unwrap();
    let r = sys::memfd_create(&name, MemfdFlags::EXEC | MemfdFlags::NOEXEC_SEAL);
    assert_eq!(err(r), Errno::EINVAL);
}

#[test]
fn memfd_name_of_249_bytes_is_accepted_and_250_is_einval() {
    let ok = CString::new("n".repeat(249)).unwrap();
    let fd = sys::memfd_create(&ok, MemfdFlags::CLOEXEC).expect("249-byte name");
    assert_eq!(
        fd_link(fd.as_raw_fd()),
        format!("/memfd:{} (deleted)", "n".repeat(249))
    );
    let long = CString::new("n".repeat(250)).unwrap();
    assert_eq!(
        err(sys::memfd_create(&long, MemfdFlags::CLOEXEC)),
        Errno::EINVAL
    );
}

#[test]
fn memfd_unknown_flags_are_einval() {
    let name = CString::new("flags").unwrap();
    let unknown = MemfdFlags::from_bits_retain(0x20);
    assert_eq!(err(sys::memfd_create(&name, unknown)), Errno::EINVAL);
    // A huge page size without MFD_HUGETLB.
    let size_only = MemfdFlags::from_bits_retain(MemfdFlags::huge_page_size_log2(21).bits())
        .difference(MemfdFlags::HUGETLB);
    assert_eq!(err(sys::memfd_create(&name, size_only)), Errno::EINVAL);
}

#[test]
fn memfd_secret_maps_writes_and_reads_back_and_is_listed_as_secretmem() {
    let fd = match (sys::memfd_secret(true), memfd_secret_missing()) {
        (Ok(fd), None) => fd,
        (Err(Errno::ENOSYS), Some(reason)) => skip!("{reason}"),
        (result, missing) => {
            panic!("memfd_secret: {result:?}, yet memfd_secret_missing() = {missing:?}")
        }
    };
    assert_eq!(fd_flags(&fd) & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
    assert_eq!(sys::ftruncate(fd.as_fd(), 2 * page() as u64), Ok(()));
    let mut map = Map::shared(&fd, 2 * page(), 0);
    for (i, b) in map.bytes_mut().iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    assert!(map
        .bytes()
        .iter()
        .enumerate()
        .all(|(i, &b)| b == (i % 251) as u8));
    let entry = maps_entry(map.ptr).expect("listed");
    assert!(entry.path.contains("secretmem"), "{entry:?}");
    assert_eq!(entry.perms, "rw-s");
    // The contents are reachable only through the mapping: read(2) is refused.
    let mut buf = [0u8; 16];
    assert_eq!(err(sys::read(fd.as_fd(), &mut buf)), Errno::EINVAL);
    // And only shared mappings are allowed.
    assert_eq!(err(try_mmap(&fd, RW, MapFlags::PRIVATE)), Errno::EINVAL);
}

#[test]
fn memfd_secret_without_cloexec_leaves_the_flag_clear() {
    match (sys::memfd_secret(false), memfd_secret_missing()) {
        (Ok(fd), None) => assert_eq!(fd_flags(&fd) & libc::FD_CLOEXEC, 0),
        (Err(Errno::ENOSYS), Some(reason)) => skip!("{reason}"),
        (result, missing) => {
            panic!("memfd_secret: {result:?}, yet memfd_secret_missing() = {missing:?}")
        }
    }
}

/// A file mapping at an offset past 4 GiB maps the bytes at that offset, and a length past
/// 4 GiB sets the size: the 64-bit values must reach the kernel whole, whatever the ABI does
/// with them (s390x passes `mmap` its offset in a six-word block in memory, 32-bit ABIs
/// would split it or count it in pages). A marker 4 GiB lower catches an offset cut to 32
/// bits; one a page off catches an offset taken in the wrong unit. tmpfs keeps the file
/// sparse: only the written pages take memory.
#[test]
fn file_mapping_at_an_offset_past_4_gib_maps_the_bytes_there() {
    let p = page() as u64;
    let far = (5u64 << 30) + p;
    let fd = memfd("mman-far-offset", MemfdFlags::CLOEXEC, far + 2 * p);
    assert_eq!(
        file_mode_and_size(&fd).1,
        far + 2 * p,
        "ftruncate past 4 GiB"
    );
    let put = |offset: u64, byte: u8| {
        let written = unsafe {
            libc::pwrite64(
                fd.as_raw_fd(),
                vec![byte; page()].as_ptr().cast(),
                page(),
                offset as libc::off64_t,
            )
        };
        assert_eq!(
            written,
            page() as isize,
            "pwrite at {offset:#x}: {}",
            last_errno()
        );
    };
    put(far - (4 << 30), 0x11);
    put(far - p, 0x22);
    put(far, 0xa5);
    put(far + p, 0x33);
    let map = unsafe {
        sys::mmap(
            ptr::null_mut(),
            page(),
            Prot::READ,
            MapFlags::SHARED,
            fd.as_raw_fd(),
            far,
        )
    }
    .unwrap_or_else(|e| panic!("mmap at offset {far:#x}: {e}"));
    let map = Map::adopt(map, page());
    let bytes = unsafe { std::slice::from_raw_parts(map.ptr.cast::<u8>(), page()) };
    assert!(
        bytes.iter().all(|&b| b == 0xa5),
        "mapping at offset {far:#x} starts with {:#x}",
        bytes[0]
    );
}
