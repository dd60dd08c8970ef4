//! `MirrorBuffer`: the two views of one memory (checked through `/proc/self/maps` and by
//! writing through one view and reading the other), contents across the wrap, capacity
//! edges, a producer and a consumer thread, a model test against `VecDeque`, a forked
//! child that must find its halves inert, and nothing left mapped afterwards.

#[macro_use]
mod common;

use std::collections::VecDeque;
use std::thread;

use common::*;
use mman::ring::{Consumer, Producer};
use mman::{Errno, MirrorBuffer};

fn ring(min_capacity: usize) -> (Producer, Consumer) {
    MirrorBuffer::new(min_capacity)
        .expect("MirrorBuffer")
        .split()
}

/// Queues `n` bytes of `value` and consumes them, so that the next write starts `n` bytes
/// further on.
fn advance(producer: &mut Producer, consumer: &mut Consumer, n: usize) {
    producer.write_slice()[..n].fill(0xee);
    assert_eq!(producer.commit(n), n);
    assert_eq!(consumer.consume(n), n);
}

#[test]
fn capacity_is_rounded_up_to_whole_pages() {
    // Whole pages, and on mips whole multiples of SHMLBA, so that both views of the memfd's
    // offset 0 lie at its cache colour (the kernel refuses them anywhere else).
    let p = mman::shared_alignment();
    let want_unit = match cfg!(target_arch = "mips64") {
        true => 256 << 10,
        false => page(),
    };
    assert_eq!(p, want_unit, "the shared alignment");
    for (asked, want) in [
        (0, p),
        (1, p),
        (p - 1, p),
        (p, p),
        (p + 1, 2 * p),
        (5 * p, 5 * p),
    ] {
        let buffer = MirrorBuffer::new(asked).expect("MirrorBuffer");
        assert_eq!(buffer.capacity(), want, "asked for {asked}");
        let (producer, consumer) = buffer.split();
        assert_eq!((producer.capacity(), consumer.capacity()), (want, want));
    }
    assert_eq!(MirrorBuffer::new(usize::MAX).err(), Some(Errno::ENOMEM));
    assert_eq!(MirrorBuffer::new(usize::MAX / 2).err(), Some(Errno::ENOMEM));
}

#[test]
fn the_two_views_are_one_memory_back_to_back() {
    let (mut producer, _consumer) = ring(2 * page());
    let capacity = producer.capacity();
    let slice = producer.write_slice();
    assert_eq!(slice.len(), capacity);
    let first = slice.as_mut_ptr();
    // The views: two maps entries of the same memfd at offset 0, adjacent, read-write
    // shared, the first at a multiple of the shared alignment (the memfd offset's cache
    // colour); the control page right above them, private.
    let view = maps_entry(first.cast()).expect("first view");
    let second = maps_entry(first.wrapping_add(capacity).cast()).expect("second view");
    assert_eq!(
        (view.start, view.end),
        (first as usize, first as usize + capacity)
    );
    assert_eq!(second.start, view.end);
    assert_eq!(second.end - second.start, capacity);
    for entry in [&view, &second] {
        assert_eq!(entry.perms, "rw-s");
        assert!(entry.path.contains("mman-mirror"), "{entry:?}");
    }
    assert_eq!(
        first as usize % mman::shared_alignment(),
        0,
        "first view's colour"
    );
    let control = maps_entry(first.wrapping_add(2 * capacity).cast()).expect("control page");
    assert_eq!(control.perms, "rw-p");
    // A byte written through the first view reads back through the second.
    write_byte(first, 42);
    assert_eq!(read_byte(first.wrapping_add(capacity)), 42);
    write_byte(first.wrapping_add(2 * capacity - 1), 7);
    assert_eq!(read_byte(first.wrapping_add(capacity - 1)), 7);
}

/// The memory behind the views cannot be resized, by anyone who finds the file: it is
/// sealed against shrinking (which would make the views fault) and growing, and the seals
/// themselves are sealed. (Mutation testing found no test of the seals: a mutant that
/// sealed nothing survived.) The descriptor is closed, so the file is opened again through
/// `/proc/self/map_files`, which needs `CAP_SYS_ADMIN` or `CAP_CHECKPOINT_RESTORE`.
#[test]
fn the_memory_behind_the_views_cannot_be_resized() {
    let (mut producer, _consumer) = ring(1);
    let capacity = producer.capacity();
    let view = maps_entry(producer.write_slice().as_ptr().cast()).expect("first view");
    let path = format!("/proc/self/map_files/{:x}-{:x}", view.start, view.end);
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            skip!("{path}: {e} (needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE)")
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && is_qemu_user() => {
            skip!("{path}: {e} (qemu-user's map_files entries are the host's addresses)")
        }
        Err(e) => panic!("{path}: {e}"),
    };
    let fd = {
        use std::os::fd::AsRawFd;
        // SAFETY: the descriptor stays open while `file` lives, which outlives `fd`.
        unsafe { mman::fd::BorrowedFd::borrow_raw(file.as_raw_fd()) }
    };
    let seals = mman::sys::fcntl_get_seals(fd).expect("F_GET_SEALS");
    let frozen = mman::Seals::SHRINK | mman::Seals::GROW | mman::Seals::SEAL;
    assert!(seals.contains(frozen), "{seals:?}");
    assert_eq!(
        file.set_len(0).map_err(|e| e.raw_os_error()),
        Err(Some(libc::EPERM))
    );
    let more = capacity as u64 + 1;
    assert_eq!(
        file.set_len(more).map_err(|e| e.raw_os_error()),
        Err(Some(libc::EPERM))
    );
    assert_eq!(file.metadata().map(|m| m.len()).ok(), Some(capacity as u64));
}

