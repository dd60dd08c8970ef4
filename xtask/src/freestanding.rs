//! Freestanding examples: `#![no_main]`, no libc, their own `_start`.
//!
//! Cargo builds each one as a static library (`crate-type = ["staticlib"]`
//! in its `[[example]]` section), so that `cargo test` and clippy handle it
//! with no special linker flags. Here the library is linked into a static
//! executable with no C runtime at all, stripped to report its size, and
//! run; it must exit with status 0.

use std::fs;
use std::process::Command;

use crate::lanes::Session;

pub fn check(s: &mut Session, name: &str) {
    // The release profile aborts on panic: there is no unwinder to link.
    if !s.cargo(
        "build",
        &["--release", "--example", name, "--no-default-features"],
    ) {
        return;
    }
    let dir = s.toolchain.examples_dir("release");
    let archive = dir.join(format!("lib{name}.a"));
    if !archive.exists() {
        s.fail(format!(
            "example {name} is `#![no_main]` but cargo built no {}: give it \
             `crate-type = [\"staticlib\"]` in an `[[example]]` section",
            archive.display()
        ));
        return;
    }
    let binary = dir.join(name);
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
        .arg(&binary)
        .arg(&archive);
    if !s.step(&format!("link example {name}"), link) {
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
