//! The safe shared-memory objects against the real kernel: `SharedMemory` (POSIX, files in
//! `/dev/shm`, interoperable with glibc's `shm_open`), `Memfd` (with seals) and
//! `SysvSegment` (checked through `/proc/self/maps` and `/proc/sysvipc/shm`).
//!
//! Every object gets a name or key unique to this process and test. A second process is a
//! forked child. Descriptor counts are checked in `tests/leaks.rs`, where no other test
//! runs at the same time.

#[macro_use]
mod common;

use mman::fd::{AsFd, AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::ffi::{CStr, CString};
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::PathBuf;

use common::*;
use mman::{sys, Access, Errno, MapOptions, Mapping, Memfd, MemfdFlags, Mode, Prot, Seals};
use mman::{SharedMemory, SysvSegment};

const RW: Prot = Prot::READ.union(Prot::WRITE);

fn read(m: &Mapping, offset: usize, len: usize) -> Vec<u8> {
    let mut buf = vec![0xa5; len];
    m.read_at(offset, &mut buf).expect("read_at");
    buf
}

#[track_caller]
fn assert_zero(bytes: &[u8], what: &str) {
    if let Some(i) = bytes.iter().position(|&b| b != 0) {
        panic!("{what}: byte {i} is {:#x}, expected 0", bytes[i]);
    }
}

fn entry(m: &Mapping) -> MapsEntry {
    maps_entry(m.as_ptr().cast()).unwrap_or_else(|| panic!("{:p} not mapped", m.as_ptr()))
}

/// Whether descriptor `fd` has `FD_CLOEXEC`.
fn cloexec(fd: impl AsRawFd) -> bool {
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
    assert!(flags >= 0, "F_GETFD: {}", last_errno());
    flags & libc::FD_CLOEXEC != 0
}

fn pread(file: &std::fs::File, offset: usize, len: usize) -> Vec<u8> {
    let mut buf = vec![0xa5; len];
    file.read_exact_at(&mut buf, offset as u64).expect("pread");
    buf
}

// ---------------------------------------------------------------------------------------
// SharedMemory

/// `/dev/shm/NAME` for a name without leading slashes.
fn shm_path(name: &CStr) -> PathBuf {
    PathBuf::from(format!(
        "/dev/shm/{}",
        name.to_str().unwrap().trim_start_matches('/')
    ))
}

fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .map(|v| u32::from_str_radix(v.trim(), 8).unwrap())
        .unwrap_or(0o022)
}

/// Removes `/dev/shm/NAME` if a test left it behind on failure.
struct Cleanup(CString);

impl Drop for Cleanup {
    fn drop(&mut self) {
        // ENOENT when the test unlinked it, as passing tests do.
        let unlinked = sys::shm_unlink(&self.0);
        if !std::thread::panicking() {
            assert!(
                matches!(unlinked, Ok(()) | Err(Errno::ENOENT)),
                "shm_unlink: {unlinked:?}"
            );
        }
    }
}

#[test]
fn create_makes_an_owner_only_object_of_the_asked_size() {
    let p = page();
    let name = unique_cname("");
    let _cleanup = Cleanup(name.clone());
    let slashed = CString::new(format!("/{}", name.to_str().unwrap())).unwrap();
    let shm = SharedMemory::create(&slashed, 3 * p as u64 + 1).unwrap();
    assert_eq!(
        shm.name(),
        name.as_c_str(),
        "stored without the leading slash"
    );
    let path = shm_path(&name);
    let meta = std::fs::metadata(&path).expect("object in /dev/shm");
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o600,
        "owner read-write only"
    );
    assert_eq!(meta.len(), 3 * p as u64 + 1);
    assert_eq!(shm.len(), Ok(3 * p as u64 + 1));
    assert_eq!(shm.is_empty(), Ok(false));
    let fd = shm.as_fd().as_raw_fd();
    assert_eq!(fd_link(fd), path.to_str().unwrap());
    assert!(cloexec(fd), "O_CLOEXEC always added");

    let m = shm.map().unwrap();
    assert_eq!(m.len(), 3 * p + 1, "maps the whole object");
    assert!(m.is_volatile());
    assert_eq!(err(m.as_slice()), Errno::EPERM);
    assert_zero(&read(&m, 0, 3 * p + 1), "new object");
    let e = entry(&m);
    assert_eq!(
        (e.perms.as_str(), e.path.as_str()),
        ("rw-s", path.to_str().unwrap())
    );
}

#[test]
fn create_with_mode_applies_the_umask() {
    let name = unique_cname("");
    let _cleanup = Cleanup(name.clone());
    let mode = Mode::from_bits_truncate(0o644);
    let _shm = SharedMemory::create_with_mode(&name, 64, mode).unwrap();
    let got = std::fs::metadata(shm_path(&name))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(got, 0o644 & !umask());
}

#[test]
fn create_of_an_existing_name_is_eexist_and_leaves_the_object() {
    let p = page();
    let name = unique_cname("");
    let _cleanup = Cleanup(name.clone());
    let first = SharedMemory::create(&name, p as u64).unwrap();
    let mut m = first.map().unwrap();
    m.write_at(0, b"first").unwrap();
    assert_eq!(
        err(SharedMemory::create(&name, 7 * p as u64)),
        Errno::EEXIST
    );
    let slashed = CString::new(format!("//{}", name.to_str().unwrap())).unwrap();
    assert_eq!(
        err(SharedMemory::create(&slashed, 1)),
        Errno::EEXIST,
        "same object"
    );
    assert_eq!(first.len(), Ok(p as u64), "not truncated or grown");
    assert_eq!(read(&m, 0, 5), b"first");
    assert!(
        shm_path(&name).exists(),
        "the failed create did not unlink it"
    );
    drop(m);
    drop(first);
    assert!(!shm_path(&name).exists());
}

