//! What the fuzz targets share: the closing line that `cargo xtask test` shows, and the
//! check that iterations give back every descriptor and mapping they take. `mapping_ops`
//! holds that target's input types and checks (`shm_name` fits in its own file).

pub mod mapping_ops;

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

/// Runs one iteration. Every `AUDIT_EVERY`-th is bracketed by counts of the process's
/// descriptors and mappings, which must come back to what they were: everything the
/// iteration made has been dropped by then.
///
/// Allocators grow in steps (a sanitizer's allocator and stack depot above all), adding
/// mappings of their own, always private anonymous read-write ones or reserved `---p` ones.
/// Those are not counted, which leaves a leaked plain read-write anonymous mapping to the
/// targets' own checks. In case an allocator does something else once, an audit that sees
/// growth runs the same input again: only growth that repeats is a leak.
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
        (before, Resources::now())
    };
    let (before, after) = audited();
    if after.grew_from(&before) {
        let (before, after) = audited();
        if after.grew_from(&before) {
            let new: Vec<&String> = after
                .maps
                .iter()
                .filter(|l| !before.maps.contains(l))
                .collect();
            panic!(
                "the iteration leaked: descriptors {} before, {} after; mappings {} before, \
                 {} after, new: {new:#?}",
                before.descriptors,
                after.descriptors,
                before.maps.len(),
                after.maps.len()
            );
        }
    }
}

/// The process's descriptors (/proc/self/fd entries) and mappings (/proc/self/maps lines)
/// but those an allocator makes.
struct Resources {
    descriptors: usize,
    maps: Vec<String>,
}

impl Resources {
    fn grew_from(&self, before: &Resources) -> bool {
        self.descriptors > before.descriptors || self.maps.len() > before.maps.len()
    }

    fn now() -> Resources {
        let fds = std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd");
        let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
        Resources {
            descriptors: fds.count(),
            maps: maps
                .lines()
                .filter(|line| !from_allocator(line))
                .map(String::from)
                .collect(),
        }
    }
}

/// An anonymous mapping (no path) that is read-write or reserved: what allocators make.
fn from_allocator(line: &str) -> bool {
    let fields: Vec<&str> = line.split_whitespace().collect();
    matches!(fields[..], [_, "rw-p" | "---p", _, _, _])
}
