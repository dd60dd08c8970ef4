//! `results.md`: the results as tables to paste into the README, one function per table.

use std::fmt::Write;

use super::callgrind;
use super::machine::Machine;
use super::results::{baseline_ratio, floor, ratio_to, Results, BASELINE};
use super::sizes::PACKED;
use super::timed::{self, Row};

pub fn render(r: &Results) -> String {
    let mut md = String::new();
    for section in [machine, instructions, calls, sizes, populate] {
        section(&mut md, r);
        md.push('\n');
    }
    md.pop();
    md
}

/// Appends a line; writing into a String cannot fail.
pub(super) fn line(md: &mut String, text: impl std::fmt::Display) {
    writeln!(md, "{text}").expect("writing to a String");
}

fn machine(md: &mut String, r: &Results) {
    describe(md, &r.machine);
}

/// A table's text so far: the machine, an empty line, then `intro` on its own line.
pub(super) fn headed(machine: &Machine, intro: impl std::fmt::Display) -> String {
    let mut md = String::new();
    describe(&mut md, machine);
    md.push('\n');
    line(&mut md, intro);
    md
}

fn describe(md: &mut String, m: &Machine) {
    line(
        md,
        format_args!(
            "Measured {} with `cargo xtask bench`: Linux {}, {} ({} cores), {}; load average \
             {:.2} at the end.",
            m.date, m.kernel, m.cpu, m.cores, m.rustc, m.load
        ),
    );
}

fn instructions(md: &mut String, r: &Results) {
    line(
        md,
        format_args!(
            "**User-space instructions per `mmap` + `munmap` of one page** (callgrind `Ir`, \
             {} pairs; the kernel's instructions are not counted; every row includes the \
             same loop):\n",
            callgrind::ITERATIONS
        ),
    );
    line(md, "| API | instructions | over the floor |");
    line(md, "|---|---:|---:|");
    let floor = floor(&r.instructions);
    for c in &r.instructions {
        let over = match c.variant {
            "asm" => "—".to_string(),
            _ => format!("{:+.2}", c.per_pair - floor),
        };
        line(
            md,
            format_args!("| {} | {:.2} | {over} |", c.label, c.per_pair),
        );
    }
}

fn calls(md: &mut String, r: &Results) {
    line(
        md,
        format_args!(
            "**Wall time per call**, median of {} batches of {} calls (in brackets: relative \
             to {BASELINE}, measured in the same run):\n",
            timed::BATCHES,
            timed::CALLS
        ),
    );
    let apis = distinct(&r.calls, 1);
    line(md, format_args!("| operation | {} |", apis.join(" | ")));
    line(md, format_args!("|---|{}", "---:|".repeat(apis.len())));
    for op in distinct(&r.calls, 0) {
        let cells: Vec<String> = apis
            .iter()
            .map(|&api| {
                let row = r
                    .calls
                    .iter()
                    .find(|row| row.key(0) == op && row.key(1) == api);
                match row {
                    None => "—".to_string(),
                    Some(row) if api == BASELINE => format!("{:.0} ns", row.median),
                    Some(row) => match baseline_ratio(&r.calls, row) {
                        Some(ratio) => format!("{:.0} ns ({ratio:.2}×)", row.median),
                        None => format!("{:.0} ns", row.median),
                    },
                }
            })
            .collect();
        line(md, format_args!("| {op} | {} |", cells.join(" | ")));
    }
}

fn sizes(md: &mut String, r: &Results) {
    line(
        md,
        format_args!(
            "**Size of a static, stripped program** that maps a page, writes a message into \
             it, prints it, unmaps it and exits; packed: linked with `{}`, which drop the \
             padding between segments:\n",
            PACKED.join(" ")
        ),
    );
    line(md, "| program | bytes | packed | built with |");
    line(md, "|---|---:|---:|---|");
    let bytes = |size: &Result<u64, String>| match size {
        Ok(bytes) => bytes.to_string(),
        Err(why) => format!("— ({why})"),
    };
    for s in &r.sizes {
        line(
            md,
            format_args!(
                "| {} | {} | {} | `{}` |",
                s.program,
                bytes(&s.bytes),
                bytes(&s.packed),
                s.how
            ),
        );
    }
}

fn populate(md: &mut String, r: &Results) {
    line(
        md,
        format_args!(
            "**Making 1 GiB of anonymous memory resident** through mman: mapping and \
             populating, not unmapping; {} rounds (with their spread: huge-page faults can \
             vary widely from round to round):\n",
            timed::ROUNDS
        ),
    );
    line(
        md,
        "| method | median ms | min–max ms | of it in huge pages |",
    );
    line(md, "|---|---:|---:|---:|");
    for row in &r.populate {
        line(
            md,
            format_args!(
                "| {} | {:.0} | {:.0}–{:.0} | {} MiB |",
                row.key(0),
                row.median,
                row.min,
                row.max,
                row.key(1)
            ),
        );
    }
}

/// `copies.md`: the machine, then wall time per copy through each way.
pub fn render_copies(machine: &Machine, rows: &[Row]) -> String {
    let mut md = headed(
        machine,
        format_args!(
            "**Copying out of and into shared memory**: wall time per copy, median of {} \
             batches of {} MiB, the three ways taking turns batch by batch. *read*: out of \
             the mapping into a heap buffer (`read_at`), *write*: into it (`write_at`); \
             *offset 3*: the mapping side starts 3 bytes past a word boundary, so 5 + 3 bytes \
             go one by one. memcpy is `copy_from_slice` on a private mapping's slice (shared \
             memory lends none); *volatile* is the copy mman used before issue 9 (volatile \
             word loads/stores, kept in the bench as the reference); *atomic* is mman's \
             `Mapping::read_at`/`write_at` now (relaxed atomic words), checks included:\n",
            timed::COPY_BATCHES,
            timed::COPY_BATCH_BYTES >> 20
        ),
    );
    line(
        &mut md,
        "| copy | memcpy (the floor) | volatile (before) | atomic (`read_at`/`write_at`) | \
         atomic ÷ volatile |",
    );
    line(&mut md, "|---|---:|---:|---:|---:|");
    for copy in distinct(rows, 0) {
        let row = |way: &str| rows.iter().find(|r| r.key(0) == copy && r.key(1) == way);
        let time = |way: &str| row(way).map_or("—".to_string(), |r| duration(r.median));
        let ratio = row("atomic")
            .and_then(|atomic| ratio_to(rows, atomic, "volatile"))
            .map_or("—".to_string(), |ratio| format!("{ratio:.2}×"));
        line(
            &mut md,
            format_args!(
                "| {copy} | {} | {} | {} | {ratio} |",
                time("memcpy"),
                time("volatile"),
                time("atomic")
            ),
        );
    }
    md
}

/// Nanoseconds, in µs from 10 µs on.
pub(super) fn duration(ns: f64) -> String {
    if ns < 10_000.0 {
        format!("{ns:.1} ns")
    } else {
        format!("{:.1} µs", ns / 1000.0)
    }
}

/// The values of key `i`, in order of first appearance.
fn distinct(rows: &[Row], i: usize) -> Vec<&str> {
    let mut values: Vec<&str> = Vec::new();
    for row in rows {
        if !values.contains(&row.key(i)) {
            values.push(row.key(i));
        }
    }
    values
}
