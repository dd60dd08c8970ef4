//! Wall time per call of the memory system calls through mman::sys, glibc (via the `libc`
//! crate) and rustix.
//!
//! Each operation runs in batches of calls, and a batch is timed as a whole, so the clock's
//! own cost is spread over the batch; the median over the batches is reported. The
//! APIs take turns batch by batch, so that a slow moment of the machine (another process,
//! a frequency change) falls on all of them alike and the ratio to glibc is fair.
//!
//! Most of the time is the kernel's, the same for every API: the differences are what each
//! library adds on the way in and out.

use std::ffi::{c_void, CStr, CString};
use std::fmt::Debug;
use std::os::fd::IntoRawFd;
use std::path::Path;
use std::ptr::null_mut;
use std::time::{Duration, Instant};

use mman::{sys, Advice, MapFlags, MemfdFlags, Mode, MremapFlags, OFlags, Prot};

use crate::stats::{Lines, Summary};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Api {
    Sys,
    Libc,
    Rustix,
}

impl Api {
    /// glibc first: the others are compared with it.
    const ALL: [Api; 3] = [Api::Libc, Api::Sys, Api::Rustix];

    fn name(self) -> &'static str {
        match self {
            Api::Sys => "mman::sys",
            Api::Libc => "glibc",
            Api::Rustix => "rustix",
        }
    }
}

/// One operation: its name in the report, and how to time `calls` calls of it through an API.
struct Op {
    name: &'static str,
    time: fn(Api, u32) -> Duration,
}

const OPS: &[Op] = &[
    Op {
        name: "mmap + munmap, 1 page",
        time: mmap_munmap,
    },
    Op {
        name: "mprotect, 1 page RW ↔ R",
        time: mprotect,
    },
    Op {
        name: "madvise WILLNEED, 1 page",
        time: madvise,
    },
    Op {
        name: "mremap 1 → 2 → 1 pages, MAYMOVE",
        time: mremap,
    },
    Op {
        name: "shm_open + close + shm_unlink",
        time: shm_open_unlink,
    },
    Op {
        name: "memfd_create + close",
        time: memfd_create_close,
    },
];

pub fn run(out: &Path, batches: usize, calls: u32) -> Result<(), String> {
    if batches == 0 || calls == 0 {
        return Err("nothing to time: BATCHES and CALLS must be at least 1".into());
    }
    let mut lines = Lines::create(out)?;
    println!(
        "{:<32} {:<10} {:>10} {:>9}",
        "operation", "api", "ns/call", "vs glibc"
    );
    for op in OPS {
        // One untimed batch each first: faults in the code, binds glibc's symbols, lets the
        // kernel's caches (slabs, page tables) settle.
        for api in Api::ALL {
            (op.time)(api, calls);
        }
        let mut samples = Api::ALL.map(|_| Vec::with_capacity(batches));
        for batch in 0..batches {
            // The order rotates too: work the kernel defers from one batch (freeing what
            // it unmapped or closed, after an RCU grace period) lands on the next one, and
            // must not always land on the same API.
            for turn in 0..Api::ALL.len() {
                let i = (batch + turn) % Api::ALL.len();
                let elapsed = (op.time)(Api::ALL[i], calls);
                samples[i].push(elapsed.as_nanos() as f64 / f64::from(calls));
            }
        }
        let summaries = samples.map(|s| Summary::of(&s));
        let glibc = summaries[0].median;
        for (api, summary) in Api::ALL.iter().zip(summaries) {
            lines.write(&[op.name, api.name()], summary)?;
            println!(
                "{:<32} {:<10} {:>10.1} {:>8.2}x",
                op.name,
                api.name(),
                summary.median,
                summary.median / glibc
            );
        }
    }
    lines.finish()
}

/// Times `calls` calls of `call`, which is given the call's index.
#[inline(always)]
fn time(calls: u32, mut call: impl FnMut(u32)) -> Duration {
    let start = Instant::now();
    for i in 0..calls {
        call(i);
    }
    start.elapsed()
}

/// Unwraps a result, or stops the benchmark: a failed call would time the wrong thing.
#[inline(always)]
fn ok<T, E: Debug>(result: Result<T, E>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => fail(what, e),
    }
}

/// As `ok`, for glibc's convention: -1 (or `MAP_FAILED`) and `errno`.
#[inline(always)]
fn ok_libc<T: PartialEq>(ret: T, failed: T, what: &str) -> T {
    if ret == failed {
        fail(what, std::io::Error::last_os_error());
    }
    ret
}

