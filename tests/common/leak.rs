//! Exact leak checks: what the process holds (every `/proc/self/maps` range with its
//! permissions and path, `VmSize`, resident anonymous memory, `VmLck`, every descriptor)
//! before and after some code, compared entry by entry (resident memory may grow by one
//! page of the harness's own, see `Held::differences_from`).
//!
//! Why not counts: the kernel merges a new anonymous mapping with a neighbour that looks
//! alike, so a leaked mapping may add no `/proc/self/maps` line at all (25 leaked 2-page
//! mappings moved the count from 37 to 38 in one experiment). A leak always changes a
//! range, though: a new one, or a neighbour's end or start.
//!
//! Why a forked child: libtest runs the tests of a binary in parallel threads of one
//! process, and their mappings (and their allocator's) come and go at any time. The child
//! has one thread, the one that forked, and only the code under test runs there. Its
//! allocator is then made still ([`quiet_allocator`]), so that what the code under test
//! allocates on the heap maps and unmaps nothing. With that, the comparison is exact, with
//! no filter and no tolerance.

use std::collections::BTreeMap;
use std::fs;

use super::{in_child_checked, is_qemu_user, maps, write_stderr, ChildEnd, MapsEntry};

/// The exit code of a child whose leak check found a difference (its report is on stderr).
pub const LEAKED: i32 = 3;

/// What the process holds, as the kernel reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    /// Every `/proc/self/maps` entry, in address order.
    pub ranges: Vec<MapsEntry>,
    /// `VmSize` of `/proc/self/status`, in kB (exact: the kernel's `total_vm`; under
    /// qemu-user the emulator's, not compared).
    pub vm_size_kb: u64,
    /// Resident anonymous memory per range: `Anonymous` plus `Swap` (so that swapping out
    /// changes nothing) of each `/proc/self/smaps` entry, in kB, keyed by the entry's header
    /// line. Their sum ([`Held::anonymous_kb`]) is what `smaps_rollup` shows, and `RssAnon`
    /// of `/proc/self/status` measured exactly: `RssAnon` comes from counters the kernel
    /// updates lazily (per-thread caches, per-CPU deltas), which lag by tens of pages. Per
    /// range, so that a growth past the noise names where it was. `None` under qemu-user,
    /// where smaps describes the emulator's host process, with QEMU's own allocations, not
    /// the guest.
    pub anonymous_by_range: Option<BTreeMap<String, u64>>,
    /// `VmLck` of `/proc/self/status`, in kB.
    pub vm_lck_kb: u64,
    /// Every open descriptor and what it refers to (`/proc/self/fd`).
    pub descriptors: BTreeMap<i32, String>,
}

impl Held {
    pub fn now() -> Held {
        let status = fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
        Held {
            ranges: maps(),
            vm_size_kb: kb_field(&status, "VmSize").expect("VmSize in /proc/self/status"),
            anonymous_by_range: (!is_qemu_user()).then(anonymous_by_range),
            vm_lck_kb: kb_field(&status, "VmLck").expect("VmLck in /proc/self/status"),
            descriptors: descriptors(),
        }
    }

    /// Resident anonymous memory in kB (see `anonymous_by_range`), less glibc's main heap
    /// (`[heap]`, the `brk` area, whose range is still compared): mman never allocates
    /// there (it uses no allocator of glibc's), and the child's thread allocates from an
    /// arena of its own, made still by [`quiet_allocator`]; yet with 10 unrelated System V
    /// segments on the machine (which lengthen what the checks read) the main heap's
    /// resident memory grew 8 kB in the measured rounds of `leaks` every run, and never
    /// without them. Why glibc touches it then is not shown (freeing blocks the parent's
    /// main thread allocated into the main arena, merged with free neighbours there, is the
    /// guess).
    pub fn anonymous_kb(&self) -> Option<u64> {
        let ranges = self.anonymous_by_range.as_ref()?;
        let outside_the_heap = ranges
            .iter()
            .filter(|(header, _)| !header.ends_with("[heap]"));
        Some(outside_the_heap.map(|(_, kb)| kb).sum())
    }

