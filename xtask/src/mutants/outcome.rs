//! What one cargo-mutants run found, read from the lists it writes into `mutants.out/`.

use std::fs;
use std::path::Path;

/// The mutants of one run, by name (`src/mapping/ops.rs:43:9: replace == with != in ...`),
/// by what the tests made of them.
#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub struct Outcomes {
    /// A test failed with the mutant in place.
    pub killed: Vec<String>,
    /// Every test passed with the mutant in place: a change no test notices.
    pub survived: Vec<String>,
    /// The tests ran past the time limit (mostly mutants that loop for ever).
    pub timed_out: Vec<String>,
    /// The mutant did not build, so no test ran.
    pub unviable: Vec<String>,
}

impl Outcomes {
    /// Reads `<out>/mutants.out/{caught,missed,timeout,unviable}.txt`. A missing list
    /// is empty: cargo-mutants writes them as it goes.
    pub fn read(out: &Path) -> Outcomes {
        let dir = out.join("mutants.out");
        let list = |name: &str| -> Vec<String> {
            fs::read_to_string(dir.join(name))
                .unwrap_or_default()
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(str::to_string)
                .collect()
        };
        Outcomes {
            killed: list("caught.txt"),
            survived: list("missed.txt"),
            timed_out: list("timeout.txt"),
            unviable: list("unviable.txt"),
        }
    }

    pub fn tried(&self) -> usize {
        self.killed.len() + self.survived.len() + self.timed_out.len() + self.unviable.len()
    }

    pub fn add(&mut self, other: Outcomes) {
        self.killed.extend(other.killed);
        self.survived.extend(other.survived);
        self.timed_out.extend(other.timed_out);
        self.unviable.extend(other.unviable);
    }
}

/// A mutant's name without its line and column (`src/x.rs:43:9: replace ...` becomes
/// `src/x.rs: replace ...`), which stays the same when lines above it change.
pub fn without_position(name: &str) -> String {
    let Some((file, rest)) = name.split_once(':') else {
        return name.to_string();
    };
    let mut rest = rest;
    // Up to two numbers (line, column), each followed by a colon.
    for _ in 0..2 {
        match rest.split_once(':') {
            Some((number, after))
                if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) =>
            {
                rest = after
            }
            _ => break,
        }
    }
    format!("{file}:{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_come_off_names() {
        assert_eq!(
            without_position("src/mapping/ops.rs:43:9: replace == with != in Mapping::lend"),
            "src/mapping/ops.rs: replace == with != in Mapping::lend"
        );
        assert_eq!(
            without_position("src/a.rs:7: replace f -> bool with true"),
            "src/a.rs: replace f -> bool with true"
        );
    }

    #[test]
    fn lists_are_read_from_mutants_out() {
        let dir = std::env::temp_dir().join(format!("xtask-outcomes-{}", std::process::id()));
        let out = dir.join("mutants.out");
        fs::create_dir_all(&out).unwrap();
        fs::write(out.join("caught.txt"), "a\nb\n").unwrap();
        fs::write(out.join("missed.txt"), "c\n").unwrap();
        let outcomes = Outcomes::read(&dir);
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(outcomes.killed, ["a", "b"]);
        assert_eq!(outcomes.survived, ["c"]);
        assert!(outcomes.timed_out.is_empty() && outcomes.unviable.is_empty());
        assert_eq!(outcomes.tried(), 3);
    }
}
