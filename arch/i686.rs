//! i686 (i386 ABI): the `int 0x80` instruction.
//!
//! Number in `eax`; arguments in `ebx`, `ecx`, `edx`, `esi`, `edi`, `ebp`; result in `eax`.
//! The kernel restores every other register and EFLAGS (`iret`) and does not touch the user
//! stack. Rust refuses `esi` (LLVM's base pointer) and `ebp` (the frame pointer) as asm
//! operands, so the calls that need them move them in the template and put them back:
//! - four arguments: `esi` swaps with the register the compiler chose for the fourth
//!   (`xchg` twice: both registers end as they began, no stack, no memory);
//! - five and six: every register that may be named is then taken (`eax` and four or five
//!   arguments), so `eax` brings the address of a small block in memory with the fourth
//!   argument, the sixth and the number; `esi` and `ebp` are saved on the stack around it.
//!
//! 64-bit values go in two registers, low word first (`ftruncate64`: `fd`, low, high); `mmap`
//! is `mmap2` (`abi32.rs`). System V calls use their direct numbers (Linux 5.1; before, only
//! the `ipc` multiplexer existed). The same binary runs on an x86_64 kernel's ia32 layer,
//! which takes the same numbers and layouts. The `_readonly` variants are for calls that write
//! no user memory.

use core::arch::asm;

pub(crate) use super::abi32::{
    fallocate, fstatfs, mmap, statfs_block_size, statfs_type, Statfs, SHMID_DS_SEGSZ_OFFSET,
};
pub(crate) use super::generic_consts::*;

/// Syscall numbers (`arch/x86/entry/syscalls/syscall_32.tbl`).
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
    /// `ftruncate` with the length in two registers.
    pub const FTRUNCATE64: usize = 194;
    /// `fallocate` with the offset and the length in two registers each.
    pub const FALLOCATE: usize = 324;
    pub const MINCORE: usize = 218;
    pub const MADVISE: usize = 219;
    pub const EXIT_GROUP: usize = 252;
    /// `fstatfs` into `struct statfs64`, whose size is the second argument.
    pub const FSTATFS64: usize = 269;
    pub const MBIND: usize = 274;
    pub const GET_MEMPOLICY: usize = 275;
    pub const SET_MEMPOLICY: usize = 276;
    pub const MIGRATE_PAGES: usize = 294;
    pub const OPENAT: usize = 295;
    pub const UNLINKAT: usize = 301;
    pub const MOVE_PAGES: usize = 317;
    pub const PRLIMIT64: usize = 340;
    pub const MEMFD_CREATE: usize = 356;
    pub const MLOCK2: usize = 376;
    pub const PKEY_MPROTECT: usize = 380;
    pub const PKEY_ALLOC: usize = 381;
    pub const PKEY_FREE: usize = 382;
    pub const STATX: usize = 383;
    pub const SHMGET: usize = 395;
    pub const SHMCTL: usize = 396;
    pub const SHMAT: usize = 397;
    pub const SHMDT: usize = 398;
    // From 424 on, every architecture shares one numbering.
    pub const PIDFD_OPEN: usize = 434;
    pub const PROCESS_MADVISE: usize = 440;
    pub const MEMFD_SECRET: usize = 447;
    pub const SET_MEMPOLICY_HOME_NODE: usize = 450;
    pub const CACHESTAT: usize = 451;
    /// 64-bit kernels only: a 32-bit kernel answers `ENOSYS` (the ia32 layer of a 64-bit
    /// one implements it).
    pub const MSEAL: usize = 462;
}

/// The direct `shmctl` (396) always uses `shmid64_ds`: passing `IPC_64` would be `EINVAL`.
pub(crate) const SHMCTL_VERSION: usize = 0;

/// `ftruncate64`: `fd`, then the length's low and high words.
///
/// # Safety
/// Shrinking a file that is mapped makes accesses past the new end fault; the caller
/// answers for it.
#[inline(always)]
pub(crate) unsafe fn ftruncate(fd: usize, len: u64) -> usize {
    let (low, high) = super::abi32::halves(len);
    // SAFETY: forwarded to the caller.
    unsafe { syscall3(nr::FTRUNCATE64, fd, low, high) }
}

/// Makes the instruction cache coherent with data just written to `[start, start + len)`.
///
/// Nothing to do: x86 keeps instruction fetches coherent with stores.
///
/// # Safety
/// None.
pub(crate) unsafe fn sync_instruction_cache(_start: usize, _len: usize) {}

