//! x86_64: the `syscall` instruction.
//!
//! Number in `rax`; arguments in `rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9`; result in `rax`.
//! The instruction itself overwrites `rcx` (return address) and `r11` (saved RFLAGS); the
//! kernel preserves every other register and does not touch the user stack, hence `nostack`.
//! `preserves_flags` holds because the kernel restores RFLAGS from `r11` on return.
//! The `_readonly` variants are for calls that write no user memory, which lets the compiler
//! keep values in registers across them.

use core::arch::asm;

pub(crate) use super::abi64::{
    fallocate, fstatfs, ftruncate, mmap, statfs_block_size, statfs_type, Statfs, SHMCTL_VERSION,
};
pub(crate) use super::generic_consts::*;

/// Syscall numbers (`arch/x86/entry/syscalls/syscall_64.tbl`).
pub(crate) mod nr {
    pub const READ: usize = 0;
    pub const WRITE: usize = 1;
    pub const CLOSE: usize = 3;
    pub const MMAP: usize = 9;
    pub const MPROTECT: usize = 10;
    pub const MUNMAP: usize = 11;
    pub const MREMAP: usize = 25;
    pub const MSYNC: usize = 26;
    pub const MINCORE: usize = 27;
    pub const MADVISE: usize = 28;
    pub const SHMGET: usize = 29;
    pub const SHMAT: usize = 30;
    pub const SHMCTL: usize = 31;
    pub const GETPID: usize = 39;
    pub const SHMDT: usize = 67;
    pub const FCNTL: usize = 72;
    pub const FTRUNCATE: usize = 77;
    pub const FALLOCATE: usize = 285;
    pub const FSTATFS: usize = 138;
    pub const MLOCK: usize = 149;
    pub const MUNLOCK: usize = 150;
    pub const MLOCKALL: usize = 151;
    pub const MUNLOCKALL: usize = 152;
    pub const PRLIMIT64: usize = 302;
    pub const SYSINFO: usize = 99;
    pub const PRCTL: usize = 157;
    #[allow(dead_code)] // only the allocator's spin lock (feature `dlmalloc`) yields
    pub const SCHED_YIELD: usize = 24;
    pub const EXIT_GROUP: usize = 231;
    pub const MBIND: usize = 237;
    pub const SET_MEMPOLICY: usize = 238;
    pub const GET_MEMPOLICY: usize = 239;
    pub const MIGRATE_PAGES: usize = 256;
    pub const OPENAT: usize = 257;
    pub const UNLINKAT: usize = 263;
    pub const MOVE_PAGES: usize = 279;
    pub const MEMFD_CREATE: usize = 319;
    pub const MLOCK2: usize = 325;
    pub const PKEY_MPROTECT: usize = 329;
    pub const PKEY_ALLOC: usize = 330;
    pub const PKEY_FREE: usize = 331;
    pub const STATX: usize = 332;
    pub const PIDFD_OPEN: usize = 434;
    pub const PROCESS_MADVISE: usize = 440;
    pub const MEMFD_SECRET: usize = 447;
    pub const SET_MEMPOLICY_HOME_NODE: usize = 450;
    pub const CACHESTAT: usize = 451;
    pub const MSEAL: usize = 462;
}

/// `MAP_32BIT`: place the mapping in the first 2 GiB (x86 only).
pub(crate) const MAP_32BIT: u32 = 0x40;

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall0(nr: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches for the call; the asm follows the x86_64 syscall ABI.
    unsafe {
        asm!("syscall", inlateout("rax") nr => ret, lateout("rcx") _, lateout("r11") _,
             options(nostack, preserves_flags));
    }
    ret
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall1(nr: usize, a0: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches for the call; the asm follows the x86_64 syscall ABI.
    unsafe {
        asm!("syscall", inlateout("rax") nr => ret, in("rdi") a0,
             lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags));
    }
    ret
}

/// # Safety
/// The system call must write no user memory and must not violate memory safety.
#[inline(always)]
pub(crate) unsafe fn syscall1_readonly(nr: usize, a0: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches that the call writes no user memory.
    unsafe {
        asm!("syscall", inlateout("rax") nr => ret, in("rdi") a0,
             lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags, readonly));
    }
    ret
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall2(nr: usize, a0: usize, a1: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches for the call; the asm follows the x86_64 syscall ABI.
    unsafe {
        asm!("syscall", inlateout("rax") nr => ret, in("rdi") a0, in("rsi") a1,
             lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags));
    }
    ret
}

/// # Safety
/// The system call must write no user memory and must not violate memory safety.
#[inline(always)]
pub(crate) unsafe fn syscall2_readonly(nr: usize, a0: usize, a1: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches that the call writes no user memory.
    unsafe {
        asm!("syscall", inlateout("rax") nr => ret, in("rdi") a0, in("rsi") a1,
             lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags, readonly));
    }
    ret
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall3(nr: usize, a0: usize, a1: usize, a2: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches for the call; the asm follows the x86_64 syscall ABI.
    unsafe {
        asm!("syscall", inlateout("rax") nr => ret, in("rdi") a0, in("rsi") a1, in("rdx") a2,
             lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags));
    }
    ret
}

/// # Safety
/// The system call must write no user memory and must not violate memory safety.
#[inline(always)]
pub(crate) unsafe fn syscall3_readonly(nr: usize, a0: usize, a1: usize, a2: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches that the call writes no user memory.
    unsafe {
        asm!("syscall", inlateout("rax") nr => ret, in("rdi") a0, in("rsi") a1, in("rdx") a2,
             lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags, readonly));
    }
    ret
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall4(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches for the call; the asm follows the x86_64 syscall ABI.
    unsafe {
        asm!("syscall", inlateout("rax") nr => ret, in("rdi") a0, in("rsi") a1, in("rdx") a2,
             in("r10") a3, lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags));
    }
    ret
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
    let ret;
    // SAFETY: the caller vouches for the call; the asm follows the x86_64 syscall ABI.
    unsafe {
        asm!("syscall", inlateout("rax") nr => ret, in("rdi") a0, in("rsi") a1, in("rdx") a2,
             in("r10") a3, in("r8") a4, lateout("rcx") _, lateout("r11") _,
             options(nostack, preserves_flags));
    }
    ret
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
    let ret;
    // SAFETY: the caller vouches for the call; the asm follows the x86_64 syscall ABI.
    unsafe {
        asm!("syscall", inlateout("rax") nr => ret, in("rdi") a0, in("rsi") a1, in("rdx") a2,
             in("r10") a3, in("r8") a4, in("r9") a5, lateout("rcx") _, lateout("r11") _,
             options(nostack, preserves_flags));
    }
    ret
}

/// Ends the process: `exit_group` never returns.
#[inline(always)]
pub(crate) fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group touches no user memory and does not return.
    unsafe {
        asm!("syscall", in("rax") nr::EXIT_GROUP, in("rdi") code as usize, options(noreturn, nostack));
    }
}

/// x86 keeps the instruction cache coherent with data writes in hardware: nothing to do.
///
/// # Safety
/// None needed; `unsafe` only to match the other architectures.
#[inline(always)]
pub(crate) unsafe fn sync_instruction_cache(_start: usize, _len: usize) {}
