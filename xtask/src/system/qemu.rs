//! Booting a kernel and initramfs under qemu-system, with full emulation
//! (TCG: KVM hangs on these machines), and capturing its serial console.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::arch::Arch;
use crate::report;
use crate::toolchain::EMULATED_TEST_EFFORT;

/// What a boot left behind.
pub struct Console {
    /// Every console line, without its line ending.
    pub lines: Vec<String>,
    /// How qemu ended: `None` if it was killed at the time limit.
    pub status: Option<ExitStatus>,
    pub elapsed: Duration,
}

/// The kernel command line, besides the console:
/// - `panic=-1`: a kernel panic reboots at once, which `-no-reboot` turns
///   into qemu exiting: a crash ends the run instead of hanging it;
/// - `quiet`: no boot chatter; oopses and panics still show (they print at
///   higher levels);
/// - `secretmem.enable=1`: memfd_secret is off by default before 6.5;
/// - `hugepages=4`: a pool of huge pages, without which MAP_HUGETLB can
///   only fail;
/// - `sysctl.vm.max_map_count=8192` (an eighth of the default 65530): the tests that fill
///   a process's VMAs up to the limit (soundness's, the model's at-the-limit sequences) do
///   the same work with an eighth of the VMAs to split and of /proc/self/maps to read
///   (soundness on x86_64 6.1, debug: 17.7 s before, 3.0 s after); the host lane keeps the
///   default.
///   The tests read the limit, never assume it; each runs one test at a time, far below it;
/// - `MMAN_TEST_EFFORT`: the kernel hands `NAME=value` words it does not know to init as
///   its environment, and init's programs inherit it (`toolchain::EMULATED_TEST_EFFORT`);
/// - mips: `nokaslr`. Debian's 5kc-malta 6.12 loaded at a random address oopses in
///   `__strncpy_from_user_asm` on a user pointer it cannot read (its fault fixup is not
///   found), and the caller dies of SIGSEGV instead of getting `EFAULT`: std's `statx`
///   probe (a null path) killed 28 of the 33 test programs that way; not with `nokaslr`.
fn kernel_args(arch: Arch) -> String {
    let nokaslr = if arch == Arch::Mips64el {
        " nokaslr"
    } else {
        ""
    };
    format!(
        "panic=-1 quiet secretmem.enable=1 hugepages=4 sysctl.vm.max_map_count=8192 \
         MMAN_TEST_EFFORT={EMULATED_TEST_EFFORT}\
         {nokaslr}"
    )
}

pub struct Boot<'a> {
    pub arch: Arch,
    pub vmlinuz: &'a Path,
    pub initramfs: &'a Path,
    /// Every console byte goes here as it arrives.
    pub log: &'a Path,
    /// qemu is killed after this long.
    pub time_limit: Duration,
    /// Called with each console line as it arrives (to show progress).
    pub on_line: &'a dyn Fn(&str),
}

impl Boot<'_> {
    pub fn run(&self) -> Result<Console, String> {
        let mut cmd = self.command();
        eprintln!("--> {}", crate::run::describe(&cmd));
        let mut log = File::create(self.log)
            .map_err(|e| format!("cannot create {}: {e}", self.log.display()))?;
        let start = Instant::now();
        let mut qemu = cmd
            .spawn()
            .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
        let stdout = qemu.stdout.take().expect("piped");

        // The reader thread owns the pipe; lines come back over a channel so
        // that this thread can watch the clock meanwhile.
        let (sender, lines) = mpsc::channel();
        let reader = thread::spawn(move || -> io::Result<()> {
            let mut stdout = BufReader::new(stdout);
            let mut line = Vec::new();
            while stdout.read_until(b'\n', &mut line)? > 0 {
                log.write_all(&line)?;
                let _ = sender.send(printable(&String::from_utf8_lossy(&line)));
                line.clear();
            }
            log.flush()
        });

        let mut console = Console {
            lines: Vec::new(),
            status: None,
            elapsed: Duration::ZERO,
        };
        let deadline = start + self.time_limit;
        let mut timed_out = false;
        loop {
            match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => {
                    (self.on_line)(&line);
                    console.lines.push(line);
                }
                // Pipe closed: qemu is gone (or closing).
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = qemu.kill();
                    timed_out = true;
                    break;
                }
            }
        }
        let status = qemu
            .wait()
            .map_err(|e| format!("cannot wait for qemu: {e}"))?;
        console.elapsed = start.elapsed();
        // After a kill the status is only the signal's echo.
        console.status = (!timed_out).then_some(status);
        match reader.join().expect("console reader thread") {
            Ok(()) => Ok(console),
            Err(e) => Err(format!(
                "reading the console into {}: {e}",
                self.log.display()
            )),
        }
    }

    fn command(&self) -> Command {
        let (machine, cpu, console): (&[&str], &str, Option<&str>) = match self.arch {
            Arch::X86_64 => (&["-accel", "tcg"], "max", Some("ttyS0")),
            Arch::Aarch64 => (&["-M", "virt"], "max", Some("ttyAMA0")),
            // The firmware is qemu's default, OpenSBI (from backports, as qemu 10 needs).
            Arch::Riscv64 => (&["-M", "virt"], "rv64", Some("ttyS0")),
            // VOF, qemu's minimal firmware, instead of SLOF: boots in about 3 s instead of
            // 15. The `cap-*` settings turn off the speculation mitigations TCG cannot
            // offer, which would otherwise be warned about on every boot.
            Arch::Powerpc64le => (
                &[
                    "-M",
                    "pseries,x-vof=on,cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,\
                     cap-ccf-assist=off",
                ],
                "POWER9",
                Some("hvc0"),
            ),
            // The kernel finds its SCLP console by itself. It powers off without a word:
            // the verdict rests on init's `done` line and qemu's exit status.
            Arch::S390x => (&["-M", "s390-ccw-virtio"], "max", None),
            // Through UEFI firmware (`-bios`, below).
            Arch::Loongarch64 => (&["-M", "virt"], "la464", Some("ttyS0")),
            Arch::I686 => (&["-accel", "tcg"], "max", Some("ttyS0")),
            // ARM mode's Cortex-A15 (LPAE, virtualisation extensions), which Debian's armmp
            // kernel supports on qemu's `virt` board.
            Arch::Armv7 => (&["-M", "virt"], "cortex-a15", Some("ttyAMA0")),
            // A release-2 CPU on the Malta board, which Debian's 5kc-malta kernel runs on
            // (rustc's mips64el target assumes release 2).
            Arch::Mips64el => (&["-M", "malta"], "MIPS64R2-generic", Some("ttyS0")),
        };
        let append = match console {
            Some(console) => format!("console={console} {}", kernel_args(self.arch)),
            None => kernel_args(self.arch),
        };
        let mut cmd = Command::new(program(self.arch));
        cmd.args(machine)
            .args([
                "-cpu",
                cpu,
                "-m",
                &format!("{MEMORY_MIB}M"),
                "-smp",
                cpus(self.arch),
            ])
            .args(numa_nodes(self.arch))
            .args(firmware(self.arch))
            .args(["-nographic", "-no-reboot"])
            .arg("-kernel")
            .arg(self.vmlinuz)
            .arg("-initrd")
            .arg(self.initramfs)
            .args(["-append", &append])
            // Nothing to type; qemu's own complaints go to our stderr.
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        cmd
    }
}

