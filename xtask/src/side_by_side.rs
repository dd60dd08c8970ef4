//! Lanes side by side. One lane leaves most of the machine idle: its builds wait on one
//! crate at a time and on links, its emulated kernels run one test program at a time. So
//! `test` runs each (lane, arch) as a process of its own (`cargo xtask test --lane L --arch A
//! --results FILE`), `--jobs` of them at once (by default one per core), with its output in
//! `target/lanes/L-A.log`, printed whole when it ends so that lanes never interleave.
//!
//! Two rules keep lanes that run together from meeting:
//! - one lane per architecture at a time: the user and system lanes of an architecture
//!   share one cross build (the same target directory and flags), and the freestanding
//!   examples' links write the same files;
//! - one lane on the host's kernel at a time (host, user): their tests share that kernel's
//!   huge page pool, its memory pressure and its System V limits. A system lane's tests
//!   run on a kernel of their own.

use std::fs::{self, File};
use std::io;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::arch::Arch;
use crate::cli::TestOptions;
use crate::lanes::Lane;
use crate::report::{self, record, LaneResult};
use crate::system::Series;
use crate::workspace_root;

mod order;

/// How often the running lanes are looked at.
const POLL: Duration = Duration::from_millis(500);

/// Runs `jobs`, `workers` at a time; their results in the order of `jobs`.
pub fn run(jobs: &[(Lane, Arch)], options: &TestOptions, workers: usize) -> Vec<LaneResult> {
    let dir = workspace_root().join("target").join("lanes");
    if let Err(e) = fs::create_dir_all(&dir) {
        // Every lane fails: no results would read as a run with nothing wrong.
        let failure = format!("cannot create {}: {e}", dir.display());
        return jobs
            .iter()
            .map(|&job| failed(job, failure.clone()))
            .collect();
    }
    let start = Instant::now();
    let costs: Vec<u64> = jobs
        .iter()
        .map(|&job| expected_seconds(job, options))
        .collect();
    let mut waiting = order::best(jobs, &costs, workers);
    let mut running: Vec<Running> = Vec::new();
    let mut results: Vec<Option<Vec<LaneResult>>> = jobs.iter().map(|_| None).collect();
    while !waiting.is_empty() || !running.is_empty() {
        while running.len() < workers {
            let beside: Vec<(Lane, Arch)> = running.iter().map(|r| r.job).collect();
            let Some(next) = order::first_free(&waiting, jobs, &beside) else {
                break;
            };
            waiting.retain(|&i| i != next);
            match Running::start(next, jobs[next], options, &dir) {
                Ok(lane) => running.push(lane),
                Err(failure) => results[next] = Some(vec![failed(jobs[next], failure)]),
            }
        }
        thread::sleep(POLL);
        let mut still = Vec::new();
        for lane in running.drain(..) {
            let index = lane.index;
            match lane.finished() {
                Ok(done) => results[index] = Some(done),
                Err(lane) => still.push(lane),
            }
        }
        running = still;
    }
    eprintln!(
        "==> {} lanes, up to {workers} at a time, in {:.1}s",
        jobs.len(),
        start.elapsed().as_secs_f64()
    );
    results.into_iter().flatten().flatten().collect()
}

/// A rough cost in seconds, measured cold on the 2-core machine, for the order only: a
/// lane's time is mostly its builds (std from source where `-Zbuild-std` is needed, then the
/// test programs, debug and release) and, in the system lane, about three minutes per kernel.
fn expected_seconds((lane, arch): (Lane, Arch), options: &TestOptions) -> u64 {
    let builds_std = !arch.prebuilt_std();
    match lane {
        Lane::Host => 500,
        Lane::User => match builds_std {
            true => 400,
            false => 60,
        },
        Lane::System => {
            let kernels = match options.kernels.is_empty() {
                true => Series::of(arch).len(),
                false => options.kernels.len(),
            };
            let builds = match builds_std {
                true => 250,
                false => 200,
            };
            builds + 170 * kernels as u64
        }
    }
}

/// A lane whose results could not be had.
fn failed((lane, arch): (Lane, Arch), failure: String) -> LaneResult {
    let mut result = LaneResult::new(lane.name(), arch, None);
    result.failures.push(failure);
    report::lane_end(&result);
    result
}

/// One lane's process.
struct Running {
    index: usize,
    job: (Lane, Arch),
    child: Child,
    log: PathBuf,
    results: PathBuf,
}

impl Running {
    fn start(
        index: usize,
        job: (Lane, Arch),
        options: &TestOptions,
        dir: &std::path::Path,
    ) -> Result<Running, String> {
        let (lane, arch) = job;
        let name = format!("{}-{}", lane.name(), arch.name());
        let log = dir.join(format!("{name}.log"));
        let results = dir.join(format!("{name}.results"));
        let _ = fs::remove_file(&results);
        let output =
            File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let errors = output
            .try_clone()
            .map_err(|e| format!("cannot share {}: {e}", log.display()))?;
        let exe = std::env::current_exe().map_err(|e| format!("cannot find xtask itself: {e}"))?;
        let mut cmd = Command::new(exe);
        cmd.args(["test", "--lane", lane.name(), "--arch", arch.name()]);
        for series in &options.kernels {
            cmd.args(["--kernel", series.name()]);
        }
        if options.verbose {
            cmd.arg("--verbose");
        }
        cmd.arg("--results")
            .arg(&results)
            .current_dir(workspace_root())
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start lane {name}: {e}"))?;
        eprintln!(
            "--> lane {} {}: started, output in {}",
            lane.name(),
            arch.name(),
            log.display()
        );
        Ok(Running {
            index,
            job,
            child,
            log,
            results,
        })
    }

    /// Its results once its process has ended (its output printed first), or itself.
    fn finished(mut self) -> Result<Vec<LaneResult>, Running> {
        let status = match self.child.try_wait() {
            Ok(None) => return Err(self),
            Ok(Some(status)) => status.to_string(),
            Err(e) => format!("lost: {e}"),
        };
        if let Ok(mut log) = File::open(&self.log) {
            let _ = io::copy(&mut log, &mut io::stderr());
        }
        let read = fs::read_to_string(&self.results)
            .map_err(|e| e.to_string())
            .and_then(|text| record::read(&text));
        Ok(match read {
            Ok(results) if !results.is_empty() => results,
            other => vec![failed(
                self.job,
                format!(
                    "its process ended ({status}) without results in {} ({}); output in {}",
                    self.results.display(),
                    other.err().unwrap_or_else(|| "none".into()),
                    self.log.display()
                ),
            )],
        })
    }
}
