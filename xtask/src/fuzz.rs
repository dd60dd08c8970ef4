//! Fuzzing: the cargo-fuzz targets in `xtask/fuzz/`, run on rustup's stable toolchain.
//!
//! - `shm_name`: `mman::sys::shm_open` / `shm_unlink` with names from the input, against
//!   glibc 2.38's name rules (in a private /dev/shm when run as root).
//! - `mapping_ops`: operation sequences on `Mapping`s (every `MapOptions` kind, every
//!   range-checked method, arbitrary bounds), checking refusals, accessibility and leaks.
//! - `reservation_ops`: a `Reservation` of any size and alignment, commit, decommit, reset,
//!   slices with arbitrary bounds, mappings placed inside it and dropped, then its drop;
//!   every answer against the documented page states, lent memory against
//!   `/proc/self/maps`, `committed()`, what stays mapped after each drop, and leaks.
//!
//! The host lane of `cargo xtask test` runs each target for `SMOKE_RUNS` executions with a
//! fixed seed, from the checked-in seeds in `xtask/fuzz/corpus/<target>/` only. Longer runs:
//!
//! ```text
//! cargo xtask fuzz                            # every target, 60 s each
//! cargo xtask fuzz mapping_ops --time 3600    # one target for an hour
//! cargo xtask fuzz shm_name --runs 1000000    # a number of executions
//! ```
//!
//! These keep what they find interesting in `target/fuzz/corpus/<target>/`, so each run
//! starts where the last one stopped, and write crashing inputs to
//! `target/fuzz/artifacts/<target>/`. To replay one, or print it as operations:
//!
//! ```text
//! RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir xtask/fuzz --target-dir target/fuzz <target> <file>
//! RUSTC_BOOTSTRAP=1 cargo fuzz fmt --fuzz-dir xtask/fuzz --target-dir target/fuzz <target> <file>
//! ```
//!
//! Measured on the 2-core CI machine (x86_64, kernel 6.18, AddressSanitizer): `shm_name`
//! 20,000-50,000 executions/s; `mapping_ops` about 3,500/s from the seeds, falling to about
//! 1,000/s as the corpus fills with long operation sequences; `reservation_ops` about
//! 1,500/s, falling to 400-700/s. The host lane's step takes
//! about 6 s, after a first build of the targets of 35-80 s; `cargo xtask setup` installs
//! cargo-fuzz in about 40 s.
//!
//! Why stable works: cargo-fuzz passes nightly-only flags (`-Zsanitizer=address`, ...) to
//! rustc, and `RUSTC_BOOTSTRAP=1` makes the stable compiler accept them. The sanitizer
//! runtimes ship with stable's standard library for x86_64 Linux, so AddressSanitizer needs
//! nothing else. No nightly toolchain is ever needed (rustup cannot download one here).

use std::fs;
use std::path::Path;
use std::process::{Command, ExitCode};

use crate::lanes::Session;
use crate::run;
use crate::toolchain::present;
use crate::workspace_root;

/// The fuzz targets, in `xtask/fuzz/fuzz_targets/`.
pub const TARGETS: [&str; 3] = ["shm_name", "mapping_ops", "reservation_ops"];

/// Executions per target in the host lane: a few seconds each.
const SMOKE_RUNS: u64 = 20_000;
/// The host lane's libFuzzer seed, so that a failure there repeats.
const SMOKE_SEED: u64 = 1;

/// How long a run goes on.
#[derive(Clone, Copy, Debug)]
pub enum Budget {
    Runs(u64),
    Seconds(u64),
}

/// What `cargo xtask fuzz` should run.
#[derive(Debug)]
pub struct Options {
    /// Empty: every target.
    targets: Vec<&'static str>,
    budget: Budget,
}

/// Parses `[<target>...] [--runs N | --time S]`.
pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut targets = Vec::new();
    let mut budget = None;
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_string(), Some(value.to_string())),
            None => (arg.clone(), None),
        };
        let mut number = |unit: fn(u64) -> Budget| -> Result<(), String> {
            let value = inline.clone().or_else(|| args.next());
            let value = value.ok_or_else(|| format!("`{flag}` needs a number"))?;
            let n = value
                .parse()
                .map_err(|_| format!("`{flag}` needs a number (got `{value}`)"))?;
            match budget.replace(unit(n)) {
                None => Ok(()),
                Some(_) => Err("give one of `--runs` and `--time`".to_string()),
            }
        };
        match flag.as_str() {
            "--runs" => number(Budget::Runs)?,
            "--time" => number(Budget::Seconds)?,
            _ if arg.starts_with('-') => return Err(format!("unknown option `{arg}`")),
            _ => match TARGETS.iter().find(|&&t| t == arg) {
                Some(&target) => targets.push(target),
                None => {
                    let known = TARGETS.join(", ");
                    return Err(format!("unknown fuzz target `{arg}` (expected: {known})"));
                }
            },
        }
    }
    Ok(Options {
        targets,
        budget: budget.unwrap_or(Budget::Seconds(60)),
    })
}

