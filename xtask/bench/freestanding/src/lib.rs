//! `xtask/bench/c/freestanding.c` with mman and no libc: map a page, write a message into
//! it, write it to standard output, unmap it, exit.
//!
//! examples/freestanding.rs began as this program and now also exercises the whole safe
//! layer, so the size comparison with C needs this twin; the bench reports both. The entry
//! point and memory functions are the example's own (`examples/support/no_libc.rs`).
#![no_std]
#![cfg_attr(target_arch = "mips64", feature(asm_experimental_arch))] // its `_start`

use mman::fd::BorrowedFd;
use mman::{sys, Mapping};

#[path = "../../../../examples/support/no_libc.rs"]
mod no_libc;

/// As long as the C program's, so that neither copies more.
const MESSAGE: &[u8] = b"freestanding: hello from a page mapped without libc\n";

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
