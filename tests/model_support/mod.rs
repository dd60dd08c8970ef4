//! What the model-based tests (`model.rs` for `sys`, `model_mapping.rs` for `Mapping`)
//! share: the random number generator, a `/proc/self/maps` reader that stops where the
//! caller stops, counters that forked children report through, and the driver that runs
//! sequences in forked batches under a time bound.
//!
//! Environment: `MMAN_MODEL_SEED` replays a run (the seed is printed on every run and on
//! failure), `MMAN_MODEL_SEQUENCES` sets how many sequences run.
#![allow(dead_code)]

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use crate::common::{in_child_checked, ChildEnd};

/// xorshift64*: small, deterministic, good enough to pick operations.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True once in `n` times.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// One of `choices`, uniformly.
    pub fn pick<T: Copy>(&mut self, choices: &[T]) -> T {
        choices[self.below(choices.len())]
    }
}

/// One line of `/proc/self/maps`: a VMA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vma {
    pub start: usize,
    pub end: usize,
    /// `rwxp`, `r--s`, ...
    pub perms: [u8; 4],
    /// The main thread's stack (`[stack]`), which grows down.
    pub stack: bool,
}

impl Vma {
    pub fn readable(&self) -> bool {
        self.perms[0] == b'r'
    }

    pub fn writable(&self) -> bool {
        self.perms[1] == b'w'
    }

    pub fn perms(&self) -> &str {
        std::str::from_utf8(&self.perms).unwrap_or("????")
    }
}

/// The protection the kernel records for `prot`, which `/proc/self/maps` shows: riscv64
/// kernels (seen on Debian's 7.2) record a write-only protection as read-write (its page
/// tables cannot express write without read), so maps shows `rw-` where `-w-` was asked.
/// Probed once on a page of this process's own, so a kernel that keeps `-w-` is modelled
/// as it is.
pub fn recorded(prot: mman::Prot) -> mman::Prot {
    static WRITE_IMPLIES_READ: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let implied = *WRITE_IMPLIES_READ.get_or_init(|| {
        let len = mman::page_size();
        let flags = mman::MapFlags::PRIVATE | mman::MapFlags::ANONYMOUS;
        // SAFETY: a new private page at an address the kernel picks, unmapped below.
        let addr =
            unsafe { mman::sys::mmap(std::ptr::null_mut(), len, mman::Prot::WRITE, flags, -1, 0) }
                .expect("mmap of a write-only page");
        let vmas = vmas_in(addr as usize, addr as usize + len);
        let readable = vmas.first().is_some_and(Vma::readable);
        // SAFETY: the page mapped above; nothing refers to it.
        unsafe { mman::sys::munmap(addr, len) }.expect("munmap of the probe page");
        readable
    });
    match implied && prot.contains(mman::Prot::WRITE) {
        true => prot | mman::Prot::READ,
        false => prot,
    }
}

/// Calls `visit` on the VMAs of `/proc/self/maps` in address order until it returns
/// false. The file is read a few pages at a time and no further than that: the kernel
/// renders maps as it is read, and a process with tens of thousands of mappings (or an
/// emulated CPU) makes rendering all of it after every step cost more than the steps.
pub fn each_vma(mut visit: impl FnMut(&Vma) -> bool) {
    let mut file = std::fs::File::open("/proc/self/maps").expect("open /proc/self/maps");
    let mut buf = [0u8; 8192];
    let mut filled = 0;
    loop {
        let n = file.read(&mut buf[filled..]).expect("read /proc/self/maps");
        filled += n;
        let mut consumed = 0;
        while let Some(newline) = buf[consumed..filled].iter().position(|&c| c == b'\n') {
            let line = &buf[consumed..consumed + newline];
            consumed += newline + 1;
            if !visit(&parse_vma(line)) {
                return;
            }
        }
        if n == 0 {
            return;
        }
        buf.copy_within(consumed..filled, 0);
        filled -= consumed;
        assert!(
            filled < buf.len(),
            "a maps line longer than {} bytes",
            buf.len()
        );
    }
}

/// The VMAs that overlap `[start, end)`.
pub fn vmas_in(start: usize, end: usize) -> Vec<Vma> {
    let mut found = Vec::new();
    each_vma(|vma| {
        if vma.start >= end {
            return false;
        }
        if vma.end > start {
            found.push(*vma);
        }
        true
    });
    found
}

