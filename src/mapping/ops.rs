//! Changing a mapping: protection, write-back, advice, locking, remapping, sealing.
//!
//! Every method takes a range of byte offsets from `as_ptr()` (`..` for all of it), checks
//! it, and passes the kernel page-aligned addresses: a partial range must start on a page
//! boundary (else the kernel's `EINVAL`); the whole mapping always works.

use core::ops::RangeBounds;

use super::{Kind, Mapping};
use crate::fd::AsFd;
use crate::{
    arch, page_size, sys, Advice, Errno, MlockFlags, MremapFlags, MsyncFlags, Prot, Result,
};

/// How [`Mapping::flush`] writes back.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Flush {
    /// Start the write-back and wait for it (`MS_SYNC`).
    Sync,
    /// Start the write-back and return (`MS_ASYNC`).
    Async,
    /// Write back, and make other mappings of the file see the new contents (`MS_SYNC |
    /// MS_INVALIDATE`).
    SyncInvalidate,
}

impl Mapping {
    /// Changes the protection of `range`. Making memory executable also makes the
    /// instruction cache coherent with what was written (arm64 needs it; x86 does it in
    /// hardware). After [`guard`](Mapping::guard), the mapping stays refused to slices and
    /// copies whatever the protection, until [`unguard`](Mapping::unguard): guard markers
    /// outlive `mprotect`.
    ///
    /// `Prot::GROWSDOWN` and `Prot::GROWSUP` are `EINVAL`: they extend the change to the
    /// rest of the kernel's mapping, which may hold other `Mapping`s (adjacent grows-down
    /// mappings are merged into one). If the kernel fails part-way (it changes one VMA at a
    /// time), the whole range counts as having lost what `prot` does not grant.
    ///
    /// On mips, kernels before 6.4 (Debian's 6.1 among them) corrupt the shared zero page
    /// when `mprotect` changes pages a read mapped to it: the next unmap frees it, and
    /// fresh memory of every process then reads non-zero. That is the kernel's bug (fixed
    /// upstream by 1492c6b1874a, "MIPS: Don't clear _PAGE_SPECIAL in _PAGE_CHG_MASK"), which
    /// no call of this crate can work around cheaply: run such programs on a kernel with the
    /// fix. [`Reservation::commit`](crate::Reservation::commit) reaches it the same way.
    pub fn protect(&mut self, range: impl RangeBounds<usize>, prot: Prot) -> Result<()> {
        if prot.intersects(Prot::GROWSDOWN | Prot::GROWSUP) {
            return Err(Errno::EINVAL);
        }
        // The kernel refuses sealed memory anyway, but not necessarily before changing the
        // unsealed part of the range.
        if self.sealed {
            return Err(Errno::EPERM);
        }
        let span = self.aligned_span(range)?;
        if self.has_no_pages() {
            // An empty mapping: nothing to change, and no address to give the kernel.
            return Ok(());
        }
        // The kernel's EINVAL for an unaligned start, before anything is taken away.
        if span.addr & (page_size() - 1) != 0 {
            return Err(Errno::EINVAL);
        }
        let whole = span == self.kernel_span();
        // Any protect may leave parts of the mapping apart, even of the whole if it fails.
        self.split_by_protection = true;
        // Code written as data must reach the instruction cache before it runs. Cache
        // maintenance needs readable memory: do it before the change if the range is
        // readable now, otherwise after, if the change makes it readable.
        let was_readable = self.readable;
        let executable = prot.contains(Prot::EXEC);
        if executable && was_readable {
            // SAFETY: the span is inside this mapping and currently readable.
            unsafe { arch::sync_instruction_cache(span.addr, span.len) };
        }
        // Pessimistic: take away what the call may take away before making it, so that a
        // failure part-way leaves nothing granted that the kernel removed.
        self.readable &= prot.contains(Prot::READ);
        self.writable &= prot.contains(Prot::WRITE);
        // SAFETY: `&mut self` means no slice of this mapping is alive, and the flags above
        // stop any new slice of memory that may no longer be accessible.
        unsafe { sys::mprotect(span.ptr(), span.len, prot)? };
        // Grant only after success, and only for the whole mapping: guard markers survive
        // mprotect, so a guarded mapping stays inaccessible until unguard.
        if whole {
            // One protection over the whole: the kernel merged the parts again.
            self.split_by_protection = false;
            self.prot = prot;
            if !self.guarded {
                self.readable = prot.contains(Prot::READ);
                self.writable = prot.contains(Prot::WRITE);
            }
        }
        // Not while guard markers may be present: they outlive mprotect, so pages of the
        // span may still fault, and cache maintenance on them (aarch64's `dc cvau`,
        // powerpc's `dcbst`) would kill the process. `unguard` removes them and comes back
        // here with the span readable.
        if executable && !was_readable && prot.contains(Prot::READ) && !self.guard_markers {
            // SAFETY: the span is inside this mapping and readable after mprotect, with no
            // guard marker in it.
            unsafe { arch::sync_instruction_cache(span.addr, span.len) };
        }
        Ok(())
    }

