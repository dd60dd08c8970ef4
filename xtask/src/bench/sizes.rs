//! The size of `examples/freestanding.rs` (mman, no libc), static and stripped, next to the
//! same program in C (`xtask/bench/c/freestanding.c`) linked statically with musl and with
//! glibc. Each program is run once too: a size means nothing for a program that fails.

use std::fs;
use std::path::Path;
use std::process::Command;

use super::{cargo, exec};
use crate::{run, workspace_root};

/// Where Debian's musl-tools puts its gcc wrapper.
const MUSL_GCC: &str = "/usr/bin/musl-gcc";

pub struct Size {
    pub program: &'static str,
    /// The compiler or linker and its flags, for the README's table.
    pub how: String,
    /// How it was built, as commands a person can repeat.
    pub build: String,
    /// Bytes of the stripped executable, or why there is none.
    pub bytes: Result<u64, String>,
}

pub fn measure(dir: &Path) -> Result<Vec<Size>, String> {
    Ok(vec![
        rust_program(dir)?,
        c_program(dir, "C, musl", "musl-gcc", ensure_musl()),
        c_program(dir, "C, glibc", "gcc", Ok(())),
    ])
}

/// The example as a static library, linked with no C runtime at all, as the README shows
/// (the test lanes add flags that trim padding; here every program gets the linker's
/// default layout, so that the comparison is fair).
fn rust_program(dir: &Path) -> Result<Size, String> {
    let mut build = cargo(dir);
    build.args([
        "build",
        "--release",
        "--package",
        "mman",
        "--example",
        "freestanding",
    ]);
    // The library without std: the example has no libc to offer it.
    build.arg("--no-default-features");
    let commands = run::describe(&build);
    exec(build)?;
    let binary = dir.join("freestanding-mman");
    let mut link = Command::new("cc");
    link.args([
        "-nostdlib",
        "-static",
        "-Wl,-u,_start",
        "-Wl,--gc-sections",
        "-o",
    ])
    .arg(&binary)
    .arg(dir.join("release/examples/libfreestanding.a"));
    let mut strip = Command::new("strip");
    strip.arg(&binary);
    let how = format!("{}; strip", flags(&link));
    let build = [commands, run::describe(&link), run::describe(&strip)].join(" && ");
    exec(link)?;
    exec(strip)?;
    Ok(Size {
        program: "Rust, mman, no libc (examples/freestanding.rs)",
        how,
        build,
        bytes: run_and_measure(&binary),
    })
}

/// `xtask/bench/c/freestanding.c`, static, optimised, stripped by the linker (`-s`);
/// `ready` says whether the compiler is there.
fn c_program(dir: &Path, program: &'static str, compiler: &str, ready: Result<(), String>) -> Size {
    let binary = dir.join(format!("freestanding-{compiler}"));
    let mut compile = Command::new(compiler);
    compile
        .args(["-static", "-O2", "-s", "-o"])
        .arg(&binary)
        .arg(workspace_root().join("xtask/bench/c/freestanding.c"));
    Size {
        program,
        how: flags(&compile),
        build: run::describe(&compile),
        bytes: ready
            .and_then(|()| exec(compile))
            .and_then(|()| run_and_measure(&binary)),
    }
}

/// The program and its flags, without `-o` and the paths.
fn flags(cmd: &Command) -> String {
    let args = cmd.get_args().map(|arg| arg.to_string_lossy());
    let flags = args.filter(|arg| arg != "-o" && !arg.starts_with('/'));
    let program = cmd.get_program().to_string_lossy();
    std::iter::once(program)
        .chain(flags)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs the program (it must print its message and exit 0), then takes its size.
fn run_and_measure(binary: &Path) -> Result<u64, String> {
    exec(Command::new(binary))?;
    fs::metadata(binary)
        .map(|meta| meta.len())
        .map_err(|e| format!("cannot stat {}: {e}", binary.display()))
}

/// Installs Debian's musl-tools if musl-gcc is missing: with apt-get as root, refreshing
/// apt's lists only if the first attempt fails. Anyone else is told what to run.
fn ensure_musl() -> Result<(), String> {
    if Path::new(MUSL_GCC).exists() {
        return Ok(());
    }
    eprintln!("bench: {MUSL_GCC} is missing; installing musl-tools");
    let apt_get = |args: &[&str]| {
        let mut cmd = Command::new("apt-get");
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        exec(cmd)
    };
    let install = || apt_get(&["install", "-y", "--no-install-recommends", "musl-tools"]);
    install()
        .or_else(|_| apt_get(&["update"]).and_then(|()| install()))
        .map_err(|_| format!("{MUSL_GCC} missing; as root: apt-get install musl-tools"))
}
