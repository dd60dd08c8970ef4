//! The floor on every architecture, by disassembly: `xtask/floor/` holds one function that
//! maps and unmaps through `mman::sys` and the same function written by hand in assembly;
//! it is built (release, Debian's Rust, as the lanes build) for each architecture, and the
//! two functions' instructions are counted in `objdump`'s disassembly. callgrind measures
//! the same thing on x86_64 by running it; this shows it where nothing can run it natively.
//! Written to `floors.json`, `floors.md` and a README section of its own (`cargo xtask
//! bench floors`).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::json::Json;
use super::machine::today;
use super::markdown::line;
use super::results::Section;
use crate::arch::Arch;
use crate::toolchain::{Rust, Toolchain};
use crate::workspace_root;

/// The hand-written function and mman's, as `xtask/floor/src/lib.rs` names them.
const FLOOR: &str = "floor_map_unmap";
const MMAN: &str = "mman_map_unmap";

const README_START: &str =
    "<!-- bench-floors:start (written by `cargo xtask bench` and `cargo xtask bench floors`) -->";
const README_END: &str = "<!-- bench-floors:end -->";

/// One architecture's two counts.
struct Count {
    arch: Arch,
    floor: usize,
    mman: usize,
    /// mman's function as disassembled, for the record in `floors.md`.
    listing: String,
}

/// Builds, disassembles and counts for every architecture, then writes the results.
pub fn run(dir: &Path, readme: &Path) -> Result<(), String> {
    let counts = Arch::ALL
        .iter()
        .map(|&arch| count(arch))
        .collect::<Result<Vec<_>, String>>()?;
    let rustc = rustc_version()?;
    let section = Section {
        stem: "floors",
        start: README_START,
        end: README_END,
        what: "the floor table",
    };
    let (table, listings) = render(&counts, &rustc);
    section.write(dir, readme, &json(&counts, &rustc), &table)?;
    let path = dir.join("floors-listings.md");
    std::fs::write(&path, listings).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn count(arch: Arch) -> Result<Count, String> {
    let library = build(arch)?;
    let floor = disassemble(arch, &library, FLOOR)?;
    let mman = disassemble(arch, &library, MMAN)?;
    Ok(Count {
        arch,
        floor: instructions(&floor),
        mman: instructions(&mman),
        listing: mman,
    })
}

/// Builds `xtask/floor` for `arch` as the lanes build for it; returns the static library.
/// With `cargo rustc`, as the freestanding examples' static libraries: the floor is one
/// too, `no_std` with `panic = "abort"`, and the toolchain gives `rustc` builds the std
/// for aborting (a `build` takes the test harness's unwinding settings, which a `no_std`
/// library cannot: "unwinding panics are not supported without std").
fn build(arch: Arch) -> Result<PathBuf, String> {
    let toolchain = Toolchain::fully_static(Rust::Debian, arch);
    let manifest = workspace_root().join("xtask/floor/Cargo.toml");
    let mut cmd = toolchain.cargo_manifest(&manifest, "rustc", &["--release"]);
    if !crate::run::run(&mut cmd) {
        return Err(format!("building the floor for {} failed", arch.name()));
    }
    Ok(toolchain
        .examples_dir("release")
        .with_file_name("libmman_floor.a"))
}

/// `objdump`'s listing of `symbol` alone.
fn disassemble(arch: Arch, library: &Path, symbol: &str) -> Result<String, String> {
    let objdump = arch.gnu_tool("objdump");
    // loongarch64's is LLVM's (`crate::loongarch`), which names this option differently.
    let only = match arch {
        Arch::Loongarch64 => "--disassemble-symbols",
        _ => "--disassemble",
    };
    let output = Command::new(&objdump)
        .args(["-d", "--no-show-raw-insn"])
        .arg(format!("{only}={symbol}"))
        .arg(library)
        .output()
        .map_err(|e| format!("cannot run {objdump}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{objdump} failed on {}: {}",
            library.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let start = text
        .find(&format!("<{symbol}>:"))
        .ok_or_else(|| format!("{symbol} is not in {}", library.display()))?;
    let listing: String = text[start..]
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .map(|line| format!("{line}\n"))
        .collect();
    Ok(listing)
}

/// The instruction lines of a listing: `  offset:<tab>mnemonic ...` (LLVM's objdump puts
/// spaces before the tab).
fn instructions(listing: &str) -> usize {
    listing
        .lines()
        .filter(|line| {
            line.split_once(':').is_some_and(|(offset, insn)| {
                let offset = offset.trim();
                !offset.is_empty()
                    && offset.chars().all(|c| c.is_ascii_hexdigit())
                    && insn.trim_start_matches(' ').starts_with('\t')
                    && !insn.trim().is_empty()
            })
        })
        .count()
}

fn rustc_version() -> Result<String, String> {
    let output = Command::new("/usr/bin/rustc")
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run /usr/bin/rustc: {e}"))?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The README table, and the listings of mman's functions.
fn render(counts: &[Count], rustc: &str) -> (String, String) {
    let mut md = String::new();
    line(
        &mut md,
        format_args!(
            "Counted {} with `cargo xtask bench floors`, {rustc} (release, as the lanes \
             build). **One `mmap` and one `munmap`** of private anonymous read-write memory, \
             returning 0 or `-errno`: the instructions of the whole function as `objdump` \
             disassembles it, written by hand in assembly (`xtask/floor/src/floor.rs`) and \
             through `mman::sys` (`xtask/floor/src/lib.rs`):\n",
            today()
        ),
    );
    line(
        &mut md,
        "| architecture | by hand | mman::sys | over the floor |",
    );
    line(&mut md, "|---|---:|---:|---:|");
    let mut listings = String::from("# mman_map_unmap as compiled, per architecture\n");
    for c in counts {
        line(
            &mut md,
            format_args!(
                "| {} | {} | {} | {:+} |",
                c.arch.name(),
                c.floor,
                c.mman,
                c.mman as i64 - c.floor as i64
            ),
        );
        listings.push_str(&format!(
            "\n## {}\n\n```\n{}```\n",
            c.arch.name(),
            c.listing
        ));
    }
    (md, listings)
}

fn json(counts: &[Count], rustc: &str) -> Json {
    let rows = counts.iter().map(|c| {
        Json::object([
            ("arch", c.arch.name().into()),
            ("floor_instructions", (c.floor as u64).into()),
            ("mman_instructions", (c.mman as u64).into()),
        ])
    });
    Json::object([
        ("date", today().as_str().into()),
        ("rustc", rustc.into()),
        ("results", Json::Array(rows.collect())),
    ])
}

#[cfg(test)]
mod tests {
    use super::instructions;

    #[test]
    fn gnu_and_llvm_listings_count_their_instruction_lines() {
        let gnu = "0000000000000000 <f>:\n   0:\tmv\ta1,a0\n   4:\tret\n";
        let llvm = "0000000000000000 <f>:\n       0:      \tmove\t$a1, $a0\n       4:      \tret\n";
        assert_eq!(instructions(gnu), 2);
        assert_eq!(instructions(llvm), 2);
    }
}
