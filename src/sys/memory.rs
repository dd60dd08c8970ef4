//! Mapping and unmapping, protection, write-back, remapping, advice, residency, sealing.

use super::{c_void, check, check_unit};
use crate::arch::{self, nr};
use crate::fd::{AsRawFd, BorrowedFd, RawFd};
use crate::{Advice, MapFlags, MremapFlags, MsyncFlags, Prot, Result};

/// Creates a mapping (`mmap(2)`). `fd` is ignored (pass -1) for anonymous mappings;
/// `offset` is in bytes and must be a multiple of [`page_size`](crate::page_size).
///
/// # Safety
/// With `MapFlags::FIXED`, whatever was mapped at `[addr, addr + len)` is replaced: nothing
/// may still be using it. Shared and file-backed memory can change under the program.
#[inline]
pub unsafe fn mmap(
    addr: *mut c_void,
    len: usize,
    prot: Prot,
    flags: MapFlags,
    fd: RawFd,
    offset: u64,
) -> Result<*mut c_void> {
    // `fd as usize` sign-extends -1 as glibc does; flags are zero-extended (MAP_HUGE_16GB).
    // SAFETY: forwarded to the caller.
    let ret = unsafe {
        arch::mmap(
            addr as usize,
            len,
            prot.bits() as usize,
            flags.bits() as usize,
            fd as usize,
            offset,
        )
    };
    check(ret).map(|addr| addr as *mut c_void)
}

/// Removes the mappings in `[addr, addr + len)` (`munmap(2)`).
///
/// # Safety
/// Nothing may use the range afterwards: no reference into it may outlive this call.
#[inline]
pub unsafe fn munmap(addr: *mut c_void, len: usize) -> Result<()> {
    // SAFETY: forwarded to the caller.
    check_unit(unsafe { arch::syscall2(nr::MUNMAP, addr as usize, len) })
}

/// Changes the protection of `[addr, addr + len)` (`mprotect(2)`).
///
/// # Safety
/// Removing access from memory that references still point to makes their use fault.
#[inline]
pub unsafe fn mprotect(addr: *mut c_void, len: usize, prot: Prot) -> Result<()> {
    // SAFETY: forwarded to the caller.
    check_unit(unsafe { arch::syscall3(nr::MPROTECT, addr as usize, len, prot.bits() as usize) })
}

/// Writes a file-backed range back to its file (`msync(2)`).
///
/// # Safety
/// `MsyncFlags::INVALIDATE` can change what other mappings of the file read.
#[inline]
pub unsafe fn msync(addr: *mut c_void, len: usize, flags: MsyncFlags) -> Result<()> {
    // SAFETY: forwarded to the caller.
    check_unit(unsafe { arch::syscall3(nr::MSYNC, addr as usize, len, flags.bits() as usize) })
}

/// Grows, shrinks or moves a mapping (`mremap(2)`). `new_addr` is where it moves with
/// `MremapFlags::FIXED`, and a hint with `MremapFlags::DONTUNMAP` (which the kernel checks:
/// `EINVAL` if not page aligned); otherwise it is ignored.
///
/// # Safety
/// When the mapping moves (or shrinks), nothing may use the old range afterwards; with
/// `FIXED`, whatever was at the new range is replaced. Growing in place (without `FIXED`,
/// the kernel tries that first even with `MAYMOVE`) ignores the guard gap the kernel keeps
/// below stacks: the caller must know the address space above the mapping is not within
/// `stack_guard_gap` of a grows-down mapping.
#[inline]
pub unsafe fn mremap(
    old: *mut c_void,
    old_len: usize,
    new_len: usize,
    flags: MremapFlags,
    new_addr: *mut c_void,
) -> Result<*mut c_void> {
    // SAFETY: forwarded to the caller.
    let ret = unsafe {
        arch::syscall5(
            nr::MREMAP,
            old as usize,
            old_len,
            new_len,
            flags.bits() as usize,
            new_addr as usize,
        )
    };
    check(ret).map(|addr| addr as *mut c_void)
}

/// Advises the kernel about `[addr, addr + len)` (`madvise(2)`).
///
/// # Safety
/// Some advice changes contents (`DontNeed`, `Free`, `Remove`, `WipeOnFork` in a child) or
/// makes accesses fault (`GuardInstall`, `HwPoison`).
#[inline]
pub unsafe fn madvise(addr: *mut c_void, len: usize, advice: Advice) -> Result<()> {
    // SAFETY: forwarded to the caller.
    check_unit(unsafe { arch::syscall3(nr::MADVISE, addr as usize, len, advice.raw() as usize) })
}

