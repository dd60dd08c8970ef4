//! The kernels the system lane boots: Debian's own, for each architecture the series Debian
//! builds for it (6.1 from bookworm, 6.12 from bookworm-backports or trixie, and the newest,
//! from sid), in the flavour with the fewest drivers (`cloud` where there is one: the fastest
//! boot; its 8250 and PL011 serial consoles are built in). Each is fetched with `apt-get
//! download` once and cached under `target/kernels/`.
//!
//! The package is looked up when the lane runs, not written down here: a kernel's package
//! name carries its ABI number (`linux-image-6.1.0-56-...`), which changes with every
//! security update. The lookups go through a private apt state in `target/kernels/apt/`
//! (`apt.rs`), so the machine's apt sources and dpkg architectures stay as they are.

pub(crate) mod apt;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::arch::Arch;
use crate::workspace_root;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Series {
    /// bookworm's own kernel, with its security updates.
    V6_1,
    /// bookworm-backports' (trixie's for riscv64, which bookworm lacks).
    V6_12,
    /// Debian's newest (sid's): recent calls (guard pages, 6.13) meet a real kernel there.
    Newest,
}

impl Series {
    pub const ALL: [Series; 3] = [Series::V6_1, Series::V6_12, Series::Newest];

    pub fn name(self) -> &'static str {
        match self {
            Series::V6_1 => "6.1",
            Series::V6_12 => "6.12",
            Series::Newest => "newest",
        }
    }

    /// The suites that carry the series (for any architecture).
    fn suites(self) -> &'static [&'static str] {
        match self {
            Series::V6_1 => &["bookworm", "bookworm-security"],
            Series::V6_12 => &["bookworm-backports", "trixie"],
            Series::Newest => &["sid"],
        }
    }

    /// Whether a kernel of `version` (the meta-package's) belongs to the series.
    fn has(self, version: &str) -> bool {
        match self {
            Series::Newest => true,
            _ => version.starts_with(&format!("{}.", self.name())),
        }
    }

    /// The series the lane boots on `arch` unless told otherwise: those Debian builds for it.
    /// x86_64 and aarch64 boot the newest as well: guard pages (6.13) and other recent calls
    /// meet a real kernel only there. (Debian has no riscv64 6.1.)
    pub fn of(arch: Arch) -> &'static [Series] {
        match arch {
            Arch::X86_64 | Arch::Aarch64 => &[Series::V6_1, Series::V6_12, Series::Newest],
            Arch::Powerpc64le | Arch::S390x => &[Series::V6_1, Series::V6_12],
            // i686's 6.12 is the amd64 kernel's (`machine`).
            Arch::I686 | Arch::Armv7 | Arch::Mips64el => &[Series::V6_1, Series::V6_12],
            Arch::Riscv64 => &[Series::V6_12, Series::Newest],
            // Debian builds loong64 kernels in sid only (7.2 now; none of 6.1 or 6.12).
            Arch::Loongarch64 => &[Series::Newest],
        }
    }

    /// Whether Debian has a kernel of this series for `arch` at all.
    pub fn exists_for(self, arch: Arch) -> bool {
        match arch {
            Arch::Loongarch64 => self == Series::Newest,
            _ => !(self == Series::V6_1 && arch == Arch::Riscv64),
        }
    }
}

/// The kernel flavour booted on `arch`: Debian's meta-package `linux-image-FLAVOUR`
/// depends on the current kernel of that flavour.
fn flavour(arch: Arch) -> String {
    match arch {
        Arch::X86_64 | Arch::Aarch64 => format!("cloud-{}", arch.debian()),
        // One flavour each (powerpc64le's 6.1 runs 64 KiB pages, its 6.12 4 KiB).
        Arch::Riscv64 => "riscv64".into(),
        Arch::Powerpc64le => "powerpc64le".into(),
        Arch::S390x => "s390x".into(),
        Arch::Loongarch64 => "loong64".into(),
        // PAE: the 2 GiB VM's memory above 896 MiB as high memory, and NX.
        Arch::I686 => "686-pae".into(),
        // The multiplatform ARMv7 kernel (qemu's `virt` board among them).
        Arch::Armv7 => "armmp".into(),
        // The MIPS 5Kc (MIPS64 release 1) on qemu's Malta board; its vmlinuz is an ELF.
        Arch::Mips64el => "5kc-malta".into(),
    }
}

