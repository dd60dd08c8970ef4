//! The floor: mmap and munmap of a private anonymous read-write page as bare inline-asm
//! system calls, written here rather than taken from mman, so that nothing of mman's can
//! hide in it. No library can issue these two calls in fewer user-space instructions.

/// `PROT_READ | PROT_WRITE`, the same on every architecture.
const PROT_RW: usize = 0x3;
/// `MAP_PRIVATE | MAP_ANONYMOUS`, the same on x86_64 and aarch64.
const MAP_PRIVATE_ANONYMOUS: usize = 0x22;

/// Maps `len` bytes of private anonymous read-write memory; returns the raw return word
/// (an address, or `-errno`).
///
/// # Safety
/// None beyond the system call's: it maps fresh memory and replaces nothing.
#[inline(always)]
pub unsafe fn mmap_anonymous(len: usize) -> usize {
    // SAFETY: forwarded to the caller.
    unsafe {
        arch::syscall6(
            arch::MMAP,
            0,
            len,
            PROT_RW,
            MAP_PRIVATE_ANONYMOUS,
            usize::MAX,
            0,
        )
    }
}

/// Unmaps `[addr, addr + len)`; returns the raw return word.
///
/// # Safety
/// Nothing may use the range afterwards.
#[inline(always)]
pub unsafe fn munmap(addr: usize, len: usize) -> usize {
    // SAFETY: forwarded to the caller.
    unsafe { arch::syscall2(arch::MUNMAP, addr, len) }
}

#[cfg(target_arch = "x86_64")]
mod arch {
    use core::arch::asm;

    pub const MMAP: usize = 9;
    pub const MUNMAP: usize = 11;

    /// # Safety
    /// As for the system call `nr` with these arguments.
    #[inline(always)]
    pub unsafe fn syscall2(nr: usize, a0: usize, a1: usize) -> usize {
        let ret;
        // SAFETY: the x86_64 syscall ABI; `syscall` clobbers rcx and r11 only.
        unsafe {
            asm!("syscall", inlateout("rax") nr => ret, in("rdi") a0, in("rsi") a1,
                 lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags));
        }
        ret
    }

    /// # Safety
    /// As for the system call `nr` with these arguments.
    #[inline(always)]
    pub unsafe fn syscall6(
        nr: usize,
        a0: usize,
        a1: usize,
        a2: usize,
        a3: usize,
        a4: usize,
        a5: usize,
    ) -> usize {
        let ret;
        // SAFETY: the x86_64 syscall ABI; `syscall` clobbers rcx and r11 only.
        unsafe {
            asm!("syscall", inlateout("rax") nr => ret, in("rdi") a0, in("rsi") a1,
                 in("rdx") a2, in("r10") a3, in("r8") a4, in("r9") a5,
                 lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags));
        }
        ret
    }
}

#[cfg(target_arch = "aarch64")]
mod arch {
    use core::arch::asm;

    pub const MMAP: usize = 222;
    pub const MUNMAP: usize = 215;

    /// # Safety
    /// As for the system call `nr` with these arguments.
    #[inline(always)]
    pub unsafe fn syscall2(nr: usize, a0: usize, a1: usize) -> usize {
        let ret;
        // SAFETY: the aarch64 syscall ABI; `svc 0` clobbers nothing but x0.
        unsafe {
            asm!("svc 0", in("x8") nr, inlateout("x0") a0 => ret, in("x1") a1,
                 options(nostack, preserves_flags));
        }
        ret
    }

    /// # Safety
    /// As for the system call `nr` with these arguments.
    #[inline(always)]
    pub unsafe fn syscall6(
        nr: usize,
        a0: usize,
        a1: usize,
        a2: usize,
        a3: usize,
        a4: usize,
        a5: usize,
    ) -> usize {
        let ret;
        // SAFETY: the aarch64 syscall ABI; `svc 0` clobbers nothing but x0.
        unsafe {
            asm!("svc 0", in("x8") nr, inlateout("x0") a0 => ret, in("x1") a1, in("x2") a2,
                 in("x3") a3, in("x4") a4, in("x5") a5, options(nostack, preserves_flags));
        }
        ret
    }
}
