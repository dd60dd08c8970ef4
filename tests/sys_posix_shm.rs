//! POSIX shared memory (`shm_open`/`shm_unlink`): files in `/dev/shm`, glibc's name rules,
//! and interoperation with glibc's own `shm_open`, checked side by side.
//!
//! Every test uses names made unique by pid and test name, and unlinks what it creates.

#[macro_use]
mod common;

use mman::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::ffi::{CStr, CString};
use std::path::PathBuf;

use common::*;
use mman::sys;
use mman::{Errno, Mode, OFlags};

const RDWR_CREAT: OFlags = OFlags::RDWR.union(OFlags::CREAT);

fn mode_600() -> Mode {
    Mode::RUSR | Mode::WUSR
}

fn dev_shm(name: &str) -> PathBuf {
    PathBuf::from("/dev/shm").join(name.trim_start_matches('/'))
}

/// Removes `/dev/shm/NAME` when dropped, whatever the test did.
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        // Gone already when the test unlinked it, as most do.
        match std::fs::remove_file(&self.0) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound && !std::thread::panicking() => {
                panic!("removing {:?}: {e}", self.0)
            }
            _ => {}
        }
    }
}

/// A unique object name (without a leading slash) and its clean-up guard.
fn fresh(tag: &str) -> (String, Cleanup) {
    let name = unique_name(tag);
    let guard = Cleanup(dev_shm(&name));
    (name, guard)
}

fn c(s: &str) -> CString {
    CString::new(s).expect("no NUL")
}

/// `(st_dev, st_ino)` of an open descriptor.
fn identity(fd: &OwnedFd) -> (u64, u64) {
    let mut st: libc::stat64 = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { libc::fstat64(fd.as_raw_fd(), &mut st) },
        0,
        "fstat: {}",
        last_errno()
    );
    (st.st_dev as u64, st.st_ino as u64)
}

fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .map(|v| u32::from_str_radix(v.trim(), 8).expect("octal umask"))
        .expect("Umask line (Linux 4.7)")
}

