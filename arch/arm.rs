//! 32-bit ARM (EABI, ARM mode): the `svc 0` instruction.
//!
//! Number in `r7`; arguments in `r0`..`r5`; result in `r0`. The kernel restores every other
//! register and the flags (from SPSR) and does not touch the user stack. A 64-bit argument
//! takes an even/odd register pair, low word in the even one, padding before it if needed
//! (`ftruncate64`: `fd`, 0, low, high); `mmap` is `mmap2` (`abi32.rs`). `shmctl` (308) is the
//! kernel's `old_shmctl`, which reads the layout version from the command: `IPC_64` asks for
//! `shmid64_ds`. Open flags are arm's own, as on arm64. The `_readonly` variants are for calls
//! that write no user memory.
//!
//! Thumb targets (`thumbv7neon-*`) keep their frame pointer in `r7`, which Rust then refuses as
//! an asm operand: they are refused below rather than half supported.

#[cfg(target_feature = "thumb-mode")]
compile_error!(
    "mman supports 32-bit ARM in ARM mode only (armv7-unknown-linux-gnueabihf and the like): \
     Thumb targets keep the frame pointer in r7, where Linux wants the syscall number"
);

use core::arch::asm;

pub(crate) use super::abi32::{
    fallocate, fstatfs, mmap, statfs_block_size, statfs_type, Statfs, SHMID_DS_SEGSZ_OFFSET,
};
pub(crate) use super::generic_consts::*;

/// Syscall numbers (`arch/arm/tools/syscall.tbl`, EABI).
pub(crate) mod nr {
    pub const READ: usize = 3;
    pub const WRITE: usize = 4;
    pub const CLOSE: usize = 6;
    pub const GETPID: usize = 20;
    pub const FCNTL: usize = 55;
    pub const MUNMAP: usize = 91;
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
    /// `mmap` with the offset in 4096-byte units.
    pub const MMAP2: usize = 192;
    /// `ftruncate` with the length in an even/odd register pair.
    pub const FTRUNCATE64: usize = 194;
    /// `fallocate` with the offset and the length in even/odd register pairs.
    pub const FALLOCATE: usize = 352;
    pub const MINCORE: usize = 219;
    pub const MADVISE: usize = 220;
    pub const EXIT_GROUP: usize = 248;
    /// `fstatfs` into `struct statfs64`, whose size is the second argument.
    pub const FSTATFS64: usize = 267;
    pub const SHMAT: usize = 305;
    pub const SHMDT: usize = 306;
    pub const SHMGET: usize = 307;
    /// `old_shmctl`: the command carries the layout version (`IPC_64`).
    pub const SHMCTL: usize = 308;
    pub const MBIND: usize = 319;
    pub const GET_MEMPOLICY: usize = 320;
    pub const SET_MEMPOLICY: usize = 321;
    pub const OPENAT: usize = 322;
    pub const UNLINKAT: usize = 328;
    pub const MOVE_PAGES: usize = 344;
    pub const PRLIMIT64: usize = 369;
    pub const MEMFD_CREATE: usize = 385;
    pub const MLOCK2: usize = 390;
    pub const PKEY_MPROTECT: usize = 394;
    pub const PKEY_ALLOC: usize = 395;
    pub const PKEY_FREE: usize = 396;
    pub const STATX: usize = 397;
    pub const MIGRATE_PAGES: usize = 400;
    // From 424 on, every architecture shares one numbering.
    pub const PIDFD_OPEN: usize = 434;
    pub const PROCESS_MADVISE: usize = 440;
    /// Reserved for `memfd_secret` everywhere, but arm does not wire it up: `ENOSYS`.
    pub const MEMFD_SECRET: usize = 447;
    pub const SET_MEMPOLICY_HOME_NODE: usize = 450;
    pub const CACHESTAT: usize = 451;
    /// 64-bit kernels only: a 32-bit arm kernel answers `ENOSYS`.
    pub const MSEAL: usize = 462;
    /// `__ARM_NR_cacheflush` (`__ARM_NR_BASE + 2`): make the instruction cache coherent.
    pub const CACHEFLUSH: usize = 0x0f_0002;
}

/// `old_shmctl` returns the old `shmid_ds` (16-bit ids) unless the command asks for
/// `shmid64_ds` with `IPC_64`.
pub(crate) const SHMCTL_VERSION: usize = 0x100;

// Open flags whose values differ from the asm-generic ones on arm and arm64
// (`arch/arm/include/uapi/asm/fcntl.h`). A wrong `O_NOFOLLOW` would silently turn
// `shm_open` into an open that follows symlinks.
pub(crate) const O_DIRECTORY: u32 = 0o40000;
pub(crate) const O_NOFOLLOW: u32 = 0o100000;
pub(crate) const O_DIRECT: u32 = 0o200000;
pub(crate) const O_LARGEFILE: u32 = 0o400000;

