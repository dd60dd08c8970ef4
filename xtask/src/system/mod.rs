//! The system lane: the test programs as the whole userland of a real
//! Debian kernel, booted under qemu-system. qemu-user only translates
//! system calls for the host's kernel; here each architecture meets the
//! kernels mman claims to support (6.1 and 6.12 where Debian has them, and
//! Debian's newest where it has no 6.1), and calls a kernel lacks show up as
//! the tests' skips.
//!
//! Per architecture: build every test program and ordinary example
//! statically (a debug build, and a release build for the last kernel),
//! strip them, pack them with `/init` (the `xtask/init` crate) into an
//! initramfs; then per kernel: fetch it, boot it, read the console.
//! Doctests stay with the other lanes: rustdoc builds them only to run them
//! there and then.

mod build;
mod initramfs;
pub(crate) mod kernels;
// Init's half of it (rendering events, the test arguments) is unused here.
#[allow(dead_code)]
mod protocol;
mod qemu;
mod verdict;

pub use kernels::Series;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::arch::Arch;
use crate::examples;
use crate::report::{self, LaneResult};
use crate::suite;
use crate::toolchain::{self, Rust, Toolchain};
use crate::workspace_root;

use build::Program;
use initramfs::Initramfs;
use protocol::Event;
use qemu::{Boot, Console};
use verdict::Verdict;

pub const LANE: &str = "system";

/// Generous: a whole run takes 3 to 4 minutes on x86_64 and aarch64 and longer on the
/// emulated riscv64 (longer still on a loaded machine); a hung test must not hang CI.
const TIME_LIMIT: Duration = Duration::from_secs(25 * 60);

/// How much of a failed run's console to print.
const TAIL_LINES: usize = 40;

/// Which build of the programs a boot runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Profile {
    /// Debug assertions and overflow checks on.
    Debug,
    /// Optimised: values stay in registers across system calls, so a register the kernel
    /// changes but an `arch/` clobber list leaves out breaks the program here (qemu-user
    /// does not clobber registers as a kernel does, so only a real kernel shows it).
    Release,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Debug => "debug",
            Profile::Release => "release",
        }
    }

    /// Each arch's newest series boots the release build, its others the debug build:
    /// both builds meet a real kernel, at the price of one more build, not more boots.
    fn of(arch: Arch, series: Series) -> Profile {
        match Series::of(arch).last() == Some(&series) {
            true => Profile::Release,
            false => Profile::Debug,
        }
    }
}

/// Runs the lane for `arch` on each kernel in `kernels`: one result each.
/// `verbose` shows the whole console as it comes, rather than init's lines.
/// No kernels named: every series Debian has for `arch` (`Series::of`).
pub fn run(arch: Arch, kernels: &[Series], verbose: bool) -> Vec<LaneResult> {
    let kernels = match kernels.is_empty() {
        true => Series::of(arch),
        false => kernels,
    };
    // Each build is made on the turn of the first kernel that boots it, so that its time
    // is that lane's.
    let mut packed: BTreeMap<&str, Result<Packed, String>> = BTreeMap::new();
    let mut results = Vec::new();
    for &series in kernels {
        report::lane_start(LANE, arch, Some(series.name()));
        let start = Instant::now();
        let mut result = LaneResult::new(LANE, arch, Some(series.name()));
        let profile = Profile::of(arch, series);
        if !series.exists_for(arch) {
            result.failures.push(format!(
                "Debian has no {} kernel for {}",
                series.name(),
                arch.name()
            ));
        } else {
            let built = packed.entry(profile.name()).or_insert_with(|| {
                let built = pack(arch, profile);
                if let Ok(packed) = &built {
                    result.notes.push(packed.summary.clone());
                }
                built
            });
            result
                .notes
                .push(format!("runs the {} build", profile.name()));
            match built {
                Ok(packed) => boot(arch, series, packed, verbose, &mut result),
                Err(failure) => result.failures.push(failure.clone()),
            }
        }
        result.elapsed = start.elapsed();
        report::lane_end(&result);
        results.push(result);
    }
    results
}

