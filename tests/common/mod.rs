//! Helpers shared by the integration tests: skipping with a reason, reading what the kernel
//! reports about this process (`/proc/self/maps`, `smaps`, `status`, `fd`), owned mappings,
//! forked children, and detecting qemu-user.
//!
//! Each test binary compiles this module on its own, so not every helper is used everywhere.
#![allow(dead_code)]

use mman::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::ffi::{c_void, CString};
use std::fs;
use std::io::Write;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

use mman::{sys, Errno, MapFlags, MemfdFlags, Prot};

mod effort;
mod leak;
#[allow(unused_imports)] // Only the tests that choose their own length scale it.
pub use effort::*;
#[allow(unused_imports)] // Not every test binary checks for leaks.
pub use leak::*;

/// Reports the running test as skipped, with a reason, and returns from it.
///
/// The line goes straight to stderr (not through libtest's capture), where the xtask counts
/// `mman-skip:` lines. libtest names each test's thread after the test.
#[allow(unused_macros)]
macro_rules! skip {
    ($($reason:tt)+) => {{
        $crate::common::report_skip(&format!($($reason)+));
        return;
    }};
}

/// Writes the `mman-skip:` line for the current test.
pub fn report_skip(reason: &str) {
    // One write, so that the line is not split by other threads' output.
    write_stderr(&format!("mman-skip: {}: {reason}\n", test_name()));
}

/// Writes `text` to stderr with one bare `write(2)`: past libtest's capture (which keeps a
/// test's output in memory, lost when a forked child exits), and without std's stderr lock,
/// which another thread may have held when a child was forked (it then stays held forever
/// in the child).
pub fn write_stderr(text: &str) {
    // SAFETY: writes the bytes of a live string.
    let written = unsafe { libc::write(2, text.as_ptr().cast(), text.len()) };
    assert_eq!(
        written,
        text.len() as isize,
        "write to stderr: {}",
        last_errno()
    );
}

/// The running test's name, from its thread (libtest names test threads after the test).
pub fn test_name() -> String {
    match std::thread::current().name() {
        Some(name) if name != "main" => name.to_string(),
        _ => "unknown test".to_string(),
    }
}

/// The page size, as the crate reports it.
pub fn page() -> usize {
    mman::page_size()
}

