//! `cargo xtask bench`: mman against hand-written asm, rustix, glibc and memmap2.
//!
//! The measuring program is a crate of its own, `xtask/bench/`, built into `target/bench`
//! so that benchmarking never waits for, or invalidates, the workspace's own builds. The
//! parts, one module each:
//! - `callgrind`: user-space instructions per mmap+munmap pair, counted by valgrind;
//! - `timed`: wall time per call, populating 1 GiB, and copies to and from shared memory
//!   (`read_at`/`write_at` against the volatile copy they replaced and memcpy), timed by
//!   the program itself;
//! - `sizes`: the freestanding example next to the same program in C, static and stripped;
//! - `machine`: the date, kernel, CPU and compiler the numbers belong to;
//! - `results`: `target/bench/results.json` (written with `json`) and
//!   `target/bench/results.md`, the tables (`markdown`), which also replace the README's;
//!   the copies go to `copies.json` and `copies.md` and a README section of their own, so
//!   that `cargo xtask bench copies` can measure them alone (seconds, not minutes);
//! - `numa`: the `move_pages` query of 1,000 pages, likewise with files and a README
//!   section of its own (`cargo xtask bench numa`);
//! - `reservations`: a 2 MiB reservation's life against the bare calls, likewise
//!   (`cargo xtask bench reservations`);
//! - `alloc`: `mman::alloc` against glibc's malloc and `MirrorBuffer` against `VecDeque`,
//!   likewise (`cargo xtask bench alloc`);
//! - `floors`: mmap + munmap through `mman::sys` against the same function written by hand,
//!   counted in the disassembly on every architecture (`cargo xtask bench floors`).

mod alloc;
mod callgrind;
mod floors;
mod json;
mod machine;
mod markdown;
mod numa;
mod reservations;
mod results;
mod sizes;
mod timed;

/// The date results are stamped with (`cargo xtask mutants` uses it too).
pub use machine::today;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::{run, workspace_root};

/// What `cargo xtask bench` measures.
#[derive(Clone, Copy)]
pub enum Parts {
    All,
    /// Only the copies (`cargo xtask bench copies`).
    Copies,
    /// Only the `move_pages` query (`cargo xtask bench numa`).
    Numa,
    /// Only the allocators and the mirrored ring (`cargo xtask bench alloc`).
    Alloc,
    /// Only a reservation's life (`cargo xtask bench reservations`).
    Reservations,
    /// Only the floor by disassembly on every architecture (`cargo xtask bench floors`).
    Floors,
}

pub fn run(parts: Parts) -> ExitCode {
    match bench(parts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench: {message}");
            ExitCode::FAILURE
        }
    }
}

fn bench(parts: Parts) -> Result<(), String> {
    let dir = workspace_root().join("target").join("bench");
    let readme = workspace_root().join("README.md");
    // Cross-built, counted, never run: no bench program needed.
    if let Parts::Floors = parts {
        return floors::run(&dir, &readme);
    }
    let program = build_program(&dir)?;
    if let Parts::Numa = parts {
        return numa::run(&program, &dir, &readme);
    }
    if let Parts::Alloc = parts {
        return alloc::run(&program, &dir, &readme);
    }
    if let Parts::Reservations = parts {
        return reservations::run(&program, &dir, &readme);
    }
    if let Parts::All = parts {
        let results = results::Results {
            instructions: callgrind::measure(&program, &dir)?,
            calls: timed::calls(&program, &dir)?,
            populate: timed::populate(&program, &dir)?,
            sizes: sizes::measure(&dir),
            machine: machine::describe(&program)?,
        };
        results::write(&dir, &readme, &results)?;
        numa::run(&program, &dir, &readme)?;
        alloc::run(&program, &dir, &readme)?;
        reservations::run(&program, &dir, &readme)?;
        floors::run(&dir, &readme)?;
    }
    let copies = timed::copies(&program, &dir)?;
    results::write_copies(&dir, &readme, &machine::describe(&program)?, &copies)
}

/// Builds `xtask/bench/` (release, LTO) and returns the program's path.
fn build_program(dir: &Path) -> Result<PathBuf, String> {
    let mut build = cargo(dir);
    build
        .args(["build", "--release", "--manifest-path"])
        .arg(workspace_root().join("xtask/bench/Cargo.toml"));
    exec(build)?;
    Ok(dir.join("release/mman-bench"))
}

/// `cargo` writing into `target_dir`, run from the workspace root.
fn cargo(target_dir: &Path) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(workspace_root())
        // Flags from the caller's environment (`-C target-cpu=native`, ...) would change
        // the code being measured: the numbers are for the crates as they build by default.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("CARGO_TARGET_DIR", target_dir);
    cmd
}

/// Runs a command through the xtask's runner (its output streams through); an error if it
/// does not exit with status 0.
fn exec(mut cmd: Command) -> Result<(), String> {
    if run::run(&mut cmd) {
        Ok(())
    } else {
        Err(format!("`{}` failed", run::describe(&cmd)))
    }
}
