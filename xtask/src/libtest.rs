//! One run of one libtest program: what it printed, and what that proves.
//!
//! Counts are disjoint. A test is *passed* only if libtest said `ok` and the test reported no
//! skip; a test that wrote a `mman-skip: <test>: <reason>` line is *skipped* (libtest says
//! `ok` for it, because `skip!` returns early); `#[ignore]`d tests are skipped too; every
//! other test is *failed*, including each listed test that never finished because its
//! program died, hung or did not run at all. A program that dies, prints no `test result:`
//! line, or runs fewer tests than its `--list` shows is a problem named in the lane summary.

use std::collections::BTreeMap;
use std::fmt;

use crate::report::{strip_ansi, Tally};

/// The prefix of the line `skip!` in `tests/common/mod.rs` writes straight to stderr.
pub const SKIP_PREFIX: &str = "mman-skip: ";

/// libtest's suffix to the name of a `#[should_panic]` test in its `test NAME ... ` line.
const SHOULD_PANIC: &str = " - should panic";

/// How libtest says a test ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    Ok,
    Failed,
    Ignored,
}

impl Outcome {
    /// The outcome a `test NAME ... ` line ends with (`ignored` may carry a reason).
    fn parse(text: &str) -> Option<Outcome> {
        match text.split([' ', ',']).next()? {
            "ok" => Some(Outcome::Ok),
            "FAILED" => Some(Outcome::Failed),
            "ignored" => Some(Outcome::Ignored),
            _ => None,
        }
    }
}

/// A `test result:` line's counts.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
struct Counts {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl Counts {
    /// "ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s"
    fn parse(text: &str) -> Counts {
        let mut counts = Counts::default();
        for part in text.split(';') {
            let words: Vec<&str> = part.split_whitespace().collect();
            if let [.., count, kind] = words[..] {
                let Ok(count) = count.parse::<u64>() else {
                    continue;
                };
                match kind {
                    "passed" => counts.passed += count,
                    "failed" => counts.failed += count,
                    "ignored" => counts.ignored += count,
                    _ => {}
                }
            }
        }
        counts
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let Counts {
            passed,
            failed,
            ignored,
        } = self;
        write!(f, "{passed} passed, {failed} failed, {ignored} ignored")
    }
}

/// What a libtest program printed. The host's two pipes are read apart, each into an
/// `Output`, and merged with `absorb`; the system lane's console is one stream.
#[derive(Default, Debug)]
pub struct Output {
    /// Each test's outcome, by name, from `test NAME ... OUTCOME`.
    outcomes: BTreeMap<String, Outcome>,
    /// `(test, reason)` from each `mman-skip:` line.
    skips: Vec<(String, String)>,
    /// Every `test result:` line (a program prints exactly one).
    results: Vec<Counts>,
    /// A `test NAME ... ` whose outcome has not come yet: with one test thread, libtest
    /// writes the name before the test runs, and a console that merges stderr puts the test's
    /// skip line (or a kernel message) between the name and its outcome.
    pending: Option<String>,
}

impl Output {
    /// Reads one line of the program's output.
    pub fn observe(&mut self, line: &str) {
        let line = strip_ansi(line);
        let mut line = line.as_str();
        // A skip line can start in the middle of a console line, after `test NAME ... `.
        if let Some(at) = line.find(SKIP_PREFIX) {
            let skip = line[at + SKIP_PREFIX.len()..].trim();
            let (test, reason) = skip.split_once(": ").unwrap_or((skip, ""));
            self.skips.push((test.to_string(), reason.to_string()));
            line = &line[..at];
        }
        let line = line.trim();
        if let Some(counts) = line.strip_prefix("test result: ") {
            self.results.push(Counts::parse(counts));
            self.pending = None;
        } else if let Some((name, rest)) = line
            .strip_prefix("test ")
            .and_then(|test| test.split_once(" ..."))
        {
            let name = name.strip_suffix(SHOULD_PANIC).unwrap_or(name);
            match Outcome::parse(rest.trim()) {
                Some(outcome) => self.record(name.to_string(), outcome),
                None => self.pending = Some(name.to_string()),
            }
        } else if let Some(outcome) = Outcome::parse(line) {
            if let Some(name) = self.pending.take() {
                self.record(name, outcome);
            }
        }
    }

    fn record(&mut self, name: String, outcome: Outcome) {
        self.pending = None;
        self.outcomes.insert(name, outcome);
    }

