//! `cargo xtask setup`: install the Debian packages the lanes need, and
//! cargo-fuzz and cargo-mutants (from crates.io) for fuzzing and mutation testing;
//! unpack Debian's Rust 1.85 for the host lane's `msrv` step (`msrv`).
//!
//! First it only looks (dpkg-query, files): when everything is present it
//! finishes in well under a second and touches nothing. Otherwise it builds
//! a plan of shell-equivalent actions; as root it carries them out, as
//! anyone else it prints them and fails.

use std::fmt;
use std::fs;
use std::process::{Command, ExitCode};

use crate::{loongarch, msrv, mutants};

const CODENAME: &str = "bookworm";
const BACKPORTS: &str = "bookworm-backports";
const BACKPORTS_FILE: &str = "/etc/apt/sources.list.d/backports.sources";
/// The cargo-fuzz release the fuzz targets are known to work with.
const CARGO_FUZZ: &str = "cargo-fuzz@0.13.2";
/// The foreign dpkg architecture whose prebuilt Rust std the user lane links.
const FOREIGN_ARCH: &str = "arm64";

struct Package {
    name: &'static str,
    /// Must come from bookworm-backports: bookworm's own QEMU is 7.2.
    from_backports: bool,
}

const fn stable(name: &'static str) -> Package {
    Package {
        name,
        from_backports: false,
    }
}

const fn backport(name: &'static str) -> Package {
    Package {
        name,
        from_backports: true,
    }
}

const PACKAGES: &[Package] = &[
    // aarch64 linker, C library (for static linking) and kernel headers.
    stable("gcc-aarch64-linux-gnu"),
    stable("libc6-dev-arm64-cross"),
    stable("linux-libc-dev-arm64-cross"),
    // The same for riscv64, powerpc64le and s390x (their std is built from rust-web-src).
    stable("gcc-riscv64-linux-gnu"),
    stable("libc6-dev-riscv64-cross"),
    stable("linux-libc-dev-riscv64-cross"),
    stable("gcc-powerpc64le-linux-gnu"),
    stable("libc6-dev-ppc64el-cross"),
    stable("linux-libc-dev-ppc64el-cross"),
    stable("gcc-s390x-linux-gnu"),
    stable("libc6-dev-s390x-cross"),
    stable("linux-libc-dev-s390x-cross"),
    // i686 and armv7 (hard-float ARM, Debian's armhf): their std is built too.
    stable("gcc-i686-linux-gnu"),
    stable("libc6-dev-i386-cross"),
    stable("linux-libc-dev-i386-cross"),
    stable("gcc-arm-linux-gnueabihf"),
    stable("libc6-dev-armhf-cross"),
    stable("linux-libc-dev-armhf-cross"),
    // mips64el (n64): its std is built too.
    stable("gcc-mips64el-linux-gnuabi64"),
    stable("libc6-dev-mips64el-cross"),
    stable("linux-libc-dev-mips64el-cross"),
    // Debian's Rust (1.96 from bookworm-security) with its library source,
    // and the matching prebuilt aarch64 std: rustup cannot add targets here.
    stable("rustc-web"),
    stable("cargo-web"),
    stable("rust-web-src"),
    stable("libstd-rust-web-dev:arm64"),
    // Host kernel headers, and valgrind for the host tests.
    stable("linux-libc-dev"),
    // The static C library the system lane links its x86_64 programs with.
    stable("libc6-dev"),
    stable("valgrind"),
    // kill(1), with which the lanes end what a test program left running.
    stable("procps"),
    // QEMU 10: qemu-user for the user lane, qemu-system-* for booting kernels.
    backport("qemu-user"),
    backport("qemu-system-arm"),
    backport("qemu-system-x86"),
    // riscv64 (it brings backports' OpenSBI, its default firmware), powerpc64 (VOF) and
    // s390x (its s390-ccw firmware comes with qemu-system-data).
    backport("qemu-system-riscv"),
    backport("qemu-system-ppc"),
    backport("qemu-system-s390x"),
    // qemu-system-mips64el (the Malta board).
    backport("qemu-system-mips"),
    // qemu-system-loongarch64 (the cross toolchain is not a package here: `loongarch`).
    backport("qemu-system-misc"),
];

