//! powerpc64 (little-endian, ELFv2): the `sc` instruction.
//!
//! Number in `r0`; arguments in `r3`..`r8`; result in `r3`. Errors are signalled apart from
//! the value: the kernel sets the summary-overflow bit of `cr0` and returns the errno
//! *positive* in `r3`. Every `syscallN` here negates it (`bns` skips the `neg` on success),
//! so callers see `-errno` as on the other architectures and `crate::sys` decodes results
//! the same way everywhere. The kernel may change `r0`, `r4`..`r12`, `cr0`, `ctr` and `xer`,
//! and does not touch the user stack. The `_readonly` variants are for calls that write no
//! user memory.

use core::arch::asm;

pub(crate) use super::abi64::{
    fallocate, fstatfs, ftruncate, mmap, statfs_block_size, statfs_type, Statfs, SHMCTL_VERSION,
};
pub(crate) use super::generic_consts::*;

/// Syscall numbers (`arch/powerpc/kernel/syscalls/syscall.tbl`).
pub(crate) mod nr {
    pub const READ: usize = 3;
    pub const WRITE: usize = 4;
    pub const CLOSE: usize = 6;
    pub const GETPID: usize = 20;
    pub const FCNTL: usize = 55;
    pub const MMAP: usize = 90;
    pub const MUNMAP: usize = 91;
    pub const FTRUNCATE: usize = 93;
    pub const FALLOCATE: usize = 309;
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
    pub const PRCTL: usize = 171;
    pub const MADVISE: usize = 205;
    pub const MINCORE: usize = 206;
    pub const EXIT_GROUP: usize = 234;
    pub const MIGRATE_PAGES: usize = 258;
    pub const MBIND: usize = 259;
    pub const GET_MEMPOLICY: usize = 260;
    pub const SET_MEMPOLICY: usize = 261;
    pub const OPENAT: usize = 286;
    pub const UNLINKAT: usize = 292;
    pub const MOVE_PAGES: usize = 301;
    pub const PRLIMIT64: usize = 325;
    pub const MEMFD_CREATE: usize = 360;
    pub const MLOCK2: usize = 378;
    pub const STATX: usize = 383;
    pub const PKEY_ALLOC: usize = 384;
    pub const PKEY_FREE: usize = 385;
    pub const PKEY_MPROTECT: usize = 386;
    pub const SHMGET: usize = 395;
    pub const SHMCTL: usize = 396;
    pub const SHMAT: usize = 397;
    pub const SHMDT: usize = 398;
    // From 424 on, every architecture shares one numbering.
    pub const PIDFD_OPEN: usize = 434;
    pub const PROCESS_MADVISE: usize = 440;
    /// Reserved for `memfd_secret` everywhere, but powerpc does not wire it up: `ENOSYS`.
    pub const MEMFD_SECRET: usize = 447;
    pub const SET_MEMPOLICY_HOME_NODE: usize = 450;
    pub const CACHESTAT: usize = 451;
    pub const MSEAL: usize = 462;
}

// Values that differ from the asm-generic ones (`arch/powerpc/include/uapi/asm/mman.h`,
// `fcntl.h`, `errno.h`). A wrong `MAP_NORESERVE` would silently charge every reservation against
// the commit limit; a wrong `O_NOFOLLOW` would let `shm_open` follow symlinks.
pub(crate) const MAP_NORESERVE: u32 = 0x40;
pub(crate) const MAP_LOCKED: u32 = 0x80;
pub(crate) const MCL_CURRENT: u32 = 0x2000;
pub(crate) const MCL_FUTURE: u32 = 0x4000;
pub(crate) const MCL_ONFAULT: u32 = 0x8000;
pub(crate) const O_DIRECTORY: u32 = 0o40000;
pub(crate) const O_NOFOLLOW: u32 = 0o100000;
pub(crate) const O_LARGEFILE: u32 = 0o200000;
pub(crate) const O_DIRECT: u32 = 0o400000;
/// powerpc's `EDEADLOCK` is an errno of its own (`arch/powerpc/include/uapi/asm/errno.h`),
/// not the asm-generic alias of `EDEADLK` (35).
pub(crate) const EDEADLOCK: i32 = 58;

/// Offset of `shm_segsz` in powerpc64's `struct shmid64_ds`: the 48-byte `ipc64_perm`, then
/// the three times (the size comes first in the asm-generic layout).
pub(crate) const SHMID_DS_SEGSZ_OFFSET: usize = 72;

/// The smallest cache line of any 64-bit PowerPC: stepping by it reaches every line
/// whatever the CPU's real line size (128 bytes on POWER8 to POWER10).
const MIN_CACHE_LINE: usize = 32;

