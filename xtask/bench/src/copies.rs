//! Wall time of copying out of and into shared memory: mman's `Mapping::read_at` and
//! `write_at` (relaxed atomic loads and stores), the volatile copy they replaced, and plain
//! memcpy as the floor.
//!
//! Issue 9 made the copies atomic so that they are sound next to other threads' atomics;
//! this measures that they cost no more than the volatile ones did. Every way copies the
//! same bytes between the same heap buffer and a mapping of the same size, at each size
//! and at a word-aligned and an odd offset into the mapping (the odd one runs the
//! byte-wise head and tail). memcpy works on a private anonymous mapping's slice, since
//! shared memory can lend none.
//!
//! As in `walltime`, copies run in batches timed as a whole, the median over the batches is
//! reported, and the ways take turns batch by batch, in rotating order.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use mman::{MapOptions, Mapping};

use crate::stats::{Lines, Summary};

/// The reference: a private copy of the volatile word copy mman used before the atomic one
/// (`src/mapping/volatile.rs` as of commit 023c2ef, unchanged but for this comment), kept
/// here so that the comparison outlives it.
mod volatile_reference {
    use core::mem::size_of;

    const WORD: usize = size_of::<usize>();

    /// Splits `len` bytes starting at `addr` into a byte-wise head up to the first word
    /// boundary, a number of whole words, and the byte-wise rest.
    fn split(addr: *const u8, len: usize) -> (usize, usize) {
        let head = addr.align_offset(WORD).min(len);
        (head, (len - head) / WORD)
    }

    /// Copies `dst.len()` bytes from `src` into `dst`.
    ///
    /// # Safety
    /// `src` must be readable for `dst.len()` bytes.
    pub unsafe fn copy_out(src: *const u8, dst: &mut [u8]) {
        let (len, out) = (dst.len(), dst.as_mut_ptr());
        let (head, words) = split(src, len);
        for i in (0..head).chain(head + words * WORD..len) {
            // SAFETY: `i < len`: inside `dst` and, by the caller, inside the readable `src`.
            unsafe { out.add(i).write(src.add(i).read_volatile()) };
        }
        for at in (0..words).map(|w| head + w * WORD) {
            // SAFETY: `at + WORD <= len`; `src + at` is word aligned (`head` aligned it); the
            // write to `dst` makes no alignment assumption.
            let word = unsafe { src.add(at).cast::<usize>().read_volatile() };
            // SAFETY: as above.
            unsafe { out.add(at).cast::<usize>().write_unaligned(word) };
        }
    }

    /// Copies `src` to `dst`.
    ///
    /// # Safety
    /// `dst` must be writable for `src.len()` bytes.
    pub unsafe fn copy_in(src: &[u8], dst: *mut u8) {
        let (len, from) = (src.len(), src.as_ptr());
        let (head, words) = split(dst, len);
        for i in (0..head).chain(head + words * WORD..len) {
            // SAFETY: `i < len`: inside `src` and, by the caller, inside the writable `dst`.
            unsafe { dst.add(i).write_volatile(from.add(i).read()) };
        }
        for at in (0..words).map(|w| head + w * WORD) {
            // SAFETY: `at + WORD <= len`; the read from `src` makes no alignment assumption.
            let word = unsafe { from.add(at).cast::<usize>().read_unaligned() };
            // SAFETY: `dst + at` is word aligned (`head` aligned it) and writable.
            unsafe { dst.add(at).cast::<usize>().write_volatile(word) };
        }
    }
}

#[derive(Clone, Copy)]
enum Way {
    Memcpy,
    Volatile,
    Atomic,
}

impl Way {
    /// The volatile copy second: the atomic one is compared with it.
    const ALL: [Way; 3] = [Way::Memcpy, Way::Volatile, Way::Atomic];

    fn name(self) -> &'static str {
        match self {
            Way::Memcpy => "memcpy",
            Way::Volatile => "volatile",
            Way::Atomic => "atomic",
        }
    }
}

#[derive(Clone, Copy)]
enum Direction {
    /// Out of the mapping into the buffer (`read_at`).
    Read,
    /// From the buffer into the mapping (`write_at`).
    Write,
}

const SIZES: [(usize, &str); 3] = [(64, "64 B"), (4096, "4 KiB"), (1 << 20, "1 MiB")];

/// Where in the mapping the copy starts: at its (page-aligned) start, and 3 bytes on, so
/// that 5 bytes go one by one before the first word and 3 after the last.
const OFFSETS: [(usize, &str); 2] = [(0, "aligned"), (3, "offset 3")];

/// Which direction, where in the mapping, how many bytes.
type Case = (Direction, usize, usize);

/// The largest copy, and the odd offset's room.
const SPAN: usize = (1 << 20) + 8;

/// The memory every way copies between.
struct Memory {
    /// Shared anonymous memory: where `read_at`/`write_at` and the volatile copy go.
    shared: Mapping,
    /// Private anonymous memory, lent as a slice: where memcpy goes.
    private: Mapping,
    buffer: Vec<u8>,
}

