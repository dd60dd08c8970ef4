//! [`Memfd`]: an anonymous memory file (`memfd_create`) with seals.

use core::ffi::CStr;

use super::{map_whole, set_len_allocated, Access};
use crate::fd::{AsFd, BorrowedFd, IntoRawFd, OwnedFd, RawFd};
use crate::{sys, Mapping, MemfdFlags, Result, Seals};

/// An anonymous file in memory: no name in any directory, shared by passing the descriptor
/// (or by `fork`). Close-on-exec and sealable by default.
#[derive(Debug)]
pub struct Memfd {
    fd: OwnedFd,
    /// Made with `MemfdFlags::HUGETLB`: its pages are the huge-page pool's, held by the
    /// reservations of its mappings, not allocated when it is sized.
    huge_pages: bool,
}

impl Memfd {
    /// A new empty memfd, close-on-exec, sealable. `name` (at most 249 bytes) is only a
    /// label in `/proc/self/fd`.
    pub fn new(name: &CStr) -> Result<Memfd> {
        Memfd::with_flags(name, MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)
    }

    /// A new memfd whose contents can never be executed (`MFD_NOEXEC_SEAL`, Linux 6.3;
    /// `EINVAL` on older kernels).
    pub fn new_noexec(name: &CStr) -> Result<Memfd> {
        Memfd::with_flags(name, MemfdFlags::CLOEXEC | MemfdFlags::NOEXEC_SEAL)
    }

    /// A new memfd with exactly `flags`.
    pub fn with_flags(name: &CStr, flags: MemfdFlags) -> Result<Memfd> {
        Ok(Memfd {
            fd: sys::memfd_create(name, flags)?,
            huge_pages: flags.contains(MemfdFlags::HUGETLB),
        })
    }

    /// The size in bytes.
    pub fn len(&self) -> Result<u64> {
        sys::file_size(self.fd.as_fd())
    }

    /// Whether the size is 0.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Sets the size (`EPERM` if sealed against it), allocating the memory now (except for
    /// `MemfdFlags::HUGETLB` memfds, whose mappings reserve their huge pages): `ENOSPC`,
    /// nothing changed, where the commit limit of strict overcommit (`vm.overcommit_memory`
    /// 2) cannot take it, which would otherwise make a later first touch of a page raise
    /// `SIGBUS`, through an atomic view too; `ENOMEM` at once for more than RAM and swap
    /// together. Shrinking under a mapping makes its accesses
    /// past the new end raise `SIGBUS`.
    pub fn set_len(&self, len: u64) -> Result<()> {
        if self.huge_pages {
            sys::ftruncate(self.fd.as_fd(), len)
        } else {
            set_len_allocated(self.fd.as_fd(), len)
        }
    }

    /// Adds seals (`EPERM` once `Seals::SEAL` is set or if created without sealing; `EBUSY`
    /// for `WRITE` while writable shared mappings exist).
    pub fn add_seals(&self, seals: Seals) -> Result<()> {
        sys::fcntl_add_seals(self.fd.as_fd(), seals)
    }

    /// The seals now in place.
    pub fn seals(&self) -> Result<Seals> {
        sys::fcntl_get_seals(self.fd.as_fd())
    }

    /// Freezes the contents and size: seals `SHRINK`, `GROW` and `WRITE`, so that every
    /// holder of the descriptor can trust them not to change. Drop writable mappings first
    /// (`EBUSY` otherwise).
    pub fn freeze(&self) -> Result<()> {
        self.add_seals(Seals::SHRINK | Seals::GROW | Seals::WRITE)
    }

    /// Maps the whole file, shared, with `access` (`EPERM` for `ReadWrite` once sealed
    /// against writing). An empty memfd gives an empty mapping; once frozen (or sealed
    /// against writing and shrinking), the mapping lends slices (see
    /// [`MapOptions::map_file`](crate::MapOptions::map_file)).
    ///
    /// ```
    /// use mman::{Access, Memfd};
    /// let memfd = Memfd::new(c"table")?;
    /// memfd.set_len(4096)?;
    /// memfd.map(Access::ReadWrite)?.write_at(0, &[1, 2, 3])?;
    /// memfd.freeze()?;
    /// // A read-only descriptor maps shared on every kernel (through a writable one, from
    /// // Linux 6.7 or a backport): here the memfd's own, so fall back to a private mapping.
    /// let m = memfd.map(Access::ReadOnly).or_else(|_| {
    ///     mman::MapOptions::new().prot(mman::Prot::READ).map_file(&memfd, 0)
    /// })?;
    /// assert_eq!(&m.as_slice()?[..3], &[1, 2, 3]);
    /// # Ok::<(), mman::Errno>(())
    /// ```
    pub fn map(&self, access: Access) -> Result<Mapping> {
        map_whole(self.fd.as_fd(), access)
    }

    /// Gives up the descriptor.
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }
}

impl AsFd for Memfd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl From<Memfd> for OwnedFd {
    fn from(memfd: Memfd) -> OwnedFd {
        memfd.fd
    }
}

impl IntoRawFd for Memfd {
    fn into_raw_fd(self) -> RawFd {
        self.fd.into_raw_fd()
    }
}
