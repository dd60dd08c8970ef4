//! What a program without libc needs around its `main`, shared by `examples/freestanding.rs`
//! and its size-comparison twin in `xtask/bench/freestanding/`: the process entry point,
//! which finds the auxiliary vector and runs `crate::run`, and the memory functions the
//! compiler calls. Each program includes it with `#[path]` and brings its own `run` and
//! panic handler.
//!
//! The only architecture-specific lines are the two-instruction entry stubs: the kernel
//! starts a process with the stack pointer at `argc`, and a Rust function needs it as an
//! argument on an aligned stack.

use mman::sys;

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "mov rdi, rsp",   // the initial stack: argc, argv..., 0, envp..., 0, auxv...
    "and rsp, -16",   // the ABI wants a 16-byte aligned stack at a call
    "call {entry}",
    entry = sym entry,
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "mov x0, sp", // the kernel leaves sp 16-byte aligned, pointing at argc
    "bl {entry}",
    entry = sym entry,
);

#[cfg(target_arch = "riscv64")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    // The linker relaxes accesses near `__global_pointer$` into gp-relative ones; gp must
    // hold it before any Rust code runs (and this load must not be relaxed itself).
    ".option push",
    ".option norelax",
    "lla gp, __global_pointer$",
    ".option pop",
    "mv a0, sp", // the kernel leaves sp 16-byte aligned, pointing at argc
    "call {entry}",
    entry = sym entry,
);

#[cfg(target_arch = "powerpc64")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    // ELFv2: the kernel enters with r12 = _start; the TOC pointer (r2) is derived from it.
    "addis 2, 12, .TOC.-_start@ha",
    "addi 2, 2, .TOC.-_start@l",
    "mr 3, 1",          // the initial stack: argc, argv..., 0, envp..., 0, auxv...
    "clrrdi 1, 1, 4",   // a 16-byte aligned stack
    "li 0, 0",
    "stdu 0, -32(1)",   // a minimal frame with a null back chain
    "bl {entry}",
    entry = sym entry,
);

#[cfg(target_arch = "s390x")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "lgr %r2, %r15",          // the initial stack: argc, argv..., 0, envp..., 0, auxv...
    "aghi %r15, -160",        // the 160-byte register save area a callee may use
    "xc 0(8, %r15), 0(%r15)", // a null back chain
    "brasl %r14, {entry}",
    entry = sym entry,
);

#[cfg(target_arch = "loongarch64")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "move $a0, $sp", // the kernel leaves sp 16-byte aligned, pointing at argc
    "bl {entry}",
    entry = sym entry,
);

#[cfg(target_arch = "x86")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "mov eax, esp", // the initial stack: argc, argv..., 0, envp..., 0, auxv...
    "and esp, -16", // the i386 ABI wants a 16-byte aligned stack at a call:
    "sub esp, 12",  // 12 bytes of padding and the 4-byte argument (cdecl: on the stack)
    "push eax",
    "call {entry}",
    entry = sym entry,
);

#[cfg(target_arch = "arm")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "mov r0, sp", // the kernel leaves sp 8-byte aligned (as AAPCS wants), pointing at argc
    "bl {entry}",
    entry = sym entry,
);

// n64 code finds its globals through $gp, which each function derives from $25, its own
// address: `entry` is called through $25, loaded with its absolute address (the program is
// linked static and not position-independent). The assembler fills the delay slot. GNU ld's
// default entry symbol on mips is `__start`, so the stub has both names.
#[cfg(target_arch = "mips64")]
core::arch::global_asm!(
    ".globl _start",
    ".globl __start",
    "_start:",
    "__start:",
    "move $4, $sp", // the kernel leaves sp 16-byte aligned, pointing at argc
    "lui $25, %highest({entry})",
    "daddiu $25, $25, %higher({entry})",
    "dsll $25, $25, 16",
    "daddiu $25, $25, %hi({entry})",
    "dsll $25, $25, 16",
    "daddiu $25, $25, %lo({entry})",
    "jalr $25",
    entry = sym entry,
);

/// Finds the auxiliary vector on the initial stack and runs the program.
///
/// # Safety
/// `stack` must be the stack pointer the kernel started the process with.
unsafe extern "C" fn entry(stack: *const usize) -> ! {
    // SAFETY: the kernel's initial stack layout: argc, argc pointers, a null, the
    // environment pointers, a null, then the auxiliary vector.
    let auxv = unsafe {
        let argc = *stack;
        let mut p = stack.add(1 + argc + 1);
        while *p != 0 {
            p = p.add(1);
        }
        p.add(1)
    };
    // SAFETY: `auxv` points at this process's auxiliary vector.
    unsafe { mman::init_from_auxv(auxv) };
    sys::exit_group(match crate::run() {
        Ok(()) => 0,
        Err(errno) => errno.raw(),
    })
}

