//! Building what the virtual machine runs: the test programs, the ordinary
//! examples and `/init`, all linked statically (the initramfs has no C
//! library to load), and cargo's report of where it put them.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::toolchain::Toolchain;
use crate::workspace_root;

use super::protocol::{EXAMPLES_DIR, TESTS_DIR};

/// An executable to pack, and where it goes in the initramfs.
pub struct Program {
    /// `tests/NAME` or `examples/NAME`: its path in the initramfs, and the
    /// name init reports it under.
    pub name: String,
    pub binary: PathBuf,
}

/// Every libtest program (the library's unit tests and each integration
/// test), and each example named.
pub fn programs(toolchain: &Toolchain, examples: &[String]) -> Result<Vec<Program>, String> {
    let mut built = executables(toolchain.cargo(
        "test",
        &[
            "--no-run",
            "--all-features",
            "--tests",
            "--message-format=json-render-diagnostics",
        ],
    ))?;
    if !examples.is_empty() {
        let mut args = vec!["--all-features", "--message-format=json-render-diagnostics"];
        for name in examples {
            args.extend(["--example", name]);
        }
        built.extend(executables(toolchain.cargo("build", &args))?);
    }
    let programs = built.into_iter().map(|executable| {
        let dir = if executable.test_harness {
            TESTS_DIR
        } else {
            EXAMPLES_DIR
        };
        Program {
            name: format!("{dir}/{}", executable.target),
            binary: executable.path,
        }
    });
    Ok(programs.collect())
}

/// `/init`, built from the `xtask/init` crate.
pub fn init(toolchain: &Toolchain) -> Result<PathBuf, String> {
    let manifest = workspace_root()
        .join("xtask")
        .join("init")
        .join("Cargo.toml");
    let cmd = toolchain.cargo_manifest(
        &manifest,
        "build",
        &["--release", "--message-format=json-render-diagnostics"],
    );
    let mut built = executables(cmd)?;
    match (built.pop(), built.is_empty()) {
        (Some(init), true) => Ok(init.path),
        _ => Err("building xtask/init gave no single executable".into()),
    }
}

/// An executable that cargo reports having built.
struct Executable {
    /// The name of the cargo target it was built from.
    target: String,
    /// Built with libtest's harness (`cargo test`), rather than as a program.
    test_harness: bool,
    path: PathBuf,
}

/// Runs a cargo build whose stdout is `--message-format=json...` and
/// returns the executables it reports. Cargo's progress and errors still
/// go to the terminal.
fn executables(mut cmd: Command) -> Result<Vec<Executable>, String> {
    eprintln!("--> {}", crate::run::describe(&cmd));
    let output = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{} failed ({})",
            crate::run::describe(&cmd),
            output.status
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let executables = stdout
        .lines()
        .filter(|line| line.contains(r#""reason":"compiler-artifact""#))
        .filter_map(|line| {
            Some(Executable {
                // Libraries and build scripts have `"executable":null`.
                path: string_field(line, "executable")?.into(),
                target: string_field(line, "name")?,
                test_harness: line.contains(r#""test":true"#),
            })
        })
        .collect();
    Ok(executables)
}

/// The string value of the first `"key":"..."` in one of cargo's JSON
/// messages (the first `name` is the target's). xtask has no JSON parser
/// (no dependencies); cargo writes these messages compactly, and the
/// values read here are names and paths, which need no `\u` escapes.
fn string_field(json: &str, key: &str) -> Option<String> {
    let opening = format!(r#""{key}":""#);
    let start = json.find(&opening)? + opening.len();
    let mut value = String::new();
    let mut chars = json[start..].chars();
    loop {
        match chars.next()? {
            '"' => return Some(value),
            '\\' => value.push(chars.next()?),
            c => value.push(c),
        }
    }
}
