//! [`Mapping`]: a range of the address space that this value owns and unmaps on drop.
//!
//! Module layout: this file holds the type, its bookkeeping and drop; `options` builds
//! mappings; `ops` changes them (protect, flush, advise, lock, remap, seal); `guard` makes
//! parts of them fault; `grow`
//! grows them without reaching into address space the program does not own; `access` reads
//! and writes them soundly (copying with `copy`'s relaxed atomics); `range` checks every
//! caller range.

use core::ffi::c_void;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::fork_canary::ForkCanary;
use crate::{sys, Errno, MapFlags, Prot, Result};

mod access;
mod copy;
mod grow;
mod guard;
mod huge;
mod numa;
mod ops;
mod options;
mod range;
mod sealed;

pub use access::AtomicWord;
pub use guard::Guard;
pub(crate) use numa::{bind_span, page_statuses};
pub use ops::Flush;
pub use options::MapOptions;
pub(crate) use range::{object_len, offsets, Span};

/// What backs a mapping, which decides what the program may assume about its bytes, how
/// it may grow, and how it is given back.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    /// Private anonymous memory: only this value can change it, so it can be lent out as
    /// `&[u8]` / `&mut [u8]`; it grows with zero-filled pages.
    PrivateAnonymous,
    /// Droppable anonymous memory: the kernel may zero it at any time; grows like private.
    Droppable,
    /// Shared anonymous memory: its object's size is fixed when mapped, so it cannot grow
    /// (pages past the object would raise SIGBUS).
    SharedAnonymous,
    /// File-backed memory: grows only together with its file ([`Mapping::remap_file`]).
    File,
    /// File-backed memory that reached past its file's end when it was made (`map_file`
    /// takes any length, as `mmap` does) or last resized with `remap_file` (which takes any
    /// descriptor): a page wholly past the end raises `SIGBUS` when touched, with no one else
    /// doing anything, so no atomic view is lent over it (copies only, whose `SIGBUS` is a
    /// signal; review round 5). Otherwise as `File`.
    FilePastItsEnd,
    /// A file sealed against writing and shrinking (`F_SEAL_WRITE | F_SEAL_SHRINK`) when it
    /// was mapped, wholly within its size then: no one can change or truncate the bytes the
    /// mapping shows (seals are never removed), so it is exclusive like private memory,
    /// except that a private writable mapping's written pages are its own copies (see
    /// `sealed`). Does not grow.
    SealedFile,
    /// A System V attachment: fixed size, given back with `shmdt`.
    SysvAttachment,
    /// Secret memory: exclusive like private memory, but of fixed size.
    Secret,
    /// Adopted with [`Mapping::from_raw_volatile`]: nothing known, so nothing assumed.
    Foreign,
    /// Huge-page memory, anonymous or of a file, whose pages are not all known to be held:
    /// mapped without a reservation (`MAP_NORESERVE`), where each huge page comes from the
    /// pool when first touched and a touch the pool cannot supply raises `SIGBUS`; or with
    /// one but not faulted in (a hugetlb cgroup limit raises `SIGBUS` at the fault, not at
    /// the reservation), or privately of a file (each write takes a page of its own then);
    /// see `huge`. No byte is known accessible: copied, never lent, not even as atomics.
    /// Does not grow (no huge-page mapping does).
    UnreservedHugePages,
}

impl Kind {
    /// Whether only the owning value can change the bytes, so that slices may be lent.
    pub(crate) fn is_exclusive(self) -> bool {
        matches!(
            self,
            Kind::PrivateAnonymous | Kind::Secret | Kind::SealedFile
        )
    }

    /// Whether a page may be missing when first touched, with no one else doing anything:
    /// huge pages the pool may fail to supply raise `SIGBUS` then, which must not come
    /// through a reference, atomic or not. (A file others truncate raises it too, as a
    /// signal of their doing, through copies and atomic views alike: see the soundness
    /// page.)
    pub(crate) fn may_lack_pages(self) -> bool {
        matches!(self, Kind::UnreservedHugePages | Kind::FilePastItsEnd)
    }

    /// Whether `remap` may grow it: new pages are anonymous and zero-filled.
    pub(crate) fn grows_freely(self) -> bool {
        matches!(self, Kind::PrivateAnonymous | Kind::Droppable)
    }

