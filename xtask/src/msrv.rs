//! The minimum supported Rust version, proven: Debian bookworm's `rustc-web` 1.85 (an older
//! version beside the 1.96 that `setup` installs) unpacked into `target/msrv/` without
//! replacing any installed compiler, and the host lane's `msrv` step, which builds the
//! library and runs its unit and doc tests with it.
//!
//! Debian's rustc loads its compiler driver and LLVM from the multiarch library directory,
//! so the unpacked tree needs `libllvm19` too and the step sets `LD_LIBRARY_PATH` to it.
//! Cargo is rustup's (any recent cargo drives an older rustc); with `RUSTC` pointing at
//! 1.85 it refuses dependencies whose `rust-version` is newer, which is how the step found
//! that heapless 0.9.2 and later need 1.87 (the crate takes heapless 0.8).

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use crate::lanes::Session;
use crate::workspace_root;

/// The Rust version `Cargo.toml` declares and this step proves.
pub const VERSION: &str = "1.85";
/// The Debian package carrying that compiler (a version of it, in bookworm's main suite).
const RUSTC_PACKAGE: &str = "rustc-web";

/// Where the packages are unpacked (`usr/bin/rustc` inside).
fn root() -> PathBuf {
    workspace_root().join("target").join("msrv")
}

/// Where the step builds, apart from every other target directory.
fn build_dir() -> PathBuf {
    workspace_root().join("target").join("msrv-build")
}

/// The multiarch directory holding `librustc_driver` and `libLLVM`.
fn library_dir() -> PathBuf {
    root()
        .join("usr/lib")
        .join(format!("{}-linux-gnu", std::env::consts::ARCH))
}

/// `rustc` or `rustdoc` of the unpacked compiler.
fn tool(name: &str) -> PathBuf {
    root().join("usr/bin").join(name)
}

/// The unpacked compiler's `release:` line (`1.85.0`), or None if it is missing or broken.
fn unpacked_release() -> Option<String> {
    let out = Command::new(tool("rustc"))
        .arg("-vV")
        .env("LD_LIBRARY_PATH", library_dir())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|line| line.strip_prefix("release: "))
        .map(str::to_string)
}

fn is_unpacked() -> bool {
    unpacked_release().is_some_and(|release| release.starts_with(&format!("{VERSION}.")))
}

/// `cargo xtask setup`'s part: downloads `rustc-web` 1.85 and the libraries it needs
/// (`apt-get download`, no root) and unpacks them into `target/msrv/` (`dpkg-deb -x`).
/// Nothing to do when the compiler there already runs.
pub fn unpack() -> Result<(), String> {
    if is_unpacked() {
        println!(
            "setup: Rust {VERSION} for the msrv step is in {}",
            root().display()
        );
        return Ok(());
    }
    let version = debian_version()?;
    let std_package = format!("libstd-rust-web-{VERSION}");
    let llvm = llvm_dependency(&std_package, &version)?;
    let downloads = root().with_file_name("msrv-debs");
    // A fresh directory, so that only these packages get unpacked.
    let _ = fs::remove_dir_all(&downloads);
    fs::create_dir_all(&downloads).map_err(|e| format!("{}: {e}", downloads.display()))?;
    let wanted = [
        format!("{RUSTC_PACKAGE}={version}"),
        format!("{std_package}={version}"),
        format!("libstd-rust-web-dev={version}"),
        llvm,
    ];
    let mut download = Command::new("apt-get");
    download
        .arg("download")
        .args(&wanted)
        .current_dir(&downloads);
    run_setup_command(download)?;
    let _ = fs::remove_dir_all(root());
    for deb in fs::read_dir(&downloads).map_err(|e| e.to_string())? {
        let deb = deb.map_err(|e| e.to_string())?.path();
        let mut extract = Command::new("dpkg-deb");
        extract.arg("-x").arg(&deb).arg(root());
        run_setup_command(extract)?;
    }
    // Unpacked, the packages are not needed again.
    let _ = fs::remove_dir_all(&downloads);
    match unpacked_release() {
        Some(release) if release.starts_with(&format!("{VERSION}.")) => {
            println!("setup: Rust {release} unpacked into {}", root().display());
            Ok(())
        }
        other => Err(format!(
            "the unpacked rustc in {} does not run as {VERSION} ({other:?})",
            root().display()
        )),
    }
}

