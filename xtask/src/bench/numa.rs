//! The `move_pages` query: which node each of 1,000 pages is on, through
//! `Mapping::nodes` against one bare call (glibc's `syscall()` and `mman::sys`), timed by
//! the bench program (`numa` subcommand). Written to `numa.json` and `numa.md`, and to a
//! README section of its own, so that `cargo xtask bench numa` can measure it alone.

use std::path::Path;

use super::json::Json;
use super::machine::{self, Machine};
use super::markdown::{duration, headed, line};
use super::results::{machine as machine_json, ratio_to, Section};
use super::timed::{measure, Row};

/// Batches per way; the median is reported.
pub const BATCHES: usize = 51;
/// What the others are compared with: one call with the addresses ready.
const FLOOR: &str = "mman::sys::move_pages";

const README_START: &str =
    "<!-- bench-numa:start (written by `cargo xtask bench` and `cargo xtask bench numa`) -->";
const README_END: &str = "<!-- bench-numa:end -->";

/// Measures, then writes `numa.json`, `numa.md` and the README's section.
pub fn run(program: &Path, dir: &Path, readme: &Path) -> Result<(), String> {
    let rows = measure(program, dir, "numa", &[BATCHES.to_string()])?;
    let machine = machine::describe(program)?;
    let section = Section {
        stem: "numa",
        start: README_START,
        end: README_END,
        what: "the NUMA table",
    };
    section.write(
        dir,
        readme,
        &json(&machine, &rows),
        &render(&machine, &rows),
    )
}

fn render(machine: &Machine, rows: &[Row]) -> String {
    let mut md = headed(
        machine,
        format_args!(
            "**Which node each page is on**: one `move_pages` query of 1,000 resident pages \
             with no target nodes, wall time per query, median of {BATCHES} batches of 20 \
             queries, the ways taking turns batch by batch. glibc's `syscall()` and \
             `mman::sys::move_pages` are one call with the page addresses prepared \
             beforehand (the floor); `Mapping::nodes` computes the addresses itself, 128 \
             pages per call, on the stack:\n"
        ),
    );
    line(&mut md, "| query | way | per query | ÷ the floor |");
    line(&mut md, "|---|---|---:|---:|");
    for row in rows {
        let ratio = ratio_to(rows, row, FLOOR).map_or("—".to_string(), |r| format!("{r:.2}×"));
        line(
            &mut md,
            format_args!(
                "| {} | {} | {} | {ratio} |",
                row.key(0),
                row.key(1),
                duration(row.median)
            ),
        );
    }
    md
}

fn json(machine: &Machine, rows: &[Row]) -> Json {
    let results = rows.iter().map(|row| {
        Json::object([
            ("query", row.key(0).into()),
            ("way", row.key(1).into()),
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
