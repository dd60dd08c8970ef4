//! A program with no libc at all: its own `_start`, static, `#![no_std]`.
//!
//! It maps a page, writes a message through it, prints it, unmaps it and exits, with
//! nothing but mman underneath. `cargo xtask` links it (see `xtask/src/freestanding.rs`):
//! cargo builds it as a static library so that `cargo test` and `clippy --all-targets`
//! need no special linker flags, and the xtask links that into an executable with
//! `-nostdlib -static` and runs it, on every architecture.
//!
//! The only architecture-specific lines are the two-instruction entry stubs below: the
//! kernel starts a process with the stack pointer at `argc`, and a Rust function needs it
//! as an argument on an aligned stack.
#![no_std]
#![no_main]

use mman::fd::BorrowedFd;
use mman::{
    sys, Access, Advice, Flush, MapOptions, Mapping, Memfd, Prot, SecretMemory, SharedMemory,
    SysvSegment,
};

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

const MESSAGE: &[u8] = b"freestanding: hello from a page mapped without libc\n";

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
    sys::exit_group(match run() {
        Ok(()) => 0,
        Err(errno) => errno.raw(),
    })
}

fn run() -> mman::Result<()> {
    let mut page = Mapping::anonymous(mman::page_size())?;
    let bytes = page.as_mut_slice()?;
    let message = bytes.get_mut(..MESSAGE.len()).ok_or(mman::Errno::EINVAL)?;
    message.copy_from_slice(MESSAGE);
    // SAFETY: descriptor 1 is standard output, open for the life of the process.
    let stdout = unsafe { BorrowedFd::borrow_raw(1) };
    sys::write(stdout, message)?;
    drop(page);
    exercise_safe_layer()?;
    sys::write(stdout, b"freestanding: safe layer exercised\n")?;
    Ok(())
}

/// Uses the rest of the safe layer once, so that the `mman_panic_check` build (see the
/// panic handlers below) covers it too.
fn exercise_safe_layer() -> mman::Result<()> {
    let page = mman::page_size();
    let mut memory = MapOptions::new().len(4 * page).populate().map()?;
    memory.protect(..page, Prot::READ)?;
    memory.protect(.., Prot::READ | Prot::WRITE)?;
    memory.advise(.., Advice::WillNeed)?;
    memory.remap(8 * page, true)?;
    memory.as_mut_slice()?.fill(1);
    let _ = memory.guard(..page)?;
    memory.unguard(Prot::READ | Prot::WRITE)?;

    let memfd = Memfd::new(c"freestanding")?;
    memfd.set_len(page as u64)?;
    let mut view = MapOptions::new().shared().map_file(&memfd, 0)?;
    view.write_at(0, b"sealed")?;
    view.flush(.., Flush::Sync)?;
    drop(view);
    memfd.freeze()?;
    let mut back = [0u8; 6];
    memfd.map(Access::ReadOnly)?.read_at(0, &mut back)?;

    let shm = SharedMemory::create(c"mman-freestanding", page as u64)?;
    shm.map()?
        .atomic_u32(0)?
        .store(1, core::sync::atomic::Ordering::Release);
    drop(shm);

    let segment = SysvSegment::create_private(page)?;
    segment.attach(Access::ReadWrite)?.write_at(0, &back)?;

    let mut secret = SecretMemory::new(32)?;
    secret.as_mut_slice().fill(0x5a);
    Ok(())
}

// With feature `std` (as in `cargo test --all-features`) std is linked and brings its own.
#[cfg(all(not(feature = "std"), not(mman_panic_check)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    sys::exit_group(101)
}

// `cargo xtask test` also builds this with `--cfg mman_panic_check`: the handler then calls
// a symbol defined nowhere, so the link fails if any panic path is still reachable.
#[cfg(all(not(feature = "std"), mman_panic_check))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    unsafe extern "C" {
        fn mman_panic_is_reachable() -> !;
    }
    // SAFETY: never runs: the link fails first if this is reachable.
    unsafe { mman_panic_is_reachable() }
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
