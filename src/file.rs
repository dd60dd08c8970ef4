//! Safe questions about a descriptor's file that mapping it raises.

use crate::fd::AsFd;
use crate::{sys, Result};

/// The length in bytes of the file behind `fd` (`statx`, no std needed): what
/// [`MapOptions::map_file`](crate::MapOptions::map_file) maps from offset 0 when given no
/// length (an empty mapping for 0). Works for any descriptor (`Memfd`, `SharedMemory`,
/// `std::fs::File` with feature `std`, an `OwnedFd`); `EBADF` for a closed one.
///
/// ```
/// let memfd = mman::Memfd::new(c"len")?;
/// memfd.set_len(3 * 4096 + 5)?;
/// assert_eq!(mman::file_len(&memfd)?, 3 * 4096 + 5);
/// let m = mman::MapOptions::new().map_file(&memfd, 0)?;
/// assert_eq!(m.len() as u64, mman::file_len(&memfd)?);
/// # Ok::<(), mman::Errno>(())
/// ```
pub fn file_len(fd: impl AsFd) -> Result<u64> {
    sys::file_size(fd.as_fd())
}
