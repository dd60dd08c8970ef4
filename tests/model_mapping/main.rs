//! Model-based randomized test of the safe `Mapping`: random sequences of `MapOptions`
//! maps (private and shared, growing down, placed with `at` right before, after or inside
//! another mapping, or just below the `[stack]`), `protect` of the whole mapping and of
//! page-aligned parts, `guard`/`unguard`, `advise` (harmless, discarding and refused
//! advice), `remap` growing and shrinking with and without `may_move`, `lock`/`unlock`,
//! `write_at`, writes through `as_mut_slice` and `atomic_u32`, `seal` and drop.
//!
//! After every step, for every mapping, the model predicts what each lending call
//! (`as_slice`, `as_mut_slice`, `read_at`, `write_at`, `atomic_u32`) answers, from the
//! documented book-keeping rules (`state.rs`), and checks it. Independently of the model,
//! whatever a lending call grants is checked against the kernel: every page of the lent
//! range must be readable (and writable) in `/proc/self/maps` and through
//! `process_vm_readv`/`writev`, which also see guard markers (`kernel.rs`). The model also
//! keeps the bytes of every page (what was written, zeros where contents were discarded or
//! pages added; growth within the last page shows what that page held past the old
//! length) and the pages' protection, both compared with the kernel after every step.
//!
//! A second test runs sequences at the brink of `vm.max_map_count` (`ballast.rs`), where
//! calls that split VMAs fail part-way: whatever the kernel did, no lending call may grant
//! access that a failed call may have taken away. A third races two threads' copies and
//! atomics on one shared memory (`threads.rs`).
//!
//! Seed: `MMAN_MODEL_SEED` (printed on every run, and on failure); sequence count:
//! `MMAN_MODEL_SEQUENCES` (defaults below); `MMAN_MODEL_TRACE=1` prints every step. Time
//! bounds keep the system lane's emulated CPUs within budget. Sequences run in forked
//! children, a batch at a time, so sealed mappings and the ballast die with each child.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;
#[path = "../model_support/mod.rs"]
mod model_support;

mod apply;
mod ballast;
mod check;
mod kernel;
mod ops;
mod state;
mod threads;

use std::time::{Duration, Instant};

use mman::MapFlags;

use apply::World;
use ballast::Ballast;
use check::{check, Lends};
use common::is_qemu_user;
use model_support::{report, seal_supported, Counters, Plan, Rng};
use ops::{pick, Features, Op, SLOTS};

/// Steps per sequence.
const STEPS: usize = 20;
/// Where a partial-failure sequence loses its last free VMAs.
const HALF: usize = STEPS / 2;
const DEFAULT_SEQUENCES: usize = 1500;
const TIME_BOUND: Duration = Duration::from_secs(40);
const BATCH: usize = 100;

const DEFAULT_PARTIAL_SEQUENCES: usize = 200;
const PARTIAL_TIME_BOUND: Duration = Duration::from_secs(30);

/// What the children report besides `Counters::DONE`.
const STEPS_DONE: usize = 1;
const REFUSED: usize = 2;
const GRANTED: usize = 3;
const DENIED: usize = 4;
/// Partial-failure mode: calls that failed with `ENOMEM` (or `EAGAIN`, madvise's word for
/// it), and protects that changed part of their range before failing.
const ENOMEM: usize = 5;
const PARTLY: usize = 6;
const COUNTERS: usize = 7;

/// Why the model's sequences cannot run here, if they cannot. qemu-user keeps its own page
/// table beside the host's, and they disagree after a partly applied call; the system lane
/// runs the model on real kernels of both architectures. The sequences read fresh private
/// pages (mapping the zero page) and then protect them, which mips kernels before 6.4 turn
/// into a freed zero page.
fn cannot_run_here() -> Option<String> {
    if is_qemu_user() {
        return Some(
            "qemu-user's page table diverges from the host's on partial mprotect/mlock".into(),
        );
    }
    common::mips_zero_page_protect_bug()
}

fn features(partial: bool) -> Features {
    // Probed now, before the ballast: the probe maps, which the map count limit would stop.
    common::kernel_shared_colour();
    Features {
        seal: seal_supported(),
        private_markers: kernel::guard_markers(MapFlags::PRIVATE),
        shared_markers: kernel::guard_markers(MapFlags::SHARED),
        gap: kernel::stack_guard_gap(),
        partial,
    }
}

