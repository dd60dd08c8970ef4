//! User-space instructions per mmap+munmap pair of one page, counted by callgrind.
//!
//! Callgrind counts the instructions a process executes in user space (`Ir`) and none of
//! the kernel's, so the system calls themselves are left out and what remains is exactly
//! what each library adds around them. The count is deterministic: one run per case.
//!
//! Each variant runs twice, with N iterations and with none, and the whole-program totals
//! are subtracted: start-up, argument parsing and exit cancel out, with no need to name the
//! loop's function (whose mangled name changes with every build) to callgrind.

use std::fs;
use std::path::Path;
use std::process::Command;

use super::exec;

pub const ITERATIONS: u64 = 100_000;

/// The bench program's variant names, and how the report calls them.
const VARIANTS: &[(&str, &str)] = &[
    ("asm", "hand-written asm (the floor)"),
    ("sys", "mman::sys"),
    ("mapping", "mman::Mapping::anonymous + drop"),
    ("rustix", "rustix"),
    ("libc", "glibc (libc crate)"),
    ("memmap2", "memmap2 MmapMut::map_anon + drop"),
];

pub struct Count {
    pub variant: &'static str,
    pub label: &'static str,
    /// Instructions per pair, including the loop's own few (the same loop for every variant).
    pub per_pair: f64,
}

pub fn measure(program: &Path, dir: &Path) -> Result<Vec<Count>, String> {
    VARIANTS
        .iter()
        .map(|&(variant, label)| {
            Ok(Count {
                variant,
                label,
                per_pair: per_iteration(program, dir, variant, ITERATIONS)?,
            })
        })
        .collect()
}

/// User-space instructions per iteration of `variant`: its count with `iterations` less
/// its count with none, divided by `iterations`.
pub(super) fn per_iteration(
    program: &Path,
    dir: &Path,
    variant: &str,
    iterations: u64,
) -> Result<f64, String> {
    let counted = total(program, dir, variant, iterations)?;
    let baseline = total(program, dir, variant, 0)?;
    let added = counted.checked_sub(baseline).ok_or_else(|| {
        format!("{variant}: {iterations} iterations counted fewer instructions than 0")
    })?;
    Ok(added as f64 / iterations as f64)
}

/// The program's whole `Ir` count for `iterations` pairs.
fn total(program: &Path, dir: &Path, variant: &str, iterations: u64) -> Result<u64, String> {
    let out = dir.join(format!("callgrind.out.{variant}.{iterations}"));
    let mut cmd = Command::new("valgrind");
    cmd.args(["--tool=callgrind", "-q"])
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(program)
        .args(["instructions", variant])
        // Zero-padded to one width, so that parsing the number costs both runs the same.
        .arg(format!(
            "{iterations:0width$}",
            width = ITERATIONS.to_string().len()
        ));
    exec(cmd).map_err(|e| format!("{e} (valgrind missing? `cargo xtask setup` installs it)"))?;
    let text =
        fs::read_to_string(&out).map_err(|e| format!("cannot read {}: {e}", out.display()))?;
    // `summary: N` (older callgrind) or `totals: N`: the first event, which is `Ir`.
    text.lines()
        .find_map(|line| {
            line.strip_prefix("summary:")
                .or(line.strip_prefix("totals:"))
        })
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("no instruction total in {}", out.display()))
}