    /// Adds what the program's other pipe said.
    pub fn absorb(&mut self, other: Output) {
        self.outcomes.extend(other.outcomes);
        self.skips.extend(other.skips);
        self.results.extend(other.results);
    }

    /// The test whose name libtest printed last without its outcome: with one test thread,
    /// the one running when the program died.
    fn running(&self) -> Option<&str> {
        self.pending.as_deref()
    }
}

/// How a program ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ending {
    Exit(i32),
    Signal(i32),
    /// Killed at its time limit, in seconds.
    TimedOut(u64),
    /// It never ended: it could not start, or the machine running it went away.
    Unfinished,
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match *self {
            Ending::Exit(code) => write!(f, "exited with status {code}"),
            Ending::Signal(signal) => match signal_name(signal) {
                Some(name) => write!(f, "was killed by signal {signal} ({name})"),
                None => write!(f, "was killed by signal {signal}"),
            },
            Ending::TimedOut(secs) => write!(f, "was killed at its time limit of {secs} s"),
            Ending::Unfinished => write!(f, "did not finish"),
        }
    }
}

/// The signals a crashing or killed test program meets (the same numbers on x86_64 and
/// aarch64).
fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        31 => "SIGSYS",
        _ => return None,
    })
}

/// The tests a program's `--list` output names (`NAME: test` lines).
pub fn parse_list(list: &str) -> Vec<String> {
    list.lines()
        .filter_map(|line| line.trim_end().strip_suffix(": test"))
        .map(str::to_string)
        .collect()
}

/// How many names a message lists before it says "and N more".
const NAMES_SHOWN: usize = 5;

fn some_names<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    let mut text = names[..names.len().min(NAMES_SHOWN)].join(", ");
    if names.len() > NAMES_SHOWN {
        text.push_str(&format!(" and {} more", names.len() - NAMES_SHOWN));
    }
    text
}

/// Judges one run of `program`, which `--list` said has the tests `listed` (None: not
/// known, as for doc tests): its disjoint counts, and what is wrong with the run, if
/// anything, as one line for the lane summary.
pub fn judge(
    program: &str,
    listed: Option<&[String]>,
    out: &Output,
    ending: Ending,
) -> (Tally, Option<String>) {
    let mut tally = Tally {
        programs: 1,
        ..Tally::default()
    };
    let mut problems: Vec<String> = Vec::new();

    let mut reasons: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (test, reason) in &out.skips {
        reasons.entry(test).or_default().push(reason);
    }
    let mut failed: Vec<&str> = Vec::new();
    let mut ok = 0;
    for (name, outcome) in &out.outcomes {
        match outcome {
            Outcome::Ok => {
                ok += 1;
                match reasons.get(name.as_str()) {
                    Some(why) => tally.skips.push(format!("{name}: {}", why.join("; "))),
                    None => tally.passed += 1,
                }
            }
            Outcome::Failed => failed.push(name),
            Outcome::Ignored => tally.ignored += 1,
        }
    }
    tally.failed += failed.len() as u64;
    if !failed.is_empty() {
        problems.push(format!(
            "{} failed: {}",
            plural(failed.len(), "test"),
            some_names(failed.iter().copied())
        ));
    }

    // Listed tests that never finished count as failed: they proved nothing.
    let mut unfinished = 0;
    if let Some(listed) = listed {
        let missing: Vec<&str> = listed
            .iter()
            .filter(|name| !out.outcomes.contains_key(*name))
            .map(String::as_str)
            .collect();
        let unlisted: Vec<&str> = out
            .outcomes
            .keys()
            .filter(|name| !listed.contains(name))
            .map(String::as_str)
            .collect();
        unfinished = missing.len();
        if !missing.is_empty() {
            let running = match out.running() {
                Some(test) => format!(" (running: {test})"),
                None => String::new(),
            };
            problems.push(format!(
                "{} of {} listed tests did not finish{running}: {}",
                missing.len(),
                listed.len(),
                some_names(missing)
            ));
        }
        if !unlisted.is_empty() {
            problems.push(format!(
                "reported tests its --list does not name: {}",
                some_names(unlisted)
            ));
        }
    }
    tally.failed += unfinished as u64;

    match out.results[..] {
        [] => {
            problems.push("printed no `test result:` line".into());
            // Without a list, the program as a whole is the one test that is known to fail.
            if listed.is_none() {
                tally.failed += 1;
            }
        }
        [counts] => {
            let seen = Counts {
                passed: ok,
                failed: failed.len() as u64,
                ignored: tally.ignored,
            };
            if counts != seen {
                problems.push(format!(
                    "its `test result:` line says {counts} but its test lines say {seen}"
                ));
            }
        }
        ref all => problems.push(format!(
            "printed {} `test result:` lines (a forked child that ran on into the harness?)",
            all.len()
        )),
    }

    // A skip line must name a test of this program, or the skip is counted nowhere.
    let strays: Vec<&str> = reasons
        .keys()
        .copied()
        .filter(|test| {
            !out.outcomes.contains_key(*test)
                && !listed.is_some_and(|listed| listed.iter().any(|name| name == test))
        })
        .collect();
    if !strays.is_empty() {
        problems.push(format!(
            "skip lines name no test of this program: {}",
            some_names(strays)
        ));
    }

    if ending != Ending::Exit(0) && (failed.is_empty() || ending != Ending::Exit(101)) {
        // 101 is libtest's status when tests failed, which is said above already.
        problems.insert(0, ending.to_string());
    }
    let problem = (!problems.is_empty()).then(|| format!("{program}: {}", problems.join("; ")));
    (tally, problem)
}

