//! A producer thread and a consumer thread streaming records through a
//! [`MirrorBuffer`]: each record is written and read in place as one slice, also when it
//! straddles the end of the ring, with no copy into or out of a staging buffer.
//!
//! `cargo run --release --example ring`: streams 4 MiB in records of 1 to 4000 bytes
//! (a length, then bytes that depend on the record's number), checks every byte on the
//! consumer's side, prints what went through, and exits 0.

use std::thread;
use std::time::Instant;

use mman::MirrorBuffer;

const TOTAL: usize = 4 << 20;
const HEADER: usize = 4;

/// The length of record `n`: 1 to 4000 bytes, never a divisor of the page size, so that
/// records keep landing across the wrap.
fn record_len(n: u32) -> usize {
    1 + (n as usize).wrapping_mul(2_654_435_761) % 4000
}

fn byte(n: u32, i: usize) -> u8 {
    (n as usize + i) as u8
}

fn main() -> Result<(), mman::Errno> {
    let (mut producer, mut consumer) = MirrorBuffer::new(64 << 10)?.split();
    let capacity = producer.capacity();
    let start = Instant::now();

    let writer = thread::spawn(move || {
        let (mut sent, mut n) = (0, 0u32);
        while sent < TOTAL {
            let len = record_len(n);
            let slice = producer.write_slice();
            if slice.len() < HEADER + len {
                thread::yield_now();
                continue;
            }
            slice[..HEADER].copy_from_slice(&(len as u32).to_le_bytes());
            for (i, b) in slice[HEADER..HEADER + len].iter_mut().enumerate() {
                *b = byte(n, i);
            }
            producer.commit(HEADER + len);
            sent += len;
            n += 1;
        }
        n
    });

    let (mut received, mut records, mut straddling) = (0, 0u32, 0u32);
    let mut position = 0usize;
    while received < TOTAL {
        let slice = consumer.read_slice();
        if slice.len() < HEADER {
            thread::yield_now();
            continue;
        }
        let len = u32::from_le_bytes(slice[..HEADER].try_into().expect("4 bytes")) as usize;
        if slice.len() < HEADER + len {
            thread::yield_now();
            continue;
        }
        assert_eq!(len, record_len(records), "length of record {records}");
        let ok = slice[HEADER..HEADER + len]
            .iter()
            .enumerate()
            .all(|(i, &b)| b == byte(records, i));
        assert!(ok, "contents of record {records}");
        let end = position + HEADER + len;
        if position / capacity != (end - 1) / capacity {
            straddling += 1;
        }
        position = end;
        consumer.consume(HEADER + len);
        received += len;
        records += 1;
    }
    let sent = writer.join().expect("producer thread");
    assert_eq!(sent, records);
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "ring: {records} records ({} MiB) through a {} KiB mirrored ring in {:.3} s \
         ({:.0} MiB/s); {straddling} straddled the wrap, each read and written in place",
        received >> 20,
        capacity >> 10,
        seconds,
        (received >> 20) as f64 / seconds,
    );
    Ok(())
}
