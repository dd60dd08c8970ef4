//! Anonymous memory files: memfd_create, memfd_secret, and their seals.

use core::ffi::CStr;

use super::{check, check_fd, check_unit};
use crate::arch::{self, nr};
use crate::fd::{AsRawFd, BorrowedFd, OwnedFd};
use crate::{MemfdFlags, Result, Seals};

/// `F_ADD_SEALS` (`F_LINUX_SPECIFIC_BASE + 9`).
const F_ADD_SEALS: usize = 1033;
/// `F_GET_SEALS` (`F_LINUX_SPECIFIC_BASE + 10`).
const F_GET_SEALS: usize = 1034;
/// `O_CLOEXEC`, the only flag `memfd_secret` takes.
const O_CLOEXEC: usize = 0o2000000;

/// Creates an anonymous file in memory (`memfd_create(2)`, Linux 3.17). `name` (at most
/// 249 bytes) shows in `/proc/self/fd` as `memfd:name`; it need not be unique.
#[inline]
pub fn memfd_create(name: &CStr, flags: MemfdFlags) -> Result<OwnedFd> {
    // SAFETY: the kernel only reads the NUL-terminated name.
    check_fd(unsafe {
        arch::syscall2_readonly(
            nr::MEMFD_CREATE,
            name.as_ptr() as usize,
            flags.bits() as usize,
        )
    })
}

/// Creates a file whose pages are removed from the kernel's direct map, so that not even
/// the kernel reads them casually (`memfd_secret(2)`, Linux 5.14; `ENOSYS` where the kernel
/// lacks it or `secretmem` is disabled).
#[inline]
pub fn memfd_secret(cloexec: bool) -> Result<OwnedFd> {
    let flags = if cloexec { O_CLOEXEC } else { 0 };
    // SAFETY: memfd_secret takes no pointer.
    check_fd(unsafe { arch::syscall1_readonly(nr::MEMFD_SECRET, flags) })
}

/// Adds seals to a memfd or shmem file (`fcntl(F_ADD_SEALS)`).
#[inline]
pub fn fcntl_add_seals(fd: BorrowedFd<'_>, seals: Seals) -> Result<()> {
    let fd = fd.as_raw_fd() as usize;
    // SAFETY: F_ADD_SEALS takes no pointer.
    check_unit(unsafe {
        arch::syscall3_readonly(nr::FCNTL, fd, F_ADD_SEALS, seals.bits() as usize)
    })
}

/// Reads the seals of a memfd or shmem file (`fcntl(F_GET_SEALS)`).
#[inline]
pub fn fcntl_get_seals(fd: BorrowedFd<'_>) -> Result<Seals> {
    let fd = fd.as_raw_fd() as usize;
    // SAFETY: F_GET_SEALS takes no pointer.
    let seals = check(unsafe { arch::syscall2_readonly(nr::FCNTL, fd, F_GET_SEALS) })?;
    Ok(Seals::from_bits_retain(seals as u32))
}
