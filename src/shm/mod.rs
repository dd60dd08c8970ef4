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
