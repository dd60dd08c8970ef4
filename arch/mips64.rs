//! mips64 (n64 ABI, little- or big-endian): the `syscall` instruction.
//!
//! Number in `$2` (`v0`); arguments in `$4`..`$9` (`a0`..`a5`); result in `$2`. Errors are
//! signalled apart from the value: the kernel sets `$7` (`a3`) non-zero and returns the errno
//! *positive* in `$2`. Every `syscallN` here negates it then, so callers see `-errno` as on
//! the other architectures and `crate::sys` decodes results the same way everywhere.
//!
//! The kernel may change `$3`, `$7`..`$15`, `$24` and `$25`, and its return path
//! (`RESTORE_SOME` in `arch/mips/include/asm/stackframe.h`) leaves `$1` (`$at`) clobbered too.
//! Rust cannot name `$1` as an operand or clobber (it is the assembler's temporary), yet LLVM
//! keeps live values in it across inline assembly: with `$1` undeclared, release programs
//! failed on real malta kernels (wrong `statx`/`mremap` arguments, a SIGBUS) while passing
//! under qemu-user, which clobbers nothing. So the asm saves `$1` in `$16` (callee-saved, so
//! the kernel keeps it; declared clobbered here) and restores it after the call.
//!
//! `asm!` on mips still needs the unstable `asm_experimental_arch` feature (enabled in
//! `lib.rs` for this architecture only), so mips builds need nightly or `RUSTC_BOOTSTRAP=1`.
//! The `_readonly` variants are for calls that write no user memory.

use core::arch::asm;

pub(crate) use super::abi64::{
    fallocate, fstatfs, ftruncate, mmap, statfs_block_size, statfs_type, Statfs,
};
pub(crate) use super::generic_consts::*;

/// Syscall numbers of the n64 ABI: 5000 plus the position in
/// `arch/mips/kernel/syscalls/syscall_n64.tbl`, the shared block from 424 on included.
pub(crate) mod nr {
    pub const READ: usize = 5000;
    pub const WRITE: usize = 5001;
    pub const CLOSE: usize = 5003;
    pub const MMAP: usize = 5009;
    pub const MPROTECT: usize = 5010;
    pub const MUNMAP: usize = 5011;
    #[allow(dead_code)] // only the allocator's spin lock (feature `dlmalloc`) yields
    pub const SCHED_YIELD: usize = 5023;
    pub const MREMAP: usize = 5024;
    pub const MSYNC: usize = 5025;
    pub const MINCORE: usize = 5026;
    pub const MADVISE: usize = 5027;
    pub const SHMGET: usize = 5028;
    pub const SHMAT: usize = 5029;
    pub const SHMCTL: usize = 5030;
    pub const GETPID: usize = 5038;
    pub const SHMDT: usize = 5065;
    pub const FCNTL: usize = 5070;
    pub const FTRUNCATE: usize = 5075;
    pub const FALLOCATE: usize = 5279;
    pub const SYSINFO: usize = 5097;
    pub const FSTATFS: usize = 5135;
    pub const MLOCK: usize = 5146;
    pub const MUNLOCK: usize = 5147;
    pub const MLOCKALL: usize = 5148;
    pub const MUNLOCKALL: usize = 5149;
    pub const PRCTL: usize = 5153;
    pub const CACHEFLUSH: usize = 5197;
    pub const EXIT_GROUP: usize = 5205;
    pub const MBIND: usize = 5227;
    pub const GET_MEMPOLICY: usize = 5228;
    pub const SET_MEMPOLICY: usize = 5229;
    pub const MIGRATE_PAGES: usize = 5246;
    pub const OPENAT: usize = 5247;
    pub const UNLINKAT: usize = 5253;
    pub const MOVE_PAGES: usize = 5267;
    pub const PRLIMIT64: usize = 5297;
    pub const MEMFD_CREATE: usize = 5314;
    pub const MLOCK2: usize = 5319;
    pub const PKEY_MPROTECT: usize = 5323;
    pub const PKEY_ALLOC: usize = 5324;
    pub const PKEY_FREE: usize = 5325;
    pub const STATX: usize = 5326;
    pub const PIDFD_OPEN: usize = 5434;
    pub const PROCESS_MADVISE: usize = 5440;
    /// Reserved for `memfd_secret` everywhere, but mips does not wire it up: `ENOSYS`.
    pub const MEMFD_SECRET: usize = 5447;
    pub const SET_MEMPOLICY_HOME_NODE: usize = 5450;
    pub const CACHESTAT: usize = 5451;
    pub const MSEAL: usize = 5462;
}

