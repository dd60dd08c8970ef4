//! Freestanding examples: `#![no_main]`, no libc, their own `_start`.
//!
//! Each one is an `rlib` in its `[[example]]` section, so that `cargo test`
//! (whose test profile always unwinds, which a `no_std` final artifact cannot)
//! and clippy build it with no special flags. Here `cargo rustc --crate-type
//! staticlib` builds it as a static library with the release profile (which
//! aborts on panic), which is linked into a static executable with no C
//! runtime at all, stripped to report its size, and run; it must exit with
//! status 0.
//!
//! First, the same example is built with `--cfg mman_panic_check`, which
//! gives it a panic handler that calls a symbol defined nowhere: if any
//! panic path survives optimisation, in the example or in the parts of mman
//! it uses, that link fails.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::lanes::Session;

/// `cargo rustc` arguments that build example `name` as a static library without std.
fn static_library(name: &str) -> [&str; 6] {
    [
        "--release",
        "--example",
        name,
        "--no-default-features",
        "--crate-type",
        "staticlib",
    ]
}

pub fn check(s: &mut Session, name: &str) {
    let dir = s.toolchain.examples_dir("release");
    let archive = dir.join(format!("lib{name}.a"));

    let mut build = s.toolchain.cargo("rustc", &static_library(name));
    build.env("RUSTFLAGS", "--cfg mman_panic_check");
    if !s.step(
        &format!("build example {name} with --cfg mman_panic_check"),
        build,
    ) {
        return;
    }
    let checked = dir.join(format!("{name}.panic-check"));
    if link(
        s,
        &archive,
        &checked,
        &format!("link example {name} with --cfg mman_panic_check"),
    ) {
        s.note(format!(
            "example {name}: no reachable panic (linked without a panic implementation)"
        ));
    } else {
        s.fail(format!("example {name}: a panic is reachable (see the undefined `mman_panic_is_reachable` above)"));
    }

    // The release profile aborts on panic: there is no unwinder to link.
    if !s.cargo("rustc", &static_library(name)) {
        return;
    }
    if !archive.exists() {
        s.fail(format!(
            "example {name} is `#![no_main]` but cargo built no {}: give it \
             `crate-type = [\"rlib\"]` in an `[[example]]` section",
            archive.display()
        ));
        return;
    }
    let binary = dir.join(name);
    if !link(s, &archive, &binary, &format!("link example {name}")) {
        return;
    }

    let stripped = dir.join(format!("{name}.stripped"));
    let mut strip = Command::new(s.toolchain.arch.gnu_tool("strip"));
    strip.arg(&binary).arg("-o").arg(&stripped);
    if s.step(&format!("strip example {name}"), strip) {
        match fs::metadata(&stripped) {
            Ok(meta) => s.note(format!("example {name}: {} bytes stripped", meta.len())),
            Err(e) => s.fail(format!("cannot stat {}: {e}", stripped.display())),
        }
    }
    let run = s.toolchain.execute(&binary);
    s.step(&format!("run example {name}"), run);
}

/// Links `archive` into a static executable with no C runtime at all.
fn link(s: &mut Session, archive: &Path, binary: &Path, label: &str) -> bool {
    let mut link = Command::new(s.toolchain.arch.gnu_tool("gcc"));
    link.args(["-nostdlib", "-static", "-no-pie", "-Wl,--gc-sections"])
        // Without these, padding dwarfs the program in the reported size:
        // x86_64's ld gives code pages of its own, aarch64's aligns segments
        // in the file for 64 KiB pages (the kernels here use 4 KiB), and
        // RELRO pads to a page boundary although with no dynamic loader or
        // libc start code nothing would ever apply it.
        .args([
            "-Wl,-z,noseparate-code",
            "-Wl,-z,max-page-size=4096",
            "-Wl,-z,norelro",
        ])
        // Nothing refers to `_start` but the ELF header: make the linker
        // take it (and what it reaches) from the archive.
        .arg("-Wl,--undefined=_start")
        .arg("-o")
        .arg(binary)
        .arg(archive);
    s.step(label, link)
}
