//! Locking pages in memory.

use super::{c_void, check_unit};
use crate::arch::{self, nr};
use crate::{MlockAllFlags, MlockFlags, Result};

/// Locks `[addr, addr + len)` in memory, faulting it in (`mlock(2)`).
///
/// # Safety
/// None beyond the range being the caller's to lock; `unsafe` because it takes an address.
#[inline]
pub unsafe fn mlock(addr: *const c_void, len: usize) -> Result<()> {
    // SAFETY: mlock changes no contents and writes no user memory.
    check_unit(unsafe { arch::syscall2_readonly(nr::MLOCK, addr as usize, len) })
}

/// Locks `[addr, addr + len)`, with `MlockFlags::ONFAULT` only as pages are touched
/// (`mlock2(2)`, Linux 4.4).
///
/// # Safety
/// As [`mlock`].
#[inline]
pub unsafe fn mlock2(addr: *const c_void, len: usize, flags: MlockFlags) -> Result<()> {
    // SAFETY: mlock2 changes no contents and writes no user memory.
    check_unit(unsafe {
        arch::syscall3_readonly(nr::MLOCK2, addr as usize, len, flags.bits() as usize)
    })
}

/// Unlocks `[addr, addr + len)` (`munlock(2)`).
///
/// # Safety
/// As [`mlock`].
#[inline]
pub unsafe fn munlock(addr: *const c_void, len: usize) -> Result<()> {
    // SAFETY: munlock changes no contents and writes no user memory.
    check_unit(unsafe { arch::syscall2_readonly(nr::MUNLOCK, addr as usize, len) })
}

/// Locks every current and/or future page of the process (`mlockall(2)`).
#[inline]
pub fn mlockall(flags: MlockAllFlags) -> Result<()> {
    // SAFETY: mlockall changes no contents and writes no user memory.
    check_unit(unsafe { arch::syscall1_readonly(nr::MLOCKALL, flags.bits() as usize) })
}

/// Unlocks every page of the process (`munlockall(2)`).
#[inline]
pub fn munlockall() -> Result<()> {
    // SAFETY: munlockall changes no contents and writes no user memory.
    check_unit(unsafe { arch::syscall0(nr::MUNLOCKALL) })
}
