//! s390x (64-bit z/Architecture): the `svc 0` instruction.
//!
//! Number in `r1`; arguments in `r2`..`r7`; result in `r2` (`-errno` in `-4095..=-1` on
//! failure). The kernel restores every other register, and the condition code with the PSW,
//! and does not touch the user stack. Two encodings differ from the other 64-bit ABIs:
//! `mmap` takes a pointer to its six arguments in memory (the old `mmap` of 31-bit days,
//! kept for s390x), and `struct statfs` packs `f_type` and `f_bsize` as 32-bit fields into
//! its first word. Constants are the asm-generic ones. The `_readonly` variants are for
//! calls that write no user memory.

use core::arch::asm;

pub(crate) use super::abi64::{fallocate, ftruncate, Statfs, SHMCTL_VERSION};
pub(crate) use super::generic_consts::*;

/// Syscall numbers (`arch/s390/kernel/syscalls/syscall.tbl`, the 64-bit column).
pub(crate) mod nr {
    pub const READ: usize = 3;
    pub const WRITE: usize = 4;
    pub const CLOSE: usize = 6;
    pub const GETPID: usize = 20;
    pub const FCNTL: usize = 55;
    /// The old `mmap`: one argument, the address of six words.
    pub const MMAP: usize = 90;
    pub const MUNMAP: usize = 91;
    pub const FTRUNCATE: usize = 93;
    pub const FALLOCATE: usize = 314;
    pub const FSTATFS: usize = 100;
    pub const SYSINFO: usize = 116;
    pub const MPROTECT: usize = 125;
    pub const MSYNC: usize = 144;
    pub const MLOCK: usize = 150;
    pub const MUNLOCK: usize = 151;
    pub const MLOCKALL: usize = 152;
    pub const MUNLOCKALL: usize = 153;
    #[allow(dead_code)] // only the allocator's spin lock (feature `dlmalloc`) yields
    pub const SCHED_YIELD: usize = 158;
    pub const MREMAP: usize = 163;
    pub const PRCTL: usize = 172;
    pub const MINCORE: usize = 218;
    pub const MADVISE: usize = 219;
    pub const EXIT_GROUP: usize = 248;
    pub const MBIND: usize = 268;
    pub const GET_MEMPOLICY: usize = 269;
    pub const SET_MEMPOLICY: usize = 270;
    pub const MIGRATE_PAGES: usize = 287;
    pub const OPENAT: usize = 288;
    pub const UNLINKAT: usize = 294;
    pub const MOVE_PAGES: usize = 310;
    pub const PRLIMIT64: usize = 334;
    pub const MEMFD_CREATE: usize = 350;
    pub const MLOCK2: usize = 374;
    pub const STATX: usize = 379;
    pub const PKEY_MPROTECT: usize = 384;
    pub const PKEY_ALLOC: usize = 385;
    pub const PKEY_FREE: usize = 386;
    pub const SHMGET: usize = 395;
    pub const SHMCTL: usize = 396;
    pub const SHMAT: usize = 397;
    pub const SHMDT: usize = 398;
    // From 424 on, every architecture shares one numbering.
    pub const PIDFD_OPEN: usize = 434;
    pub const PROCESS_MADVISE: usize = 440;
    /// Wired up for s390x in 6.5 (6.1's headers lack it; the 6.1 kernel answers `ENOSYS`).
    pub const MEMFD_SECRET: usize = 447;
    pub const SET_MEMPOLICY_HOME_NODE: usize = 450;
    pub const CACHESTAT: usize = 451;
    pub const MSEAL: usize = 462;
}

/// `mmap` through its argument block: s390x's `mmap` (90) reads `addr`, `len`, `prot`,
/// `flags`, `fd` and the byte offset from six words in memory at the address in `r2`.
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
    let block: [usize; 6] = [addr, len, prot, flags, fd, offset as usize];
    // SAFETY: the kernel only reads the block, which lives until the call returns; the
    // rest is forwarded to the caller.
    unsafe { syscall1(nr::MMAP, block.as_ptr() as usize) }
}

/// `fstatfs` into a [`Statfs`] (88 bytes on s390x, which the fifteen words hold).
///
/// # Safety
/// `buf` must be valid for writes of a whole [`Statfs`].
#[inline(always)]
pub(crate) unsafe fn fstatfs(fd: usize, buf: *mut Statfs) -> usize {
    // SAFETY: forwarded to the caller.
    unsafe { syscall2(nr::FSTATFS, fd, buf as usize) }
}

/// The first word of s390x's `struct statfs`, as its two 32-bit fields
/// (`f_type`, `f_bsize`), in memory order.
fn statfs_first_fields(buf: &Statfs) -> (u32, u32) {
    let [a, b, c, d, e, f, g, h] = buf[0].to_ne_bytes();
    (
        u32::from_ne_bytes([a, b, c, d]),
        u32::from_ne_bytes([e, f, g, h]),
    )
}

