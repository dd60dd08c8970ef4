//! loongarch64 (LP64D): the `syscall 0` instruction.
//!
//! Number in `a7`; arguments in `a0`..`a5`; result in `a0`. The kernel may change the
//! temporaries `$t0`..`$t8` (glibc's `__SYSCALL_CLOBBERS` lists exactly these), preserves
//! every other general register, and does not touch the user stack; LoongArch has no
//! integer condition flags. Syscall numbers and constants are the asm-generic ones. The
//! `_readonly` variants are for calls that write no user memory.

use core::arch::asm;

pub(crate) use super::abi64::{
    fallocate, fstatfs, ftruncate, mmap, statfs_block_size, statfs_type, Statfs, SHMCTL_VERSION,
};
pub(crate) use super::generic_consts::*;

/// Syscall numbers: the asm-generic table.
pub(crate) use super::generic_nr as nr;

/// `asm!("syscall 0", OPERANDS, <the temporaries the kernel may change>, options(OPTIONS))`:
/// the clobbers written once, so no call can forget one (qemu-user clobbers nothing, so
/// only a real kernel would show the mistake).
macro_rules! syscall_asm {
    ([$($operands:tt)*], [$($options:ident),*]) => {
        asm!(
            "syscall 0",
            $($operands)*
            lateout("$t0") _, lateout("$t1") _, lateout("$t2") _, lateout("$t3") _,
            lateout("$t4") _, lateout("$t5") _, lateout("$t6") _, lateout("$t7") _,
            lateout("$t8") _,
            options($($options),*)
        )
    };
}

/// Makes the instruction cache coherent with data just written to `[start, start + len)`.
///
/// LoongArch keeps the instruction cache coherent with data writes in hardware, on every
/// core; what remains is this core's instruction fetch, which `ibar 0` orders after the
/// stores before it (the kernel's `flush_icache_range` and GCC's `__clear_cache` do the
/// same). A thread that moves to another core passes through the kernel, whose return to
/// user space is itself such a barrier.
///
/// # Safety
/// None: the barrier touches no memory.
pub(crate) unsafe fn sync_instruction_cache(_start: usize, _len: usize) {
    // SAFETY: a barrier has no memory-safety effect.
    unsafe { asm!("ibar 0", options(nostack, preserves_flags)) };
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall0(nr: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches for the call; the asm follows the loongarch64 syscall ABI.
    unsafe {
        syscall_asm!([in("$a7") nr, lateout("$a0") ret,], [nostack, preserves_flags]);
    }
    ret
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall1(nr: usize, a0: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches for the call; the asm follows the loongarch64 syscall ABI.
    unsafe {
        syscall_asm!([in("$a7") nr, inlateout("$a0") a0 => ret,], [nostack, preserves_flags]);
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
        syscall_asm!(
            [in("$a7") nr, inlateout("$a0") a0 => ret,],
            [nostack, preserves_flags, readonly]
        );
    }
    ret
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall2(nr: usize, a0: usize, a1: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches for the call; the asm follows the loongarch64 syscall ABI.
    unsafe {
        syscall_asm!(
            [in("$a7") nr, inlateout("$a0") a0 => ret, in("$a1") a1,],
            [nostack, preserves_flags]
        );
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
        syscall_asm!(
            [in("$a7") nr, inlateout("$a0") a0 => ret, in("$a1") a1,],
            [nostack, preserves_flags, readonly]
        );
    }
    ret
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall3(nr: usize, a0: usize, a1: usize, a2: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches for the call; the asm follows the loongarch64 syscall ABI.
    unsafe {
        syscall_asm!(
            [in("$a7") nr, inlateout("$a0") a0 => ret, in("$a1") a1, in("$a2") a2,],
            [nostack, preserves_flags]
        );
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
        syscall_asm!(
            [in("$a7") nr, inlateout("$a0") a0 => ret, in("$a1") a1, in("$a2") a2,],
            [nostack, preserves_flags, readonly]
        );
    }
    ret
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall4(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches for the call; the asm follows the loongarch64 syscall ABI.
    unsafe {
        syscall_asm!(
            [in("$a7") nr, inlateout("$a0") a0 => ret, in("$a1") a1, in("$a2") a2,
             in("$a3") a3,],
            [nostack, preserves_flags]
        );
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
    // SAFETY: the caller vouches for the call; the asm follows the loongarch64 syscall ABI.
    unsafe {
        syscall_asm!(
            [in("$a7") nr, inlateout("$a0") a0 => ret, in("$a1") a1, in("$a2") a2,
             in("$a3") a3, in("$a4") a4,],
            [nostack, preserves_flags]
        );
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
    // SAFETY: the caller vouches for the call; the asm follows the loongarch64 syscall ABI.
    unsafe {
        syscall_asm!(
            [in("$a7") nr, inlateout("$a0") a0 => ret, in("$a1") a1, in("$a2") a2,
             in("$a3") a3, in("$a4") a4, in("$a5") a5,],
            [nostack, preserves_flags]
        );
    }
    ret
}

/// Ends the process: `exit_group` never returns.
#[inline(always)]
pub(crate) fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group touches no user memory and does not return.
    unsafe {
        asm!("syscall 0", in("$a7") nr::EXIT_GROUP, in("$a0") code as usize,
             options(noreturn, nostack))
    };
}