/// "1 test", "2 tests".
pub fn plural(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        _ => format!("{n} {noun}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(lines: &[&str]) -> Output {
        let mut out = Output::default();
        for line in lines {
            out.observe(line);
        }
        out
    }

    /// libtest's closing line.
    fn result(passed: u64, failed: u64, ignored: u64) -> String {
        let verdict = if failed == 0 { "ok" } else { "FAILED" };
        format!(
            "test result: {verdict}. {passed} passed; {failed} failed; {ignored} ignored; \
             0 measured; 0 filtered out; finished in 0.01s"
        )
    }

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn a_skip_line_moves_its_test_from_passed_to_skipped() {
        let out = output(&[
            "running 3 tests",
            "mman-skip: pkey_alloc_works: no PKU on this CPU (ENOSPC)",
            "test pkey_alloc_works ... ok",
            "test maps_a_page ... ok",
            "test old_thing ... ignored, too slow",
            "",
            &result(2, 0, 1),
        ]);
        let listed = names(&["maps_a_page", "old_thing", "pkey_alloc_works"]);
        let (tally, problem) = judge("tests/sys_pkey", Some(&listed), &out, Ending::Exit(0));
        assert_eq!(problem, None);
        assert_eq!((tally.passed, tally.failed, tally.ignored), (1, 0, 1));
        assert_eq!(
            tally.skips,
            ["pkey_alloc_works: no PKU on this CPU (ENOSPC)"]
        );
        assert_eq!(tally.skipped(), 2);
    }

    #[test]
    fn a_skip_on_the_console_between_name_and_outcome_still_counts() {
        // The system lane: one test thread, stderr and stdout on one serial console.
        let out = output(&[
            "test seal_works ... mman-skip: seal_works: mseal: ENOSYS (Linux 6.1)",
            "ok",
            &result(1, 0, 0),
        ]);
        let (tally, problem) = judge(
            "tests/x",
            Some(&names(&["seal_works"])),
            &out,
            Ending::Exit(0),
        );
        assert_eq!(problem, None);
        assert_eq!(tally.passed, 0);
        assert_eq!(tally.skips, ["seal_works: mseal: ENOSYS (Linux 6.1)"]);
    }

    #[test]
    fn a_skip_counts_in_the_run_that_reported_it_only() {
        // The host lane runs the suite twice; each run is judged on its own output.
        let listed = names(&["a"]);
        let skipped = output(&["mman-skip: a: reason", "test a ... ok", &result(1, 0, 0)]);
        let passed = output(&["test a ... ok", &result(1, 0, 0)]);
        let mut lane = Tally::default();
        lane.add(judge("a (all features)", Some(&listed), &skipped, Ending::Exit(0)).0);
        lane.add(judge("a (without std)", Some(&listed), &passed, Ending::Exit(0)).0);
        assert_eq!((lane.passed, lane.failed, lane.skipped()), (1, 0, 1));
        assert_eq!(lane.programs, 2);
    }

    #[test]
    fn a_skipped_test_that_then_fails_is_failed() {
        let out = output(&[
            "mman-skip: a: half of it",
            "test a ... FAILED",
            &result(0, 1, 0),
        ]);
        let (tally, problem) = judge("tests/x", Some(&names(&["a"])), &out, Ending::Exit(101));
        assert_eq!((tally.passed, tally.failed, tally.skipped()), (0, 1, 0));
        assert_eq!(problem.as_deref(), Some("tests/x: 1 test failed: a"));
    }

    #[test]
    fn a_crashed_program_counts_its_unfinished_tests_as_failed_and_names_the_signal() {
        let out = output(&["running 3 tests", "test first ... ok"]);
        let listed = names(&["first", "second", "third"]);
        let (tally, problem) = judge("tests/faults", Some(&listed), &out, Ending::Signal(11));
        assert_eq!((tally.passed, tally.failed), (1, 2));
        let problem = problem.expect("a crash is a problem");
        assert!(
            problem.starts_with("tests/faults: was killed by signal 11 (SIGSEGV)"),
            "{problem}"
        );
        assert!(
            problem.contains("2 of 3 listed tests did not finish: second, third"),
            "{problem}"
        );
        assert!(problem.contains("no `test result:` line"), "{problem}");
    }

    #[test]
    fn the_test_running_when_a_single_threaded_program_died_is_named() {
        let out = output(&["test first ... ok", "test second ... "]);
        let listed = names(&["first", "second"]);
        let (tally, problem) = judge("tests/x", Some(&listed), &out, Ending::Signal(6));
        assert_eq!(tally.failed, 1);
        let problem = problem.unwrap();
        assert!(problem.contains("(SIGABRT)"), "{problem}");
        assert!(problem.contains("(running: second)"), "{problem}");
    }

    #[test]
    fn a_program_without_a_result_line_or_list_is_one_failure() {
        let (tally, problem) = judge("doc tests", None, &Output::default(), Ending::Exit(0));
        assert_eq!(tally.failed, 1);
        assert_eq!(
            problem.as_deref(),
            Some("doc tests: printed no `test result:` line")
        );
    }

    #[test]
    fn a_failing_exit_status_after_passing_tests_is_a_problem() {
        let out = output(&["test a ... ok", &result(1, 0, 0)]);
        let (tally, problem) = judge("tests/x", Some(&names(&["a"])), &out, Ending::Exit(3));
        assert_eq!(tally.passed, 1);
        assert_eq!(problem.as_deref(), Some("tests/x: exited with status 3"));
    }

    #[test]
    fn a_result_line_that_disagrees_with_the_test_lines_is_a_problem() {
        let out = output(&["test a ... ok", &result(2, 0, 0)]);
        let (_, problem) = judge("tests/x", None, &out, Ending::Exit(0));
        assert!(problem.unwrap().contains("says 2 passed"));
    }

    #[test]
    fn two_result_lines_are_a_problem() {
        let result = &result(0, 0, 0);
        let (_, problem) = judge("tests/x", None, &output(&[result, result]), Ending::Exit(0));
        assert!(problem.unwrap().contains("2 `test result:` lines"));
    }

    #[test]
    fn a_skip_line_naming_no_test_is_a_problem() {
        let out = output(&[
            "mman-skip: unknown test: from a helper thread",
            "test a ... ok",
            &result(1, 0, 0),
        ]);
        let (tally, problem) = judge("tests/x", Some(&names(&["a"])), &out, Ending::Exit(0));
        assert_eq!(tally.passed, 1);
        assert!(problem
            .unwrap()
            .contains("name no test of this program: unknown test"));
    }

    #[test]
    fn a_program_with_no_tests_is_judged_by_its_run() {
        // The library's unit-test program has no tests yet; it must still run cleanly.
        let result = &result(0, 0, 0);
        let (tally, problem) = judge("mman", Some(&[]), &output(&[result]), Ending::Exit(0));
        assert_eq!((tally.programs, tally.passed, problem), (1, 0, None));
        let (_, problem) = judge("mman", Some(&[]), &Output::default(), Ending::Signal(11));
        assert!(problem.unwrap().contains("no `test result:` line"));
    }

    #[test]
    fn should_panic_tests_and_colours_parse() {
        let out = output(&[
            "test boom - should panic ... \u{1b}[32mok\u{1b}[0m",
            &result(1, 0, 0),
        ]);
        let (tally, problem) = judge("tests/x", Some(&names(&["boom"])), &out, Ending::Exit(0));
        assert_eq!((tally.passed, problem), (1, None));
    }

    #[test]
    fn list_output_parses() {
        let list = "a::b: test\nc: test\n\n2 tests, 0 benchmarks\n";
        assert_eq!(parse_list(list), ["a::b", "c"]);
    }
}
