//! Freestanding examples: `#![no_main]`, no libc, their own `_start`.
//!
//! Each one is an `rlib` in its `[[example]]` section, so that `cargo test`
//! (whose test profile always unwinds, which a `no_std` final artifact cannot)
//! and clippy build it with no special flags. Here `cargo rustc --crate-type
//! staticlib` builds it as a static library with the release profile (which
//! aborts on panic) and the allocator features, which is linked into a static
//! executable with no C runtime at all, stripped to report its size, and run;
//! it must exit with status 0 and print `NAME: ok` last. The system lane packs
//! the same executables into its initramfs.
//!
//! First, an example whose source has a panic handler calling the undefined
//! `mman_panic_is_reachable` is built with `--cfg mman_panic_check`, which
//! selects that handler: if any panic path survives optimisation, in the
//! example or in the parts of mman it uses, that link fails.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::examples::Example;
use crate::lanes::Session;
use crate::toolchain::Toolchain;

/// `cargo rustc` arguments that build example `name` as a static library without std,
/// with the allocators (`freestanding` calls them directly, `freestanding_alloc` is their
/// `#[global_allocator]`).
fn static_library(name: &str) -> [&str; 8] {
    [
        "--release",
        "--example",
        name,
        "--no-default-features",
        "--features",
        "dlmalloc",
        "--crate-type",
        "staticlib",
    ]
}

pub fn check(s: &mut Session, example: &Example) {
    let name = example.name.as_str();
    if example.panic_checked {
        panic_check(s, name);
    } else {
        s.note(format!(
            "example {name}: not built with --cfg mman_panic_check (its collections have \
             panic paths of their own; the allocator code it uses is checked in the others)"
        ));
    }
    let binary = match binary(&s.toolchain, name) {
        Ok(binary) => binary,
        Err(failure) => return s.fail(failure),
    };
    let stripped = binary.with_extension("stripped");
    let mut strip = Command::new(s.toolchain.arch.gnu_tool("strip"));
    strip.arg(&binary).arg("-o").arg(&stripped);
    if s.step(&format!("strip example {name}"), strip) {
        match fs::metadata(&stripped) {
            Ok(meta) => s.note(format!("example {name}: {} bytes stripped", meta.len())),
            Err(e) => s.fail(format!("cannot stat {}: {e}", stripped.display())),
        }
    }
    if let Err(failure) = run(&s.toolchain, &binary, name) {
        s.fail(failure);
    }
}

/// Builds the example with `--cfg mman_panic_check` and links it: the link fails if any
/// panic path survives optimisation, in the example or in the parts of mman it uses.
fn panic_check(s: &mut Session, name: &str) {
    let dir = s.toolchain.examples_dir("release");
    // After `--`: for the example alone, so mman (and a std built from source) are the
    // same as in the ordinary build and are not built again.
    let mut args = static_library(name).to_vec();
    args.extend(["--", "--cfg", "mman_panic_check"]);
    let build = s.toolchain.cargo("rustc", &args);
    if !s.step(
        &format!("build example {name} with --cfg mman_panic_check"),
        build,
    ) {
        return;
    }
    let checked = dir.join(format!("{name}.panic-check"));
    let archive = dir.join(format!("lib{name}.a"));
    if s.step(
        &format!("link example {name} with --cfg mman_panic_check"),
        link(&s.toolchain, &archive, &checked),
    ) {
        s.note(format!(
            "example {name}: no reachable panic (linked without a panic implementation)"
        ));
    } else {
        s.fail(format!("example {name}: a panic is reachable (see the undefined `mman_panic_is_reachable` above)"));
    }
}

/// Builds freestanding example `name` as a static library (the release profile aborts on
/// panic: there is no unwinder to link) and links it into a static executable with no C
/// runtime: its path. Also used by the system lane, which packs it into its initramfs.
pub fn binary(toolchain: &Toolchain, name: &str) -> Result<PathBuf, String> {
    let dir = toolchain.examples_dir("release");
    let archive = dir.join(format!("lib{name}.a"));
    if !crate::run::run(&mut toolchain.cargo("rustc", &static_library(name))) {
        return Err(format!("build example {name} as a static library"));
    }
    if !archive.exists() {
        return Err(format!(
            "example {name} is `#![no_main]` but cargo built no {}: give it \
             `crate-type = [\"rlib\"]` in an `[[example]]` section",
            archive.display()
        ));
    }
    let binary = dir.join(name);
    if !crate::run::run(&mut link(toolchain, &archive, &binary)) {
        return Err(format!("link example {name}"));
    }
    Ok(binary)
}

/// Runs the example: it must exit with status 0 and print `NAME: ok` as its last line.
fn run(toolchain: &Toolchain, binary: &Path, name: &str) -> Result<(), String> {
    let mut run = toolchain.execute(binary);
    eprintln!("--> run example {name}");
    let output = run
        .output()
        .map_err(|e| format!("cannot run example {name}: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprint!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    let last = stdout.lines().last().unwrap_or("");
    if !output.status.success() {
        Err(format!("run example {name}: {}", output.status))
    } else if last != format!("{name}: ok") {
        Err(format!(
            "run example {name}: its last line is {last:?}, not \"{name}: ok\""
        ))
    } else {
        Ok(())
    }
}

/// The command that links `archive` into a static executable with no C runtime at all.
fn link(toolchain: &Toolchain, archive: &Path, binary: &Path) -> Command {
    let mut link = Command::new(toolchain.arch.gnu_tool("gcc"));
    link.args(["-nostdlib", "-static", "-no-pie", "-Wl,--gc-sections"])
        // Without these, padding dwarfs the program in the reported size:
        // x86_64's ld gives code pages of its own, aarch64's aligns segments
        // in the file for 64 KiB pages (the kernels here use 4 KiB; the
        // largest page an arch's kernels use is its `max_page_size`), and
        // RELRO pads to a page boundary although with no dynamic loader or
        // libc start code nothing would ever apply it.
        .args(["-Wl,-z,noseparate-code", "-Wl,-z,norelro"])
        .arg(format!(
            "-Wl,-z,max-page-size={}",
            toolchain.arch.max_page_size()
        ))
        // Nothing refers to `_start` but the ELF header: make the linker
        // take it (and what it reaches) from the archive.
        .arg("-Wl,--undefined=_start")
        .arg("-o")
        .arg(binary)
        .arg(archive);
    link
}
