//! Model-based randomized test: random sequences of map, protect, write, advise, lock,
//! unlock, remap, seal and unmap over a small region, each step checked against a model of
//! the address space and against what the kernel reports (`/proc/self/maps` permissions of
//! every page, `VmLck`, the bytes read back).
//!
//! The model is page-granular. That is exact for these calls because the kernel walks the
//! range VMA by VMA, and a VMA is a run of pages with the same attributes: `mprotect` and
//! `mlock` change the pages up to the first hole and then fail with `ENOMEM` (`mlock` also
//! fails, after locking, if it cannot fault in a `PROT_NONE` page); `madvise`
//! skips holes (reporting `ENOMEM` at the end) but stops at a locked VMA (`EINVAL` for
//! `DontNeed`); `munmap` ignores holes. Sealed pages refuse `munmap`, `mprotect`, `mremap`
//! and fixed maps (`EPERM`) but not `mlock`/`munlock`. Ranges that cross into sealed pages
//! after their start are not generated, nor is `DontNeed` on sealed pages: kernels differ in
//! whether they apply the part before, and in when discarding advice is refused.
//!
//! Seed: `MMAN_MODEL_SEED` (printed on every run, and on failure); sequence count:
//! `MMAN_MODEL_SEQUENCES` (default 3000); time bound: 75 s (reached only on the system
//! lane's emulated CPUs), after which the run ends with the sequences done so far.
//! Sequences run in forked children, `BATCH` at a time, so that the pages sealed along the
//! way die with each child.

#[macro_use]
mod common;
mod model_support;

use std::ffi::c_void;
use std::time::{Duration, Instant};

use common::{is_qemu_user, page, vm_lck_kb};
use mman::{sys, Advice, Errno, MapFlags, MremapFlags, Prot};
use model_support::{report, seal_supported, vmas_in, Counters, Plan, Rng};

/// Pages in the region under test.
const PAGES: usize = 16;
/// Steps per sequence.
const STEPS: usize = 24;
const DEFAULT_SEQUENCES: usize = 3000;
const TIME_BOUND: Duration = Duration::from_secs(75);

/// A protection the model uses. Write-only is not a hardware permission everywhere;
/// read-write covers writes.
fn random_prot(rng: &mut Rng) -> Prot {
    rng.pick(&[Prot::empty(), Prot::READ, Prot::READ | Prot::WRITE])
}

/// What the model knows about one mapped page.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Page {
    prot: Prot,
    /// The first byte of the page.
    value: u8,
    locked: bool,
    sealed: bool,
    /// Which map operation made the page; remaps only touch one untouched mapping.
    origin: usize,
    pristine: bool,
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Map { at: usize, n: usize, prot: Prot },
    Protect { at: usize, n: usize, prot: Prot },
    Write { at: usize, value: u8 },
    DontNeed { at: usize, n: usize },
    Lock { at: usize, n: usize },
    Unlock { at: usize, n: usize },
    Shrink { at: usize, n: usize, keep: usize },
    Seal { at: usize, n: usize },
    Unmap { at: usize, n: usize },
}

/// Whether `mseal` stops a call.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sealing {
    Refuses,
    Allows,
}

/// The features this kernel lets the model use.
struct Features {
    seal: bool,
}

struct Region {
    /// The reservation: a PROT_NONE page, the region, a PROT_NONE page. The guards keep the
    /// region's maps lines from merging with neighbours and neighbours out of the region.
    base: usize,
    pages: [Option<Page>; PAGES],
    maps_made: usize,
    lck_baseline_kb: usize,
}

impl Region {
    fn new() -> Region {
        let len = (PAGES + 2) * page();
        let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS;
        let base = unsafe { sys::mmap(std::ptr::null_mut(), len, Prot::empty(), flags, -1, 0) }
            .expect("reserve the region") as usize;
        unsafe { sys::munmap(addr_of(base, 0), PAGES * page()) }.expect("open the region");
        Region {
            base,
            pages: [None; PAGES],
            maps_made: 0,
            lck_baseline_kb: vm_lck_kb(),
        }
    }

    fn addr(&self, page_index: usize) -> *mut c_void {
        addr_of(self.base, page_index)
    }

    fn sealed_in(&self, at: usize, n: usize) -> bool {
        self.pages[at..at + n].iter().flatten().any(|p| p.sealed)
    }

