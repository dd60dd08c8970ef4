//! Reading a boot's console: test counts, how each program ended, and
//! whether the kernel itself got into trouble.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use crate::libtest::{self, Ending};
use crate::report::Tally;

use super::protocol::{self, Event};
use super::qemu::Console;

/// What a console says about the run.
#[derive(Default)]
pub struct Verdict {
    pub tally: Tally,
    /// `uname -r` inside the machine, once init has said it.
    pub release: Option<String>,
    pub failures: Vec<String>,
    /// Worth knowing, not failing for: kernel warnings.
    pub notes: Vec<String>,
    /// The console lines of each program that failed, from init's `run`
    /// line to its `exit` line (or to the end, for the one running when the
    /// console stopped): what a person reads first.
    pub failed_output: Vec<Range<usize>>,
    /// Something went wrong outside any one program (the kernel, init, the
    /// time limit): the end of the whole console tells more.
    pub run_failed: bool,
}

/// The program init is running, the index of its `run` line, and what it has printed.
struct Running {
    program: String,
    start: usize,
    output: libtest::Output,
}

/// Judges `console`, from a machine that was given `programs` to run, whose test programs
/// list the tests in `listed`.
pub fn judge(
    console: &Console,
    programs: &[String],
    listed: &BTreeMap<String, Vec<String>>,
    time_limit: Duration,
) -> Verdict {
    let mut verdict = Verdict::default();
    let mut running: Option<Running> = None;
    let mut finished: Vec<String> = Vec::new();
    let mut done = None;
    for (index, line) in console.lines.iter().enumerate() {
        if let Some(message) = kernel_trouble(line) {
            match message.starts_with("WARNING:") {
                true => verdict.notes.push(format!("kernel: {message}")),
                false => verdict.fail_run(format!("kernel: {message}")),
            }
        }
        // What a program printed before init spoke on the same line is the program's.
        let own = line
            .find(protocol::PREFIX)
            .map_or(&line[..], |at| &line[..at]);
        if let Some(run) = &mut running {
            run.output.observe(own);
        }
        let Some(event) = Event::parse(line) else {
            continue;
        };
        let ending = match event {
            Event::Kernel { release, .. } => {
                verdict.release = Some(release);
                None
            }
            Event::Run { program } => {
                running = Some(Running {
                    program,
                    start: index,
                    output: libtest::Output::default(),
                });
                None
            }
            Event::Exit { program, code } => Some((program, Ending::Exit(code))),
            Event::Signal { program, signal } => Some((program, Ending::Signal(signal))),
            Event::Error { message } => {
                verdict.fail_run(format!("init: {message}"));
                None
            }
            Event::Done { programs, .. } => {
                done = Some(programs);
                None
            }
        };
        if let Some((program, ending)) = ending {
            let run = running.take().filter(|run| run.program == program);
            let start = run.as_ref().map_or(index, |run| run.start);
            let output = run.map(|run| run.output).unwrap_or_default();
            if verdict.program_ended(&program, listed.get(&program), &output, ending) {
                verdict.failed_output.push(start..index + 1);
            }
            finished.push(program);
        }
    }
    let stopped_in = match &running {
        Some(run) => format!(" while {} ran", run.program),
        None => String::new(),
    };
    match console.status {
        None => verdict.fail_run(format!("killed after {time_limit:?}{stopped_in}")),
        Some(status) if !status.success() => verdict.fail_run(format!("qemu ended with {status}")),
        Some(_) if done.is_none() => verdict.fail_run(format!(
            "the console ended before init's `done` line{stopped_in}"
        )),
        Some(_) => {}
    }
    if let Some(run) = running {
        let listed = listed.get(&run.program);
        verdict.program_ended(&run.program, listed, &run.output, Ending::Unfinished);
        verdict.failed_output.push(run.start..console.lines.len());
        finished.push(run.program);
    }
    if let Some(count) = done.filter(|&count| count != programs.len()) {
        verdict.fail_run(format!(
            "init ran {count} programs, but {} were packed",
            programs.len()
        ));
    }
    // The tests of a program that never ran count as failed. Without `done` the run is
    // already a failure, and these are just the ones after the point where it stopped.
    for program in programs.iter().filter(|p| !finished.contains(p)) {
        verdict.tally.failed += listed.get(program).map_or(1, |tests| tests.len() as u64);
        if done.is_some() {
            verdict.fail_run(format!("{program} was packed but did not run"));
        }
    }
    verdict
}

impl Verdict {
    /// Counts and judges a program that ended (a test program by its output, an example by
    /// its status); true if it failed.
    fn program_ended(
        &mut self,
        program: &str,
        listed: Option<&Vec<String>>,
        output: &libtest::Output,
        ending: Ending,
    ) -> bool {
        let problem = match listed {
            Some(listed) => {
                let (tally, problem) = libtest::judge(program, Some(listed), output, ending);
                self.tally.add(tally);
                problem
            }
            None => (ending != Ending::Exit(0)).then(|| format!("{program} {ending}")),
        };
        let failed = problem.is_some();
        self.failures.extend(problem);
        failed
    }