/// The kernel's stack guard gap: how far below a grows-down VMA it places nothing of its
/// own choosing (`stack_guard_gap=` pages on the command line, 256 pages by default).
pub fn stack_guard_gap() -> usize {
    let cmdline = fs::read_to_string("/proc/cmdline").unwrap_or_default();
    let pages = cmdline
        .split_whitespace()
        .find_map(|arg| arg.strip_prefix("stack_guard_gap="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(256);
    pages * page()
}

/// The kernel release (`/proc/sys/kernel/osrelease`), for skip reasons.
pub fn kernel_release() -> String {
    fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".to_string())
}

/// The skip reason for a call that returned `ENOSYS`: qemu-user lacks it, or the kernel is
/// older than `since` (or built without it).
pub fn enosys(call: &str, since: &str) -> String {
    if is_qemu_user() {
        format!("{call}: ENOSYS under qemu-user (not emulated)")
    } else {
        format!(
            "{call}: ENOSYS (needs Linux {since}; kernel is {})",
            kernel_release()
        )
    }
}

/// The kernel's name for the architecture this binary was built for (`uname -m`,
/// `/proc/sys/kernel/arch`), where it differs from Rust's.
fn kernel_arch_name() -> &'static str {
    match std::env::consts::ARCH {
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "powerpc64" => "ppc64",
        arch => arch,
    }
}

/// True when this binary runs under qemu-user.
///
/// qemu-user answers `uname` with the emulated machine and synthesizes `/proc/self/maps`,
/// `smaps`, `auxv` and (for arm64) `/proc/cpuinfo`, so none of those tells. Two things do:
/// `/proc/sys/kernel/arch` (Linux 6.1) names the host's architecture, not the one this
/// binary was built for; and `/proc/thread-self/maps`, which qemu-user does not intercept,
/// shows the host's view of the process, with the qemu executable mapped in it.
pub fn is_qemu_user() -> bool {
    static CACHE: AtomicUsize = AtomicUsize::new(0);
    match CACHE.load(Ordering::Relaxed) {
        1 => false,
        2 => true,
        _ => {
            // The host's view lists qemu's executable (at 64-bit addresses a 32-bit
            // program's maps parser cannot hold: only the path is read).
            let qemu_mapped = || {
                fs::read_to_string("/proc/thread-self/maps").is_ok_and(|maps| {
                    maps.lines().any(|line| {
                        line.split_whitespace()
                            .nth(5)
                            .and_then(|path| path.rsplit('/').next())
                            .is_some_and(|file| file.starts_with("qemu-"))
                    })
                })
            };
            let qemu = match fs::read_to_string("/proc/sys/kernel/arch") {
                // A 32-bit program's real kernel may be a 64-bit one (x86_64's ia32 layer)
                // and names itself "i686" or "armv7l" otherwise: the name settles nothing.
                Ok(_) if cfg!(target_pointer_width = "32") => qemu_mapped(),
                Ok(arch) => arch.trim() != kernel_arch_name(),
                // The file is Linux 6.1's; older kernels have none.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => qemu_mapped(),
                Err(e) => panic!("/proc/sys/kernel/arch: {e}"),
            };
            CACHE.store(if qemu { 2 } else { 1 }, Ordering::Relaxed);
            qemu
        }
    }
}

/// Whether this is a 32-bit program under qemu-user, which reserves the guest's whole
/// address space on the host when it starts (`reserved_va`) and maps what the guest unmaps
/// back as host `PROT_NONE` memory: calls the host kernel answers `ENOMEM` for where nothing
/// is mapped (`mprotect`, `mlock`, `msync`, `mremap` growing in place) find host memory in
/// the guest's holes there.
pub fn qemu_user_reserves_the_address_space() -> bool {
    cfg!(target_pointer_width = "32") && is_qemu_user()
}

/// Why this system has no memory protection keys, judged by what the CPU and kernel
/// advertise in `/proc/cpuinfo` (never by `pkey_alloc`'s answer, so that a broken
/// `pkey_alloc` fails instead of skipping), or `None` when keys must work.
///
/// - x86_64 and i686: the `pku` flag (the CPU has keys) and `ospke` (the kernel enabled them:
///   `CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS`, no `nopku` on the command line).
/// - aarch64: the `poe` hwcap in `Features` (permission overlays, Linux 6.12 and a CPU
///   with FEAT_S1POE); arm64 shows only hwcaps the kernel enabled.
/// - qemu-user: `/proc/cpuinfo` is synthesized (aarch64) and QEMU does not emulate the
///   `pkey_*` calls, whatever the host has.
pub fn pkeys_absent() -> Option<String> {
    if is_qemu_user() {
        return Some("protection keys: qemu-user does not emulate pkey_alloc (and synthesizes /proc/cpuinfo)".into());
    }
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").expect("read /proc/cpuinfo");
    // Every CPU's block repeats the line; the first one is enough.
    let first_tokens = |field: &str| -> Vec<String> {
        cpuinfo
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                (name.trim() == field)
                    .then(|| value.split_whitespace().map(str::to_string).collect())
            })
            .unwrap_or_default()
    };
    let (field, needed): (&str, &[&str]) = match std::env::consts::ARCH {
        // i686 too: its keys work through an x86_64 kernel's ia32 layer; a 32-bit kernel
        // never enables them (no `ospke`).
        "x86_64" | "x86" => ("flags", &["pku", "ospke"]),
        "aarch64" => ("Features", &["poe"]),
        "powerpc64" => return powerpc_pkeys_absent(&first_tokens("MMU")),
        "s390x" | "arm" => {
            return Some(format!(
                "protection keys: {} has none for user space (kernel {})",
                std::env::consts::ARCH,
                kernel_release()
            ))
        }
        arch => return Some(format!("protection keys: not checked on {arch}")),
    };
    let have = first_tokens(field);
    let missing: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|n| !have.iter().any(|h| h == n))
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "protection keys: /proc/cpuinfo {field} lack {} (kernel {})",
            missing.join(", "),
            kernel_release()
        )
    })
}

/// powerpc64's part of [`pkeys_absent`]: Linux offers keys only under the hash MMU
/// (`arch/powerpc/mm/book3s64/pkeys.c`: none with radix translation), and there only when
/// the firmware's device tree gives the CPUs `ibm,processor-storage-keys` (qemu's pseries
/// gives none).
fn powerpc_pkeys_absent(mmu: &[String]) -> Option<String> {
    let kernel = kernel_release();
    if mmu.iter().any(|m| m == "Radix") {
        return Some(format!(
            "protection keys: none under the radix MMU (/proc/cpuinfo MMU: Radix, kernel {kernel})"
        ));
    }
    let offered = fs::read_dir("/proc/device-tree/cpus")
        .map(|cpus| {
            cpus.flatten()
                .any(|cpu| cpu.path().join("ibm,processor-storage-keys").exists())
        })
        .unwrap_or(false);
    (!offered).then(|| {
        format!(
            "protection keys: the device tree's CPUs have no ibm,processor-storage-keys \
             (MMU {mmu:?}, kernel {kernel})"
        )
    })
}

/// The errors `pkey_alloc` answers on a system without protection keys (man pkey_alloc:
/// `ENOSPC` when keys are unsupported, x86 kernels `EINVAL` for a process's first call
/// without OSPKE, `ENOSYS` where the call does not exist).
pub const PKEY_ALLOC_WITHOUT_KEYS: [Errno; 3] = [Errno::ENOSPC, Errno::EINVAL, Errno::ENOSYS];

/// `pkey_alloc(0, rights)`, or the skip reason when [`pkeys_absent`] says the system has no
/// keys (and `pkey_alloc` then failed as documented). Panics when the system has keys and
/// `pkey_alloc` fails, or when it has none and `pkey_alloc` answers something else.
pub fn pkey_alloc_or_skip(rights: u32) -> Result<i32, String> {
    let result = sys::pkey_alloc(0, rights);
    match (pkeys_absent(), result) {
        (None, Ok(key)) => Ok(key),
        (None, Err(e)) => panic!(
            "/proc/cpuinfo advertises protection keys, yet pkey_alloc(0, {rights:#x}) failed: {e}"
        ),
        (Some(reason), Err(e)) if is_qemu_user() || PKEY_ALLOC_WITHOUT_KEYS.contains(&e) => {
            Err(format!("{reason}; pkey_alloc: {e}"))
        }
        (Some(reason), Ok(key)) if is_qemu_user() => {
            // SAFETY: the key was just allocated and nothing is tagged with it.
            assert_eq!(unsafe { sys::pkey_free(key) }, Ok(()), "pkey_free");
            Err(reason)
        }
        (Some(reason), other) => {
            panic!("{reason}, yet pkey_alloc(0, {rights:#x}) answered {other:?}")
        }
    }
}

