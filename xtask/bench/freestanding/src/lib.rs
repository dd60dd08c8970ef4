//! `xtask/bench/c/freestanding.c` with mman and no libc: map a page, write a message into
//! it, write it to standard output, unmap it, exit.
//!
//! examples/freestanding.rs began as this program and now also exercises the whole safe
//! layer, so the size comparison with C needs this twin; the bench reports both. The entry
//! stubs are the example's: the kernel starts a process with the stack pointer at `argc`.
#![no_std]

use mman::fd::BorrowedFd;
use mman::{sys, Mapping};

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "mov rdi, rsp", // the initial stack: argc, argv..., 0, envp..., 0, auxv...
    "and rsp, -16", // the ABI wants a 16-byte aligned stack at a call
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

/// As long as the C program's, so that neither copies more.
const MESSAGE: &[u8] = b"freestanding: hello from a page mapped without libc\n";

/// Finds the auxiliary vector (for the page size, as the C library would) and runs.
///
/// # Safety
/// `stack` must be the stack pointer the kernel started the process with.
unsafe extern "C" fn entry(stack: *const usize) -> ! {
    // SAFETY: the kernel's initial stack layout: argc, argc pointers, a null, the
    // environment pointers, a null, then the auxiliary vector.
    let auxv = unsafe {
        let mut p = stack.add(1 + *stack + 1);
        while *p != 0 {
            p = p.add(1);
        }
        p.add(1)
    };
    // SAFETY: `auxv` points at this process's auxiliary vector.
    unsafe { mman::init_from_auxv(auxv) };
    sys::exit_group(match run() {
        Ok(()) => 0,
        Err(errno) => errno.raw(),
    })
}

fn run() -> mman::Result<()> {
    let mut page = Mapping::anonymous(mman::page_size())?;
    let message = page
        .as_mut_slice()?
        .get_mut(..MESSAGE.len())
        .ok_or(mman::Errno::EINVAL)?;
    message.copy_from_slice(MESSAGE);
    // SAFETY: descriptor 1 is standard output, open for the life of the process.
    let stdout = unsafe { BorrowedFd::borrow_raw(1) };
    sys::write(stdout, message)?;
    Ok(())
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    sys::exit_group(101)
}

// The compiler lowers copies and fills to calls to these, which a C library would supply.
// Volatile accesses keep LLVM from turning the loops back into calls to themselves.

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
/// As C's `memset`.
#[unsafe(no_mangle)]
unsafe extern "C" fn memset(dst: *mut u8, byte: i32, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: the caller guarantees the range is valid for `n` bytes.
        unsafe { dst.add(i).write_volatile(byte as u8) };
    }
    dst
}
