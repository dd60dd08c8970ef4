//! Measurements the bench program times itself, with the clock (valgrind would distort
//! them): wall time per call, making 1 GiB resident, and copies to and from shared memory.
//!
//! The program writes one tab-separated line per result: key fields, then the median,
//! minimum and maximum of its samples.

use std::fs;
use std::path::Path;
use std::process::Command;

use super::exec;

/// Calls per timed batch: enough to spread the clock's own cost.
pub const CALLS: u32 = 1000;
/// Batches per operation and API; the median is reported.
pub const BATCHES: usize = 20;
/// Times each way of populating 1 GiB is repeated.
pub const ROUNDS: usize = 5;
/// Batches per copy and way; the median is reported. Many short batches rather than a few
/// long ones: on a busy machine most batches then run undisturbed, and the median is theirs.
pub const COPY_BATCHES: usize = 201;
/// Bytes copied per batch (so 64-byte copies come 16384 to a batch, 1 MiB ones alone).
pub const COPY_BATCH_BYTES: u64 = 1 << 20;

/// One result line.
pub struct Row {
    pub keys: Vec<String>,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Row {
    pub fn key(&self, i: usize) -> &str {
        &self.keys[i]
    }
}

/// Nanoseconds per call, keyed by operation and API.
pub fn calls(program: &Path, dir: &Path) -> Result<Vec<Row>, String> {
    let args = [BATCHES.to_string(), CALLS.to_string()];
    measure(program, dir, "walltime", &args)
}

/// Milliseconds to map and populate 1 GiB, keyed by method and how many MiB of it ended up
/// in huge pages.
pub fn populate(program: &Path, dir: &Path) -> Result<Vec<Row>, String> {
    measure(program, dir, "populate", &[ROUNDS.to_string()])
}

/// Nanoseconds per copy, keyed by copy (direction, size, offset) and way (`memcpy`,
/// `volatile`, `atomic`).
pub fn copies(program: &Path, dir: &Path) -> Result<Vec<Row>, String> {
    let args = [COPY_BATCHES.to_string(), COPY_BATCH_BYTES.to_string()];
    measure(program, dir, "copies", &args)
}

/// Runs `program subcommand OUT ARGS...` and reads the two-key rows it wrote to OUT
/// (`SUBCOMMAND.tsv` in `dir`).
pub(super) fn measure(
    program: &Path,
    dir: &Path,
    subcommand: &str,
    args: &[String],
) -> Result<Vec<Row>, String> {
    let out = dir.join(format!("{subcommand}.tsv"));
    let mut cmd = Command::new(program);
    cmd.arg(subcommand).arg(&out).args(args);
    exec(cmd)?;
    rows(&out, 2)
}

fn rows(path: &Path, keys: usize) -> Result<Vec<Row>, String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    text.lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let number = |i: usize| fields.get(keys + i).and_then(|f| f.parse::<f64>().ok());
            match (fields.len() == keys + 3, number(0), number(1), number(2)) {
                (true, Some(median), Some(min), Some(max)) => Ok(Row {
                    keys: fields[..keys].iter().map(ToString::to_string).collect(),
                    median,
                    min,
                    max,
                }),
                _ => Err(format!("{}: malformed line `{line}`", path.display())),
            }
        })
        .collect()
}