/// How many CPUs the VM has: two, one per NUMA node; one on mips's `malta`, whose second CPU
/// kept the boot from starting at all in 4 of 6 tries (no console output; Debian's 5kc-malta
/// kernel brings up only one CPU anyway).
fn cpus(arch: Arch) -> &'static str {
    match arch {
        Arch::Mips64el => "1",
        _ => "2",
    }
}

/// The VM's memory, split evenly between its NUMA nodes.
const MEMORY_MIB: u32 = 2048;

/// Two NUMA nodes, one CPU and half the memory each, so that the NUMA tests see the
/// kernel place, interleave and migrate pages between nodes (a one-node machine can only
/// refuse the second node). x86_64 describes them to the kernel in ACPI (SRAT), the arm
/// and riscv `virt` machines in their device tree (`numa-node-id`), pseries in its
/// (`ibm,associativity`). s390x has none: qemu's `s390-ccw-virtio` refuses `-numa` ("NUMA
/// is not supported by this machine-type"), and neither does mips's `malta`, so their NUMA
/// tests skip with the kernel's answer.
fn numa_nodes(arch: Arch) -> Vec<String> {
    if matches!(arch, Arch::S390x | Arch::Mips64el) {
        return Vec::new();
    }
    let per_node = MEMORY_MIB / 2;
    let mut args = Vec::new();
    for node in 0..2 {
        args.push("-object".to_string());
        args.push(format!("memory-backend-ram,id=mem{node},size={per_node}M"));
        args.push("-numa".to_string());
        args.push(format!("node,nodeid={node},cpus={node},memdev=mem{node}"));
    }
    args
}

/// `-bios FILE` where the kernel must be started by firmware: loongarch64's finds its NUMA
/// nodes only in the ACPI tables the UEFI firmware passes (booted directly it sees one node,
/// and its i8042 driver probes ports the machine does not map), and qemu 10 cannot load its
/// zstd-compressed EFI zboot image, which the firmware starts as it is.
fn firmware(arch: Arch) -> Vec<std::ffi::OsString> {
    match arch {
        Arch::Loongarch64 => vec!["-bios".into(), crate::loongarch::firmware().into()],
        _ => Vec::new(),
    }
}

/// The emulator for `arch`.
pub fn program(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "qemu-system-x86_64",
        Arch::Aarch64 => "qemu-system-aarch64",
        Arch::Riscv64 => "qemu-system-riscv64",
        Arch::Powerpc64le => "qemu-system-ppc64",
        Arch::S390x => "qemu-system-s390x",
        Arch::Loongarch64 => "qemu-system-loongarch64",
        Arch::I686 => "qemu-system-i386",
        Arch::Armv7 => "qemu-system-arm",
        Arch::Mips64el => "qemu-system-mips64el",
    }
}

/// The line as text to show and parse: without its line ending (the serial
/// line turns "\n" into "\r\n"), escape sequences (the x86 firmware starts
/// by resetting the terminal) and other control characters.
fn printable(line: &str) -> String {
    let line = report::strip_ansi(line.trim_end_matches(['\r', '\n']));
    line.chars()
        .filter(|&c| c == '\t' || !c.is_control())
        .collect()
}
