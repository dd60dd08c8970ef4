//! The program behind `cargo xtask bench`, which builds it, runs it and writes the report.
//!
//! Each subcommand measures one thing:
//! - `instructions VARIANT N`: N mmap+munmap pairs of one page through one API, for
//!   callgrind to count (the xtask runs it under valgrind, with N and with 0);
//! - `walltime OUT BATCHES CALLS`: wall time per call through mman::sys, glibc and rustix;
//! - `populate OUT ROUNDS`: ways to make 1 GiB of anonymous memory resident;
//! - `copies OUT BATCHES BYTES`: wall time per copy out of and into shared memory through
//!   `Mapping::read_at`/`write_at`, the volatile copy they replaced, and memcpy, in batches
//!   of about BYTES bytes;
//! - `numa OUT BATCHES`: wall time of a `move_pages` query of 1,000 pages through
//!   `Mapping::nodes` and as one bare call;
//! - `reservations OUT BATCHES`: wall time of a 2 MiB reservation's life (reserve, commit,
//!   decommit, release) through `mman::sys` and `Reservation`;
//! - `alloc OUT ROUNDS SHORT`: `mman::alloc` against glibc's malloc (a block doubling to 1 GiB,
//!   ROUNDS rounds; a mixed small-object workload on 1 and 4 threads, SHORT rounds) and
//!   `MirrorBuffer` against `VecDeque` (streaming 1 GiB, SHORT rounds).
//!
//! The xtask chooses the counts. Results go to OUT as tab-separated lines for the xtask,
//! and to stdout for people.

mod alloc;
mod copies;
mod floor;
mod instructions;
mod numa;
mod populate;
mod reservations;
mod ring;
mod stats;
mod walltime;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: mman-bench instructions VARIANT ITERATIONS \
                     | walltime OUT BATCHES CALLS | populate OUT ROUNDS \
                     | copies OUT BATCHES BYTES | numa OUT BATCHES \
                     | alloc OUT ROUNDS SHORT | reservations OUT BATCHES";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["instructions", variant, iterations] => {
            count(iterations).and_then(|n| instructions::run(variant, n))
        }
        ["walltime", out, batches, calls] => count(batches).and_then(|batches| {
            walltime::run(&PathBuf::from(out), batches as usize, count(calls)? as u32)
        }),
        ["populate", out, rounds] => {
            count(rounds).and_then(|rounds| populate::run(&PathBuf::from(out), rounds as usize))
        }
        ["copies", out, batches, bytes] => count(batches)
            .and_then(|batches| copies::run(&PathBuf::from(out), batches as usize, count(bytes)?)),
        ["numa", out, batches] => {
            count(batches).and_then(|batches| numa::run(&PathBuf::from(out), batches as usize))
        }
        ["reservations", out, batches] => count(batches)
            .and_then(|batches| reservations::run(&PathBuf::from(out), batches as usize)),
        ["alloc", out, rounds, short] => count(rounds).and_then(|rounds| {
            alloc::run(&PathBuf::from(out), rounds as usize, count(short)? as usize)
        }),
        _ => Err(USAGE.to_string()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mman-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

fn count(arg: &str) -> Result<u64, String> {
    arg.parse()
        .map_err(|e| format!("`{arg}` is not a count: {e}"))
}
