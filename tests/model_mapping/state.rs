//! What the model knows about each `Mapping` under test, and what it predicts the lending
//! calls answer.
//!
//! The book-keeping rules predicted here are the documented ones: `as_slice` is granted iff
//! the memory is exclusive (private anonymous) and known readable, `EPERM` for volatile
//! (shared) memory, `EACCES` otherwise; `as_mut_slice` needs readable and writable;
//! `read_at`/`write_at` are `EINVAL` out of range, `EACCES` unless readable / writable;
//! `atomic_u32` is `EPERM` on exclusive memory, `EINVAL` out of range, `EACCES` unless
//! readable and writable, `EINVAL` if misaligned.

use mman::{Errno, Mapping, Prot, Result};

use crate::common::page;

/// What backs a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Memory {
    /// Private anonymous: exclusive, lent as slices, grows.
    Private,
    /// Shared anonymous: volatile (copied, never lent), cannot grow.
    Shared,
}

/// What the kernel holds for one page of a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageState {
    pub prot: Prot,
    pub locked: bool,
    /// `MADV_GUARD_INSTALL` markers: any access faults, whatever `prot` says.
    pub marker: bool,
    /// Part of a `MAP_GROWSDOWN` VMA.
    pub grows_down: bool,
}

impl PageState {
    pub fn new(prot: Prot, grows_down: bool) -> PageState {
        PageState {
            prot,
            locked: false,
            marker: false,
            grows_down,
        }
    }
}

/// A `Mapping` and the model of it.
#[derive(Debug)]
pub struct Slot {
    pub map: Mapping,
    pub memory: Memory,
    /// One per kernel page.
    pub pages: Vec<PageState>,
    /// `len()`.
    pub len: usize,
    /// The bytes of every kernel page, as written: past `len()` in the last page too,
    /// where growing within that page shows them again.
    pub bytes: Vec<u8>,
    /// The book-keeping the library must have: what it may lend.
    pub readable: bool,
    pub writable: bool,
    pub guarded: bool,
    pub sealed: bool,
    /// Whether the library must assume the kernel holds the mapping as several VMAs, which
    /// it cannot move (`EFAULT`): after a change of flags to part of it (advise, lock,
    /// unlock), never forgotten but by a move; or after any protect or guard, forgotten
    /// when a protection is set on the whole (the kernel merges the parts again).
    pub split_by_flags: bool,
    pub split_by_protection: bool,
    /// Set when a failed unguard leaves unknown whether it got as far as protecting.
    pub split_uncertain: bool,
    /// Whether parts split by protection were made alike again by a whole protection
    /// since the last move: the kernel usually merges them, but not always.
    pub remerged: bool,
}

impl Slot {
    /// Whether the library must take the mapping for several VMAs.
    pub fn several(&self) -> bool {
        self.split_by_flags || self.split_by_protection
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn start(&self) -> usize {
        self.map.as_ptr() as usize
    }

    /// The end of the kernel mapping (page aligned).
    pub fn kernel_end(&self) -> usize {
        self.start() + self.pages.len() * page()
    }

    pub fn grows_down(&self) -> bool {
        self.pages.iter().any(|p| p.grows_down)
    }

    /// Whether `addr` lies in a grows-down page of this mapping.
    pub fn grows_down_at(&self, addr: usize) -> bool {
        (self.start()..self.kernel_end()).contains(&addr)
            && self.pages[(addr - self.start()) / page()].grows_down
    }

    /// Zeroes the bytes of pages `pages` (what discarding them leaves).
    pub fn zero_pages(&mut self, pages: std::ops::Range<usize>) {
        self.bytes[pages.start * page()..pages.end * page()].fill(0);
    }

    pub fn predict_slice(&self) -> Result<()> {
        self.lendable(self.readable)
    }

    pub fn predict_mut_slice(&self) -> Result<()> {
        self.lendable(self.readable && self.writable)
    }

    pub fn predict_read(&self, offset: usize, n: usize) -> Result<()> {
        self.copyable(offset, n, self.readable)
    }

    pub fn predict_write(&self, offset: usize, n: usize) -> Result<()> {
        self.copyable(offset, n, self.writable)
    }

    pub fn predict_atomic_u32(&self, offset: usize) -> Result<()> {
        if !(self.readable && self.writable) {
            return Err(Errno::EACCES);
        }
        // The mapping starts on a page boundary, so the offset decides the alignment.
        match offset.checked_add(4) {
            Some(end) if end <= self.len() && offset % 4 == 0 => Ok(()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn lendable(&self, accessible: bool) -> Result<()> {
        match (self.memory, accessible) {
            (Memory::Shared, _) => Err(Errno::EPERM),
            (Memory::Private, false) => Err(Errno::EACCES),
            (Memory::Private, true) => Ok(()),
        }
    }

    fn copyable(&self, offset: usize, n: usize, accessible: bool) -> Result<()> {
        match offset.checked_add(n) {
            Some(end) if end <= self.len() => {}
            _ => return Err(Errno::EINVAL),
        }
        if accessible {
            Ok(())
        } else {
            Err(Errno::EACCES)
        }
    }
}

/// The `/proc/self/maps` permission column for a page of `prot` in `memory`.
pub fn perms(prot: Prot, memory: Memory) -> [u8; 4] {
    let prot = crate::model_support::recorded(prot);
    let bit = |flag, c| if prot.contains(flag) { c } else { b'-' };
    let kind = match memory {
        Memory::Private => b'p',
        Memory::Shared => b's',
    };
    [
        bit(Prot::READ, b'r'),
        bit(Prot::WRITE, b'w'),
        bit(Prot::EXEC, b'x'),
        kind,
    ]
}

/// The protection a `/proc/self/maps` permission column shows.
pub fn prot_of(perms: [u8; 4]) -> Prot {
    let mut prot = Prot::empty();
    for (c, flag) in [(b'r', Prot::READ), (b'w', Prot::WRITE), (b'x', Prot::EXEC)] {
        if perms.contains(&c) {
            prot |= flag;
        }
    }
    prot
}