#[test]
fn open_read_write_and_read_only_see_the_same_bytes() {
    let p = page();
    let name = unique_cname("");
    let _cleanup = Cleanup(name.clone());
    let owner = SharedMemory::create(&name, 2 * p as u64).unwrap();
    let writer = SharedMemory::open(&name, Access::ReadWrite).unwrap();
    let reader = SharedMemory::open(&name, Access::ReadOnly).unwrap();
    let mut mw = writer.map().unwrap();
    let mo = owner.map().unwrap();
    let mut mr = reader.map().unwrap();
    assert_ne!(mw.as_ptr(), mo.as_ptr());
    mw.write_at(p - 3, b"shared!").unwrap();
    assert_eq!(
        read(&mo, p - 3, 7),
        b"shared!",
        "seen through the owner's mapping"
    );
    assert_eq!(
        read(&mr, p - 3, 7),
        b"shared!",
        "seen through the read-only mapping"
    );
    assert_eq!(
        pread(&file_of(&reader), p - 3, 7),
        b"shared!",
        "in the file"
    );

    assert_eq!(entry(&mr).perms, "r--s");
    assert_eq!(
        mr.write_at(0, b"x"),
        Err(Errno::EACCES),
        "read-only mapping"
    );
    // The descriptor is read-only, so the kernel refuses to make the mapping writable.
    assert_eq!(mr.protect(.., RW), Err(Errno::EACCES));
    assert_eq!(entry(&mr).perms, "r--s");
    assert_eq!(
        reader.set_len(1),
        Err(Errno::EINVAL),
        "ftruncate needs a writable fd"
    );
    assert_eq!(reader.len(), Ok(2 * p as u64));
    assert!(cloexec(reader.as_fd()) && cloexec(writer.as_fd()));
    // Opening never creates.
    let missing = unique_cname("-missing");
    assert_eq!(
        err(SharedMemory::open(&missing, Access::ReadWrite)),
        Errno::ENOENT
    );
    assert_eq!(
        err(SharedMemory::open(&missing, Access::ReadOnly)),
        Errno::ENOENT
    );
    assert!(!shm_path(&missing).exists());
}

#[test]
fn set_len_resizes_and_an_empty_object_maps_empty() {
    let p = page();
    let name = unique_cname("");
    let _cleanup = Cleanup(name.clone());
    let shm = SharedMemory::create(&name, 0).unwrap();
    assert_eq!(shm.len(), Ok(0));
    assert_eq!(shm.is_empty(), Ok(true));
    // Nothing to map: an empty mapping (no kernel mapping; see tests/from_memmap2.rs).
    assert_eq!(shm.map().map(|m| m.len()), Ok(0), "nothing to map");
    shm.set_len(2 * p as u64 + 3).unwrap();
    assert_eq!(shm.len(), Ok(2 * p as u64 + 3));
    assert_eq!(
        std::fs::metadata(shm_path(&name)).unwrap().len(),
        2 * p as u64 + 3
    );
    let m = shm.map().unwrap();
    assert_eq!(m.len(), 2 * p + 3);
    assert_eq!(
        shm.set_len(u64::MAX),
        Err(Errno::EINVAL),
        "negative as off_t"
    );
    assert_eq!(shm.len(), Ok(2 * p as u64 + 3));
}

#[test]
fn shrinking_an_object_under_a_mapping_makes_access_past_the_end_sigbus() {
    // Documented on `set_len`: the mapping keeps its length, the pages past the new end
    // are gone. Checked in a child, which dies of the signal.
    let p = page();
    let name = unique_cname("");
    let _cleanup = Cleanup(name.clone());
    let shm = SharedMemory::create(&name, 2 * p as u64).unwrap();
    let m = shm.map().unwrap();
    shm.set_len(p as u64).unwrap();
    assert_eq!(read(&m, p - 1, 1), [0], "before the new end: fine");
    let end = in_child(|| {
        let mut b = [0u8; 1];
        match m.read_at(p, &mut b) {
            Ok(()) => 0,
            Err(e) => panic!("read_at past the new end: {e}, not SIGBUS"),
        }
    });
    // The kernel's number, not the libc crate's: 0.2.191 gives mips64 glibc the generic
    // signal numbers (7), where mips's SIGBUS is 10.
    let sigbus = linux_raw_sys::general::SIGBUS as i32;
    assert_eq!(end, ChildEnd::Signaled(sigbus));
}

#[test]
fn a_created_object_is_unlinked_on_drop_and_an_opened_one_is_not() {
    let name = unique_cname("");
    let _cleanup = Cleanup(name.clone());
    let path = shm_path(&name);

    let created = SharedMemory::create(&name, 64).unwrap();
    let opened = SharedMemory::open(&name, Access::ReadWrite).unwrap();
    drop(opened);
    assert!(path.exists(), "dropping an opened handle keeps the name");
    drop(created);
    assert!(!path.exists(), "dropping the creator removes the name");

    // Both defaults can be reversed.
    let created = SharedMemory::create(&name, 64)
        .unwrap()
        .unlink_on_drop(false);
    drop(created);
    assert!(path.exists(), "unlink_on_drop(false)");
    let opened = SharedMemory::open(&name, Access::ReadOnly)
        .unwrap()
        .unlink_on_drop(true);
    drop(opened);
    assert!(!path.exists(), "unlink_on_drop(true) on an opened handle");
}

#[test]
fn unlink_removes_the_name_now_and_drop_does_not_touch_a_successor() {
    let name = unique_cname("");
    let _cleanup = Cleanup(name.clone());
    let path = shm_path(&name);
    let mut old = SharedMemory::create(&name, 64).unwrap();
    let mut m = old.map().unwrap();
    m.write_at(0, b"old").unwrap();
    old.unlink().unwrap();
    assert!(!path.exists(), "name removed at once");
    assert_eq!(old.unlink(), Err(Errno::ENOENT), "already gone");
    m.write_at(3, b"!").unwrap();
    assert_eq!(read(&m, 0, 4), b"old!", "the mapping keeps working");
    assert_eq!(old.len(), Ok(64), "and the descriptor");

    // A new object under the same name is another object...
    let new = SharedMemory::create(&name, 128).unwrap();
    assert_zero(&read(&new.map().unwrap(), 0, 4), "new object");
    // ...which dropping the old handle must not unlink.
    drop(m);
    drop(old);
    assert!(
        path.exists(),
        "the successor's name survives the old handle's drop"
    );
    drop(new);
    assert!(!path.exists());
}

