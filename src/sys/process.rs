//! The few process calls a program without libc needs around the memory calls: report,
//! exit, name itself, and read its auxiliary vector.

use super::{check, check_fd};
use crate::arch::{self, nr};
use crate::fd::{AsRawFd, BorrowedFd, OwnedFd};
use crate::Result;

/// `PR_GET_AUXV` (Linux 6.4): copy the auxiliary vector.
const PR_GET_AUXV: usize = 0x4155_5856;

/// Writes `buf` (`write(2)`); returns how many bytes were written.
#[inline]
pub fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> Result<usize> {
    // SAFETY: the kernel reads at most `buf.len()` bytes from `buf`.
    check(unsafe {
        arch::syscall3_readonly(
            nr::WRITE,
            fd.as_raw_fd() as usize,
            buf.as_ptr() as usize,
            buf.len(),
        )
    })
}

/// Ends the process with `code` (`exit_group(2)`). Destructors do not run.
#[inline]
pub fn exit_group(code: i32) -> ! {
    arch::exit_group(code)
}

/// The calling process's id (`getpid(2)`).
#[inline]
pub fn getpid() -> i32 {
    // SAFETY: getpid takes no argument and cannot fail.
    unsafe { arch::syscall0(nr::GETPID) as i32 }
}

/// A descriptor referring to process `pid` (`pidfd_open(2)`, Linux 5.3), as
/// [`process_madvise`](super::process_madvise) takes.
#[inline]
pub fn pidfd_open(pid: i32, flags: u32) -> Result<OwnedFd> {
    // SAFETY: pidfd_open takes no pointer.
    check_fd(unsafe { arch::syscall2_readonly(nr::PIDFD_OPEN, pid as usize, flags as usize) })
}

/// Copies as much of the auxiliary vector as fits into `words` (`prctl(PR_GET_AUXV)`);
/// returns how many words were filled.
pub(crate) fn prctl_get_auxv(words: &mut [usize]) -> Result<usize> {
    let (buf, len) = (words.as_mut_ptr() as usize, core::mem::size_of_val(words));
    // SAFETY: the kernel writes at most `len` bytes into `words`.
    let total = check(unsafe { arch::syscall5(nr::PRCTL, PR_GET_AUXV, buf, len, 0, 0) })?;
    Ok(total.min(len) / core::mem::size_of::<usize>())
}

/// `RLIMIT_STACK`, the same resource number on every architecture this crate supports.
const RLIMIT_STACK: usize = 3;

/// This process's stack size limit, soft and hard (`prlimit64(0, RLIMIT_STACK)`);
/// `u64::MAX` is unlimited.
pub(crate) fn stack_limit() -> Result<(u64, u64)> {
    let mut limit = [0u64; 2];
    let old = limit.as_mut_ptr() as usize;
    // SAFETY: the kernel writes one `struct rlimit64` (two u64) into `limit`, reads nothing.
    check(unsafe { arch::syscall4(nr::PRLIMIT64, 0, RLIMIT_STACK, 0, old) })?;
    Ok((limit[0], limit[1]))
}

/// `struct sysinfo`, laid out as the kernel's on every architecture: `long`s and a padding
/// that makes the whole 64 bytes plus 12 `long`s' worth.
#[repr(C)]
struct SysInfo {
    uptime: core::ffi::c_long,
    loads: [core::ffi::c_ulong; 3],
    total_ram: core::ffi::c_ulong,
    free_ram: core::ffi::c_ulong,
    shared_ram: core::ffi::c_ulong,
    buffer_ram: core::ffi::c_ulong,
    total_swap: core::ffi::c_ulong,
    free_swap: core::ffi::c_ulong,
    procs: u16,
    pad: u16,
    total_high: core::ffi::c_ulong,
    free_high: core::ffi::c_ulong,
    mem_unit: u32,
    _f: [u8; 20 - 2 * core::mem::size_of::<core::ffi::c_ulong>() - 4],
}

/// RAM and swap together, in bytes (`sysinfo(2)`): more than any stack can be given.
pub(crate) fn memory_and_swap() -> Result<u64> {
    let mut info = core::mem::MaybeUninit::<SysInfo>::zeroed();
    // SAFETY: the kernel writes one `struct sysinfo` into `info`.
    check(unsafe { arch::syscall1(nr::SYSINFO, info.as_mut_ptr() as usize) })?;
    // SAFETY: zero-initialised, then filled by the kernel; every field is a plain integer.
    let info = unsafe { info.assume_init() };
    // `c_ulong` is u64 only on 64-bit targets.
    #[allow(clippy::useless_conversion)]
    let units = u64::from(info.total_ram).saturating_add(u64::from(info.total_swap));
    Ok(units.saturating_mul(u64::from(info.mem_unit.max(1))))
}