/// One step of the plan, shown as the shell command a person would type.
enum Action {
    WriteFile {
        path: &'static str,
        contents: String,
    },
    Run(Vec<String>),
}

impl Action {
    fn run(args: &[&str]) -> Action {
        Action::Run(args.iter().map(ToString::to_string).collect())
    }

    fn apt_install(packages: &[&Package], from_backports: bool) -> Action {
        let mut args = vec!["apt-get", "install", "-y", "--no-install-recommends"];
        if from_backports {
            args.extend(["-t", BACKPORTS]);
        }
        args.extend(packages.iter().map(|p| p.name));
        Action::run(&args)
    }

    fn execute(&self) -> Result<(), String> {
        match self {
            Action::WriteFile { path, contents } => {
                fs::write(path, contents).map_err(|e| format!("cannot write {path}: {e}"))
            }
            Action::Run(args) => {
                let status = Command::new(&args[0])
                    .args(&args[1..])
                    .env("DEBIAN_FRONTEND", "noninteractive")
                    .status()
                    .map_err(|e| format!("cannot start {}: {e}", args[0]))?;
                if status.success() {
                    Ok(())
                } else {
                    Err(format!("`{self}` failed ({status})"))
                }
            }
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Action::WriteFile { path, contents } => {
                write!(f, "cat > {path} <<'EOF'\n{contents}EOF")
            }
            Action::Run(args) if args[0] == "apt-get" => {
                write!(f, "DEBIAN_FRONTEND=noninteractive {}", args.join(" "))
            }
            Action::Run(args) => write!(f, "{}", args.join(" ")),
        }
    }
}

pub fn run() -> ExitCode {
    let tools = setup()
        .and_then(|()| cargo_tool("fuzz", CARGO_FUZZ))
        .and_then(|()| cargo_tool("mutants", mutants::CARGO_MUTANTS))
        .and_then(|()| msrv::unpack())
        .and_then(|()| loongarch::install());
    match tools {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("setup: {message}");
            ExitCode::FAILURE
        }
    }
}

fn setup() -> Result<(), String> {
    let codename = os_codename();
    if codename != CODENAME {
        return Err(format!(
            "this knows Debian 12 ({CODENAME}) only; this system is `{codename}`"
        ));
    }
    let missing: Vec<&Package> = PACKAGES.iter().filter(|p| !is_installed(p)).collect();

    let mut plan = Vec::new();
    if !backports_configured() {
        plan.push(Action::WriteFile {
            path: BACKPORTS_FILE,
            contents: backports_entry(&debian_archive()?),
        });
    }
    if !foreign_arch_added() {
        plan.push(Action::run(&["dpkg", "--add-architecture", FOREIGN_ARCH]));
    }
    // A changed source or architecture needs fresh lists; so does a package
    // apt does not know yet (never updated, or lists from before backports).
    if !plan.is_empty() || !apt_offers_all(&missing) {
        plan.push(Action::run(&["apt-get", "update"]));
    }
    let (backported, stable): (Vec<&Package>, Vec<&Package>) =
        missing.iter().partition(|p| p.from_backports);
    if !stable.is_empty() {
        plan.push(Action::apt_install(&stable, false));
    }
    if !backported.is_empty() {
        plan.push(Action::apt_install(&backported, true));
    }

    if plan.is_empty() {
        println!(
            "setup: everything is installed ({} packages)",
            PACKAGES.len()
        );
        return Ok(());
    }
    if !is_root() {
        eprintln!("setup: run these commands as root (for example after `sudo -s`):\n");
        for action in &plan {
            eprintln!("{action}");
        }
        eprintln!();
        return Err("needs root to install; then run `cargo xtask setup` again".into());
    }
    for action in &plan {
        println!("setup: {action}");
        action.execute()?;
    }
    let still_missing: Vec<&str> = PACKAGES
        .iter()
        .filter(|p| !is_installed(p))
        .map(|p| p.name)
        .collect();
    if !still_missing.is_empty() {
        return Err(format!("still not installed: {}", still_missing.join(" ")));
    }
    println!("setup: done");
    Ok(())
}

