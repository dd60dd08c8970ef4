//! `/init` of the system lane's initramfs, pid 1 of a freshly booted kernel.
//!
//! It mounts what the tests expect of a Linux system, runs every program
//! packed under `/tests` and `/examples` one after the other, says how each
//! ended, and powers the machine off (when pid 1 exits, the kernel panics).
//! The xtask reads the console; the line formats are in `protocol.rs`.

// Init only writes events; parsing them is the xtask's half.
#[allow(dead_code)]
#[path = "../../src/system/protocol.rs"]
mod protocol;

use std::ffi::{CStr, CString};
use std::fs;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;

use protocol::{Event, EXAMPLES_DIR, TESTS_DIR, TEST_ARGS};

fn main() {
    mount_filesystems();
    say(kernel());
    let mut programs = 0;
    let mut failed = 0;
    for (dir, args) in [(TESTS_DIR, TEST_ARGS), (EXAMPLES_DIR, &[])] {
        for program in programs_in(dir) {
            programs += 1;
            if !run(&program, args) {
                failed += 1;
            }
        }
    }
    say(Event::Done { programs, failed });
    power_off();
}

fn say(event: Event) {
    println!("{}", event.render());
}

/// The kernel's own filesystems, and writable scratch space: tests read
/// /proc/self/maps, open /dev/zero, create POSIX shared memory (/dev/shm)
/// and temporary files (/tmp). Only the kernel's initramfs is there before.
fn mount_filesystems() {
    const TMPFS_DATA: &str = "mode=1777";
    let mounts = [
        ("proc", "/proc", "proc", ""),
        ("sysfs", "/sys", "sysfs", ""),
        ("devtmpfs", "/dev", "devtmpfs", ""),
        ("tmpfs", "/dev/shm", "tmpfs", TMPFS_DATA),
        ("tmpfs", "/tmp", "tmpfs", TMPFS_DATA),
    ];
    for (source, target, fstype, data) in mounts {
        if let Err(e) =
            fs::create_dir_all(target).and_then(|()| mount(source, target, fstype, data))
        {
            say(Event::Error {
                message: format!("mount {fstype} on {target}: {e}"),
            });
        }
    }
}

fn mount(source: &str, target: &str, fstype: &str, data: &str) -> io::Result<()> {
    let c = |s: &str| CString::new(s).expect("no NUL in mount arguments");
    let (source, target, fstype, data) = (c(source), c(target), c(fstype), c(data));
    // SAFETY: every pointer is a NUL-terminated string that outlives the call.
    let rc = unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            0,
            data.as_ptr().cast(),
        )
    };
    match rc {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

fn kernel() -> Event {
    // SAFETY: utsname is plain old data; uname fills it in.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `uts` is a valid, writable utsname.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return Event::Error {
            message: format!("uname: {}", io::Error::last_os_error()),
        };
    }
    // SAFETY: the kernel NUL-terminates every utsname field.
    let field = |f: &[libc::c_char]| {
        unsafe { CStr::from_ptr(f.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    };
    Event::Kernel {
        release: field(&uts.release),
        machine: field(&uts.machine),
    }
}

/// `DIR/NAME` for each file in `/DIR`, sorted by name; none if `/DIR` is missing.
fn programs_in(dir: &str) -> Vec<String> {
    let Ok(entries) = fs::read_dir(Path::new("/").join(dir)) else {
        return Vec::new();
    };
    let mut programs: Vec<String> = entries
        .flatten()
        .map(|e| format!("{dir}/{}", e.file_name().to_string_lossy()))
        .collect();
    programs.sort();
    programs
}

/// Runs `/program` to its end; true if it exited with status 0.
fn run(program: &str, args: &[&str]) -> bool {
    say(Event::Run {
        program: program.into(),
    });
    let event = match Command::new(Path::new("/").join(program))
        .args(args)
        .status()
    {
        Ok(status) => match (status.code(), status.signal()) {
            (Some(code), _) => Event::Exit {
                program: program.into(),
                code,
            },
            (None, Some(signal)) => Event::Signal {
                program: program.into(),
                signal,
            },
            (None, None) => Event::Error {
                message: format!("{program}: {status}"),
            },
        },
        Err(e) => Event::Error {
            message: format!("cannot run {program}: {e}"),
        },
    };
    let passed = event
        == Event::Exit {
            program: program.into(),
            code: 0,
        };
    say(event);
    passed
}

/// Powers off; if the kernel refuses, returning from `main` makes it panic,
/// which ends the virtual machine too (`panic=-1`, qemu's `-no-reboot`).
fn power_off() {
    // SAFETY: sync and reboot take no pointers; power-off ends this process.
    let rc = unsafe {
        libc::sync();
        libc::reboot(libc::RB_POWER_OFF)
    };
    if rc != 0 {
        say(Event::Error {
            message: format!("power off: {}", io::Error::last_os_error()),
        });
    }
}