/// Makes the instruction cache coherent with data just written to `[start, start + len)`.
///
/// POWER does not snoop instruction fetches against data stores: each data cache block is
/// written back (`dcbst`), then the instruction cache blocks are invalidated (`icbi`), with
/// the barriers the Power ISA's sequence for modified instructions asks for.
///
/// # Safety
/// The range must be mapped.
pub(crate) unsafe fn sync_instruction_cache(start: usize, len: usize) {
    let first = start & !(MIN_CACHE_LINE - 1);
    let end = start.saturating_add(len);
    let mut line = first;
    while line < end {
        // SAFETY: `dcbst` only writes a mapped line back to memory.
        unsafe { asm!("dcbst 0, {}", in(reg) line, options(nostack, preserves_flags)) };
        line += MIN_CACHE_LINE;
    }
    // SAFETY: a barrier has no memory-safety effect.
    unsafe { asm!("sync", options(nostack, preserves_flags)) };
    let mut line = first;
    while line < end {
        // SAFETY: `icbi` only invalidates instruction cache blocks of a mapped range.
        unsafe { asm!("icbi 0, {}", in(reg) line, options(nostack, preserves_flags)) };
        line += MIN_CACHE_LINE;
    }
    // SAFETY: barriers have no memory-safety effect.
    unsafe { asm!("sync", "isync", options(nostack, preserves_flags)) };
}

/// `sc!(nr, a0, [REG = ARG...], [UNUSED...], [OPTION...])`: `sc` with the number, `a0` in
/// `r3` and the other arguments in the registers named; UNUSED are the argument registers
/// the call does not take, which the kernel may change all the same; OPTIONs are added to
/// `nostack`. Evaluates to `r3`, the errno negated if `cr0.SO` says failure.
macro_rules! sc {
    ($nr:expr, $a0:expr, [$($reg:tt = $arg:expr),*], [$($unused:tt),*], [$($option:ident),*]) => {{
        let ret: usize;
        asm!(
            "sc",
            "bns 2f",
            "neg 3, 3",
            "2:",
            inlateout("r0") $nr => _,
            inlateout("r3") $a0 => ret,
            $(inlateout($reg) $arg => _,)*
            $(lateout($unused) _,)*
            lateout("r9") _, lateout("r10") _, lateout("r11") _, lateout("r12") _,
            lateout("cr0") _, lateout("ctr") _, lateout("xer") _,
            options(nostack, $($option),*)
        );
        ret
    }};
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall0(nr: usize) -> usize {
    // SAFETY: the caller vouches for the call; the asm follows the powerpc64 syscall ABI.
    unsafe { sc!(nr, 0usize, [], ["r4", "r5", "r6", "r7", "r8"], []) }
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall1(nr: usize, a0: usize) -> usize {
    // SAFETY: the caller vouches for the call; the asm follows the powerpc64 syscall ABI.
    unsafe { sc!(nr, a0, [], ["r4", "r5", "r6", "r7", "r8"], []) }
}

/// # Safety
/// The system call must write no user memory and must not violate memory safety.
#[inline(always)]
pub(crate) unsafe fn syscall1_readonly(nr: usize, a0: usize) -> usize {
    // SAFETY: the caller vouches that the call writes no user memory.
    unsafe { sc!(nr, a0, [], ["r4", "r5", "r6", "r7", "r8"], [readonly]) }
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall2(nr: usize, a0: usize, a1: usize) -> usize {
    // SAFETY: the caller vouches for the call; the asm follows the powerpc64 syscall ABI.
    unsafe { sc!(nr, a0, ["r4" = a1], ["r5", "r6", "r7", "r8"], []) }
}

/// # Safety
/// The system call must write no user memory and must not violate memory safety.
#[inline(always)]
pub(crate) unsafe fn syscall2_readonly(nr: usize, a0: usize, a1: usize) -> usize {
    // SAFETY: the caller vouches that the call writes no user memory.
    unsafe { sc!(nr, a0, ["r4" = a1], ["r5", "r6", "r7", "r8"], [readonly]) }
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall3(nr: usize, a0: usize, a1: usize, a2: usize) -> usize {
    // SAFETY: the caller vouches for the call; the asm follows the powerpc64 syscall ABI.
    unsafe { sc!(nr, a0, ["r4" = a1, "r5" = a2], ["r6", "r7", "r8"], []) }
}

/// # Safety
/// The system call must write no user memory and must not violate memory safety.
#[inline(always)]
pub(crate) unsafe fn syscall3_readonly(nr: usize, a0: usize, a1: usize, a2: usize) -> usize {
    // SAFETY: the caller vouches that the call writes no user memory.
    unsafe {
        sc!(
            nr,
            a0,
            ["r4" = a1, "r5" = a2],
            ["r6", "r7", "r8"],
            [readonly]
        )
    }
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall4(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> usize {
    // SAFETY: the caller vouches for the call; the asm follows the powerpc64 syscall ABI.
    unsafe { sc!(nr, a0, ["r4" = a1, "r5" = a2, "r6" = a3], ["r7", "r8"], []) }
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
    // SAFETY: the caller vouches for the call; the asm follows the powerpc64 syscall ABI.
    unsafe {
        sc!(
            nr,
            a0,
            ["r4" = a1, "r5" = a2, "r6" = a3, "r7" = a4],
            ["r8"],
            []
        )
    }
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
    // SAFETY: the caller vouches for the call; the asm follows the powerpc64 syscall ABI.
    unsafe {
        sc!(
            nr,
            a0,
            ["r4" = a1, "r5" = a2, "r6" = a3, "r7" = a4, "r8" = a5],
            [],
            []
        )
    }
}

/// Ends the process: `exit_group` never returns.
#[inline(always)]
pub(crate) fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group touches no user memory and does not return.
    unsafe {
        asm!("sc", in("r0") nr::EXIT_GROUP, in("r3") code as usize, options(noreturn, nostack))
    };
}