    /// What memory of this kind is when its pages are huge ones not all known to be held
    /// (`MAP_NORESERVE`, or see `huge`): a page the pool cannot supply when first touched
    /// raises `SIGBUS`, through a slice or an atomic view as well, so none of it is
    /// exclusive nor viewed (review rounds 4 and 5: a file's too).
    pub(crate) fn without_reservation(self) -> Kind {
        match self {
            Kind::PrivateAnonymous
            | Kind::SharedAnonymous
            | Kind::SealedFile
            | Kind::File
            | Kind::FilePastItsEnd => Kind::UnreservedHugePages,
            other => other,
        }
    }
}

/// An owned mapping of `len()` bytes at `as_ptr()`, unmapped on drop.
///
/// The mapping was made by this crate (or adopted with [`Mapping::from_raw`]), so no other
/// owner will unmap it. Every range a method takes is checked against `[0, len())`; a range
/// that reaches outside, or whose end overflows, is `EINVAL` and touches nothing.
///
/// See the crate documentation for which access is safe and why.
#[derive(Debug)]
pub struct Mapping {
    /// First byte the user sees.
    ptr: NonNull<u8>,
    /// Bytes the user sees.
    len: usize,
    /// Bytes mapped before `ptr`: a file offset that is not page aligned is mapped from the
    /// page below, and this is the difference. The kernel mapping starts at `ptr - lead`.
    lead: usize,
    /// The file offset of `ptr` (0 for anonymous memory), for remaps that grow the file.
    file_offset: u64,
    /// The huge page size for a huge-page mapping, whose kernel length is rounded up to it.
    huge_page: Option<usize>,
    kind: Kind,
    /// Whether every byte is known to be readable / writable now. Cleared by any change that
    /// may remove access from part of the mapping; set again only by a change to the whole.
    readable: bool,
    writable: bool,
    /// The protection last set on the whole mapping (when it was made, or by a `protect` of
    /// all of it that succeeded): the whole mapping's protection while neither
    /// `split_by_protection` nor `guarded` is set (see [`Mapping::protection`]).
    prot: Prot,
    /// Whether [`Mapping::guard`] was used: while set, no protection change makes the
    /// mapping lendable again; only [`Mapping::unguard`] clears it.
    guarded: bool,
    /// Whether guard markers (`MADV_GUARD_INSTALL`) may be present. They survive `mprotect`,
    /// so `unguard` must remove them (successfully) before anything is lent again.
    guard_markers: bool,
    /// Whether the kernel may hold the mapping as several VMAs because flags were changed on
    /// part of it (`lock`, `unlock`, `advise`), or because it was adopted. Cleared only by a
    /// move. Atomic because `lock` and `unlock` take `&self`.
    split_by_flags: AtomicBool,
    /// Whether it may be several VMAs because part of it may have another protection (after
    /// `protect` or `guard` of part of it, or any `protect` that failed): cleared when a
    /// protection is set on the whole, after which the kernel usually merges the parts
    /// again. When it does not (their anon_vmas differ), a move fails with mremap's own
    /// `EFAULT`, and kernels that refuse it before clearing the destination leave the region
    /// reserved for it mapped (see `grow`): a leak, which is sound.
    split_by_protection: bool,
    /// Whether part of the mapping may be sealed (set before `mseal` is asked, never
    /// cleared): it then refuses to move, and drop leaves it mapped.
    sealed: bool,
    /// How the mapping was made, so that a region it moves into is placed under the same
    /// limits (see `grow`).
    flags: MapFlags,
    /// For private huge-page memory with a reservation: the reservation is the maker's
    /// alone, and a forked child holds none, so that its first touch of a page, or its
    /// copy-on-write, needs a page from the pool outside every reservation, and raises
    /// `SIGBUS` if there is none (review round 5). The canary tells a child's copy that it
    /// is one: there the memory counts as possibly missing pages (copies only).
    fork_canary: Option<ForkCanary>,
}

