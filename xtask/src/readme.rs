//! Sections of the README that a command writes: each stands between a start and an end
//! marker line, and each run of the command replaces what is between them.

use std::fs;
use std::path::Path;

/// Replaces the text between `start` and `end` in `readme` with `text`.
pub fn replace_section(readme: &Path, start: &str, end: &str, text: &str) -> Result<(), String> {
    let old =
        fs::read_to_string(readme).map_err(|e| format!("cannot read {}: {e}", readme.display()))?;
    let new = replaced(&old, start, end, text)
        .ok_or_else(|| format!("{} has no `{start}` ... `{end}` section", readme.display()))?;
    fs::write(readme, new).map_err(|e| format!("cannot write {}: {e}", readme.display()))
}

/// `document` with the text between the marker lines `start` and `end` replaced by `text`.
fn replaced(document: &str, start: &str, end: &str, text: &str) -> Option<String> {
    let from = document.find(start)?;
    let to = from + document[from..].find(end)?;
    Some(format!(
        "{}{start}\n{}\n{}",
        &document[..from],
        text.trim_end(),
        &document[to..]
    ))
}

#[cfg(test)]
mod tests {
    use super::replaced;

    #[test]
    fn only_the_text_between_the_markers_changes() {
        let doc = "intro\n<!-- s -->\nold\nlines\n<!-- e -->\nrest\n";
        assert_eq!(
            replaced(doc, "<!-- s -->", "<!-- e -->", "new\n").as_deref(),
            Some("intro\n<!-- s -->\nnew\n<!-- e -->\nrest\n")
        );
        assert_eq!(replaced(doc, "<!-- x -->", "<!-- e -->", "new"), None);
    }
}