#[test]
fn invalid_names_are_einval_or_enametoolong() {
    let long = "x".repeat(256);
    let cases: [(&str, Errno); 8] = [
        ("", Errno::EINVAL),
        ("/", Errno::EINVAL),
        ("///", Errno::EINVAL),
        ("a/b", Errno::EINVAL),
        ("/a/", Errno::EINVAL),
        (&long, Errno::ENAMETOOLONG),
        ("/a/b/c", Errno::EINVAL),
        ("..", Errno::EEXIST), // /dev/shm/.. exists (a directory), as with glibc
    ];
    for (name, expected) in cases {
        let c = CString::new(name).unwrap();
        assert_eq!(
            err(SharedMemory::create(&c, 1)),
            expected,
            "create {name:?}"
        );
    }
    for (name, expected) in [
        ("", Errno::EINVAL),
        ("a/b", Errno::EINVAL),
        (long.as_str(), Errno::ENAMETOOLONG),
        (".", Errno::EINVAL), // a directory: EISDIR for read-write, reported as EINVAL
    ] {
        let c = CString::new(name).unwrap();
        assert_eq!(
            err(SharedMemory::open(&c, Access::ReadWrite)),
            expected,
            "open {name:?}"
        );
    }
    // Exactly NAME_MAX bytes is fine, with any number of leading slashes.
    let prefix = format!("mman-{}-", std::process::id());
    let max = format!("{prefix}{}", "n".repeat(255 - prefix.len()));
    let c = CString::new(format!("///{max}")).unwrap();
    let _cleanup = Cleanup(c.clone());
    let shm = SharedMemory::create(&c, 1).unwrap();
    assert_eq!(shm.name().to_bytes(), max.as_bytes());
    assert!(shm_path(shm.name()).exists());
}

#[test]
fn a_create_that_fails_at_ftruncate_leaves_no_object() {
    let name = unique_cname("");
    let _cleanup = Cleanup(name.clone());
    // Lengths above i64::MAX are negative as off_t: ftruncate says EINVAL after the open.
    for len in [u64::MAX, i64::MAX as u64 + 1] {
        assert_eq!(
            err(SharedMemory::create(&name, len)),
            Errno::EINVAL,
            "len {len:#x}"
        );
        assert!(
            !shm_path(&name).exists(),
            "no /dev/shm entry left for len {len:#x}"
        );
    }
    // The name is free again.
    let shm = SharedMemory::create(&name, 1).unwrap();
    assert_eq!(shm.len(), Ok(1));
}

#[test]
fn a_forked_child_opens_by_name_and_writes_for_the_parent() {
    let p = page();
    let name = unique_cname("");
    let _cleanup = Cleanup(name.clone());
    let shm = SharedMemory::create(&name, p as u64).unwrap();
    let m = shm.map().unwrap();
    let child_name = name.clone();
    let end = in_child_checked(move || {
        let shm = SharedMemory::open(&child_name, Access::ReadWrite).unwrap();
        let mut m = shm.map().unwrap();
        m.write_at(100, b"from the child").unwrap();
        std::mem::forget(shm);
    });
    assert_eq!(end, ChildEnd::Exited(0));
    assert_eq!(read(&m, 100, 14), b"from the child");
    assert!(
        shm_path(&name).exists(),
        "the child's opened handle did not unlink"
    );
}

#[test]
fn glibc_shm_open_and_ours_find_each_others_objects() {
    let p = page();
    // Ours, found by glibc.
    let name = unique_cname("");
    let _cleanup = Cleanup(name.clone());
    let shm = SharedMemory::create(&name, p as u64).unwrap();
    let mut m = shm.map().unwrap();
    m.write_at(0, b"mman wrote").unwrap();
    let slashed = CString::new(format!("/{}", name.to_str().unwrap())).unwrap();
    let raw = unsafe { libc::shm_open(slashed.as_ptr(), libc::O_RDWR, 0) };
    assert!(raw >= 0, "glibc shm_open: {}", last_errno());
    let glibc_file = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(raw) };
    assert_eq!(pread(&glibc_file, 0, 10), b"mman wrote");
    glibc_file.write_all_at(b"glibc", 20).unwrap();
    assert_eq!(read(&m, 20, 5), b"glibc");

    // glibc's, found by us.
    let theirs = unique_cname("-glibc");
    let slashed = CString::new(format!("/{}", theirs.to_str().unwrap())).unwrap();
    let _cleanup_theirs = Cleanup(theirs.clone());
    let raw = unsafe {
        libc::shm_open(
            slashed.as_ptr(),
            libc::O_RDWR | libc::O_CREAT | libc::O_EXCL,
            0o600,
        )
    };
    assert!(raw >= 0, "glibc shm_open O_CREAT: {}", last_errno());
    let file = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(raw) };
    file.set_len(p as u64).unwrap();
    file.write_all_at(b"made by glibc", 0).unwrap();
    let ours = SharedMemory::open(&theirs, Access::ReadOnly).unwrap();
    assert_eq!(ours.len(), Ok(p as u64));
    assert_eq!(read(&ours.map().unwrap(), 0, 13), b"made by glibc");
    assert_eq!(err(SharedMemory::create(&theirs, 1)), Errno::EEXIST);
    drop(ours);
    assert_eq!(
        unsafe { libc::shm_unlink(slashed.as_ptr()) },
        0,
        "glibc unlinks it"
    );
    // And a name glibc unlinks is gone for us too.
    assert_eq!(
        err(SharedMemory::open(&theirs, Access::ReadOnly)),
        Errno::ENOENT
    );
}

// ---------------------------------------------------------------------------------------
// Memfd

#[test]
fn memfd_is_sealable_cloexec_and_maps_read_write() {
    let p = page();
    let name = unique_cname("");
    let fd = Memfd::new(&name).unwrap();
    assert_eq!(
        fd_link(fd.as_fd().as_raw_fd()),
        format!("/memfd:{} (deleted)", name.to_str().unwrap())
    );
    assert!(cloexec(fd.as_fd()));
    assert_eq!(fd.len(), Ok(0));
    assert_eq!(fd.is_empty(), Ok(true));
    assert_eq!(fd.seals(), Ok(Seals::empty()), "sealable, nothing sealed");
    fd.set_len(2 * p as u64 + 5).unwrap();
    assert_eq!((fd.len(), fd.is_empty()), (Ok(2 * p as u64 + 5), Ok(false)));

    let mut m = fd.map(Access::ReadWrite).unwrap();
    assert_eq!(m.len(), 2 * p + 5);
    assert!(m.is_volatile());
    assert_zero(&read(&m, 0, 2 * p + 5), "new memfd");
    let e = entry(&m);
    assert_eq!(e.perms, "rw-s");
    assert_eq!(
        e.path,
        format!("/memfd:{} (deleted)", name.to_str().unwrap())
    );
    m.write_at(2 * p, b"tail!").unwrap();
    assert_eq!(read(&m, 2 * p, 5), b"tail!");
    assert_eq!(pread(&file_of(&fd), 2 * p, 5), b"tail!", "in the file");
    let other = fd.map(Access::ReadOnly).unwrap();
    assert_eq!(read(&other, 2 * p, 5), b"tail!", "in a second mapping");
    assert_eq!(entry(&other).perms, "r--s");
}

