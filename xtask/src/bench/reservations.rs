//! A 2 MiB reservation's life (reserve, commit read-write, decommit, release) through
//! `Reservation` against the five bare calls through `mman::sys` (the floor): user-space
//! instructions per cycle counted by callgrind, and wall time per cycle timed by the bench
//! program (`reservations` subcommand). Written to `reservations.json` and
//! `reservations.md`, and to a README section of its own, so that `cargo xtask bench
//! reservations` can measure it alone.

use std::path::Path;

use super::callgrind;
use super::json::Json;
use super::machine::{self, Machine};
use super::markdown::{duration, headed, line};
use super::results::{machine as machine_json, ratio_to, Section};
use super::timed::{measure, Row};

/// Batches per way; the median is reported.
pub const BATCHES: usize = 51;
/// Cycles callgrind counts per variant.
const CYCLES: u64 = 10_000;
/// What the other way is compared with.
const FLOOR: &str = "mman::sys, five calls";
/// The bench program's instruction variants, by the way they count.
const VARIANTS: [(&str, &str); 2] = [
    ("reservation-sys", "mman::sys, five calls"),
    ("reservation", "Reservation"),
];

const README_START: &str = "<!-- bench-reservations:start (written by `cargo xtask bench` and `cargo xtask bench reservations`) -->";
const README_END: &str = "<!-- bench-reservations:end -->";

/// Measures, then writes `reservations.json`, `reservations.md` and the README's section.
pub fn run(program: &Path, dir: &Path, readme: &Path) -> Result<(), String> {
    let rows = measure(program, dir, "reservations", &[BATCHES.to_string()])?;
    let instructions = VARIANTS
        .iter()
        .map(|&(variant, way)| {
            let per_cycle = callgrind::per_iteration(program, dir, variant, CYCLES)?;
            Ok((way, per_cycle))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let machine = machine::describe(program)?;
    let section = Section {
        stem: "reservations",
        start: README_START,
        end: README_END,
        what: "the reservations table",
    };
    section.write(
        dir,
        readme,
        &json(&machine, &rows, &instructions),
        &render(&machine, &rows, &instructions),
    )
}

fn instructions_of(instructions: &[(&str, f64)], way: &str) -> Option<f64> {
    instructions
        .iter()
        .find(|(w, _)| *w == way)
        .map(|&(_, n)| n)
}

fn render(machine: &Machine, rows: &[Row], instructions: &[(&str, f64)]) -> String {
    let mut md = headed(
        machine,
        format_args!(
            "**A reservation's life**: 2 MiB reserved (`PROT_NONE`, `MAP_NORESERVE`), \
             committed read-write, decommitted (`MADV_DONTNEED`, `PROT_NONE`) and released, \
             nothing touched in between: user-space instructions per cycle (callgrind, \
             {CYCLES} cycles) and wall time per cycle (median of {BATCHES} batches of 200 \
             cycles, the ways taking turns). The floor is the five calls through \
             `mman::sys` with only their error checks; `Reservation` adds its check against \
             the stack's reach and its page states (five bit planes, a word per 64 pages):\n"
        ),
    );
    line(
        &mut md,
        "| operation | way | instructions | wall time | ÷ the floor |",
    );
    line(&mut md, "|---|---|---:|---:|---:|");
    for row in rows {
        let ratio = ratio_to(rows, row, FLOOR).map_or("—".to_string(), |r| format!("{r:.2}×"));
        let count = instructions_of(instructions, row.key(1))
            .map_or("—".to_string(), |n| format!("{n:.0}"));
        line(
            &mut md,
            format_args!(
                "| {} | {} | {count} | {} | {ratio} |",
                row.key(0),
                row.key(1),
                duration(row.median)
            ),
        );
    }
    md
}

fn json(machine: &Machine, rows: &[Row], instructions: &[(&str, f64)]) -> Json {
    let results = rows.iter().map(|row| {
        Json::object([
            ("operation", row.key(0).into()),
            ("way", row.key(1).into()),
            (
                "instructions",
                instructions_of(instructions, row.key(1)).map_or(Json::Null, Json::from),
            ),
            ("median", row.median.into()),
            ("min", row.min.into()),
            ("max", row.max.into()),
            (
                "ratio_to_floor",
                ratio_to(rows, row, FLOOR).map_or(Json::Null, Json::from),
            ),
        ])
    });
    Json::object([
        ("machine", machine_json(machine)),
        ("unit", "ns".into()),
        ("batches", (BATCHES as u64).into()),
        ("results", Json::Array(results.collect())),
    ])
}
