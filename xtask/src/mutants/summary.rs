//! The results of `cargo xtask mutants` as Markdown: a run's (`xtask/mutants/last-run.md`),
//! and every module's latest (the README's mutation-testing section).

use std::fmt::Write;
use std::time::Duration;

use super::known::{self, Known};
use super::outcome::{without_position, Outcomes};
use super::results::Entry;

/// One cargo-mutants run: a module, or the files given with `--file`.
pub struct Scope {
    pub name: String,
    /// The module it covered whole, if it did (then its results are recorded).
    pub module: Option<&'static str>,
    pub outcomes: Outcomes,
    pub elapsed: Duration,
    /// Why it ran no mutant, if it did not (arch/: only `unsafe` code).
    pub note: Option<String>,
}

/// What ran, and how: the heading facts of the summary.
pub struct Run {
    pub date: String,
    /// The command line after `cargo xtask`.
    pub command: String,
    pub tool: &'static str,
    /// Survivors known from `xtask/mutants/known-survivors.txt`, with their reasons.
    pub known: Vec<Known>,
    pub model_sequences: &'static str,
    pub model_seed: &'static str,
    pub scopes: Vec<Scope>,
}

/// Appends a line; writing into a String cannot fail.
fn line(md: &mut String, text: impl std::fmt::Display) {
    writeln!(md, "{text}").expect("writing to a String");
}

pub fn render(run: &Run) -> String {
    let mut md = String::new();
    line(
        &mut md,
        format_args!(
            "Last run {}: `cargo xtask {}` ({}; each mutant against `cargo test \
             --all-features --tests` of mman on the host, the model tests at {} sequences \
             from seed {}, one mutant at a time).\n",
            run.date,
            run.command,
            run.tool.replace('@', " "),
            run.model_sequences,
            run.model_seed
        ),
    );
    line(
        &mut md,
        "| scope | mutants | killed | survived | timed out | unviable | time |",
    );
    line(&mut md, "|---|---:|---:|---:|---:|---:|---:|");
    let mut total = Outcomes::default();
    let mut elapsed = Duration::ZERO;
    for scope in &run.scopes {
        row(&mut md, &scope.name, &scope.outcomes, scope.elapsed);
        total.add(scope.outcomes.clone());
        elapsed += scope.elapsed;
    }
    if run.scopes.len() > 1 {
        row(&mut md, "**total**", &total, elapsed);
    }
    for scope in &run.scopes {
        if let Some(note) = &scope.note {
            line(&mut md, format_args!("\n{}: {note}", scope.name));
        }
    }
    md.push('\n');
    if total.survived.is_empty() {
        line(&mut md, "No mutant survived.");
    } else {
        line(
            &mut md,
            "Survivors (each wants a test that kills it, or a reason it is harmless; reasons \
             from `xtask/mutants/known-survivors.txt`):\n",
        );
        for name in &total.survived {
            survivor(&mut md, &run.known, name);
        }
    }
    if !total.timed_out.is_empty() {
        line(&mut md, TIMED_OUT);
        for name in &total.timed_out {
            line(&mut md, format_args!("- `{name}`"));
        }
    }
    md
}

fn row(md: &mut String, name: &str, o: &Outcomes, elapsed: Duration) {
    let counts = [
        o.killed.len(),
        o.survived.len(),
        o.timed_out.len(),
        o.unviable.len(),
    ];
    cells(md, name, o.tried(), counts, &[minutes(elapsed)]);
}

/// A table row: the name, the mutants tried, `[killed, survived, timed out, unviable]`,
/// then `rest`.
fn cells(md: &mut String, name: &str, tried: usize, counts: [usize; 4], rest: &[String]) {
    let numbers = counts.map(|n| n.to_string()).join(" | ");
    line(
        md,
        format_args!("| {name} | {tried} | {numbers} | {} |", rest.join(" | ")),
    );
}