/// Why `memfd_secret` must answer `ENOSYS` here, or `None` when it must work.
///
/// The call exists from Linux 5.14 (x86_64 and arm64, `CONFIG_SECRETMEM`) and answers
/// ENOSYS unless secretmem is enabled: off by default before 6.5 (`secretmem.enable=1` on
/// the kernel command line turns it on), on by default from 6.5 (`secretmem.enable=0`
/// turns it off). The kernel's decision is readable (by root) in
/// `/sys/module/secretmem/parameters/enable`, which exists when it is built in; otherwise
/// it is worked out from the version and `/proc/cmdline`. qemu-user does not emulate it.
pub fn memfd_secret_missing() -> Option<String> {
    if is_qemu_user() {
        return Some("memfd_secret: ENOSYS under qemu-user (not emulated)".into());
    }
    let kernel = kernel_release();
    if !kernel_at_least(5, 14) {
        return Some(format!("memfd_secret needs Linux 5.14 (kernel {kernel})"));
    }
    let enabled = match fs::read_to_string("/sys/module/secretmem/parameters/enable") {
        Ok(value) => value.trim() == "Y",
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Some(format!(
                "memfd_secret: kernel {kernel} built without CONFIG_SECRETMEM (no /sys/module/secretmem)"
            ))
        }
        // Mode 0400: readable by root only.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            let cmdline = fs::read_to_string("/proc/cmdline").expect("read /proc/cmdline");
            let given = cmdline
                .split_whitespace()
                .find_map(|arg| arg.strip_prefix("secretmem.enable="));
            match given {
                Some(v) => matches!(v, "1" | "y" | "Y"),
                None => kernel_at_least(6, 5),
            }
        }
        Err(e) => panic!("/sys/module/secretmem/parameters/enable: {e}"),
    };
    (!enabled).then(|| {
        format!(
            "memfd_secret: secretmem disabled on kernel {kernel} (off by default before 6.5; \
             secretmem.enable= on the command line)"
        )
    })
}

/// Why reclaim may discard what a program wrote to lazily freed memory here, if it may.
///
/// After `MADV_FREE` the kernel keeps a page only if the CPU marked it dirty (changed) by
/// a later store. QEMU's emulated POWER9 (radix MMU) sets the change bit for a store that
/// misses its TLB, but not for a store after a load of the same page: reclaim then finds
/// the page clean and discards the store, for any program (a C program loses it the same
/// way; x86_64 under the same QEMU keeps it). Probed as that program does: fill a page,
/// free it lazily, load and store one byte, reclaim (`MADV_PAGEOUT`), read the byte back.
pub fn lazily_freed_stores_after_loads_lost() -> Option<String> {
    let page = page();
    let m = mman::MapOptions::new()
        .len(page)
        .map()
        .expect("a page to probe");
    let first = m.as_ptr();
    // SAFETY: the page is mapped read-write and private to this function; no reference to
    // its bytes exists, so raw reads and writes race with nothing.
    unsafe {
        first.write_bytes(0xaa, page);
        if sys::madvise(first.cast(), page, mman::Advice::Free).is_err() {
            return None;
        }
        let seen = first.read_volatile();
        first.write_volatile(!seen);
        if sys::madvise(first.cast(), page, mman::Advice::PageOut).is_err() {
            return None;
        }
        (first.read_volatile() != !seen).then(|| {
            format!(
                "a store after a load to a lazily freed page is discarded by reclaim here \
                 (the emulated CPU leaves the page clean; kernel {})",
                kernel_release()
            )
        })
    }
}

/// Why this machine maps no huge pages although its kernel was built with them, if so.
///
/// s390x maps huge pages only with the CPU's EDAT-1 facility (enhanced DAT; the kernel's
/// `edat` hwcap, listed in `/proc/cpuinfo`'s features), which QEMU's emulated CPU lacks.
/// Such a kernel offers no huge page size (no hugetlbfs: `MAP_HUGETLB` is ENOENT, and
/// `/proc/meminfo` has no `Hugepagesize`) and no transparent huge pages (no
/// `/sys/kernel/mm/transparent_hugepage`), yet still knows the huge-page advice
/// (`MADV_HUGEPAGE` is accepted and recorded on the VMA).
pub fn cpu_cannot_map_huge_pages() -> Option<String> {
    if !cfg!(target_arch = "s390x") || is_qemu_user() {
        return None;
    }
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").expect("/proc/cpuinfo");
    let features = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("features")?.trim_start().strip_prefix(':'))
        .expect("s390x's /proc/cpuinfo has a features line");
    let edat = features.split_whitespace().any(|f| f == "edat");
    (!edat).then(|| {
        format!(
            "the CPU lacks EDAT-1 (no `edat` in /proc/cpuinfo's features): kernel {} maps no \
             huge pages",
            kernel_release()
        )
    })
}