    /// Applies `op` to the kernel and to the model; returns what the kernel said and what
    /// the model predicted.
    fn apply(&mut self, op: Op) -> (mman::Result<()>, mman::Result<()>) {
        let len = |n: usize| n * page();
        match op {
            Op::Map { at, n, prot } => {
                let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED;
                let got = unsafe { sys::mmap(self.addr(at), len(n), prot, flags, -1, 0) }.map(drop);
                self.maps_made += 1;
                let origin = self.maps_made;
                for p in &mut self.pages[at..at + n] {
                    *p = Some(Page {
                        prot,
                        value: 0,
                        locked: false,
                        sealed: false,
                        origin,
                        pristine: true,
                    });
                }
                (got, Ok(()))
            }
            Op::Protect { at, n, prot } => {
                let got = unsafe { sys::mprotect(self.addr(at), len(n), prot) };
                (
                    got,
                    self.walk_prefix(at, n, Sealing::Refuses, |p| {
                        p.prot = prot;
                        p.pristine = false;
                    }),
                )
            }
            Op::Write { at, value } => {
                unsafe { self.addr(at).cast::<u8>().write_volatile(value) };
                if let Some(p) = &mut self.pages[at] {
                    p.value = value;
                }
                (Ok(()), Ok(()))
            }
            Op::DontNeed { at, n } => {
                let got = unsafe { sys::madvise(self.addr(at), len(n), Advice::DontNeed) };
                (got, self.model_dont_need(at, n))
            }
            Op::Lock { at, n } => {
                let got = unsafe { sys::mlock(self.addr(at), len(n)) };
                let locked = self.walk_prefix(at, n, Sealing::Allows, |p| {
                    p.locked = true;
                    p.pristine = false;
                });
                // mlock marks the whole range locked first, then faults it in; PROT_NONE
                // pages cannot be faulted in, so it reports ENOMEM with the lock applied.
                let inaccessible = self.pages[at..at + n]
                    .iter()
                    .flatten()
                    .any(|p| p.prot.is_empty());
                (
                    got,
                    locked.and(if inaccessible {
                        Err(Errno::ENOMEM)
                    } else {
                        Ok(())
                    }),
                )
            }
            Op::Unlock { at, n } => {
                let got = unsafe { sys::munlock(self.addr(at), len(n)) };
                (
                    got,
                    self.walk_prefix(at, n, Sealing::Allows, |p| {
                        p.locked = false;
                        p.pristine = false;
                    }),
                )
            }
            Op::Shrink { at, n, keep } => {
                let flags = MremapFlags::empty();
                let got = unsafe {
                    sys::mremap(
                        self.addr(at),
                        len(n),
                        len(keep),
                        flags,
                        std::ptr::null_mut(),
                    )
                }
                .map(|moved| assert_eq!(moved, self.addr(at), "a shrink never moves"));
                self.pages[at + keep..at + n].fill(None);
                (got, Ok(()))
            }
            Op::Seal { at, n } => {
                let got = unsafe { sys::mseal(self.addr(at), len(n)) };
                let want = if self.pages[at..at + n].iter().all(Option::is_some) {
                    self.pages[at..at + n]
                        .iter_mut()
                        .flatten()
                        .for_each(|p| p.sealed = true);
                    Ok(())
                } else {
                    Err(Errno::ENOMEM)
                };
                (got, want)
            }
            Op::Unmap { at, n } => {
                let got = unsafe { sys::munmap(self.addr(at), len(n)) };
                if self.sealed_in(at, n) {
                    return (got, Err(Errno::EPERM));
                }
                self.pages[at..at + n].fill(None);
                (got, Ok(()))
            }
        }
    }

    /// mprotect, mlock and munlock: `EPERM` if the range starts sealed and sealing refuses
    /// the call; otherwise change each page up to the first hole, and report `ENOMEM` if
    /// there is one.
    fn walk_prefix(
        &mut self,
        at: usize,
        n: usize,
        sealing: Sealing,
        change: impl Fn(&mut Page),
    ) -> mman::Result<()> {
        if sealing == Sealing::Refuses && self.pages[at].is_some_and(|p| p.sealed) {
            return Err(Errno::EPERM);
        }
        for p in &mut self.pages[at..at + n] {
            match p {
                Some(page) => change(page),
                None => return Err(Errno::ENOMEM),
            }
        }
        Ok(())
    }

    /// madvise(DONTNEED): holes are skipped and reported at the end (`ENOMEM`); a locked
    /// page stops the walk (`EINVAL`); private anonymous pages read back as zeros.
    fn model_dont_need(&mut self, at: usize, n: usize) -> mman::Result<()> {
        let mut result = Ok(());
        for p in &mut self.pages[at..at + n] {
            match p {
                None => result = Err(Errno::ENOMEM),
                Some(page) if page.locked => return Err(Errno::EINVAL),
                Some(page) => page.value = 0,
            }
        }
        result
    }

