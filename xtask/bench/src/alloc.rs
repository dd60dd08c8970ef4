//! `mman::alloc` against glibc's malloc (Rust's `System` allocator), timed by the program:
//!
//! - a `Vec<u8>`-like block doubling from 4 KiB to 1 GiB, each new half written as a `Vec`
//!   being filled would: through `realloc` of `mman::alloc::Malloc` (whose blocks from
//!   256 KiB on are the page allocator's, moved with `mremap`), of the page allocator
//!   itself, of glibc, and a copying reference (new block, `memcpy`, free) on glibc. The
//!   bytes each way copied are counted from the page faults it took (transparent huge
//!   pages off for this process, so that a fault is one page): every page written for the
//!   first time faults once, so faults beyond the bytes the loop wrote are pages a copy
//!   wrote;
//! - a mixed small-object workload: blocks of 8 B to 4 KiB, allocated and freed at random
//!   in 4096 slots per thread, 4 million operations in all, on 1 thread and on 4;
//! - `MirrorBuffer` against `VecDeque<u8>` (see `ring`).
//!
//! Each measurement is repeated, the ways taking turns, and the median is reported: the
//! doubling (seconds a round) ROUNDS times, the mixed workload and the ring (a fraction of
//! a second) SHORT times, enough for a stable median on a machine shared with other work.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::time::Instant;

use mman::alloc::{Malloc, PageAllocator};

use crate::stats::{Lines, Summary};

static MALLOC: Malloc = Malloc::new();

const START: usize = 4 << 10;
const END: usize = 1 << 30;
/// Operations of the mixed workload, shared out among the threads.
const OPERATIONS: usize = 4_000_000;
/// Live-block slots per thread.
const SLOTS: usize = 4096;

pub const DOUBLING: &str = "Vec<u8> doubling 4 KiB → 1 GiB";
pub const COPIED: &str = "Vec<u8> doubling: MiB copied";

pub fn run(out: &Path, rounds: usize, short: usize) -> Result<(), String> {
    if rounds == 0 || short == 0 {
        return Err("nothing to time: ROUNDS and SHORT must be at least 1".into());
    }
    // SAFETY: PR_SET_THP_DISABLE only changes how this process's memory is backed.
    if unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) } != 0 {
        return Err(format!("prctl: {}", std::io::Error::last_os_error()));
    }
    let mut lines = Lines::create(out)?;
    println!("{:<44} {:<42} {:>12}", "measurement", "way", "median");
    doubling(&mut lines, rounds)?;
    for threads in [1, 4] {
        mixed(&mut lines, short, threads)?;
    }
    crate::ring::run(&mut lines, short)?;
    lines.finish()
}

/// Writes one result line and shows it.
pub fn report(
    lines: &mut Lines,
    keys: [&str; 2],
    samples: &[f64],
    unit: &str,
) -> Result<(), String> {
    let summary = Summary::of(samples);
    println!(
        "{:<44} {:<42} {:>9.1} {unit}",
        keys[0], keys[1], summary.median
    );
    lines.write(&keys, summary)
}

#[derive(Clone, Copy)]
enum Growth {
    Realloc,
    /// A new block, a copy, the old block freed: what a realloc that cannot move pages does.
    Copying,
}

/// One doubling run of a way: milliseconds and MiB copied.
type Run = dyn Fn() -> Result<(f64, f64), String>;

fn doubling(lines: &mut Lines, rounds: usize) -> Result<(), String> {
    let ways: [(&str, &Run); 4] = [
        ("mman::alloc::Malloc", &|| grow(&MALLOC, Growth::Realloc)),
        ("mman::alloc::PageAllocator", &|| {
            grow(&PageAllocator, Growth::Realloc)
        }),
        ("glibc realloc (System)", &|| grow(&System, Growth::Realloc)),
        ("copying reference (glibc)", &|| {
            grow(&System, Growth::Copying)
        }),
    ];
    let mut times = vec![Vec::new(); ways.len()];
    let mut copied = vec![Vec::new(); ways.len()];
    for round in 0..rounds {
        for turn in 0..ways.len() {
            let i = (round + turn) % ways.len();
            let (ms, mib) = (ways[i].1)()?;
            times[i].push(ms);
            copied[i].push(mib);
        }
    }
    for (i, (way, _)) in ways.iter().enumerate() {
        report(lines, [DOUBLING, way], &times[i], "ms")?;
        report(lines, [COPIED, way], &copied[i], "MiB")?;
    }
    Ok(())
}