#[test]
fn a_record_across_the_wrap_is_one_slice_both_ways() {
    let (mut producer, mut consumer) = ring(1);
    let capacity = producer.capacity();
    for offset in [1, 3, capacity / 2, capacity - 1] {
        advance(&mut producer, &mut consumer, offset);
        let record: Vec<u8> = (0..capacity).map(|i| (i * 7 + offset) as u8).collect();
        let space = producer.write_slice();
        assert_eq!(space.len(), capacity, "the whole ring is free");
        space.copy_from_slice(&record);
        assert_eq!(producer.commit(capacity), capacity);
        assert!(producer.write_slice().is_empty(), "full");
        assert_eq!(consumer.read_slice(), &record[..], "starting at {offset}");
        assert_eq!(consumer.consume(capacity), capacity);
        assert!(consumer.read_slice().is_empty());
    }
}

/// Regression test for the review's aliasing hole (positions were counters that wrapped at
/// 2^64, where `position % capacity` stopped being the byte's place for a capacity that is
/// not a power of two; fixed in 9e6509b). Positions now wrap every `2 * capacity` bytes
/// (their arithmetic is tested at that boundary, up to the largest capacities, in
/// `ring::position`); here the real ring of 3 pages goes through two laps of its
/// positions, and at starting points all along the way (about 60 a lap at full effort, an
/// odd number of bytes apart) and for queues from one byte to full, the consumer's live
/// slice and the producer's live slice are different memory: filling all the free space
/// leaves every queued byte as it was.
#[test]
fn live_slices_never_alias_as_positions_wrap() {
    // Three pages, or on mips three times SHMLBA (capacities are multiples of it there).
    let (mut producer, mut consumer) = ring(3 * mman::shared_alignment());
    let capacity = producer.capacity();
    assert_ne!(capacity.count_ones(), 1, "not a power of two");
    // About 60 starting points a lap at full effort, 10 at the emulated lanes' 20 %: each
    // one fills and checks the whole ring byte by byte, 768 KiB on mips (the debug 6.1 lane
    // spent 198 s here with 60).
    let step = (capacity / common::scaled(29, 5)) | 1;
    let mut consumed = 0;
    while consumed < 2 * 2 * capacity {
        for queued in [1, 61, capacity / 2, capacity - 1, capacity] {
            let pattern = (consumed / step) as u8 | 1;
            producer.write_slice()[..queued].fill(pattern);
            assert_eq!(producer.commit(queued), queued);
            let bytes = consumer.read_slice();
            let free = producer.write_slice();
            assert_eq!((bytes.len(), free.len()), (queued, capacity - queued));
            free.fill(!pattern);
            // Volatile reads: if the slices aliased, the fill changed these bytes under
            // a live `&[u8]`, and the compiler must not answer from what it assumed.
            let intact = (0..queued).all(|i| read_byte(&bytes[i]) == pattern);
            assert!(
                intact,
                "{queued} queued after {consumed} bytes: overwritten"
            );
            assert_eq!(consumer.consume(queued), queued);
        }
        advance(&mut producer, &mut consumer, step);
        consumed += step;
    }
}

#[test]
fn commit_and_consume_are_capped_at_what_there_is() {
    let (mut producer, mut consumer) = ring(1);
    let capacity = producer.capacity();
    assert_eq!(consumer.consume(10), 0);
    assert_eq!(producer.commit(capacity + 1), capacity);
    assert_eq!(producer.free(), 0);
    assert_eq!(producer.push(b"more"), 0);
    assert_eq!(consumer.len(), capacity);
    assert!(!consumer.is_empty(), "a full ring is not empty");
    assert_eq!(consumer.consume(usize::MAX), capacity);
    assert!(consumer.is_empty());
    assert_eq!(producer.free(), capacity);
    let mut out = [0u8; 8];
    assert_eq!(consumer.pop(&mut out), 0);
    assert_eq!(producer.push(b"abc"), 3);
    assert_eq!(consumer.pop(&mut out), 3);
    assert_eq!(&out[..3], b"abc");
}

