//! aarch64: the `svc #0` instruction.
//!
//! Number in `x8`; arguments in `x0`..`x5`; result in `x0`. The kernel preserves every other
//! general register and the condition flags (restored from SPSR on return) and does not touch
//! the user stack. The `_readonly` variants are for calls that write no user memory.

use core::arch::asm;

pub(crate) use super::abi64::{
    fallocate, fstatfs, ftruncate, mmap, statfs_block_size, statfs_type, Statfs, SHMCTL_VERSION,
};
pub(crate) use super::generic_consts::*;

/// Syscall numbers: the asm-generic table.
pub(crate) use super::generic_nr as nr;

// Open flags whose values differ from the asm-generic ones on arm and arm64
// (`arch/arm64/include/uapi/asm/fcntl.h`). A wrong `O_NOFOLLOW` would silently turn
// `shm_open` into an open that follows symlinks.
pub(crate) const O_DIRECTORY: u32 = 0o40000;
pub(crate) const O_NOFOLLOW: u32 = 0o100000;
pub(crate) const O_DIRECT: u32 = 0o200000;
pub(crate) const O_LARGEFILE: u32 = 0o400000;

/// `PROT_BTI`: pages are guarded by Branch Target Identification.
pub(crate) const PROT_BTI: u32 = 0x10;
/// `PROT_MTE`: pages carry Memory Tagging Extension tags.
pub(crate) const PROT_MTE: u32 = 0x20;

/// Makes the instruction cache coherent with data just written to `[start, start + len)`.
///
/// arm64 does not keep the instruction cache coherent with data writes: code written through
/// a data mapping must be cleaned to the point of unification and the stale instructions
/// invalidated before it is executed. Line sizes come from `CTR_EL0`, which the kernel lets
/// user space read (or emulates).
///
/// # Safety
/// The range must be mapped and readable.
pub(crate) unsafe fn sync_instruction_cache(start: usize, len: usize) {
    let ctr: u64;
    // SAFETY: reading CTR_EL0 has no side effect; EL0 access is permitted or trapped and emulated.
    unsafe { asm!("mrs {}, ctr_el0", out(reg) ctr, options(nomem, nostack, preserves_flags)) };
    let dline = 4usize << ((ctr >> 16) & 0xf);
    let iline = 4usize << (ctr & 0xf);
    let end = start.saturating_add(len);
    // IDC (bit 28): data cache clean to PoU is not required for coherence.
    if ctr & (1 << 28) == 0 {
        let mut line = start & !(dline - 1);
        while line < end {
            // SAFETY: the caller guarantees the range is mapped; `dc cvau` only cleans the line.
            unsafe { asm!("dc cvau, {}", in(reg) line, options(nostack, preserves_flags)) };
            line += dline;
        }
    }
    // SAFETY: a barrier has no memory-safety effect.
    unsafe { asm!("dsb ish", options(nostack, preserves_flags)) };
    // DIC (bit 29): instruction cache invalidation to PoU is not required for coherence.
    if ctr & (1 << 29) == 0 {
        let mut line = start & !(iline - 1);
        while line < end {
            // SAFETY: `ic ivau` only invalidates instruction cache lines of a mapped range.
            unsafe { asm!("ic ivau, {}", in(reg) line, options(nostack, preserves_flags)) };
            line += iline;
        }
        // SAFETY: a barrier has no memory-safety effect.
        unsafe { asm!("dsb ish", options(nostack, preserves_flags)) };
    }
    // SAFETY: an instruction synchronisation barrier has no memory-safety effect.
    unsafe { asm!("isb", options(nostack, preserves_flags)) };
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall0(nr: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches for the call; the asm follows the arm64 syscall ABI.
    unsafe { asm!("svc 0", in("x8") nr, lateout("x0") ret, options(nostack, preserves_flags)) };
    ret
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall1(nr: usize, a0: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches for the call; the asm follows the arm64 syscall ABI.
    unsafe {
        asm!("svc 0", in("x8") nr, inlateout("x0") a0 => ret, options(nostack, preserves_flags))
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
        asm!("svc 0", in("x8") nr, inlateout("x0") a0 => ret, options(nostack, preserves_flags, readonly));
    }
    ret
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall2(nr: usize, a0: usize, a1: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches for the call; the asm follows the arm64 syscall ABI.
    unsafe {
        asm!("svc 0", in("x8") nr, inlateout("x0") a0 => ret, in("x1") a1, options(nostack, preserves_flags));
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
        asm!("svc 0", in("x8") nr, inlateout("x0") a0 => ret, in("x1") a1,
             options(nostack, preserves_flags, readonly));
    }
    ret
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall3(nr: usize, a0: usize, a1: usize, a2: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches for the call; the asm follows the arm64 syscall ABI.
    unsafe {
        asm!("svc 0", in("x8") nr, inlateout("x0") a0 => ret, in("x1") a1, in("x2") a2,
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
        asm!("svc 0", in("x8") nr, inlateout("x0") a0 => ret, in("x1") a1, in("x2") a2,
             options(nostack, preserves_flags, readonly));
    }
    ret
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall4(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches for the call; the asm follows the arm64 syscall ABI.
    unsafe {
        asm!("svc 0", in("x8") nr, inlateout("x0") a0 => ret, in("x1") a1, in("x2") a2, in("x3") a3,
             options(nostack, preserves_flags));
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
    // SAFETY: the caller vouches for the call; the asm follows the arm64 syscall ABI.
    unsafe {
        asm!("svc 0", in("x8") nr, inlateout("x0") a0 => ret, in("x1") a1, in("x2") a2, in("x3") a3,
             in("x4") a4, options(nostack, preserves_flags));
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
    // SAFETY: the caller vouches for the call; the asm follows the arm64 syscall ABI.
    unsafe {
        asm!("svc 0", in("x8") nr, inlateout("x0") a0 => ret, in("x1") a1, in("x2") a2, in("x3") a3,
             in("x4") a4, in("x5") a5, options(nostack, preserves_flags));
    }
    ret
}

/// Ends the process: `exit_group` never returns.
#[inline(always)]
pub(crate) fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group touches no user memory and does not return.
    unsafe {
        asm!("svc 0", in("x8") nr::EXIT_GROUP, in("x0") code as usize, options(noreturn, nostack))
    };
}
