//! What the kernel does that the model needs to know, asked of the kernel itself: where it
//! honours an address hint, which calls this kernel has, and whether memory is really
//! accessible (asked without touching it, so that a wrong answer is a report, not a crash).

use std::ffi::c_void;

use mman::{sys, Advice, Errno, MapFlags, Prot};

use crate::common::page;
pub use crate::common::stack_guard_gap;
use crate::model_support::{each_vma, vmas_in, Vma};

/// Whether the kernel places a new mapping of `len` bytes exactly at the hint `addr`: only
/// where it would place one itself, that is where nothing is mapped and not within
/// `gap` below a grows-down VMA (`grows_down` says which VMAs are; the `[stack]` is).
pub fn honours_hint(
    addr: usize,
    len: usize,
    gap: usize,
    grows_down: impl Fn(&Vma) -> bool,
) -> bool {
    let Some(end) = addr.checked_add(len) else {
        return false;
    };
    let mut honoured = true;
    each_vma(|vma| {
        if vma.end <= addr {
            return true;
        }
        // The first VMA that ends above `addr`: it must start at or above `end`, and a
        // grows-down one a whole gap above.
        let floor = if vma.stack || grows_down(vma) {
            vma.start.saturating_sub(gap)
        } else {
            vma.start
        };
        honoured = end <= floor;
        false
    });
    honoured
}

/// The main thread's stack VMA.
pub fn stack() -> Option<Vma> {
    let mut found = None;
    each_vma(|vma| {
        if vma.stack {
            found = Some(*vma);
        }
        found.is_none()
    });
    found
}

/// The main stack's reach as the library computes it: from its top down by the soft
/// `RLIMIT_STACK` (unlimited: RAM and swap together) and the kernel's default guard gap of
/// 256 pages. Mappings there are refused (`ENOMEM`).
// `rlim_t` is 32 bits on 32-bit targets: the cast widens there and is a no-op elsewhere.
#[allow(clippy::unnecessary_cast)]
pub fn stack_reach() -> Option<(usize, usize)> {
    let top = stack()?.end;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given.
    assert_eq!(
        unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut limit) },
        0
    );
    let reach = if limit.rlim_cur == libc::RLIM_INFINITY {
        // SAFETY: sysinfo writes the struct it is given.
        let mut info: libc::sysinfo = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::sysinfo(&mut info) }, 0);
        (info.totalram as u64 + info.totalswap as u64) * u64::from(info.mem_unit.max(1))
    } else {
        limit.rlim_cur as u64
    };
    let floor = top
        .saturating_sub(usize::try_from(reach).unwrap_or(usize::MAX))
        .saturating_sub(256 * page());
    Some((floor, top))
}

/// Whether `madvise(MADV_GUARD_INSTALL)` works on memory mapped with `flags` (6.13 for
/// private anonymous memory, 6.15 for shared): probed on a page of its own.
pub fn guard_markers(flags: MapFlags) -> bool {
    let flags = flags | MapFlags::ANONYMOUS;
    let rw = Prot::READ | Prot::WRITE;
    let probe = unsafe { sys::mmap(std::ptr::null_mut(), page(), rw, flags, -1, 0) }
        .expect("map a probe page");
    let installed = unsafe { sys::madvise(probe, page(), Advice::GuardInstall) };
    unsafe { sys::munmap(probe, page()) }.expect("unmap the probe page");
    match installed {
        Ok(()) => true,
        Err(Errno::EINVAL) => false,
        Err(e) => panic!("MADV_GUARD_INSTALL probe: {e}"),
    }
}

/// How a lent range must be accessible.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    Read,
    /// Written only (`write_at`): the byte to write back is the one the model says the
    /// probed address holds (write-only memory cannot be read first).
    Write,
    ReadWrite,
}

/// Checks that the kernel grants `needs` on every page of `[addr, addr + len)`, twice and
/// independently of the library and of the model: the permissions `/proc/self/maps` shows,
/// and an access through `process_vm_readv`/`process_vm_writev` on this process, which
/// fail (`EFAULT`) where an access would fault, guard markers included, without faulting.
/// `byte_at(addr)` gives what the model says is at `addr`, to write back where the page
/// cannot be read. Returns the first page that is not accessible.
pub fn check_accessible(
    addr: usize,
    len: usize,
    needs: Needs,
    byte_at: impl Fn(usize) -> u8,
) -> std::result::Result<(), String> {
    if len == 0 {
        return Ok(());
    }
    let end = addr + len;
    let vmas = vmas_in(addr, end);
    let first_page = addr & !(page() - 1);
    for page_start in (first_page..end).step_by(page()) {
        let probe = page_start.max(addr);
        let Some(vma) = vmas.iter().find(|v| v.start <= probe && probe < v.end) else {
            return Err(format!("{probe:#x} is lent but not mapped"));
        };
        let read = needs != Needs::Write;
        let write = needs != Needs::Read;
        if (read && !vma.readable()) || (write && !vma.writable()) {
            return Err(format!(
                "{probe:#x} is lent for {needs:?} but maps shows {}",
                vma.perms()
            ));
        }
        let mut byte = byte_at(probe);
        if read && !remote_copy(probe, &mut byte, false) {
            return Err(format!(
                "{probe:#x} is lent for {needs:?} but cannot be read (guard marker?)"
            ));
        }
        if write && !remote_copy(probe, &mut byte, true) {
            return Err(format!(
                "{probe:#x} is lent for {needs:?} but cannot be written (guard marker?)"
            ));
        }
    }
    Ok(())
}

/// Reads this process's bytes at `addr` into `buf` through `process_vm_readv`; false where
/// an access would fault.
pub fn remote_read(addr: usize, buf: &mut [u8]) -> bool {
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let remote = libc::iovec {
        iov_base: addr as *mut c_void,
        iov_len: buf.len(),
    };
    // SAFETY: the local buffer is `buf`; the kernel checks the remote side, which is this
    // process's memory, and fails instead of faulting.
    let n = unsafe { libc::process_vm_readv(libc::getpid(), &local, 1, &remote, 1, 0) };
    n == buf.len() as isize
}

/// One byte between `*byte` and this process's memory at `addr`, through
/// `process_vm_readv` (or, with `write`, `process_vm_writev`); false where it would fault.
fn remote_copy(addr: usize, byte: &mut u8, write: bool) -> bool {
    let local = libc::iovec {
        iov_base: (byte as *mut u8).cast(),
        iov_len: 1,
    };
    let remote = libc::iovec {
        iov_base: addr as *mut c_void,
        iov_len: 1,
    };
    // SAFETY: as in `remote_read`; a write puts back the byte that the model says is there.
    let n = unsafe {
        match write {
            false => libc::process_vm_readv(libc::getpid(), &local, 1, &remote, 1, 0),
            true => libc::process_vm_writev(libc::getpid(), &local, 1, &remote, 1, 0),
        }
    };
    n == 1
}