/// The architecture of the kernel that runs `arch`'s programs in `series`: its own, but for
/// i686 on 6.12: Debian has no i386 kernel after 6.1 (bookworm-backports' stopped at 6.5), so
/// i686 programs meet 6.12 through the amd64 kernel's ia32 compat layer
/// (`CONFIG_IA32_EMULATION`), which is how most 32-bit x86 programs run today.
pub fn machine(arch: Arch, series: Series) -> Arch {
    match (arch, series) {
        (Arch::I686, Series::V6_12 | Series::Newest) => Arch::X86_64,
        _ => arch,
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

/// The newest `series` kernel Debian has for `arch`, from the cache or downloaded into it.
/// When the mirror cannot deliver the newest (trixie's powerpc64le 6.12.117 answered 404
/// while its lists named it), the next newest of the series is taken.
pub fn fetch(arch: Arch, series: Series) -> Result<Kernel, String> {
    let _held = lock_cache()?;
    let apt = apt::State::current()?;
    let mut failures = Vec::new();
    for (package, version) in packages(&apt, arch, series)? {
        let dir = cache_dir().join(format!("{package}_{version}"));
        let kernel = Kernel {
            vmlinuz: dir.join("vmlinuz"),
            package,
            version,
        };
        if kernel.vmlinuz.is_file() {
            return Ok(kernel);
        }
        match download(&apt, arch, &kernel, &dir) {
            Ok(()) => {
                forget_older(arch, &kernel.version, &dir);
                return Ok(kernel);
            }
            Err(e) => {
                eprintln!("warning: {} {}: {e}", kernel.package, kernel.version);
                failures.push(format!("{} {}: {e}", kernel.package, kernel.version));
            }
        }
    }
    Err(failures.join("; "))
}

fn cache_dir() -> PathBuf {
    workspace_root().join("target").join("kernels")
}

/// The cache and its apt state to this process until the file is dropped: system lanes
/// side by side (`crate::side_by_side`) look kernels up at the same time, and apt's own
/// locks would fail the second lookup rather than make it wait.
fn lock_cache() -> Result<fs::File, String> {
    let path = cache_dir().join("lock");
    fs::create_dir_all(cache_dir())
        .map_err(|e| format!("cannot create {}: {e}", cache_dir().display()))?;
    let file =
        fs::File::create(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.lock()
        .map_err(|e| format!("cannot lock {}: {e}", path.display()))?;
    Ok(file)
}

/// Reads the versions of the flavour's meta-package (`linux-image-cloud-amd64` depends on
/// exactly one kernel package) in the series' suites: the kernel packages, newest first.
fn packages(apt: &apt::State, arch: Arch, series: Series) -> Result<Vec<(String, String)>, String> {
    let meta = format!("linux-image-{}", flavour(arch));
    let records = apt.show(arch, &meta)?;
    // apt lists a package's versions newest first.
    let found: Vec<(String, String)> = records
        .iter()
        .filter_map(|record| {
            let version = record.field("Version")?;
            if !series.has(version) {
                return None;
            }
            // "linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)"; sid's also names linux-base-*.
            let package = record
                .field("Depends")?
                .split(',')
                .filter_map(|dependency| dependency.split_whitespace().next())
                .find(|name| name.starts_with("linux-image-"))?;
            Some((package.to_string(), version.to_string()))
        })
        .collect();
    if found.is_empty() {
        return Err(format!(
            "Debian's {} has no {} kernel in {meta} for {}",
            series.suites().join(" or "),
            series.name(),
            arch.debian()
        ));
    }
    Ok(found)
}

/// Downloads the package and keeps only its kernel image (`boot/vmlinuz-*` or
/// `boot/vmlinux-*`), as `dir/vmlinuz`. Since 6.18 the image package is empty and depends
/// on `linux-binary-*`, which holds `usr/lib/modules/VERSION/vmlinuz`: that one is fetched
/// then. Works in a scratch directory first, so an interrupted run leaves no half-made
/// cache entry.
fn download(apt: &apt::State, arch: Arch, kernel: &Kernel, dir: &Path) -> Result<(), String> {
    let scratch = PathBuf::from(format!("{}.partial", dir.display()));
    let _ = fs::remove_dir_all(&scratch);
    fs::create_dir_all(&scratch)
        .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
    let binary = kernel.package.replacen("linux-image-", "linux-binary-", 1);
    let split = apt
        .show(arch, &kernel.package)?
        .iter()
        .filter_map(|record| record.field("Depends"))
        .any(|depends| depends.contains(&binary));
    let package = if split { &binary } else { &kernel.package };
    eprintln!(
        "--> downloading {package} {} into {}",
        kernel.version,
        cache_dir().display()
    );
    apt.download(arch, package, &kernel.version, &scratch)?;
    let deb = only_file(&scratch, |name| name.ends_with(".deb"))?;

    // dpkg-deb --fsys-tarfile PACKAGE.deb | tar -x --wildcards PATTERN...
    let mut unpack = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(&deb)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run dpkg-deb: {e}"))?;
    let patterns: &[&str] = match split {
        true => &["./usr/lib/modules/*/vmlinu[xz]"],
        false => &["./boot/vmlinu[xz]-*"],
    };
    let tar = succeed(
        Command::new("tar")
            .args(["-x", "--wildcards", "--no-anchored"])
            .args(patterns)
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
    let image_dir = match split {
        true => only_file(&scratch.join("usr/lib/modules"), |_| true)?,
        false => scratch.join("boot"),
    };
    let image = only_file(&image_dir, |name| name.starts_with("vmlinu"))?;
    let rename = |from: &Path, to: &Path| {
        fs::rename(from, to)
            .map_err(|e| format!("cannot rename {} to {}: {e}", from.display(), to.display()))
    };
    rename(&image, &scratch.join("vmlinuz"))?;
    let _ = fs::remove_file(&deb);
    let _ = fs::remove_dir_all(scratch.join("boot"));
    let _ = fs::remove_dir_all(scratch.join("usr"));
    rename(&scratch, dir)
}

/// Removes the cache entries of this kernel's flavour and series (the same major.minor)
/// other than `keep`: each kernel update would otherwise leave a stale 15–110 MB image.
fn forget_older(arch: Arch, version: &str, keep: &Path) {
    let series: String = version.split('.').take(2).collect::<Vec<_>>().join(".");
    let prefix = format!("linux-image-{series}.");
    let flavour = format!("-{}_", flavour(arch));
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

pub(crate) fn succeed(cmd: &mut Command) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    match status.success() {
        true => Ok(()),
        false => Err(format!("{} failed ({status})", crate::run::describe(cmd))),
    }
}