/// `ftruncate64`: `fd`, a padding word, then the length's low and high words (`r2`, `r3`: the
/// even/odd pair EABI gives a 64-bit argument).
///
/// # Safety
/// Shrinking a file that is mapped makes accesses past the new end fault; the caller
/// answers for it.
#[inline(always)]
pub(crate) unsafe fn ftruncate(fd: usize, len: u64) -> usize {
    let (low, high) = super::abi32::halves(len);
    // SAFETY: forwarded to the caller.
    unsafe { syscall4(nr::FTRUNCATE64, fd, 0, low, high) }
}

/// Makes the instruction cache coherent with data just written to `[start, start + len)`.
///
/// ARMv7 user space cannot maintain the caches itself: the kernel's `cacheflush` call cleans
/// the data cache and invalidates the instruction cache over the range, as GCC's
/// `__clear_cache` does.
///
/// # Safety
/// None beyond the call's: the kernel checks the range (it must be mapped).
pub(crate) unsafe fn sync_instruction_cache(start: usize, len: usize) {
    // SAFETY: the call writes no user memory; it only cleans and invalidates cache lines.
    unsafe {
        syscall3_readonly(nr::CACHEFLUSH, start, start.saturating_add(len), 0);
    }
}

/// `svc!(nr, a0, [REG = ARG...], [OPTION...])`: `svc 0` with the number in `r7`, `a0` in
/// `r0` and the other arguments in the registers named; OPTIONs are added to
/// `nostack, preserves_flags`. Evaluates to `r0`.
macro_rules! svc {
    ($nr:expr, $a0:expr, [$($reg:tt = $arg:expr),*], [$($option:ident),*]) => {{
        let ret: usize;
        asm!(
            "svc 0",
            in("r7") $nr,
            inlateout("r0") $a0 => ret,
            $(in($reg) $arg,)*
            options(nostack, preserves_flags, $($option),*)
        );
        ret
    }};
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall0(nr: usize) -> usize {
    // SAFETY: the caller vouches for the call; the asm follows the arm EABI syscall ABI.
    unsafe { svc!(nr, 0usize, [], []) }
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall1(nr: usize, a0: usize) -> usize {
    // SAFETY: the caller vouches for the call; the asm follows the arm EABI syscall ABI.
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
    // SAFETY: the caller vouches for the call; the asm follows the arm EABI syscall ABI.
    unsafe { svc!(nr, a0, ["r1" = a1], []) }
}

/// # Safety
/// The system call must write no user memory and must not violate memory safety.
#[inline(always)]
pub(crate) unsafe fn syscall2_readonly(nr: usize, a0: usize, a1: usize) -> usize {
    // SAFETY: the caller vouches that the call writes no user memory.
    unsafe { svc!(nr, a0, ["r1" = a1], [readonly]) }
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall3(nr: usize, a0: usize, a1: usize, a2: usize) -> usize {
    // SAFETY: the caller vouches for the call; the asm follows the arm EABI syscall ABI.
    unsafe { svc!(nr, a0, ["r1" = a1, "r2" = a2], []) }
}

/// # Safety
/// The system call must write no user memory and must not violate memory safety.
#[inline(always)]
pub(crate) unsafe fn syscall3_readonly(nr: usize, a0: usize, a1: usize, a2: usize) -> usize {
    // SAFETY: the caller vouches that the call writes no user memory.
    unsafe { svc!(nr, a0, ["r1" = a1, "r2" = a2], [readonly]) }
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall4(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> usize {
    // SAFETY: the caller vouches for the call; the asm follows the arm EABI syscall ABI.
    unsafe { svc!(nr, a0, ["r1" = a1, "r2" = a2, "r3" = a3], []) }
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
    // SAFETY: the caller vouches for the call; the asm follows the arm EABI syscall ABI.
    unsafe { svc!(nr, a0, ["r1" = a1, "r2" = a2, "r3" = a3, "r4" = a4], []) }
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
    // SAFETY: the caller vouches for the call; the asm follows the arm EABI syscall ABI.
    unsafe {
        svc!(
            nr,
            a0,
            ["r1" = a1, "r2" = a2, "r3" = a3, "r4" = a4, "r5" = a5],
            []
        )
    }
}

/// Ends the process: `exit_group` never returns.
#[inline(always)]
pub(crate) fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group touches no user memory and does not return.
    unsafe {
        asm!("svc 0", in("r7") nr::EXIT_GROUP, in("r0") code as usize, options(noreturn, nostack))
    };
}