/// "start-end perms offset dev inode path"
fn parse_vma(line: &[u8]) -> Vma {
    let hex = |s: &[u8]| {
        s.iter().fold(0usize, |n, &c| {
            n * 16 + (c as char).to_digit(16).expect("hex address") as usize
        })
    };
    let dash = line.iter().position(|&c| c == b'-').expect("start-end");
    let space = line.iter().position(|&c| c == b' ').expect("range column");
    let mut perms = [0u8; 4];
    perms.copy_from_slice(&line[space + 1..space + 5]);
    Vma {
        start: hex(&line[..dash]),
        end: hex(&line[dash + 1..space]),
        perms,
        stack: line.ends_with(b"[stack]"),
    }
}

/// Counters in shared anonymous memory, through which forked children report.
pub struct Counters(&'static [AtomicU64]);

impl Counters {
    /// Sequences finished; the driver reads it.
    pub const DONE: usize = 0;

    /// `slots` counters (`DONE` among them), all zero. The mapping lives as long as the
    /// test process: the counters borrow it for good.
    pub fn new(slots: usize) -> Counters {
        let map = mman::MapOptions::new()
            .len(8 * slots)
            .shared()
            .map()
            .expect("shared counters");
        let map: &'static mut mman::Mapping = Box::leak(Box::new(map));
        Counters(map.as_atomics().expect("counters as atomics"))
    }

    pub fn add(&self, slot: usize, n: usize) {
        self.0[slot].fetch_add(n as u64, Relaxed);
    }

    pub fn get(&self, slot: usize) -> usize {
        self.0[slot].load(Relaxed) as usize
    }
}

/// How many sequences to run and from which seed.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub seed: u64,
    pub sequences: usize,
}

impl Plan {
    /// From `MMAN_MODEL_SEED` (else the clock) and `MMAN_MODEL_SEQUENCES` (else `default`
    /// scaled by the lane's effort, `crate::common::scaled`).
    pub fn from_env(default: usize) -> Plan {
        let seed = std::env::var("MMAN_MODEL_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
                    | 1
            });
        let sequences = std::env::var("MMAN_MODEL_SEQUENCES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| crate::common::scaled(default, 1));
        Plan { seed, sequences }
    }

    /// Runs the plan's sequences in forked children, `batch` at a time, until all are done
    /// or `bound` has passed (callers scale it by the lane's effort where the work is
    /// theirs to choose: `crate::common::scaled_time`). `run_batch(batch_seed, count, deadline)` runs in the child
    /// and adds to `counters[DONE]` per finished sequence; a panic there fails the test.
    ///
    /// Forking per batch keeps the address space small (what one sequence leaves behind,
    /// sealed memory above all, dies with its child) and process-wide changes contained.
    pub fn run_in_batches(
        &self,
        batch: usize,
        bound: Duration,
        counters: &Counters,
        run_batch: impl Fn(u64, usize, Instant),
    ) {
        let deadline = Instant::now() + bound;
        let mut batch_rng = Rng(self.seed);
        while counters.get(Counters::DONE) < self.sequences && Instant::now() < deadline {
            // Each batch's seed follows from the run's seed, so MMAN_MODEL_SEED replays it all.
            let batch_seed = batch_rng.next() | 1;
            let count = batch.min(self.sequences - counters.get(Counters::DONE));
            let end = in_child_checked(|| run_batch(batch_seed, count, deadline));
            assert_eq!(
                end,
                ChildEnd::Exited(0),
                "a sequence diverged (message above); rerun with MMAN_MODEL_SEED={}",
                self.seed
            );
        }
        assert!(
            counters.get(Counters::DONE) > 0,
            "no sequence ran within {bound:?}"
        );
    }
}

/// Whether `mseal` exists: on an unmapped range it answers `ENOMEM` where it does,
/// `ENOSYS` where not.
pub fn seal_supported() -> bool {
    let probe = mman::page_size() as *mut std::ffi::c_void;
    !matches!(
        unsafe { mman::sys::mseal(probe, mman::page_size()) },
        Err(mman::Errno::ENOSYS)
    )
}

/// Writes `line` to stderr past libtest's capture, so that it shows in every lane's log,
/// with the effort the lane ran the models at.
pub fn report(line: &str) {
    use std::io::Write;
    let effort = crate::common::effort_percent();
    let _ = writeln!(std::io::stderr(), "{line}; effort {effort}%");
}
