//! `cargo xtask mutants`: mutation testing with cargo-mutants. Each mutant is one small
//! change to the library (a comparison flipped, a function body replaced by a constant...);
//! the host tests should fail with it in place ("killed"). A mutant every test survives is a
//! change no test would notice.
//!
//! ```text
//! cargo xtask mutants                                  # every module, one run each (hours)
//! cargo xtask mutants --file src/mapping/range.rs      # the mutants of some files
//! cargo xtask mutants --sample 20 --seed 7             # 20 of every module's, repeatably
//! cargo xtask mutants --readme                         # the README's table, from results
//! ```
//!
//! The modules are `src/mapping`, `src/reservation`, `src/alloc`, `src/ring`, `src/numa`,
//! `src/shm`, `src/secret.rs`, `src/sys` and `arch/` (`MODULES`), each its own cargo-mutants
//! run, so that a long run reports module by module. Every mutant is
//! built into a scratch copy of the tree (cargo-mutants' own, never the working tree) and
//! tested with `cargo test --all-features --tests` (no doc tests: rustdoc rebuilds each
//! one for every mutant), the model tests at `MODEL_SEQUENCES` sequences from the fixed
//! `MODEL_SEED`, one mutant at a
//! time (`--jobs 1`: cargo already uses both cores of the CI machine). The time limit per
//! mutant comes from the unmutated baseline run (cargo-mutants' default: 5 times it, at
//! least `MINIMUM_TEST_TIMEOUT`). Settings any `cargo mutants` here shares, and the
//! excluded mutants with their reasons, are in `.cargo/mutants.toml`.
//!
//! Each run writes its summary to `xtask/mutants/last-run.md`. A run over a whole module
//! (every module, or `--file` with exactly a module's globs, not sampled) also replaces that
//! module's entry in `xtask/mutants/results.txt` (`RESULTS`), from which the README's table
//! between `README_START` and `README_END` is written: one row per module, each from its
//! latest run. cargo-mutants' own logs stay in `target/mutants/`.
//!
//! The host lane of `cargo xtask test` runs `SMOKE_SAMPLE` mutants of `src/mapping` chosen
//! by `SMOKE_SEED` (`smoke`), and fails if one survives that `KNOWN_SURVIVORS` does not
//! list: the safe layer's book-keeping and range checks live there. The sample is drawn
//! from the mutants of the code as it is, so it is the same on every run of a commit, and
//! a change to `src/mapping` draws anew: a survivor it then meets is a real gap, to close
//! with a test (or, for an equivalent mutant, an exclusion in `.cargo/mutants.toml`).

mod known;
mod outcome;
mod results;
mod sample;
mod summary;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use crate::lanes::Session;
use crate::libtest::{plural, Ending};
use crate::toolchain::present;
use crate::{bench, readme, run, workspace_root};

use outcome::{without_position, Outcomes};
use summary::Scope;

/// The release `cargo xtask setup` installs, and that the summaries name.
pub const CARGO_MUTANTS: &str = "cargo-mutants@27.1.0";

/// The modules mutated, each with the globs of its files (as cargo-mutants names files: by
/// the path the crate reaches them through, so `arch/` is `src/../arch/`).
const MODULES: [(&str, &[&str]); 9] = [
    ("src/mapping", &["src/mapping/**"]),
    ("src/reservation", &["src/reservation/**"]),
    ("src/alloc", &["src/alloc/**"]),
    ("src/ring", &["src/ring/**"]),
    ("src/numa", &["src/numa/**"]),
    ("src/shm", &["src/shm/**"]),
    ("src/secret.rs", &["src/secret.rs"]),
    ("src/sys", &["src/sys/**"]),
    ("arch", &["src/../arch/**"]),
];

/// Why a module can have no mutants at all.
const NO_MUTANTS: &str = "no mutants: cargo-mutants never mutates `unsafe fn`s (all of \
                          `arch/` and most of `src/sys/` are), and it does not see modules \
                          declared inside macros (`arch/x86_64.rs` and `arch/aarch64.rs` come \
                          through `cfg_if!`)";

/// The model tests' sequences per mutant (their default is thousands, seconds on the host).
const MODEL_SEQUENCES: &str = "200";
/// The model tests' seed (by default each run draws one): the same sequences for every
/// mutant, so that whether a mutant is killed does not depend on the luck of the draw.
const MODEL_SEED: &str = "15";
/// Seconds: a floor under the time limit cargo-mutants derives from the baseline, so that a
/// loaded machine does not turn slow tests into timeouts.
const MINIMUM_TEST_TIMEOUT: &str = "60";
/// Seconds for one mutant's build (a cold baseline build takes about a minute).
const BUILD_TIMEOUT: &str = "600";