/// Whether transparent huge pages work: `/sys/kernel/mm/transparent_hugepage` is there.
pub fn thp_available() -> bool {
    fs::metadata("/sys/kernel/mm/transparent_hugepage").is_ok()
}

/// Whether the kernel was built with transparent huge pages, so knows their advice: they
/// work ([`thp_available`]), or the CPU cannot map them ([`cpu_cannot_map_huge_pages`]).
pub fn thp_built_in() -> bool {
    thp_available() || cpu_cannot_map_huge_pages().is_some()
}

/// A `/proc/meminfo` field in kB (its lines read `Hugepagesize:    2048 kB`); `None` if
/// the kernel does not show it.
pub fn meminfo_kb(field: &str) -> Option<usize> {
    fs::read_to_string("/proc/meminfo")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The huge page sizes the kernel offers, in bytes (`/sys/kernel/mm/hugepages/hugepages-<n>kB`;
/// none without `CONFIG_HUGETLB_PAGE`). `MAP_HUGETLB` with any other size is EINVAL.
pub fn huge_page_sizes() -> Vec<usize> {
    let Ok(dir) = fs::read_dir("/sys/kernel/mm/hugepages") else {
        return Vec::new();
    };
    let mut sizes: Vec<usize> = dir
        .map(|e| {
            e.expect("/sys/kernel/mm/hugepages entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .map(|name| {
            let kb = name
                .strip_prefix("hugepages-")
                .and_then(|n| n.strip_suffix("kB"));
            kb.and_then(|kb| kb.parse::<usize>().ok())
                .unwrap_or_else(|| panic!("unexpected /sys/kernel/mm/hugepages/{name}"))
                * 1024
        })
        .collect();
    sizes.sort();
    sizes
}

/// The reason used by tests that need the kernel's madvise and cannot get it under qemu-user.
pub const QEMU_MADVISE: &str =
    "qemu-user emulates madvise: returns 0 for this advice/range without asking the kernel";

/// One line of `/proc/self/maps`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapsEntry {
    pub start: usize,
    pub end: usize,
    pub perms: String,
    pub path: String,
}

fn parse_maps_line(line: &str) -> Option<MapsEntry> {
    let mut fields = line.splitn(6, ' ');
    let (start, end) = fields.next()?.split_once('-')?;
    let perms = fields.next()?.to_string();
    let _offset = fields.next()?;
    let _dev = fields.next()?;
    let _inode = fields.next()?;
    let path = fields.next().unwrap_or("").trim_start().to_string();
    Some(MapsEntry {
        start: usize::from_str_radix(start, 16).ok()?,
        end: usize::from_str_radix(end, 16).ok()?,
        perms,
        path,
    })
}

/// Every entry of `/proc/self/maps`.
pub fn maps() -> Vec<MapsEntry> {
    fs::read_to_string("/proc/self/maps")
        .expect("read /proc/self/maps")
        .lines()
        .filter_map(parse_maps_line)
        .collect()
}

/// The `/proc/self/maps` entry covering `addr`, if any.
pub fn maps_entry(addr: *const c_void) -> Option<MapsEntry> {
    let addr = addr as usize;
    maps().into_iter().find(|e| e.start <= addr && addr < e.end)
}

/// The permissions (`rw-p` ...) of the mapping covering `addr`; panics if unmapped.
pub fn perms(addr: *const c_void) -> String {
    maps_entry(addr)
        .unwrap_or_else(|| panic!("{addr:p} is not in /proc/self/maps"))
        .perms
}

/// True if some mapping covers `addr`.
pub fn is_mapped(addr: *const c_void) -> bool {
    maps_entry(addr).is_some()
}

/// The value of `field` (e.g. `ProtectionKey`) in the `/proc/self/smaps` block of the mapping
/// that covers `addr`.
pub fn smaps_field(addr: *const c_void, field: &str) -> Option<String> {
    let smaps = fs::read_to_string("/proc/self/smaps").expect("read /proc/self/smaps");
    let addr = addr as usize;
    let mut inside = false;
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if !first.ends_with(':') {
            // A header line, laid out as in /proc/self/maps.
            inside = parse_maps_line(line).is_some_and(|e| e.start <= addr && addr < e.end);
        } else if inside && first.strip_suffix(':') == Some(field) {
            return Some(line[first.len()..].trim().to_string());
        }
    }
    None
}

/// Whether `/proc/self/smaps` is the kernel's. qemu-user synthesizes it for the emulated
/// process: `VmFlags` only has the basic `rd wr ex sh mr mw` flags (no `lo`, `dd`, ...) and
/// the page-size fields describe the host's view.
pub fn smaps_is_real() -> bool {
    !is_qemu_user()
}

/// The two-letter `VmFlags` of the mapping covering `addr` (`rd wr mr ... dd`), from smaps.
pub fn vm_flags(addr: *const c_void) -> Vec<String> {
    smaps_field(addr, "VmFlags")
        .unwrap_or_else(|| panic!("no VmFlags for {addr:p} in /proc/self/smaps"))
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// True if the mapping covering `addr` has VmFlag `flag`.
pub fn has_vm_flag(addr: *const c_void, flag: &str) -> bool {
    vm_flags(addr).iter().any(|f| f == flag)
}

/// `VmLck` of `/proc/self/status`, in kB.
pub fn vm_lck_kb() -> usize {
    let status = fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmLck:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmLck line in /proc/self/status")
}

/// How many descriptors this process has open (entries of `/proc/self/fd`, less the one
/// used to list them).
pub fn fd_count() -> usize {
    fs::read_dir("/proc/self/fd")
        .expect("list /proc/self/fd")
        .count()
        - 1
}

/// Where `/proc/self/fd/N` points.
pub fn fd_link(fd: RawFd) -> String {
    fs::read_link(format!("/proc/self/fd/{fd}"))
        .expect("readlink /proc/self/fd/N")
        .to_string_lossy()
        .into_owned()
}

/// A name no other test (or test process) uses: `mman-<pid>-<test>-<n>`, with `tag` added.
pub fn unique_name(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let test: String = test_name()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("mman-{}-{test}-{n}{tag}", std::process::id())
}

/// `unique_name` as a C string.
pub fn unique_cname(tag: &str) -> CString {
    CString::new(unique_name(tag)).expect("no NUL in name")
}

/// A System V segment id, removed (`IPC_RMID`) on drop.
pub struct Segment(pub i32);

impl Drop for Segment {
    fn drop(&mut self) {
        // EINVAL when the test removed the segment itself.
        let removed = sys::shm_remove(self.0);
        if !std::thread::panicking() {
            assert!(
                matches!(removed, Ok(()) | Err(Errno::EINVAL)),
                "IPC_RMID: {removed:?}"
            );
        }
    }
}

/// A mapping owned by a test, unmapped on drop.
#[derive(Debug)]
pub struct Map {
    pub ptr: *mut c_void,
    pub len: usize,
}

impl Map {
    /// `mmap` with the kernel choosing the address; panics on failure.
    pub fn new(len: usize, prot: Prot, flags: MapFlags, fd: RawFd, offset: u64) -> Map {
        let ptr = unsafe { sys::mmap(ptr::null_mut(), len, prot, flags, fd, offset) }
            .unwrap_or_else(|e| panic!("mmap({len}, {prot:?}, {flags:?}): {e}"));
        Map { ptr, len }
    }

    /// `mmap` at a fresh address of the quiet area (`MapFlags::FIXED_NOREPLACE`): once
    /// unmapped, the range stays unmapped.
    pub fn quiet(len: usize, prot: Prot, flags: MapFlags, fd: RawFd, offset: u64) -> Map {
        let want = quiet_address(len);
        let flags = flags | MapFlags::FIXED_NOREPLACE;
        let ptr = unsafe { sys::mmap(want, len, prot, flags, fd, offset) }
            .unwrap_or_else(|e| panic!("mmap at {want:p} in the quiet area: {e}"));
        assert_eq!(ptr, want);
        Map { ptr, len }
    }

    /// Private anonymous read-write memory.
    pub fn anon(len: usize) -> Map {
        Map::new(
            len,
            Prot::READ | Prot::WRITE,
            MapFlags::PRIVATE | MapFlags::ANONYMOUS,
            -1,
            0,
        )
    }

    /// A shared read-write mapping of `fd`.
    pub fn shared(fd: &OwnedFd, len: usize, offset: u64) -> Map {
        Map::new(
            len,
            Prot::READ | Prot::WRITE,
            MapFlags::SHARED,
            fd.as_raw_fd(),
            offset,
        )
    }

    /// Takes ownership of a mapping made elsewhere.
    pub fn adopt(ptr: *mut c_void, len: usize) -> Map {
        Map { ptr, len }
    }

    pub fn addr(&self) -> usize {
        self.ptr as usize
    }

    /// Page `i` of the mapping.
    pub fn page_ptr(&self, i: usize) -> *mut u8 {
        self.ptr.cast::<u8>().wrapping_add(i * page())
    }

    pub fn bytes(&self) -> &[u8] {
        unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), self.len) }
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        unsafe { std::slice::from_raw_parts_mut(self.ptr.cast::<u8>(), self.len) }
    }

    /// Gives up ownership without unmapping (for sealed or already unmapped ranges).
    pub fn leak(self) {
        std::mem::forget(self);
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        // SAFETY: the test owns the range; nothing refers to it once the Map is dropped.
        let unmapped = unsafe { sys::munmap(self.ptr, self.len) };
        // (Sealed or otherwise unremovable ranges are given up with `leak` instead.)
        if !std::thread::panicking() {
            assert_eq!(unmapped, Ok(()), "munmap({:p}, {})", self.ptr, self.len);
        }
    }
}

