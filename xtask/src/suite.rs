//! The test suite, program by program. Cargo builds every libtest program (the library's unit
//! tests and one per file in `tests/`); the lane then lists each program's tests (`--list`),
//! runs it and judges its output (`libtest`), then runs the doc tests through cargo.
//!
//! Running the programs here rather than through `cargo test` is what lets a lane know what
//! must run: a program that is not built, that dies, or that runs fewer tests than it lists
//! fails the lane by name, and its unfinished tests count as failed.

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::artifacts::{executables, Executable};
use crate::lanes::Session;
use crate::libtest::{self, Ending};
use crate::report::Tally;
use crate::run;
use crate::toolchain::Toolchain;
use crate::workspace_root;

/// How long one test program may run. The slowest, the model tests, stop themselves after
/// 75 s even on emulated CPUs; a program still running after this hangs.
const PROGRAM_TIME_LIMIT: Duration = Duration::from_secs(10 * 60);

/// The cargo target name of the library's unit tests.
const LIB: &str = "mman";

/// The libtest programs the package must build, by cargo target name: the library's unit
/// tests and one per `tests/NAME.rs` or `tests/NAME/main.rs` (cargo's automatic targets;
/// `tests/common/` is a module the others include, not a program).
pub fn expected() -> Vec<String> {
    let mut names = vec![LIB.to_string()];
    if let Ok(dir) = fs::read_dir(workspace_root().join("tests")) {
        for entry in dir.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".rs") {
                names.push(stem.to_string());
            } else if entry.path().join("main.rs").is_file() {
                names.push(name);
            }
        }
    }
    names.sort();
    names
}

/// Builds every libtest program with `features` (not the doc tests, which rustdoc builds
/// as it runs them); an error if none, or not every expected one, was built.
pub fn build(toolchain: &Toolchain, features: &[&str]) -> Result<Vec<Executable>, String> {
    let mut args = vec![
        "--no-run",
        "--tests",
        "--message-format=json-render-diagnostics",
    ];
    args.extend(features);
    let built: Vec<Executable> = executables(toolchain.cargo("test", &args))?
        .into_iter()
        .filter(|e| e.test_harness)
        .collect();
    check_built(&expected(), &built)?;
    Ok(built)
}

/// An error naming the expected programs that were not built, or saying none was.
fn check_built(expected: &[String], built: &[Executable]) -> Result<(), String> {
    if built.is_empty() {
        return Err("found no test programs".into());
    }
    let missing: Vec<&str> = expected
        .iter()
        .filter(|name| !built.iter().any(|e| &e.target == *name))
        .map(String::as_str)
        .collect();
    match missing[..] {
        [] => Ok(()),
        _ => Err(format!(
            "expected {} test programs, but none was built for: {}",
            expected.len(),
            missing.join(", ")
        )),
    }
}

/// The tests `binary` lists with `--list`, run as the lane runs its tests.
pub fn list(toolchain: &Toolchain, binary: &Path) -> Result<Vec<String>, String> {
    let mut cmd = toolchain.execute(binary);
    cmd.arg("--list")
        .current_dir(workspace_root())
        .stdin(Stdio::null());
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start {}: {e}", run::describe(&cmd)))?;
    if !out.status.success() {
        return Err(format!("`{}` failed ({})", run::describe(&cmd), out.status));
    }
    Ok(libtest::parse_list(&String::from_utf8_lossy(&out.stdout)))
}

/// One run of the whole suite with `features` (`label` names it in the summary): every
/// libtest program, listed, run and judged, then the doc tests.
pub fn run(s: &mut Session, label: &str, features: &[&str]) {
    let mut tally = Tally::default();
    let mut problems = Vec::new();
    let mut listed_tests = 0;
    match build(&s.toolchain, features) {
        Ok(programs) => {
            for program in &programs {
                let name = format!("{} ({label})", program.target);
                let listed = match list(&s.toolchain, &program.path) {
                    Ok(listed) => {
                        listed_tests += listed.len();
                        Some(listed)
                    }
                    Err(e) => {
                        problems.push(format!("{name}: cannot list its tests: {e}"));
                        None
                    }
                };
                let mut cmd = s.toolchain.execute(&program.path);
                cmd.current_dir(workspace_root());
                if s.toolchain.forks_unsafely() {
                    // The tests fork children (to watch them die of signals, to check
                    // leaks alone): one test at a time, so that no other thread is inside
                    // QEMU when one does.
                    cmd.arg("--test-threads=1");
                }
                let (ending, output) = run::run_test_program(&mut cmd, PROGRAM_TIME_LIMIT);
                let ending = ending.unwrap_or(Ending::Unfinished);
                let (counts, problem) = libtest::judge(&name, listed.as_deref(), &output, ending);
                tally.add(counts);
                problems.extend(problem);
            }
            if listed_tests == 0 {
                problems.push(format!("test programs ({label}): none lists a test"));
            }
        }
        Err(e) => problems.push(format!("test programs ({label}): {e}")),
    }
    let programs = tally.programs;
    let mut doc = vec!["--doc"];
    doc.extend(features);
    let (ending, output) = run::run_program(&mut s.toolchain.cargo("test", &doc));
    let name = format!("doc tests ({label})");
    let ending = ending.unwrap_or(Ending::Unfinished);
    let (counts, problem) = libtest::judge(&name, None, &output, ending);
    tally.add(counts);
    problems.extend(problem);

    s.note(format!(
        "suite run ({label}): {} listing {} + doc tests: {} passed, {} failed, {} skipped",
        libtest::plural(programs as usize, "test program"),
        libtest::plural(listed_tests, "test"),
        tally.passed,
        tally.failed,
        tally.skipped()
    ));
    s.suite_ran(tally);
    for problem in problems {
        s.fail(problem);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn built(names: &[&str]) -> Vec<Executable> {
        names
            .iter()
            .map(|name| Executable {
                target: name.to_string(),
                test_harness: true,
                path: PathBuf::from(name),
            })
            .collect()
    }

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn a_missing_test_program_fails_the_lane_by_name() {
        let expected = names(&["leaks", "mapping", "mman"]);
        let error = check_built(&expected, &built(&["mman", "mapping"])).unwrap_err();
        assert_eq!(
            error,
            "expected 3 test programs, but none was built for: leaks"
        );
    }

    #[test]
    fn no_test_programs_fail_the_lane() {
        let error = check_built(&names(&["mman"]), &[]).unwrap_err();
        assert_eq!(error, "found no test programs");
    }

    #[test]
    fn every_expected_program_built_is_fine() {
        let expected = names(&["mapping", "mman"]);
        assert_eq!(check_built(&expected, &built(&["mapping", "mman"])), Ok(()));
    }

    #[test]
    fn the_package_expects_its_unit_tests_and_each_integration_test() {
        let expected = expected();
        assert!(expected.contains(&LIB.to_string()));
        assert!(expected.contains(&"mapping".to_string()), "{expected:?}");
        assert!(!expected.contains(&"common".to_string()), "{expected:?}");
    }
}