/// The host lane's sample of `src/mapping`'s mutants. Measured on the 2-core machine: the
/// unmutated baseline takes 30-90 s (a cold build of the scratch copy, then the tests),
/// each mutant 6-25 s (a killed one stops at the first failing test program; 73 mutants
/// of range.rs and ops.rs took 8 minutes), so about 4 minutes in all.
const SMOKE_SAMPLE: usize = 15;
const SMOKE_SEED: u64 = 15;

/// Surviving mutants the host lane's sample leaves out, by name without position, each
/// with the reason: the README lists them too. Kept short: each is a test to write.
const KNOWN_SURVIVORS: &str = "xtask/mutants/known-survivors.txt";

/// Each module's latest whole run (see `results`).
const RESULTS: &str = "xtask/mutants/results.txt";
/// Which tests judge the mutants of a `cargo xtask mutants` run, for the results.
const JUDGED_BY: &str = "every host test";

const README_START: &str = "<!-- mutants:start (written by `cargo xtask mutants`) -->";
const README_END: &str = "<!-- mutants:end -->";

/// What `cargo xtask mutants` should run.
#[derive(Debug, Default)]
pub struct Options {
    /// Globs of files: one run over them instead of one per module.
    files: Vec<String>,
    /// Only this many mutants of each run, chosen by `seed`.
    sample: Option<usize>,
    seed: u64,
    /// Only write the README's table from the results file (`--readme`): no run.
    readme_only: bool,
    /// The arguments as given, for the summary.
    command: String,
}

/// Parses `[--file GLOB]... [--sample N [--seed S]]` or `--readme`.
pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options::default();
    let mut words = vec!["mutants".to_string()];
    let mut seed = None;
    while let Some(arg) = args.next() {
        if arg == "--readme" {
            options.readme_only = true;
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_string(), Some(value.to_string())),
            None => (arg.clone(), None),
        };
        let value = inline
            .or_else(|| args.next())
            .ok_or_else(|| format!("`{flag}` needs a value"))?;
        words.extend([flag.clone(), value.clone()]);
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("`{flag}` needs a number (got `{value}`)"))
        };
        match flag.as_str() {
            "--file" => options.files.push(value.clone()),
            "--sample" => options.sample = Some(number()? as usize),
            "--seed" => seed = Some(number()?),
            _ => return Err(format!("unknown option `{flag}`")),
        }
    }
    if seed.is_some() && options.sample.is_none() {
        return Err("`--seed` chooses a `--sample`; give both".into());
    }
    if options.readme_only && words.len() > 1 {
        return Err("`--readme` runs nothing: it takes no other option".into());
    }
    options.seed = seed.unwrap_or(1);
    options.command = words.join(" ");
    Ok(options)
}

/// `cargo xtask mutants`.
pub fn run(options: &Options) -> ExitCode {
    if options.readme_only {
        return match write_readme(&describe(options, Vec::new())) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => failed(&e),
        };
    }
    if !present("cargo-mutants") {
        eprintln!("error: cargo-mutants is missing: run `cargo xtask setup`");
        return ExitCode::FAILURE;
    }
    let scopes: Vec<(String, Vec<String>)> = match options.files.is_empty() {
        true => MODULES
            .iter()
            .map(|(name, globs)| {
                (
                    name.to_string(),
                    globs.iter().map(|g| g.to_string()).collect(),
                )
            })
            .collect(),
        false => vec![(options.files.join(", "), options.files.clone())],
    };
    let mut done = Vec::new();
    for (name, globs) in scopes {
        let start = Instant::now();
        let chosen = match choose(&globs, options.sample.map(|n| (n, options.seed))) {
            Ok(chosen) => chosen,
            Err(e) => return failed(&e),
        };
        let note = chosen.is_empty().then(|| NO_MUTANTS.to_string());
        let outcomes = match chosen.is_empty() {
            true => Outcomes::default(),
            false => match mutate(
                &globs,
                options.sample.is_some().then_some(&chosen[..]),
                &output_dir(&name),
            ) {
                Ok(outcomes) => outcomes,
                Err(e) => return failed(&format!("{name}: {e}")),
            },
        };
        let scope = Scope {
            module: whole_module(&globs, options.sample.is_some()),
            name,
            outcomes,
            elapsed: start.elapsed(),
            note,
        };
        // Recorded as each module ends, so that a long run stopped part-way keeps what it
        // found.
        if let Err(e) = record(&scope) {
            return failed(&e);
        }
        done.push(scope);
    }
    let run = describe(options, done);
    let report = summary::render(&run);
    print!("\n{report}");
    match write_report(&report).and_then(|()| write_readme(&run)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => failed(&e),
    }
}