#[test]
fn memfd_seals_round_trip_and_are_enforced() {
    let p = page() as u64;
    let fd = Memfd::new(c"seals").unwrap();
    fd.set_len(2 * p).unwrap();
    fd.add_seals(Seals::GROW).unwrap();
    assert_eq!(fd.seals(), Ok(Seals::GROW));
    assert_eq!(fd.set_len(3 * p), Err(Errno::EPERM), "grow sealed");
    assert_eq!(fd.len(), Ok(2 * p));
    fd.set_len(p).unwrap();
    fd.add_seals(Seals::SHRINK).unwrap();
    assert_eq!(fd.seals(), Ok(Seals::GROW | Seals::SHRINK));
    assert_eq!(fd.set_len(p - 1), Err(Errno::EPERM), "shrink sealed");
    assert_eq!(fd.set_len(p), Ok(()), "the same size is neither");
    fd.add_seals(Seals::GROW).unwrap(); // again: no change
    assert_eq!(fd.seals(), Ok(Seals::GROW | Seals::SHRINK));
    fd.add_seals(Seals::SEAL).unwrap();
    assert_eq!(
        fd.add_seals(Seals::WRITE),
        Err(Errno::EPERM),
        "sealed against sealing"
    );
    assert_eq!(fd.freeze(), Err(Errno::EPERM));
    assert_eq!(fd.seals(), Ok(Seals::GROW | Seals::SHRINK | Seals::SEAL));
    let mut m = fd.map(Access::ReadWrite).unwrap();
    m.write_at(0, b"writes are not sealed").unwrap();
}

#[test]
fn memfd_created_without_sealing_refuses_seals() {
    let fd = Memfd::with_flags(c"unsealable", MemfdFlags::CLOEXEC).unwrap();
    assert_eq!(fd.seals(), Ok(Seals::SEAL));
    assert_eq!(fd.add_seals(Seals::GROW), Err(Errno::EPERM));
    assert_eq!(fd.freeze(), Err(Errno::EPERM));
    let fd = Memfd::with_flags(c"inherited", MemfdFlags::ALLOW_SEALING).unwrap();
    assert!(!cloexec(fd.as_fd()), "with_flags takes exactly the flags");
}

#[test]
fn memfd_freeze_waits_for_writable_mappings_then_forbids_writing() {
    let p = page();
    let fd = Memfd::new(c"freeze").unwrap();
    fd.set_len(p as u64).unwrap();
    let mut m = fd.map(Access::ReadWrite).unwrap();
    m.write_at(0, b"frozen bytes").unwrap();
    assert_eq!(
        fd.freeze(),
        Err(Errno::EBUSY),
        "a writable shared mapping exists"
    );
    assert_eq!(
        fd.seals(),
        Ok(Seals::empty()),
        "nothing sealed by the failure"
    );
    drop(m);
    fd.freeze().unwrap();
    let frozen = Seals::SHRINK | Seals::GROW | Seals::WRITE;
    assert!(fd.seals().unwrap().contains(frozen), "{:?}", fd.seals());
    assert_eq!(err(fd.map(Access::ReadWrite)), Errno::EPERM);
    assert_eq!(fd.set_len(2 * p as u64), Err(Errno::EPERM));
    assert_eq!(fd.set_len(0), Err(Errno::EPERM));
    let file = file_of(&fd);
    assert_eq!(
        file.write_at(b"x", 0).map_err(|e| e.raw_os_error()).err(),
        Some(Some(libc::EPERM)),
        "write(2) refused too"
    );
    // A private mapping may still be written: copy-on-write never reaches the file.
    let mut private = MapOptions::new().map_file(&fd, 0).unwrap();
    private.write_at(0, b"private").unwrap();
    assert_eq!(pread(&file, 0, 12), b"frozen bytes");

    match fd.map(Access::ReadOnly) {
        Ok(mut ro) => {
            assert_eq!(read(&ro, 0, 12), b"frozen bytes");
            assert_eq!(entry(&ro).perms, "r--s");
            assert_eq!(ro.write_at(0, b"x"), Err(Errno::EACCES));
            // The kernel cleared VM_MAYWRITE: the mapping cannot be made writable.
            assert_eq!(ro.protect(.., RW), Err(Errno::EACCES));
        }
        Err(e) => {
            // Before 6.7 any shared mapping of a write-sealed memfd counted as writable.
            assert_eq!(e, Errno::EPERM);
            assert!(
                !kernel_at_least(6, 7),
                "6.7+ maps a write-sealed memfd read-only"
            );
            skip!(
                "read-only shared mapping of a write-sealed memfd is EPERM before Linux 6.7 \
                 (kernel is {})",
                kernel_release()
            );
        }
    }
}

#[test]
fn memfd_future_write_seal_keeps_existing_mappings_writable() {
    let p = page();
    let fd = Memfd::new(c"future-write").unwrap();
    fd.set_len(p as u64).unwrap();
    let mut m = fd.map(Access::ReadWrite).unwrap();
    fd.add_seals(Seals::FUTURE_WRITE).unwrap();
    m.write_at(0, b"still").unwrap();
    assert_eq!(
        err(fd.map(Access::ReadWrite)),
        Errno::EPERM,
        "no new writable mapping"
    );
    let ro = fd.map(Access::ReadOnly).unwrap();
    assert_eq!(read(&ro, 0, 5), b"still");
}

#[test]
fn memfd_new_noexec_is_sealed_against_exec_on_6_3() {
    let fd = match Memfd::new_noexec(c"noexec") {
        Ok(fd) => fd,
        Err(e) => {
            assert_eq!(e, Errno::EINVAL, "unknown MFD_NOEXEC_SEAL");
            assert!(!kernel_at_least(6, 3), "6.3+ has MFD_NOEXEC_SEAL");
            skip!(
                "MFD_NOEXEC_SEAL is EINVAL: needs Linux 6.3, kernel is {}",
                kernel_release()
            );
        }
    };
    let seals = fd.seals().unwrap();
    assert!(seals.contains(Seals::EXEC), "{seals:?}");
    assert!(!seals.contains(Seals::SEAL), "still sealable");
    let mode = file_of(&fd).metadata().unwrap().permissions().mode();
    assert_eq!(mode & 0o111, 0, "no execute bits: {mode:o}");
    assert!(cloexec(fd.as_fd()));
    let with_exec = Memfd::new(c"exec").unwrap();
    assert!(!with_exec.seals().unwrap().contains(Seals::EXEC), "control");
}