    /// Compares the model with the kernel's view; returns the first difference.
    fn diverges(&self) -> Option<String> {
        let kernel_perms = maps_perms(self.addr(0) as usize);
        for (i, (model, kernel)) in self.pages.iter().zip(kernel_perms).enumerate() {
            let addr = self.addr(i) as usize;
            match (model, kernel) {
                (None, None) => {}
                (None, Some(got)) => {
                    return Some(format!("page {i}: model unmapped, maps has {got}"))
                }
                (Some(_), None) => {
                    return Some(format!("page {i}: model mapped, maps has nothing"))
                }
                (Some(p), Some(got)) => {
                    let want = perms(p.prot);
                    if got != want {
                        return Some(format!("page {i}: model {want}, maps {got}"));
                    }
                    if p.prot.contains(Prot::READ) {
                        let got = unsafe { (addr as *const u8).read_volatile() };
                        if got != p.value {
                            return Some(format!("page {i}: model byte {}, read {got}", p.value));
                        }
                    }
                }
            }
        }
        let locked = self.pages.iter().flatten().filter(|p| p.locked).count();
        let want = self.lck_baseline_kb + locked * page() / 1024;
        let got = vm_lck_kb();
        if got != want {
            return Some(format!(
                "VmLck {got} kB, model {want} kB ({locked} locked pages)"
            ));
        }
        None
    }

    /// Unmaps what can be unmapped; sealed pages stay (they cannot be unmapped).
    fn release(self) {
        let total = PAGES + 2;
        let sealed =
            |i: usize| (1..=PAGES).contains(&i) && self.pages[i - 1].is_some_and(|p| p.sealed);
        for i in (0..total).filter(|&i| !sealed(i)) {
            let _ = unsafe { sys::munmap((self.base + i * page()) as *mut c_void, page()) };
        }
    }
}

/// The permissions `/proc/self/maps` shows for each of the `PAGES` pages from `start`
/// (`None` where nothing is mapped). This runs after every step, so it reads no further
/// than the region.
fn maps_perms(start: usize) -> [Option<String>; PAGES] {
    let mut found: [Option<String>; PAGES] = Default::default();
    for vma in vmas_in(start, start + PAGES * page()) {
        for (i, slot) in found.iter_mut().enumerate() {
            let addr = start + i * page();
            if vma.start <= addr && addr < vma.end {
                *slot = Some(vma.perms().to_string());
            }
        }
    }
    found
}

fn addr_of(base: usize, page_index: usize) -> *mut c_void {
    (base + (page_index + 1) * page()) as *mut c_void
}

/// The permission column of `/proc/self/maps` for a private mapping.
fn perms(prot: Prot) -> String {
    let bit = |flag, c| if prot.contains(flag) { c } else { '-' };
    format!(
        "{}{}{}p",
        bit(Prot::READ, 'r'),
        bit(Prot::WRITE, 'w'),
        bit(Prot::EXEC, 'x')
    )
}

/// A random operation the model can predict in this region's state, or `None` to retry.
fn pick(rng: &mut Rng, region: &Region, features: &Features) -> Option<Op> {
    let at = rng.below(PAGES);
    let n = 1 + rng.below(PAGES - at);
    let starts_sealed = region.pages[at].is_some_and(|p| p.sealed);
    // Calls that would cross into sealed pages are left out (see the module docs); calls
    // that start in them are kept: they must fail with EPERM.
    if region.sealed_in(at, n) && !starts_sealed {
        return None;
    }
    let op = match rng.below(10) {
        0 | 1 => Op::Map {
            at,
            n,
            prot: random_prot(rng),
        },
        2 => Op::Protect {
            at,
            n,
            prot: random_prot(rng),
        },
        3 => {
            let writable = region.pages[at].is_some_and(|p| p.prot.contains(Prot::WRITE));
            Op::Write {
                at,
                value: 1 + rng.below(255) as u8,
            }
            .into_writable(writable)?
        }
        4 if !region.sealed_in(at, n) => Op::DontNeed { at, n },
        5 => Op::Lock { at, n },
        6 => Op::Unlock { at, n },
        7 => pick_shrink(rng, region)?,
        8 if features.seal && rng.below(4) == 0 => Op::Seal { at, n },
        9 => Op::Unmap { at, n },
        _ => return None,
    };
    // Maps over sealed pages are refused too, but the model keeps them out for simplicity.
    if matches!(op, Op::Map { .. }) && starts_sealed {
        return None;
    }
    Some(op)
}

