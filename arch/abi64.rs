//! Argument encodings shared by the 64-bit ABIs that pass every argument in one register
//! (x86_64, arm64; also riscv64, loongarch64, powerpc64, mips64 n64). An architecture opts in
//! by re-exporting these; one that encodes differently (32-bit ABIs with `mmap2` and split
//! 64-bit values, s390x with `mmap` through an argument block) defines its own.

// s390x defines its own `mmap` and `fstatfs`: those here are unused there.
#![cfg_attr(target_arch = "s390x", allow(dead_code))]

use super::{nr, syscall2, syscall4, syscall6};

/// `mmap` with six registers and the offset in bytes.
///
/// # Safety
/// As for the `mmap` system call: the caller answers for what a fixed mapping replaces.
#[inline(always)]
pub(crate) unsafe fn mmap(
    addr: usize,
    len: usize,
    prot: usize,
    flags: usize,
    fd: usize,
    offset: u64,
) -> usize {
    // SAFETY: forwarded to the caller.
    unsafe { syscall6(nr::MMAP, addr, len, prot, flags, fd, offset as usize) }
}

/// `ftruncate` with the length in one register.
///
/// # Safety
/// Shrinking a file that is mapped makes accesses past the new end fault; the caller
/// answers for it.
#[inline(always)]
pub(crate) unsafe fn ftruncate(fd: usize, len: u64) -> usize {
    // SAFETY: forwarded to the caller.
    unsafe { syscall2(nr::FTRUNCATE, fd, len as usize) }
}

/// `fallocate` with the offset and the length in one register each.
///
/// # Safety
/// Punching or collapsing a range of a file that is mapped changes what its mappings see;
/// the caller answers for it.
#[inline(always)]
pub(crate) unsafe fn fallocate(fd: usize, mode: usize, offset: u64, len: u64) -> usize {
    // SAFETY: forwarded to the caller.
    unsafe { syscall4(nr::FALLOCATE, fd, mode, offset as usize, len as usize) }
}

/// The native `shmctl` always uses `shmid64_ds`: passing `IPC_64` would be `EINVAL`. (mips
/// n64's `shmctl` is `old_shmctl`, which wants `IPC_64`: it defines its own.)
#[cfg(not(target_arch = "mips64"))]
pub(crate) const SHMCTL_VERSION: usize = 0;

/// `struct statfs` of the 64-bit ABIs: fifteen words (`__kernel_long_t`), of which
/// `f_type` is the first and `f_bsize` the second. 32-bit ABIs would call `fstatfs64`
/// with the structure's size and a different layout; s390x packs both into one word.
#[cfg(not(target_arch = "mips64"))]
pub(crate) type Statfs = [usize; 15];
/// mips's `struct statfs` has the same first two words, but sixteen in all (`f_frsize` comes
/// third and `f_spare` has five words): a fifteen-word buffer would be overrun by a word.
#[cfg(target_arch = "mips64")]
pub(crate) type Statfs = [usize; 16];

/// `f_type` of a [`Statfs`] the kernel filled.
pub(crate) fn statfs_type(buf: &Statfs) -> u32 {
    buf[0] as u32
}

/// `f_bsize` of a [`Statfs`] the kernel filled.
pub(crate) fn statfs_block_size(buf: &Statfs) -> usize {
    buf[1]
}

/// `fstatfs` into a [`Statfs`].
///
/// # Safety
/// `buf` must be valid for writes of a whole [`Statfs`].
#[inline(always)]
pub(crate) unsafe fn fstatfs(fd: usize, buf: *mut Statfs) -> usize {
    // SAFETY: forwarded to the caller.
    unsafe { syscall2(nr::FSTATFS, fd, buf as usize) }
}
