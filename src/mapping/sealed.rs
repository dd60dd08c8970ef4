//! Which file mappings may lend slices: those of files sealed against writing and
//! shrinking (`F_SEAL_WRITE | F_SEAL_SHRINK`), checked once when mapping. Seals are never
//! removed, so what is true then stays true for the life of the mapping.
//!
//! Why the two seals are enough for `&[u8]`, and why fewer are not:
//!
//! - `F_SEAL_WRITE`: no `write(2)` through any descriptor, no writable shared mapping
//!   (the seal cannot be added while one exists, `EBUSY`, and `mmap`/`mprotect` refuse new
//!   ones), no hole punched (`fallocate(PUNCH_HOLE)` is `EPERM`), no `MADV_REMOVE` (it
//!   needs a writable shared mapping). The page cache of the file cannot change.
//!   `F_SEAL_FUTURE_WRITE` is not enough: writable shared mappings made before it still
//!   write.
//! - `F_SEAL_SHRINK`: no truncation, so no byte the mapping shows ever lies past the end
//!   (which would raise `SIGBUS` through a slice). The mapping must lie within the file's
//!   size when it is made, which is read *after* the seals: from then on it cannot shrink.
//!   `F_SEAL_GROW` is not needed: growth changes no mapped byte.
//!
//! A private mapping may still be writable: the pages it writes become its own
//! copies-on-write, which only this value writes, through `&mut self`. A shared mapping
//! cannot be writable: the kernel refuses `PROT_WRITE` for it at `mmap` (`EPERM`), and at
//! `mprotect` (`EACCES`) because `VM_MAYWRITE` is clear: the seal clears it from Linux 6.7
//! (and in kernels with that change backported, such as Debian's 6.1.192); before, a shared
//! mapping through a writable descriptor is refused even read-only (`EPERM`), and one
//! through a read-only descriptor never had it.
//!
//! `F_GET_SEALS` is `EINVAL` for files that cannot be sealed (anything but shmem and
//! hugetlbfs): their mappings stay volatile, as does any file whose seals could not be
//! read.
//!
//! The seals keep every byte, but not every page: a sealed file may have holes (sized by
//! `ftruncate`, by its maker or by whoever sent it), and the first touch of a hole needs a
//! page. Where it cannot have one the touch raises `SIGBUS`: memfds are `VM_NORESERVE`, so
//! under strict overcommit (`vm.overcommit_memory` 2) each page is charged to the commit
//! limit when first touched, and a refusal is `ENOSPC`, "so that a failure on a sparse
//! tmpfs mapping will give SIGBUS not OOM" (mm/shmem.c): through a slice (review round 6).
//! So every page of a sealed mapping is faulted in when it is made (`MADV_POPULATE_READ`,
//! which answers an error where the touch would raise the signal), and where that fails
//! (the commit limit reached, unreadable memory, a kernel before 5.14) the mapping is an
//! ordinary file mapping (volatile). A page once there stays the file's: it can be swapped
//! out, keeping its charge, but a hole is made only by a punch or a truncation, which the
//! seals refuse. (Huge pages are faulted in by `huge`, for their own reasons.)

use super::{Kind, Mapping};
use crate::fd::BorrowedFd;
use crate::{sys, Seals};

impl Mapping {
    /// For a mapping of a sealed file of ordinary pages, just made: faults every page in,
    /// or makes it an ordinary (volatile) file mapping (see above).
    #[cold]
    pub(super) fn hold_every_sealed_page(&mut self) {
        if self.fault_in_every_page().is_err() {
            self.kind = Kind::File;
        }
    }
}

/// The kind of a mapping of `len` bytes of `file` from `offset`: [`Kind::SealedFile`] if
/// the file is sealed against writing and shrinking and the bytes lie within its size,
/// else [`Kind::File`].
pub(super) fn file_kind(file: BorrowedFd<'_>, offset: u64, len: usize) -> Kind {
    if !is_frozen(file) {
        return Kind::File;
    }
    // Read after the seals: the file can only have grown since, never shrunk.
    match (sys::file_size(file), offset.checked_add(len as u64)) {
        (Ok(size), Some(end)) if end <= size => Kind::SealedFile,
        _ => Kind::File,
    }
}

/// The seals that keep a file's bytes from changing or going away.
const FROZEN: Seals = Seals::WRITE.union(Seals::SHRINK);

/// Whether `file` is sealed so that the bytes it holds can never change or go away.
fn is_frozen(file: BorrowedFd<'_>) -> bool {
    sys::fcntl_get_seals(file).is_ok_and(|seals| seals.contains(FROZEN))
}
