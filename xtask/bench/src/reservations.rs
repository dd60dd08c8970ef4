//! A reservation's whole life, 2 MiB: reserve, commit read-write, decommit, release; two
//! ways: the five system calls through `mman::sys` with nothing around them (the floor:
//! `mmap(PROT_NONE, MAP_NORESERVE)`, `mprotect`, `madvise(MADV_DONTNEED)`, `mprotect`,
//! `munmap`), and `mman::Reservation` (`new`, `commit`, `decommit`, drop), which adds its
//! stack-reach check and its page states. Nothing is touched in between: what is measured
//! is the calls and the book-keeping, not page faults.
//!
//! `cycle_*` are also what `instructions reservation-*` repeats for callgrind. As in
//! `walltime`, cycles run in timed batches and the ways take turns batch by batch.

use std::hint::black_box;
use std::path::Path;
use std::process::abort;
use std::ptr::null_mut;
use std::time::Instant;

use mman::{sys, Advice, MapFlags, Prot, Reservation};

use crate::stats::{Lines, Summary};

/// Bytes reserved, committed and given back per cycle.
pub const SIZE: usize = 2 << 20;
/// Cycles per timed batch.
const CYCLES: u32 = 200;
/// The name of the operation in the report.
const OPERATION: &str = "reserve + commit + decommit + release, 2 MiB";

/// The floor: the five calls, each checked as any caller must.
#[inline(always)]
pub fn cycle_sys(len: usize) {
    let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::NORESERVE;
    // SAFETY: reserves fresh address space, changes only that, then unmaps exactly it.
    unsafe {
        let Ok(addr) = sys::mmap(null_mut(), len, Prot::empty(), flags, -1, 0) else {
            abort()
        };
        if sys::mprotect(addr, len, Prot::READ | Prot::WRITE).is_err()
            || sys::madvise(addr, len, Advice::DontNeed).is_err()
            || sys::mprotect(addr, len, Prot::empty()).is_err()
        {
            abort()
        }
        let _ = sys::munmap(addr, len);
    }
}

/// The same through `Reservation`.
#[inline(always)]
pub fn cycle_reservation(len: usize) {
    let Ok(mut space) = Reservation::new(len) else {
        abort()
    };
    if space.commit(.., Prot::READ | Prot::WRITE).is_err() || space.decommit(..).is_err() {
        abort()
    }
    drop(space);
}

#[derive(Clone, Copy)]
enum Way {
    Sys,
    Reservation,
}

impl Way {
    const ALL: [Way; 2] = [Way::Sys, Way::Reservation];

    fn name(self) -> &'static str {
        match self {
            Way::Sys => "mman::sys, five calls",
            Way::Reservation => "Reservation",
        }
    }

    fn cycle(self) {
        match self {
            Way::Sys => cycle_sys(black_box(SIZE)),
            Way::Reservation => cycle_reservation(black_box(SIZE)),
        }
    }
}

pub fn run(out: &Path, batches: usize) -> Result<(), String> {
    if batches == 0 {
        return Err("nothing to time: BATCHES must be at least 1".into());
    }
    let mut samples = Way::ALL.map(|_| Vec::with_capacity(batches));
    for batch in 0..batches {
        for turn in 0..Way::ALL.len() {
            let i = (batch + turn) % Way::ALL.len();
            let way = Way::ALL[i];
            let start = Instant::now();
            for _ in 0..CYCLES {
                way.cycle();
            }
            samples[i].push(start.elapsed().as_nanos() as f64 / f64::from(CYCLES));
        }
    }
    let mut lines = Lines::create(out)?;
    println!("{OPERATION}");
    for (way, samples) in Way::ALL.iter().zip(samples) {
        let summary = Summary::of(&samples);
        lines.write(&[OPERATION, way.name()], summary)?;
        println!("  {:<24} {:>10.0} ns", way.name(), summary.median);
    }
    lines.finish()
}
