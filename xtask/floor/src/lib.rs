//! Two functions with one job, mapping `len` bytes of private anonymous read-write memory
//! and unmapping them again: `mman_map_unmap` through `mman::sys`, `floor_map_unmap` in
//! hand-written assembly (`floor/<arch>.rs`). Both return 0, or `-errno` if the mapping
//! failed. `cargo xtask bench` disassembles this library for every architecture and counts
//! each function's instructions: what mman adds to the two system calls, if anything.
//!
//! The hand-written versions are the least an assembly programmer would write for the
//! architecture's calling convention and system-call ABI: arguments set up, the call, the
//! error test, the second call, the return. They share nothing with mman's `arch/`.

#![no_std]
#![cfg_attr(target_arch = "mips64", feature(asm_experimental_arch))] // floor.rs

use core::ptr::null_mut;

use mman::{sys, MapFlags, Prot};

mod floor;

/// `mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)`, then
/// `munmap` of what it returned.
///
/// # Safety
/// None beyond the calls': the mapping is new and unmapped before returning.
#[no_mangle]
pub unsafe extern "C" fn mman_map_unmap(len: usize) -> isize {
    let (prot, flags) = (
        Prot::READ | Prot::WRITE,
        MapFlags::PRIVATE | MapFlags::ANONYMOUS,
    );
    // SAFETY: a fresh mapping at an address the kernel picks, unmapped right away; nothing
    // refers to it.
    unsafe {
        match sys::mmap(null_mut(), len, prot, flags, -1, 0) {
            Ok(addr) => {
                let _ = sys::munmap(addr, len);
                0
            }
            Err(errno) => -(errno.raw() as isize),
        }
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