#[cold]
fn fail(what: &str, error: impl Debug) -> ! {
    eprintln!("mman-bench: {what} failed: {error:?}");
    std::process::exit(1)
}

fn page() -> usize {
    mman::page_size()
}

/// A private anonymous mapping for an operation to work on, unmapped on drop. Made and
/// removed outside the timed loops, so which API makes it does not matter.
struct Scratch {
    addr: *mut c_void,
    len: usize,
}

impl Scratch {
    /// One page, written once so that it is resident.
    fn page() -> Scratch {
        let len = page();
        let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS;
        // SAFETY: a fresh mapping; nothing is replaced.
        let addr = ok(
            unsafe { sys::mmap(null_mut(), len, Prot::READ | Prot::WRITE, flags, -1, 0) },
            "mmap",
        );
        // SAFETY: the page was just mapped read-write.
        unsafe { addr.cast::<u8>().write_volatile(1) };
        Scratch { addr, len }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // SAFETY: the mapping is this value's own, and no reference into it exists.
        ok(unsafe { sys::munmap(self.addr, self.len) }, "munmap");
    }
}

fn mmap_munmap(api: Api, calls: u32) -> Duration {
    let len = page();
    // SAFETY (every closure): maps a fresh page, then unmaps exactly that.
    match api {
        Api::Sys => time(calls, |_| unsafe {
            let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS;
            let prot = Prot::READ | Prot::WRITE;
            let addr = ok(sys::mmap(null_mut(), len, prot, flags, -1, 0), "mmap");
            ok(sys::munmap(addr, len), "munmap");
        }),
        Api::Libc => time(calls, |_| unsafe {
            let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
            let prot = libc::PROT_READ | libc::PROT_WRITE;
            let addr = libc::mmap(null_mut(), len, prot, flags, -1, 0);
            ok_libc(addr, libc::MAP_FAILED, "mmap");
            ok_libc(libc::munmap(addr, len), -1, "munmap");
        }),
        Api::Rustix => time(calls, |_| unsafe {
            use rustix::mm::{MapFlags, ProtFlags};
            let prot = ProtFlags::READ | ProtFlags::WRITE;
            let addr = ok(
                rustix::mm::mmap_anonymous(null_mut(), len, prot, MapFlags::PRIVATE),
                "mmap",
            );
            ok(rustix::mm::munmap(addr, len), "munmap");
        }),
    }
}

/// Toggles the page between read-only and read-write; an even number of calls leaves it
/// read-write.
fn mprotect(api: Api, calls: u32) -> Duration {
    let page = Scratch::page();
    let (addr, len) = (page.addr, page.len);
    // SAFETY (every closure): the page is ours and no reference into it exists.
    match api {
        Api::Sys => time(calls, |i| unsafe {
            let prot = if i % 2 == 0 {
                Prot::READ
            } else {
                Prot::READ | Prot::WRITE
            };
            ok(sys::mprotect(addr, len, prot), "mprotect");
        }),
        Api::Libc => time(calls, |i| unsafe {
            let prot = if i % 2 == 0 {
                libc::PROT_READ
            } else {
                libc::PROT_READ | libc::PROT_WRITE
            };
            ok_libc(libc::mprotect(addr, len, prot), -1, "mprotect");
        }),
        Api::Rustix => time(calls, |i| unsafe {
            use rustix::mm::MprotectFlags;
            let prot = if i % 2 == 0 {
                MprotectFlags::READ
            } else {
                MprotectFlags::READ | MprotectFlags::WRITE
            };
            ok(rustix::mm::mprotect(addr, len, prot), "mprotect");
        }),
    }
}

/// `WillNeed` on a resident page: the kernel looks and finds nothing to do, so this is
/// close to the bare cost of entering it (`DontNeed` would free the page on the first call
/// and then time the same no-op).
fn madvise(api: Api, calls: u32) -> Duration {
    let page = Scratch::page();
    let (addr, len) = (page.addr, page.len);
    // SAFETY (every closure): WillNeed changes no contents.
    match api {
        Api::Sys => time(calls, |_| unsafe {
            ok(sys::madvise(addr, len, Advice::WillNeed), "madvise");
        }),
        Api::Libc => time(calls, |_| unsafe {
            ok_libc(libc::madvise(addr, len, libc::MADV_WILLNEED), -1, "madvise");
        }),
        Api::Rustix => time(calls, |_| unsafe {
            use rustix::mm::Advice;
            ok(rustix::mm::madvise(addr, len, Advice::WillNeed), "madvise");
        }),
    }
}