impl Op {
    fn into_writable(self, writable: bool) -> Option<Op> {
        writable.then_some(self)
    }
}

/// Shrinks the most recent mapping if it is still exactly as mapped (one VMA for sure).
fn pick_shrink(rng: &mut Rng, region: &Region) -> Option<Op> {
    let origin = region.maps_made;
    let pages: Vec<usize> = (0..PAGES)
        .filter(|&i| region.pages[i].is_some_and(|p| p.origin == origin && p.pristine && !p.sealed))
        .collect();
    let (&first, &last) = (pages.first()?, pages.last()?);
    let n = last - first + 1;
    if pages.len() != n || n < 2 {
        return None;
    }
    // Only the pages of that mapping still carry its origin: the run must be whole.
    let whole = (0..PAGES)
        .filter(|&i| region.pages[i].is_some_and(|p| p.origin == origin))
        .count()
        == n;
    whole.then(|| Op::Shrink {
        at: first,
        n,
        keep: 1 + rng.below(n - 1),
    })
}

/// Sequences per forked child. Sealed pages can never be unmapped, so each child takes its
/// sealed leftovers with it when it exits: the address space (and so the cost of reading
/// `/proc/self/maps` after every step) stays small however many sequences run.
const BATCH: usize = 100;

/// What the children report besides `Counters::DONE`.
const STEPS_DONE: usize = 1;
const REFUSED: usize = 2;

/// Runs `count` sequences from `seed`, stopping early at `deadline`; panics at the first
/// divergence (in a forked child, whose message `in_child_checked` prints).
fn run_batch(seed: u64, count: usize, deadline: Instant, features: &Features, counters: &Counters) {
    // MMAN_MODEL_TRACE=1 prints each step before it runs, for a sequence that crashes.
    let trace = std::env::var_os("MMAN_MODEL_TRACE").is_some();
    let mut rng = Rng(seed);
    for sequence in 0..count {
        if Instant::now() >= deadline {
            return;
        }
        let mut region = Region::new();
        let mut history = Vec::new();
        let mut refused = 0;
        while history.len() < STEPS {
            let Some(op) = pick(&mut rng, &region, features) else {
                continue;
            };
            history.push(op);
            if trace {
                eprintln!("model: {op:?}");
            }
            let (got, want) = region.apply(op);
            refused += usize::from(got.is_err());
            assert_eq!(
                got, want,
                "batch seed {seed}, sequence {sequence}: {op:?} after {history:?}"
            );
            if let Some(difference) = region.diverges() {
                panic!("batch seed {seed}, sequence {sequence}: after {op:?}: {difference}\nhistory: {history:?}");
            }
        }
        region.release();
        counters.add(STEPS_DONE, history.len());
        counters.add(REFUSED, refused);
        counters.add(Counters::DONE, 1);
    }
}

#[test]
fn random_sequences_match_the_model_and_the_kernel() {
    let plan = Plan::from_env(DEFAULT_SEQUENCES);
    if is_qemu_user() {
        // qemu-user keeps its own page table beside the host's: mprotect or mlock across
        // holes or PROT_NONE pages leaves the two disagreeing (the host changes part, qemu
        // none, and a later access faults where qemu's /proc/self/maps says it may not).
        // The model describes the kernel; the system lane runs it on real aarch64 kernels.
        skip!("qemu-user's page table diverges from the host's on partial mprotect/mlock");
    }
    // Its sequences read and lock read-only pages (the zero page) and then protect them.
    if let Some(reason) = common::mips_zero_page_protect_bug() {
        skip!("{reason}");
    }
    let features = Features {
        seal: seal_supported(),
    };
    let seed = plan.seed;
    eprintln!(
        "model: seed {seed} (rerun with MMAN_MODEL_SEED={seed}); mseal {}",
        features.seal
    );
    let counters = Counters::new(3);
    plan.run_in_batches(
        BATCH,
        common::scaled_time(TIME_BOUND),
        &counters,
        |batch_seed, count, deadline| run_batch(batch_seed, count, deadline, &features, &counters),
    );
    let (done, steps, refused) = (
        counters.get(Counters::DONE),
        counters.get(STEPS_DONE),
        counters.get(REFUSED),
    );
    report(&format!(
        "mman-model: {done} sequences, {steps} steps ({refused} refused as predicted), 0 divergences, seed {seed}"
    ));
}