#[test]
fn producer_and_consumer_threads_stream_records_across_the_wrap() {
    let (mut producer, mut consumer) = ring(1);
    let capacity = producer.capacity();
    // 8 MiB at full effort (2,048 laps of a 4 KiB ring, 128 of a 64 KiB one); at the
    // emulated lanes' 20 %, where it cost 10 s of a lane, a fifth of that.
    let total = common::scaled(8 << 20, 1 << 20);
    let record = move |n: usize| 1 + (n * 7919) % (capacity / 3);
    let writer = thread::spawn(move || {
        let (mut n, mut sent) = (0, 0);
        while sent < total {
            let len = record(n);
            let space = producer.write_slice();
            if space.len() < len {
                thread::yield_now();
                continue;
            }
            for (i, b) in space[..len].iter_mut().enumerate() {
                *b = (n + i) as u8;
            }
            producer.commit(len);
            sent += len;
            n += 1;
        }
    });
    let (mut n, mut received) = (0, 0);
    while received < total {
        let len = record(n);
        let queued = consumer.read_slice();
        if queued.len() < len {
            thread::yield_now();
            continue;
        }
        for (i, &b) in queued[..len].iter().enumerate() {
            assert_eq!(b, (n + i) as u8, "byte {i} of record {n}");
        }
        consumer.consume(len);
        received += len;
        n += 1;
    }
    writer.join().expect("producer");
    assert!(consumer.is_empty());
    eprintln!(
        "ring stream: {n} records ({} KiB) through a {} KiB ring; effort {}%",
        total >> 10,
        capacity >> 10,
        common::effort_percent()
    );
}

#[test]
fn random_operations_match_a_vecdeque() {
    let (mut producer, mut consumer) = ring(3 * page());
    let capacity = producer.capacity();
    let mut model: VecDeque<u8> = VecDeque::new();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    // 20,000 steps with 4 KiB pages at full effort; as many bytes, in fewer steps, where
    // pages are larger: each step moves and compares up to a whole ring (192 KiB with
    // 64 KiB pages, where 20,000 steps ran for many minutes of the emulated powerpc64le
    // system lane). Still hundreds of laps.
    let steps = scaled(20_000 * 3 * 4096 / capacity, 200) as u32;
    for step in 0..steps {
        let amount = (next() % (capacity as u64 + 64)) as usize;
        match next() % 4 {
            0 => {
                // Write up to `amount` bytes in place, commit some of them.
                let space = producer.write_slice();
                assert_eq!(space.len(), capacity - model.len(), "step {step}");
                let n = amount.min(space.len());
                for (i, b) in space[..n].iter_mut().enumerate() {
                    *b = (step as usize + i) as u8;
                }
                let keep = (next() % (n as u64 + 1)) as usize;
                assert_eq!(producer.commit(keep), keep);
                model.extend((0..keep).map(|i| (step as usize + i) as u8));
            }
            1 => {
                let bytes: Vec<u8> = (0..amount).map(|i| (i as u8) ^ 0x5a).collect();
                let n = producer.push(&bytes);
                assert_eq!(n, amount.min(capacity - model.len()));
                model.extend(&bytes[..n]);
            }
            2 => {
                let n = consumer.consume(amount);
                assert_eq!(n, amount.min(model.len()));
                model.drain(..n);
            }
            _ => {
                let mut out = vec![0; amount];
                let n = consumer.pop(&mut out);
                let want: Vec<u8> = model.drain(..amount.min(model.len())).collect();
                assert_eq!(&out[..n], &want[..], "step {step}");
            }
        }
        let (a, b) = model.as_slices();
        let queued = consumer.read_slice();
        assert_eq!(queued.len(), model.len(), "step {step}");
        assert_eq!(&queued[..a.len()], a, "step {step}");
        assert_eq!(&queued[a.len()..], b, "step {step}");
    }
}

#[test]
fn a_forked_child_finds_its_halves_inert() {
    if is_qemu_user() {
        skip!("qemu-user answers MADV_WIPEONFORK without applying it");
    }
    let (mut producer, mut consumer) = ring(1);
    assert_eq!(producer.push(b"parent"), 6);
    let end = in_child_checked(|| {
        // The control page reads as zeros here: nothing is lent, nothing moves.
        assert!(producer.write_slice().is_empty());
        assert!(consumer.read_slice().is_empty());
        assert_eq!(producer.push(b"child"), 0);
        assert_eq!(consumer.consume(6), 0);
        assert_eq!((producer.free(), consumer.len()), (0, 0));
    });
    assert_eq!(end, ChildEnd::Exited(0));
    // The parent's queue is as it was.
    assert_eq!(consumer.read_slice(), b"parent");
    assert_eq!(producer.free(), producer.capacity() - 6);
}

#[test]
fn making_and_dropping_rings_leaks_nothing() {
    assert_no_leak(
        "MirrorBuffer",
        25,
        || (),
        || {
            let (mut producer, consumer) = ring(3 * page());
            producer.push(b"bytes");
            drop(consumer);
            drop(producer);
            // Unsplit, too.
            drop(MirrorBuffer::new(1).expect("MirrorBuffer"));
        },
    );
}
