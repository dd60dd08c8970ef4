//! The result of a `cargo xtask mutants` run as Markdown: `xtask/mutants/last-run.md`, and
//! the README's mutation-testing section.

use std::fmt::Write;
use std::time::Duration;

use super::known::{self, Known};
use super::outcome::{without_position, Outcomes};

/// One cargo-mutants run: a module, or the files given with `--file`.
pub struct Scope {
    pub name: String,
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
            match known::reason(&run.known, &without_position(name)) {
                Some(reason) if !reason.is_empty() => {
                    line(&mut md, format_args!("- `{name}`: {reason}"))
                }
                _ => line(&mut md, format_args!("- `{name}`: no test kills it yet")),
            }
        }
    }
    if !total.timed_out.is_empty() {
        line(
            &mut md,
            "\nTimed out (the tests did not finish in time: counted apart from killed):\n",
        );
        for name in &total.timed_out {
            line(&mut md, format_args!("- `{name}`"));
        }
    }
    md
}

fn row(md: &mut String, name: &str, o: &Outcomes, elapsed: Duration) {
    line(
        md,
        format_args!(
            "| {name} | {} | {} | {} | {} | {} | {} |",
            o.tried(),
            o.killed.len(),
            o.survived.len(),
            o.timed_out.len(),
            o.unviable.len(),
            minutes(elapsed)
        ),
    );
}

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
}
