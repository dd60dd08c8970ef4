//! Descriptor calls the memory calls depend on: open, read, close, truncate, size, unlink,
//! the huge page size of hugetlbfs files, and page-cache statistics.

use core::ffi::CStr;

use super::{check, check_fd, check_unit};
use crate::arch::{self, nr};
use crate::fd::{AsRawFd, BorrowedFd, IntoRawFd, OwnedFd, RawFd};
use crate::{Mode, OFlags, Result};

/// `AT_FDCWD`: resolve relative paths from the working directory.
const AT_FDCWD: usize = -100isize as usize;
/// `AT_EMPTY_PATH`: operate on the descriptor itself.
const AT_EMPTY_PATH: usize = 0x1000;
/// `STATX_SIZE`: the only field asked of statx.
const STATX_SIZE: usize = 0x200;

/// Sets the length of a file (`ftruncate(2)`). Lengths above `i64::MAX` are `EINVAL`.
///
/// Shrinking a file that is mapped makes accesses past the new end raise `SIGBUS`: a signal,
/// not undefined behaviour, since the safe layer reads and writes file mappings by copies
/// and never lends them out as slices.
#[inline]
pub fn ftruncate(fd: BorrowedFd<'_>, len: u64) -> Result<()> {
    // SAFETY: ftruncate takes no pointer; the effect on mappings is described above.
    check_unit(unsafe { arch::ftruncate(fd.as_raw_fd() as usize, len) })
}

/// Reads into `buf` (`read(2)`); returns how many bytes arrived (0 at end of file).
#[inline]
pub fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    check(unsafe {
        arch::syscall3(
            nr::READ,
            fd.as_raw_fd() as usize,
            buf.as_mut_ptr() as usize,
            buf.len(),
        )
    })
}

/// Opens `path` relative to the working directory (`openat(AT_FDCWD, ...)`).
pub(crate) fn open(path: &CStr, flags: OFlags, mode: Mode) -> Result<OwnedFd> {
    let (path, flags, mode) = (
        path.as_ptr() as usize,
        flags.bits() as usize,
        mode.bits() as usize,
    );
    // SAFETY: the kernel only reads the NUL-terminated path.
    check_fd(unsafe { arch::syscall4(nr::OPENAT, AT_FDCWD, path, flags, mode) })
}

/// Removes the name `path` (`unlinkat(AT_FDCWD, path, 0)`).
pub(crate) fn unlink(path: &CStr) -> Result<()> {
    // SAFETY: the kernel only reads the NUL-terminated path.
    check_unit(unsafe {
        arch::syscall3_readonly(nr::UNLINKAT, AT_FDCWD, path.as_ptr() as usize, 0)
    })
}

/// Closes a descriptor and reports what `close(2)` said (dropping an `OwnedFd` closes it
/// too, but cannot report a failure, such as a deferred write error on NFS).
#[inline]
pub fn close(fd: OwnedFd) -> Result<()> {
    close_raw(fd.into_raw_fd())
}

/// Closes a raw descriptor; the one place `close` is issued.
pub(crate) fn close_raw(fd: RawFd) -> Result<()> {
    // SAFETY: close takes no pointer; the caller owned the descriptor.
    check_unit(unsafe { arch::syscall1_readonly(nr::CLOSE, fd as usize) })
}

/// The size of the file `fd` refers to, from `statx` (whose layout is the same on every
/// architecture, unlike `struct stat`).
pub(crate) fn file_size(fd: BorrowedFd<'_>) -> Result<u64> {
    // struct statx is 256 bytes; stx_size is the u64 at byte offset 40.
    let mut statx = [0u64; 32];
    let (fd, empty) = (fd.as_raw_fd() as usize, c"".as_ptr() as usize);
    let buf = statx.as_mut_ptr() as usize;
    // SAFETY: the kernel writes at most 256 bytes into `statx` and reads the empty path.
    check(unsafe { arch::syscall5(nr::STATX, fd, empty, AT_EMPTY_PATH, STATX_SIZE, buf) })?;
    Ok(statx[5])
}

/// `HUGETLBFS_MAGIC`, the `f_type` statfs reports for hugetlbfs (`include/uapi/linux/magic.h`).
const HUGETLBFS_MAGIC: usize = 0x9584_58f6;

/// The huge page size of the file `fd` refers to if it lives on hugetlbfs (a
/// `MFD_HUGETLB` memfd, a file under `/dev/hugepages`), whose mappings the kernel rounds up
/// to whole huge pages; `None` for any other file.
pub(crate) fn huge_page_size(fd: BorrowedFd<'_>) -> Result<Option<usize>> {
    let mut statfs: arch::Statfs = [0; 15];
    // SAFETY: the kernel writes one `struct statfs`, which `statfs` is sized for.
    check(unsafe { arch::fstatfs(fd.as_raw_fd() as usize, &mut statfs) })?;
    // f_type is a long holding an unsigned 32-bit magic; compare the low 32 bits.
    let on_hugetlbfs = statfs[arch::STATFS_TYPE] & 0xffff_ffff == HUGETLBFS_MAGIC;
    Ok(on_hugetlbfs.then_some(statfs[arch::STATFS_BSIZE]))
}

/// A byte range of a file for [`cachestat`] (`struct cachestat_range`); `len` 0 means to
/// the end of the file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct CacheStatRange {
    /// First byte.
    pub off: u64,
    /// Length in bytes; 0 for "to the end".
    pub len: u64,
}

/// Page-cache state of a file range (`struct cachestat`), in pages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct CacheStat {
    /// Pages in the page cache.
    pub nr_cache: u64,
    /// Dirty pages.
    pub nr_dirty: u64,
    /// Pages under write-back.
    pub nr_writeback: u64,
    /// Pages evicted from the cache.
    pub nr_evicted: u64,
    /// Evicted pages that would still be cached had there been room ("refaults").
    pub nr_recently_evicted: u64,
}

/// Reports the page-cache state of a range of a file (`cachestat(2)`, Linux 6.5).
#[inline]
pub fn cachestat(fd: BorrowedFd<'_>, range: &CacheStatRange) -> Result<CacheStat> {
    let mut stat = CacheStat::default();
    let (fd, range_ptr, stat_ptr) = (
        fd.as_raw_fd() as usize,
        range as *const _ as usize,
        &mut stat as *mut _ as usize,
    );
    // The flags argument is reserved and must be 0.
    // SAFETY: the kernel reads one CacheStatRange and writes one CacheStat, both ours.
    check(unsafe { arch::syscall4(nr::CACHESTAT, fd, range_ptr, stat_ptr, 0) })?;
    Ok(stat)
}
