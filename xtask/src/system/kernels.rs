//! The kernels the system lane boots: Debian's "cloud" flavour (the fewest
//! drivers, so the fastest boot; its 8250 and PL011 serial consoles are built
//! in), from bookworm (6.1) and bookworm-backports (6.12). Each is fetched
//! with `apt-get download` once and cached under `target/kernels/`.
//!
//! The package is looked up when the lane runs, not written down here: a
//! kernel's package name carries its ABI number (`linux-image-6.1.0-56-...`),
//! which changes with every security update.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::arch::Arch;
use crate::workspace_root;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Series {
    /// bookworm's own kernel.
    V6_1,
    /// bookworm-backports'.
    V6_12,
}

impl Series {
    pub const ALL: [Series; 2] = [Series::V6_1, Series::V6_12];

    pub fn name(self) -> &'static str {
        match self {
            Series::V6_1 => "6.1",
            Series::V6_12 => "6.12",
        }
    }
}

/// A kernel unpacked in the cache, ready to boot.
pub struct Kernel {
    /// The Debian package and version it came from, e.g.
    /// `linux-image-6.1.0-56-cloud-amd64` `6.1.192-2`.
    pub package: String,
    pub version: String,
    pub vmlinuz: PathBuf,
}

/// The newest `series` kernel apt knows for `arch`, from the cache or
/// downloaded into it.
pub fn fetch(arch: Arch, series: Series) -> Result<Kernel, String> {
    let (package, version) = newest_package(arch, series)?;
    let dir = cache_dir().join(format!("{package}_{version}"));
    let kernel = Kernel {
        vmlinuz: dir.join("vmlinuz"),
        package,
        version,
    };
    if !kernel.vmlinuz.is_file() {
        download(arch, &kernel, &dir)?;
        forget_older(arch, series, &dir);
    }
    Ok(kernel)
}

fn cache_dir() -> PathBuf {
    workspace_root().join("target").join("kernels")
}

/// Reads the versions of the flavour's meta-package (`linux-image-cloud-amd64`
/// depends on exactly one kernel package) and takes the newest of the series.
fn newest_package(arch: Arch, series: Series) -> Result<(String, String), String> {
    let meta = format!("linux-image-cloud-{0}:{0}", debian_arch(arch));
    let output = Command::new("apt-cache")
        .args(["show", &meta])
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run apt-cache: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    // apt lists a package's versions newest first.
    let newest = text.split("\n\n").find_map(|record| {
        let field = |name: &str| {
            record
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
        };
        let version = field("Version")?;
        if !version.starts_with(&format!("{}.", series.name())) {
            return None;
        }
        // "linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)"
        let package = field("Depends")?.split_whitespace().next()?;
        Some((package.to_string(), version.to_string()))
    });
    newest.ok_or_else(|| {
        format!(
            "apt knows no {} kernel in {meta}; run `cargo xtask setup` (it adds \
             bookworm-backports and the arm64 architecture, and updates apt's lists)",
            series.name()
        )
    })
}

/// Downloads the package and keeps only its `boot/vmlinuz-*`, as `dir/vmlinuz`.
/// Works in a scratch directory first, so an interrupted run leaves no
/// half-made cache entry.
fn download(arch: Arch, kernel: &Kernel, dir: &Path) -> Result<(), String> {
    let scratch = PathBuf::from(format!("{}.partial", dir.display()));
    let _ = fs::remove_dir_all(&scratch);
    fs::create_dir_all(&scratch)
        .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
    eprintln!(
        "--> downloading {} {} into {}",
        kernel.package,
        kernel.version,
        cache_dir().display()
    );
    let spec = format!(
        "{}:{}={}",
        kernel.package,
        debian_arch(arch),
        kernel.version
    );
    succeed(
        Command::new("apt-get")
            // As root apt would hand the download to its `_apt` user, who
            // cannot write here (and says so); this is our own directory.
            .args(["-q", "-o", "APT::Sandbox::User=root", "download", &spec])
            .current_dir(&scratch)
            .stdin(Stdio::null()),
    )
    // The mirrors drop a kernel soon after its successor arrives.
    .map_err(|e| format!("{e}; if apt's lists are old, `apt-get update` (as root) renews them"))?;
    let deb = only_file(&scratch, |name| name.ends_with(".deb"))?;

    // dpkg-deb --fsys-tarfile PACKAGE.deb | tar -x --wildcards './boot/vmlinuz-*'
    let mut unpack = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(&deb)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run dpkg-deb: {e}"))?;
    let tar = succeed(
        Command::new("tar")
            .args(["-x", "--wildcards", "./boot/vmlinuz-*"])
            .current_dir(&scratch)
            .stdin(unpack.stdout.take().expect("piped")),
    );
    let dpkg_deb = unpack.wait().map_err(|e| format!("dpkg-deb: {e}"))?;
    tar?;
    if !dpkg_deb.success() {
        return Err(format!(
            "dpkg-deb --fsys-tarfile {} failed ({dpkg_deb})",
            deb.display()
        ));
    }
    let image = only_file(&scratch.join("boot"), |name| name.starts_with("vmlinuz-"))?;
    let rename = |from: &Path, to: &Path| {
        fs::rename(from, to)
            .map_err(|e| format!("cannot rename {} to {}: {e}", from.display(), to.display()))
    };
    rename(&image, &scratch.join("vmlinuz"))?;
    let _ = fs::remove_file(&deb);
    let _ = fs::remove_dir(scratch.join("boot"));
    rename(&scratch, dir)
}

/// Removes the cache entries of this series and arch other than `keep`:
/// each kernel update would otherwise leave a stale 15–35 MB image behind.
fn forget_older(arch: Arch, series: Series, keep: &Path) {
    let prefix = format!("linux-image-{}.", series.name());
    let flavour = format!("-cloud-{}_", debian_arch(arch));
    let Ok(entries) = fs::read_dir(cache_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && name.contains(&flavour) && entry.path() != keep {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// The one file in `dir` whose name passes `wanted`.
fn only_file(dir: &Path, wanted: impl Fn(&str) -> bool) -> Result<PathBuf, String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let found: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| wanted(&e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect();
    match &found[..] {
        [file] => Ok(file.clone()),
        _ => Err(format!(
            "expected one such file in {}, found {}",
            dir.display(),
            found.len()
        )),
    }
}

fn succeed(cmd: &mut Command) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    match status.success() {
        true => Ok(()),
        false => Err(format!("{} failed ({status})", crate::run::describe(cmd))),
    }
}

/// Debian's name for the architecture.
fn debian_arch(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "amd64",
        Arch::Aarch64 => "arm64",
    }
}