/// An initramfs ready to boot, and what it holds.
struct Packed {
    initramfs: PathBuf,
    /// The names init will report, `tests/NAME` and `examples/NAME`.
    programs: Vec<String>,
    /// The tests each test program lists (`--list`, run here before packing).
    listed: BTreeMap<String, Vec<String>>,
    /// What was built and how long it took, for the lane's notes.
    summary: String,
}

/// The Rust that can build static programs for `arch` here: rustup's has
/// only the host's std; Debian's rustc-web comes with a prebuilt aarch64 one
/// and builds the others' from its library source.
fn rust_for(arch: Arch) -> Rust {
    match arch {
        Arch::HOST => Rust::Rustup,
        _ => Rust::Debian,
    }
}

/// `target/system/ARCH`: each build's initramfs (under `debug/`, `release/`) and the
/// consoles.
fn lane_dir(arch: Arch) -> PathBuf {
    workspace_root().join("target").join(LANE).join(arch.name())
}

/// Builds, strips and packs everything for `arch`.
fn pack(arch: Arch, profile: Profile) -> Result<Packed, String> {
    let start = Instant::now();
    let toolchain = Toolchain::fully_static(rust_for(arch), arch);
    let mut missing = toolchain.missing();
    // Booting, and fetching kernels (dpkg-deb and tar unpack them).
    let tools = [
        qemu::program(arch),
        "apt-get",
        "apt-cache",
        "dpkg-deb",
        "tar",
    ];
    missing.extend(
        tools
            .iter()
            .filter(|tool| !toolchain::present(tool))
            .map(|tool| tool.to_string()),
    );
    if !missing.is_empty() {
        return Err(format!(
            "missing {}: run `cargo xtask setup`",
            missing.join(", ")
        ));
    }
    // Freestanding examples are static libraries that `freestanding.rs`
    // links by hand, here as there.
    let (freestanding, examples): (Vec<_>, Vec<_>) =
        examples::find().into_iter().partition(|e| e.freestanding);
    let examples: Vec<String> = examples.into_iter().map(|e| e.name).collect();
    let mut programs = build::programs(&toolchain, &examples, profile)?;
    for example in freestanding {
        programs.push(Program {
            binary: crate::freestanding::binary(&toolchain, &example.name)?,
            name: format!("{}/{}", protocol::EXAMPLES_DIR, example.name),
        });
    }
    let init = build::init(&toolchain)?;
    let mut listed = BTreeMap::new();
    for program in programs.iter().filter(|p| p.is_test()) {
        listed.insert(
            program.name.clone(),
            suite::list(&toolchain, &program.binary)?,
        );
    }

    let initramfs = lane_dir(arch).join(profile.name()).join("initramfs.cpio");
    write_initramfs(arch, &initramfs, &init, &programs)?;

    let size = fs::metadata(&initramfs).map(|m| m.len()).unwrap_or(0);
    let summary = format!(
        "built ({}) and packed {} programs in {:.1}s: {} ({:.1} MiB)",
        profile.name(),
        programs.len(),
        start.elapsed().as_secs_f64(),
        initramfs.display(),
        size as f64 / (1 << 20) as f64,
    );
    eprintln!("{summary}");
    let programs = programs.into_iter().map(|p| p.name).collect();
    Ok(Packed {
        initramfs,
        programs,
        listed,
        summary,
    })
}

/// The initramfs: `/init`, the programs under their names, stripped (they
/// are copied into guest memory on every boot, and debug info is most of a
/// static test program's size), and `/dev/console`, which the kernel opens
/// for init's output before init can mount anything.
fn write_initramfs(
    arch: Arch,
    path: &Path,
    init: &Path,
    programs: &[Program],
) -> Result<(), String> {
    let stripped = path.with_file_name("stripped");
    let _ = fs::remove_dir_all(&stripped);
    fs::create_dir_all(&stripped)
        .map_err(|e| format!("cannot create {}: {e}", stripped.display()))?;
    let write_error = |e: io::Error| format!("cannot write {}: {e}", path.display());
    let mut initramfs = Initramfs::create(path).map_err(write_error)?;
    for dir in ["dev", protocol::TESTS_DIR, protocol::EXAMPLES_DIR] {
        initramfs.dir(dir).map_err(write_error)?;
    }
    initramfs
        .char_device("dev/console", 5, 1)
        .map_err(write_error)?;
    let init = Program {
        name: "init".into(),
        binary: init.to_path_buf(),
    };
    for Program { name, binary } in std::iter::once(&init).chain(programs) {
        let small = stripped.join(name);
        strip(arch, binary, &small)?;
        let contents =
            fs::read(&small).map_err(|e| format!("cannot read {}: {e}", small.display()))?;
        initramfs.executable(name, &contents).map_err(write_error)?;
    }
    initramfs.finish().map_err(write_error)
}