/// The version of `rustc-web` that apt offers as 1.85 (bookworm's main suite, beside the
/// newer one from bookworm-security).
fn debian_version() -> Result<String, String> {
    let madison = output("apt-cache", &["madison", RUSTC_PACKAGE])?;
    let prefix = format!("{VERSION}.");
    madison
        .lines()
        .filter_map(|line| line.split('|').nth(1).map(str::trim))
        .find(|version| version.starts_with(&prefix))
        .map(str::to_string)
        .ok_or_else(|| {
            format!("apt offers no {RUSTC_PACKAGE} {VERSION} (`apt-get update` as root first?)")
        })
}

/// The `libllvmN` package the compiler's library depends on.
fn llvm_dependency(std_package: &str, version: &str) -> Result<String, String> {
    let show = output("apt-cache", &["show", &format!("{std_package}={version}")])?;
    let depends = show
        .lines()
        .find_map(|line| line.strip_prefix("Depends:"))
        .unwrap_or("");
    depends
        .split(',')
        .filter_map(|dep| dep.split_whitespace().next())
        .find(|name| name.starts_with("libllvm"))
        .map(str::to_string)
        .ok_or_else(|| format!("{std_package} {version} names no libllvm dependency"))
}

fn output(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`{program} {}` failed ({})",
            args.join(" "),
            out.status
        ))
    }
}

fn run_setup_command(mut cmd: Command) -> Result<(), String> {
    println!("setup: {}", crate::run::describe(&cmd));
    let status = cmd.status().map_err(|e| format!("cannot start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{}` failed ({status})",
            crate::run::describe(&cmd)
        ))
    }
}

/// The host lane's `msrv` step: with Rust 1.85, builds the library with and without `std`
/// and runs its unit and doc tests. (The integration tests are left to the other steps:
/// they test the kernel, not the compiler.)
pub fn step(s: &mut Session) {
    let declared = declared_rust_version();
    if declared.as_deref() != Some(VERSION) {
        s.fail(format!(
            "msrv: Cargo.toml declares rust-version {declared:?}, the msrv step proves {VERSION}"
        ));
        return;
    }
    if !is_unpacked() {
        s.fail(format!(
            "msrv: Rust {VERSION} is not unpacked in {}: run `cargo xtask setup`",
            root().display()
        ));
        return;
    }
    let runs: [(&str, &[&str]); 3] = [
        ("build", &["--lib", "--no-default-features"]),
        ("test", &["--lib", "--all-features"]),
        ("test", &["--doc", "--all-features"]),
    ];
    let mut passed = true;
    for (subcommand, args) in runs {
        let label = format!("msrv: Rust {VERSION} cargo {subcommand} {}", args.join(" "));
        passed &= s.step(&label, cargo(subcommand, args));
    }
    if passed {
        s.note(format!(
            "msrv: Rust {VERSION} builds the library and passes its unit and doc tests"
        ));
    }
}

/// `cargo <subcommand>` of the mman package with the unpacked compiler.
fn cargo(subcommand: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(workspace_root())
        .arg(subcommand)
        .args(["--package", "mman", "--target-dir"])
        .arg(build_dir())
        .args(args)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("RUSTC", tool("rustc"))
        .env("RUSTDOC", tool("rustdoc"))
        .env("LD_LIBRARY_PATH", library_dir());
    cmd
}

/// `rust-version` from the library's `Cargo.toml`.
fn declared_rust_version() -> Option<String> {
    let manifest = fs::read_to_string(workspace_root().join("Cargo.toml")).ok()?;
    manifest.lines().find_map(|line| {
        let value = line.strip_prefix("rust-version")?.trim_start();
        Some(
            value
                .strip_prefix('=')?
                .trim()
                .trim_matches('"')
                .to_string(),
        )
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_declared_rust_version_is_read_from_the_manifest() {
        assert_eq!(
            super::declared_rust_version().as_deref(),
            Some(super::VERSION)
        );
    }

    #[test]
    fn the_library_directory_is_multiarch() {
        let dir = super::library_dir();
        assert!(dir.ends_with(format!("usr/lib/{}-linux-gnu", std::env::consts::ARCH)));
        assert!(std::path::Path::new(&super::root()).is_absolute());
    }
}
