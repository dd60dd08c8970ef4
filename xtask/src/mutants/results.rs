//! `xtask/mutants/results.txt`: the latest run over each whole module, kept module by module
//! so that the README's table shows every module, not only the last run's scope.
//!
//! Each entry starts with a `module:` line and has one `key: value` line per fact:
//!
//! ```text
//! module: src/mapping
//! date: 2026-11-29
//! tests: every host test (`cargo test --all-features --tests`)
//! seconds: 2057
//! killed: 172
//! survived: 15
//! timed out: 1
//! unviable: 52
//! survivor: src/mapping/ops.rs:247:37: replace < with <= in Mapping::remap_file
//! timeout: src/mapping/options.rs:350:9: replace MapOptions::is_shared -> bool with false
//! note: free text, one line each
//! ```
//!
//! The counts are the run's; `survivor:` lines name the mutants that still survive (a run
//! of `cargo xtask mutants` names every survivor; an entry edited after a run made by hand
//! may leave out those that tests added since kill, saying so in a `note:`). `#` lines and
//! blank lines are comments.

use std::fmt::Write;

use super::outcome::Outcomes;

/// The latest run over one module.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    pub module: String,
    pub date: String,
    /// Which tests judged the mutants.
    pub tests: String,
    pub seconds: u64,
    pub killed: usize,
    pub survived: usize,
    pub timed_out: usize,
    pub unviable: usize,
    /// Mutants that still survive, by name.
    pub survivors: Vec<String>,
    /// Mutants whose tests ran past the time limit, by name.
    pub timeouts: Vec<String>,
    pub notes: Vec<String>,
}

impl Entry {
    /// The entry a run of `cargo xtask mutants` over a whole module makes.
    pub fn of_run(module: &str, date: &str, tests: &str, seconds: u64, o: &Outcomes) -> Entry {
        Entry {
            module: module.to_string(),
            date: date.to_string(),
            tests: tests.to_string(),
            seconds,
            killed: o.killed.len(),
            survived: o.survived.len(),
            timed_out: o.timed_out.len(),
            unviable: o.unviable.len(),
            survivors: o.survived.clone(),
            timeouts: o.timed_out.clone(),
            notes: Vec::new(),
        }
    }

    pub fn tried(&self) -> usize {
        self.killed + self.survived + self.timed_out + self.unviable
    }
}

/// The file's header: what it is, for someone who opens it.
const HEADER: &str = "\
# The latest run of cargo-mutants over each whole module (see xtask/src/mutants/results.rs
# for the format). `cargo xtask mutants` replaces a module's entry after each run over the
# whole module, and writes the README's mutation-testing table from this file.
";

/// Reads the entries of a results file; `Err` names the first line it cannot read.
pub fn parse(text: &str) -> Result<Vec<Entry>, String> {
    let mut entries: Vec<Entry> = Vec::new();
    for (number, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |why: &str| format!("results line {number}: {why}: `{line}`");
        let (key, value) = line
            .split_once(':')
            .map(|(k, v)| (k.trim(), v.trim()))
            .ok_or_else(|| bad("no `key:`"))?;
        if key == "module" {
            entries.push(Entry {
                module: value.to_string(),
                ..Entry::default()
            });
            continue;
        }
        let entry = entries
            .last_mut()
            .ok_or_else(|| bad("a fact before the first `module:`"))?;
        let count = || value.parse::<usize>().map_err(|_| bad("not a number"));
        match key {
            "date" => entry.date = value.to_string(),
            "tests" => entry.tests = value.to_string(),
            "seconds" => entry.seconds = count()? as u64,
            "killed" => entry.killed = count()?,
            "survived" => entry.survived = count()?,
            "timed out" => entry.timed_out = count()?,
            "unviable" => entry.unviable = count()?,
            "survivor" => entry.survivors.push(value.to_string()),
            "timeout" => entry.timeouts.push(value.to_string()),
            "note" => entry.notes.push(value.to_string()),
            _ => return Err(bad("unknown key")),
        }
    }
    Ok(entries)
}

/// The text of a results file holding `entries`.
pub fn render(entries: &[Entry]) -> String {
    let mut text = HEADER.to_string();
    for e in entries {
        let mut facts = vec![
            ("module", e.module.clone()),
            ("date", e.date.clone()),
            ("tests", e.tests.clone()),
            ("seconds", e.seconds.to_string()),
            ("killed", e.killed.to_string()),
            ("survived", e.survived.to_string()),
            ("timed out", e.timed_out.to_string()),
            ("unviable", e.unviable.to_string()),
        ];
        facts.extend(e.survivors.iter().map(|name| ("survivor", name.clone())));
        facts.extend(e.timeouts.iter().map(|name| ("timeout", name.clone())));
        facts.extend(e.notes.iter().map(|note| ("note", note.clone())));
        text.push('\n');
        for (key, value) in facts {
            writeln!(text, "{key}: {value}").expect("writing to a String");
        }
    }
    text
}

/// `entries` with `new` in place of the module's entry (or added, if it had none).
pub fn replace(mut entries: Vec<Entry>, new: Entry) -> Vec<Entry> {
    match entries.iter_mut().find(|e| e.module == new.module) {
        Some(old) => *old = new,
        None => entries.push(new),
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            module: "src/ring".into(),
            date: "2026-11-30".into(),
            tests: "--test ring --lib".into(),
            seconds: 2280,
            killed: 57,
            survived: 7,
            timed_out: 15,
            unviable: 21,
            survivors: vec![
                "src/ring/region.rs:110:9: replace <impl Drop for Region>::drop with ()".into(),
            ],
            timeouts: vec!["src/ring/mod.rs:184:9: replace Ring::alive -> bool with false".into()],
            notes: vec!["6 survivors killed since: ring's new tests".into()],
        }
    }

    #[test]
    fn an_entry_reads_back_as_written() {
        let text = render(&[entry()]);
        assert!(text.contains("\nmodule: src/ring\n"), "{text}");
        assert_eq!(parse(&text), Ok(vec![entry()]));
        assert_eq!(entry().tried(), 100);
    }

    #[test]
    fn a_module_run_replaces_only_its_own_entry() {
        let other = Entry {
            module: "src/mapping".into(),
            ..Entry::default()
        };
        let newer = Entry {
            killed: 60,
            ..entry()
        };
        let entries = replace(vec![other.clone(), entry()], newer.clone());
        assert_eq!(entries, [other.clone(), newer.clone()]);
        assert_eq!(replace(vec![other.clone()], newer.clone()), [other, newer]);
    }

    #[test]
    fn unreadable_lines_are_errors() {
        assert!(parse("killed: 3\n").unwrap_err().contains("line 1"));
        assert!(parse("module: a\nkilled: many\n")
            .unwrap_err()
            .contains("line 2"));
        assert!(parse("module: a\ncolour: blue\n").is_err());
        assert_eq!(parse("# only a comment\n\n"), Ok(vec![]));
    }
}