    /// Writes `range` of a file-backed mapping back to the file (`msync`).
    ///
    /// As in memmap2, the range's start is rounded down to its page (`msync` takes page
    /// aligned addresses), which for a mapping at an unaligned file offset may be in the
    /// bytes mapped before [`as_ptr`](Mapping::as_ptr): never outside the kernel's mapping.
    /// An empty mapping has nothing to write back (`Ok`, no system call).
    ///
    /// ```
    /// use mman::{Flush, MapOptions, Memfd};
    /// let file = Memfd::new(c"log")?;
    /// file.set_len(3 * 4096)?;
    /// // From byte 100 of the file: the mapping's first page starts 100 bytes earlier.
    /// let mut m = MapOptions::new().shared().len(8192).map_file(&file, 100)?;
    /// m.write_at(10, b"entry")?;
    /// m.flush(10..15, Flush::Sync)?; // from inside the first page: rounded down
    /// # Ok::<(), mman::Errno>(())
    /// ```
    pub fn flush(&self, range: impl RangeBounds<usize>, how: Flush) -> Result<()> {
        let span = self.aligned_span(range)?;
        if self.has_no_pages() {
            return Ok(());
        }
        // The page holding the start: at or after the kernel mapping's (page-aligned) start.
        let page_start = span.addr & !(page_size() - 1);
        let span = super::range::Span {
            addr: page_start,
            len: span.len + (span.addr - page_start),
        };
        let flags = match how {
            Flush::Sync => MsyncFlags::SYNC,
            Flush::Async => MsyncFlags::ASYNC,
            Flush::SyncInvalidate => MsyncFlags::SYNC | MsyncFlags::INVALIDATE,
        };
        // SAFETY: msync changes no bytes of this mapping; INVALIDATE only affects what other
        // mappings of the file read, and those are volatile by construction.
        unsafe { sys::msync(span.ptr(), span.len, flags) }
    }

    /// Gives the kernel advice that cannot change the contents or make accesses fault, in
    /// this process or in a child it forks.
    ///
    /// `DontNeed`/`DontNeedLocked` are accepted on exclusive memory (private anonymous,
    /// and sealed files) of ordinary pages, where they are the same as writing zeros (for a
    /// sealed file: its bytes again) through `&mut self`. Advice that is only a hint can
    /// also be given through `&self`: [`hint`](Mapping::hint). Advice that can destroy
    /// contents behind the program's back or make accesses fault (`DontNeed` on shared or
    /// file memory, and on huge pages, whose freed page may take their reservation with it
    /// so that the next touch raises `SIGBUS`, `Free`, `Remove`, `GuardInstall`, `GuardRemove`, `HwPoison`,
    /// `SoftOffline`), and advice that leaves a forked child's copy of this `Mapping`
    /// over unmapped (`DontFork`) or zeroed (`WipeOnFork`) memory, is `EINVAL` here: use
    /// [`advise_unchecked`](Mapping::advise_unchecked).
    pub fn advise(&mut self, range: impl RangeBounds<usize>, advice: Advice) -> Result<()> {
        if !self.is_harmless(advice) {
            return Err(Errno::EINVAL);
        }
        // SAFETY: the advice is harmless for this mapping (checked above), and `&mut self`
        // means no slice sees the zeros DontNeed leaves in exclusive memory.
        unsafe { self.advise_range(range, advice) }
    }

