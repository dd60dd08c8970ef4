//! POSIX named shared memory, as glibc implements it: files in `/dev/shm`.
//!
//! Same names, same rules, same errors as glibc 2.38+, so an object created here is found
//! by glibc's `shm_open` (and Python's `multiprocessing.shared_memory`) and the other way
//! round: leading slashes are stripped, an empty name or one with another '/' is `EINVAL`,
//! more than [`SHM_NAME_MAX`] bytes is `ENAMETOOLONG`, and `O_NOFOLLOW | O_CLOEXEC` is
//! always added, so a symbolic link planted in `/dev/shm` gives `ELOOP`.

use core::ffi::CStr;

use super::file;
use crate::fd::OwnedFd;
use crate::{Errno, Mode, OFlags, Result};

/// The longest name (after leading slashes) that [`shm_open`] accepts: `NAME_MAX`.
pub const SHM_NAME_MAX: usize = 255;

/// glibc's fixed directory (glibc 2.34 stopped looking for other tmpfs mounts).
const SHM_DIR: &[u8] = b"/dev/shm/";

/// `/dev/shm/NAME\0`, built on the stack.
struct ShmPath(heapless::Vec<u8, { SHM_DIR.len() + SHM_NAME_MAX + 1 }>);

impl ShmPath {
    /// `/dev/shm/` followed by the checked name.
    fn new(name: &CStr) -> Result<ShmPath> {
        let name = canonical_name(name)?;
        let mut path = heapless::Vec::new();
        // Cannot fail: the capacity holds the directory, SHM_NAME_MAX bytes and the NUL.
        path.extend_from_slice(SHM_DIR)
            .map_err(|_| Errno::ENAMETOOLONG)?;
        path.extend_from_slice(name)
            .map_err(|_| Errno::ENAMETOOLONG)?;
        path.push(0).map_err(|_| Errno::ENAMETOOLONG)?;
        Ok(ShmPath(path))
    }

    fn as_cstr(&self) -> &CStr {
        // The name has no NUL (it came from a CStr) and exactly one was pushed at the end.
        CStr::from_bytes_with_nul(&self.0).unwrap_or_default()
    }
}

/// The name as glibc stores it: without leading slashes, checked. `EINVAL` (empty, or
/// another '/') is checked before `ENAMETOOLONG`, as in glibc.
pub(crate) fn canonical_name(name: &CStr) -> Result<&[u8]> {
    let name = name.to_bytes();
    let start = name.iter().position(|&b| b != b'/').unwrap_or(name.len());
    let name = name.get(start..).unwrap_or_default();
    if name.is_empty() || name.contains(&b'/') {
        return Err(Errno::EINVAL);
    }
    if name.len() > SHM_NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(name)
}

/// Opens or creates the shared memory object `name` (`shm_open(3)`).
pub fn shm_open(name: &CStr, oflag: OFlags, mode: Mode) -> Result<OwnedFd> {
    let path = ShmPath::new(name)?;
    file::open(
        path.as_cstr(),
        oflag | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        mode,
    )
    // "Directory names are just another example for unsuitable shared object names."
    .map_err(|e| e.remap(Errno::EISDIR, Errno::EINVAL))
}

/// Removes the name of a shared memory object (`shm_unlink(3)`). As in glibc, an invalid
/// name is `ENOENT` and `EPERM` from the kernel is reported as `EACCES`.
pub fn shm_unlink(name: &CStr) -> Result<()> {
    let path = ShmPath::new(name).map_err(|_| Errno::ENOENT)?;
    file::unlink(path.as_cstr()).map_err(|e| e.remap(Errno::EPERM, Errno::EACCES))
}