    /// Every difference from `before`, one line each: ranges only before (`-`) or only
    /// now (`+`), and each changed figure. Empty if the two are the same.
    pub fn differences_from(&self, before: &Held) -> Vec<String> {
        let mut out = Vec::new();
        for e in before.ranges.iter().filter(|e| !self.ranges.contains(e)) {
            out.push(format!("- {}", describe(e)));
        }
        for e in self.ranges.iter().filter(|e| !before.ranges.contains(e)) {
            out.push(format!("+ {}", describe(e)));
        }
        let mut figure = |name: &str, was: String, now: String| {
            if was != now {
                out.push(format!("{name}: {was} -> {now}"));
            }
        };
        // Under qemu-user VmSize is the emulator's, which maps and unmaps for itself (its
        // translation cache) as the guest runs; the guest's own ranges are compared above.
        if !is_qemu_user() {
            figure(
                "VmSize kB",
                before.vm_size_kb.to_string(),
                self.vm_size_kb.to_string(),
            );
        }
        // Resident memory may grow by one page and no more: a page of the harness's own
        // (a deeper stack page, one more page of a malloc heap's top) can first be touched
        // in the measured rounds however long the warm-up was; it was seen on x86_64 and
        // riscv64 kernels, and moved with nothing but the test binary's layout. A leak
        // repeats every round and the checks run several rounds, or many iterations in one.
        let page_kb = (crate::common::page() / 1024) as u64;
        let within_noise = match (before.anonymous_kb(), self.anonymous_kb()) {
            (Some(was), Some(now)) => now >= was && now - was <= page_kb,
            (was, now) => was == now,
        };
        if !within_noise {
            figure(
                "anonymous resident+swap kB",
                format!("{:?}", before.anonymous_kb()),
                format!("{:?}", self.anonymous_kb()),
            );
        }
        figure(
            "VmLck kB",
            before.vm_lck_kb.to_string(),
            self.vm_lck_kb.to_string(),
        );
        if !within_noise {
            // Where it grew: a leak of mman's shows in its own ranges.
            let none = BTreeMap::new();
            let was = before.anonymous_by_range.as_ref().unwrap_or(&none);
            let now = self.anonymous_by_range.as_ref().unwrap_or(&none);
            for range in was
                .keys()
                .chain(now.keys().filter(|k| !was.contains_key(*k)))
            {
                let kb = |side: &BTreeMap<String, u64>| side.get(range).copied().unwrap_or(0);
                if kb(was) != kb(now) {
                    out.push(format!(
                        "    anonymous kB of {range}: {} -> {}",
                        kb(was),
                        kb(now)
                    ));
                }
            }
        }
        for (fd, link) in &before.descriptors {
            if self.descriptors.get(fd) != Some(link) {
                out.push(format!("- fd {fd} -> {link}"));
            }
        }
        for (fd, link) in &self.descriptors {
            if before.descriptors.get(fd) != Some(link) {
                out.push(format!("+ fd {fd} -> {link}"));
            }
        }
        out
    }
}

fn describe(e: &MapsEntry) -> String {
    format!(
        "{:#x}-{:#x} ({} pages) {} {}",
        e.start,
        e.end,
        (e.end - e.start) / super::page(),
        e.perms,
        e.path
    )
}

/// `Anonymous` plus `Swap` of every `/proc/self/smaps` entry, in kB, keyed by the entry's
/// header line (its range, permissions, offset, device, inode and path). `smaps_rollup`'s
/// figures are these entries' sums.
fn anonymous_by_range() -> BTreeMap<String, u64> {
    let smaps = fs::read_to_string("/proc/self/smaps").expect("read /proc/self/smaps");
    let mut ranges = BTreeMap::new();
    let mut entry: Option<(&str, u64)> = None;
    for line in smaps.lines() {
        // A field is `Name: value`; a header starts with the range, which has no `:`.
        let is_field = line
            .split_whitespace()
            .next()
            .is_some_and(|word| word.ends_with(':'));
        if !is_field {
            ranges.extend(entry.map(|(header, kb)| (header.to_string(), kb)));
            entry = Some((line, 0));
        } else if let Some((_, kb)) = &mut entry {
            *kb += kb_field(line, "Anonymous").unwrap_or(0) + kb_field(line, "Swap").unwrap_or(0);
        }
    }
    ranges.extend(entry.map(|(header, kb)| (header.to_string(), kb)));
    ranges
}

/// The value of a `Name:   123 kB` line.
fn kb_field(text: &str, name: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (field, value) = line.split_once(':')?;
        (field == name).then(|| value.trim().trim_end_matches("kB").trim().parse().ok())?
    })
}

/// Open descriptors and their targets. The directory's own descriptor is listed too; it
/// gets the lowest free number, the same each time when nothing leaked.
fn descriptors() -> BTreeMap<i32, String> {
    fs::read_dir("/proc/self/fd")
        .expect("list /proc/self/fd")
        .map(|entry| {
            let entry = entry.expect("/proc/self/fd entry");
            let fd = entry
                .file_name()
                .to_string_lossy()
                .parse()
                .expect("fd number");
            let link = fs::read_link(entry.path())
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|e| format!("({e})"));
            (fd, link)
        })
        .collect()
}

/// Bytes of heap [`quiet_allocator`] sets aside: far more than any checked body keeps
/// allocated at once.
const HEAP_RESERVE: usize = 16 << 20;

/// The reserve is taken in blocks of this size, which every glibc heap holds. A thread
/// other than the main one allocates from an arena made of heaps of at most
/// `HEAP_MAX_SIZE` bytes each: 64 MiB in 64-bit programs, but 1 MiB in 32-bit ones, where
/// a larger request bypasses the arena with an `mmap` of its own (`M_MMAP_MAX` does not
/// stop that fallback), unmapped again when freed. A 16 MiB reserve in one block thus
/// grew nothing in a 32-bit thread's arena, whose later allocations touched fresh pages of
/// its heap: 8 to 24 kB more resident anonymous memory, every range unchanged (i686, on
/// the 686-pae kernel, through an amd64 kernel's ia32 layer, and natively on the host).
/// 64-bit programs keep one block, as before (their heaps hold it).
const RESERVE_BLOCK: usize = if cfg!(target_pointer_width = "32") {
    64 << 10
} else {
    HEAP_RESERVE
};