/// Runs `count` sequences from `seed`, stopping early at `deadline`; panics at the first
/// divergence (in a forked child, whose message `in_child_checked` prints).
fn run_batch(seed: u64, count: usize, deadline: Instant, features: Features, counters: &Counters) {
    let trace = std::env::var_os("MMAN_MODEL_TRACE").is_some();
    let mut rng = Rng(seed);
    let mut ballast = features.partial.then(|| {
        // At the limit, the allocator could not grow its heap (a split): it must not need to.
        common::quiet_allocator();
        Ballast::new().unwrap_or_else(|e| panic!("ballast: {e}"))
    });
    for sequence in 0..count {
        if Instant::now() >= deadline {
            return;
        }
        let mut world = World {
            slots: Default::default(),
            features,
            partly: 0,
        };
        let mut history: Vec<Op> = Vec::new();
        let mut lends = Lends::default();
        let (mut refused, mut enomem) = (0, 0);
        if let Some(ballast) = &mut ballast {
            // Room for the first mappings, then almost none.
            ballast.leave(4 * SLOTS + 8);
        }
        while history.len() < STEPS {
            if let Some(ballast) = &mut ballast {
                // Some room to split VMAs, then none: a call over several VMAs can then
                // change the first ones and fail at the next split.
                match history.len() {
                    SLOTS => ballast.leave(rng.below(8)),
                    HALF => ballast.leave(0),
                    _ => {}
                }
            }
            let Some(op) = pick(&mut rng, &world.slots, &features) else {
                continue;
            };
            history.push(op);
            if trace {
                eprintln!("model: {op:?}");
            }
            let (got, want) = world.apply(op);
            refused += usize::from(got.is_err());
            enomem += usize::from(matches!(
                got,
                Err(mman::Errno::ENOMEM | mman::Errno::EAGAIN)
            ));
            assert_eq!(
                got, want,
                "batch seed {seed}, sequence {sequence}: {op:?}\nhistory: {history:#?}"
            );
            for (i, held) in world.slots.iter_mut().enumerate() {
                let Some(held) = held else { continue };
                if let Err(difference) = check(held, &mut rng, &mut lends) {
                    panic!(
                        "batch seed {seed}, sequence {sequence}: after {op:?}: slot {i}: \
                         {difference}\nmodel: {held:#?}\nhistory: {history:#?}"
                    );
                }
            }
        }
        counters.add(PARTLY, world.partly);
        drop(world);
        counters.add(STEPS_DONE, history.len());
        counters.add(REFUSED, refused);
        counters.add(ENOMEM, enomem);
        counters.add(GRANTED, lends.granted);
        counters.add(DENIED, lends.refused);
        counters.add(Counters::DONE, 1);
    }
}

/// Runs `plan` with `features`; returns the counters.
fn run(plan: Plan, batch: usize, bound: Duration, features: Features) -> Counters {
    let seed = plan.seed;
    eprintln!("model: seed {seed} (rerun with MMAN_MODEL_SEED={seed}); {features:?}");
    let counters = Counters::new(COUNTERS);
    plan.run_in_batches(batch, bound, &counters, |batch_seed, count, deadline| {
        run_batch(batch_seed, count, deadline, features, &counters)
    });
    counters
}

/// "N sequences, S steps (R refused as predicted), lending calls: G granted, D refused as
/// predicted"
fn summary(counters: &Counters) -> String {
    format!(
        "{} sequences, {} steps ({} refused as predicted), lending calls: {} granted, {} \
         refused as predicted, 0 divergences",
        counters.get(Counters::DONE),
        counters.get(STEPS_DONE),
        counters.get(REFUSED),
        counters.get(GRANTED),
        counters.get(DENIED),
    )
}

#[test]
fn random_mapping_sequences_match_the_model_and_the_kernel() {
    if let Some(reason) = cannot_run_here() {
        skip!("{reason}");
    }
    let plan = Plan::from_env(DEFAULT_SEQUENCES);
    let counters = run(
        plan,
        BATCH,
        common::scaled_time(TIME_BOUND),
        features(false),
    );
    report(&format!(
        "mman-model-mapping: {}, seed {}",
        summary(&counters),
        plan.seed
    ));
}

#[test]
fn at_the_map_count_limit_failed_calls_leave_nothing_lent_that_lost_access() {
    if let Some(reason) = cannot_run_here() {
        skip!("{reason}");
    }
    if let Err(reason) = Ballast::limit() {
        skip!("{reason}");
    }
    let plan = Plan::from_env(DEFAULT_PARTIAL_SEQUENCES);
    // One child: the ballast takes tens of thousands of calls to build, which the lane's
    // effort cannot shorten, so the bound stays whole (the sequences after it are scaled).
    let counters = run(plan, plan.sequences, PARTIAL_TIME_BOUND, features(true));
    let (enomem, partly) = (counters.get(ENOMEM), counters.get(PARTLY));
    report(&format!(
        "mman-model-mapping at the vm.max_map_count limit: {}; {enomem} calls failed with \
         ENOMEM, {partly} protects changed part of their range first; seed {}",
        summary(&counters),
        plan.seed
    ));
    if enomem == 0 && counters.get(Counters::DONE) < plan.sequences {
        // On an emulated CPU building the ballast can take most of the time bound.
        skip!(
            "the {} s bound ended the phase after {} of {} sequences, before any call \
             failed at the limit",
            PARTIAL_TIME_BOUND.as_secs(),
            counters.get(Counters::DONE),
            plan.sequences
        );
    }
    assert!(
        enomem > 0,
        "no call failed at the map count limit: the phase tested nothing"
    );
}

#[test]
fn two_threads_copying_and_storing_at_once_see_whole_words() {
    let seed = Plan::from_env(0).seed;
    let [a, b] = threads::race(seed);
    report(&format!(
        "mman-model-mapping threads: {a} and {b} rounds of atomic stores, whole-word writes \
         and reads at once, no torn word; seed {seed}"
    ));
    assert!(a > 0 && b > 0, "a thread made no round");
}
