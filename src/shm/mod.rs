//! Shared memory objects: POSIX named objects, memfds, System V segments.
//!
//! Each owns its descriptor (or id) and makes [`Mapping`](crate::Mapping)s of itself. Those
//! mappings are volatile: another process (or another mapping) can change the bytes, so they
//! are read and written by copies or atomics, never plain slices.

mod memfd;
mod posix;
mod sysv;

use crate::fd::BorrowedFd;
use crate::{sys, Errno, FallocateFlags, Result};

pub use memfd::Memfd;
pub use posix::SharedMemory;
pub use sysv::SysvSegment;

/// Whether an object is opened (or attached) for reading only or for reading and writing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Access {
    /// Read only: mappings are `PROT_READ`.
    ReadOnly,
    /// Read and write: mappings are `PROT_READ | PROT_WRITE`.
    ReadWrite,
}

impl Access {
    pub(crate) fn prot(self) -> crate::Prot {
        match self {
            Access::ReadOnly => crate::Prot::READ,
            Access::ReadWrite => crate::Prot::READ | crate::Prot::WRITE,
        }
    }
}

/// Sets the size of an object this crate sizes, first giving every page of `[0, len)` its
/// blocks (`fallocate`, which also grows the file), so that no later touch of a mapping of
/// it, through an atomic view either, can find the filesystem out of space: a fault that
/// needs a block tmpfs cannot give raises `SIGBUS` (a `/dev/shm` mounted with `size=`, as
/// in many containers, or a quota), and so does one of a memfd under strict overcommit
/// (`vm.overcommit_memory` 2), whose pages are charged to the commit limit one at a time as
/// they are first touched (review round 5, hole 16). `ENOSPC` (or the cgroup's `ENOMEM`)
/// then, before the size changes; tmpfs frees whatever the failed call had allocated. The
/// memory is taken now, not at its first touch.
pub(crate) fn set_len_allocated(fd: BorrowedFd<'_>, len: u64) -> Result<()> {
    if len > 0 {
        allocate(fd, 0, len)?;
    }
    // Shrinks (growth is done); the same size is no change.
    sys::ftruncate(fd, len)
}

/// Grows a file from `size` to `end` bytes for [`Mapping::remap_file`](crate::Mapping::remap_file),
/// which sizes the file it is given: a tmpfs file (a memfd, a `/dev/shm` object) with the
/// new part allocated, as [`set_len_allocated`] does. Other files grow by `ftruncate`:
/// their blocks are their filesystem's (on disk, not memory, and on copy-on-write
/// filesystems no allocation lasts), as are those of any file the crate did not size. A
/// descriptor not open for writing (`EBADF` from `fallocate`) gets `ftruncate`'s `EINVAL`.
pub(crate) fn grow_allocated(fd: BorrowedFd<'_>, size: u64, end: u64) -> Result<()> {
    let added = end.checked_sub(size).ok_or(Errno::EINVAL)?;
    if !sys::file_backing(fd)?.is_tmpfs() {
        return sys::ftruncate(fd, end);
    }
    match allocate(fd, size, added) {
        Err(Errno::EBADF) => sys::ftruncate(fd, end),
        done => done,
    }
}

/// `fallocate` of `len` bytes of memory at `offset`. More than RAM and swap together can
/// never be had: `ENOMEM` at once, as `mmap` answers such a length under the kernel's
/// default (heuristic) overcommit, rather than a tmpfs allocation that would drive the
/// machine into reclaim and the OOM killer (tmpfs files on the kernel's own mount, memfds,
/// have no size limit to stop it).
fn allocate(fd: BorrowedFd<'_>, offset: u64, len: u64) -> Result<()> {
    // A length negative as `off_t` is left to the kernel, whose `EINVAL` it has always been.
    if i64::try_from(len).is_ok() && len > sys::memory_and_swap()? {
        return Err(Errno::ENOMEM);
    }
    sys::fallocate(fd, FallocateFlags::empty(), offset, len)
}

/// Maps the whole of an object's descriptor, shared.
pub(crate) fn map_whole(fd: BorrowedFd<'_>, access: Access) -> Result<crate::Mapping> {
    crate::MapOptions::new()
        .shared()
        .prot(access.prot())
        .map_file(fd, 0)
}
