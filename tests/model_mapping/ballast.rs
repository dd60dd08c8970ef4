//! Bringing this process to the brink of `vm.max_map_count`, so that any call that has to
//! split a VMA fails part-way, as it does in a process that has many mappings.
//!
//! Rather than lowering the system-wide limit (root only, and felt by every process on
//! the machine while it lasts), the process fills it: a ballast mapping of PROT_NONE
//! pages, every other page of which is made readable, is one VMA per page. Making an odd
//! page readable again splits one VMA into three, making it PROT_NONE merges them back,
//! so the number of VMAs left under the limit can be set to within one.
//!
//! Every hole above the ballast is filled with a `PROT_NONE` reservation (below the
//! `[stack]`, only down to its guard gap), so that the kernel, which places mappings in
//! the highest hole that fits, puts the mappings under test below the ballast: reading
//! `/proc/self/maps` up to them then stays cheap.

use std::ffi::c_void;

use mman::{sys, Errno, MapFlags, Prot};

use crate::common::page;
use crate::kernel::stack_guard_gap;
use crate::model_support::{each_vma, Vma};

/// The largest limit filled this way (tens of thousands of VMAs take a fraction of a second
/// to make; distributions that raise the limit to a million would take minutes).
const MAX_LIMIT: usize = 1 << 17;

pub struct Ballast {
    base: usize,
    /// Pages in the ballast: odd, so that every odd page has neighbours on both sides.
    pages: usize,
    /// Odd pages currently readable (each adds two VMAs).
    split: usize,
    /// VMAs above the ballast, which do not change while it lives.
    above: usize,
    limit: usize,
}

impl Ballast {
    /// `vm.max_map_count`, if a ballast can fill it; `Err` with the reason to skip.
    pub fn limit() -> Result<usize, String> {
        let limit: usize = std::fs::read_to_string("/proc/sys/vm/max_map_count")
            .map_err(|e| format!("cannot read vm.max_map_count: {e}"))?
            .trim()
            .parse()
            .map_err(|e| format!("vm.max_map_count: {e}"))?;
        if limit > MAX_LIMIT {
            return Err(format!(
                "vm.max_map_count is {limit}: filling it would take too long (up to {MAX_LIMIT})"
            ));
        }
        Ok(limit)
    }

    /// A ballast that can bring the process to the limit; `Err` with the reason to skip.
    pub fn new() -> Result<Ballast, String> {
        let limit = Ballast::limit()?;
        let pages = (limit | 1) + 2;
        let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::NORESERVE;
        let base = unsafe {
            sys::mmap(
                std::ptr::null_mut(),
                pages * page(),
                Prot::empty(),
                flags,
                -1,
                0,
            )
        }
        .map_err(|e| format!("cannot map a ballast of {pages} pages: {e}"))?
            as usize;
        let end = base + pages * page();
        let mut above: Vec<Vma> = Vec::new();
        each_vma(|vma| {
            if vma.start >= end && !is_gate(vma.start) {
                above.push(*vma);
            }
            true
        });
        let mut floor = end;
        for vma in &above {
            let top = match vma.stack {
                true => vma.start.saturating_sub(stack_guard_gap()),
                false => vma.start,
            };
            if top > floor {
                fill(floor, top - floor)?;
            }
            floor = floor.max(vma.end);
        }
        let mut ballast = Ballast {
            base,
            pages,
            split: 0,
            above: 0,
            limit,
        };
        each_vma(|vma| {
            ballast.above += usize::from(vma.start >= end && !is_gate(vma.start));
            true
        });
        Ok(ballast)
    }

    /// VMAs this process has now (the `[vsyscall]` gate area is not one).
    pub fn map_count(&self) -> usize {
        let mut below = 0;
        each_vma(|vma| {
            if vma.start >= self.base {
                return false;
            }
            below += usize::from(!is_gate(vma.start));
            true
        });
        below + 1 + 2 * self.split + self.above
    }

    /// Splits or merges ballast pages until `free` more VMAs (or `free + 1`) fit under the
    /// limit.
    pub fn leave(&mut self, free: usize) {
        let target = self.limit.saturating_sub(free);
        let others = self.map_count() - 2 * self.split;
        let want = (target.saturating_sub(others) / 2).min(self.pages / 2);
        while self.split < want {
            // ENOMEM: the count was low (something merged or split meanwhile); the limit is
            // reached, which is what was wanted.
            match self.set(self.split, Prot::READ) {
                Ok(()) => self.split += 1,
                Err(Errno::ENOMEM) => break,
                Err(e) => panic!("ballast page {} made readable: {e}", self.split),
            }
        }
        while self.split > want {
            self.split -= 1;
            let merged = self.set(self.split, Prot::empty());
            merged.unwrap_or_else(|e| panic!("ballast page {} made PROT_NONE: {e}", self.split));
        }
    }

    fn set(&self, odd: usize, prot: Prot) -> mman::Result<()> {
        let addr = (self.base + (2 * odd + 1) * page()) as *mut c_void;
        unsafe { sys::mprotect(addr, page(), prot) }
    }
}

impl Drop for Ballast {
    fn drop(&mut self) {
        let _ = unsafe { sys::munmap(self.base as *mut c_void, self.pages * page()) };
    }
}

/// Reserves the hole `[addr, addr + len)` (`PROT_NONE`, no memory behind it).
fn fill(addr: usize, len: usize) -> Result<(), String> {
    let flags =
        MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::NORESERVE | MapFlags::FIXED_NOREPLACE;
    unsafe { sys::mmap(addr as *mut c_void, len, Prot::empty(), flags, -1, 0) }
        .map(drop)
        .map_err(|e| format!("cannot fill the hole at {addr:#x} above the ballast: {e}"))
}

/// A gate page, listed in maps but not a VMA of the process, and above the address space
/// the process can map: x86_64's `[vsyscall]` page (an i686 process has none), 32-bit ARM's
/// `[vectors]` page (the kuser helpers at 0xffff0000; filling the hole up to it was ENOMEM).
fn is_gate(start: usize) -> bool {
    start as u64 == 0xffff_ffff_ff60_0000 || (cfg!(target_arch = "arm") && start == 0xffff_0000)
}
