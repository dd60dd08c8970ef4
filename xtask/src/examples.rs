//! The package's examples, and which of them are freestanding.

use std::fs;
use std::path::PathBuf;

use crate::workspace_root;

pub struct Example {
    pub name: String,
    /// `#![no_main]`: brings its own `_start` and is linked without the C
    /// runtime (see `freestanding`) instead of being run with `cargo run`.
    pub freestanding: bool,
    /// Freestanding and built once more with `--cfg mman_panic_check`, whose link fails if
    /// any panic path is reachable: its source has the panic handler for that build, which
    /// calls the undefined `mman_panic_is_reachable`.
    pub panic_checked: bool,
}

/// The examples where cargo looks by itself: `examples/NAME.rs` and
/// `examples/NAME/main.rs`. (An `[[example]]` section may configure one,
/// but one with a `path =` elsewhere would not be found.)
pub fn find() -> Vec<Example> {
    let Ok(dir) = fs::read_dir(workspace_root().join("examples")) else {
        return Vec::new();
    };
    let mut examples: Vec<Example> = dir
        .flatten()
        .filter_map(|entry| {
            let path = entry.path();
            let (name, source): (String, PathBuf) = if path.is_dir() {
                (
                    entry.file_name().to_string_lossy().into_owned(),
                    path.join("main.rs"),
                )
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                (path.file_stem()?.to_string_lossy().into_owned(), path)
            } else {
                return None;
            };
            let text = fs::read_to_string(source).ok()?;
            Some(Example {
                name,
                freestanding: text.contains("#![no_main]"),
                panic_checked: text.contains("mman_panic_is_reachable"),
            })
        })
        .collect();
    examples.sort_by(|a, b| a.name.cmp(&b.name));
    examples
}
