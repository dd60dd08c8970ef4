//! How a lane calls cargo: which Rust, for which target, with which linker
//! and runner, and where the artifacts go.

use std::env;
use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::arch::Arch;
use crate::workspace_root;

/// `MMAN_TEST_EFFORT` (a percentage; `tests/common/effort.rs`) for test programs on an
/// emulated CPU, under qemu-user or qemu-system: the model tests' bounds and counts, the
/// leak checks' rounds and the stress iterations shrink to a fifth of the host's, whose
/// lane runs them whole. Emulation is 10 to 50 times slower, and every lane of a full run
/// shares one time budget.
pub const EMULATED_TEST_EFFORT: &str = "20";

/// rustc-web's library source (package `rust-web-src`), for `-Zbuild-std`.
const STD_SOURCE: &str = "/usr/lib/rustlib/src/rust/library";

/// A debug build where std is built from source: the release profile, with mman's own
/// code (the library and its test programs) unoptimised, with debug assertions (and so
/// the standard library's UB checks in what mman inlines) and overflow checks, as in the
/// dev profile. std and the dependencies are optimised, as a prebuilt std is: built
/// unoptimised, std and compiler_builtins (memcpy a byte at a time, with overflow checks)
/// made a debug test program 100 times slower than its release build under
/// qemu-system-riscv64 (70 s against 0.7 s). Being the release profile, the debug and
/// release builds share one std: measured on riscv64, a std costs 95 s of CPU and the
/// debug test programs 47 s on the release profile's dependencies against 74 s on the dev
/// profile's own (a cold debug build: 167 s, now 47 s once the release build is there).
const CHECKED_BUILD: &[&str] = &[
    "--release",
    "--config",
    "profile.release.package.mman.opt-level=0",
    "--config",
    "profile.release.package.mman.debug-assertions=true",
    "--config",
    "profile.release.package.mman.overflow-checks=true",
];

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Rust {
    /// rustup's default toolchain: whatever `cargo` on PATH resolves to.
    Rustup,
    /// Debian's rustc-web: the only Rust here with a non-host std (rustup
    /// cannot download targets on this network).
    Debian,
}

pub struct Toolchain {
    pub arch: Arch,
    rust: Rust,
    /// Pass `--target` and link statically, the host's code too.
    fully_static: bool,
}

impl Toolchain {
    pub fn new(rust: Rust, arch: Arch) -> Toolchain {
        Toolchain {
            arch,
            rust,
            fully_static: arch != Arch::HOST,
        }
    }

    /// For a machine with no C library at all (the system lane's). With
    /// `--target`, `+crt-static` reaches only the target's code, not build
    /// scripts and proc macros, which run on the host.
    pub fn fully_static(rust: Rust, arch: Arch) -> Toolchain {
        Toolchain {
            arch,
            rust,
            fully_static: true,
        }
    }

    /// Whether cargo builds std from Debian's library source (`-Zbuild-std`) rather than
    /// linking a prebuilt one: for the targets Debian has no matching std for.
    fn builds_std(&self) -> bool {
        self.rust == Rust::Debian && !self.arch.prebuilt_std()
    }

    /// Foreign code: link with the cross gcc, run under qemu-user.
    fn cross(&self) -> bool {
        self.arch != Arch::HOST
    }

    /// Each Rust gets its own target directory, so the two compilers do not
    /// keep invalidating each other's build caches. Always passed explicitly
    /// (whatever CARGO_TARGET_DIR says) so that `examples_dir` is right.
    fn target_dir(&self) -> PathBuf {
        let target = workspace_root().join("target");
        match self.rust {
            Rust::Rustup => target,
            Rust::Debian => target.join("cross"),
        }
    }

    /// What this toolchain needs, as absolute paths or program names on PATH.
    pub fn missing(&self) -> Vec<String> {
        let mut needs = vec![self.arch.gnu_tool("strip")];
        if self.rust == Rust::Debian {
            needs.extend([
                "/usr/bin/cargo".into(),
                "/usr/bin/rustc".into(),
                "/usr/bin/rustdoc".into(),
                match self.builds_std() {
                    true => STD_SOURCE.into(),
                    false => format!("/usr/lib/rustlib/{}/lib", self.arch.triple()),
                },
            ]);
        }
        if self.cross() {
            needs.extend([self.arch.gnu_tool("gcc"), self.arch.qemu_user()]);
        }
        needs.into_iter().filter(|need| !present(need)).collect()
    }

    /// `cargo <subcommand> <args>` for the mman package, configured for this
    /// toolchain. `args` may end with `--` and arguments for rustc or tests.
    pub fn cargo(&self, subcommand: &str, args: &[&str]) -> Command {
        let mut cmd = self.cargo_command(subcommand);
        cmd.args(["--package", "mman"]);
        if self.builds_std() && !args.contains(&"--release") {
            cmd.args(CHECKED_BUILD);
        }
        cmd.args(args);
        cmd
    }

    /// The same for the package of `manifest`, which may be a workspace of
    /// its own (the system lane's `xtask/init`).
    pub fn cargo_manifest(&self, manifest: &Path, subcommand: &str, args: &[&str]) -> Command {
        let mut cmd = self.cargo_command(subcommand);
        cmd.arg("--manifest-path").arg(manifest).args(args);
        cmd
    }