impl Memory {
    fn new() -> Result<Memory, String> {
        let shared = MapOptions::new()
            .len(SPAN)
            .shared()
            .map()
            .map_err(|e| format!("cannot map shared memory: {e:?}"))?;
        let private =
            Mapping::anonymous(SPAN).map_err(|e| format!("cannot map private memory: {e:?}"))?;
        let mut memory = Memory {
            shared,
            private,
            buffer: vec![0x5a; SPAN],
        };
        // Every page resident before any timing: no way pays the first faults.
        let fill = vec![0xa5; SPAN];
        memory
            .shared
            .write_at(0, &fill)
            .map_err(|e| format!("cannot fill the shared mapping: {e:?}"))?;
        memory
            .private
            .as_mut_slice()
            .map_err(|e| format!("cannot lend the private mapping: {e:?}"))?
            .copy_from_slice(&fill);
        Ok(memory)
    }

    /// Times `calls` copies of `len` bytes at `offset` into the mapping, one way.
    fn time(&mut self, way: Way, (dir, offset, len): Case, calls: u32) -> Duration {
        let buffer = &mut self.buffer[..];
        let private = ok(self.private.as_mut_slice());
        let start = Instant::now();
        for _ in 0..calls {
            // The length is not known where the copy is compiled (as for any caller that
            // copies a runtime amount), and the buffer may have been read or changed
            // between copies: none can be merged or left out.
            let len = black_box(len);
            let buffer = black_box(&mut *buffer);
            let buffer = &mut buffer[..len];
            match (way, dir) {
                (Way::Atomic, Direction::Read) => ok(self.shared.read_at(offset, buffer)),
                (Way::Atomic, Direction::Write) => ok(self.shared.write_at(offset, buffer)),
                // SAFETY (both): `offset + len <= SPAN`, inside the read-write mapping that
                // only this thread uses, through no reference meanwhile.
                (Way::Volatile, Direction::Read) => unsafe {
                    volatile_reference::copy_out(self.shared.as_ptr().add(offset), buffer)
                },
                (Way::Volatile, Direction::Write) => unsafe {
                    volatile_reference::copy_in(buffer, self.shared.as_ptr().add(offset))
                },
                (Way::Memcpy, dir) => {
                    let private = &mut black_box(&mut *private)[offset..offset + len];
                    match dir {
                        Direction::Read => buffer.copy_from_slice(private),
                        Direction::Write => private.copy_from_slice(buffer),
                    }
                }
            }
            black_box(&mut *buffer);
        }
        start.elapsed()
    }
}

/// Times every case: `batches` batches of about `batch_bytes` bytes each.
pub fn run(out: &Path, batches: usize, batch_bytes: u64) -> Result<(), String> {
    if batches == 0 || batch_bytes == 0 {
        return Err("nothing to time: BATCHES and BYTES must be at least 1".into());
    }
    let mut memory = Memory::new()?;
    let mut lines = Lines::create(out)?;
    println!(
        "{:<24} {:<9} {:>11} {:>8} {:>12}",
        "copy", "way", "ns/copy", "GB/s", "vs volatile"
    );
    for dir in [Direction::Read, Direction::Write] {
        for (len, size) in SIZES {
            for (offset, place) in OFFSETS {
                let verb = match dir {
                    Direction::Read => "read",
                    Direction::Write => "write",
                };
                let case = format!("{verb} {size}, {place}");
                let calls = u32::try_from((batch_bytes / len as u64).max(1)).unwrap_or(u32::MAX);
                let time = |memory: &mut Memory, way| {
                    let elapsed = memory.time(way, (dir, offset, len), calls);
                    elapsed.as_nanos() as f64 / f64::from(calls)
                };
                // One untimed batch each first: faults in the code, warms the caches.
                for way in Way::ALL {
                    time(&mut memory, way);
                }
                let mut samples = Way::ALL.map(|_| Vec::with_capacity(batches));
                for batch in 0..batches {
                    for turn in 0..Way::ALL.len() {
                        let i = (batch + turn) % Way::ALL.len();
                        samples[i].push(time(&mut memory, Way::ALL[i]));
                    }
                }
                let summaries = samples.map(|s| Summary::of(&s));
                let volatile = summaries[1].median;
                for (way, summary) in Way::ALL.iter().zip(summaries) {
                    lines.write(&[&case, way.name()], summary)?;
                    println!(
                        "{:<24} {:<9} {:>11.1} {:>8.2} {:>11.2}x",
                        case,
                        way.name(),
                        summary.median,
                        len as f64 / summary.median,
                        summary.median / volatile
                    );
                }
            }
        }
    }
    lines.finish()
}

/// Unwraps a result, or stops the benchmark: a failed copy would time the wrong thing.
#[inline(always)]
fn ok<T>(result: mman::Result<T>) -> T {
    match result {
        Ok(value) => value,
        Err(e) => fail(e),
    }
}

#[cold]
fn fail(error: mman::Errno) -> ! {
    eprintln!("mman-bench: a copy failed: {error:?}");
    std::process::exit(1)
}