/// One doubling run: milliseconds, and MiB copied (from page faults).
fn grow<A: GlobalAlloc>(allocator: &A, growth: Growth) -> Result<(f64, f64), String> {
    let layout = |size| Layout::from_size_align(size, 1).expect("layout");
    let faults = minor_faults();
    let start = Instant::now();
    let mut size = START;
    // SAFETY: every block is used within its size and freed once with its layout.
    unsafe {
        let mut block = allocator.alloc(layout(size));
        if block.is_null() {
            return Err("alloc failed".into());
        }
        block.write_bytes(1, size);
        while size < END {
            block = match growth {
                Growth::Realloc => allocator.realloc(block, layout(size), 2 * size),
                Growth::Copying => {
                    let new = allocator.alloc(layout(2 * size));
                    if !new.is_null() {
                        new.copy_from_nonoverlapping(block, size);
                        allocator.dealloc(block, layout(size));
                    }
                    new
                }
            };
            if block.is_null() {
                return Err(format!("growing to {} bytes failed", 2 * size));
            }
            block.add(size).write_bytes(1, size);
            size *= 2;
        }
        let elapsed = start.elapsed().as_secs_f64() * 1e3;
        let intact = *block == 1 && *block.add(START) == 1 && *block.add(END - 1) == 1;
        allocator.dealloc(block, layout(size));
        if !intact {
            return Err("contents lost while growing".into());
        }
        let faulted = (minor_faults() - faults) as f64 * mman::page_size() as f64;
        let copied = (faulted - END as f64).max(0.0) / (1 << 20) as f64;
        Ok((elapsed, copied))
    }
}

fn minor_faults() -> i64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the structure it is given.
    unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init().ru_minflt
    }
}

fn mixed(lines: &mut Lines, rounds: usize, threads: usize) -> Result<(), String> {
    let name = format!(
        "mixed 8 B–4 KiB, 4 M operations, {threads} thread{}",
        if threads == 1 { "" } else { "s" }
    );
    let ways: [(&str, &dyn Fn() -> f64); 2] = [
        ("mman::alloc::Malloc", &|| workload(&MALLOC, threads)),
        ("glibc malloc (System)", &|| workload(&System, threads)),
    ];
    // Untimed first: the allocators' first use (arenas, shards, their first pages).
    for (_, way) in &ways {
        way();
    }
    let mut times = vec![Vec::new(); ways.len()];
    for round in 0..rounds {
        for turn in 0..ways.len() {
            let i = (round + turn) % ways.len();
            times[i].push((ways[i].1)());
        }
    }
    for (i, (way, _)) in ways.iter().enumerate() {
        report(lines, [&name, way], &times[i], "ms")?;
    }
    Ok(())
}

/// Milliseconds for `threads` threads to share out the operations.
fn workload<A: GlobalAlloc + Sync>(allocator: &A, threads: usize) -> f64 {
    let start = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            scope.spawn(move || worker(allocator, t as u64 + 1, OPERATIONS / threads));
        }
    });
    start.elapsed().as_secs_f64() * 1e3
}

fn worker<A: GlobalAlloc>(allocator: &A, seed: u64, operations: usize) {
    let mut slots: Vec<(*mut u8, usize)> = vec![(std::ptr::null_mut(), 0); SLOTS];
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let layout = |size| Layout::from_size_align(size, 8).expect("layout");
    for _ in 0..operations {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let slot = &mut slots[(state as usize) % SLOTS];
        // SAFETY: each block is written within its size and freed once with its layout.
        unsafe {
            if slot.0.is_null() {
                // 8 B to 4 KiB, smaller sizes more often: a random size below a random
                // power of two.
                let limit = 8usize << ((state >> 20) % 10);
                let size = (8 + (state >> 32) as usize % limit).min(4096);
                let block = allocator.alloc(layout(size));
                assert!(!block.is_null(), "allocation failed");
                block.write(1);
                block.add(size - 1).write(2);
                *slot = (block, size);
            } else {
                allocator.dealloc(slot.0, layout(slot.1));
                *slot = (std::ptr::null_mut(), 0);
            }
        }
    }
    for (block, size) in slots {
        if !block.is_null() {
            // SAFETY: as above.
            unsafe { allocator.dealloc(block, layout(size)) };
        }
    }
}