/// `strip -o TO FROM`.
fn strip(arch: Arch, from: &Path, to: &Path) -> Result<(), String> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let mut cmd = Command::new(arch.gnu_tool("strip"));
    cmd.arg("-o").arg(to).arg(from);
    match cmd.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{} failed ({status})", crate::run::describe(&cmd))),
        Err(e) => Err(format!("cannot run {:?}: {e}", cmd.get_program())),
    }
}

/// Fetches the kernel, boots it on the initramfs and judges the console.
fn boot(arch: Arch, series: Series, packed: &Packed, verbose: bool, result: &mut LaneResult) {
    let machine = kernels::machine(arch, series);
    let kernel = match kernels::fetch(machine, series) {
        Ok(kernel) => kernel,
        Err(failure) => return result.failures.push(failure),
    };
    let log = lane_dir(arch).join(format!("console-{}.log", series.name()));
    // Init's lines, each program's end with how long it ran (by our clock:
    // the guest's runs at the emulator's pace), and the rest if verbose.
    let started = Cell::new(Instant::now());
    let show = |line: &str| match Event::parse(line) {
        Some(Event::Run { .. }) => {
            started.set(Instant::now());
            eprintln!("    | {line}");
        }
        Some(Event::Exit { .. } | Event::Signal { .. }) => {
            eprintln!(
                "    | {line} ({:.1}s)",
                started.get().elapsed().as_secs_f64()
            );
        }
        Some(_) => eprintln!("    | {line}"),
        None if verbose => eprintln!("    | {line}"),
        None => {}
    };
    let booted = Boot {
        arch: machine,
        vmlinuz: &kernel.vmlinuz,
        initramfs: &packed.initramfs,
        log: &log,
        time_limit: TIME_LIMIT,
        on_line: &show,
    }
    .run();
    let console = match booted {
        Ok(console) => console,
        Err(failure) => return result.failures.push(failure),
    };
    let verdict = verdict::judge(&console, &packed.programs, &packed.listed, TIME_LIMIT);
    let release = verdict.release.as_deref().unwrap_or("(init never said)");
    result.notes.push(format!(
        "kernel {release} from {} {}; boot and tests took {:.1}s; console in {}",
        kernel.package,
        kernel.version,
        console.elapsed.as_secs_f64(),
        log.display()
    ));
    show_failures(&console, &verdict, &log);
    result.notes.extend(verdict.notes);
    result.tally.add(verdict.tally);
    result.suite_runs = 1;
    result.failures.extend(verdict.failures);
}

/// Prints the console output of each failed program and, when the run as a
/// whole went wrong, the end of the console: at most `TAIL_LINES` lines of
/// each, and overlapping stretches once.
fn show_failures(console: &Console, verdict: &Verdict, log: &Path) {
    let whole = 0..console.lines.len();
    let tail = verdict.run_failed.then_some(&whole);
    let mut stretches: Vec<Range<usize>> = verdict
        .failed_output
        .iter()
        .chain(tail)
        .map(|lines| lines.start.max(lines.end.saturating_sub(TAIL_LINES))..lines.end)
        .collect();
    stretches.sort_by_key(|lines| lines.start);
    let mut merged: Vec<Range<usize>> = Vec::new();
    for lines in stretches {
        match merged.last_mut() {
            Some(last) if lines.start <= last.end => last.end = last.end.max(lines.end),
            _ => merged.push(lines),
        }
    }
    for lines in &merged {
        eprintln!(
            "---- lines {}-{} of {} ----",
            lines.start + 1,
            lines.end,
            log.display()
        );
        for line in &console.lines[lines.clone()] {
            eprintln!("{line}");
        }
    }
    if !merged.is_empty() {
        eprintln!("----");
    }
}