#[test]
fn memfd_into_fd_and_conversions_keep_the_descriptor() {
    let p = page();
    let fd = Memfd::new(c"into-fd").unwrap();
    fd.set_len(p as u64).unwrap();
    let mut m = fd.map(Access::ReadWrite).unwrap();
    m.write_at(0, b"same file").unwrap();
    let raw = fd.as_fd().as_raw_fd();
    let owned: OwnedFd = fd.into_fd();
    assert_eq!(owned.as_raw_fd(), raw);
    assert!(fd_link(raw).starts_with("/memfd:into-fd"));
    let again = MapOptions::new().shared().map_file(&owned, 0).unwrap();
    assert_eq!(read(&again, 0, 9), b"same file");

    let fd = Memfd::new(c"from").unwrap();
    let raw = fd.as_fd().as_raw_fd();
    let owned = OwnedFd::from(fd);
    assert_eq!(owned.as_raw_fd(), raw);
    let fd = Memfd::new(c"raw").unwrap();
    let raw = fd.as_fd().as_raw_fd();
    assert_eq!(fd.into_raw_fd(), raw);
    assert!(fd_link(raw).starts_with("/memfd:raw"), "not closed");
    drop(unsafe { OwnedFd::from_raw_fd(raw) });
}

#[test]
fn memfd_names_longer_than_249_bytes_are_einval() {
    let ok = CString::new("m".repeat(249)).unwrap();
    assert!(Memfd::new(&ok).is_ok());
    let long = CString::new("m".repeat(250)).unwrap();
    assert_eq!(err(Memfd::new(&long)), Errno::EINVAL);
}

// ---------------------------------------------------------------------------------------
// SysvSegment

/// A key no other process or test uses.
fn unique_key() -> i32 {
    use std::sync::atomic::{AtomicI32, Ordering};
    static N: AtomicI32 = AtomicI32::new(0);
    let pid = std::process::id() as i32 & 0x7ffff;
    0x4000_0000 | (pid << 8) | (N.fetch_add(1, Ordering::Relaxed) & 0xff)
}

/// One row of `/proc/sysvipc/shm`.
#[derive(Debug)]
struct SegmentInfo {
    key: i64,
    size: usize,
    perms: u32,
    nattch: usize,
}

fn segment(id: i32) -> Option<SegmentInfo> {
    let text = std::fs::read_to_string("/proc/sysvipc/shm").expect("/proc/sysvipc/shm");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next()?.split_whitespace().collect();
    let col = |name: &str| header.iter().position(|&h| h == name).unwrap();
    let (key, shmid, perms, size, nattch) = (
        col("key"),
        col("shmid"),
        col("perms"),
        col("size"),
        col("nattch"),
    );
    lines.find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f[shmid].parse::<i32>().ok()? == id).then(|| SegmentInfo {
            key: f[key].parse().unwrap(),
            size: f[size].parse().unwrap(),
            perms: u32::from_str_radix(f[perms], 8).unwrap(),
            nattch: f[nattch].parse().unwrap(),
        })
    })
}

/// Checks that the attachment `m` of segment `id` really is mapped (a `/SYSV` entry of
/// `/proc/self/maps` at its address) before any test touches its memory: an attachment
/// that is not mapped would crash the whole test binary on first access.
#[track_caller]
fn assert_attached(m: &Mapping, id: i32) {
    let e = maps_entry(m.as_ptr().cast());
    assert!(
        e.as_ref().is_some_and(|e| e.path.starts_with("/SYSV")),
        "attachment of segment {id} at {:p} is not mapped: /proc/self/maps has {e:?}; \
         segment {:?}",
        m.as_ptr(),
        segment(id)
    );
}

