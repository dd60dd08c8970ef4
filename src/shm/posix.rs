//! [`SharedMemory`]: a POSIX named shared memory object (`shm_open`).

use core::ffi::CStr;

use super::{map_whole, set_len_allocated, Access};
use crate::fd::{AsFd, BorrowedFd, OwnedFd};
use crate::{sys, Errno, Mapping, Mode, OFlags, Result};

/// A named object in `/dev/shm`, visible to every process that knows the name (glibc's
/// `shm_open`, Python's `multiprocessing.shared_memory`, ...).
#[derive(Debug)]
pub struct SharedMemory {
    fd: OwnedFd,
    access: Access,
    /// The name without leading slashes, NUL-terminated, for unlinking.
    name: heapless::Vec<u8, { sys::SHM_NAME_MAX + 1 }>,
    unlink_on_drop: bool,
}

impl SharedMemory {
    /// Creates a new object of `len` bytes, readable and writable by the owner only (0600).
    /// `EEXIST` if the name is taken. The memory is allocated now (see
    /// [`set_len`](SharedMemory::set_len)): `ENOSPC` if `/dev/shm` cannot hold it. On any
    /// failure nothing is left behind.
    pub fn create(name: &CStr, len: u64) -> Result<SharedMemory> {
        SharedMemory::create_with_mode(name, len, Mode::RUSR | Mode::WUSR)
    }

    /// Creates a new object of `len` bytes with permission bits `mode` (less the umask).
    pub fn create_with_mode(name: &CStr, len: u64, mode: Mode) -> Result<SharedMemory> {
        let flags = OFlags::RDWR | OFlags::CREAT | OFlags::EXCL;
        // Unlinked on drop from here on, so a failure below leaves no object behind.
        let shm =
            SharedMemory::open_with(name, flags, mode, Access::ReadWrite)?.unlink_on_drop(true);
        set_len_allocated(shm.fd.as_fd(), len)?;
        Ok(shm)
    }

    /// Opens an existing object.
    pub fn open(name: &CStr, access: Access) -> Result<SharedMemory> {
        let flags = match access {
            Access::ReadOnly => OFlags::RDONLY,
            Access::ReadWrite => OFlags::RDWR,
        };
        SharedMemory::open_with(name, flags, Mode::empty(), access)
    }

    fn open_with(name: &CStr, flags: OFlags, mode: Mode, access: Access) -> Result<SharedMemory> {
        let canonical = sys::canonical_name(name)?;
        let mut stored = heapless::Vec::new();
        // Cannot fail: canonical names have at most SHM_NAME_MAX bytes.
        stored
            .extend_from_slice(canonical)
            .map_err(|_| Errno::ENAMETOOLONG)?;
        stored.push(0).map_err(|_| Errno::ENAMETOOLONG)?;
        let fd = sys::shm_open(name, flags, mode)?;
        Ok(SharedMemory {
            fd,
            access,
            name: stored,
            unlink_on_drop: false,
        })
    }

    /// Whether dropping this value also removes the name (default: yes for objects this
    /// value created, no for opened ones).
    pub fn unlink_on_drop(mut self, unlink: bool) -> SharedMemory {
        self.unlink_on_drop = unlink;
        self
    }

    /// The name, without leading slashes.
    pub fn name(&self) -> &CStr {
        CStr::from_bytes_with_nul(&self.name).unwrap_or_default()
    }

    /// The size in bytes.
    pub fn len(&self) -> Result<u64> {
        sys::file_size(self.fd.as_fd())
    }

    /// Whether the size is 0.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Sets the size, allocating the object's memory now: `ENOSPC` (nothing changed) if
    /// `/dev/shm` cannot hold `len` bytes, as where it is mounted with `size=` (many
    /// containers'); `ENOMEM` at once for more than RAM and swap together. So the object the crate sized has every page's block, and no touch of a
    /// mapping of it, through an atomic view either, can find the filesystem full (which
    /// raises `SIGBUS`). Shrinking under another process's mapping makes its accesses past
    /// the new end raise `SIGBUS`. `EINVAL` for an object opened read-only.
    pub fn set_len(&self, len: u64) -> Result<()> {
        match self.access {
            Access::ReadWrite => set_len_allocated(self.fd.as_fd(), len),
            // Nothing to allocate through: ftruncate answers for a read-only descriptor.
            Access::ReadOnly => sys::ftruncate(self.fd.as_fd(), len),
        }
    }

    /// Maps the whole object, shared, with the access it was opened with (an empty object
    /// gives an empty mapping).
    pub fn map(&self) -> Result<Mapping> {
        map_whole(self.fd.as_fd(), self.access)
    }

    /// Removes the name now; existing descriptors and mappings keep working.
    pub fn unlink(&mut self) -> Result<()> {
        self.unlink_on_drop = false;
        sys::shm_unlink(self.name())
    }
}

impl AsFd for SharedMemory {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Drop for SharedMemory {
    fn drop(&mut self) {
        if self.unlink_on_drop {
            let _ = sys::shm_unlink(self.name());
        }
    }
}
