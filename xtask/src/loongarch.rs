//! loongarch64's cross toolchain, which bookworm lacks: it has no gcc, binutils or C library
//! for loongarch64, nor do its backports, and trixie's gcc needs a newer host glibc. What
//! the lanes need is made from what does work here:
//! - trixie's C library, kernel headers and libgcc for loongarch64 (the `*-loong64-cross`
//!   packages are `Architecture: all`), fetched through the kernels' private apt state (the
//!   machine's apt sources and dpkg architectures stay as they are) and unpacked under
//!   `target/loongarch64-toolchain/root/`;
//! - rust-lld from rustup's toolchain as the linker, behind `bin/loongarch64-linux-gnu-gcc`,
//!   a gcc-style driver script that adds the start files and libraries gcc would add to a
//!   static program;
//! - rust-objcopy (LLVM's objcopy, which acts as `strip` when called by that name) as
//!   `bin/loongarch64-linux-gnu-strip`;
//! - LLVM's objdump (`llvm-22`, the version of rustc-web's libllvm22, unpacked here too) as
//!   `bin/loongarch64-linux-gnu-objdump` for `cargo xtask bench floors`: bookworm's GNU
//!   objdump knows no LoongArch; without it only that count fails;
//! - and for the system lane, trixie's UEFI firmware for qemu's loongarch64 `virt` machine
//!   (`qemu-efi-loongarch64`, also `Architecture: all`), [`firmware`].
//!
//! `cargo xtask setup` installs it (no root needed); `Arch::gnu_tool` names its tools.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::system::kernels::{apt, succeed};
use crate::workspace_root;

/// GNU's name for the target, as the tools and the C library's directories spell it.
const TRIPLE: &str = "loongarch64-linux-gnu";
/// The suite whose cross packages are used: trixie's glibc 2.41 and gcc 14.
const SUITE: &str = "trixie";
const PACKAGES: [&str; 5] = [
    "libc6-dev-loong64-cross",
    "libc6-loong64-cross",
    "libgcc-14-dev-loong64-cross",
    "linux-libc-dev-loong64-cross",
    "qemu-efi-loongarch64",
];
/// Where gcc's own start files and libgcc lie inside the unpacked packages.
const GCC_LIB: &str = "usr/lib/gcc-cross/loongarch64-linux-gnu/14";

fn dir() -> PathBuf {
    workspace_root()
        .join("target")
        .join("loongarch64-toolchain")
}

/// The path of a tool (`gcc`, `strip`) of the installed toolchain.
pub fn tool(name: &str) -> String {
    dir()
        .join("bin")
        .join(format!("{TRIPLE}-{name}"))
        .display()
        .to_string()
}

/// EDK2's firmware for qemu's loongarch64 `virt` machine. Booted through it, Debian's kernel
/// finds ACPI tables (the NUMA nodes are described only there: without them the kernel sees
/// one node) and the EFI stub unpacks its own zstd-compressed image, which qemu 10 cannot
/// load directly.
pub fn firmware() -> PathBuf {
    dir().join("root/usr/share/qemu-efi-loongarch64/QEMU_EFI.fd")
}

/// Installs the toolchain unless it is installed with a linker that is still there.
/// A failure is a warning: only `--arch loongarch64` needs it (its lanes then report the
/// missing tools), and it must not stop the setup of every other lane.
pub fn install() -> Result<(), String> {
    let stamp = dir().join("installed");
    if let Ok(lld) = fs::read_to_string(&stamp) {
        if Path::new(lld.trim()).is_file() && firmware().is_file() {
            println!(
                "setup: the loongarch64 toolchain is installed ({})",
                dir().display()
            );
            return Ok(());
        }
    }
    match build() {
        Ok(lld) => {
            fs::write(&stamp, lld.display().to_string())
                .map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
            println!(
                "setup: installed the loongarch64 toolchain in {}",
                dir().display()
            );
        }
        Err(e) => eprintln!("setup: warning: no loongarch64 toolchain: {e}"),
    }
    Ok(())
}

/// Builds the toolchain in a scratch directory, then puts it in place: the linker's path.
fn build() -> Result<PathBuf, String> {
    let dir = dir();
    let scratch = dir.with_extension("partial");
    let bin = rustup_bin()?;
    let (lld, objcopy) = (bin.join("rust-lld"), bin.join("rust-objcopy"));
    for tool in [&lld, &objcopy] {
        if !tool.is_file() {
            return Err(format!("{} is missing", tool.display()));
        }
    }
    let _ = fs::remove_dir_all(&scratch);
    let debs = scratch.join("debs");
    for sub in [&debs, &scratch.join("root"), &scratch.join("bin")] {
        fs::create_dir_all(sub).map_err(|e| format!("cannot create {}: {e}", sub.display()))?;
    }
    let apt = apt::State::current()?;
    for package in PACKAGES {
        println!("setup: apt-get download {package}/{SUITE} (private apt state)");
        apt.download_from(package, SUITE, &debs)?;
    }
    let entries =
        fs::read_dir(&debs).map_err(|e| format!("cannot read {}: {e}", debs.display()))?;
    for deb in entries.flatten().map(|e| e.path()) {
        succeed(
            Command::new("dpkg-deb")
                .arg("-x")
                .arg(&deb)
                .arg(scratch.join("root")),
        )?;
    }
    if let Err(e) = objdump(&debs, &scratch.join("root")) {
        eprintln!("setup: warning: no objdump for loongarch64 (bench floors): {e}");
    }
    let _ = fs::remove_dir_all(&debs);
    let driver = scratch.join("bin").join(format!("{TRIPLE}-gcc"));
    // The script names the final directory: the scratch one becomes it below.
    fs::write(&driver, driver_script(&lld, &dir.join("root")))
        .and_then(|()| fs::set_permissions(&driver, fs::Permissions::from_mode(0o755)))
        .map_err(|e| format!("cannot write {}: {e}", driver.display()))?;
    let strip = scratch.join("bin").join(format!("{TRIPLE}-strip"));
    symlink(&objcopy, &strip).map_err(|e| format!("cannot link {}: {e}", strip.display()))?;
    let objdump = scratch.join("bin").join(format!("{TRIPLE}-objdump"));
    symlink(dir.join("root").join(LLVM_OBJDUMP), &objdump)
        .map_err(|e| format!("cannot link {}: {e}", objdump.display()))?;
    let _ = fs::remove_dir_all(&dir);
    fs::rename(&scratch, &dir).map_err(|e| format!("cannot rename {}: {e}", scratch.display()))?;
    Ok(lld)
}