/// One call is a pair: grow from one page to two (allowed to move), then shrink back.
fn mremap(api: Api, calls: u32) -> Duration {
    let mut page = Scratch::page();
    let (one, two) = (page.len, 2 * page.len);
    let addr = &mut page.addr;
    // SAFETY (every closure): the mapping is ours and no reference into it exists; the
    // new address replaces the old one at once.
    match api {
        Api::Sys => time(calls, |_| unsafe {
            let flags = MremapFlags::MAYMOVE;
            *addr = ok(sys::mremap(*addr, one, two, flags, null_mut()), "mremap");
            *addr = ok(sys::mremap(*addr, two, one, flags, null_mut()), "mremap");
        }),
        Api::Libc => time(calls, |_| unsafe {
            let flags = libc::MREMAP_MAYMOVE;
            *addr = ok_libc(
                libc::mremap(*addr, one, two, flags),
                libc::MAP_FAILED,
                "mremap",
            );
            *addr = ok_libc(
                libc::mremap(*addr, two, one, flags),
                libc::MAP_FAILED,
                "mremap",
            );
        }),
        Api::Rustix => time(calls, |_| unsafe {
            use rustix::mm::MremapFlags;
            let flags = MremapFlags::MAYMOVE;
            *addr = ok(rustix::mm::mremap(*addr, one, two, flags), "mremap");
            *addr = ok(rustix::mm::mremap(*addr, two, one, flags), "mremap");
        }),
    }
}

/// Creates a new object (`O_CREAT | O_EXCL | O_RDWR`), closes it, removes it. The close is
/// part of every API's time: without it the descriptors would run out.
fn shm_open_unlink(api: Api, calls: u32) -> Duration {
    // Unique to this process; reused by each call after the previous one removed it.
    let name = CString::new(format!("/mman-bench-{}", std::process::id())).expect("no NUL");
    let name: &CStr = &name;
    match api {
        Api::Sys => time(calls, |_| {
            let flags = OFlags::CREAT | OFlags::EXCL | OFlags::RDWR;
            let fd = ok(
                sys::shm_open(name, flags, Mode::RUSR | Mode::WUSR),
                "shm_open",
            );
            ok(sys::close(fd), "close");
            ok(sys::shm_unlink(name), "shm_unlink");
        }),
        Api::Libc => time(calls, |_| unsafe {
            let flags = libc::O_CREAT | libc::O_EXCL | libc::O_RDWR;
            let fd = ok_libc(libc::shm_open(name.as_ptr(), flags, 0o600), -1, "shm_open");
            ok_libc(libc::close(fd), -1, "close");
            ok_libc(libc::shm_unlink(name.as_ptr()), -1, "shm_unlink");
        }),
        Api::Rustix => time(calls, |_| {
            use rustix::fs::Mode;
            use rustix::shm::OFlags;
            let flags = OFlags::CREATE | OFlags::EXCL | OFlags::RDWR;
            let fd = ok(
                rustix::shm::open(name, flags, Mode::RUSR | Mode::WUSR),
                "shm_open",
            );
            // SAFETY: the descriptor is ours, and into_raw_fd gave up its owner.
            unsafe { rustix::io::close(fd.into_raw_fd()) };
            ok(rustix::shm::unlink(name), "shm_unlink");
        }),
    }
}

fn memfd_create_close(api: Api, calls: u32) -> Duration {
    let name = c"mman-bench";
    match api {
        Api::Sys => time(calls, |_| {
            let fd = ok(sys::memfd_create(name, MemfdFlags::CLOEXEC), "memfd_create");
            ok(sys::close(fd), "close");
        }),
        Api::Libc => time(calls, |_| unsafe {
            let fd = libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC);
            ok_libc(libc::close(ok_libc(fd, -1, "memfd_create")), -1, "close");
        }),
        Api::Rustix => time(calls, |_| {
            use rustix::fs::MemfdFlags;
            let fd = ok(
                rustix::fs::memfd_create(name, MemfdFlags::CLOEXEC),
                "memfd_create",
            );
            // SAFETY: the descriptor is ours, and into_raw_fd gave up its owner.
            unsafe { rustix::io::close(fd.into_raw_fd()) };
        }),
    }
}
