//! Memory protection keys (Linux 4.9): x86 PKU, arm64 POE (6.12), powerpc.

use super::{c_void, check, check_unit};
use crate::arch::{self, nr};
use crate::{Prot, Result};

/// `pkey_alloc` access right: no data access through this key.
pub const PKEY_DISABLE_ACCESS: u32 = 0x1;
/// `pkey_alloc` access right: no writes through this key.
pub const PKEY_DISABLE_WRITE: u32 = 0x2;

/// Allocates a protection key with initial `access_rights` for this thread (`pkey_alloc(2)`).
/// `flags` must be 0. Fails with `ENOSPC` when keys are exhausted *or* unsupported, and
/// `ENOSYS`/`EINVAL` on kernels or CPUs without them.
#[inline]
pub fn pkey_alloc(flags: u32, access_rights: u32) -> Result<i32> {
    // SAFETY: pkey_alloc takes no pointer.
    let key = check(unsafe {
        arch::syscall2_readonly(nr::PKEY_ALLOC, flags as usize, access_rights as usize)
    })?;
    Ok(key as i32)
}

/// Frees a protection key (`pkey_free(2)`). Pages still tagged with it keep the tag.
///
/// # Safety
/// No memory may still be tagged with `pkey`, and the key must be the caller's to free
/// (allocated by it, not key 0 nor another library's): the kernel hands a freed key out
/// again, and whoever gets it sets its access rights, which would then apply to the
/// memory still tagged with it, turning accesses to memory in use into faults (or
/// allowing writes its owner had forbidden). Like closing a descriptor someone else owns.
#[inline]
pub unsafe fn pkey_free(pkey: i32) -> Result<()> {
    // SAFETY: pkey_free takes no pointer; what freeing the key does is the caller's.
    check_unit(unsafe { arch::syscall1_readonly(nr::PKEY_FREE, pkey as usize) })
}

/// `mprotect` that also tags the range with `pkey` (`pkey_mprotect(2)`); -1 means none.
///
/// # Safety
/// As [`mprotect`](super::mprotect): removing access from memory still referenced makes its
/// use fault.
#[inline]
pub unsafe fn pkey_mprotect(addr: *mut c_void, len: usize, prot: Prot, pkey: i32) -> Result<()> {
    // SAFETY: forwarded to the caller.
    check_unit(unsafe {
        arch::syscall4(
            nr::PKEY_MPROTECT,
            addr as usize,
            len,
            prot.bits() as usize,
            pkey as usize,
        )
    })
}
