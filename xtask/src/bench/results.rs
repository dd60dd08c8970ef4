//! The results, written twice: `results.json` for programs, `results.md` (see `markdown`)
//! for the README.

use std::fs;
use std::path::Path;

use super::callgrind::{self, Count};
use super::json::Json;
use super::machine::Machine;
use super::markdown;
use super::sizes::{Size, PACKED};
use super::timed::{self, Row};

/// The API the wall times are compared with.
pub const BASELINE: &str = "glibc";

pub struct Results {
    pub machine: Machine,
    pub instructions: Vec<Count>,
    /// Keys: operation, API. Nanoseconds per call.
    pub calls: Vec<Row>,
    /// Keys: method, MiB in huge pages. Milliseconds.
    pub populate: Vec<Row>,
    pub sizes: Vec<Size>,
}

pub fn write(dir: &Path, readme: &Path, results: &Results) -> Result<(), String> {
    let tables = markdown::render(results);
    for (name, text) in [
        ("results.json", json(results).pretty()),
        ("results.md", tables.clone()),
    ] {
        let path = dir.join(name);
        fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("bench: wrote {}", path.display());
    }
    update_readme(readme, &tables)
}

/// The README's measured numbers stand between these two lines, so each run replaces them.
const README_START: &str = "<!-- bench:start (written by `cargo xtask bench`) -->";
const README_END: &str = "<!-- bench:end -->";

/// Replaces the README's tables with this run's.
fn update_readme(readme: &Path, tables: &str) -> Result<(), String> {
    crate::readme::replace_section(readme, README_START, README_END, tables)?;
    println!("bench: updated the tables in {}", readme.display());
    Ok(())
}

fn json(r: &Results) -> Json {
    let m = &r.machine;
    let floor = floor(&r.instructions);
    let instructions = r.instructions.iter().map(|c| {
        Json::object([
            ("variant", c.variant.into()),
            ("label", c.label.into()),
            ("instructions", c.per_pair.into()),
            ("over_floor", (c.per_pair - floor).into()),
        ])
    });
    let calls = r.calls.iter().map(|row| {
        Json::object([
            ("operation", row.key(0).into()),
            ("api", row.key(1).into()),
            ("median", row.median.into()),
            ("min", row.min.into()),
            ("max", row.max.into()),
            (
                "ratio_to_glibc",
                baseline_ratio(&r.calls, row).map_or(Json::Null, Json::from),
            ),
        ])
    });
    let populate = r.populate.iter().map(|row| {
        Json::object([
            ("method", row.key(0).into()),
            (
                "huge_pages_mib",
                row.key(1).parse::<u64>().map_or(Json::Null, Json::from),
            ),
            ("median", row.median.into()),
            ("min", row.min.into()),
            ("max", row.max.into()),
        ])
    });
    // A size, or why there is none.
    let size = |size: &Result<u64, String>| match size {
        Ok(bytes) => Json::from(*bytes),
        Err(why) => Json::object([("error", why.as_str().into())]),
    };
    let sizes = r.sizes.iter().map(|s| {
        Json::object([
            ("program", s.program.into()),
            ("build", s.build.as_str().into()),
            ("bytes", size(&s.bytes)),
            ("packed_bytes", size(&s.packed)),
        ])
    });
    Json::object([
        ("machine", machine(m)),
        (
            "instructions_per_mmap_munmap",
            Json::object([
                (
                    "counter",
                    "valgrind --tool=callgrind, Ir (user space only)".into(),
                ),
                ("iterations", callgrind::ITERATIONS.into()),
                ("results", Json::Array(instructions.collect())),
            ]),
        ),
        (
            "wall_time_per_call",
            Json::object([
                ("unit", "ns".into()),
                ("batches", (timed::BATCHES as u64).into()),
                ("calls_per_batch", u64::from(timed::CALLS).into()),
                ("results", Json::Array(calls.collect())),
            ]),
        ),
        (
            "populate_1_gib",
            Json::object([
                ("unit", "ms".into()),
                ("rounds", (timed::ROUNDS as u64).into()),
                ("results", Json::Array(populate.collect())),
            ]),
        ),
        (
            "static_stripped_size",
            Json::object([
                ("packed_link_flags", PACKED.join(" ").as_str().into()),
                ("results", Json::Array(sizes.collect())),
            ]),
        ),
    ])
}