/// glibc's `shm_open`, as a `Result`.
fn glibc_shm_open(name: &CStr, oflag: OFlags, mode: Mode) -> mman::Result<OwnedFd> {
    let fd = unsafe {
        libc::shm_open(
            name.as_ptr(),
            oflag.bits() as i32,
            mode.bits() as libc::mode_t,
        )
    };
    if fd < 0 {
        Err(last_errno())
    } else {
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

/// glibc's `shm_unlink`, as a `Result`.
fn glibc_shm_unlink(name: &CStr) -> mman::Result<()> {
    if unsafe { libc::shm_unlink(name.as_ptr()) } < 0 {
        Err(last_errno())
    } else {
        Ok(())
    }
}

#[test]
fn shm_open_creates_the_object_in_dev_shm_with_the_mode() {
    let (name, _cleanup) = fresh("");
    let fd = sys::shm_open(
        &c(&name),
        RDWR_CREAT | OFlags::EXCL,
        Mode::from_bits_truncate(0o640),
    )
    .expect("shm_open(CREAT|EXCL)");
    let meta = std::fs::metadata(dev_shm(&name)).expect("/dev/shm/NAME exists");
    use std::os::unix::fs::MetadataExt;
    assert_eq!(meta.mode() & 0o777, 0o640 & !umask());
    assert_eq!((meta.dev(), meta.ino()), identity(&fd));
    assert_eq!(sys::shm_unlink(&c(&name)), Ok(()));
    assert!(!dev_shm(&name).exists(), "shm_unlink removed the name");
}

#[test]
fn shm_open_exclusive_on_an_existing_object_is_eexist() {
    let (name, _cleanup) = fresh("");
    let _first = sys::shm_open(&c(&name), RDWR_CREAT | OFlags::EXCL, mode_600()).expect("create");
    let again = sys::shm_open(&c(&name), RDWR_CREAT | OFlags::EXCL, mode_600());
    assert_eq!(err(again), Errno::EEXIST);
}

#[test]
fn shm_open_of_an_existing_object_gives_the_same_file_and_contents() {
    let (name, _cleanup) = fresh("");
    let a = sys::shm_open(&c(&name), RDWR_CREAT | OFlags::EXCL, mode_600()).expect("create");
    let b = sys::shm_open(&c(&name), OFlags::RDWR, Mode::empty()).expect("open existing");
    assert_eq!(identity(&a), identity(&b));
    sys::ftruncate(a.as_fd(), page() as u64).expect("ftruncate");
    let mut writer = Map::shared(&a, page(), 0);
    writer.bytes_mut()[..6].copy_from_slice(b"shared");
    let reader = Map::shared(&b, page(), 0);
    assert_eq!(&reader.bytes()[..6], b"shared");
    sys::shm_unlink(&c(&name)).expect("unlink");
}

#[test]
fn shm_open_of_a_missing_object_without_creat_is_enoent() {
    let (name, _cleanup) = fresh("");
    assert_eq!(
        err(sys::shm_open(&c(&name), OFlags::RDWR, Mode::empty())),
        Errno::ENOENT
    );
}

#[test]
fn leading_slashes_are_optional_and_name_the_same_object() {
    let (name, _cleanup) = fresh("");
    let plain = sys::shm_open(&c(&name), RDWR_CREAT | OFlags::EXCL, mode_600()).expect("create");
    for spelled in [
        format!("/{name}"),
        format!("//{name}"),
        format!("///{name}"),
    ] {
        let fd = sys::shm_open(&c(&spelled), OFlags::RDWR, Mode::empty())
            .unwrap_or_else(|e| panic!("open {spelled:?}: {e}"));
        assert_eq!(identity(&fd), identity(&plain), "{spelled:?}");
    }
    assert_eq!(sys::shm_unlink(&c(&format!("//{name}"))), Ok(()));
    assert!(!dev_shm(&name).exists());
}

#[test]
fn empty_names_are_einval() {
    for name in ["", "/", "///"] {
        let r = sys::shm_open(&c(name), RDWR_CREAT, mode_600());
        assert_eq!(err(r), Errno::EINVAL, "{name:?}");
    }
}

#[test]
fn names_with_an_inner_slash_are_einval() {
    let (name, _cleanup) = fresh("");
    for bad in [
        format!("{name}/b"),
        format!("/{name}/b"),
        format!("/{name}/"),
    ] {
        let r = sys::shm_open(&c(&bad), RDWR_CREAT, mode_600());
        assert_eq!(err(r), Errno::EINVAL, "{bad:?}");
    }
    assert!(!dev_shm(&name).exists());
}

#[test]
fn names_of_255_bytes_work_and_256_are_enametoolong() {
    let (base, _cleanup) = fresh("");
    let name = format!("{base}{}", "x".repeat(255 - base.len()));
    assert_eq!(name.len(), 255);
    let _cleanup_long = Cleanup(dev_shm(&name));
    let fd = sys::shm_open(
        &c(&format!("/{name}")),
        RDWR_CREAT | OFlags::EXCL,
        mode_600(),
    );
    assert!(fd.is_ok(), "255 bytes after the slash: {fd:?}");
    assert!(dev_shm(&name).exists());
    assert_eq!(sys::shm_unlink(&c(&name)), Ok(()));
    for len in [256, 259, 260, 300, 4096] {
        let long = format!("/{base}{}", "x".repeat(len - base.len()));
        let r = sys::shm_open(&c(&long), RDWR_CREAT, mode_600());
        assert_eq!(err(r), Errno::ENAMETOOLONG, "{len} bytes");
    }
    // The slash rule is checked first, as in glibc.
    let both = format!("{}/x", "y".repeat(300));
    assert_eq!(
        err(sys::shm_open(&c(&both), RDWR_CREAT, mode_600())),
        Errno::EINVAL
    );
}

#[test]
fn a_symlink_planted_in_dev_shm_is_not_followed() {
    let (name, _cleanup) = fresh("");
    let (target, _cleanup_target) = fresh("-target");
    std::os::unix::fs::symlink(dev_shm(&target), dev_shm(&name)).expect("plant symlink");
    // Also when the caller asks for O_NOFOLLOW itself (kills `oflag | NOFOLLOW` made `^`,
    // which then took it away).
    for flags in [OFlags::RDWR, RDWR_CREAT, RDWR_CREAT | OFlags::NOFOLLOW] {
        let r = sys::shm_open(&c(&name), flags, mode_600());
        assert_eq!(err(r), Errno::ELOOP, "{flags:?}");
    }
    assert!(
        !dev_shm(&target).exists(),
        "nothing was created through the link"
    );
}

#[test]
fn shm_open_always_sets_close_on_exec() {
    let (name, _cleanup) = fresh("");
    for flags in [RDWR_CREAT, OFlags::RDWR, OFlags::RDONLY] {
        let fd = sys::shm_open(&c(&name), flags, mode_600()).expect("shm_open");
        let fd_flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
        assert_eq!(fd_flags & libc::FD_CLOEXEC, libc::FD_CLOEXEC, "{flags:?}");
    }
    sys::shm_unlink(&c(&name)).expect("unlink");
}

#[test]
fn shm_open_read_only_descriptor_cannot_be_written() {
    let (name, _cleanup) = fresh("");
    drop(sys::shm_open(&c(&name), RDWR_CREAT, mode_600()).expect("create"));
    let ro = sys::shm_open(&c(&name), OFlags::RDONLY, Mode::empty()).expect("open read-only");
    assert_eq!(err(sys::write(ro.as_fd(), b"x")), Errno::EBADF);
    assert_eq!(err(sys::ftruncate(ro.as_fd(), 10)), Errno::EINVAL);
    sys::shm_unlink(&c(&name)).expect("unlink");
}

#[test]
fn shm_unlink_of_a_missing_object_is_enoent() {
    let (name, _cleanup) = fresh("");
    assert_eq!(err(sys::shm_unlink(&c(&name))), Errno::ENOENT);
}

#[test]
fn shm_unlink_of_an_invalid_name_is_enoent() {
    for name in ["", "/", "a/b", &"z".repeat(300)] {
        assert_eq!(err(sys::shm_unlink(&c(name))), Errno::ENOENT, "{name:?}");
    }
}

#[test]
fn glibc_finds_our_objects_and_we_find_glibcs() {
    let (ours, _c1) = fresh("-ours");
    let (theirs, _c2) = fresh("-glibc");
    let a = sys::shm_open(
        &c(&format!("/{ours}")),
        RDWR_CREAT | OFlags::EXCL,
        mode_600(),
    )
    .expect("ours");
    let a_glibc = glibc_shm_open(&c(&format!("/{ours}")), OFlags::RDWR, Mode::empty())
        .expect("glibc opens ours");
    assert_eq!(identity(&a), identity(&a_glibc));
    let b = glibc_shm_open(
        &c(&format!("/{theirs}")),
        RDWR_CREAT | OFlags::EXCL,
        mode_600(),
    )
    .expect("glibc's");
    let b_ours = sys::shm_open(&c(&format!("/{theirs}")), OFlags::RDWR, Mode::empty())
        .expect("we open glibc's");
    assert_eq!(identity(&b), identity(&b_ours));
    // Each unlinks the other's.
    assert_eq!(glibc_shm_unlink(&c(&format!("/{ours}"))), Ok(()));
    assert_eq!(sys::shm_unlink(&c(&format!("/{theirs}"))), Ok(()));
    assert!(!dev_shm(&ours).exists() && !dev_shm(&theirs).exists());
}

/// What a call did, in a form two implementations can be compared by.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Opened {
        created: bool,
        cloexec: bool,
        directory: bool,
    },
    Failed(Errno),
}

