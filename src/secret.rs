//! [`SecretMemory`]: memory for keys and passwords, kept out of reach as far as the kernel
//! allows, and zeroed when dropped.

use core::mem::ManuallyDrop;
use core::ptr::NonNull;

use crate::fd::AsFd;
use crate::fork_canary::ForkCanary;
use crate::{page_size, sys, Errno, Guard, MapOptions, Mapping, Prot, Result};

/// Which protection a [`SecretMemory`] actually got.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Protection {
    /// `memfd_secret` (Linux 5.14, on by default since about 6.5): the pages are removed
    /// from the kernel's direct map, locked, and never dumped.
    MemfdSecret,
    /// Ordinary anonymous memory, hardened as far as it would go.
    Hardened(Hardening),
}

/// What the fallback managed to apply (each can fail on its own, for example `mlock`
/// against `RLIMIT_MEMLOCK`, without failing the whole).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Hardening {
    /// Locked in memory: never written to swap.
    pub locked: bool,
    /// Excluded from core dumps (`MADV_DONTDUMP`).
    pub excluded_from_dumps: bool,
    /// A forked child sees zeros (`MADV_WIPEONFORK`).
    pub wiped_on_fork: bool,
}

/// `len` bytes of secret memory between two guard pages, zeroed on drop.
///
/// The bytes are exclusive to this value: the descriptor of a `memfd_secret` is closed once
/// mapped and a child process does not inherit the mapping, so it is lent out as slices.
///
/// In a child made by `fork`, the secret is gone: `memfd_secret` pages are not inherited
/// (the child's copy of this value lends empty slices, and its drop writes nothing), and the
/// fallback's pages read as zeros there.
#[derive(Debug)]
pub struct SecretMemory {
    /// Guard page, the secret (rounded up to pages), guard page. Unmapped on drop only in
    /// a process that has it: a forked child that did not inherit it must not unmap the
    /// range, which may hold the child's own mappings by then.
    whole: ManuallyDrop<Mapping>,
    len: usize,
    protection: Protection,
    guard: Guard,
    /// For memory a forked child does not inherit: tells the child it is one.
    canary: Option<ForkCanary>,
}

impl SecretMemory {
    /// `len` bytes of zeroed secret memory, with `memfd_secret` where the kernel offers it.
    /// A zero `len` is `EINVAL`.
    pub fn new(len: usize) -> Result<SecretMemory> {
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let page = page_size();
        let body = len.checked_next_multiple_of(page).ok_or(Errno::ENOMEM)?;
        let total = body.checked_add(2 * page).ok_or(Errno::ENOMEM)?;
        // memfd_secret is ENOSYS where the kernel lacks or disables it, and its mapping can
        // fail on its own (its pages count against RLIMIT_MEMLOCK): either way, fall back.
        let (mut whole, protection, canary) = match map_memfd_secret(total) {
            Ok(secret) => secret,
            Err(_) => map_hardened(total)?,
        };
        let guard = whole.guard(..page)?;
        whole.guard(page + body..)?;
        Ok(SecretMemory {
            whole: ManuallyDrop::new(whole),
            len,
            protection,
            guard,
            canary,
        })
    }

    /// Which protection the memory got.
    pub fn protection(&self) -> Protection {
        self.protection
    }

    /// How the guard pages on either side fault.
    pub fn guard(&self) -> Guard {
        self.guard
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the length is 0 (never).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The secret bytes (none in a forked child that did not inherit them).
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: the body between the guards is mapped read-write in this process (checked
        // by `present`), exclusive to this value (see the type's documentation), and `len`
        // does not reach the trailing guard.
        unsafe { core::slice::from_raw_parts(self.body().as_ptr(), self.present()) }
    }

    /// The secret bytes, mutably (none in a forked child that did not inherit them).
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`; `&mut self` makes the borrow unique.
        unsafe { core::slice::from_raw_parts_mut(self.body().as_ptr(), self.present()) }
    }

    /// How many bytes this process has: `len`, or 0 in a forked child of the process that
    /// made memory children do not inherit.
    fn present(&self) -> usize {
        if self.inherited() {
            self.len
        } else {
            0
        }
    }

    /// Whether this process has the memory: it made it, or inherited it by `fork`.
    fn inherited(&self) -> bool {
        self.canary.as_ref().is_none_or(ForkCanary::in_maker)
    }

    fn body(&self) -> NonNull<u8> {
        // SAFETY: the mapping is at least three pages long; the body starts after the first.
        unsafe { NonNull::new_unchecked(self.whole.as_ptr().add(page_size())) }
    }
}

impl Drop for SecretMemory {
    fn drop(&mut self) {
        let body = self.body().as_ptr();
        for i in 0..self.present() {
            // SAFETY: inside the writable body; volatile so the zeroing is not optimised
            // away as a dead store before the unmap.
            unsafe { body.add(i).write_volatile(0) };
        }
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
        if self.inherited() {
            // SAFETY: dropped once, here; the mapping is this process's own.
            unsafe { ManuallyDrop::drop(&mut self.whole) };
        }
    }
}

/// Maps `total` bytes of a `memfd_secret` file, not inherited by children; the descriptor
/// is closed on return, so this mapping is the only way to the pages. With the canary that
/// tells a child it does not have them.
fn map_memfd_secret(total: usize) -> Result<(Mapping, Protection, Option<ForkCanary>)> {
    let canary = ForkCanary::new()?;
    let fd = sys::memfd_secret(true)?;
    sys::ftruncate(fd.as_fd(), total as u64)?;
    // SAFETY: secretmem's mmap gives an ordinary shared mapping (locked, not dumped); that
    // a forked child does not inherit it is arranged below (DONTFORK and the canary).
    let mapped = unsafe {
        MapOptions::new()
            .shared()
            .len(total)
            .map_file_unchecked(fd.as_fd(), 0)?
    };
    let (ptr, len) = mapped.into_raw();
    // SAFETY: the mapping just made: page-aligned, shared, read-write. With its descriptor
    // closed (below) and DONTFORK applied, no other process or mapping can reach its pages.
    let mut whole = Mapping::secret(
        unsafe { NonNull::new_unchecked(ptr) },
        len,
        Prot::READ | Prot::WRITE,
    );
    // SAFETY: DONTFORK changes neither contents nor access in this process; in a forked
    // child, where the pages are missing, the canary makes `SecretMemory` lend nothing.
    unsafe { whole.advise_unchecked(.., crate::Advice::DontFork)? };
    Ok((whole, Protection::MemfdSecret, Some(canary)))
}

/// Maps `total` bytes of private anonymous memory and hardens it as far as it goes.
fn map_hardened(total: usize) -> Result<(Mapping, Protection, Option<ForkCanary>)> {
    let mut whole = Mapping::anonymous(total)?;
    // SAFETY: a forked child sees zeros where the secret was: the point of the advice. The
    // memory stays mapped and read-write there, so its `SecretMemory` stays sound to use;
    // only a reference held across the fork sees its bytes change, which the `unsafe` fork
    // answers for (see the type's documentation).
    let wiped_on_fork = unsafe { whole.advise_unchecked(.., crate::Advice::WipeOnFork) };
    let hardening = Hardening {
        locked: whole.lock(..).is_ok(),
        excluded_from_dumps: whole.advise(.., crate::Advice::DontDump).is_ok(),
        wiped_on_fork: wiped_on_fork.is_ok(),
    };
    // A child keeps these pages (zeroed where WipeOnFork took): no canary needed.
    Ok((whole, Protection::Hardened(hardening), None))
}
