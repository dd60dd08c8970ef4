//! Streaming 1 GiB of records through a 1 MiB ring (the same capacity for every way), one
//! thread alternating between producing until the ring is full and consuming until it is
//! empty. A record is made by filling it (its number in every byte) and read by summing it
//! as 8-byte words, a stand-in for a parser that needs the record as one `&[u8]`; both are
//! the same work in every way, so the differences are how the bytes move:
//!
//! - `MirrorBuffer`: each record is made in place in the free space and read in place, also
//!   across the wrap;
//! - `VecDeque<u8>`, copied in and out: each record is made in a buffer, copied in
//!   (`extend`), and copied out into a buffer to be read contiguously (`as_slices`, then
//!   `drain`): the comparison the README's claim is about;
//! - `VecDeque<u8>`, read in place unless split: as above, but a record that lies whole in
//!   the first of `as_slices` is read there, and only one split by the wrap is copied out:
//!   what a careful user of `VecDeque` writes, for reference;
//! - the work alone: the same records made and read in a plain buffer of the ring's size,
//!   each batch from its start on, with no queue and no wrap: the floor of any queue.
//!
//! Records are 1 to 2048 bytes, so some keep straddling the wrap; every way produces the
//! same bytes, and their checksums must agree.

use std::collections::VecDeque;
use std::time::Instant;

use mman::MirrorBuffer;

use crate::alloc::report;
use crate::stats::Lines;

const TOTAL: usize = 1 << 30;
const RING: usize = 1 << 20;
const MAX_RECORD: usize = 2048;
pub const STREAM: &str = "stream 1 GiB, records across the wrap";
const DEQUE: &str = "VecDeque<u8>, copied in and out";

/// How the `VecDeque` consumer gets a record as one slice.
#[derive(Clone, Copy, PartialEq)]
enum Reading {
    /// Always copied out into a buffer.
    CopiedOut,
    /// Read where it lies when it is whole in the first slice; copied out otherwise.
    InPlaceUnlessSplit,
}

fn record_len(n: usize) -> usize {
    1 + n.wrapping_mul(2_654_435_761) % MAX_RECORD
}

/// Makes record `n`: its number in every byte (a fill, as fast as writing gets, so that
/// what is measured is how the bytes move).
fn make(record: &mut [u8], n: usize) {
    record.fill(n as u8);
}

/// Reads every byte of a record, eight at a time.
fn checksum(record: &[u8]) -> u64 {
    let words = record.chunks_exact(8);
    let tail: u64 = words.remainder().iter().map(|&b| u64::from(b)).sum();
    words.fold(tail, |sum, word| {
        sum.wrapping_add(u64::from_le_bytes(word.try_into().expect("8 bytes")))
    })
}

/// One way of streaming: the checksum of what it read.
type Stream = fn() -> Result<u64, String>;

pub fn run(lines: &mut Lines, rounds: usize) -> Result<(), String> {
    let ways: [(&str, Stream); 4] = [
        ("MirrorBuffer, in place", mirror),
        (DEQUE, || deque(Reading::CopiedOut)),
        ("VecDeque<u8>, read in place unless split", || {
            deque(Reading::InPlaceUnlessSplit)
        }),
        ("the work alone (no queue)", work_alone),
    ];
    let mut times = vec![Vec::new(); ways.len()];
    let mut sums = Vec::new();
    for round in 0..rounds {
        for turn in 0..ways.len() {
            let i = (round + turn) % ways.len();
            let start = Instant::now();
            sums.push((ways[i].1)()?);
            times[i].push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    if sums.windows(2).any(|pair| pair[0] != pair[1]) {
        return Err(format!("the ways read different bytes: checksums {sums:?}"));
    }
    for (i, (way, _)) in ways.iter().enumerate() {
        report(lines, [STREAM, way], &times[i], "ms")?;
    }
    Ok(())
}

fn mirror() -> Result<u64, String> {
    let ring = MirrorBuffer::new(RING).map_err(|e| format!("MirrorBuffer: {e:?}"))?;
    let (mut producer, mut consumer) = ring.split();
    let (mut made, mut read, mut consumed, mut sum) = (0, 0, 0, 0u64);
    while consumed < TOTAL {
        loop {
            let len = record_len(made);
            let space = producer.write_slice();
            if space.len() < len {
                break;
            }
            make(&mut space[..len], made);
            producer.commit(len);
            made += 1;
        }
        while read < made {
            let len = record_len(read);
            sum += checksum(&consumer.read_slice()[..len]);
            consumer.consume(len);
            consumed += len;
            read += 1;
        }
    }
    Ok(sum)
}

fn deque(reading: Reading) -> Result<u64, String> {
    let mut ring: VecDeque<u8> = VecDeque::with_capacity(RING);
    let mut record = vec![0u8; MAX_RECORD];
    let mut out = vec![0u8; MAX_RECORD];
    let (mut made, mut read, mut consumed, mut sum) = (0, 0, 0, 0u64);
    while consumed < TOTAL {
        loop {
            let len = record_len(made);
            if RING - ring.len() < len {
                break;
            }
            make(&mut record[..len], made);
            ring.extend(&record[..len]);
            made += 1;
        }
        while read < made {
            let len = record_len(read);
            let (front, back) = ring.as_slices();
            sum += if reading == Reading::InPlaceUnlessSplit && front.len() >= len {
                checksum(&front[..len])
            } else {
                let first = front.len().min(len);
                out[..first].copy_from_slice(&front[..first]);
                out[first..len].copy_from_slice(&back[..len - first]);
                checksum(&out[..len])
            };
            ring.drain(..len);
            consumed += len;
            read += 1;
        }
    }
    Ok(sum)
}

fn work_alone() -> Result<u64, String> {
    let mut buffer = vec![0u8; RING];
    let (mut made, mut read, mut consumed, mut sum) = (0, 0, 0, 0u64);
    while consumed < TOTAL {
        // Each batch of records fills the buffer from its start on, as far as they fit.
        let mut at = 0;
        while RING - at >= record_len(made) {
            let len = record_len(made);
            make(&mut buffer[at..at + len], made);
            at += len;
            made += 1;
        }
        // The records are read back from memory, as a consumer would.
        std::hint::black_box(&mut buffer);
        at = 0;
        while read < made {
            let len = record_len(read);
            sum += checksum(&buffer[at..at + len]);
            at += len;
            consumed += len;
            read += 1;
        }
    }
    Ok(sum)
}
