//! The executables a cargo build reports, read from its `--message-format=json` output.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// An executable that cargo reports having built.
pub struct Executable {
    /// The name of the cargo target it was built from.
    pub target: String,
    /// Built with libtest's harness (`cargo test`), rather than as a program.
    pub test_harness: bool,
    pub path: PathBuf,
}

/// Runs a cargo build whose stdout is `--message-format=json...` and
/// returns the executables it reports. Cargo's progress and errors still
/// go to the terminal.
pub fn executables(mut cmd: Command) -> Result<Vec<Executable>, String> {
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
