//! Project automation for `mman`, run as `cargo xtask <command>`.
//!
//! - `setup` installs the Debian packages the test lanes need (cross gcc,
//!   Debian's Rust with an aarch64 std and its library source, QEMU from
//!   bookworm-backports), and unpacks Debian's Rust 1.85 into `target/msrv/`
//!   for the `msrv` step.
//! - `test` runs the test lanes and prints a summary: `host` (x86_64
//!   natively), `user` (the other architectures under qemu-user), `system`
//!   (every architecture, as the userland of Debian's kernels under
//!   qemu-system).
//! - `bench` measures mman against hand-written asm, rustix, glibc and
//!   memmap2, and writes the results for the README.
//! - `fuzz` runs the cargo-fuzz targets in `xtask/fuzz/` for longer than
//!   the host lane's short fuzz step does.
//! - `mutants` runs mutation testing (cargo-mutants) over the library's
//!   modules and writes the result for the README.

mod arch;
mod artifacts;
mod bench;
mod cli;
mod examples;
mod freestanding;
mod fuzz;
mod lanes;
mod libtest;
mod loongarch;
mod msrv;
mod mutants;
mod readme;
mod report;
mod run;
mod setup;
mod side_by_side;
mod suite;
mod system;
mod toolchain;

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::parse(std::env::args().skip(1)) {
        Ok(cli::Command::Help) => {
            print!("{}", cli::USAGE);
            ExitCode::SUCCESS
        }
        Ok(cli::Command::Setup) => setup::run(),
        Ok(cli::Command::Test(options)) => lanes::run(&options),
        Ok(cli::Command::Bench(parts)) => bench::run(parts),
        Ok(cli::Command::Fuzz(options)) => fuzz::run(&options),
        Ok(cli::Command::Mutants(options)) => mutants::run(&options),
        Err(message) => {
            eprintln!("error: {message}\n\n{}", cli::USAGE);
            ExitCode::from(2)
        }
    }
}

/// The workspace root (the parent of `xtask/`); every command runs there.
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
}
