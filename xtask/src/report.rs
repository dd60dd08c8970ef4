//! Counting test results in child output, and printing lane summaries.

pub mod record;

use std::time::Duration;

use crate::arch::Arch;

/// Test outcomes, disjoint: every test a lane ran is counted once per run of its program,
/// as exactly one of passed, failed, ignored or skipped (see `libtest`).
#[derive(Default, Debug)]
pub struct Tally {
    /// Tests that libtest reported `ok` and that reported no skip.
    pub passed: u64,
    /// Tests that failed, and listed tests that never finished (their program died).
    pub failed: u64,
    /// `#[ignore]`d tests, as libtest reports them.
    pub ignored: u64,
    /// `<test name>: <reason>` of each test that reported a skip (with a `mman-skip:` line,
    /// which the tests write straight to stderr so that libtest's capture cannot hide it)
    /// and otherwise ended `ok`.
    pub skips: Vec<String>,
    /// Runs of libtest programs judged (the doc tests of one `cargo test --doc` count as one).
    pub programs: u64,
}

impl Tally {
    pub fn add(&mut self, other: Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
        self.skips.extend(other.skips);
        self.programs += other.programs;
    }

    pub fn skipped(&self) -> u64 {
        self.ignored + self.skips.len() as u64
    }
}

/// Removes terminal colour codes (ESC [ ... letter) so that coloured
/// output parses like plain output.
pub fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

pub struct LaneResult {
    pub lane: &'static str,
    pub arch: Arch,
    /// The kernel series the system lane booted; the other lanes run on
    /// the host's kernel.
    pub kernel: Option<&'static str>,
    pub tally: Tally,
    /// How many times the lane ran the whole test suite: the host lane runs it twice, with
    /// and without feature `std`, so its counts hold each test twice.
    pub suite_runs: u64,
    /// What went wrong: failed commands, missing tools.
    pub failures: Vec<String>,
    /// Facts worth repeating at the end (binary sizes, what was not there).
    pub notes: Vec<String>,
    pub elapsed: Duration,
}

impl LaneResult {
    pub fn new(lane: &'static str, arch: Arch, kernel: Option<&'static str>) -> LaneResult {
        LaneResult {
            lane,
            arch,
            kernel,
            tally: Tally::default(),
            suite_runs: 0,
            failures: Vec::new(),
            notes: Vec::new(),
            elapsed: Duration::ZERO,
        }
    }

    /// No failure, no failed test, and at least one test program judged: a lane that ran
    /// nothing proved nothing.
    pub fn ok(&self) -> bool {
        self.failures.is_empty() && self.tally.failed == 0 && self.tally.programs > 0
    }

    fn verdict(&self) -> &'static str {
        if self.ok() {
            "PASS"
        } else {
            "FAIL"
        }
    }
}

pub fn lane_start(lane: &str, arch: Arch, kernel: Option<&str>) {
    eprintln!("==> lane {}: start", title(lane, arch, kernel));
}

/// `host x86_64`, or with the kernel the lane booted: `system aarch64 6.12`.
fn title(lane: &str, arch: Arch, kernel: Option<&str>) -> String {
    match kernel {
        Some(kernel) => format!("{lane} {} {kernel}", arch.name()),
        None => format!("{lane} {}", arch.name()),
    }
}

pub fn lane_end(result: &LaneResult) {
    let t = &result.tally;
    eprintln!(
        "<== lane {}: {} (tests {} passed, {} failed, {} skipped; {} test program runs, \
         suite run {}) in {:.1}s",
        title(result.lane, result.arch, result.kernel),
        result.verdict(),
        t.passed,
        t.failed,
        t.skipped(),
        t.programs,
        times(result.suite_runs),
        result.elapsed.as_secs_f64(),
    );
    for failure in &result.failures {
        eprintln!("    failed: {failure}");
    }
    if t.programs == 0 {
        eprintln!("    failed: no test program ran");
    }
    if t.ignored > 0 {
        eprintln!("    skipped: {} #[ignore]d test(s)", t.ignored);
    }
    // The same test can skip in several runs (feature sets); say so once.
    let mut skips: Vec<&String> = t.skips.iter().collect();
    skips.sort();
    for group in skips.chunk_by(|a, b| a == b) {
        match group.len() {
            1 => eprintln!("    skipped: {}", group[0]),
            n => eprintln!("    skipped: {} (x{n})", group[0]),
        }
    }
    for note in &result.notes {
        eprintln!("    note: {note}");
    }
}

/// The closing table, then the totals line that CI looks for.
pub fn summary(results: &[LaneResult]) {
    println!();
    println!(
        "{:<8} {:<11} {:<6} {:<6} {:>7} {:>7} {:>8} {:>5} {:>8}",
        "lane", "arch", "kernel", "result", "passed", "failed", "skipped", "runs", "time"
    );
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for r in results {
        let t = &r.tally;
        println!(
            "{:<8} {:<11} {:<6} {:<6} {:>7} {:>7} {:>8} {:>5} {:>7.1}s",
            r.lane,
            r.arch.name(),
            // The host and user lanes run on the build machine's kernel.
            r.kernel.unwrap_or("host"),
            r.verdict(),
            t.passed,
            t.failed,
            t.skipped(),
            r.suite_runs,
            r.elapsed.as_secs_f64()
        );
        passed += t.passed;
        failed += t.failed;
        skipped += t.skipped();
    }
    println!();
    println!(
        "(runs: how many times a lane ran the test suite; each run counts every test once, \
         as exactly one of passed, failed, skipped)"
    );
    println!("{passed} passed, {failed} failed, {skipped} skipped");
}

/// "once", "twice", "3 times".
fn times(n: u64) -> String {
    match n {
        1 => "once".into(),
        2 => "twice".into(),
        n => format!("{n} times"),
    }
}
