//! Several threads mapping, protecting, remapping, writing and unmapping at once, for a
//! fixed number of iterations; afterwards descriptor and mapping counts are back where they
//! started.

mod common;

use std::sync::Barrier;

use common::{fd_count, maps, page, MapsEntry};
use mman::{Access, Mapping, Memfd, Prot};

const THREADS: usize = 4;
const ITERATIONS: usize = 300;

/// One thread's work: every operation of the safe layer on mappings of its own.
fn churn(seed: usize) {
    for i in 0..ITERATIONS {
        let pages = 1 + (seed + i) % 7;
        let mut memory = Mapping::anonymous(pages * page()).expect("map");
        memory.as_mut_slice().expect("slice")[0] = i as u8;
        memory.protect(.., Prot::READ).expect("protect");
        assert_eq!(memory.as_slice().expect("readable")[0], i as u8);
        memory
            .protect(.., Prot::READ | Prot::WRITE)
            .expect("protect back");
        memory.remap((pages + 3) * page(), true).expect("remap");
        assert_eq!(memory.as_slice().expect("after remap")[0], i as u8);
        if i % 10 == 0 {
            let memfd = Memfd::new(c"concurrency").expect("memfd");
            memfd.set_len(page() as u64).expect("set_len");
            let mut view = memfd.map(Access::ReadWrite).expect("map memfd");
            view.write_at(0, &[seed as u8]).expect("write");
            let mut back = [0u8];
            view.read_at(0, &mut back).expect("read");
            assert_eq!(back[0], seed as u8);
        }
    }
}

/// Largest mapping `churn` makes, in pages.
const MAX_PAGES: usize = 7 + 3;

/// Mappings this test could have left behind: small private anonymous ones and its memfds.
/// Counting all of /proc/self/maps would also count what glibc keeps between threads
/// (cached thread stacks and their guard pages, arenas), which varies from run to run.
fn could_be_ours(entry: &MapsEntry) -> bool {
    let small = entry.end - entry.start <= MAX_PAGES * page();
    let anonymous = entry.path.is_empty() && entry.perms.ends_with('p') && entry.perms != "---p";
    (small && anonymous) || entry.path.contains("memfd:concurrency")
}

fn our_mappings() -> usize {
    maps().iter().filter(|e| could_be_ours(e)).count()
}

fn run_threads() {
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|scope| {
        for seed in 0..THREADS {
            let barrier = &barrier;
            scope.spawn(move || {
                barrier.wait();
                churn(seed);
            });
        }
    });
}

#[test]
fn threads_churning_mappings_leave_nothing_behind() {
    // A first round lets the allocator set up what it keeps between threads.
    run_threads();
    let (fds, mappings) = (fd_count(), our_mappings());
    run_threads();
    assert_eq!(fd_count(), fds, "descriptors leaked");
    // A thread's signal stack is unmapped by its thread-local destructors, which may run
    // just after the scope has seen it finish: give them a moment. A leak stays.
    let settle = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while our_mappings() > mappings && std::time::Instant::now() < settle {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // A leak can only add mappings; the allocator may release some it had cached.
    let now = our_mappings();
    assert!(
        now <= mappings,
        "mappings leaked: {now} now, {mappings} before"
    );
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "mman-concurrency: {THREADS} threads x {ITERATIONS} iterations, descriptors and mappings back to baseline"
    );
}