/// The README's section: one row per module, each from its latest run in `entries`
/// (`xtask/mutants/results.txt`), a module without one marked as not run; then the
/// survivors that each run left, with their reasons from `known`, and its time-outs.
pub fn modules(modules: &[&str], entries: &[Entry], run: &Run) -> String {
    let mut md = String::new();
    line(
        &mut md,
        format_args!(
            "The latest run over each module (from `xtask/mutants/results.txt`, which every \
             run of `cargo xtask mutants` over a whole module updates; {}, one mutant at a \
             time, the model tests at {} sequences from seed {}). `cargo xtask mutants` \
             judges each mutant by every host test (`cargo test --all-features --tests`); a \
             run made by hand with `cargo mutants` over fewer test programs names them.\n",
            run.tool.replace('@', " "),
            run.model_sequences,
            run.model_seed
        ),
    );
    line(
        &mut md,
        "| module | mutants | killed | survived | timed out | unviable | time | date | judged by |",
    );
    line(&mut md, "|---|---:|---:|---:|---:|---:|---:|---|---|");
    let latest = |module: &str| entries.iter().find(|e| e.module == module);
    for module in modules {
        match latest(module) {
            Some(e) => {
                let counts = [e.killed, e.survived, e.timed_out, e.unviable];
                let rest = [
                    minutes(Duration::from_secs(e.seconds)),
                    e.date.clone(),
                    e.tests.clone(),
                ];
                cells(&mut md, module, e.tried(), counts, &rest)
            }
            None => line(
                &mut md,
                format_args!("| {module} | – | – | – | – | – | – | not run yet | |"),
            ),
        }
    }
    let shown: Vec<&Entry> = modules.iter().filter_map(|m| latest(m)).collect();
    for e in &shown {
        for note in &e.notes {
            line(&mut md, format_args!("\n{}: {note}", e.module));
        }
    }
    let survivors: Vec<&String> = shown.iter().flat_map(|e| &e.survivors).collect();
    md.push('\n');
    match survivors.is_empty() {
        true => line(&mut md, "No mutant survives."),
        false => {
            line(
                &mut md,
                "Survivors (each wants a test that kills it, or a reason it is harmless; \
                 reasons from `xtask/mutants/known-survivors.txt`):\n",
            );
            for name in survivors {
                survivor(&mut md, &run.known, name);
            }
        }
    }
    let timeouts: Vec<&String> = shown.iter().flat_map(|e| &e.timeouts).collect();
    if !timeouts.is_empty() {
        line(&mut md, TIMED_OUT);
        for name in timeouts {
            line(&mut md, format_args!("- `{name}`"));
        }
    }
    md
}

/// A survivor's line, with its reason if it is known.
fn survivor(md: &mut String, known: &[Known], name: &str) {
    match known::reason(known, &without_position(name)) {
        Some(reason) if !reason.is_empty() => line(md, format_args!("- `{name}`: {reason}")),
        _ => line(md, format_args!("- `{name}`: no test kills it yet")),
    }
}

const TIMED_OUT: &str =
    "\nTimed out (the tests did not finish in time: counted apart from killed):\n";

/// "42 s", "3 min 5 s".
fn minutes(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{secs} s"),
        _ => format!("{} min {} s", secs / 60, secs % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_and_names_survivors() {
        let run = Run {
            date: "2026-11-29".into(),
            command: "mutants --file src/mapping/range.rs".into(),
            tool: "cargo-mutants@27.1.0",
            known: known::parse("# a test to write\nsrc/mapping/range.rs: replace < with <=\n"),
            model_sequences: "200",
            model_seed: "15",
            scopes: vec![Scope {
                name: "src/mapping/range.rs".into(),
                module: None,
                outcomes: Outcomes {
                    killed: vec!["a".into(), "b".into()],
                    survived: vec!["src/mapping/range.rs:3:5: replace < with <=".into()],
                    timed_out: vec![],
                    unviable: vec!["u".into()],
                },
                elapsed: Duration::from_secs(125),
                note: None,
            }],
        };
        let md = render(&run);
        assert!(
            md.contains("| src/mapping/range.rs | 4 | 2 | 1 | 0 | 1 | 2 min 5 s |"),
            "{md}"
        );
        assert!(
            md.contains("- `src/mapping/range.rs:3:5: replace < with <=`: a test to write"),
            "{md}"
        );
        assert!(!md.contains("total"), "{md}");
    }

    #[test]
    fn every_module_has_its_row_from_its_latest_run() {
        let run = Run {
            date: "2026-11-30".into(),
            command: "mutants".into(),
            tool: "cargo-mutants@27.1.0",
            known: known::parse("# harmless\nsrc/b/x.rs: replace y\n"),
            model_sequences: "200",
            model_seed: "15",
            scopes: vec![],
        };
        let entries = [
            Entry {
                module: "src/b".into(),
                date: "2026-11-29".into(),
                tests: "--test b".into(),
                seconds: 65,
                killed: 7,
                survived: 2,
                unviable: 1,
                survivors: vec![
                    "src/b/x.rs:1:2: replace y".into(),
                    "src/b/z.rs:3:4: z".into(),
                ],
                notes: vec!["one killed since".into()],
                ..Entry::default()
            },
            Entry {
                module: "src/gone".into(),
                survivors: vec!["src/gone/g.rs:1:1: g".into()],
                ..Entry::default()
            },
        ];
        let md = modules(&["src/a", "src/b"], &entries, &run);
        assert!(
            md.contains("| src/a | – | – | – | – | – | – | not run yet | |"),
            "{md}"
        );
        assert!(
            md.contains("| src/b | 10 | 7 | 2 | 0 | 1 | 1 min 5 s | 2026-11-29 | --test b |"),
            "{md}"
        );
        assert!(md.contains("src/b: one killed since"), "{md}");
        assert!(
            md.contains("- `src/b/x.rs:1:2: replace y`: harmless"),
            "{md}"
        );
        assert!(
            md.contains("- `src/b/z.rs:3:4: z`: no test kills it yet"),
            "{md}"
        );
        // An entry of a module no longer mutated is not shown.
        assert!(!md.contains("gone"), "{md}");
        assert!(!md.contains("Timed out"), "{md}");
    }
}
