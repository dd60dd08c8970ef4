//! `mman::alloc` against glibc's malloc, and `MirrorBuffer` against `VecDeque<u8>`, timed
//! by the bench program (`alloc` subcommand; see `xtask/bench/src/alloc.rs` and `ring.rs`
//! for what each way does). Written to `alloc.json` and `alloc.md`, and to a README
//! section of its own, so that `cargo xtask bench alloc` can measure them alone.

use std::path::Path;

use super::json::Json;
use super::machine::{self, Machine};
use super::markdown::{headed, line};
use super::results::{machine as machine_json, ratio_to, Section};
use super::timed::{measure, Row};

/// Rounds per way of the doubling (seconds each); the median is reported.
pub const ROUNDS: usize = 5;
/// Rounds per way of the mixed workload and the ring (a fraction of a second each): more,
/// for a median that holds on a machine shared with other work.
pub const SHORT_ROUNDS: usize = 21;

const DOUBLING: &str = "Vec<u8> doubling 4 KiB → 1 GiB";
const COPIED: &str = "Vec<u8> doubling: MiB copied";
const GLIBC_REALLOC: &str = "glibc realloc (System)";
const GLIBC_MALLOC: &str = "glibc malloc (System)";
const STREAM: &str = "stream 1 GiB, records across the wrap";
const DEQUE: &str = "VecDeque<u8>, copied in and out";

const README_START: &str =
    "<!-- bench-alloc:start (written by `cargo xtask bench` and `cargo xtask bench alloc`) -->";
const README_END: &str = "<!-- bench-alloc:end -->";

/// Measures, then writes `alloc.json`, `alloc.md` and the README's section.
pub fn run(program: &Path, dir: &Path, readme: &Path) -> Result<(), String> {
    let rows = measure(
        program,
        dir,
        "alloc",
        &[ROUNDS.to_string(), SHORT_ROUNDS.to_string()],
    )?;
    let machine = machine::describe(program)?;
    let section = Section {
        stem: "alloc",
        start: README_START,
        end: README_END,
        what: "the allocator and ring tables",
    };
    section.write(
        dir,
        readme,
        &json(&machine, &rows),
        &render(&machine, &rows),
    )
}

/// The row's median divided by its comparison's (glibc, or `VecDeque`), as `1.23×`.
fn ratio(rows: &[Row], row: &Row) -> String {
    ratio_to(rows, row, base(row)).map_or("—".to_string(), |r| format!("{r:.2}×"))
}

/// What a row is compared with.
fn base(row: &Row) -> &'static str {
    match row.key(0) {
        DOUBLING | COPIED => GLIBC_REALLOC,
        STREAM => DEQUE,
        _ => GLIBC_MALLOC,
    }
}

fn render(machine: &Machine, rows: &[Row]) -> String {
    let mut md = headed(
        machine,
        format_args!(
            "**Growing a block by doubling** from 4 KiB to 1 GiB, each new half written as a \
             `Vec` being filled would, through `GlobalAlloc::realloc`; the copying reference \
             allocates, copies and frees on glibc. Bytes copied are counted from page faults \
             (transparent huge pages off): the faults beyond the pages written. Median of \
             {ROUNDS} rounds:\n"
        ),
    );
    line(&mut md, "| way | time | ÷ glibc realloc | MiB copied |");
    line(&mut md, "|---|---:|---:|---:|");
    for row in rows.iter().filter(|row| row.key(0) == DOUBLING) {
        let copied = rows
            .iter()
            .find(|other| other.key(0) == COPIED && other.key(1) == row.key(1))
            .map_or("—".to_string(), |c| format!("{:.0}", c.median));
        line(
            &mut md,
            format_args!(
                "| {} | {:.0} ms | {} | {copied} |",
                row.key(1),
                row.median,
                ratio(rows, row)
            ),
        );
    }
    line(
        &mut md,
        format_args!(
            "\n**Mixed small objects**: blocks of 8 B to 4 KiB (smaller ones more often), \
             allocated and freed at random in 4096 slots per thread, 4 million operations \
             shared out among the threads (2 cores); `mman::alloc::Malloc` (dlmalloc shards \
             over mman, each with a cache of freed blocks by size class; no libc underneath) \
             against glibc's malloc. Median of {SHORT_ROUNDS} rounds, the ways taking turns:\n"
        ),
    );
    line(&mut md, "| workload | way | time | ÷ glibc |");
    line(&mut md, "|---|---|---:|---:|");
    for row in rows.iter().filter(|row| row.key(0).starts_with("mixed")) {
        line(
            &mut md,
            format_args!(
                "| {} | {} | {:.0} ms | {} |",
                row.key(0),
                row.key(1),
                row.median,
                ratio(rows, row)
            ),
        );
    }
    line(
        &mut md,
        format_args!(
            "\n**Streaming 1 GiB through a 1 MiB ring** (the same capacity for every way) in \
             records of 1 to 2048 bytes, so that some straddle the wrap; one thread fills the \
             ring, then empties it, in turn. Each record is made by a fill and read as 8-byte \
             words (a stand-in for a parser that needs it as one `&[u8]`): the same work in \
             every way, so the differences are how the bytes move. `MirrorBuffer` makes and \
             reads each record in place, across the wrap too; `VecDeque<u8>` copied in and out \
             makes it in a buffer, copies it in, and copies it out into a buffer to read it \
             (the comparison of the README's claim and of the 2× target). For reference, the \
             third row reads a record in place when it lies whole in the first of `as_slices` \
             and copies out only one split by the wrap, and the last makes and reads the same \
             records in a plain buffer with no queue at all: the floor of any queue. Median of \
             {SHORT_ROUNDS} rounds, the ways taking turns:\n"
        ),
    );
    line(&mut md, "| way | time | ÷ VecDeque copied in and out |");
    line(&mut md, "|---|---:|---:|");
    for row in rows.iter().filter(|row| row.key(0) == STREAM) {
        line(
            &mut md,
            format_args!(
                "| {} | {:.0} ms | {} |",
                row.key(1),
                row.median,
                ratio(rows, row)
            ),
        );
    }
    md
}

fn json(machine: &Machine, rows: &[Row]) -> Json {
    let results = rows.iter().map(|row| {
        Json::object([
            ("measurement", row.key(0).into()),
            ("way", row.key(1).into()),
            ("median", row.median.into()),
            ("min", row.min.into()),
            ("max", row.max.into()),
            (
                "ratio_to_base",
                ratio_to(rows, row, base(row)).map_or(Json::Null, Json::from),
            ),
        ])
    });
    Json::object([
        ("machine", machine_json(machine)),
        ("unit", "ms, or MiB for the bytes copied".into()),
        ("rounds", (ROUNDS as u64).into()),
        ("short_rounds", (SHORT_ROUNDS as u64).into()),
        ("results", Json::Array(results.collect())),
    ])
}
