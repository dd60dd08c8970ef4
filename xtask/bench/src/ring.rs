//! Streaming 1 GiB of records through a 64 KiB ring, one thread alternating between
//! producing and consuming: `MirrorBuffer`, where each record is written into the free
//! space in place and read (checksummed) in place, also across the wrap, against
//! `VecDeque<u8>`, where each record is made in a buffer, copied in, and copied out into a
//! buffer to be read contiguously. Making a record is a fill and reading it a sum of 8-byte
//! words, so that the time is mostly the bytes' movement. Records are 1 to 2048 bytes, so they keep straddling
//! the wrap; both ways produce the same bytes, and their checksums must agree.

use std::collections::VecDeque;
use std::time::Instant;

use mman::MirrorBuffer;

use crate::alloc::report;
use crate::stats::Lines;

const TOTAL: usize = 1 << 30;
const RING: usize = 64 << 10;
const MAX_RECORD: usize = 2048;
pub const STREAM: &str = "stream 1 GiB, records across the wrap";

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
    let ways: [(&str, Stream); 2] = [
        ("MirrorBuffer, in place", mirror),
        ("VecDeque<u8>, copied in and out", deque),
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

fn deque() -> Result<u64, String> {
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
            let first = front.len().min(len);
            out[..first].copy_from_slice(&front[..first]);
            out[first..len].copy_from_slice(&back[..len - first]);
            ring.drain(..len);
            sum += checksum(&out[..len]);
            consumed += len;
            read += 1;
        }
    }
    Ok(sum)
}