/// Maps `len` bytes (`MapFlags::FIXED` added) between two `PROT_NONE` guard pages in the
/// quiet area, so that its `/proc/self/maps` entry is exactly its own (the kernel merges
/// neighbouring mappings that look alike) and what it unmaps stays unmapped. Returns the
/// reservation, whose drop unmaps all of it, and the address.
pub fn isolated(
    len: usize,
    prot: Prot,
    flags: MapFlags,
    fd: RawFd,
    offset: u64,
) -> (Map, *mut c_void) {
    let reservation = Map::quiet(
        len + 2 * page(),
        Prot::empty(),
        MapFlags::PRIVATE | MapFlags::ANONYMOUS,
        -1,
        0,
    );
    let want = reservation.page_ptr(1).cast::<c_void>();
    let got = unsafe { sys::mmap(want, len, prot, flags | MapFlags::FIXED, fd, offset) }
        .unwrap_or_else(|e| panic!("mmap FIXED into a reservation: {e}"));
    assert_eq!(got, want);
    (reservation, got)
}

/// Serialises the tests of one binary that hold it, for process-wide state such as the
/// `VmLck` counter or the protection-key space that parallel tests would disturb.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The quiet area's size: 4 GiB, or 256 MiB in a 32-bit address space (qemu-i386's largest
/// gap is under 1 GiB, and the area lies in its middle).
const QUIET_ROOM: usize = if usize::BITS == 64 {
    1 << (usize::BITS / 2)
} else {
    1 << (usize::BITS - 4)
};