fn outcome(r: mman::Result<OwnedFd>, path: &std::path::Path) -> Outcome {
    match r {
        Ok(fd) => {
            let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
            Outcome::Opened {
                created: path.exists(),
                cloexec: flags & libc::FD_CLOEXEC != 0,
                directory: std::fs::metadata(format!("/proc/self/fd/{}", fd.as_raw_fd()))
                    .is_ok_and(|m| m.is_dir()),
            }
        }
        Err(e) => Outcome::Failed(e),
    }
}

/// The same (name, flags) inputs through our `shm_open` and glibc's must end the same way
/// (the same errno, or both succeeding alike), and likewise for `shm_unlink`.
#[test]
fn differential_against_glibc_shm_open_and_shm_unlink() {
    let (base, _cleanup) = fresh("");
    let (existing, _cleanup_existing) = fresh("-existing");
    drop(sys::shm_open(&c(&existing), RDWR_CREAT, mode_600()).expect("pre-create"));
    let n255 = format!("{base}{}", "x".repeat(255 - base.len()));
    let _cleanup_255 = Cleanup(dev_shm(&n255));
    // Lengths 256..=259 reach the kernel in glibc 2.34..2.42, which says ENAMETOOLONG; longer
    // names gave EINVAL before glibc 2.38, so they are not compared here.
    let n256 = format!("{base}{}", "x".repeat(256 - base.len()));
    let n259 = format!("{base}{}", "x".repeat(259 - base.len()));
    let creat_excl = RDWR_CREAT | OFlags::EXCL;
    let cases: Vec<(String, OFlags)> = vec![
        (base.clone(), RDWR_CREAT),
        (format!("/{base}"), creat_excl),
        (format!("//{base}"), OFlags::RDWR),
        (format!("/{base}"), OFlags::RDONLY),
        (
            format!("/{base}"),
            OFlags::WRONLY | OFlags::CREAT | OFlags::TRUNC,
        ),
        (existing.clone(), creat_excl),
        (format!("/{existing}"), OFlags::RDWR),
        (format!("/{existing}"), OFlags::RDWR | OFlags::DIRECTORY),
        (String::new(), RDWR_CREAT),
        ("/".into(), RDWR_CREAT),
        ("///".into(), OFlags::RDONLY),
        (format!("{base}/x"), RDWR_CREAT),
        (format!("/{base}/"), OFlags::RDWR),
        (".".into(), RDWR_CREAT),
        (".".into(), OFlags::RDONLY),
        ("/..".into(), OFlags::RDWR),
        ("..".into(), OFlags::RDONLY),
        (n255.clone(), creat_excl),
        (format!("/{n256}"), RDWR_CREAT),
        (n259.clone(), RDWR_CREAT),
    ];
    for (name, flags) in &cases {
        let path = dev_shm(name);
        let cname = c(name);
        let created_here = !path.exists();
        let ours = outcome(sys::shm_open(&cname, *flags, mode_600()), &path);
        if created_here && path.is_file() {
            std::fs::remove_file(&path).expect("reset");
        }
        let glibc = outcome(glibc_shm_open(&cname, *flags, mode_600()), &path);
        if created_here && path.is_file() {
            std::fs::remove_file(&path).expect("reset");
        }
        assert_eq!(ours, glibc, "shm_open({name:?}, {flags:?})");
    }
    let unlink_cases = [
        base.clone(),
        String::new(),
        "/".into(),
        format!("{base}/x"),
        ".".into(),
        "..".into(),
        // Not n256: glibc before 2.43 passes it to the kernel (ENAMETOOLONG), later ones
        // reject it as invalid (ENOENT), as this crate does.
    ];
    for name in &unlink_cases {
        let cname = c(name);
        assert_eq!(
            sys::shm_unlink(&cname),
            glibc_shm_unlink(&cname),
            "shm_unlink({name:?})"
        );
    }
    // An existing object: each removes one it made itself.
    for unlink in [
        sys::shm_unlink as fn(&CStr) -> mman::Result<()>,
        glibc_shm_unlink,
    ] {
        drop(sys::shm_open(&c(&base), RDWR_CREAT, mode_600()).expect("create"));
        assert_eq!(unlink(&c(&format!("//{base}"))), Ok(()));
        assert!(!dev_shm(&base).exists());
    }
}