#[cfg(test)]
mod tests {
    // The test harness links std whatever the features; the library itself does only with
    // `std`, so name it here for `cargo test` with no features.
    extern crate std;

    use super::{memory_and_swap, prctl_get_auxv};
    use crate::Errno;
    use std::vec::Vec;

    /// A `/proc/meminfo` field in bytes (its lines read "MemTotal:  16318460 kB").
    fn meminfo(key: &str) -> u64 {
        let text = std::fs::read_to_string("/proc/meminfo").unwrap();
        let line = text.lines().find(|l| l.starts_with(key)).unwrap();
        let kib = line[key.len()..].trim().trim_end_matches("kB").trim();
        kib.parse::<u64>().unwrap() * 1024
    }

    #[test]
    fn memory_and_swap_is_meminfos_total_and_swap_total() {
        // sysinfo's totalram and totalswap are /proc/meminfo's MemTotal and SwapTotal (the
        // kernel's totalram_pages and total_swap_pages), read before and after in case a
        // balloon driver or swapon changes them meanwhile. Kills memory_and_swap made Ok(0)
        // or Ok(1).
        let total = || meminfo("MemTotal:") + meminfo("SwapTotal:");
        let before = total();
        let ours = memory_and_swap().unwrap();
        let after = total();
        // A 32-bit kernel scales `mem_unit` until the totals fit its words; qemu-user
        // copies the host's 64-bit totals into the 32-bit guest's words, cut to their low
        // half (mem_unit 1): 3801673728 for this host's 25276510208.
        if cfg!(target_pointer_width = "32") && ours == before % (1 << 32) && ours != before {
            let test = "sys::process::tests::memory_and_swap_is_meminfos_total_and_swap_total";
            std::eprintln!("mman-skip: {test}: qemu-user cuts sysinfo's totals to 32 bits");
            return;
        }
        assert!(
            (before.min(after)..=before.max(after)).contains(&ours),
            "{ours} bytes, /proc/meminfo {before} then {after}"
        );
    }

    #[test]
    fn the_auxv_prctl_gives_the_vector_proc_self_auxv_shows() {
        // PR_GET_AUXV copies the whole saved vector, AT_NULL and the zeros after it, as far
        // as the buffer goes; /proc/self/auxv shows it up to AT_NULL. Kills the word count's
        // `/` made `%` (no word) or `*` (8 times the words, past the buffer).
        let mut words = [0usize; 256];
        let filled = match prctl_get_auxv(&mut words) {
            Err(Errno::EINVAL) => {
                let test =
                    "sys::process::tests::the_auxv_prctl_gives_the_vector_proc_self_auxv_shows";
                // qemu-user passes the call to the host's kernel, which refuses this option
                // for the emulator; the host's view of the process (thread-self/maps, which
                // qemu does not intercept) shows the emulator's executable.
                let host_view = std::fs::read_to_string("/proc/thread-self/maps").unwrap();
                if host_view.lines().any(|line| line.contains("/qemu-")) {
                    std::eprintln!("mman-skip: {test}: qemu-user refuses PR_GET_AUXV (EINVAL)");
                    return;
                }
                let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
                let mut parts = release.trim().split(['.', '-']);
                let mut number = || parts.next().and_then(|p| p.parse::<u32>().ok());
                let version = (number().unwrap(), number().unwrap());
                assert!(version < (6, 4), "PR_GET_AUXV refused by {release}");
                std::eprintln!("mman-skip: {test}: PR_GET_AUXV: EINVAL (Linux {release} < 6.4)");
                return;
            }
            filled => filled.unwrap(),
        };
        let bytes = std::fs::read("/proc/self/auxv").unwrap();
        let shown: Vec<usize> = bytes
            .chunks_exact(core::mem::size_of::<usize>())
            .map(|word| usize::from_ne_bytes(word.try_into().unwrap()))
            .collect();
        assert!(
            (shown.len()..=words.len()).contains(&filled),
            "{filled} words, {} shown",
            shown.len()
        );
        assert_eq!(words[..shown.len()], shown[..]);
        assert!(
            words[shown.len()..filled].iter().all(|&w| w == 0),
            "{words:x?}"
        );
    }
}
