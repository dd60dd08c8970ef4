//! The loops callgrind counts: one anonymous page mapped and unmapped N times through one
//! API (and, for a table of its own, a 2 MiB reservation's life through `mman::sys` and
//! `Reservation`).
//!
//! The xtask runs this under callgrind twice, with N and with 0 iterations, and divides the
//! difference by N: everything else the process does (start-up, argument parsing, exit)
//! cancels out. Every variant does the same work: map, abort if mapping failed, unmap,
//! ignore what unmapping said (as `Drop` impls must).

use std::hint::black_box;
use std::process::abort;
use std::ptr::null_mut;

use mman::{sys, MapFlags, Mapping, Prot};

use crate::reservations::SIZE;

/// The variants, by the name the xtask passes.
pub const VARIANTS: &[&str] = &["asm", "sys", "mapping", "rustix", "libc", "memmap2"];

pub fn run(variant: &str, iterations: u64) -> Result<(), String> {
    let page = mman::page_size();
    match variant {
        "asm" => repeat(iterations, page, asm_pair),
        "sys" => repeat(iterations, page, sys_pair),
        "mapping" => repeat(iterations, page, mapping_pair),
        "rustix" => repeat(iterations, page, rustix_pair),
        "libc" => repeat(iterations, page, libc_pair),
        "memmap2" => repeat(iterations, page, memmap2_pair),
        // A 2 MiB reservation's life (see `reservations`), for its own table.
        "reservation-sys" => repeat(iterations, SIZE, crate::reservations::cycle_sys),
        "reservation" => repeat(iterations, SIZE, crate::reservations::cycle_reservation),
        _ => return Err(format!("unknown variant `{variant}` (one of {VARIANTS:?})")),
    }
    Ok(())
}

/// Runs `pair` once, then `iterations` more times in a loop of its own.
///
/// The first call happens in the zero-iteration run too, so one-time costs (glibc's lazy
/// symbol binding, page-size caches) cancel out. `black_box` hides the length from the
/// optimiser on every iteration, so no variant can fold or hoist any of its work; it costs
/// every variant the same.
#[inline(never)]
fn repeat(iterations: u64, page: usize, pair: impl Fn(usize)) {
    pair(black_box(page));
    for _ in 0..iterations {
        pair(black_box(page));
    }
}

/// The floor: the two system calls in inline asm, and the error test any caller makes.
#[inline(always)]
fn asm_pair(len: usize) {
    // SAFETY: maps fresh memory, then unmaps exactly that; nothing else refers to it.
    unsafe {
        let addr = crate::floor::mmap_anonymous(len);
        if addr > -4096isize as usize {
            abort();
        }
        crate::floor::munmap(addr, len);
    }
}

#[inline(always)]
fn sys_pair(len: usize) {
    let (prot, flags) = (
        Prot::READ | Prot::WRITE,
        MapFlags::PRIVATE | MapFlags::ANONYMOUS,
    );
    // SAFETY: as in `asm_pair`.
    unsafe {
        let Ok(addr) = sys::mmap(null_mut(), len, prot, flags, -1, 0) else {
            abort()
        };
        let _ = sys::munmap(addr, len);
    }
}

#[inline(always)]
fn mapping_pair(len: usize) {
    let Ok(mapping) = Mapping::anonymous(len) else {
        abort()
    };
    drop(mapping);
}

#[inline(always)]
fn rustix_pair(len: usize) {
    use rustix::mm::{MapFlags, ProtFlags};
    // SAFETY: as in `asm_pair`.
    unsafe {
        let prot = ProtFlags::READ | ProtFlags::WRITE;
        let Ok(addr) = rustix::mm::mmap_anonymous(null_mut(), len, prot, MapFlags::PRIVATE) else {
            abort()
        };
        let _ = rustix::mm::munmap(addr, len);
    }
}

#[inline(always)]
fn libc_pair(len: usize) {
    let (prot, flags) = (
        libc::PROT_READ | libc::PROT_WRITE,
        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
    );
    // SAFETY: as in `asm_pair`.
    unsafe {
        let addr = libc::mmap(null_mut(), len, prot, flags, -1, 0);
        if addr == libc::MAP_FAILED {
            abort();
        }
        libc::munmap(addr, len);
    }
}

#[inline(always)]
fn memmap2_pair(len: usize) {
    let Ok(mapping) = memmap2::MmapMut::map_anon(len) else {
        abort()
    };
    drop(mapping);
}