    /// Gives the kernel advice that is only a hint, through a shared borrow: advice that
    /// changes neither the bytes nor who may access them, in this process or in a forked
    /// child, so that it may be given while slices of the mapping are alive or from several
    /// threads (`Normal`, `Random`, `Sequential`, `WillNeed`, `DoFork`, `Mergeable`,
    /// `Unmergeable`, `HugePage`, `NoHugePage`, `DontDump`, `DoDump`, `KeepOnFork`, `Cold`,
    /// `PageOut`, `PopulateRead`, `PopulateWrite`, `Collapse`). Anything else is `EINVAL`:
    /// `DontNeed` on exclusive memory through [`advise`](Mapping::advise) (`&mut self`), the
    /// rest through [`advise_unchecked`](Mapping::advise_unchecked). Advice the kernel does
    /// not know is its `EINVAL` ([`Advice::is_supported`] asks beforehand). An empty
    /// mapping takes any hint (`Ok`, no system call).
    ///
    /// Like every advice on part of a mapping, a hint on part of it may split the kernel's
    /// mapping, which then cannot move ([`remap`](Mapping::remap) answers `EFAULT`).
    ///
    /// ```
    /// use mman::{Advice, Mapping};
    /// let mut m = Mapping::anonymous(1 << 20)?;
    /// m.as_mut_slice()?[0] = 7;
    /// let bytes = m.as_slice()?;
    /// m.hint(.., Advice::Sequential)?; // while `bytes` is borrowed
    /// assert_eq!(bytes[0], 7);
    /// assert_eq!(m.hint(.., Advice::DontNeed), Err(mman::Errno::EINVAL));
    /// # Ok::<(), mman::Errno>(())
    /// ```
    pub fn hint(&self, range: impl RangeBounds<usize>, advice: Advice) -> Result<()> {
        if !is_hint(advice) {
            return Err(Errno::EINVAL);
        }
        // SAFETY: a hint changes no byte and no access (checked above), so slices and
        // copies alive meanwhile see the same bytes with the same rights.
        unsafe { self.advise_range(range, advice) }
    }

    /// Checks `range` and gives `advice` for it, recording that the kernel may split the
    /// mapping; an empty mapping answers `Ok` without the kernel.
    ///
    /// # Safety
    /// The advice must be harmless for this mapping given how it is borrowed: a hint, or
    /// `DontNeed` on exclusive memory borrowed mutably.
    unsafe fn advise_range(&self, range: impl RangeBounds<usize>, advice: Advice) -> Result<()> {
        let span = self.aligned_span(range)?;
        if self.has_no_pages() {
            return Ok(());
        }
        self.note_flags_change(span);
        // SAFETY: the span lies in this mapping; the advice is the caller's to answer for.
        unsafe { sys::madvise(span.ptr(), span.len, advice) }
    }

    /// The protection of the whole mapping as far as this value knows: `None` when parts of
    /// it may differ (after `protect` or [`guard`](Mapping::guard) of part of it, or a
    /// `protect` that failed, until a protection is set on the whole again). It is the
    /// crate's book-keeping, not a question to the kernel, and pessimistic: a mapping
    /// whose parts were given the same protection one by one still answers `None`.
    ///
    /// ```
    /// use mman::{Mapping, Prot};
    /// let page = mman::page_size();
    /// let mut m = Mapping::anonymous(2 * page)?;
    /// assert_eq!(m.protection(), Some(Prot::READ | Prot::WRITE));
    /// m.protect(..page, Prot::READ)?;
    /// assert_eq!(m.protection(), None); // parts differ
    /// m.protect(.., Prot::READ)?;
    /// assert_eq!(m.protection(), Some(Prot::READ));
    /// # Ok::<(), mman::Errno>(())
    /// ```
    pub fn protection(&self) -> Option<Prot> {
        (!self.split_by_protection && !self.guarded).then_some(self.prot)
    }

