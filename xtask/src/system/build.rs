//! Building what the virtual machine runs: the test programs, the ordinary
//! examples and `/init`, all linked statically (the initramfs has no C
//! library to load), and cargo's report of where it put them.

use std::path::PathBuf;

use crate::artifacts::executables;
use crate::suite;
use crate::toolchain::Toolchain;
use crate::workspace_root;

use super::protocol::{EXAMPLES_DIR, TESTS_DIR};
use super::Profile;

/// An executable to pack, and where it goes in the initramfs.
pub struct Program {
    /// `tests/NAME` or `examples/NAME`: its path in the initramfs, and the
    /// name init reports it under.
    pub name: String,
    pub binary: PathBuf,
}

impl Program {
    /// A libtest program (under `tests/`), rather than an example.
    pub fn is_test(&self) -> bool {
        self.name.starts_with(&format!("{TESTS_DIR}/"))
    }
}

/// Every libtest program (the library's unit tests and each integration
/// test), and each example named, built with `profile`.
pub fn programs(
    toolchain: &Toolchain,
    examples: &[String],
    profile: Profile,
) -> Result<Vec<Program>, String> {
    let release: &[&str] = match profile {
        Profile::Debug => &[],
        Profile::Release => &["--release"],
    };
    let mut built = suite::build(toolchain, &[&["--all-features"], release].concat())?;
    if !examples.is_empty() {
        let mut args = vec!["--all-features", "--message-format=json-render-diagnostics"];
        args.extend(release);
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
