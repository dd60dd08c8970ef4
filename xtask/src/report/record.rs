//! Lane results as text, for handing them from a lane's own process back to the `test`
//! that started it (`crate::side_by_side`): one `key value` line per field, texts escaped
//! to one line, `end` after each result.

use std::time::Duration;

use super::LaneResult;
use crate::arch::Arch;
use crate::lanes::Lane;
use crate::system::Series;

/// `results` as records.
pub fn write(results: &[LaneResult]) -> String {
    let mut out = String::new();
    for r in results {
        let mut field = |key: &str, value: &str| {
            out.push_str(key);
            out.push(' ');
            out.push_str(&escape(value));
            out.push('\n');
        };
        field("lane", r.lane);
        field("arch", r.arch.name());
        if let Some(kernel) = r.kernel {
            field("kernel", kernel);
        }
        field("elapsed", &r.elapsed.as_secs_f64().to_string());
        field("runs", &r.suite_runs.to_string());
        field("passed", &r.tally.passed.to_string());
        field("failed", &r.tally.failed.to_string());
        field("ignored", &r.tally.ignored.to_string());
        field("programs", &r.tally.programs.to_string());
        for skip in &r.tally.skips {
            field("skip", skip);
        }
        for failure in &r.failures {
            field("failure", failure);
        }
        for note in &r.notes {
            field("note", note);
        }
        out.push_str("end\n");
    }
    out
}

/// The results `write` wrote; an error names the first line that is not one of its.
pub fn read(text: &str) -> Result<Vec<LaneResult>, String> {
    let mut results = Vec::new();
    let mut current: Option<LaneResult> = None;
    for (n, line) in text.lines().enumerate() {
        let bad = || format!("line {}: `{line}`", n + 1);
        if line == "end" {
            results.push(current.take().ok_or_else(bad)?);
            continue;
        }
        let (key, value) = line.split_once(' ').ok_or_else(bad)?;
        let value = unescape(value);
        if key == "lane" {
            let lane = Lane::ALL.into_iter().map(Lane::name).find(|&l| l == value);
            current = Some(LaneResult::new(lane.ok_or_else(bad)?, Arch::HOST, None));
            continue;
        }
        let r = current.as_mut().ok_or_else(bad)?;
        let number = || value.parse::<u64>().map_err(|_| bad());
        match key {
            "arch" => {
                r.arch = Arch::ALL
                    .into_iter()
                    .find(|a| a.name() == value)
                    .ok_or_else(bad)?
            }
            "kernel" => {
                let mut series = Series::ALL.into_iter().map(Series::name);
                r.kernel = Some(series.find(|&s| s == value).ok_or_else(bad)?);
            }
            "elapsed" => {
                let seconds = value.parse::<f64>().map_err(|_| bad())?;
                r.elapsed = Duration::try_from_secs_f64(seconds).map_err(|_| bad())?;
            }
            "runs" => r.suite_runs = number()?,
            "passed" => r.tally.passed = number()?,
            "failed" => r.tally.failed = number()?,
            "ignored" => r.tally.ignored = number()?,
            "programs" => r.tally.programs = number()?,
            "skip" => r.tally.skips.push(value),
            "failure" => r.failures.push(value),
            "note" => r.notes.push(value),
            _ => return Err(bad()),
        }
    }
    match current {
        None => Ok(results),
        Some(_) => Err("the last result has no `end`".into()),
    }
}

/// One line: backslashes and line breaks written as `\\` and `\n`.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            (c, false) => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Tally;

    #[test]
    fn results_come_back_as_they_were_written() {
        let mut system = LaneResult::new("system", Arch::Aarch64, Some("6.12"));
        system.elapsed = Duration::from_millis(123_456);
        system.suite_runs = 1;
        system.tally = Tally {
            passed: 411,
            failed: 2,
            ignored: 1,
            skips: vec!["a: needs Linux 6.13\nsecond line".into(), "b: \\n".into()],
            programs: 27,
        };
        system.failures.push("tests/leaks: 1 failed".into());
        system.notes.push("kernel 6.12.117".into());
        let host = LaneResult::new("host", Arch::X86_64, None);

        let back = read(&write(&[system, host])).expect("reads what write wrote");
        assert_eq!(back.len(), 2);
        let (s, h) = (&back[0], &back[1]);
        assert_eq!(
            (s.lane, s.arch, s.kernel),
            ("system", Arch::Aarch64, Some("6.12"))
        );
        assert_eq!(s.elapsed, Duration::from_millis(123_456));
        assert_eq!(s.suite_runs, 1);
        let t = &s.tally;
        assert_eq!((t.passed, t.failed, t.ignored, t.programs), (411, 2, 1, 27));
        assert_eq!(t.skips, ["a: needs Linux 6.13\nsecond line", "b: \\n"]);
        assert_eq!(s.failures, ["tests/leaks: 1 failed"]);
        assert_eq!(s.notes, ["kernel 6.12.117"]);
        assert_eq!((h.lane, h.arch, h.kernel), ("host", Arch::X86_64, None));
    }

    #[test]
    fn a_cut_off_or_foreign_record_is_an_error() {
        let whole = write(&[LaneResult::new("user", Arch::Riscv64, None)]);
        assert!(read(whole.trim_end_matches("end\n")).is_err());
        assert!(read("lane user\nweather sunny\nend\n").is_err());
        assert!(read("lane nowhere\nend\n").is_err());
        assert!(read("passed 3\nend\n").is_err());
    }
}