/// `int80!(nr, [REG = ARG...], [OPTION...])`: `int 0x80` with the number in `eax` and the
/// arguments in the registers named (at most `ebx`, `ecx`, `edx`); OPTIONs are added to
/// `nostack, preserves_flags`. Evaluates to `eax`.
macro_rules! int80 {
    ($nr:expr, [$($reg:tt = $arg:expr),*], [$($option:ident),*]) => {{
        let ret: usize;
        asm!(
            "int 0x80",
            inlateout("eax") $nr => ret,
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
    // SAFETY: the caller vouches for the call; the asm follows the i386 syscall ABI.
    unsafe { int80!(nr, [], []) }
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall1(nr: usize, a0: usize) -> usize {
    // SAFETY: the caller vouches for the call; the asm follows the i386 syscall ABI.
    unsafe { int80!(nr, ["ebx" = a0], []) }
}

/// # Safety
/// The system call must write no user memory and must not violate memory safety.
#[inline(always)]
pub(crate) unsafe fn syscall1_readonly(nr: usize, a0: usize) -> usize {
    // SAFETY: the caller vouches that the call writes no user memory.
    unsafe { int80!(nr, ["ebx" = a0], [readonly]) }
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall2(nr: usize, a0: usize, a1: usize) -> usize {
    // SAFETY: the caller vouches for the call; the asm follows the i386 syscall ABI.
    unsafe { int80!(nr, ["ebx" = a0, "ecx" = a1], []) }
}

/// # Safety
/// The system call must write no user memory and must not violate memory safety.
#[inline(always)]
pub(crate) unsafe fn syscall2_readonly(nr: usize, a0: usize, a1: usize) -> usize {
    // SAFETY: the caller vouches that the call writes no user memory.
    unsafe { int80!(nr, ["ebx" = a0, "ecx" = a1], [readonly]) }
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall3(nr: usize, a0: usize, a1: usize, a2: usize) -> usize {
    // SAFETY: the caller vouches for the call; the asm follows the i386 syscall ABI.
    unsafe { int80!(nr, ["ebx" = a0, "ecx" = a1, "edx" = a2], []) }
}

/// # Safety
/// The system call must write no user memory and must not violate memory safety.
#[inline(always)]
pub(crate) unsafe fn syscall3_readonly(nr: usize, a0: usize, a1: usize, a2: usize) -> usize {
    // SAFETY: the caller vouches that the call writes no user memory.
    unsafe { int80!(nr, ["ebx" = a0, "ecx" = a1, "edx" = a2], [readonly]) }
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall4(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> usize {
    let ret;
    // SAFETY: the caller vouches for the call. The fourth argument's register and `esi`
    // trade places around `int 0x80` and back: both end as they began.
    unsafe {
        asm!(
            "xchg esi, {a3}",
            "int 0x80",
            "xchg esi, {a3}",
            a3 = in(reg) a3,
            inlateout("eax") nr => ret,
            in("ebx") a0,
            in("ecx") a1,
            in("edx") a2,
            options(nostack, preserves_flags)
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
    let block: [usize; 2] = [a3, nr];
    // SAFETY: the caller vouches for the call. `esi` is saved on the stack (which the kernel
    // leaves alone) and restored; the block is only read, and lives past the asm.
    unsafe {
        asm!(
            "push esi",
            "mov esi, dword ptr [eax]",
            "mov eax, dword ptr [eax + 4]",
            "int 0x80",
            "pop esi",
            inlateout("eax") block.as_ptr() => ret,
            in("ebx") a0,
            in("ecx") a1,
            in("edx") a2,
            in("edi") a4,
            options(preserves_flags)
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
    let block: [usize; 3] = [a3, a5, nr];
    // SAFETY: the caller vouches for the call. `ebp` and `esi` are saved on the stack (which
    // the kernel leaves alone) and restored; the block is only read, and lives past the asm.
    unsafe {
        asm!(
            "push ebp",
            "push esi",
            "mov esi, dword ptr [eax]",
            "mov ebp, dword ptr [eax + 4]",
            "mov eax, dword ptr [eax + 8]",
            "int 0x80",
            "pop esi",
            "pop ebp",
            inlateout("eax") block.as_ptr() => ret,
            in("ebx") a0,
            in("ecx") a1,
            in("edx") a2,
            in("edi") a4,
            options(preserves_flags)
        );
    }
    ret
}

/// Ends the process: `exit_group` never returns.
#[inline(always)]
pub(crate) fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group touches no user memory and does not return.
    unsafe {
        asm!("int 0x80", in("eax") nr::EXIT_GROUP, in("ebx") code as usize,
             options(noreturn, nostack))
    };
}
