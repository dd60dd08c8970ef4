//! Sizes of static, stripped programs that map a page, write a message into it, print it,
//! unmap it and exit: with mman and no libc (`xtask/bench/freestanding/`), and in C
//! (`xtask/bench/c/freestanding.c`) with musl and with glibc. `examples/freestanding.rs`,
//! which began as that program and now also exercises the whole safe layer, is measured
//! beside them.
//!
//! Each is linked twice: with the linker's default layout, and packed (`PACKED`), because
//! at these sizes the default layout is mostly padding between segments. Each executable
//! is run once too: a size means nothing for a program that fails.

use std::fs;
use std::path::Path;
use std::process::Command;

use super::{cargo, exec};
use crate::{run, workspace_root};

/// Linker flags that drop the padding: x86_64's ld gives code pages of their own, aarch64's
/// aligns segments in the file for 64 KiB pages, and RELRO pads to a page boundary that
/// nothing applies without a dynamic loader. The test lanes link the example so too.
pub const PACKED: [&str; 3] = [
    "-Wl,-z,noseparate-code",
    "-Wl,-z,max-page-size=4096",
    "-Wl,-z,norelro",
];

/// Where Debian's musl-tools puts its gcc wrapper.
const MUSL_GCC: &str = "/usr/bin/musl-gcc";

pub struct Size {
    pub program: &'static str,
    /// The compilers or linkers and their flags, for the README's table.
    pub how: String,
    /// How the default-layout executable was built, as commands a person can repeat.
    pub build: String,
    /// Bytes of the stripped executable, or why there is none.
    pub bytes: Result<u64, String>,
    /// The same, linked with `PACKED`.
    pub packed: Result<u64, String>,
}

pub fn measure(dir: &Path) -> Vec<Size> {
    let twin = rust_build(
        dir,
        &["--manifest-path", "xtask/bench/freestanding/Cargo.toml"],
        "libfreestanding_twin.a",
    );
    // The library without std: the example has no libc to offer it.
    let example = rust_build(
        dir,
        &[
            "--package",
            "mman",
            "--example",
            "freestanding",
            "--no-default-features",
        ],
        "examples/libfreestanding.a",
    );
    let c_source = workspace_root().join("xtask/bench/c/freestanding.c");
    vec![
        program(dir, "Rust + mman, no libc", "mman", Ok(()), twin),
        program(
            dir,
            "C + musl",
            "musl",
            ensure_musl(),
            c_compile("musl-gcc", &c_source),
        ),
        program(
            dir,
            "C + glibc",
            "glibc",
            Ok(()),
            c_compile("gcc", &c_source),
        ),
        program(
            dir,
            "examples/freestanding.rs (also exercises the whole safe layer)",
            "example",
            Ok(()),
            example,
        ),
    ]
}

/// The commands that make executable `binary` with the extra linker flags `extra`.
type Recipe = Box<dyn Fn(&Path, &[&str]) -> Vec<Command>>;

/// A static library built by cargo (`cargo_args`; a second build is a no-op), linked with
/// no C runtime at all, then stripped.
fn rust_build(dir: &Path, cargo_args: &'static [&'static str], archive: &str) -> Recipe {
    let dir = dir.to_path_buf();
    let archive = dir.join("release").join(archive);
    Box::new(move |binary, extra| {
        let mut build = cargo(&dir);
        // `rustc`, to ask for a static library: the example is an rlib for `cargo test`.
        build
            .args(["rustc", "--release", "--crate-type", "staticlib"])
            .args(cargo_args);
        let mut link = Command::new("cc");
        link.args(["-nostdlib", "-static", "-Wl,-u,_start", "-Wl,--gc-sections"])
            .args(extra)
            .arg("-o")
            .arg(binary)
            .arg(&archive);
        let mut strip = Command::new("strip");
        strip.arg(binary);
        vec![build, link, strip]
    })
}

/// The C program, static, optimised, stripped by the linker.
fn c_compile(compiler: &'static str, source: &Path) -> Recipe {
    let source = source.to_path_buf();
    Box::new(move |binary, extra| {
        let mut compile = Command::new(compiler);
        compile
            .args(["-static", "-O2", "-s"])
            .args(extra)
            .arg("-o")
            .arg(binary)
            .arg(&source);
        vec![compile]
    })
}

/// Makes and measures one program in both layouts; `ready` says whether its tools are there.
fn program(
    dir: &Path,
    program: &'static str,
    file: &str,
    ready: Result<(), String>,
    recipe: Recipe,
) -> Size {
    let binary = dir.join(format!("freestanding-{file}"));
    let packed = dir.join(format!("freestanding-{file}.packed"));
    let shown = recipe(&binary, &[]);
    let measure = |binary: &Path, extra: &[&str]| {
        ready.clone()?;
        recipe(binary, extra).into_iter().try_for_each(exec)?;
        run_and_measure(binary)
    };
    Size {
        program,
        // The README shows how the compiler or linker was called, not how cargo was.
        how: shown
            .iter()
            .filter(|cmd| cmd.get_program() != "cargo")
            .map(flags)
            .collect::<Vec<_>>()
            .join("; "),
        build: shown
            .iter()
            .map(run::describe)
            .collect::<Vec<_>>()
            .join(" && "),
        bytes: measure(&binary, &[]),
        packed: measure(&packed, &PACKED),
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
