//! What the fuzz targets share: the closing line that `cargo xtask test` shows, and the
//! exact check that iterations give back every descriptor and mapping they take. `mapping_ops`
//! and `reservation_ops` hold those targets' input types and checks (the second reuses the
//! first's ranges, offsets and protections); `shm_name` fits in its own file.

pub mod mapping_ops;
pub mod reservation_ops;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Every this many executions, an iteration is audited for leaks: counting descriptors and
/// mappings reads /proc, which costs more than most iterations.
const AUDIT_EVERY: u64 = 64;

static TARGET: OnceLock<&'static str> = OnceLock::new();
static EXECUTIONS: AtomicU64 = AtomicU64::new(0);

/// Call from the target's `init`. When libFuzzer finishes normally (`-runs`, `-max_total_time`)
/// it calls `exit`, which prints `mman-fuzz: <target>: N executions, 0 crashes`. A crash or a
/// failed check ends the process with `_exit` instead, and libFuzzer's own errors (a bad flag,
/// a missing directory) call `exit` before any execution, so the line never claims a clean
/// run that was not.
pub fn start(target: &'static str) {
    TARGET.get_or_init(|| target);
    extern "C" fn summary() {
        let target = TARGET.get().copied().unwrap_or("?");
        let n = EXECUTIONS.load(Ordering::Relaxed);
        if n > 0 {
            eprintln!("mman-fuzz: {target}: {n} executions, 0 crashes");
        }
    }
    // SAFETY: registering a plain function with no captured state.
    let registered = unsafe { libc::atexit(summary) };
    assert_eq!(registered, 0, "atexit failed");
}

/// Runs one iteration. Every `AUDIT_EVERY`-th is bracketed by exact snapshots of what the
/// process holds ([`Resources`]: every descriptor and its target, every /proc/self/maps
/// line, `VmSize`), which must come back to what they were: everything the iteration made
/// has been dropped by then.
///
/// Nothing is filtered by permission or path. Two things keep it from failing on the
/// allocator's own growth (a sanitizer's allocator and stack depot above all), which comes
/// in steps, once: ranges entirely inside the sanitizer's reservations
/// ([`reserved_spans`]) are its own (the kernel places no other mapping inside a mapped
/// reservation; a leak that merges with its edge reaches outside it and counts); and an
/// audit that sees a change runs the same input again, up to `AUDIT_RUNS` times in a row:
/// only a change that every run repeats is a leak.
pub fn iteration(body: impl Fn()) {
    if !EXECUTIONS
        .fetch_add(1, Ordering::Relaxed)
        .is_multiple_of(AUDIT_EVERY)
    {
        return body();
    }
    let audited = || {
        let before = Resources::now();
        body();
        Resources::now().differences_from(&before)
    };
    let mut changes = Vec::new();
    for _ in 0..AUDIT_RUNS {
        changes = audited();
        if changes.is_empty() {
            return;
        }
    }
    panic!("the iteration leaked ({AUDIT_RUNS} runs in a row changed what the process holds); last run: {changes:#?}");
}

/// How many runs of the same input must all change what the process holds for a leak.
const AUDIT_RUNS: usize = 3;

/// What the process holds: descriptors (number and target), /proc/self/maps lines (all
/// fields) but those inside the sanitizer's reservations.
#[derive(PartialEq, Debug)]
struct Resources {
    descriptors: BTreeMap<String, String>,
    maps: Vec<String>,
}

impl Resources {
    fn now() -> Resources {
        let descriptors = std::fs::read_dir("/proc/self/fd")
            .expect("/proc/self/fd")
            .map(|entry| {
                let entry = entry.expect("/proc/self/fd entry");
                let target = std::fs::read_link(entry.path())
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_else(|e| format!("({e})"));
                (entry.file_name().to_string_lossy().into_owned(), target)
            })
            .collect();
        let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
        let spans = reserved_spans();
        Resources {
            descriptors,
            maps: maps
                .lines()
                .filter(|line| {
                    !range(line)
                        .is_some_and(|(s, e)| spans.iter().any(|&(lo, hi)| lo <= s && e <= hi))
                })
                .map(String::from)
                .collect(),
        }
    }

    /// One line per difference: `-` only before, `+` only now.
    fn differences_from(&self, before: &Resources) -> Vec<String> {
        let mut out = Vec::new();
        for line in before.maps.iter().filter(|l| !self.maps.contains(l)) {
            out.push(format!("- {line}"));
        }
        for line in self.maps.iter().filter(|l| !before.maps.contains(l)) {
            out.push(format!("+ {line}"));
        }
        for (fd, target) in &before.descriptors {
            if self.descriptors.get(fd) != Some(target) {
                out.push(format!("- fd {fd} -> {target}"));
            }
        }
        for (fd, target) in &self.descriptors {
            if before.descriptors.get(fd) != Some(target) {
                out.push(format!("+ fd {fd} -> {target}"));
            }
        }
        out
    }
}

/// The start and end of a /proc/self/maps line.
fn range(line: &str) -> Option<(usize, usize)> {
    let (lo, hi) = line.split(' ').next()?.split_once('-')?;
    Some((
        usize::from_str_radix(lo, 16).ok()?,
        usize::from_str_radix(hi, 16).ok()?,
    ))
}

/// The huge reservations made before the first audit: every run of adjacent anonymous
/// private mappings that spans at least 1 TiB. AddressSanitizer maps its shadow that way and
/// reserves terabytes for its primary allocator, whose pieces it maps read-write as size
/// classes grow; nothing else in these targets reserves that much. The kernel places no
/// other mapping inside them.
fn reserved_spans() -> &'static [(usize, usize)] {
    static SPANS: OnceLock<Vec<(usize, usize)>> = OnceLock::new();
    SPANS.get_or_init(|| {
        let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
        let mut runs: Vec<(usize, usize)> = Vec::new();
        let mut extends = false;
        for line in maps.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let anonymous = fields.len() == 5 && fields[1].ends_with('p');
            match (range(line), runs.last_mut()) {
                (Some((s, e)), Some(last)) if anonymous && extends && s == last.1 => last.1 = e,
                (Some(r), _) if anonymous => runs.push(r),
                _ => {}
            }
            extends = anonymous;
        }
        runs.retain(|(lo, hi)| hi - lo >= 1 << 40);
        runs
    })
}