// The compiler lowers copies and fills to calls to these; libc would supply them, so a
// program without it must. Volatile accesses keep LLVM from recognising the loops as
// memcpy/memset and calling themselves.

/// # Safety
/// As C's `memcpy`.
#[unsafe(no_mangle)]
unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: the caller guarantees both ranges are valid for `n` bytes.
        unsafe { dst.add(i).write_volatile(src.add(i).read_volatile()) };
    }
    dst
}

/// # Safety
/// As C's `memmove`.
#[unsafe(no_mangle)]
unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize) < (src as usize) {
        // SAFETY: forwards copying is correct when the destination is below the source.
        return unsafe { memcpy(dst, src, n) };
    }
    for i in (0..n).rev() {
        // SAFETY: the caller guarantees both ranges are valid for `n` bytes.
        unsafe { dst.add(i).write_volatile(src.add(i).read_volatile()) };
    }
    dst
}

/// # Safety
/// As C's `memset`.
#[unsafe(no_mangle)]
unsafe extern "C" fn memset(dst: *mut u8, byte: i32, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: the caller guarantees the range is valid for `n` bytes.
        unsafe { dst.add(i).write_volatile(byte as u8) };
    }
    dst
}

/// # Safety
/// As C's `memcmp`.
#[unsafe(no_mangle)]
unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: the caller guarantees both ranges are valid for `n` bytes.
        let (x, y) = unsafe { (a.add(i).read_volatile(), b.add(i).read_volatile()) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}

/// # Safety
/// As C's `bcmp`.
#[unsafe(no_mangle)]
unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: forwarded to the caller.
    unsafe { memcmp(a, b, n) }
}

// aarch64: Rust calls compiler-builtins' helpers for atomic read-modify-write operations
// ("outline atomics"), and their module also holds libgcc's start-up check for the LSE
// instructions, which asks libc's `getauxval` and is built with a stack protector. With no
// libc, these three stand in. Answering 0 says "no LSE": the helpers then use the ARMv8.0
// exclusive loads and stores, which every aarch64 CPU has.

/// No auxiliary-vector entry is known here: 0, as `getauxval` answers for a missing one.
#[cfg(target_arch = "aarch64")]
#[unsafe(no_mangle)]
extern "C" fn getauxval(_entry: u64) -> u64 {
    0
}

/// The stack protector's canary for that check.
#[cfg(target_arch = "aarch64")]
#[unsafe(no_mangle)]
static __stack_chk_guard: u64 = 0x6d6d_616e_2d67_7561;

/// A smashed stack in that check: exit at once.
#[cfg(target_arch = "aarch64")]
#[unsafe(no_mangle)]
extern "C" fn __stack_chk_fail() -> ! {
    sys::exit_group(134)
}

// arm: every function in an EHABI unwind index (`.ARM.exidx`) that may unwind names its
// personality routine, and the linker needs that symbol even if nothing ever unwinds. Here
// nothing does (panics abort, and no unwinder is linked: `_Unwind_RaiseException` is
// absent), but the index entries are there all the same: the std is built with unwind
// tables, and rustc's allocator shims are not marked as unable to unwind even with
// `panic = "abort"`. libgcc_eh would bring the real routines and the whole unwinder with
// them; these stand-ins, which only an unwinder could call, exit instead.

/// EHABI's personality routine for the short unwind-table format (unreachable here).
#[cfg(target_arch = "arm")]
#[unsafe(no_mangle)]
extern "C" fn __aeabi_unwind_cpp_pr0() -> ! {
    sys::exit_group(134)
}

/// EHABI's personality routine for the long format, 16-bit scope (unreachable here).
#[cfg(target_arch = "arm")]
#[unsafe(no_mangle)]
extern "C" fn __aeabi_unwind_cpp_pr1() -> ! {
    sys::exit_group(134)
}

/// EHABI's personality routine for the long format, 32-bit scope (unreachable here).
#[cfg(target_arch = "arm")]
#[unsafe(no_mangle)]
extern "C" fn __aeabi_unwind_cpp_pr2() -> ! {
    sys::exit_group(134)
}