    /// Gives the kernel any advice.
    ///
    /// # Safety
    /// The caller accepts what the advice does: `Free` lets the kernel zero pages at any
    /// later time, `Remove` and `DontNeed` on shared memory discard contents other mappings
    /// see, `GuardInstall` and `HwPoison` make accesses fault (a slice over such a range
    /// must not be used), `DontFork` and `WipeOnFork` leave a forked child's copy of the
    /// range unmapped or zeroed (the child must not use this `Mapping`, nor any reference
    /// into it that was alive at the fork).
    pub unsafe fn advise_unchecked(
        &mut self,
        range: impl RangeBounds<usize>,
        advice: Advice,
    ) -> Result<()> {
        let span = self.aligned_span(range)?;
        if self.has_no_pages() {
            return Ok(());
        }
        self.note_flags_change(span);
        if advice == Advice::GuardInstall {
            self.mark_guarded();
        }
        // SAFETY: forwarded to the caller.
        let advised = unsafe { sys::madvise(span.ptr(), span.len, advice) };
        if advice == Advice::GuardInstall {
            self.note_guard_install(span.addr, advised);
        }
        advised
    }

    /// Locks `range` in memory, faulting it in (`mlock`).
    pub fn lock(&self, range: impl RangeBounds<usize>) -> Result<()> {
        let span = self.aligned_span(range)?;
        if self.has_no_pages() {
            return Ok(());
        }
        self.note_flags_change(span);
        // SAFETY: locking changes no bytes and no access rights.
        unsafe { sys::mlock(span.ptr(), span.len) }
    }

    /// Locks `range` in memory as its pages are touched (`mlock2(MLOCK_ONFAULT)`, 4.4).
    pub fn lock_on_fault(&self, range: impl RangeBounds<usize>) -> Result<()> {
        let span = self.aligned_span(range)?;
        if self.has_no_pages() {
            return Ok(());
        }
        self.note_flags_change(span);
        // SAFETY: locking changes no bytes and no access rights.
        unsafe { sys::mlock2(span.ptr(), span.len, MlockFlags::ONFAULT) }
    }

    /// Unlocks `range` (`munlock`).
    pub fn unlock(&self, range: impl RangeBounds<usize>) -> Result<()> {
        let span = self.aligned_span(range)?;
        if self.has_no_pages() {
            return Ok(());
        }
        self.note_flags_change(span);
        // SAFETY: unlocking changes no bytes and no access rights.
        unsafe { sys::munlock(span.ptr(), span.len) }
    }

    /// Grows or shrinks the mapping to `new_len` bytes. New pages read as zeros; the kernel
    /// works in whole pages, so bytes past the old length within its last page keep what
    /// they held (for example before an earlier shrink within that page). Only
    /// private anonymous memory grows this way (`EINVAL` otherwise; see
    /// [`remap_file`](Mapping::remap_file)); anything shrinks. On failure the mapping is as
    /// it was.
    ///
    /// Growth within the last page changes only `len()`. Beyond it the mapping moves, with
    /// `may_move`, to where the kernel places the whole (`mremap(MAYMOVE | FIXED)` into a
    /// region reserved first), and stays one kernel VMA so that it can move again; without
    /// `may_move` it is `ENOMEM`. It never grows in place: `mremap` would not keep the guard
    /// gap below stacks, and the space above a mapping may be where a stack will grow (see
    /// the [`soundness`](crate::soundness) page). A mapping that may be several kernel VMAs
    /// cannot move: `EFAULT`, as from `mremap`. It may be after `lock`, `unlock` or `advise`
    /// of part of it (until it moves), and after `protect` or `guard` of part of it (until a
    /// protection is set on the whole, when the kernel usually merges the parts again; when
    /// it does not, `mremap` answers the move with the same `EFAULT`).
    ///
    /// The new pages have the protection of the mapping's last page. Huge-page mappings do
    /// not grow (`EINVAL`), and nothing grows past `isize::MAX` bytes (`ENOMEM`, also within
    /// the last page: see [`MapOptions::map`](crate::MapOptions::map)).
    pub fn remap(&mut self, new_len: usize, may_move: bool) -> Result<()> {
        // Growing anything but anonymous private memory would add pages past the end of
        // their backing object, whose access raises SIGBUS: files grow with `remap_file`,
        // shared anonymous memory and System V segments not at all.
        if new_len > self.len && !self.kind.grows_freely() {
            return Err(Errno::EINVAL);
        }
        self.resize(new_len, may_move)
    }

