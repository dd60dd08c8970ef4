//! What `/init` (the `xtask/init` crate) says on the console, and where it
//! finds the programs to run. Both sides compile this one file (init through
//! `#[path]`), so the writer and the reader cannot drift apart; each side
//! uses only its half.

/// Every line of init's own starts with this. Readers search for it anywhere
/// in a line: a test killed in the middle of `test name ... ` leaves the
/// console without a line break before init speaks.
pub const PREFIX: &str = "mman-init: ";

/// Directories of the initramfs that init runs programs from, in this order,
/// each sorted by name. A test program gets `TEST_ARGS`; an example, none.
pub const TESTS_DIR: &str = "tests";
pub const EXAMPLES_DIR: &str = "examples";

/// One test at a time, so that each one's lines come in order on the
/// serial console; no colour, whose escape codes would clutter the log.
pub const TEST_ARGS: &[&str] = &["--test-threads=1", "--color=never"];

#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// `uname -r` and `uname -m` of the running kernel: the report names it.
    Kernel { release: String, machine: String },
    /// A program (`tests/NAME` or `examples/NAME`) is about to start.
    Run { program: String },
    /// The program ended with `exit(code)`.
    Exit { program: String, code: i32 },
    /// The program was killed by signal `signal`.
    Signal { program: String, signal: i32 },
    /// Init could not do something it needs (mount, exec, ...).
    Error { message: String },
    /// The last line before power-off: the run is complete.
    Done { programs: usize, failed: usize },
}

impl Event {
    pub fn render(&self) -> String {
        let body = match self {
            Event::Kernel { release, machine } => format!("kernel {release} {machine}"),
            Event::Run { program } => format!("run {program}"),
            Event::Exit { program, code } => format!("{program} exit {code}"),
            Event::Signal { program, signal } => format!("{program} signal {signal}"),
            Event::Error { message } => format!("error {message}"),
            Event::Done { programs, failed } => {
                format!("done {programs} programs, {failed} failed")
            }
        };
        format!("{PREFIX}{body}")
    }

    /// The event in a console line, if the line carries one.
    pub fn parse(line: &str) -> Option<Event> {
        let body = &line[line.find(PREFIX)? + PREFIX.len()..];
        let body = body.trim_end();
        let words: Vec<&str> = body.split(' ').collect();
        let number = |word: &str| word.parse::<i32>().ok();
        let count = |word: &str| word.parse::<usize>().ok();
        Some(match words[..] {
            ["kernel", release, machine] => Event::Kernel {
                release: release.into(),
                machine: machine.into(),
            },
            ["run", program] => Event::Run {
                program: program.into(),
            },
            ["error", ..] => Event::Error {
                message: words[1..].join(" "),
            },
            ["done", programs, "programs,", failed, "failed"] => Event::Done {
                programs: count(programs)?,
                failed: count(failed)?,
            },
            [program, "exit", code] => Event::Exit {
                program: program.into(),
                code: number(code)?,
            },
            [program, "signal", signal] => Event::Signal {
                program: program.into(),
                signal: number(signal)?,
            },
            _ => return None,
        })
    }
}
