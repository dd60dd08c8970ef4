//! A program with no libc that allocates: `Vec`, `String` and `BTreeMap` through
//! `#[global_allocator]` = [`mman::alloc::Malloc`] (feature `dlmalloc`), static, its own
//! `_start`.
//!
//! Built, linked (`-nostdlib -static`) and run by `cargo xtask` like `freestanding.rs` (see
//! `xtask/src/freestanding.rs`), and checked to print `freestanding_alloc: ok` last. Unlike
//! that one it is not built with `--cfg mman_panic_check`: `alloc`'s collections carry
//! panic paths of their own (capacity overflow, allocation failure), so it has a panic
//! handler that prints the message and exits with status 101. mman's allocator code is
//! proven panic-free by `freestanding.rs`, which calls it directly.
#![no_std]
#![no_main]
#![cfg_attr(target_arch = "mips64", feature(asm_experimental_arch))] // its `_start`

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use mman::fd::BorrowedFd;
use mman::{sys, Errno};

#[path = "support/no_libc.rs"]
mod no_libc;

#[global_allocator]
static ALLOCATOR: mman::alloc::Malloc = mman::alloc::Malloc::new();

fn run() -> mman::Result<()> {
    // Small objects: a vector of a hundred thousand numbers, grown one push at a time.
    let numbers: Vec<u64> = (0..100_000u64).collect();
    let sum: u64 = numbers.iter().sum();
    expect(sum == 100_000 * 99_999 / 2)?;
    say(&alloc::format!(
        "vec of {} numbers, sum {sum}",
        numbers.len()
    ))?;
    drop(numbers);

    // A large one: bytes doubling to 64 MiB, past the size where blocks become mappings of
    // their own and move with mremap instead of being copied.
    let mut bytes: Vec<u8> = Vec::new();
    let mut moves = 0;
    let mut last = bytes.as_ptr();
    while bytes.len() < 64 << 20 {
        bytes.push((bytes.len() % 251) as u8);
        if bytes.as_ptr() != last {
            moves += 1;
            last = bytes.as_ptr();
        }
    }
    let intact = bytes.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8);
    expect(intact)?;
    say(&alloc::format!(
        "vec of {} MiB, grown by doubling ({moves} new addresses), contents intact",
        bytes.len() >> 20
    ))?;
    drop(bytes);

    // Strings and an ordered map: word counts.
    let text = "the page the kernel maps is the page the program owns";
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for word in text.split(' ') {
        *counts.entry(String::from(word)).or_default() += 1;
    }
    let mut line = String::from("word counts:");
    for (word, count) in &counts {
        let _ = write!(line, " {word}={count}");
    }
    expect(counts.get("the") == Some(&4) && counts.len() == 7)?;
    say(&line)?;
    say("ok")
}

/// `EINVAL` unless `condition` holds: the program exits with that status.
fn expect(condition: bool) -> mman::Result<()> {
    if condition {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}

/// Prints `freestanding_alloc: {line}`.
fn say(line: &str) -> mman::Result<()> {
    let mut text = String::from("freestanding_alloc: ");
    text.push_str(line);
    text.push('\n');
    // SAFETY: descriptor 1 is standard output, open for the life of the process.
    let stdout = unsafe { BorrowedFd::borrow_raw(1) };
    sys::write(stdout, text.as_bytes()).map(|_| ())
}

/// Formats into a fixed buffer, so that reporting a panic needs no allocation (the panic
/// may be an allocation failure).
#[cfg(not(feature = "std"))]
struct Buffer {
    bytes: [u8; 512],
    len: usize,
}

#[cfg(not(feature = "std"))]
impl core::fmt::Write for Buffer {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.bytes.len() - self.len;
        let take = s.len().min(room);
        self.bytes[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

// With feature `std` (as in `cargo test --all-features`) std is linked and brings its own.
#[cfg(not(feature = "std"))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut buffer = Buffer {
        bytes: [0; 512],
        len: 0,
    };
    let _ = writeln!(buffer, "freestanding_alloc: panicked: {info}");
    // SAFETY: descriptor 2 is standard error, open for the life of the process.
    let stderr = unsafe { BorrowedFd::borrow_raw(2) };
    let _ = sys::write(stderr, &buffer.bytes[..buffer.len]);
    sys::exit_group(101)
}

// The prebuilt `alloc` crate was compiled to unwind, so its landing pads name these two
// symbols, which libgcc would supply. This program aborts on panic (the handler above
// exits), so no landing pad is ever entered.

/// Never called: nothing unwinds.
#[cfg(not(feature = "std"))]
#[unsafe(no_mangle)]
extern "C" fn _Unwind_Resume() -> ! {
    sys::exit_group(134)
}

/// Never called: nothing unwinds.
#[cfg(not(feature = "std"))]
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}