/// The facts of a run of `options` whose scopes ended as `scopes`.
fn describe(options: &Options, scopes: Vec<Scope>) -> summary::Run {
    summary::Run {
        date: bench::today(),
        command: options.command.clone(),
        tool: CARGO_MUTANTS,
        known: known_survivors(),
        model_sequences: MODEL_SEQUENCES,
        model_seed: MODEL_SEED,
        scopes,
    }
}

/// The module whose files are exactly `globs`, if a run over them is a whole module's (not
/// a sample).
fn whole_module(globs: &[String], sampled: bool) -> Option<&'static str> {
    MODULES
        .iter()
        .find(|(_, module_globs)| !sampled && *module_globs == globs)
        .map(|(name, _)| *name)
}

/// The results file's entries (missing: none yet).
fn read_results() -> Result<Vec<results::Entry>, String> {
    let path = workspace_root().join(RESULTS);
    match fs::read_to_string(&path) {
        Ok(text) => results::parse(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Replaces the module's entry in the results file with `scope`'s, if it is a whole
/// module's run.
fn record(scope: &Scope) -> Result<(), String> {
    let Some(module) = scope.module else {
        return Ok(());
    };
    let mut entry = results::Entry::of_run(
        module,
        &bench::today(),
        JUDGED_BY,
        scope.elapsed.as_secs(),
        &scope.outcomes,
    );
    entry.notes.extend(scope.note.clone());
    let entries = results::replace(read_results()?, entry);
    let path = workspace_root().join(RESULTS);
    fs::write(&path, results::render(&entries))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The README's section, one row per module from the results file.
fn write_readme(run: &summary::Run) -> Result<(), String> {
    let names: Vec<&str> = MODULES.iter().map(|(name, _)| *name).collect();
    let section = summary::modules(&names, &read_results()?, run);
    let readme = workspace_root().join("README.md");
    readme::replace_section(&readme, README_START, README_END, &section)?;
    println!("mutants: wrote the README's section from {RESULTS}");
    Ok(())
}

fn failed(message: &str) -> ExitCode {
    eprintln!("mutants: {message}");
    ExitCode::FAILURE
}

/// `xtask/mutants/last-run.md`.
fn write_report(report: &str) -> Result<(), String> {
    let path = workspace_root().join("xtask/mutants/last-run.md");
    fs::write(&path, report).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("mutants: wrote {}", path.display());
    Ok(())
}

/// Where cargo-mutants writes its `mutants.out/` for a scope.
fn output_dir(scope: &str) -> PathBuf {
    let slug: String = scope
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    workspace_root().join("target/mutants").join(slug)
}

/// `cargo mutants` over the files of `globs`, with this project's settings.
fn cargo_mutants(globs: &[String]) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(workspace_root())
        .arg("mutants")
        // Flags from the caller's environment would change what is built (as in the lanes).
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("MMAN_MODEL_SEQUENCES", MODEL_SEQUENCES)
        .env("MMAN_MODEL_SEED", MODEL_SEED);
    for glob in globs {
        cmd.args(["--file", glob]);
    }
    cmd
}

/// The names of the mutants of `globs` that a run covers: all of them, or a sample
/// `(n, seed)`.
fn choose(globs: &[String], sample: Option<(usize, u64)>) -> Result<Vec<String>, String> {
    let mut cmd = cargo_mutants(globs);
    cmd.arg("--list")
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start {}: {e}", run::describe(&cmd)))?;
    if !out.status.success() {
        return Err(format!("`{}` failed ({})", run::describe(&cmd), out.status));
    }
    let all: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect();
    Ok(match sample {
        Some((n, seed)) => sample::choose(&all, n, seed),
        None => all,
    })
}

/// Runs cargo-mutants over `globs` (only on the mutants `sample`, if given), writing its
/// `mutants.out/` under `out`; what became of each mutant.
fn mutate(globs: &[String], sample: Option<&[String]>, out: &Path) -> Result<Outcomes, String> {
    // A previous run's lists must not count for this one; cargo-mutants wants `out` to exist.
    let _ = fs::remove_dir_all(out.join("mutants.out"));
    fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let mut cmd = cargo_mutants(globs);
    cmd.args(["--jobs", "1", "--no-shuffle", "--colors", "never"])
        .args(["--minimum-test-timeout", MINIMUM_TEST_TIMEOUT])
        .args(["--build-timeout", BUILD_TIMEOUT])
        .arg("--output")
        .arg(out);
    if let Some(sample) = sample {
        cmd.arg("--re").arg(sample::exactly(sample));
    }
    // cargo-mutants' exit status: 0 every mutant killed, 2 some survived, 3 some timed out;
    // 4 the tests fail without any mutant, 1 a usage error.
    let (ending, _) = run::run_program(&mut cmd);
    match ending {
        Some(Ending::Exit(0 | 2 | 3)) => {}
        Some(Ending::Exit(4)) => return Err("the tests fail without any mutant".into()),
        Some(ending) => return Err(format!("cargo mutants {ending}")),
        None => return Err("cargo mutants did not run".into()),
    }
    let outcomes = Outcomes::read(out);
    if let Some(sample) = sample.filter(|sample| sample.len() != outcomes.tried()) {
        return Err(format!(
            "{} mutants chosen, but cargo-mutants reports {}",
            sample.len(),
            outcomes.tried()
        ));
    }
    Ok(outcomes)
}

/// The known-survivors file, read (missing: none are known).
fn known_survivors() -> Vec<known::Known> {
    known::parse(&fs::read_to_string(workspace_root().join(KNOWN_SURVIVORS)).unwrap_or_default())
}

/// The host lane's step: a fixed sample of `src/mapping`'s mutants must all be killed.
pub fn smoke(s: &mut Session) {
    if !present("cargo-mutants") {
        s.fail("missing cargo-mutants: run `cargo xtask setup`".into());
        return;
    }
    let (name, globs) = MODULES[0];
    let globs: Vec<String> = globs.iter().map(|g| g.to_string()).collect();
    // Known survivors are dropped from the sample rather than from the list it is drawn
    // from, so that listing one does not re-draw the rest.
    let known = known_survivors();
    let mut left_out = 0;
    let result = choose(&globs, Some((SMOKE_SAMPLE, SMOKE_SEED))).and_then(|mut chosen| {
        chosen.retain(|mutant| known::reason(&known, &without_position(mutant)).is_none());
        left_out = SMOKE_SAMPLE - chosen.len();
        match chosen.is_empty() {
            true => Err(format!("{name} has no mutants to sample")),
            false => mutate(&globs, Some(&chosen), &output_dir("smoke")),
        }
    });
    let outcomes = match result {
        Ok(outcomes) => outcomes,
        Err(e) => return s.fail(format!("mutants of {name}: {e}")),
    };
    s.note(format!(
        "mutants: {} of {name} (seed {SMOKE_SEED}; {left_out} known survivors drawn and left \
         out): {} killed, {} survived, {} timed out, {} unviable",
        plural(outcomes.tried(), "mutant"),
        outcomes.killed.len(),
        outcomes.survived.len(),
        outcomes.timed_out.len(),
        outcomes.unviable.len()
    ));
    if !outcomes.survived.is_empty() {
        s.fail(format!(
            "mutants of {name} that every test survives (write a test that kills each, or \
             list it in {KNOWN_SURVIVORS} with the reason): {}",
            outcomes.survived.join("; ")
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> impl Iterator<Item = String> {
        words
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn readme_alone_runs_nothing() {
        assert!(parse(args(&["--readme"])).unwrap().readme_only);
        assert!(parse(args(&["--readme", "--file", "src/ring/**"])).is_err());
        assert!(!parse(args(&["--file", "src/ring/**"])).unwrap().readme_only);
    }

    #[test]
    fn only_a_whole_module_is_recorded() {
        let globs = |g: &[&str]| g.iter().map(|g| g.to_string()).collect::<Vec<_>>();
        assert_eq!(
            whole_module(&globs(&["src/reservation/**"]), false),
            Some("src/reservation")
        );
        assert_eq!(whole_module(&globs(&["src/reservation/**"]), true), None);
        assert_eq!(whole_module(&globs(&["src/ring/mod.rs"]), false), None);
        assert_eq!(
            whole_module(&globs(&["src/../arch/**"]), false),
            Some("arch")
        );
    }
}