/// The hand-written asm's count: no API can do with fewer instructions.
pub fn floor(counts: &[Count]) -> f64 {
    counts
        .iter()
        .find(|c| c.variant == "asm")
        .map_or(f64::NAN, |c| c.per_pair)
}

/// This row's median over glibc's for the same operation.
pub fn baseline_ratio(calls: &[Row], row: &Row) -> Option<f64> {
    ratio_to(calls, row, BASELINE)
}

/// This row's median over that of the row with the same first key and `base` as second.
pub fn ratio_to(rows: &[Row], row: &Row, base: &str) -> Option<f64> {
    rows.iter()
        .find(|other| other.key(0) == row.key(0) && other.key(1) == base)
        .map(|base| row.median / base.median)
}

pub(super) fn machine(m: &Machine) -> Json {
    Json::object([
        ("date", m.date.as_str().into()),
        ("kernel", m.kernel.as_str().into()),
        ("cpu", m.cpu.as_str().into()),
        ("cores", (m.cores as u64).into()),
        ("rustc", m.rustc.as_str().into()),
        ("load_average_1min", m.load.into()),
    ])
}

/// The copy timings have files and a README section of their own, so that
/// `cargo xtask bench copies` can measure them alone.
const COPIES_START: &str =
    "<!-- bench-copies:start (written by `cargo xtask bench` and `cargo xtask bench copies`) -->";
const COPIES_END: &str = "<!-- bench-copies:end -->";

/// Writes `copies.json` and `copies.md`, and replaces the README's copies table.
pub fn write_copies(dir: &Path, readme: &Path, m: &Machine, rows: &[Row]) -> Result<(), String> {
    let results = rows.iter().map(|row| {
        Json::object([
            ("copy", row.key(0).into()),
            ("way", row.key(1).into()),
            ("median", row.median.into()),
            ("min", row.min.into()),
            ("max", row.max.into()),
            (
                "ratio_to_volatile",
                ratio_to(rows, row, "volatile").map_or(Json::Null, Json::from),
            ),
        ])
    });
    let json = Json::object([
        ("machine", machine(m)),
        ("unit", "ns".into()),
        ("batches", (timed::COPY_BATCHES as u64).into()),
        ("bytes_per_batch", timed::COPY_BATCH_BYTES.into()),
        ("results", Json::Array(results.collect())),
    ]);
    let table = markdown::render_copies(m, rows);
    let section = Section {
        stem: "copies",
        start: COPIES_START,
        end: COPIES_END,
        what: "the copies table",
    };
    section.write(dir, readme, &json, &table)
}

/// A part of the results with files and a README section of its own.
pub(super) struct Section {
    /// `STEM.json` and `STEM.md` in the bench directory.
    pub stem: &'static str,
    /// The README's marker lines around the table.
    pub start: &'static str,
    pub end: &'static str,
    /// What the table is, for the progress line.
    pub what: &'static str,
}

impl Section {
    /// Writes the JSON and the table to their files, and the table into the README.
    pub fn write(&self, dir: &Path, readme: &Path, json: &Json, table: &str) -> Result<(), String> {
        let stem = self.stem;
        for (name, text) in [
            (format!("{stem}.json"), json.pretty()),
            (format!("{stem}.md"), table.to_string()),
        ] {
            let path = dir.join(name);
            fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            println!("bench: wrote {}", path.display());
        }
        crate::readme::replace_section(readme, self.start, self.end, table)?;
        println!("bench: updated {} in {}", self.what, readme.display());
        Ok(())
    }
}