    /// Grows (see `grow`) or shrinks in place.
    fn resize(&mut self, new_len: usize, may_move: bool) -> Result<()> {
        self.check_resize(new_len, may_move)?;
        if new_len > self.len {
            return self.grow(new_len, may_move);
        }
        let new_kernel_len = new_len.checked_add(self.lead).ok_or(Errno::ENOMEM)?;
        let old = self.kernel_span();
        // SAFETY: `&mut self` means no slice of the mapping is alive while it shrinks;
        // without MAYMOVE the mapping stays where it is, and shrinking only unmaps its tail.
        unsafe {
            sys::mremap(
                old.ptr(),
                old.len,
                new_kernel_len,
                MremapFlags::empty(),
                core::ptr::null_mut(),
            )?
        };
        self.len = new_len;
        Ok(())
    }

    /// Every refusal of `resize` that needs no system call: asked before anything changes.
    fn check_resize(&self, new_len: usize, may_move: bool) -> Result<()> {
        // Nor can an empty mapping change: it has no kernel mapping to resize.
        if new_len == 0 || self.has_no_pages() {
            return Err(Errno::EINVAL);
        }
        // The kernel refuses to resize sealed memory too (mseal), growth or shrink.
        if self.sealed {
            return Err(Errno::EPERM);
        }
        if new_len > self.len {
            self.check_growth(new_len, may_move)?;
        }
        Ok(())
    }

    /// Like [`remap`](Mapping::remap) for a file mapping, first growing `file` so that the
    /// new length is backed (as Common Lisp's `mmap` does). The file never shrinks: every
    /// refusal that needs no system call (`may_move` false for a growth past the last page,
    /// a mapping that may be several VMAs, ...) comes before the file grows, and if the
    /// kernel then fails to resize the mapping (out of memory or map slots), the file stays
    /// grown. Shrinking it back could pull pages from under an atomic view that another
    /// `Mapping` of the same file was lent meanwhile, which found them backed (review round
    /// 6: `SIGBUS` through the view, from another thread's failed `remap_file`). A tmpfs file's
    /// growth (a memfd's, a `/dev/shm` object's) is allocated, as
    /// [`Memfd::set_len`](crate::Memfd::set_len) allocates (`ENOSPC` or `ENOMEM` where the
    /// memory is not there); other files grow by `ftruncate`, their blocks their own.
    /// `EINVAL` for a mapping that is not of a file, of a sealed file (which lends slices,
    /// see [`MapOptions::map_file`](crate::MapOptions::map_file)), or empty.
    ///
    /// `file` must be the file this mapping was made from; with another file, the new bytes
    /// are simply unbacked and reading them raises `SIGBUS`. So the next
    /// [`as_atomics`](Mapping::as_atomics) first asks the kernel whether the mapping's last
    /// page is backed, as for a mapping made past its file's end.
    pub fn remap_file(&mut self, file: impl AsFd, new_len: usize, may_move: bool) -> Result<()> {
        // An empty mapping has no kernel mapping to grow (`resize` would refuse it too,
        // but only after the file grew).
        if !matches!(self.kind, Kind::File | Kind::FilePastItsEnd) || self.has_no_pages() {
            return Err(Errno::EINVAL);
        }
        let file = file.as_fd();
        let end = self
            .file_offset
            .checked_add(new_len as u64)
            .ok_or(Errno::EFBIG)?;
        // Refused before the file grows: nothing is undone afterwards (see above).
        self.check_resize(new_len, may_move)?;
        let size = sys::file_size(file)?;
        if size < end {
            crate::shm::grow_allocated(file, size, end)?;
        }
        self.resize(new_len, may_move)?;
        // `file` may not be the mapping's own (then pages past its own file's end raise
        // SIGBUS): no view until `as_atomics` finds the last page backed (review round 5).
        self.kind = Kind::FilePastItsEnd;
        Ok(())
    }