// Values that differ from the asm-generic ones (`arch/mips/include/uapi/asm/mman.h`,
// `fcntl.h`, `errno.h`). A wrong `MAP_ANONYMOUS` would map a file (fd -1: `EBADF`), a wrong
// `MAP_NORESERVE` would charge every reservation against the commit limit, a wrong `O_EXCL`
// would let `shm_open` open an object it was asked to create.
/// `SHMLBA` (`arch/mips/include/asm/shmparam.h`): mips data caches may be virtually
/// indexed with ways larger than a page (the 5Kc's, which QEMU's malta models: 8 KiB ways
/// of 4 KiB pages), so two virtual addresses of one page are coherent only at the same
/// cache colour. The kernel refuses a `MAP_SHARED` mapping at a fixed address whose colour
/// differs from its file offset's (`EINVAL` from `arch_get_unmapped_area`; a mere hint is
/// moved up to the next colour boundary, then by the offset's colour). Its real mask depends on the CPU's caches and
/// cannot be read from user space; `SHMLBA` is the largest it can be.
pub(crate) const SHM_COLOUR: usize = 0x4_0000;
pub(crate) const PROT_SEM: u32 = 0x10;
pub(crate) const MAP_NORESERVE: u32 = 0x0400;
pub(crate) const MAP_ANONYMOUS: u32 = 0x0800;
pub(crate) const MAP_GROWSDOWN: u32 = 0x1000;
pub(crate) const MAP_LOCKED: u32 = 0x8000;
pub(crate) const MAP_POPULATE: u32 = 0x1_0000;
pub(crate) const MAP_NONBLOCK: u32 = 0x2_0000;
pub(crate) const MAP_STACK: u32 = 0x4_0000;
pub(crate) const MAP_HUGETLB: u32 = 0x8_0000;
pub(crate) const O_APPEND: u32 = 0x0008;
pub(crate) const O_DSYNC: u32 = 0x0010;
pub(crate) const O_NONBLOCK: u32 = 0x0080;
pub(crate) const O_CREAT: u32 = 0x0100;
pub(crate) const O_TRUNC: u32 = 0x0200;
pub(crate) const O_EXCL: u32 = 0x0400;
pub(crate) const O_NOCTTY: u32 = 0x0800;
pub(crate) const O_LARGEFILE: u32 = 0x2000;
/// `__O_SYNC | O_DSYNC`.
pub(crate) const O_SYNC: u32 = 0x4010;
pub(crate) const O_DIRECT: u32 = 0x8000;
/// mips's `EDEADLOCK` is an errno of its own, not the asm-generic alias of `EDEADLK` (which
/// is 45 here).
pub(crate) const EDEADLOCK: i32 = 56;

/// n64's `shmctl` (5030) is the kernel's `old_shmctl` (`syscall_n64.tbl`), which fills the old
/// `shmid_ds` unless the command asks for `shmid64_ds` with `IPC_64`: without it, 6.12 put a
/// time where `shm_segsz` should be.
pub(crate) const SHMCTL_VERSION: usize = 0x100;

/// `cacheflush`'s `cache` argument: both caches (`BCACHE` in `asm/cachectl.h`).
const BCACHE: usize = 3;

/// Makes the instruction cache coherent with data just written to `[start, start + len)`.
///
/// `synci` would do it from user space, but only from MIPS64 release 2 on; the kernel's
/// `cacheflush` call works on every core (the 5Kc of Debian's malta kernels is release 1),
/// as GCC's `__clear_cache` does without `synci`.
///
/// # Safety
/// None beyond the call's: the kernel checks the range (it must be mapped).
pub(crate) unsafe fn sync_instruction_cache(start: usize, len: usize) {
    // SAFETY: the call writes no user memory; it only writes back and invalidates caches.
    unsafe {
        syscall3_readonly(nr::CACHEFLUSH, start, len, BCACHE);
    }
}

/// `syscall_asm!([OPERANDS], [OPTIONS])`: the `syscall` instruction with `$1` saved and
/// restored around it and every other register the kernel may change declared, written once
/// so no call can forget one (qemu-user changes none of them: only a real kernel would show
/// the mistake). OPERANDS must bind `$2` (number in, value out) and `$7` (error flag out),
/// and name `$8` and `$9` (arguments, or clobbered).
macro_rules! syscall_asm {
    ([$($operands:tt)*], [$($options:ident),*]) => {
        asm!(
            ".set noat",
            "move $16, $1",
            "syscall",
            "move $1, $16",
            ".set at",
            $($operands)*
            lateout("$16") _,
            lateout("$3") _, lateout("$10") _, lateout("$11") _, lateout("$12") _,
            lateout("$13") _, lateout("$14") _, lateout("$15") _, lateout("$24") _,
            lateout("$25") _,
            options(nostack, preserves_flags, $($options),*)
        )
    };
}