/// The middle of the largest gap between two mappings: an area no allocator reaches while
/// the tests run. The kernel hands out addresses top-down from just below the existing
/// mappings (qemu-user bottom-up from its own base), and a range freed by one test is the
/// first place the next small `mmap` of any thread (another test, a new thread's signal
/// stack) lands. Tests that need an address to *stay* unmapped, or that map at an address of
/// their choosing, use this area instead.
fn quiet_area() -> usize {
    static AREA: AtomicUsize = AtomicUsize::new(0);
    let area = AREA.load(Ordering::Relaxed);
    if area != 0 {
        return area;
    }
    let entries: Vec<MapsEntry> = maps()
        .into_iter()
        // Gate pages above the address space a process can map (x86_64, 32-bit ARM).
        .filter(|e| e.path != "[vsyscall]" && e.path != "[vectors]")
        .collect();
    let (lo, hi) = entries
        .windows(2)
        .map(|w| (w[0].end, w[1].start))
        .max_by_key(|&(lo, hi)| hi.saturating_sub(lo))
        .expect("at least two mappings");
    let align = QUIET_ROOM / 4;
    let area = (lo + (hi - lo) / 2) & !(align - 1);
    assert!(
        area > lo && area.checked_add(QUIET_ROOM).is_some_and(|end| end < hi),
        "largest gap {lo:#x}..{hi:#x} too small"
    );
    AREA.store(area, Ordering::Relaxed);
    area
}

/// A fresh address in the quiet area with room for `len` bytes, a gap of unmapped space
/// before and after it, and nothing mapped there.
pub fn quiet_address(len: usize) -> *mut c_void {
    const SLOT: usize = QUIET_ROOM / 256;
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let slots = len.div_ceil(SLOT) + 1;
    let first = NEXT.fetch_add(slots, Ordering::Relaxed);
    (quiet_area() + (first + 1) * SLOT) as *mut c_void
}

/// A read-write `Mapping` of `pages` pages at a quiet address, and a read-only page right
/// after it (different permissions, so the kernel keeps the two entries apart): the first
/// cannot grow in place.
pub fn hemmed_in(pages: usize) -> (mman::Mapping, mman::Mapping) {
    let p = page();
    let at = quiet_address((pages + 1) * p) as usize;
    let mapping = mman::MapOptions::new()
        .len(pages * p)
        .at(at)
        .map()
        .expect("map at a quiet address");
    let neighbour = mman::MapOptions::new()
        .prot(Prot::READ)
        .len(p)
        .at(at + pages * p)
        .map()
        .expect("map the neighbour");
    (mapping, neighbour)
}

/// An address where nothing is mapped, and where nothing will be while the test runs.
pub fn free_address(len: usize) -> *mut c_void {
    quiet_address(len)
}

/// A memfd of `len` bytes (zeros), created with `flags`.
pub fn memfd(name: &str, flags: MemfdFlags, len: u64) -> OwnedFd {
    let name = CString::new(name).expect("no NUL");
    let fd = sys::memfd_create(&name, flags).unwrap_or_else(|e| panic!("memfd_create: {e}"));
    sys::ftruncate(fd.as_fd(), len).unwrap_or_else(|e| panic!("ftruncate: {e}"));
    fd
}

/// The cache colour the running kernel demands of shared mappings at fixed addresses: the
/// smallest power of two `c` (at least a page) at which a shared memfd page of offset 0 is
/// accepted `c` bytes into a region aligned to `mman::shared_alignment()`. The page size
/// where data caches do not alias; on mips the CPU's (the 5Kc QEMU models: 8 KiB), which
/// user space cannot read otherwise and `mman::shared_alignment()` bounds from above.
pub fn kernel_shared_colour() -> usize {
    static COLOUR: AtomicUsize = AtomicUsize::new(0);
    let known = COLOUR.load(Ordering::Relaxed);
    if known != 0 {
        return known;
    }
    let (p, most) = (page(), mman::shared_alignment());
    let file = memfd("mman-colour", MemfdFlags::CLOEXEC, p as u64);
    let mut space = mman::Reservation::with_align(2 * most, most).expect("reserve");
    let view = mman::MapOptions::new().len(p).shared();
    let mut colour = p;
    let found = loop {
        if colour >= most {
            break most;
        }
        match view.map_file_in(&mut space, colour, &file, 0) {
            Ok(_) => break colour,
            Err(Errno::EINVAL) => colour *= 2,
            Err(e) => panic!("shared placement {colour:#x} into the region: {e}"),
        }
    };
    COLOUR.store(found, Ordering::Relaxed);
    found
}

