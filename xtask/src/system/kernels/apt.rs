//! A private apt state for finding and downloading kernels (and loongarch64's cross C
//! library, `crate::loongarch`): its own sources (every suite a kernel series comes from, on
//! the machine's own Debian mirror), its own architectures and lists, all under
//! `target/kernels/apt/`. The machine's apt sources, lists and dpkg
//! architectures are never changed; no root is needed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use crate::arch::Arch;
use crate::setup;
use crate::workspace_root;

use super::{succeed, Series};

/// Lists older than this are renewed before a lookup: the mirrors drop a kernel soon after
/// its successor arrives.
const MAX_AGE: Duration = Duration::from_secs(12 * 60 * 60);

/// One record of `apt-cache show`.
pub struct Record(String);

impl Record {
    /// The value of a one-line field.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.0
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
    }
}

pub struct State {
    config: PathBuf,
}

impl State {
    /// The state, its configuration written and its lists fresh.
    pub fn current() -> Result<State, String> {
        let dir = workspace_root().join("target").join("kernels").join("apt");
        let state = State {
            config: dir.join("apt.conf"),
        };
        let mirror = setup::debian_archive()?;
        for sub in [
            "dpkg",
            "lists/partial",
            "cache/archives/partial",
            "preferences.d",
            "sources.list.d",
        ] {
            fs::create_dir_all(dir.join(sub))
                .map_err(|e| format!("cannot create {}: {e}", dir.join(sub).display()))?;
        }
        let mut suites: Vec<&str> = Series::ALL
            .iter()
            .flat_map(|s| s.suites())
            .copied()
            .collect();
        suites.dedup();
        // Security updates (6.1's current kernel) come from an archive of their own, on
        // the machine's security mirror; without one, bookworm's own kernel is found.
        let security = setup::debian_security_archive();
        let sources: String = suites
            .iter()
            .filter_map(|suite| {
                let archive = match suite.ends_with("-security") {
                    true => security.as_deref()?,
                    false => mirror.as_str(),
                };
                Some(format!(
                    "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] \
                     {archive} {suite} main\n"
                ))
            })
            .collect();
        let arches: String = Arch::ALL
            .iter()
            .map(|arch| format!("\"{}\"; ", arch.debian()))
            .collect();
        let d = dir.display();
        // The machine's own settings (/etc/apt/apt.conf.d: proxies, how to reach and trust
        // its mirror) still apply; only the sources, lists, caches and architectures are ours.
        // An expired Release file (sid's lapsed for an hour this session) is still signed and
        // good enough to find a kernel by; refusing it would fail every system lane.
        // An empty dpkg status of its own: `apt-cache gencaches` takes the lock beside it.
        let config = format!(
            "Dir::State \"{d}\";\nDir::State::Lists \"{d}/lists\";\nDir::Cache \"{d}/cache\";\n\
             Dir::State::status \"{d}/dpkg/status\";\n\
             Dir::Etc::SourceList \"{d}/sources.list\";\n\
             Dir::Etc::SourceParts \"{d}/sources.list.d\";\n\
             Dir::Etc::PreferencesParts \"{d}/preferences.d\";\n\
             APT::Architectures {{ {arches}}};\nAcquire::Languages \"none\";\n\
             APT::Sandbox::User \"root\";\n\
             Acquire::Check-Valid-Until \"false\";\n"
        );
        let changed = write_if_changed(&dir.join("sources.list"), &sources)?
            | write_if_changed(&state.config, &config)?;
        let status = dir.join("dpkg/status");
        if !status.exists() {
            fs::write(&status, "")
                .map_err(|e| format!("cannot write {}: {e}", status.display()))?;
        }
        let stamp = dir.join("updated");
        let fresh = fs::metadata(&stamp)
            .and_then(|m| m.modified())
            .is_ok_and(|at| SystemTime::now().duration_since(at).unwrap_or_default() < MAX_AGE);
        if changed || !fresh {
            match state.update() {
                Ok(()) => fs::write(&stamp, "")
                    .map_err(|e| format!("cannot write {}: {e}", stamp.display()))?,
                // apt keeps every list it could fetch: one index a mirror serves mid-sync
                // ("File has unexpected size … Mirror sync in progress?", bookworm-security's
                // ppc64el for hours on 2026-11-29) must not fail every arch's lookup. The
                // next run tries again (no stamp); a kernel missing from the lists still
                // fails its own lookup.
                Err(e) => eprintln!("warning: {e}; looking kernels up in the lists apt has"),
            }
        }
        // `apt-get update` writes the binary cache only when every list came; this writes it
        // from the lists there are (a no-op, 0.2 s, when it is current).
        succeed(
            state
                .command("apt-cache")
                .arg("gencaches")
                .stdout(Stdio::null()),
        )?;
        Ok(state)
    }

    /// `program` on this state. The binary cache is named on the command line because
    /// container images switch it off in /etc/apt/apt.conf.d (docker-clean sets
    /// `Dir::Cache::pkgcache ""`), which apt reads after `APT_CONFIG`: without it apt-cache
    /// parses all ~550 MB of lists on every lookup, 19 s each, two per kernel.
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("APT_CONFIG", &self.config)
            .args(["-o", "Dir::Cache::pkgcache=pkgcache.bin"])
            .stdin(Stdio::null());
        cmd
    }

    fn update(&self) -> Result<(), String> {
        eprintln!(
            "--> apt-get update (kernel lists, {})",
            self.config.display()
        );
        succeed(self.command("apt-get").args(["-q", "update"]))
    }

    /// Every version of `package` for `arch` the suites have, newest first.
    pub fn show(&self, arch: Arch, package: &str) -> Result<Vec<Record>, String> {
        let output = self
            .command("apt-cache")
            .args(["show", &format!("{package}:{}", arch.debian())])
            .stderr(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run apt-cache: {e}"))?;
        let text = String::from_utf8_lossy(&output.stdout);
        Ok(text
            .split("\n\n")
            .filter(|record| !record.trim().is_empty())
            .map(|record| Record(record.to_string()))
            .collect())
    }

    /// `apt-get download PACKAGE:ARCH=VERSION` into `dir`; the lists renewed and tried
    /// again once if the mirror no longer has it.
    pub fn download(
        &self,
        arch: Arch,
        package: &str,
        version: &str,
        dir: &Path,
    ) -> Result<(), String> {
        let spec = format!("{package}:{}={version}", arch.debian());
        let download = || {
            succeed(
                self.command("apt-get")
                    .args(["-q", "download", &spec])
                    .current_dir(dir),
            )
        };
        download().or_else(|_| {
            self.update()?;
            download()
        })
    }

    /// `apt-get download PACKAGE/SUITE` into `dir`: the suite's version of a package, for
    /// any architecture (the cross packages are `Architecture: all`).
    pub fn download_from(&self, package: &str, suite: &str, dir: &Path) -> Result<(), String> {
        let spec = format!("{package}/{suite}");
        succeed(
            self.command("apt-get")
                .args(["-q", "download", &spec])
                .current_dir(dir),
        )
    }
}

/// Writes `contents` unless the file holds them already; whether it wrote.
fn write_if_changed(path: &Path, contents: &str) -> Result<bool, String> {
    if fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(false);
    }
    fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(true)
}
