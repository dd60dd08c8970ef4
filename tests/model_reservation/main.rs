//! Model-based randomized test of `Reservation`: random sequences of `commit` (no access,
//! read, read-write, write-only, read-execute), `decommit`, `reset`, `as_slice` and
//! `as_mut_slice` over any bytes (with writes through the mutable ones), placement of
//! anonymous and memfd mappings inside the reservation with `MapOptions::map_in` /
//! `map_file_in` (at any offset, sometimes with `align`, or with a `name` the kernel takes or
//! refuses once the mapping is placed), drops of placed mappings, memory
//! pressure made by the test (`MADV_PAGEOUT`, which discards reset pages not yet pinned and
//! must keep every other byte), and at the end the drop of the reservation, over a
//! reservation of `PAGES` pages (sometimes made with `with_align`).
//!
//! The model keeps, for each page, whose it is (the reservation's, a placed mapping's, or
//! nobody's once that mapping was dropped), the protection the kernel has for it, whether
//! it is committed or reset, and its bytes: what was written, zeros after a decommit, and
//! after a reset "the old bytes or zeros" until it is committed and read (then it must be
//! one or the other, the whole page alike). Each call's answer (success or errno) is
//! predicted from the documented rules and compared; after every step each page's
//! permissions in `/proc/self/maps`, `committed()` and the bytes of every readable page are
//! compared with the model. After the reservation's drop, every page it still owned must be
//! unmapped, and the pages of placed mappings still alive must still be theirs.
//!
//! Seed: `MMAN_MODEL_SEED` (printed on every run, and on failure); sequence count:
//! `MMAN_MODEL_SEQUENCES` (default below); `MMAN_MODEL_TRACE=1` prints every step. A 30 s
//! bound keeps the system lane's emulated CPUs within budget. Sequences run in forked
//! children, a batch at a time, so that the test harness's other threads never map into
//! the holes placed mappings leave behind.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;
#[path = "../model_support/mod.rs"]
mod model_support;

mod check;
mod model;
mod ops;

use std::time::{Duration, Instant};

use common::{is_qemu_user, page};
use mman::{MemfdFlags, Reservation};
use model::{Features, Op, World};
use model_support::{report, Counters, Plan, Rng};
use ops::pick;

/// Pages in the reservation under test.
const PAGES: usize = 16;
/// Steps per sequence.
const STEPS: usize = 24;
/// Placed mappings alive at once.
const SLOTS: usize = 4;
/// Pages of the memfd that placed file mappings map.
const FILE_PAGES: usize = 4;
const DEFAULT_SEQUENCES: usize = 2000;
const TIME_BOUND: Duration = Duration::from_secs(30);
const BATCH: usize = 100;

/// What the children report besides `Counters::DONE`.
const STEPS_DONE: usize = 1;
const REFUSED: usize = 2;
const LENT: usize = 3;
const PLACED: usize = 4;
const RESOLVED_ZERO: usize = 5;
const RESOLVED_OLD: usize = 6;
const COUNTERS: usize = 7;

/// Runs `count` sequences from `seed`, stopping early at `deadline`; panics at the first
/// divergence (in a forked child, whose message `in_child_checked` prints).
fn run_batch(seed: u64, count: usize, deadline: Instant, features: Features, counters: &Counters) {
    let trace = std::env::var_os("MMAN_MODEL_TRACE").is_some();
    let mut rng = Rng(seed);
    let memfd = common::memfd(
        "mman-model-reservation",
        MemfdFlags::CLOEXEC,
        (FILE_PAGES * page()) as u64,
    );
    let mut bytes = vec![0u8; PAGES * page()];
    let mut history: Vec<Op> = Vec::with_capacity(4 * STEPS);
    for sequence in 0..count {
        if Instant::now() >= deadline {
            return;
        }
        let align = rng.pick(&[0, 0, page(), 2 * page(), 8 * page(), 2 << 20]);
        let space = match align {
            0 => Reservation::new(PAGES * page() - rng.below(page())),
            align => Reservation::with_align(PAGES * page(), align),
        }
        .unwrap_or_else(|e| panic!("reserve: {e}"));
        assert_eq!(space.len(), PAGES * page());
        assert_eq!(
            space.as_ptr() as usize % align.max(page()),
            0,
            "alignment {align:#x}"
        );
        history.clear();
        let mut world = World::new(space, &mut bytes, &memfd, features);
        let mut refused = 0;
        let context = |history: &[Op], difference: &str| {
            format!(
                "batch seed {seed}, sequence {sequence} (reservation aligned to {align:#x}): \
                 {difference}\nhistory: {history:#?}"
            )
        };
        if let Some(difference) = world.diverges() {
            panic!(
                "{}",
                context(&history, &format!("a new reservation: {difference}"))
            );
        }
        while history.len() < STEPS {
            let Some(op) = pick(&mut rng, &world) else {
                continue;
            };
            history.push(op);
            if trace {
                eprintln!("model-reservation: {op:?}");
            }
            let (got, want) = world.apply(op);
            refused += usize::from(got.is_err());
            if got != want {
                let difference = format!("{op:?} answered {got:?}, model {want:?}");
                panic!("{}", context(&history, &difference));
            }
            if let Some(difference) = world.diverges() {
                panic!(
                    "{}",
                    context(&history, &format!("after {op:?}: {difference}"))
                );
            }
        }
        let placed = world.slots.iter().flatten().count();
        counters.add(LENT, world.lent);
        counters.add(RESOLVED_ZERO, world.resolved_zero);
        counters.add(RESOLVED_OLD, world.resolved_old);
        counters.add(PLACED, placed);
        if let Some(difference) = world.release() {
            panic!("{}", context(&history, &difference));
        }
        counters.add(STEPS_DONE, history.len());
        counters.add(REFUSED, refused);
        counters.add(Counters::DONE, 1);
    }
}

#[test]
fn random_reservation_sequences_match_the_model_and_the_kernel() {
    if is_qemu_user() {
        skip!("qemu-user emulates madvise and synthesizes /proc/self/maps from its own page table");
    }
    // Its sequences read committed pages (the zero page) and then commit them again with
    // another protection.
    if let Some(reason) = common::mips_zero_page_protect_bug() {
        skip!("{reason}");
    }
    let plan = Plan::from_env(DEFAULT_SEQUENCES);
    let features = Features::probe();
    let seed = plan.seed;
    eprintln!("model-reservation: seed {seed} (rerun with MMAN_MODEL_SEED={seed}); {features:?}");
    let counters = Counters::new(COUNTERS);
    plan.run_in_batches(
        BATCH,
        common::scaled_time(TIME_BOUND),
        &counters,
        |batch_seed, count, deadline| run_batch(batch_seed, count, deadline, features, &counters),
    );
    report(&format!(
        "mman-model-reservation: {} sequences, {} steps ({} refused as predicted), {} slices \
         lent, {} placed mappings alive at the reservation's drop, reset pages read back \
         as their old bytes {} times and as zeros {} times, 0 divergences, seed {seed}",
        counters.get(Counters::DONE),
        counters.get(STEPS_DONE),
        counters.get(REFUSED),
        counters.get(LENT),
        counters.get(PLACED),
        counters.get(RESOLVED_OLD),
        counters.get(RESOLVED_ZERO),
    ));
}