/// Where `llvm-22` puts llvm-objdump, which loads the system's libLLVM (`libllvm22`).
const LLVM_OBJDUMP: &str = "usr/lib/llvm-22/bin/llvm-objdump";

/// Downloads `llvm-22` in the version of the installed `libllvm22` (rustc-web's LLVM) with
/// the machine's apt (bookworm-security has it) into `debs`, and unpacks it into `root`.
fn objdump(debs: &Path, root: &Path) -> Result<(), String> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Version}\n", "libllvm22"])
        .output()
        .map_err(|e| format!("cannot run dpkg-query: {e}"))?;
    // One line per installed architecture (arm64's too, for its std): the same version.
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.lines().next().unwrap_or_default().trim().to_string();
    if !out.status.success() || version.is_empty() {
        return Err("libllvm22 is not installed".into());
    }
    println!("setup: apt-get download llvm-22={version}");
    succeed(
        Command::new("apt-get")
            .args(["-q", "download", &format!("llvm-22={version}")])
            .current_dir(debs),
    )?;
    let entries = fs::read_dir(debs).map_err(|e| format!("cannot read {}: {e}", debs.display()))?;
    let deb = entries
        .flatten()
        .map(|e| e.path())
        .find(|path| path.to_string_lossy().contains("/llvm-22_"))
        .ok_or("apt-get downloaded no llvm-22")?;
    succeed(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(root))
}

/// The directory of rustup's own LLVM tools for the host (`rust-lld`, `rust-objcopy`):
/// `<sysroot>/lib/rustlib/<host>/bin` of the rustc on PATH, which under `cargo xtask` is
/// the toolchain rustup runs the xtask with. (Debian's rustc-web ships no lld.)
fn rustup_bin() -> Result<PathBuf, String> {
    let output = |args: &[&str]| -> Result<String, String> {
        let out = Command::new("rustc")
            .args(args)
            .output()
            .map_err(|e| format!("cannot run rustc: {e}"))?;
        match out.status.success() {
            true => Ok(String::from_utf8_lossy(&out.stdout).trim().to_string()),
            false => Err(format!("rustc {} failed ({})", args.join(" "), out.status)),
        }
    };
    let sysroot = output(&["--print", "sysroot"])?;
    let verbose = output(&["-vV"])?;
    let host = verbose
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .ok_or("rustc -vV names no host")?;
    Ok(Path::new(&sysroot)
        .join("lib/rustlib")
        .join(host)
        .join("bin"))
}

/// A gcc-style link driver: rustc (`-C linker`) and the freestanding examples call it as
/// they would call gcc. `-Wl,` options go to the linker one by one, driver options that ask
/// for a static program are implied, and the start files and C libraries a static glibc
/// program needs are added around the rest (`rcrt1.o` and friends for `-static-pie`).
fn driver_script(lld: &Path, root: &Path) -> String {
    format!(
        r#"#!/bin/bash
# gcc-style link driver for {TRIPLE}, written by `cargo xtask setup` (xtask/src/loongarch.rs).
set -e
lld='{lld}'
lib='{root}/usr/{TRIPLE}/lib'
gcc='{root}/{GCC_LIB}'
[ -x "$lld" ] || {{ echo "$0: $lld is gone: run cargo xtask setup" >&2; exit 1; }}
args=() start=yes libs=yes pie=no
for arg in "$@"; do
    case $arg in
        -Wl,*) IFS=, read -r -a words <<< "${{arg#-Wl,}}"; args+=("${{words[@]}}") ;;
        -nostdlib) start=no libs=no ;;
        -nostartfiles) start=no ;;
        -static-pie) pie=yes ;;
        # Static linking is implied; the libraries are added below.
        -static|-no-pie|-nodefaultlibs|-fuse-ld=*) ;;
        *) args+=("$arg") ;;
    esac
done
if [ $pie = yes ]; then
    mode=(-static -pie --no-dynamic-linker -z text)
    first=("$lib/rcrt1.o" "$lib/crti.o" "$gcc/crtbeginS.o") last=("$gcc/crtendS.o" "$lib/crtn.o")
else
    mode=(-static)
    first=("$lib/crt1.o" "$lib/crti.o" "$gcc/crtbeginT.o") last=("$gcc/crtend.o" "$lib/crtn.o")
fi
[ $start = yes ] || first=() last=()
group=()
[ $libs = no ] || group=(-Bstatic --start-group -lgcc -lgcc_eh -lc --end-group)
exec "$lld" -flavor gnu -m elf64loongarch "${{mode[@]}}" -L"$lib" -L"$gcc" \
    "${{first[@]}}" "${{args[@]}}" "${{group[@]}}" "${{last[@]}}"
"#,
        lld = lld.display(),
        root = root.display(),
    )
}
