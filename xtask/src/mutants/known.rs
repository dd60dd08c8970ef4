//! `xtask/mutants/known-survivors.txt`: surviving mutants that are known, each with the
//! reason it survives. A reason is the `#` comment lines right above a name, or above the
//! run of names it belongs to; a blank line ends a comment that belongs to no name (the
//! file's own header).

/// A known survivor: its name without line and column, and why it survives.
#[derive(Debug, PartialEq, Eq)]
pub struct Known {
    pub name: String,
    pub reason: String,
}

pub fn parse(text: &str) -> Vec<Known> {
    let mut known = Vec::new();
    let mut comment: Vec<&str> = Vec::new();
    // Whether the last line was a name: a comment after names starts a new reason.
    let mut after_names = false;
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            comment.clear();
            after_names = false;
        } else if let Some(words) = line.strip_prefix('#') {
            if after_names {
                comment.clear();
                after_names = false;
            }
            comment.push(words.trim());
        } else {
            known.push(Known {
                name: line.to_string(),
                reason: comment.join(" "),
            });
            after_names = true;
        }
    }
    known
}

/// The reason recorded for the survivor named `name` (without position), if it is known.
pub fn reason<'a>(known: &'a [Known], name: &str) -> Option<&'a str> {
    known
        .iter()
        .find(|k| k.name == name)
        .map(|k| k.reason.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_the_comments_right_above_a_name() {
        let text = "# header, no name follows\n\n# why a\n# survives\nsrc/a.rs: replace x\n\
                    src/a.rs: replace w\n\nsrc/b.rs: replace y\n";
        assert_eq!(
            parse(text),
            [
                Known {
                    name: "src/a.rs: replace x".into(),
                    reason: "why a survives".into()
                },
                Known {
                    name: "src/a.rs: replace w".into(),
                    reason: "why a survives".into()
                },
                Known {
                    name: "src/b.rs: replace y".into(),
                    reason: String::new()
                },
            ]
        );
        assert_eq!(
            reason(&parse(text), "src/a.rs: replace x"),
            Some("why a survives")
        );
        assert_eq!(reason(&parse(text), "src/c.rs: replace z"), None);
    }
}