/// The kernel's answer as the raw word the other architectures give: `-errno` if `$7` says
/// the call failed, the value otherwise.
#[inline(always)]
fn raw_result(value: usize, failed: usize) -> usize {
    if failed != 0 {
        value.wrapping_neg()
    } else {
        value
    }
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall0(nr: usize) -> usize {
    let (value, failed): (usize, usize);
    // SAFETY: the caller vouches for the call; the asm follows the n64 syscall ABI.
    unsafe {
        syscall_asm!(
            [inlateout("$2") nr => value, lateout("$7") failed, lateout("$8") _,
             lateout("$9") _,],
            []
        );
    }
    raw_result(value, failed)
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall1(nr: usize, a0: usize) -> usize {
    let (value, failed): (usize, usize);
    // SAFETY: the caller vouches for the call; the asm follows the n64 syscall ABI.
    unsafe {
        syscall_asm!(
            [inlateout("$2") nr => value, lateout("$7") failed, in("$4") a0, lateout("$8") _,
             lateout("$9") _,],
            []
        );
    }
    raw_result(value, failed)
}

/// # Safety
/// The system call must write no user memory and must not violate memory safety.
#[inline(always)]
pub(crate) unsafe fn syscall1_readonly(nr: usize, a0: usize) -> usize {
    let (value, failed): (usize, usize);
    // SAFETY: the caller vouches that the call writes no user memory.
    unsafe {
        syscall_asm!(
            [inlateout("$2") nr => value, lateout("$7") failed, in("$4") a0, lateout("$8") _,
             lateout("$9") _,],
            [readonly]
        );
    }
    raw_result(value, failed)
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall2(nr: usize, a0: usize, a1: usize) -> usize {
    let (value, failed): (usize, usize);
    // SAFETY: the caller vouches for the call; the asm follows the n64 syscall ABI.
    unsafe {
        syscall_asm!(
            [inlateout("$2") nr => value, lateout("$7") failed, in("$4") a0, in("$5") a1,
             lateout("$8") _, lateout("$9") _,],
            []
        );
    }
    raw_result(value, failed)
}

/// # Safety
/// The system call must write no user memory and must not violate memory safety.
#[inline(always)]
pub(crate) unsafe fn syscall2_readonly(nr: usize, a0: usize, a1: usize) -> usize {
    let (value, failed): (usize, usize);
    // SAFETY: the caller vouches that the call writes no user memory.
    unsafe {
        syscall_asm!(
            [inlateout("$2") nr => value, lateout("$7") failed, in("$4") a0, in("$5") a1,
             lateout("$8") _, lateout("$9") _,],
            [readonly]
        );
    }
    raw_result(value, failed)
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall3(nr: usize, a0: usize, a1: usize, a2: usize) -> usize {
    let (value, failed): (usize, usize);
    // SAFETY: the caller vouches for the call; the asm follows the n64 syscall ABI.
    unsafe {
        syscall_asm!(
            [inlateout("$2") nr => value, lateout("$7") failed, in("$4") a0, in("$5") a1,
             in("$6") a2, lateout("$8") _, lateout("$9") _,],
            []
        );
    }
    raw_result(value, failed)
}

/// # Safety
/// The system call must write no user memory and must not violate memory safety.
#[inline(always)]
pub(crate) unsafe fn syscall3_readonly(nr: usize, a0: usize, a1: usize, a2: usize) -> usize {
    let (value, failed): (usize, usize);
    // SAFETY: the caller vouches that the call writes no user memory.
    unsafe {
        syscall_asm!(
            [inlateout("$2") nr => value, lateout("$7") failed, in("$4") a0, in("$5") a1,
             in("$6") a2, lateout("$8") _, lateout("$9") _,],
            [readonly]
        );
    }
    raw_result(value, failed)
}

/// # Safety
/// The system call must not violate memory safety given these arguments.
#[inline(always)]
pub(crate) unsafe fn syscall4(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> usize {
    let (value, failed): (usize, usize);
    // SAFETY: the caller vouches for the call; the asm follows the n64 syscall ABI.
    unsafe {
        syscall_asm!(
            [inlateout("$2") nr => value, inlateout("$7") a3 => failed, in("$4") a0,
             in("$5") a1, in("$6") a2, lateout("$8") _, lateout("$9") _,],
            []
        );
    }
    raw_result(value, failed)
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
    let (value, failed): (usize, usize);
    // SAFETY: the caller vouches for the call; the asm follows the n64 syscall ABI.
    unsafe {
        syscall_asm!(
            [inlateout("$2") nr => value, inlateout("$7") a3 => failed, in("$4") a0,
             in("$5") a1, in("$6") a2, inlateout("$8") a4 => _, lateout("$9") _,],
            []
        );
    }
    raw_result(value, failed)
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
    let (value, failed): (usize, usize);
    // SAFETY: the caller vouches for the call; the asm follows the n64 syscall ABI.
    unsafe {
        syscall_asm!(
            [inlateout("$2") nr => value, inlateout("$7") a3 => failed, in("$4") a0,
             in("$5") a1, in("$6") a2, inlateout("$8") a4 => _, inlateout("$9") a5 => _,],
            []
        );
    }
    raw_result(value, failed)
}

/// Ends the process: `exit_group` never returns.
#[inline(always)]
pub(crate) fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group touches no user memory and does not return.
    unsafe {
        asm!(
            "syscall",
            in("$2") nr::EXIT_GROUP,
            in("$4") code as usize,
            options(noreturn, nostack)
        )
    };
}