/// Residency of each page of `[ptr, ptr + len)`, from `mincore`.
pub fn resident(ptr: *mut c_void, len: usize) -> Vec<bool> {
    let mut vec = vec![0u8; len.div_ceil(page())];
    unsafe { sys::mincore(ptr, len, vec.as_mut_ptr()) }.expect("mincore");
    vec.iter().map(|b| b & 1 == 1).collect()
}

/// How a forked child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildEnd {
    Exited(i32),
    Signaled(i32),
}

/// Runs `f` in a forked child and waits for it. The child exits with `f`'s return value
/// (101 if it panics) and never returns into the test harness. Core dumps are disabled in
/// the child, since some children are expected to die of a signal.
///
/// Only the forking thread exists in the child; `f` should stay simple.
pub fn in_child(f: impl FnOnce() -> i32) -> ChildEnd {
    // What the parent buffered would otherwise be written twice, by it and by the child.
    std::io::stdout().flush().expect("flush stdout");
    std::io::stderr().flush().expect("flush stderr");
    // SAFETY: the child runs `f` and `_exit`s; it never unwinds back into the caller.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let no_core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        unsafe { libc::setrlimit(libc::RLIMIT_CORE, &no_core) };
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(101);
        unsafe { libc::_exit(code) };
    }
    wait_child(pid)
}

/// Waits for child `pid` and decodes its status.
pub fn wait_child(pid: libc::pid_t) -> ChildEnd {
    let mut status = 0;
    loop {
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        assert_eq!(err.raw_os_error(), Some(libc::EINTR), "waitpid: {err}");
    }
    if libc::WIFEXITED(status) {
        ChildEnd::Exited(libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        ChildEnd::Signaled(libc::WTERMSIG(status))
    } else {
        panic!("unexpected wait status {status:#x}")
    }
}

/// Reads one byte through a volatile load (so a fault really happens where expected).
pub fn read_byte(p: *const u8) -> u8 {
    unsafe { ptr::read_volatile(p) }
}

/// Writes one byte through a volatile store.
pub fn write_byte(p: *mut u8, v: u8) {
    unsafe { ptr::write_volatile(p, v) }
}

/// The error of a call expected to fail; panics with the value if it succeeded.
#[track_caller]
pub fn err<T: std::fmt::Debug>(r: mman::Result<T>) -> Errno {
    match r {
        Ok(v) => panic!("expected an error, got Ok({v:?})"),
        Err(e) => e,
    }
}

/// `errno` after a failed libc call, as an `Errno`.
pub fn last_errno() -> Errno {
    Errno::from_raw(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
}

/// The errno codes the crate names: every code the kernel assigns on this architecture.
/// asm-generic's (`errno-base.h`, `errno.h`) run from 1 to 133 with 41 and 58 free (powerpc
/// gives 58 to its `EDEADLOCK`); mips's (`arch/mips/include/uapi/asm/errno.h`) run to 168
/// with gaps, plus `EDQUOT` at 1133, less `EINIT` (141) and `EREMDEV` (142), which no kernel
/// path returns and which the crate leaves unnamed.
pub fn named_errno_codes() -> Vec<i32> {
    let free: &[std::ops::RangeInclusive<i32>] = if cfg!(target_arch = "mips64") {
        &[
            47..=49,
            57..=58,
            72..=72,
            75..=76,
            100..=119,
            136..=136,
            141..=142,
            152..=157,
        ]
    } else if cfg!(target_arch = "powerpc64") {
        &[41..=41]
    } else {
        &[41..=41, 58..=58]
    };
    let last = if cfg!(target_arch = "mips64") {
        168
    } else {
        133
    };
    let mips_edquot = cfg!(target_arch = "mips64").then_some(1133);
    (1..=last)
        .filter(|code| !free.iter().any(|range| range.contains(code)))
        .chain(mips_edquot)
        .collect()
}

/// The running kernel's `(major, minor)` version, from `/proc/sys/kernel/osrelease` (the
/// host kernel's under qemu-user, which does not rewrite that file).
pub fn kernel_version() -> (u32, u32) {
    let release = kernel_release();
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// Whether the kernel itself is 32-bit (`/proc/sys/kernel/arch` is `i686`, `armv7l`...), not
/// a 64-bit one running this 32-bit program through its compat layer (`x86_64`). Linux builds
/// some features for 64-bit kernels only: `mseal` (ENOSYS on 32-bit ones) and
/// `MAP_DROPPABLE` (its VMA flag is one of the high 32 bits).
pub fn kernel_is_32_bit() -> bool {
    cfg!(target_pointer_width = "32")
        && fs::read_to_string("/proc/sys/kernel/arch").is_ok_and(|arch| !arch.contains("64"))
}

/// True if the running kernel is at least `major.minor`.
pub fn kernel_at_least(major: u32, minor: u32) -> bool {
    kernel_version() >= (major, minor)
}

/// The skip reason for a test that changes the protection of private anonymous pages a read
/// (or a populating `mlock`) may have mapped to the shared zero page, on the kernels that
/// corrupt that page then: mips kernels before 6.4. There `mprotect` rebuilds each entry
/// with `pte_modify`, which kept only the bits in `_PAGE_CHG_MASK`, and that mask lacked
/// `_PAGE_SPECIAL`; the zero page's entry loses its mark, and the next `munmap`,
/// `MADV_DONTNEED` or exit unmaps the zero page as a page of the process's own (`BUG: Bad
/// page map`, then `Bad page state` as it is freed), after which fresh anonymous memory of
/// every process reads whatever reuses that page. Upstream 1492c6b1874a ("MIPS: Don't clear
/// _PAGE_SPECIAL in _PAGE_CHG_MASK", 6.4) fixed it; Debian's 6.1 (6.1.176) still has it:
/// `mmap(PROT_READ)`, a read, `mprotect(PROT_NONE)`, `munmap` is enough. Not under qemu-user,
/// where the host's kernel keeps the page table.
pub fn mips_zero_page_protect_bug() -> Option<String> {
    (cfg!(target_arch = "mips64") && !kernel_at_least(6, 4) && !is_qemu_user()).then(|| {
        format!(
            "kernel {} is a mips kernel before 6.4, whose mprotect drops the shared zero \
             page's _PAGE_SPECIAL bit and whose next unmap then frees the zero page \
             (fixed upstream by 1492c6b1874a, \"MIPS: Don't clear _PAGE_SPECIAL in \
             _PAGE_CHG_MASK\")",
            kernel_release()
        )
    })
}

/// Runs `f` in a forked child (see [`in_child`]) whose panics are reported on stderr:
/// libtest captures a test's output in memory, which a child loses when it exits, so a
/// failed assertion inside the child would otherwise leave no message. The child exits 0
/// when `f` returns, 101 when it panics.
///
/// The message is written with a bare `write(2)`: locks that another thread of the test
/// harness held at the fork (the panic-hook lock, stderr's lock) stay held forever in the
/// child, so neither `std::panic::set_hook` nor `std::io::stderr()` is safe there.
pub fn in_child_checked(f: impl FnOnce()) -> ChildEnd {
    let test = test_name();
    in_child(
        move || match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(()) => 0,
            Err(payload) => {
                let msg = payload
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| payload.downcast_ref::<&str>().copied())
                    .unwrap_or("(panic payload is not a string)");
                write_stderr(&format!("[forked child of {test}] panicked: {msg}\n"));
                101
            }
        },
    )
}

/// A second handle on the same open file, as `std::fs::File`, for pread/pwrite and
/// metadata. (`mman::fd` is std's with feature `std` and the crate's own without, so this
/// goes through `dup` rather than `try_clone_to_owned`.)
pub fn file_of(fd: impl mman::fd::AsFd) -> std::fs::File {
    use mman::fd::AsRawFd;
    let dup = unsafe { libc::dup(fd.as_fd().as_raw_fd()) };
    assert!(dup >= 0, "dup: {}", std::io::Error::last_os_error());
    // SAFETY: a fresh descriptor that nothing else owns.
    unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(dup) }
}