    /// Names the mapping: it shows as `[anon:NAME]` in `/proc/self/maps` (Linux 5.17 with
    /// `CONFIG_ANON_VMA_NAME`; see [`sys::set_anon_name`] for the names the kernel takes).
    /// Only anonymous memory has names (`EBADF` for file-backed memory, and for shared
    /// anonymous memory before 6.2). `EINVAL` where the kernel cannot name memory: an error
    /// the caller may ignore, the mapping is unchanged.
    pub fn set_name(&self, name: &core::ffi::CStr) -> Result<()> {
        if self.has_no_pages() {
            // An empty mapping: nothing to name, and no address to give the kernel.
            return Ok(());
        }
        let span = self.kernel_span();
        // SAFETY: the whole mapping (so nothing is split); naming changes no byte and no
        // access.
        unsafe { sys::set_anon_name(span.ptr(), span.len, Some(name)) }
    }

    /// Seals the whole mapping for the life of the process (`mseal`, Linux 6.10, 64-bit
    /// kernels): it can no longer be unmapped, moved, re-protected or destructively advised.
    /// Dropping the `Mapping` then leaves the memory mapped.
    pub fn seal(&mut self) -> Result<()> {
        if self.has_no_pages() {
            // Nothing to seal, and no address to give the kernel.
            return Ok(());
        }
        let span = self.kernel_span();
        // Pessimistic: mseal may seal part of the range and then fail.
        self.sealed = true;
        // SAFETY: sealing changes no bytes and no access; Drop tolerates munmap's EPERM.
        unsafe { sys::mseal(span.ptr(), span.len) }
    }

    /// Like `span`, but the whole mapping resolves to the page-aligned kernel mapping.
    pub(super) fn aligned_span(
        &self,
        range: impl RangeBounds<usize>,
    ) -> Result<super::range::Span> {
        let span = self.span(range)?;
        Ok(if self.covers_all(span) {
            self.kernel_span()
        } else {
            span
        })
    }

    /// Whether `advice` is harmless for this mapping through `&mut self`: every hint
    /// (`is_hint`), and `DontNeed` on exclusive memory of ordinary pages, where it is the
    /// same as writing zeros (or, for a sealed file, its bytes again). Not on huge pages:
    /// the kernel frees them, and gives their reservation back to the mapping only since
    /// Linux 6.9 and not while the pool has surplus pages, after which another mapping may
    /// take the page and the next touch raise `SIGBUS` (review round 5).
    fn is_harmless(&self, advice: Advice) -> bool {
        let discards = matches!(advice, Advice::DontNeed | Advice::DontNeedLocked);
        is_hint(advice) || (discards && self.is_exclusive() && self.huge_page.is_none())
    }
}

/// Whether `advice` changes neither bytes nor access, here or in a forked child, so that it
/// may be given through `&self`: neither discarding (`DontNeed`, `DontNeedLocked`, `Free`,
/// `Remove`), nor faulting (`GuardInstall`, `HwPoison`, `SoftOffline`), nor what a child
/// inherits (`DontFork`, `WipeOnFork`), nor guard removal; and not advice this crate does
/// not know.
fn is_hint(advice: Advice) -> bool {
    use Advice::*;
    matches!(
        advice,
        Normal
            | Random
            | Sequential
            | WillNeed
            | DoFork
            | Mergeable
            | Unmergeable
            | HugePage
            | NoHugePage
            | DontDump
            | DoDump
            | KeepOnFork
            | Cold
            | PageOut
            | PopulateRead
            | PopulateWrite
            | Collapse
    )
}