// SAFETY: a Mapping owns its range like a Box owns its allocation; moving it to another
// thread moves that ownership. Every `&self` method either reads (slices of exclusive memory,
// which no one can change while `&self` lives) or copies with atomic accesses, which race
// soundly with other threads' atomics and copies.
unsafe impl Send for Mapping {}
// SAFETY: as above; methods that change the mapping or its bytes take `&mut self`.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Private, read-write, zero-filled memory of `len` bytes (rounded up to whole pages by
    /// the kernel; `len()` is what was asked). A zero `len` is `EINVAL`.
    #[inline]
    pub fn anonymous(len: usize) -> Result<Mapping> {
        MapOptions::new().len(len).map()
    }

    /// The first byte of the mapping.
    #[inline]
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// The length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the length is 0: only for an empty mapping (see
    /// [`MapOptions::map_file`]), which has no kernel mapping behind it.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the bytes can change other than through this value (shared, file-backed or
    /// droppable memory), or may not be there when touched (huge pages mapped without a
    /// reservation), so that they are accessed by copies rather than slices.
    #[inline]
    pub fn is_volatile(&self) -> bool {
        !self.is_exclusive()
    }

    /// Whether only this value can change the bytes, and every page is there when touched,
    /// so that slices may be lent: memory of an exclusive kind, in the process that holds
    /// its reservation if it is private huge pages.
    fn is_exclusive(&self) -> bool {
        self.kind.is_exclusive() && self.holds_its_reservation()
    }

    /// Whether a page may be missing when first touched, with no one else doing anything
    /// (see [`Kind::may_lack_pages`]): also private huge pages in a forked child.
    fn may_lack_pages(&self) -> bool {
        self.kind.may_lack_pages() || !self.holds_its_reservation()
    }

    /// Whether this process holds the mapping's huge-page reservation, if it has one: not
    /// in a child forked since the mapping was made (see `fork_canary`).
    fn holds_its_reservation(&self) -> bool {
        self.fork_canary.as_ref().is_none_or(ForkCanary::in_maker)
    }

    /// Gives up ownership: returns the start and length of the whole kernel mapping (which
    /// begins before `as_ptr()` when a file offset was not page aligned). Unmapping it is now
    /// the caller's job. An empty mapping gives its dangling pointer and length 0: nothing
    /// to unmap.
    pub fn into_raw(mut self) -> (*mut u8, usize) {
        let raw = (self.kernel_start() as *mut u8, self.kernel_len());
        // The canary is the value's own page, not part of what is given up.
        drop(self.fork_canary.take());
        core::mem::forget(self);
        raw
    }

    /// Adopts `len` bytes at `ptr` as a private anonymous read-write mapping, for example one
    /// that [`into_raw`](Mapping::into_raw) gave out.
    ///
    /// # Safety
    /// `[ptr, ptr + len)` must be a page-aligned, private, anonymous, read-write mapping of
    /// ordinary pages that nothing else uses or will unmap, with `0 < len <= isize::MAX` (no
    /// Rust object, and so no slice this value lends, may be longer). Not huge pages
    /// (`MAP_HUGETLB`): their reservation is not inherited by a forked child, which this
    /// value would not know (see [`MapOptions::huge_pages`]).
    pub unsafe fn from_raw(ptr: *mut u8, len: usize) -> Mapping {
        // SAFETY: the caller guarantees `ptr` is a mapping, hence not null.
        let ptr = unsafe { NonNull::new_unchecked(ptr) };
        let adopted = Mapping::owned(
            ptr,
            len,
            0,
            0,
            Kind::PrivateAnonymous,
            Prot::READ | Prot::WRITE,
            MapFlags::PRIVATE | MapFlags::ANONYMOUS,
        );
        // Its history is unknown.
        adopted.split_by_flags.store(true, Ordering::Relaxed);
        adopted
    }

    /// Adopts `len` bytes at `ptr` as memory that may change under the program (shared or
    /// file-backed), mapped with protection `prot`.
    ///
    /// # Safety
    /// `[ptr, ptr + len)` must be a page-aligned mapping with protection `prot` that nothing
    /// else unmaps, with `0 < len <= isize::MAX`.
    pub unsafe fn from_raw_volatile(ptr: *mut u8, len: usize, prot: Prot) -> Mapping {
        // SAFETY: the caller guarantees `ptr` is a mapping, hence not null.
        let ptr = unsafe { NonNull::new_unchecked(ptr) };
        let adopted = Mapping::owned(ptr, len, 0, 0, Kind::Foreign, prot, MapFlags::SHARED);
        adopted.split_by_flags.store(true, Ordering::Relaxed);
        adopted
    }

    /// Wraps a System V attachment, detached (not unmapped) on drop.
    pub(crate) fn attached(ptr: NonNull<u8>, len: usize, prot: Prot) -> Mapping {
        Mapping::owned(ptr, len, 0, 0, Kind::SysvAttachment, prot, MapFlags::SHARED)
    }

    /// Wraps memory that only this value can reach although it is a shared mapping (secret
    /// memory whose descriptor is closed and which a child does not inherit).
    pub(crate) fn secret(ptr: NonNull<u8>, len: usize, prot: Prot) -> Mapping {
        Mapping::owned(ptr, len, 0, 0, Kind::Secret, prot, MapFlags::SHARED)
    }

    /// A mapping of no bytes: no kernel mapping, a pointer that is never dereferenced nor
    /// passed to the kernel (dangling, aligned to the page size), and nothing to unmap.
    pub(crate) fn empty(file_offset: u64, kind: Kind, prot: Prot, flags: MapFlags) -> Mapping {
        // The page size is a power of two and not 0: a non-null, page-aligned address,
        // without provenance (nothing is ever read there), like `NonNull::dangling`.
        let dangling = core::ptr::without_provenance_mut::<u8>(crate::page_size());
        let ptr = NonNull::new(dangling).unwrap_or(NonNull::dangling());
        Mapping::owned(ptr, 0, 0, file_offset, kind, prot, flags)
    }

    /// Whether there is no kernel mapping behind this value (an empty mapping): then no
    /// call may reach the kernel with its dangling pointer.
    fn has_no_pages(&self) -> bool {
        self.kernel_len() == 0
    }

    fn owned(
        ptr: NonNull<u8>,
        len: usize,
        lead: usize,
        file_offset: u64,
        kind: Kind,
        prot: Prot,
        flags: MapFlags,
    ) -> Mapping {
        Mapping {
            ptr,
            len,
            lead,
            file_offset,
            huge_page: None,
            kind,
            readable: prot.contains(Prot::READ),
            writable: prot.contains(Prot::WRITE),
            prot,
            guarded: false,
            guard_markers: false,
            split_by_flags: AtomicBool::new(false),
            split_by_protection: false,
            sealed: false,
            flags,
            fork_canary: None,
        }
    }

    /// Records a change of flags to `span`: if it is not the whole mapping, the kernel may
    /// split it.
    fn note_flags_change(&self, span: range::Span) {
        if span != self.kernel_span() {
            self.split_by_flags.store(true, Ordering::Relaxed);
        }
    }

    /// Whether `mremap` may find the mapping to be several VMAs, which it cannot move.
    fn may_be_several_vmas(&self) -> bool {
        self.split_by_protection || self.split_by_flags.load(Ordering::Relaxed)
    }

    /// Where the kernel's mapping starts (page aligned).
    fn kernel_start(&self) -> usize {
        self.ptr.as_ptr() as usize - self.lead
    }

    /// The kernel mapping's length: rounded up to whole huge pages for a huge-page mapping
    /// (the kernel maps and unmaps no less), else as mmap was given it (the kernel rounds
    /// that up to pages itself).
    fn kernel_len(&self) -> usize {
        huge::kernel_len(self.lead + self.len, self.huge_page)
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        if self.has_no_pages() {
            return;
        }
        let start = self.kernel_start() as *mut c_void;
        // SAFETY: the range is this value's own mapping, and `&mut self` in drop means no
        // borrow of it remains. A sealed mapping refuses (EPERM) and stays mapped: leaking
        // it is the only sound outcome. One merged with its neighbours at the map-count
        // limit stays mapped too, but gives its memory back (see `give_back`).
        unsafe {
            match self.kind {
                Kind::SysvAttachment => drop(sys::shmdt(start)),
                _ => crate::give_back::unmap(start, self.kernel_len()),
            }
        };
    }
}

/// Turns the address mmap returned into the user-visible start, or unmaps it on failure.
fn adopt(raw: *mut c_void, kernel_len: usize) -> Result<NonNull<u8>> {
    match NonNull::new(raw.cast::<u8>()) {
        Some(ptr) => Ok(ptr),
        None => {
            // Address 0 only comes back with MAP_FIXED at 0, which the safe layer never asks
            // for; release it rather than hand out a null pointer.
            // SAFETY: the mapping was just made and nothing refers to it.
            let _ = unsafe { sys::munmap(raw, kernel_len) };
            Err(Errno::EINVAL)
        }
    }
}