/// Sets the soft limit of `resource`, keeping the hard one so it can be raised back.
pub fn set_soft_limit(resource: libc::__rlimit_resource_t, value: u64) -> libc::rlimit {
    let old = limit(resource);
    // rlim_t is u64 on 64-bit targets, u32 on 32-bit ones.
    #[allow(clippy::useless_conversion)]
    let new = libc::rlimit {
        rlim_cur: value.try_into().expect("a limit rlim_t holds"),
        rlim_max: old.rlim_max,
    };
    assert_eq!(unsafe { libc::setrlimit(resource, &new) }, 0, "setrlimit");
    old
}

/// The address `offset` bytes into `space`.
pub fn reservation_addr(space: &mman::Reservation, offset: usize) -> *const std::ffi::c_void {
    space.as_ptr().wrapping_add(offset).cast()
}

/// The permissions of every page of `space`, as `/proc/self/maps` shows them.
pub fn reservation_page_perms(space: &mman::Reservation) -> Vec<String> {
    (0..space.len() / page())
        .map(|i| perms(reservation_addr(space, i * page())))
        .collect()
}

/// The soft and hard limits of `resource`.
pub fn limit(resource: libc::__rlimit_resource_t) -> libc::rlimit {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given.
    assert_eq!(
        unsafe { libc::getrlimit(resource, &mut limit) },
        0,
        "getrlimit"
    );
    limit
}

/// Puts back the limits [`set_soft_limit`] returned.
pub fn restore_limit(resource: libc::__rlimit_resource_t, old: libc::rlimit) {
    unsafe { libc::setrlimit(resource, &old) };
}

/// Installs `program` as a seccomp filter on this process (after `PR_SET_NO_NEW_PRIVS`,
/// which an unprivileged filter needs), for the rest of its life: call it in a forked child.
pub fn install_seccomp_filter(program: &mut [libc::sock_filter]) {
    let fprog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_mut_ptr(),
    };
    // SAFETY: prctl reads the program, which outlives the calls.
    unsafe {
        assert_eq!(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
        let installed = libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER,
            &fprog as *const libc::sock_fprog,
        );
        assert_eq!(installed, 0, "seccomp: {}", last_errno());
    }
}
