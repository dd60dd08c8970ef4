//! `Errno`: names, messages, formatting, unknown codes, and the std interop.

#[macro_use]
mod common;

use std::collections::HashSet;
use std::ptr;

use mman::{sys, Errno, MapFlags, MlockAllFlags, Mode, MremapFlags, OFlags, Prot, ShmGetFlags};

#[test]
fn einval_name_description_display_debug() {
    let e = Errno::EINVAL;
    assert_eq!(e.raw(), 22);
    assert_eq!(e.name(), "EINVAL");
    assert_eq!(e.description(), "Invalid argument");
    assert_eq!(e.to_string(), "Invalid argument (EINVAL)");
    assert_eq!(format!("{e:?}"), "Errno(EINVAL)");
}

#[test]
fn aliases_are_the_same_value_and_print_the_canonical_name() {
    assert_eq!(Errno::EWOULDBLOCK, Errno::EAGAIN);
    assert_eq!(Errno::ENOTSUP, Errno::EOPNOTSUPP);
    assert_eq!(Errno::EWOULDBLOCK.name(), "EAGAIN");
    assert_eq!(format!("{:?}", Errno::ENOTSUP), "Errno(EOPNOTSUPP)");
}

/// `EDEADLOCK` is `EDEADLK` (35) everywhere but powerpc and mips, whose kernels give it a
/// code of its own, 58 and 56, which the crate names and describes as glibc does.
#[test]
fn edeadlock_is_edeadlk_except_on_powerpc_and_mips() {
    if cfg!(target_arch = "mips64") {
        assert_eq!(Errno::EDEADLOCK.raw(), 56);
        assert_eq!(Errno::EDEADLK.raw(), 45);
        assert_eq!(Errno::EDEADLOCK.name(), "EDEADLOCK");
        assert_eq!(
            Errno::EDEADLOCK.to_string(),
            "File locking deadlock error (EDEADLOCK)"
        );
    } else if cfg!(target_arch = "powerpc64") {
        assert_eq!(Errno::EDEADLOCK.raw(), 58);
        assert_ne!(Errno::EDEADLOCK, Errno::EDEADLK);
        assert_eq!(Errno::EDEADLOCK.name(), "EDEADLOCK");
        assert_eq!(
            Errno::EDEADLOCK.to_string(),
            "File locking deadlock error (EDEADLOCK)"
        );
    } else {
        assert_eq!(Errno::EDEADLOCK, Errno::EDEADLK);
        assert_eq!(Errno::from_raw(58).name(), "UNKNOWN");
    }
}

#[test]
fn unknown_codes_do_not_panic_and_say_unknown() {
    // (58 is powerpc's EDEADLOCK; mips's codes run to 168, and to 1133.)
    let named = common::named_errno_codes();
    for code in [0, 41, 58, 134, 169, 1132, 4095, i32::MAX, -1, i32::MIN]
        .into_iter()
        .filter(|c| !named.contains(c))
    {
        let e = Errno::from_raw(code);
        assert_eq!(e.raw(), code, "from_raw keeps the code");
        assert_eq!(e.name(), "UNKNOWN", "name of {code}");
        assert_eq!(e.description(), "Unknown error", "description of {code}");
        assert_eq!(e.to_string(), format!("Unknown error {code}"));
        assert_eq!(format!("{e:?}"), format!("Errno({code})"));
    }
}

#[test]
fn every_known_code_has_a_distinct_name_and_a_display_with_it() {
    let mut names = HashSet::new();
    for code in common::named_errno_codes() {
        let e = Errno::from_raw(code);
        assert!(e.name().starts_with('E'), "name of {code}: {}", e.name());
        assert!(names.insert(e.name()), "duplicate name {}", e.name());
        assert_eq!(e.to_string(), format!("{} ({})", e.description(), e.name()));
    }
}

