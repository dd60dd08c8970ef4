//! Shared memory objects: POSIX named objects, memfds, System V segments.
//!
//! Each owns its descriptor (or id) and makes [`Mapping`](crate::Mapping)s of itself. Those
//! mappings are volatile: another process (or another mapping) can change the bytes, so they
//! are read and written by copies or atomics, never plain slices.

mod memfd;
mod posix;
mod sysv;

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
pub(crate) fn set_len_allocated(fd: crate::fd::BorrowedFd<'_>, len: u64) -> crate::Result<()> {
    if len > 0 {
        crate::sys::fallocate(fd, crate::FallocateFlags::empty(), 0, len)?;
    }
    // Shrinks (growth is done); the same size is no change.
    crate::sys::ftruncate(fd, len)
}

/// Grows a file from `size` to `end` bytes with the new part allocated, as
/// [`set_len_allocated`] does (for [`Mapping::remap_file`](crate::Mapping::remap_file),
/// which sizes the file it is given); where the filesystem has no `fallocate`
/// (`EOPNOTSUPP`), by `ftruncate`: such a file is no object of the crate's, and its holes
/// are its filesystem's.
pub(crate) fn grow_allocated(
    fd: crate::fd::BorrowedFd<'_>,
    size: u64,
    end: u64,
) -> crate::Result<()> {
    let added = end.checked_sub(size).ok_or(crate::Errno::EINVAL)?;
    match crate::sys::fallocate(fd, crate::FallocateFlags::empty(), size, added) {
        // EBADF: not open for writing, which ftruncate answers as it always has (EINVAL).
        Err(crate::Errno::EOPNOTSUPP | crate::Errno::EBADF) => crate::sys::ftruncate(fd, end),
        done => done,
    }
}

/// Maps the whole of an object's descriptor, shared.
pub(crate) fn map_whole(
    fd: crate::fd::BorrowedFd<'_>,
    access: Access,
) -> crate::Result<crate::Mapping> {
    crate::MapOptions::new()
        .shared()
        .prot(access.prot())
        .map_file(fd, 0)
}
