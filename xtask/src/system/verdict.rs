//! Reading a boot's console: test counts, how each program ended, and
//! whether the kernel itself got into trouble.

use std::ops::Range;
use std::time::Duration;

use crate::report::Tally;

use super::protocol::Event;
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

/// Judges `console`, from a machine that was given `programs` to run.
pub fn judge(console: &Console, programs: &[String], time_limit: Duration) -> Verdict {
    let mut verdict = Verdict::default();
    // The program running now, and the index of its `run` line.
    let mut running: Option<(String, usize)> = None;
    let mut finished: Vec<String> = Vec::new();
    let mut done = false;
    for (index, line) in console.lines.iter().enumerate() {
        verdict.tally.observe(line);
        if let Some(message) = kernel_trouble(line) {
            match message.starts_with("WARNING:") {
                true => verdict.notes.push(format!("kernel: {message}")),
                false => verdict.fail_run(format!("kernel: {message}")),
            }
        }
        let Some(event) = Event::parse(line) else {
            continue;
        };
        let ended = match event {
            Event::Kernel { release, .. } => {
                verdict.release = Some(release);
                None
            }
            Event::Run { program } => {
                running = Some((program, index));
                None
            }
            Event::Exit { program, code } => Some((
                program,
                (code != 0).then(|| format!("exited with status {code}")),
            )),
            Event::Signal { program, signal } => {
                Some((program, Some(format!("was killed by signal {signal}"))))
            }
            Event::Error { message } => {
                verdict.fail_run(format!("init: {message}"));
                None
            }
            Event::Done { .. } => {
                done = true;
                None
            }
        };
        if let Some((program, failure)) = ended {
            if let Some(failure) = failure {
                verdict.failures.push(format!("{program} {failure}"));
                let start = running.as_ref().map_or(index, |(_, start)| *start);
                verdict.failed_output.push(start..index + 1);
            }
            finished.push(program);
            running = None;
        }
    }
    let stopped_in = match &running {
        Some((program, _)) => format!(" while {program} ran"),
        None => String::new(),
    };
    match console.status {
        None => verdict.fail_run(format!("killed after {time_limit:?}{stopped_in}")),
        Some(status) if !status.success() => verdict.fail_run(format!("qemu ended with {status}")),
        Some(_) if !done => verdict.fail_run(format!(
            "the console ended before init's `done` line{stopped_in}"
        )),
        Some(_) => {}
    }
    if let Some((_, start)) = running {
        verdict.failed_output.push(start..console.lines.len());
    }
    // Without `done` the run is already a failure, and the missing programs
    // are just the ones after the point where it stopped.
    if done {
        for program in programs.iter().filter(|p| !finished.contains(p)) {
            verdict.fail_run(format!("{program} was packed but did not run"));
        }
    }
    verdict
}

impl Verdict {
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