/// A cargo subcommand from crates.io, built by rustup's cargo (no root needed): cargo-fuzz
/// for the fuzz step of the host lane and `cargo xtask fuzz` (about 40 s), cargo-mutants
/// for its mutants step and `cargo xtask mutants` (about 4 minutes on 2 cores). Nothing to
/// do when `cargo <subcommand> --version` names the pinned version.
fn cargo_tool(subcommand: &str, pinned: &str) -> Result<(), String> {
    let version = pinned.rsplit('@').next().unwrap_or(pinned);
    match output("cargo", &[subcommand, "--version"]) {
        Some(installed) if installed.split_whitespace().any(|word| word == version) => {
            println!("setup: {} is installed", installed.trim());
            return Ok(());
        }
        Some(installed) => println!("setup: {} is installed; want {pinned}", installed.trim()),
        None => {}
    }
    let install = Action::run(&["cargo", "install", "--locked", pinned]);
    println!("setup: {install}");
    install.execute()
}

/// Installed, and for backports packages the backports version: a bookworm
/// QEMU 7.2 left over from earlier counts as missing, so it gets upgraded.
fn is_installed(package: &Package) -> bool {
    let Some(out) = output(
        "dpkg-query",
        &["-W", "-f=${Status}\t${Version}", package.name],
    ) else {
        return false;
    };
    let (status, version) = out.split_once('\t').unwrap_or((&out, ""));
    // "install ok installed", or "hold ok installed" for a held package.
    status.ends_with(" ok installed") && (!package.from_backports || version.contains("~bpo"))
}

/// Whether apt's lists offer every package (from backports, if it must be).
/// One `apt-cache policy` call for all: each call takes about a second.
fn apt_offers_all(packages: &[&Package]) -> bool {
    if packages.is_empty() {
        return true;
    }
    let mut args = vec!["policy"];
    args.extend(packages.iter().map(|p| p.name));
    let policy = output("apt-cache", &args).unwrap_or_default();
    // The output is one block per known package: a `name:` line at column 0,
    // then indented `Candidate:` and version-table lines.
    let mut blocks: Vec<(&str, String)> = Vec::new();
    for line in policy.lines() {
        match (line.strip_suffix(':'), blocks.last_mut()) {
            (Some(name), _) if !line.starts_with(' ') => blocks.push((name, String::new())),
            (_, Some((_, block))) => block.extend([line, "\n"]),
            _ => {}
        }
    }
    packages.iter().all(|package| {
        let Some((_, block)) = blocks.iter().find(|(name, _)| *name == package.name) else {
            return false;
        };
        if package.from_backports {
            block.contains(BACKPORTS)
        } else {
            !block.contains("Candidate: (none)")
        }
    })
}

/// Whether any apt source (one-line or deb822 format) already names backports.
/// The text of every apt source file (`sources.list`, `sources.list.d/*.list` and
/// `*.sources`), one string each.
fn apt_sources() -> Vec<String> {
    let mut files = vec!["/etc/apt/sources.list".to_string()];
    if let Ok(dir) = fs::read_dir("/etc/apt/sources.list.d") {
        files.extend(
            dir.flatten()
                .map(|e| e.path().to_string_lossy().into_owned())
                .filter(|path| path.ends_with(".list") || path.ends_with(".sources")),
        );
    }
    files
        .iter()
        .map(|file| fs::read_to_string(file).unwrap_or_default())
        .collect()
}

fn backports_configured() -> bool {
    apt_sources().iter().any(|text| {
        text.lines()
            .any(|line| !line.trim_start().starts_with('#') && line.contains(BACKPORTS))
    })
}