#[test]
fn errno_is_copy_eq_hash_and_an_error() {
    fn is_error<E: std::error::Error + Copy + Eq + std::hash::Hash + Send + Sync + 'static>(_: E) {}
    is_error(Errno::ENOMEM);
    let set: HashSet<Errno> = [Errno::ENOMEM, Errno::from_raw(12), Errno::EPERM].into();
    assert_eq!(set.len(), 2);
    let boxed: Box<dyn std::error::Error> = Box::new(Errno::EPERM);
    assert_eq!(boxed.to_string(), "Operation not permitted (EPERM)");
}

#[test]
fn failed_call_returns_the_kernels_errno() {
    // A real error from the kernel, decoded: munmap of an unaligned address is EINVAL.
    let map = common::Map::anon(common::page());
    let inside = map.ptr.cast::<u8>().wrapping_add(1).cast();
    assert_eq!(unsafe { mman::sys::munmap(inside, 1) }, Err(Errno::EINVAL));
}

/// One failing call through each of the architecture's syscall shapes (one to six
/// arguments, and the read-only variants), each with the errno its kernel documents. On
/// powerpc64 the kernel signals an error in cr0.SO with a *positive* errno, which every shape
/// must turn into `-errno`: a shape that forgets would make its call look like a success
/// (munmap, mlock) or return the errno as an address or an fd (mmap, shm_open).
#[test]
fn every_syscall_shape_decodes_the_kernels_errno() {
    let page = common::page();
    let map = common::Map::anon(page);
    let misaligned = map
        .ptr
        .cast::<u8>()
        .wrapping_add(1)
        .cast::<std::ffi::c_void>();
    // 1 argument: shmdt of an address no SysV segment is attached at.
    assert_eq!(unsafe { sys::shmdt(map.ptr) }, Err(Errno::EINVAL), "shmdt");
    // 1, read-only: mlockall with neither CURRENT nor FUTURE.
    assert_eq!(
        sys::mlockall(MlockAllFlags::empty()),
        Err(Errno::EINVAL),
        "mlockall"
    );
    // 2: munmap of a misaligned address.
    assert_eq!(
        unsafe { sys::munmap(misaligned, page) },
        Err(Errno::EINVAL),
        "munmap"
    );
    // 2, read-only: pidfd_open of a pid that cannot exist.
    assert_eq!(
        sys::pidfd_open(-1, 0).err(),
        Some(Errno::EINVAL),
        "pidfd_open"
    );
    // 3: mprotect of a misaligned address.
    assert_eq!(
        unsafe { sys::mprotect(misaligned, page, Prot::READ) },
        Err(Errno::EINVAL),
        "mprotect"
    );
    // 3, read-only: shmget of a size below SHMMIN (1).
    assert_eq!(
        sys::shmget(0, 0, ShmGetFlags::CREAT),
        Err(Errno::EINVAL),
        "shmget"
    );
    // 4: openat (shm_open) of a name that does not exist, without O_CREAT.
    assert_eq!(
        sys::shm_open(c"/mman-errno-no-such-object", OFlags::RDONLY, Mode::empty()).err(),
        Some(Errno::ENOENT),
        "shm_open"
    );
    // 5: mremap of a misaligned address.
    assert_eq!(
        unsafe {
            sys::mremap(
                misaligned,
                page,
                2 * page,
                MremapFlags::MAYMOVE,
                ptr::null_mut(),
            )
        },
        Err(Errno::EINVAL),
        "mremap"
    );
    // 6: mmap of a file mapping with no file.
    assert_eq!(
        unsafe { sys::mmap(ptr::null_mut(), page, Prot::READ, MapFlags::PRIVATE, -1, 0) },
        Err(Errno::EBADF),
        "mmap"
    );
}

#[cfg(feature = "std")]
#[test]
fn into_io_error_keeps_the_code() {
    let io = std::io::Error::from(Errno::EINVAL);
    assert_eq!(io.raw_os_error(), Some(22));
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);
    let io: std::io::Error = Errno::ENOENT.into();
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    assert_eq!(io.raw_os_error(), Some(libc::ENOENT));
}