/// `cargo xtask fuzz`: each chosen target in turn, keeping its corpus in `target/fuzz/`.
pub fn run(options: &Options) -> ExitCode {
    if !present("cargo-fuzz") {
        eprintln!("error: cargo-fuzz is missing: run `cargo xtask setup`");
        return ExitCode::FAILURE;
    }
    let targets = match options.targets.is_empty() {
        true => &TARGETS[..],
        false => &options.targets[..],
    };
    let mut failed = Vec::new();
    for &target in targets {
        let ok = match command(target, options.budget, Corpus::Kept) {
            Ok(mut cmd) => run::run(&mut cmd),
            Err(message) => {
                eprintln!("error: {message}");
                false
            }
        };
        if !ok {
            failed.push(target);
        }
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("fuzzing failed: {}", failed.join(", "));
        ExitCode::FAILURE
    }
}

/// The host lane's fuzz step: every target, `SMOKE_RUNS` executions from the checked-in
/// seeds with a fixed seed.
pub fn smoke(s: &mut Session) {
    if !present("cargo-fuzz") {
        s.fail("missing cargo-fuzz: run `cargo xtask setup`".into());
        return;
    }
    for target in TARGETS {
        let label = format!("fuzz {target}");
        match command(target, Budget::Runs(SMOKE_RUNS), Corpus::Fresh) {
            Ok(cmd) => {
                if s.step(&label, cmd) {
                    s.note(format!(
                        "{label}: {SMOKE_RUNS} runs (seed {SMOKE_SEED}), no crash"
                    ));
                }
            }
            Err(message) => s.fail(format!("{label}: {message}")),
        }
    }
}

/// Where libFuzzer keeps the inputs it finds interesting.
#[derive(Clone, Copy)]
enum Corpus {
    /// `target/fuzz/corpus/<target>/`, kept from run to run.
    Kept,
    /// An emptied `target/fuzz/smoke/<target>/`, so that the run depends only on the seeds.
    Fresh,
}

/// `cargo fuzz run` for `target`, its directories made ready.
fn command(target: &str, budget: Budget, corpus: Corpus) -> Result<Command, String> {
    let root = workspace_root();
    let fuzz = root.join("target/fuzz");
    let work = match corpus {
        Corpus::Kept => fuzz.join("corpus").join(target),
        Corpus::Fresh => {
            let dir = fuzz.join("smoke").join(target);
            remove_dir(&dir)?;
            dir
        }
    };
    let artifacts = fuzz.join("artifacts").join(target);
    for dir in [&work, &artifacts] {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root)
        // cargo-fuzz's flags are nightly-only; this makes stable rustc take them.
        .env("RUSTC_BOOTSTRAP", "1")
        // Flags from the caller's environment would change what is built (as in the lanes).
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .args(["fuzz", "run", "--fuzz-dir", "xtask/fuzz"])
        .arg("--target-dir")
        .arg(&fuzz)
        .arg(target)
        // New inputs go to the first directory; the seeds are only read.
        .arg(&work);
    let seeds = root.join("xtask/fuzz/corpus").join(target);
    if seeds.is_dir() {
        cmd.arg(seeds);
    }
    // libFuzzer's default is the current directory; cargo-fuzz's, xtask/fuzz/artifacts.
    cmd.arg("--")
        .arg(format!("-artifact_prefix={}/", artifacts.display()));
    match budget {
        Budget::Runs(n) => cmd.arg(format!("-runs={n}")),
        Budget::Seconds(s) => cmd.arg(format!("-max_total_time={s}")),
    };
    if let Corpus::Fresh = corpus {
        cmd.arg(format!("-seed={SMOKE_SEED}"));
    }
    Ok(cmd)
}

fn remove_dir(dir: &Path) -> Result<(), String> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("cannot empty {}: {e}", dir.display()))
        }
        _ => Ok(()),
    }
}
