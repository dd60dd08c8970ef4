//! Counting test results in child output, and printing lane summaries.

use std::time::Duration;

use crate::arch::Arch;

/// Test outcomes seen in a command's output.
#[derive(Default)]
pub struct Tally {
    pub passed: u64,
    pub failed: u64,
    /// `#[ignore]`d tests, as libtest reports them.
    pub ignored: u64,
    /// `<test name>: <reason>` from `mman-skip:` lines, which the tests
    /// write straight to stderr so that libtest's capture cannot hide them.
    pub skips: Vec<String>,
}

impl Tally {
    /// Looks at one line of child output.
    pub fn observe(&mut self, line: &str) {
        let line = strip_ansi(line);
        let line = line.trim();
        if let Some(counts) = line.strip_prefix("test result: ") {
            // "ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s"
            for part in counts.split(';') {
                let words: Vec<&str> = part.split_whitespace().collect();
                if let [.., count, kind] = words[..] {
                    let Ok(count) = count.parse::<u64>() else {
                        continue;
                    };
                    match kind {
                        "passed" => self.passed += count,
                        "failed" => self.failed += count,
                        "ignored" => self.ignored += count,
                        _ => {}
                    }
                }
            }
        } else if let Some(at) = line.find("mman-skip: ") {
            self.skips
                .push(line[at + "mman-skip: ".len()..].to_string());
        }
    }

    pub fn add(&mut self, other: Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
        self.skips.extend(other.skips);
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
    /// What went wrong: failed commands, missing tools.
    pub failures: Vec<String>,
    /// Facts worth repeating at the end (binary sizes, what was not there).
    pub notes: Vec<String>,
    pub elapsed: Duration,
}

impl LaneResult {
    pub fn ok(&self) -> bool {
        self.failures.is_empty() && self.tally.failed == 0
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
        "<== lane {}: {} (tests {} passed, {} failed, {} skipped) in {:.1}s",
        title(result.lane, result.arch, result.kernel),
        result.verdict(),
        t.passed,
        t.failed,
        t.skipped(),
        result.elapsed.as_secs_f64(),
    );
    for failure in &result.failures {
        eprintln!("    failed: {failure}");
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
        "{:<8} {:<8} {:<6} {:<6} {:>7} {:>7} {:>8} {:>8}",
        "lane", "arch", "kernel", "result", "passed", "failed", "skipped", "time"
    );
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for r in results {
        let t = &r.tally;
        println!(
            "{:<8} {:<8} {:<6} {:<6} {:>7} {:>7} {:>8} {:>7.1}s",
            r.lane,
            r.arch.name(),
            // The host and user lanes run on the build machine's kernel.
            r.kernel.unwrap_or("host"),
            r.verdict(),
            t.passed,
            t.failed,
            t.skipped(),
            r.elapsed.as_secs_f64()
        );
        passed += t.passed;
        failed += t.failed;
        skipped += t.skipped();
    }
    println!();
    println!("{passed} passed, {failed} failed, {skipped} skipped");
}