#[test]
fn sysv_create_private_has_the_asked_size_and_two_attachments_share_bytes() {
    // In a child of its own, as the counts of attachments below would count a sibling
    // test's forked child's copies too (a fork duplicates every attachment; seen once in
    // CI as 3 where 2 were made).
    let end = in_child_checked(|| {
        let seg = SysvSegment::create_private(10_000).unwrap();
        assert!(seg.id() >= 0);
        assert_eq!(seg.size(), Ok(10_000), "not rounded to pages");
        let info = segment(seg.id()).expect("listed in /proc/sysvipc/shm");
        assert_eq!(
            (info.key, info.size, info.perms & 0o777),
            (0, 10_000, 0o600)
        );
        assert_eq!(info.nattch, 0);

        let mut rw = seg.attach(Access::ReadWrite).unwrap();
        assert_attached(&rw, seg.id());
        let ro = seg.attach(Access::ReadOnly).unwrap();
        assert_attached(&ro, seg.id());
        assert_eq!(segment(seg.id()).unwrap().nattch, 2, "two attachments");
        assert_ne!(rw.as_ptr(), ro.as_ptr());
        assert_eq!((rw.len(), ro.len()), (10_000, 10_000));
        assert!(rw.is_volatile() && ro.is_volatile());
        assert_eq!(err(rw.as_slice()), Errno::EPERM);
        assert_eq!(
            (entry(&rw).perms.as_str(), entry(&ro).perms.as_str()),
            ("rw-s", "r--s")
        );
        assert_zero(&read(&ro, 0, 10_000), "new segment");
        rw.write_at(9_990, b"0123456789").unwrap();
        assert_eq!(
            read(&ro, 9_990, 10),
            b"0123456789",
            "seen through the other attachment"
        );
        assert_eq!(
            rw.read_at(10_000, &mut [0u8; 1]),
            Err(Errno::EINVAL),
            "segment size"
        );
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

#[test]
fn sysv_read_only_attachment_refuses_writes() {
    let seg = SysvSegment::create_private(page()).unwrap();
    let mut ro = seg.attach(Access::ReadOnly).unwrap();
    assert_attached(&ro, seg.id());
    assert_eq!(ro.write_at(0, b"x"), Err(Errno::EACCES));
    // SHM_RDONLY leaves no VM_MAYWRITE: the kernel refuses to add write access.
    assert_eq!(ro.protect(.., RW), Err(Errno::EACCES));
    assert_eq!(entry(&ro).perms, "r--s");
    assert_zero(&read(&ro, 0, 16), "readable");
}

#[test]
fn sysv_dropping_an_attachment_detaches_it() {
    // In a child of its own: a sibling test's fork would duplicate the attachment.
    let end = in_child_checked(|| {
        let seg = SysvSegment::create_private(page()).unwrap();
        let m = seg.attach(Access::ReadWrite).unwrap();
        assert_attached(&m, seg.id());
        assert_eq!(segment(seg.id()).unwrap().nattch, 1);
        let at = m.as_ptr();
        drop(m);
        assert_eq!(segment(seg.id()).unwrap().nattch, 0, "detached");
        let e = maps_entry(at.cast());
        assert!(
            !e.as_ref().is_some_and(|e| e.path.starts_with("/SYSV")),
            "no segment left at {at:p}: {e:?}"
        );
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

#[test]
fn sysv_remove_marks_the_segment_and_it_goes_with_the_last_detach() {
    let key = unique_key();
    let seg = SysvSegment::create(key, page(), Mode::from_bits_truncate(0o600)).unwrap();
    let id = seg.id();
    let mut m = seg.attach(Access::ReadWrite).unwrap();
    assert_attached(&m, id);
    seg.remove().unwrap();
    let info = segment(id).expect("still there while attached");
    assert_eq!(info.key, 0, "the key is released at once");
    assert_ne!(info.perms & 0o1000, 0, "SHM_DEST is set");
    assert_eq!(
        err(SysvSegment::open(key)),
        Errno::ENOENT,
        "the key finds nothing"
    );
    m.write_at(0, b"still usable").unwrap();
    assert_eq!(read(&m, 0, 12), b"still usable");
    drop(m);
    assert!(segment(id).is_none(), "destroyed at the last detach");
}

#[test]
fn sysv_keyed_segments_are_exclusive_and_opened_by_key() {
    let key = unique_key();
    let mode = Mode::from_bits_truncate(0o640);
    let seg = SysvSegment::create(key, 8192, mode).unwrap();
    assert_eq!(err(SysvSegment::create(key, 8192, mode)), Errno::EEXIST);
    assert_eq!(err(SysvSegment::create(key, 4096, mode)), Errno::EEXIST);
    let info = segment(seg.id()).unwrap();
    assert_eq!(
        (info.key, info.size, info.perms & 0o777),
        (i64::from(key), 8192, 0o640)
    );

    let opened = SysvSegment::open(key).unwrap();
    assert_eq!(opened.id(), seg.id());
    assert_eq!(opened.size(), Ok(8192));
    drop(opened);
    assert!(
        segment(seg.id()).is_some(),
        "dropping an opened segment keeps it"
    );
    let kept = SysvSegment::from_id(seg.id());
    drop(kept);
    assert!(segment(seg.id()).is_some(), "nor does from_id");
    let id = seg.id();
    drop(seg);
    assert!(segment(id).is_none(), "the creator removes it on drop");
    assert_eq!(err(SysvSegment::open(key)), Errno::ENOENT);

    let seg = SysvSegment::create(key, 64, mode)
        .unwrap()
        .remove_on_drop(false);
    let id = seg.id();
    drop(seg);
    assert!(segment(id).is_some(), "remove_on_drop(false)");
    SysvSegment::from_id(id).remove().unwrap();
    assert!(segment(id).is_none());
}

#[test]
fn sysv_errors_for_zero_size_and_missing_keys() {
    assert_eq!(
        err(SysvSegment::create_private(0)),
        Errno::EINVAL,
        "below SHMMIN"
    );
    assert_eq!(err(SysvSegment::open(unique_key())), Errno::ENOENT);
    let gone = SysvSegment::create_private(64).unwrap();
    let id = gone.id();
    drop(gone);
    let stale = SysvSegment::from_id(id);
    assert_eq!(stale.size(), Err(Errno::EINVAL), "removed id");
    assert_eq!(err(stale.attach(Access::ReadWrite)), Errno::EINVAL);
}

#[test]
fn sysv_a_forked_child_attaches_by_id_and_writes() {
    let seg = SysvSegment::create_private(page()).unwrap();
    let m = seg.attach(Access::ReadOnly).unwrap();
    assert_attached(&m, seg.id());
    let id = seg.id();
    let end = in_child_checked(move || {
        let seg = SysvSegment::from_id(id);
        let mut m = seg.attach(Access::ReadWrite).unwrap();
        assert_attached(&m, id);
        m.write_at(7, b"child").unwrap();
    });
    assert_eq!(end, ChildEnd::Exited(0));
    assert_eq!(read(&m, 7, 5), b"child");
}

/// BUG: `remap` grows a System V attachment past its segment (the kernel allows it), and
/// `read_at` of the new bytes, safe code, raises SIGBUS: the segment has a fixed size.
/// A segment's size is fixed: growing an attachment would add pages past it (SIGBUS).
#[test]
fn remap_refuses_to_grow_a_sysv_attachment() {
    let p = page();
    let seg = SysvSegment::create_private(p).unwrap();
    let id = seg.id();
    let end = in_child_checked(move || {
        let mut m = SysvSegment::from_id(id).attach(Access::ReadWrite).unwrap();
        assert_attached(&m, id);
        m.write_at(0, b"kept").unwrap();
        assert_eq!(m.remap(3 * p, true), Err(Errno::EINVAL));
        assert_eq!(m.len(), p, "unchanged");
        assert_eq!(read(&m, 0, 4), b"kept");
    });
    assert_eq!(
        end,
        ChildEnd::Exited(0),
        "read_at of a grown System V attachment must not kill the process \
         (Signaled(7) is SIGBUS)"
    );
}

#[test]
fn sysv_attachment_moved_or_shrunk_by_remap_still_detaches_on_drop() {
    if is_qemu_user() {
        skip!(
            "qemu-user loses track of a System V attachment that mremap changed: its shmdt \
             then fails with EINVAL and the segment stays attached"
        );
    }
    // In a child of its own: a sibling test that forks while the attachment exists would
    // duplicate it and raise nattch.
    let end = in_child_checked(|| {
        let p = page();
        let seg = SysvSegment::create_private(2 * p).unwrap();
        let mut m = seg.attach(Access::ReadWrite).unwrap();
        assert_attached(&m, seg.id());
        m.write_at(0, b"kept").unwrap();
        m.remap(10, false).unwrap();
        assert_eq!(m.len(), 10);
        assert_eq!(read(&m, 0, 4), b"kept");
        assert_eq!(segment(seg.id()).unwrap().nattch, 1);
        drop(m);
        assert_eq!(
            segment(seg.id()).unwrap().nattch,
            0,
            "shrunk attachment detached"
        );
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

/// Review round 5 hole: a System V segment of huge pages, made by another program with
/// `SHM_HUGETLB | SHM_NORESERVE` (here through libc, as that program would), attached with
/// `from_id`: atomic views were lent over it, and the first load, with no one doing anything
/// meanwhile, raised `SIGBUS` where the pool has no page (`Signaled(7)`; program
/// hole_14_atomics_over_a_huge_page_sysv_segment.rs). Nothing in `shmid_ds` tells such a
/// segment apart; `MADV_COLD` does (it refuses huge pages), and then every page is faulted
/// in before the attachment is handed out, or it is refused (`ENOMEM`).
#[test]
fn huge_page_segments_are_held_before_views_are_lent() {
    use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}: MADV_COLD / MADV_POPULATE_READ");
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").expect("/proc/meminfo");
    let kb = |field: &str| -> Option<usize> {
        let line = meminfo.lines().find_map(|l| l.strip_prefix(field))?;
        line.trim_start_matches(':')
            .trim()
            .trim_end_matches(" kB")
            .parse()
            .ok()
    };
    let Some(huge) = kb("Hugepagesize").map(|kb| kb * 1024) else {
        skip!("no huge pages here: /proc/meminfo has no Hugepagesize");
    };
    let flags = libc::IPC_CREAT | 0o600 | libc::SHM_HUGETLB | libc::SHM_NORESERVE;
    let id = unsafe { libc::shmget(libc::IPC_PRIVATE, huge, flags) };
    if id < 0 {
        let e = last_errno();
        assert!(
            [Errno::EPERM, Errno::ENOENT, Errno::ENOSYS].contains(&e),
            "shmget(SHM_HUGETLB): {e:?}"
        );
        skip!("shmget(SHM_HUGETLB) is {e:?}: huge-page segments are not this user's or kernel's");
    }
    let _segment = Segment(id);
    let spare = kb("HugePages_Free").unwrap_or(0) > kb("HugePages_Rsvd").unwrap_or(0);
    let end = in_child_checked(|| {
        let attached = SysvSegment::from_id(id).attach(Access::ReadWrite);
        if !spare {
            if let Ok(mut m) = attached {
                let word = m.as_atomics::<AtomicU32>().unwrap()[0].load(Relaxed);
                panic!("a view lent over a page the pool lacks (loaded {word})");
            }
            assert_eq!(attached.map(|_| ()), Err(Errno::ENOMEM));
            return;
        }
        // A page to spare: faulted in at attach, and the view sees it.
        let mut m = attached.expect("attach with a page to spare");
        if smaps_is_real() {
            let held = smaps_field(m.as_ptr().cast(), "Private_Hugetlb");
            assert_eq!(held, Some(format!("{} kB", huge / 1024)), "held at attach");
        }
        assert_eq!(m.as_atomics::<AtomicU32>().unwrap()[0].load(Relaxed), 0);
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

// ---------------------------------------------------------------------------------------
// Objects the crate sizes hold their memory (review round 5, hole 16)

/// Bytes the filesystem has given `fd`'s file (`st_blocks`, in 512-byte units).
fn allocated(fd: impl AsFd) -> u64 {
    use std::os::unix::fs::MetadataExt;
    file_of(fd).metadata().expect("fstat").blocks() * 512
}

/// The pages of a memfd or a `/dev/shm` object are charged to strict overcommit's commit
/// limit one at a time, at their first touch, and a touch the limit refuses raises `SIGBUS`
/// (mm/shmem.c reports it as `ENOSPC` "so that a failure on a sparse tmpfs mapping will give
/// SIGBUS not OOM"), as does one a full `/dev/shm` refuses: so the objects the crate sizes
/// are allocated when sized, where a refusal is an error (0 bytes allocated before). A
/// huge-page memfd's pages are its mappings' reservations' instead: sizing one takes
/// nothing from the pool.
#[test]
fn objects_the_crate_sizes_have_their_pages_allocated() {
    let p = page() as u64;
    let name = unique_cname("");
    let _cleanup = Cleanup(name.clone());
    let shm = SharedMemory::create(&name, 2 * p).unwrap();
    assert!(
        allocated(&shm) >= 2 * p,
        "{} bytes at create",
        allocated(&shm)
    );
    shm.set_len(5 * p).unwrap();
    assert!(allocated(&shm) >= 5 * p, "{} bytes grown", allocated(&shm));
    let reader = SharedMemory::open(&name, Access::ReadOnly).unwrap();
    assert_eq!(
        reader.set_len(6 * p),
        Err(Errno::EINVAL),
        "read-only: as before"
    );
    assert_eq!(shm.len(), Ok(5 * p));
    let memfd = Memfd::new(c"allocated").unwrap();
    assert_eq!(allocated(&memfd), 0);
    memfd.set_len(3 * p + 1).unwrap();
    assert_eq!(memfd.len(), Ok(3 * p + 1));
    assert!(allocated(&memfd) >= 4 * p, "{} bytes", allocated(&memfd));
    memfd.set_len(p).unwrap();
    assert_eq!(memfd.len(), Ok(p), "shrinks as before");
    // More than RAM and swap: refused at once, as mmap refuses such a length, not an
    // allocation run into the OOM killer.
    assert_eq!(memfd.set_len(1 << 50), Err(Errno::ENOMEM), "a pebibyte");
    assert_eq!(memfd.len(), Ok(p));
    assert_eq!(
        memfd.set_len(u64::MAX),
        Err(Errno::EINVAL),
        "negative as off_t"
    );
    assert_eq!(memfd.len(), Ok(p));
    let huge = MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING | MemfdFlags::HUGETLB;
    if let Ok(memfd) = Memfd::with_flags(c"huge", huge) {
        // MFD_HUGETLB with no size bits takes the default size, `Hugepagesize`: not the
        // smallest the machine has (arm64's 64 KiB contiguous pages, which the aarch64
        // system lanes list first, are EINVAL as that file's length).
        let size = meminfo_kb("Hugepagesize")
            .expect("a hugetlbfs memfd was made, so /proc/meminfo has Hugepagesize")
            as u64
            * 1024;
        assert_eq!(memfd.set_len(size), Ok(()), "nothing taken from the pool");
        assert_eq!(allocated(&memfd), 0);
    }
}

/// Review round 5, hole 16: a `SharedMemory` on a `/dev/shm` mounted with `size=` (as in many
/// containers) was sized with `ftruncate` alone; once other files filled the filesystem, the
/// first store through an atomic view of it raised `SIGBUS` (program
/// hole_16_views_on_a_full_filesystem.rs; here `Signaled(7)` in the child), and so did one
/// in the part `Mapping::remap_file` grew the file by (review round 5b: hole 17). Now
/// `create`, `set_len` and `remap_file` allocate the blocks, or answer `ENOSPC` and change
/// nothing. Run in a
/// child with a mount namespace of its own and a 16-page tmpfs over `/dev/shm` there (the
/// namespace, and so the mount, go with the child).
#[test]
fn objects_the_crate_sizes_hold_their_blocks_on_a_full_dev_shm() {
    use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
    let p = page();
    let end = in_child_checked(|| {
        if let Err(code) = own_small_dev_shm(16 * p) {
            // A skip, told to the parent by the exit code.
            unsafe { libc::_exit(code) };
        }
        let name = unique_cname("-held");
        let shm = SharedMemory::create(&name, 8 * p as u64).expect("8 of 16 pages");
        // Grown by the mapping (which sizes the file it is given) to 10 pages.
        let mut m = shm.map().unwrap();
        m.remap_file(&shm, 10 * p, true).unwrap();
        // A view taken at once (its check finds the last page backed: it faults that one in).
        m.as_atomics::<AtomicU32>()
            .expect("a view of the grown mapping");
        // Someone else fills the filesystem.
        let filler = std::fs::File::create("/dev/shm/filler").expect("filler");
        let chunk = vec![1u8; p];
        let full = loop {
            if let Err(e) = filler.write_all_at(&chunk, filler.metadata().unwrap().len()) {
                break e;
            }
        };
        assert_eq!(full.raw_os_error(), Some(libc::ENOSPC), "{full}");
        // Every page of the object is still there to touch.
        let words = m.as_atomics::<AtomicU32>().unwrap();
        assert_eq!(words.len(), 10 * p / 4);
        for i in (0..words.len()).step_by(p / 4) {
            words[i].store(7, Relaxed);
            assert_eq!(words[i].load(Relaxed), 7);
        }
        drop(m);
        // Neither a new object nor a growth takes what the filesystem lacks.
        std::fs::remove_file("/dev/shm/filler").unwrap();
        let big = unique_cname("-big");
        assert_eq!(
            err(SharedMemory::create(&big, 64 * p as u64)),
            Errno::ENOSPC
        );
        assert!(!shm_path(&big).exists(), "nothing left behind");
        assert_eq!(shm.set_len(64 * p as u64), Err(Errno::ENOSPC));
        assert_eq!(shm.len(), Ok(10 * p as u64), "the size unchanged");
        let mut m = shm.map().unwrap();
        assert_eq!(m.remap_file(&shm, 64 * p, true), Err(Errno::ENOSPC));
        assert_eq!((m.len(), shm.len()), (10 * p, Ok(10 * p as u64)));
        drop(m);
        assert_eq!(shm.set_len(4 * p as u64), Ok(()));
    });
    match end {
        ChildEnd::Exited(code @ 60..=99) => {
            skip!(
                "no mount namespace with a tmpfs of its own here: unshare is {:?}",
                Errno::from_raw(code - 60)
            )
        }
        ChildEnd::Exited(code @ 160..=199) => {
            skip!(
                "no tmpfs over /dev/shm here: mount is {:?}",
                Errno::from_raw(code - 160)
            )
        }
        end => assert_eq!(
            end,
            ChildEnd::Exited(0),
            "Signaled(7) is SIGBUS: a view lent over blocks the filesystem did not have"
        ),
    }
}

/// In a forked child: a mount namespace of its own (as root, or through a user namespace
/// of its own), mounts private so that nothing propagates back, and a tmpfs of `size`
/// bytes over `/dev/shm`. `Err(exit code)` when one cannot be had for a reason this checks:
/// 60 + the errno of `unshare` (not allowed here: `EPERM`, `EINVAL`, `ENOSPC`, `EACCES`,
/// `ENOSYS`), 160 + that of `mount` (`ENOENT`: no `/dev/shm` directory; `EPERM`); anything
/// else panics.
fn own_small_dev_shm(size: usize) -> Result<(), i32> {
    let refused = [
        libc::EPERM,
        libc::EINVAL,
        libc::ENOSPC,
        libc::EACCES,
        libc::ENOSYS,
    ];
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    if unsafe { libc::unshare(libc::CLONE_NEWNS) } != 0 {
        let first = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        assert!(refused.contains(&first), "unshare(CLONE_NEWNS): {first}");
        // Not root: a user namespace of its own gives the capability there.
        if unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) } != 0 {
            let e = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
            assert!(
                refused.contains(&e),
                "unshare(CLONE_NEWUSER | CLONE_NEWNS): {e}"
            );
            return Err(60 + e);
        }
        std::fs::write("/proc/self/setgroups", "deny").expect("setgroups");
        std::fs::write("/proc/self/uid_map", format!("{uid} {uid} 1")).expect("uid_map");
        std::fs::write("/proc/self/gid_map", format!("{gid} {gid} 1")).expect("gid_map");
    }
    let private = libc::MS_REC | libc::MS_PRIVATE;
    let root = c"/";
    let none = std::ptr::null();
    let r = unsafe { libc::mount(none, root.as_ptr(), none, private, none.cast()) };
    assert_eq!(r, 0, "making mounts private: {}", last_errno());
    let data = CString::new(format!("size={size}")).unwrap();
    let r = unsafe {
        libc::mount(
            c"mman-test".as_ptr(),
            c"/dev/shm".as_ptr(),
            c"tmpfs".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV,
            data.as_ptr().cast(),
        )
    };
    if r != 0 {
        let e = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        assert!([libc::ENOENT, libc::EPERM].contains(&e), "mount tmpfs: {e}");
        return Err(160 + e);
    }
    Ok(())
}
