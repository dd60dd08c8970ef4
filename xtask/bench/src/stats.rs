//! Summaries of repeated measurements, and the line format the xtask reads.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Median, minimum and maximum of some samples.
#[derive(Clone, Copy)]
pub struct Summary {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Summary {
    /// Panics on no samples: every caller takes at least one.
    pub fn of(samples: &[f64]) -> Summary {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Summary {
            median,
            min: sorted[0],
            max: sorted[n - 1],
        }
    }
}

/// Tab-separated lines for the xtask: the key fields, then median, min and max.
pub struct Lines(BufWriter<File>);

impl Lines {
    pub fn create(path: &Path) -> Result<Lines, String> {
        File::create(path)
            .map(|file| Lines(BufWriter::new(file)))
            .map_err(|e| format!("cannot create {}: {e}", path.display()))
    }

    pub fn write(&mut self, keys: &[&str], summary: Summary) -> Result<(), String> {
        let Summary { median, min, max } = summary;
        writeln!(
            self.0,
            "{}\t{median:.3}\t{min:.3}\t{max:.3}",
            keys.join("\t")
        )
        .map_err(|e| format!("cannot write results: {e}"))
    }

    pub fn finish(mut self) -> Result<(), String> {
        self.0
            .flush()
            .map_err(|e| format!("cannot write results: {e}"))
    }
}
