//! Two threads at once on the same shared memory (two `Mapping`s of one memfd): each
//! stores through `atomic_u32`, writes whole words with `write_at`, and reads both areas
//! back with `read_at`. The copies promise word-at-a-time access over the aligned middle,
//! so no aligned word a reader copies may mix two writes: every word written is one byte
//! repeated, and a word that is not was torn.
//!
//! Mostly this exists to run the copies against atomics of another thread on a real
//! kernel: the race it checks for is one the library must be sound under.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use mman::{Access, Mapping, Memfd};

use crate::model_support::Rng;

const WORD: usize = std::mem::size_of::<usize>();
/// Bytes of each area: the first holds `u32` atomics, the second whole-word copies.
const AREA: usize = 512;
const RUN: Duration = Duration::from_millis(300);

/// Runs the two threads; returns how many rounds each made.
pub fn race(seed: u64) -> [usize; 2] {
    let memfd = Memfd::new(c"mman-model-threads").expect("memfd_create");
    memfd.set_len(2 * AREA as u64).expect("ftruncate");
    let maps = [(); 2].map(|()| memfd.map(Access::ReadWrite).expect("map the memfd"));
    let deadline = Instant::now() + RUN;
    std::thread::scope(|scope| {
        let threads = maps.map(|map| {
            let rng = Rng((seed ^ map.as_ptr() as u64) | 1);
            scope.spawn(move || rounds(map, rng, deadline))
        });
        threads.map(|t| t.join().expect("a racing thread panicked"))
    })
}

/// One thread's rounds until `deadline`.
fn rounds(mut map: Mapping, mut rng: Rng, deadline: Instant) -> usize {
    let mut buf = vec![0u8; AREA];
    let mut n = 0;
    while Instant::now() < deadline {
        n += 1;
        let byte = rng.next() as u8;
        let word = rng.below(AREA / 4);
        map.atomic_u32(4 * word)
            .expect("an atomic of shared memory")
            .store(u32::from_ne_bytes([byte; 4]), Relaxed);
        let first = rng.below(AREA / WORD);
        let words = 1 + rng.below(AREA / WORD - first);
        map.write_at(AREA + first * WORD, &vec![byte; words * WORD])
            .expect("write_at of shared memory");
        check_area(&map, &mut rng, &mut buf, 0, 4);
        check_area(&map, &mut rng, &mut buf, AREA, WORD);
    }
    n
}

/// Copies a random part of the area at `area` and checks every aligned `unit` inside the
/// copy's aligned middle (the bytes before the first word boundary are copied one by one).
fn check_area(map: &Mapping, rng: &mut Rng, buf: &mut [u8], area: usize, unit: usize) {
    let from = rng.below(AREA);
    let len = 1 + rng.below(AREA - from);
    let buf = &mut buf[..len];
    map.read_at(area + from, buf)
        .expect("read_at of shared memory");
    let head = (WORD - from % WORD) % WORD;
    let middle = (len.saturating_sub(head) / WORD) * WORD;
    for (i, chunk) in buf[head.min(len)..head.min(len) + middle]
        .chunks_exact(unit)
        .enumerate()
    {
        assert!(
            chunk.iter().all(|&b| b == chunk[0]),
            "torn {unit}-byte value {chunk:02x?} at {:#x} (copy of {len} bytes from {:#x})",
            area + from + head + i * unit,
            area + from
        );
    }
}