/// `f_type` of a [`Statfs`] the kernel filled: a 32-bit field on s390x.
pub(crate) fn statfs_type(buf: &Statfs) -> u32 {
    statfs_first_fields(buf).0
}

/// `f_bsize` of a [`Statfs`] the kernel filled: a 32-bit field on s390x.
pub(crate) fn statfs_block_size(buf: &Statfs) -> usize {
    statfs_first_fields(buf).1 as usize
}

/// Makes the instruction cache coherent with data just written to `[start, start + len)`.
///
/// Nothing to do: z/Architecture keeps instruction fetches coherent with stores, on every
/// CPU (the kernel's `flush_icache_range` is empty on s390).
///
/// # Safety
/// None.
pub(crate) unsafe fn sync_instruction_cache(_start: usize, _len: usize) {}

/// `svc!(nr, a0, [REG = ARG...], [OPTION...])`: `svc 0` with the number in `r1`, `a0` in
/// `r2` and the other arguments in the registers named; OPTIONs are added to `nostack`.
/// Evaluates to `r2`. Only `r2` changes: the kernel restores the others and the PSW's
/// condition code, but the flags are not promised unchanged here (nothing is gained).
macro_rules! svc {
    ($nr:expr, $a0:expr, [$($reg:tt = $arg:expr),*], [$($option:ident),*]) => {{
        let ret: usize;
        asm!(
            "svc 0",
            in("r1") $nr,
            inlateout("r2") $a0 => ret,
            $(in($reg) $arg,)*
            options(nostack, $($option),*)
        );
        ret
    }};
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall0(nr: usize) -> usize {
    // SAFETY: the caller vouches for the call; the asm follows the s390x syscall ABI.
    unsafe { svc!(nr, 0usize, [], []) }
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall1(nr: usize, a0: usize) -> usize {
    // SAFETY: the caller vouches for the call; the asm follows the s390x syscall ABI.
    unsafe { svc!(nr, a0, [], []) }
}

/// # Safety
/// The system call must write no user memory and must not violate memory safety.
#[inline(always)]
pub(crate) unsafe fn syscall1_readonly(nr: usize, a0: usize) -> usize {
    // SAFETY: the caller vouches that the call writes no user memory.
    unsafe { svc!(nr, a0, [], [readonly]) }
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall2(nr: usize, a0: usize, a1: usize) -> usize {
    // SAFETY: the caller vouches for the call; the asm follows the s390x syscall ABI.
    unsafe { svc!(nr, a0, ["r3" = a1], []) }
}

/// # Safety
/// The system call must write no user memory and must not violate memory safety.
#[inline(always)]
pub(crate) unsafe fn syscall2_readonly(nr: usize, a0: usize, a1: usize) -> usize {
    // SAFETY: the caller vouches that the call writes no user memory.
    unsafe { svc!(nr, a0, ["r3" = a1], [readonly]) }
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall3(nr: usize, a0: usize, a1: usize, a2: usize) -> usize {
    // SAFETY: the caller vouches for the call; the asm follows the s390x syscall ABI.
    unsafe { svc!(nr, a0, ["r3" = a1, "r4" = a2], []) }
}

/// # Safety
/// The system call must write no user memory and must not violate memory safety.
#[inline(always)]
pub(crate) unsafe fn syscall3_readonly(nr: usize, a0: usize, a1: usize, a2: usize) -> usize {
    // SAFETY: the caller vouches that the call writes no user memory.
    unsafe { svc!(nr, a0, ["r3" = a1, "r4" = a2], [readonly]) }
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall4(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> usize {
    // SAFETY: the caller vouches for the call; the asm follows the s390x syscall ABI.
    unsafe { svc!(nr, a0, ["r3" = a1, "r4" = a2, "r5" = a3], []) }
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall5(
    nr: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
) -> usize {
    // SAFETY: the caller vouches for the call; the asm follows the s390x syscall ABI.
    unsafe { svc!(nr, a0, ["r3" = a1, "r4" = a2, "r5" = a3, "r6" = a4], []) }
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall6(
    nr: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> usize {
    // SAFETY: the caller vouches for the call; the asm follows the s390x syscall ABI.
    unsafe {
        svc!(
            nr,
            a0,
            ["r3" = a1, "r4" = a2, "r5" = a3, "r6" = a4, "r7" = a5],
            []
        )
    }
}

/// Ends the process: `exit_group` never returns.
#[inline(always)]
pub(crate) fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group touches no user memory and does not return.
    unsafe {
        asm!("svc 0", in("r1") nr::EXIT_GROUP, in("r2") code as usize, options(noreturn, nostack))
    };
}