/// The URI this machine's apt takes Debian's `bookworm` suite from (its mirror), so that
/// backports come from the same place; no package host is named here.
pub fn debian_archive() -> Result<String, String> {
    apt_sources()
        .iter()
        .find_map(|text| archive_for(text, CODENAME))
        .ok_or_else(|| {
            format!("no apt source for Debian's `{CODENAME}` suite to add {BACKPORTS} beside")
        })
}

/// The machine's source of Debian's security updates for its release, if it has one.
pub fn debian_security_archive() -> Option<String> {
    let suite = format!("{CODENAME}-security");
    apt_sources()
        .iter()
        .find_map(|text| archive_for(text, &suite))
}

/// In one apt source file, one-line (`deb [options] URI SUITE COMPONENTS...`) or deb822
/// (stanzas of `URIs:` and `Suites:` fields, apart by blank lines), the URI of the first
/// source that carries `suite`.
fn archive_for(text: &str, suite: &str) -> Option<String> {
    let lines = text
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'));
    let (mut uris, mut suites) = (Vec::new(), Vec::new());
    for line in lines.chain([""]) {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("deb") => {
                // Options are one bracketed group, which may hold spaces.
                let rest = line.trim_start()["deb".len()..].trim_start();
                let rest = match rest.strip_prefix('[') {
                    Some(options) => options.split_once(']').map_or("", |(_, rest)| rest),
                    None => rest,
                };
                if let [uri, found, ..] = rest.split_whitespace().collect::<Vec<_>>()[..] {
                    if found == suite {
                        return Some(uri.to_string());
                    }
                }
            }
            Some("URIs:") => uris = words.map(str::to_string).collect(),
            Some("Suites:") => suites = words.map(str::to_string).collect(),
            Some(_) => {}
            // A blank line ends a stanza.
            None => {
                if suites.iter().any(|s| s == suite) {
                    if let Some(uri) = uris.first() {
                        return Some(uri.clone());
                    }
                }
                (uris, suites) = (Vec::new(), Vec::new());
            }
        }
    }
    None
}

/// A deb822 source for bookworm-backports from `archive`.
fn backports_entry(archive: &str) -> String {
    format!(
        "Types: deb\nURIs: {archive}\nSuites: {BACKPORTS}\nComponents: main\n\
         Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    )
}

fn foreign_arch_added() -> bool {
    output("dpkg", &["--print-foreign-architectures"])
        .is_some_and(|out| out.lines().any(|arch| arch == FOREIGN_ARCH))
}

fn os_codename() -> String {
    let release = fs::read_to_string("/etc/os-release").unwrap_or_default();
    release
        .lines()
        .find_map(|line| line.strip_prefix("VERSION_CODENAME="))
        .unwrap_or("unknown")
        .trim_matches('"')
        .to_string()
}

/// Effective uid 0, read from /proc (xtask has no libc binding for geteuid).
fn is_root() -> bool {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        == Some("0")
}

/// Stdout of a successful command, or None.
fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_comes_from_a_deb822_stanza_whatever_the_field_order() {
        let text = "Types: deb\n# a comment\nSuites: bookworm bookworm-updates\n\
                    URIs: file:/srv/mirror/debian\nComponents: main\n\n\
                    Types: deb\nURIs: file:/srv/mirror/debian-security\n\
                    Suites: bookworm-security\n";
        assert_eq!(
            archive_for(text, "bookworm").as_deref(),
            Some("file:/srv/mirror/debian")
        );
        assert_eq!(archive_for(text, "trixie"), None);
    }

    #[test]
    fn the_archive_comes_from_a_one_line_source_with_options() {
        let text = "# deb file:/srv/old/debian bookworm main\n\
                    deb [arch=amd64 signed-by=/k.gpg] file:/srv/mirror/debian bookworm main\n";
        assert_eq!(
            archive_for(text, "bookworm").as_deref(),
            Some("file:/srv/mirror/debian")
        );
    }

    #[test]
    fn the_backports_entry_names_the_archive_given() {
        let entry = backports_entry("file:/srv/mirror/debian");
        assert!(entry.contains("URIs: file:/srv/mirror/debian\n"));
        assert!(entry.contains("Suites: bookworm-backports\n"));
    }
}