/// [`madvise`] with the advice as the kernel's number, for advice newer than this crate's
/// [`Advice`] (see [`Advice::from_raw`]).
///
/// # Safety
/// As [`madvise`]; the caller knows what the advice does.
#[inline]
pub unsafe fn madvise_raw(addr: *mut c_void, len: usize, advice: u32) -> Result<()> {
    // SAFETY: forwarded to the caller.
    check_unit(unsafe { arch::syscall3(nr::MADVISE, addr as usize, len, advice as usize) })
}

/// Whether the running kernel knows advice `advice` (a `MADV_*` number): `madvise(NULL, 0,
/// advice)`, which the kernel answers with `EINVAL` for advice it does not know (it checks
/// the advice before the range) and with 0 otherwise, touching nothing. `Ok(false)` for
/// `EINVAL`, `Ok(true)` for success, any other answer as the error. (qemu-user answers 0
/// for every advice without asking the kernel.)
///
/// ```
/// const MADV_GUARD_INSTALL: u32 = 102;
/// assert_eq!(mman::sys::advice_supported(mman::Advice::WillNeed.raw()), Ok(true));
/// if mman::sys::advice_supported(MADV_GUARD_INSTALL)? {
///     // Linux 6.13 or later (or qemu-user, which says yes to everything).
/// }
/// # Ok::<(), mman::Errno>(())
/// ```
#[inline]
pub fn advice_supported(advice: u32) -> Result<bool> {
    // SAFETY: an empty range at address 0: nothing is advised.
    match unsafe { madvise_raw(core::ptr::null_mut(), 0, advice) } {
        Ok(()) => Ok(true),
        Err(crate::Errno::EINVAL) => Ok(false),
        Err(e) => Err(e),
    }
}

/// One range for [`process_madvise`], laid out as `struct iovec`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct IoVec {
    /// Start of the range.
    pub base: *mut c_void,
    /// Length in bytes.
    pub len: usize,
}

/// Advises the kernel about ranges of the process `pidfd` refers to (`process_madvise(2)`,
/// Linux 5.10). Returns how many bytes were advised. The kernel accepts `Cold`, `PageOut`,
/// `WillNeed` and `Collapse` (and, for the calling process itself, more in recent kernels).
///
/// # Safety
/// As [`madvise`] when `pidfd` is this process.
#[inline]
pub unsafe fn process_madvise(
    pidfd: BorrowedFd<'_>,
    ranges: &[IoVec],
    advice: Advice,
) -> Result<usize> {
    let fd = pidfd.as_raw_fd() as usize;
    let (iov, count) = (ranges.as_ptr() as usize, ranges.len());
    // The last argument (flags) must be 0.
    // SAFETY: the kernel reads `count` iovecs from `ranges`; the rest is the caller's.
    check(unsafe {
        arch::syscall5(
            nr::PROCESS_MADVISE,
            fd,
            iov,
            count,
            advice.raw() as usize,
            0,
        )
    })
}

/// Reports which pages of `[addr, addr + len)` are resident (`mincore(2)`): bit 0 of
/// `vec[i]` for page `i`.
///
/// # Safety
/// `vec` must be writable for `len.div_ceil(page_size())` bytes.
#[inline]
pub unsafe fn mincore(addr: *mut c_void, len: usize, vec: *mut u8) -> Result<()> {
    // SAFETY: forwarded to the caller.
    check_unit(unsafe { arch::syscall3(nr::MINCORE, addr as usize, len, vec as usize) })
}

/// Seals `[addr, addr + len)` against unmapping, moving, protection changes and
/// destructive advice for the life of the process (`mseal(2)`, Linux 6.10, 64-bit only).
///
/// # Safety
/// The range can never be unmapped again: owners that unmap on drop will fail to.
#[inline]
pub unsafe fn mseal(addr: *mut c_void, len: usize) -> Result<()> {
    // The flags argument is reserved and must be 0.
    // SAFETY: forwarded to the caller.
    check_unit(unsafe { arch::syscall3(nr::MSEAL, addr as usize, len, 0) })
}
