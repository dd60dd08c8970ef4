//! riscv64: the `ecall` instruction.
//!
//! Number in `a7`; arguments in `a0`..`a5`; result in `a0`. The kernel preserves every other
//! register and does not touch the user stack; RISC-V has no condition flags. Syscall numbers
//! and constants are the asm-generic ones. The `_readonly` variants are for calls that write
//! no user memory.

use core::arch::asm;

pub(crate) use super::abi64::{
    fallocate, fstatfs, ftruncate, mmap, statfs_block_size, statfs_type, Statfs, SHMCTL_VERSION,
};
pub(crate) use super::generic_consts::*;

/// Syscall numbers: the asm-generic table, and riscv's own.
pub(crate) mod nr {
    pub use super::super::generic_nr::*;
    /// `riscv_flush_icache` (`__NR_arch_specific_syscall + 15`).
    pub const RISCV_FLUSH_ICACHE: usize = 259;
}

/// Makes the instruction cache coherent with data just written to `[start, start + len)`.
///
/// RISC-V's `fence.i` orders only the hart that runs it, and a thread may migrate to another
/// hart right after, so user space asks the kernel (`riscv_flush_icache`, flags 0: every
/// hart of the process), as glibc's `__riscv_flush_icache` does.
///
/// # Safety
/// None beyond the call's: the kernel checks nothing but the flags.
pub(crate) unsafe fn sync_instruction_cache(start: usize, len: usize) {
    // SAFETY: the call writes no user memory; it only orders instruction fetches.
    unsafe {
        syscall3_readonly(nr::RISCV_FLUSH_ICACHE, start, start.saturating_add(len), 0);
    }
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall0(nr: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches for the call; the asm follows the riscv64 syscall ABI.
    unsafe { asm!("ecall", in("a7") nr, lateout("a0") ret, options(nostack, preserves_flags)) };
    ret
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall1(nr: usize, a0: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches for the call; the asm follows the riscv64 syscall ABI.
    unsafe {
        asm!("ecall", in("a7") nr, inlateout("a0") a0 => ret, options(nostack, preserves_flags))
    };
    ret
}

/// # Safety
/// The system call must write no user memory and must not violate memory safety.
#[inline(always)]
pub(crate) unsafe fn syscall1_readonly(nr: usize, a0: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches that the call writes no user memory.
    unsafe {
        asm!("ecall", in("a7") nr, inlateout("a0") a0 => ret,
             options(nostack, preserves_flags, readonly));
    }
    ret
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall2(nr: usize, a0: usize, a1: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches for the call; the asm follows the riscv64 syscall ABI.
    unsafe {
        asm!("ecall", in("a7") nr, inlateout("a0") a0 => ret, in("a1") a1,
             options(nostack, preserves_flags));
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
        asm!("ecall", in("a7") nr, inlateout("a0") a0 => ret, in("a1") a1,
             options(nostack, preserves_flags, readonly));
    }
    ret
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall3(nr: usize, a0: usize, a1: usize, a2: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches for the call; the asm follows the riscv64 syscall ABI.
    unsafe {
        asm!("ecall", in("a7") nr, inlateout("a0") a0 => ret, in("a1") a1, in("a2") a2,
             options(nostack, preserves_flags));
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
        asm!("ecall", in("a7") nr, inlateout("a0") a0 => ret, in("a1") a1, in("a2") a2,
             options(nostack, preserves_flags, readonly));
    }
    ret
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall4(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches for the call; the asm follows the riscv64 syscall ABI.
    unsafe {
        asm!("ecall", in("a7") nr, inlateout("a0") a0 => ret, in("a1") a1, in("a2") a2,
             in("a3") a3, options(nostack, preserves_flags));
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
    // SAFETY: the caller vouches for the call; the asm follows the riscv64 syscall ABI.
    unsafe {
        asm!("ecall", in("a7") nr, inlateout("a0") a0 => ret, in("a1") a1, in("a2") a2,
             in("a3") a3, in("a4") a4, options(nostack, preserves_flags));
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
    // SAFETY: the caller vouches for the call; the asm follows the riscv64 syscall ABI.
    unsafe {
        asm!("ecall", in("a7") nr, inlateout("a0") a0 => ret, in("a1") a1, in("a2") a2,
             in("a3") a3, in("a4") a4, in("a5") a5, options(nostack, preserves_flags));
    }
    ret
}

/// Ends the process: `exit_group` never returns.
#[inline(always)]
pub(crate) fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group touches no user memory and does not return.
    unsafe {
        asm!("ecall", in("a7") nr::EXIT_GROUP, in("a0") code as usize, options(noreturn, nostack))
    };
}
