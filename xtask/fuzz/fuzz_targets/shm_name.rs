//! `mman::sys::shm_open` and `shm_unlink` with names straight from the input, against glibc
//! 2.38's rules written out below (this machine's glibc may be older, so it cannot be asked).
//!
//! The name is the input, so it may name anything in /dev/shm. Two things keep the host's
//! objects safe: objects are created with `O_CREAT | O_EXCL`, which fails on a name that
//! exists, and only an object this iteration created is ever unlinked. Where it can (as root),
//! the target also gives itself a private /dev/shm: a new mount namespace with its own tmpfs.
#![no_main]

use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use libfuzzer_sys::fuzz_target;
use mman::fd::AsRawFd;
use mman::{sys, Errno, Mode, OFlags};

/// Whether /dev/shm is this process's own tmpfs, where trying to unlink invalid names is
/// harmless even if mman got them wrong.
static PRIVATE_SHM: AtomicBool = AtomicBool::new(false);

fuzz_target!(
    init: {
        mman_fuzz::start("shm_name");
        let private = private_dev_shm();
        PRIVATE_SHM.store(private, Ordering::Relaxed);
        eprintln!(
            "mman-fuzz: shm_name: {}",
            if private {
                "private /dev/shm (tmpfs in a new mount namespace)"
            } else {
                "shared /dev/shm (no private mount): only names this run created are unlinked"
            }
        );
    },
    |data: &[u8]| {
        mman_fuzz::iteration(|| {
            // A C string cannot hold a NUL; such inputs say nothing about names.
            if let Ok(name) = CString::new(data) {
                check(&name);
            }
        });
    }
);

fn check(name: &CString) {
    let flags = OFlags::CREAT | OFlags::EXCL | OFlags::RDWR;
    let mode = Mode::RUSR | Mode::WUSR;
    let canonical = match glibc_name(name.as_bytes()) {
        Err(expected) => {
            assert_eq!(
                sys::shm_open(name, flags, mode).err(),
                Some(expected),
                "{name:?}"
            );
            if PRIVATE_SHM.load(Ordering::Relaxed) {
                // glibc answers ENOENT for every name it would not open.
                assert_eq!(sys::shm_unlink(name), Err(Errno::ENOENT), "{name:?}");
            }
            return;
        }
        Ok(canonical) => canonical,
    };
    let path = shm_path(canonical);
    let existed = path.symlink_metadata().is_ok();
    match sys::shm_open(name, flags, mode) {
        Ok(fd) => {
            assert!(!existed, "{name:?}: O_EXCL opened an existing {path:?}");
            check_created(name, &path, fd.as_raw_fd());
            drop(fd);
            assert_eq!(sys::shm_unlink(name), Ok(()), "{name:?}");
            assert!(
                path.symlink_metadata().is_err(),
                "{name:?}: {path:?} left behind"
            );
        }
        // The kernel's EISDIR for the directory names, which glibc reports as EINVAL.
        Err(Errno::EINVAL) if matches!(canonical, b"." | b"..") => {}
        Err(Errno::EEXIST) if existed => {}
        Err(e) => panic!("{name:?}: shm_open failed with {e:?} ({path:?} existed: {existed})"),
    }
}

/// glibc 2.38's `shm_open` name check: leading slashes go; then an empty name or one with
/// another slash is EINVAL, and one longer than NAME_MAX is ENAMETOOLONG.
fn glibc_name(mut name: &[u8]) -> Result<&[u8], Errno> {
    while let [b'/', rest @ ..] = name {
        name = rest;
    }
    if name.is_empty() || name.contains(&b'/') {
        Err(Errno::EINVAL)
    } else if name.len() > 255 {
        Err(Errno::ENAMETOOLONG)
    } else {
        Ok(name)
    }
}

fn shm_path(canonical: &[u8]) -> PathBuf {
    Path::new("/dev/shm").join(OsStr::from_bytes(canonical))
}

/// The new descriptor is close-on-exec and names the empty regular file at `path`, with no
/// more permission than 0600.
fn check_created(name: &CString, path: &Path, fd: i32) {
    // SAFETY: F_GETFD on a descriptor this iteration owns.
    let fd_flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    assert!(fd_flags & libc::FD_CLOEXEC != 0, "{name:?}: no FD_CLOEXEC");
    let file = path.symlink_metadata().expect("the created object");
    let opened = std::fs::metadata(format!("/proc/self/fd/{fd}")).expect("the descriptor");
    assert!(file.file_type().is_file(), "{name:?}: {path:?}");
    assert_eq!(
        (file.dev(), file.ino()),
        (opened.dev(), opened.ino()),
        "{name:?}: {path:?}"
    );
    assert_eq!(file.len(), 0, "{name:?}");
    assert_eq!(file.mode() & 0o7177, 0, "{name:?}: mode {:o}", file.mode());
}

/// Moves this process into a new mount namespace with a fresh tmpfs on /dev/shm. False if
/// that is not allowed (not root, or in a container without CAP_SYS_ADMIN).
fn private_dev_shm() -> bool {
    // SAFETY: plain system calls on constant C strings. unshare(CLONE_NEWNS) needs a
    // single-threaded process, which this is: libFuzzer calls init before starting threads.
    unsafe {
        libc::unshare(libc::CLONE_NEWNS) == 0
            // Mounts made from here on must not propagate back to the host's namespace.
            && libc::mount(
                c"none".as_ptr(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) == 0
            && libc::mount(
                c"tmpfs".as_ptr(),
                c"/dev/shm".as_ptr(),
                c"tmpfs".as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV,
                c"mode=1777,size=1m".as_ptr().cast(),
            ) == 0
    }
}