/// Arenas glibc may make: more than the threads any check starts, so that each thread
/// allocates from an arena of its own. glibc's own limit is 8 arenas per CPU in 64-bit
/// programs but 2 per CPU in 32-bit ones (the main arena included), so on 2 CPUs the
/// `concurrency` check's 4 threads shared arenas there. Threads sharing one place their
/// reserves around each other's small allocations differently from run to run, and a block
/// pushed out of a full heap lands in the last heap's untouched part: 64 kB (one
/// `RESERVE_BLOCK`) more resident anonymous memory, every range unchanged (i686 natively:
/// 5 runs in 200 with glibc's limit, 98 in 100 with `glibc.malloc.arena_max=2`, none in
/// 200 with 16, as 64-bit programs have on 2 CPUs; none in 250 with this setting).
///
/// glibc fixes its limit the first time it needs one: once the process has more arenas
/// than `arena_test` (2 in 32-bit programs, 8 in 64-bit ones), which in the child of a
/// test binary running one test is at the check's second thread, after this was set. A
/// limit fixed before (the `glibc.malloc.arena_max` tunable, a parent that ran more
/// threads) stays: with the tunable at 2 the check still failed 49 runs in 50.
const ARENAS: i32 = 64;

/// Makes glibc's allocator of this process map, unmap and fault in nothing more while a
/// check runs: no `mmap` for large blocks (`M_MMAP_MAX` 0), no returning the top of a heap
/// to the kernel (`M_TRIM_THRESHOLD`), no unmapping an arena's heap that became free when
/// the reserve spans several (`M_TOP_PAD`: glibc keeps such a heap when the arena's top pad
/// is larger than the previous heap's free room), an arena per thread (`M_ARENA_MAX`, see
/// [`ARENAS`]), and the
/// current thread's arena grown once by `HEAP_RESERVE` bytes, all touched, then freed:
/// later allocations are carved from memory that is already mapped and resident. Threads
/// started afterwards call it too, for their own arena.
pub fn quiet_allocator() {
    // SAFETY: mallopt only changes the allocator's tuning; the values are in range.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, ARENAS);
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        if RESERVE_BLOCK < HEAP_RESERVE {
            libc::mallopt(libc::M_TOP_PAD, HEAP_RESERVE as i32);
        }
    }
    let reserve: Vec<Vec<u8>> = (0..HEAP_RESERVE / RESERVE_BLOCK)
        .map(|_| vec![1; RESERVE_BLOCK])
        .collect();
    drop(std::hint::black_box(reserve));
}

/// Runs `body` in a forked child: once to warm up (first-use allocations, lazily opened
/// files, caches), then `rounds` times between two [`Held`] snapshots, which must be equal,
/// and so must `extra()` (resources `Held` does not cover, such as named objects).
///
/// Returns how the child ended: `Exited(0)` when nothing leaked, `Exited(LEAKED)` with the
/// exact differences on stderr, `Exited(101)` if `body` panicked.
pub fn leak_check_in_child<T: PartialEq + std::fmt::Debug>(
    what: &str,
    rounds: usize,
    extra: impl Fn() -> T,
    body: impl Fn(),
) -> ChildEnd {
    in_child_checked(|| {
        // Transparent huge pages would make resident memory jump in 2 MiB steps whenever the
        // kernel (khugepaged, or a fault in an aligned range) collapses a heap or stack
        // range, which no leak causes: off for this child.
        // SAFETY: prctl with integer arguments; it changes only this process's THP policy.
        let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
        quiet_allocator();
        body();
        let (before, extra_before) = (Held::now(), extra());
        for _ in 0..rounds {
            body();
        }
        let (after, extra_after) = (Held::now(), extra());
        let mut report = after.differences_from(&before);
        if extra_after != extra_before {
            report.push(format!("{extra_before:?} -> {extra_after:?}"));
        }
        if !report.is_empty() {
            let mut text = format!("{what} leaked (before vs after {rounds} rounds):\n");
            for line in &report {
                text.push_str(&format!("    {line}\n"));
            }
            write_stderr(&text);
            // SAFETY: ends the child at once, as `in_child` would after `f` returned.
            unsafe { libc::_exit(LEAKED) };
        }
    })
}

/// [`leak_check_in_child`], asserting that nothing leaked.
#[track_caller]
pub fn assert_no_leak<T: PartialEq + std::fmt::Debug>(
    what: &str,
    rounds: usize,
    extra: impl Fn() -> T,
    body: impl Fn(),
) {
    let end = leak_check_in_child(what, rounds, extra, body);
    assert_eq!(
        end,
        ChildEnd::Exited(0),
        "{what}: leak check failed (exit {LEAKED}: leaked, 101: panicked; details on stderr)"
    );
}