    fn fail_run(&mut self, failure: String) {
        self.failures.push(failure);
        self.run_failed = true;
    }
}

/// The message of a kernel log line that reports a crash or a warning.
/// Only lines with a printk timestamp (`[   12.345678] `) count, so a test
/// that prints "BUG:" cannot be mistaken for the kernel.
fn kernel_trouble(line: &str) -> Option<&str> {
    const TROUBLE: &[&str] = &[
        "Kernel panic",
        "BUG:",
        "Oops",
        "Internal error:",
        "Unable to handle kernel",
        "general protection fault",
        "WARNING:",
    ];
    let message = after_timestamp(line)?;
    TROUBLE
        .iter()
        .any(|t| message.starts_with(t))
        .then_some(message)
}

/// The rest of `line` after its first `[<spaces><digits>.<digits>] `.
fn after_timestamp(line: &str) -> Option<&str> {
    let mut rest = line;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        let close = rest.find("] ")?;
        let stamp = rest[..close].trim_start();
        let is_time = stamp.split_once('.').is_some_and(|(secs, frac)| {
            !secs.is_empty()
                && !frac.is_empty()
                && secs.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
        });
        if is_time {
            return Some(&rest[close + 2..]);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;

    const RESULT_OK_2: &str = "test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; \
                               0 filtered out; finished in 0.01s";

    fn console(lines: &[&str]) -> Console {
        Console {
            lines: lines.iter().map(|l| l.to_string()).collect(),
            status: Some(ExitStatus::from_raw(0)),
            elapsed: Duration::ZERO,
        }
    }

    fn listed(program: &str, tests: &[&str]) -> BTreeMap<String, Vec<String>> {
        let tests = tests.iter().map(|t| t.to_string()).collect();
        BTreeMap::from([(program.to_string(), tests)])
    }

    fn judged(
        lines: &[&str],
        programs: &[&str],
        listed: &BTreeMap<String, Vec<String>>,
    ) -> Verdict {
        let programs: Vec<String> = programs.iter().map(|p| p.to_string()).collect();
        judge(&console(lines), &programs, listed, Duration::from_secs(1))
    }

    #[test]
    fn a_skip_on_the_console_is_a_skip_not_a_pass() {
        let verdict = judged(
            &[
                "mman-init: run tests/sys",
                "test a ... ok",
                "test b ... mman-skip: b: mseal: ENOSYS (Linux 6.1)",
                "ok",
                RESULT_OK_2,
                "mman-init: tests/sys exit 0",
                "mman-init: done 1 programs, 0 failed",
            ],
            &["tests/sys"],
            &listed("tests/sys", &["a", "b"]),
        );
        assert_eq!(verdict.failures, Vec::<String>::new());
        assert_eq!((verdict.tally.passed, verdict.tally.failed), (1, 0));
        assert_eq!(verdict.tally.skips, ["b: mseal: ENOSYS (Linux 6.1)"]);
    }

    #[test]
    fn a_program_killed_mid_test_fails_with_its_name_signal_and_test() {
        let verdict = judged(
            &[
                "mman-init: run tests/faults",
                "test a ... ok",
                "test b ... mman-init: tests/faults signal 11",
                "mman-init: done 1 programs, 1 failed",
            ],
            &["tests/faults"],
            &listed("tests/faults", &["a", "b"]),
        );
        assert_eq!((verdict.tally.passed, verdict.tally.failed), (1, 1));
        assert_eq!(verdict.failures.len(), 1, "{:?}", verdict.failures);
        let failure = &verdict.failures[0];
        assert!(
            failure.starts_with("tests/faults: was killed by signal 11 (SIGSEGV)"),
            "{failure}"
        );
        assert!(failure.contains("(running: b)"), "{failure}");
        assert_eq!(verdict.failed_output.len(), 1);
        assert_eq!(verdict.failed_output[0], 0..3);
    }

    #[test]
    fn a_packed_program_that_did_not_run_fails_and_its_tests_count_as_failed() {
        let mut listed = listed("tests/a", &["x", "y"]);
        listed.insert("tests/b".into(), vec!["z".into()]);
        let verdict = judged(
            &[
                "mman-init: run tests/b",
                "test z ... ok",
                "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; \
                 finished in 0.01s",
                "mman-init: tests/b exit 0",
                "mman-init: done 1 programs, 0 failed",
            ],
            &["tests/a", "tests/b"],
            &listed,
        );
        assert_eq!((verdict.tally.passed, verdict.tally.failed), (1, 2));
        assert!(verdict
            .failures
            .contains(&"init ran 1 programs, but 2 were packed".to_string()));
        assert!(verdict
            .failures
            .contains(&"tests/a was packed but did not run".to_string()));
    }

    #[test]
    fn an_example_is_judged_by_its_status() {
        let verdict = judged(
            &[
                "mman-init: run examples/tour",
                "mman-init: examples/tour exit 1",
                "mman-init: done 1 programs, 1 failed",
            ],
            &["examples/tour"],
            &BTreeMap::new(),
        );
        assert_eq!(verdict.failures, ["examples/tour exited with status 1"]);
        assert_eq!(verdict.tally.programs, 0);
    }
}