    /// `cargo <subcommand>` with this toolchain's compiler, target and flags.
    fn cargo_command(&self, subcommand: &str) -> Command {
        let mut cmd = match self.rust {
            Rust::Rustup => Command::new("cargo"),
            // Debian's cargo, not rustup's: it matches the rustc it drives.
            Rust::Debian => Command::new("/usr/bin/cargo"),
        };
        cmd.current_dir(workspace_root())
            .arg(subcommand)
            .arg("--target-dir")
            .arg(self.target_dir());
        // Flags from the caller's environment would override the per-target
        // flags below, or pick another compiler; the lanes must be reproducible.
        for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "RUSTC", "RUSTDOC"] {
            cmd.env_remove(var);
        }
        if self.rust == Rust::Debian {
            cmd.env("RUSTC", "/usr/bin/rustc")
                .env("RUSTDOC", "/usr/bin/rustdoc")
                // `cargo run` handed us rustup's library path; Debian's
                // compiler must load only its own libraries.
                .env_remove("LD_LIBRARY_PATH");
        }
        if self.builds_std() {
            // rustc-web's own library source, so the std matches the compiler; cargo
            // keeps the build in the target directory, once per profile and flags.
            cmd.env("RUSTC_BOOTSTRAP", "1");
            if subcommand == "rustc" {
                // The freestanding examples' static libraries (`freestanding`): `no_std`,
                // with no unwinder to link, so the profiles' `panic = "abort"`. They and
                // every dependency they build (the dev-dependencies too) need only core
                // and alloc: a std built for aborting as well cost about twice as much
                // again (riscv64: 97 s of CPU against 46 s for core and alloc).
                cmd.arg("-Zbuild-std=core,alloc");
            } else {
                cmd.arg("-Zbuild-std");
                // The test harness unwinds. With the profiles' `panic = "abort"`, cargo
                // would build the std from source for both strategies at once: E0152
                // (duplicate lang items), or "panic_unwind does not have the panic
                // strategy unwind" for doc tests. A prebuilt std carries both. Every
                // other build (the library alone, the ordinary examples, the system
                // lane's `/init`) takes the same settings, so that one std per profile
                // serves them all: each std built from source costs one to two minutes
                // of a core, and building one for aborting as well was one more per arch
                // and profile.
                for profile in ["dev", "release"] {
                    cmd.arg("--config")
                        .arg(format!("profile.{profile}.panic=\"unwind\""));
                }
                // rustdoc links doc tests with RUSTDOCFLAGS, not the target's RUSTFLAGS:
                // static too, as no dynamic loader for these targets is installed.
                cmd.env("RUSTDOCFLAGS", self.rustflags());
            }
        }
        let triple = self.arch.triple();
        let var = |key: &str| {
            format!(
                "CARGO_TARGET_{}_{key}",
                triple.to_uppercase().replace('-', "_")
            )
        };
        if self.fully_static {
            // What `--target` builds lands apart from the host's own `cargo test` (under
            // target/<triple>/) and is built cold in a full run, for machines or emulators
            // no debugger is attached to: no debug info (a failing test still names its
            // file and line: those come from `Location`, not DWARF) and no incremental
            // state. Measured on riscv64's debug builds (std, the library, every test
            // program): 228 s of CPU and 1.6 GB before, 170 s and 0.3 GB after.
            cmd.env("CARGO_INCREMENTAL", "0")
                .arg("--config")
                .arg("profile.dev.debug=0");
            cmd.arg("--target")
                .arg(&triple)
                // Static: the system lane's machine has no C library, and a
                // dynamic glibc program under qemu-user can hang for ever in
                // pthread_create (cross vs multiarch libc mix-up).
                .env(var("RUSTFLAGS"), self.rustflags());
        }
        if self.cross() {
            cmd.env(var("LINKER"), self.arch.gnu_tool("gcc"))
                .env(var("RUNNER"), self.arch.qemu_user());
        }
        // Cargo sees a pipe (we parse its output); keep the colours for people.
        if io::stderr().is_terminal() {
            cmd.env("CARGO_TERM_COLOR", "always");
        }
        cmd
    }

    /// The target's flags for static programs: `+crt-static` and its linker's needs.
    fn rustflags(&self) -> String {
        let mut flags = String::from("-C target-feature=+crt-static");
        for arg in self.arch.link_args() {
            flags.push_str(" -C link-arg=");
            flags.push_str(arg);
        }
        flags
    }

    /// Where `cargo build --example` puts its output for `profile`.
    pub fn examples_dir(&self, profile: &str) -> PathBuf {
        let mut dir = self.target_dir();
        if self.fully_static {
            dir.push(self.arch.triple());
        }
        dir.join(profile).join("examples")
    }

    /// A command that runs an executable built for this toolchain's arch.
    pub fn execute(&self, binary: &Path) -> Command {
        if self.cross() {
            let mut cmd = Command::new(self.arch.qemu_user());
            // qemu-user hands the environment to the guest: an emulated CPU, where the
            // tests that choose their own length do a fraction of it (as in the system
            // lane; see `EMULATED_TEST_EFFORT`).
            cmd.arg(binary)
                .env("MMAN_TEST_EFFORT", EMULATED_TEST_EFFORT);
            cmd
        } else {
            Command::new(binary)
        }
    }

    /// Whether test programs run under qemu-user, which is not fork-safe in a
    /// multi-threaded guest: a child forked while another thread holds QEMU's own locks
    /// (its mmap lock, for one) hangs at its first `mmap`, which spawning a thread needs.
    pub fn forks_unsafely(&self) -> bool {
        self.cross()
    }
}

/// An absolute path that exists, or a program name found on PATH.
pub fn present(need: &str) -> bool {
    if need.starts_with('/') {
        return Path::new(need).exists();
    }
    let path = env::var_os("PATH").unwrap_or_default();
    env::split_paths(&path).any(|dir| dir.join(need).is_file())
}