#[test]
fn shm_unlink_of_another_users_object_is_eacces_as_in_glibc() {
    if unsafe { libc::geteuid() } != 0 {
        skip!("needs root: the object must belong to another user than the caller");
    }
    // Made by root in sticky /dev/shm; a child running as nobody may not remove it: the
    // kernel says EPERM, which shm_unlink reports as EACCES (glibc does the same).
    let (name, _cleanup) = fresh("");
    drop(sys::shm_open(&c(&name), RDWR_CREAT, mode_600()).expect("create"));
    let cname = c(&name);
    let end = in_child(|| {
        let nobody = 65534;
        if unsafe { libc::setgid(nobody) } != 0 || unsafe { libc::setuid(nobody) } != 0 {
            return 1;
        }
        if sys::shm_unlink(&cname) != Err(Errno::EACCES) {
            return 2;
        }
        if glibc_shm_unlink(&cname) != Err(Errno::EACCES) {
            return 3;
        }
        // Opening it for writing is refused too (mode 0600, owned by root).
        match sys::shm_open(&cname, OFlags::RDWR, Mode::empty()) {
            Err(Errno::EACCES) => 0,
            _ => 4,
        }
    });
    assert_eq!(end, ChildEnd::Exited(0));
    assert!(dev_shm(&name).exists(), "still there");
    assert_eq!(sys::shm_unlink(&c(&name)), Ok(()));
}
