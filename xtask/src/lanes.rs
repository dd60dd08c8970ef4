//! The test lanes: which lane runs on which architecture, and what it runs.

use std::fs;
use std::process::{Command, ExitCode};
use std::time::Instant;

use crate::arch::Arch;
use crate::cli::TestOptions;
use crate::examples;
use crate::freestanding;
use crate::fuzz;
use crate::msrv;
use crate::mutants;
use crate::report::{self, record, LaneResult, Tally};
use crate::run;
use crate::side_by_side;
use crate::suite;
use crate::system;
use crate::toolchain::{Rust, Toolchain};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Lane {
    /// The build machine itself, with rustup's toolchain.
    Host,
    /// Other architectures under qemu-user (on the host's kernel), built
    /// with Debian's Rust.
    User,
    /// Every architecture as the whole userland of Debian's kernels (6.1
    /// and 6.12), booted under qemu-system: one result per kernel.
    System,
}

impl Lane {
    pub const ALL: [Lane; 3] = [Lane::Host, Lane::User, Lane::System];

    pub fn name(self) -> &'static str {
        match self {
            Lane::Host => "host",
            Lane::User => "user",
            Lane::System => system::LANE,
        }
    }

    fn arches(self) -> Vec<Arch> {
        match self {
            Lane::Host => vec![Arch::HOST],
            Lane::User => Arch::ALL.into_iter().filter(|&a| a != Arch::HOST).collect(),
            Lane::System => Arch::ALL.to_vec(),
        }
    }
}

pub fn run(options: &TestOptions) -> ExitCode {
    let jobs = match plan(options) {
        Ok(jobs) => jobs,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let workers = options.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let results: Vec<LaneResult> = match workers > 1 && jobs.len() > 1 {
        true => side_by_side::run(&jobs, options, workers),
        false => jobs
            .into_iter()
            .flat_map(|(lane, arch)| match lane {
                Lane::Host => vec![run_lane(lane, arch, Rust::Rustup, host)],
                Lane::User => vec![run_lane(lane, arch, Rust::Debian, user)],
                Lane::System => system::run(arch, &options.kernels, options.verbose),
            })
            .collect(),
    };
    // A lane run by `side_by_side` hands its results back; the table is that run's to print.
    if let Some(path) = &options.results {
        return match fs::write(path, record::write(&results)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                ExitCode::FAILURE
            }
        };
    }
    report::summary(&results);
    if results.iter().all(LaneResult::ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The (lane, arch) pairs to run, in order. Asking for a lane on an arch it
/// does not support is an error rather than a silent no-op.
fn plan(options: &TestOptions) -> Result<Vec<(Lane, Arch)>, String> {
    let lanes = if options.lanes.is_empty() {
        &Lane::ALL[..]
    } else {
        &options.lanes[..]
    };
    let mut jobs = Vec::new();
    for &lane in lanes {
        let arches = lane.arches();
        let chosen: Vec<Arch> = arches
            .iter()
            .copied()
            .filter(|arch| match options.arches.is_empty() {
                true => Arch::DEFAULT.contains(arch),
                false => options.arches.contains(arch),
            })
            .collect();
        if chosen.is_empty() && !options.lanes.is_empty() {
            let names: Vec<&str> = arches.iter().map(|a| a.name()).collect();
            return Err(format!(
                "lane {} runs on {} only",
                lane.name(),
                names.join(", ")
            ));
        }
        for arch in chosen {
            if !jobs.contains(&(lane, arch)) {
                jobs.push((lane, arch));
            }
        }
    }
    if jobs.is_empty() {
        return Err("no lane runs on the selected architectures".into());
    }
    Ok(jobs)
}

/// Runs `steps` with `rust` for `arch` as one lane on the host's kernel.
fn run_lane(lane: Lane, arch: Arch, rust: Rust, steps: fn(&mut Session)) -> LaneResult {
    report::lane_start(lane.name(), arch, None);
    let start = Instant::now();
    let mut session = Session {
        toolchain: Toolchain::new(rust, arch),
        result: LaneResult::new(lane.name(), arch, None),
    };
    let missing = session.toolchain.missing();
    if missing.is_empty() {
        steps(&mut session);
    } else {
        session.fail(format!(
            "missing {}: run `cargo xtask setup`",
            missing.join(", ")
        ));
    }
    let mut result = session.result;
    result.elapsed = start.elapsed();
    report::lane_end(&result);
    result
}

fn host(s: &mut Session) {
    s.cargo("build", &["--no-default-features"]);
    s.cargo(
        "clippy",
        &["--all-targets", "--all-features", "--", "-D", "warnings"],
    );
    // Unit, integration and doc tests, every program run to its end whatever
    // the others did; then again without std, which the library must support
    // too. (Only test targets are built: cargo would build examples with the
    // test profile, which always unwinds, and a `#![no_std]` example cannot
    // unwind without std.) Each test counts once per suite run.
    suite::run(s, "all features", &["--all-features"]);
    suite::run(s, "without std", &["--no-default-features"]);
    examples(s);
    // The declared rust-version, with that compiler.
    msrv::step(s);
    fuzz::smoke(s);
    mutants::smoke(s);
}

fn user(s: &mut Session) {
    s.cargo("build", &["--no-default-features"]);
    // Doctests included: cargo (1.89 on) cross-compiles them and runs them
    // through the runner, like the other tests.
    suite::run(s, "all features", &["--all-features"]);
    // No clippy here: Debian ships it apart from cargo-web (rust-web-clippy),
    // and the host lane already lints everything but the aarch64 code paths.
    examples(s);
}

/// Runs the ordinary examples, then links and runs the freestanding ones.
fn examples(s: &mut Session) {
    let (freestanding, ordinary): (Vec<_>, Vec<_>) =
        examples::find().into_iter().partition(|e| e.freestanding);
    for example in &ordinary {
        s.cargo("run", &["--example", &example.name, "--all-features"]);
    }
    if freestanding.is_empty() {
        s.note("no freestanding (`#![no_main]`) examples yet".into());
    }
    for example in &freestanding {
        freestanding::check(s, example);
    }
}

/// One lane in progress: its toolchain, and what it has seen so far.
pub struct Session {
    pub toolchain: Toolchain,
    result: LaneResult,
}

impl Session {
    /// Runs a command; a failure is recorded under `label` and the lane goes
    /// on, so that one run shows every problem.
    pub fn step(&mut self, label: &str, mut cmd: Command) -> bool {
        let ok = run::run(&mut cmd);
        if !ok {
            self.fail(label.to_string());
        }
        ok
    }

    pub fn cargo(&mut self, subcommand: &str, args: &[&str]) -> bool {
        let label = format!("cargo {subcommand} {}", args.join(" "));
        let cmd = self.toolchain.cargo(subcommand, args);
        self.step(&label, cmd)
    }

    /// Counts one whole run of the test suite.
    pub fn suite_ran(&mut self, tally: Tally) {
        self.result.tally.add(tally);
        self.result.suite_runs += 1;
    }

    pub fn fail(&mut self, failure: String) {
        self.result.failures.push(failure);
    }

    /// Says it now, and again in the lane's closing summary.
    pub fn note(&mut self, note: String) {
        eprintln!("{note}");
        self.result.notes.push(note);
    }
}
