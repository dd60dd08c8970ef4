//! Descriptor calls the memory calls depend on: open, read, close, truncate, size, unlink,
//! the huge page size of hugetlbfs files, and page-cache statistics.

use core::ffi::CStr;

use super::{check, check_fd, check_unit};
use crate::arch::{self, nr};
use crate::fd::{AsRawFd, BorrowedFd, IntoRawFd, OwnedFd, RawFd};
use crate::{FallocateFlags, Mode, OFlags, Result};

/// `AT_FDCWD`: resolve relative paths from the working directory.
const AT_FDCWD: usize = -100isize as usize;
/// `AT_EMPTY_PATH`: operate on the descriptor itself.
const AT_EMPTY_PATH: usize = 0x1000;
/// `STATX_SIZE`: ask statx for `stx_size`.
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

/// Allocates, punches or moves a range of a file (`fallocate(2)`). With no flags: gives
/// every page of `[offset, offset + len)` its blocks now (growing the file to the range's
/// end if it is shorter), so that no later write or fault there needs space the filesystem
/// may no longer have; `ENOSPC` if it lacks them, and then (on tmpfs) nothing is allocated.
/// `EINVAL` for a length of 0, `EOPNOTSUPP` where the filesystem cannot, `EPERM` against
/// seals (growing past `Seals::GROW`, punching a `Seals::WRITE` file).
///
/// Punching a hole in a file that is mapped is, to its mappings, writing zeros; collapsing
/// or inserting a range moves bytes under them: neither is undefined behaviour, since the
/// safe layer lends slices only of sealed files (which refuse both), and the blocks a
/// punch frees may be missing at the next touch (`SIGBUS`, as after a truncation).
#[inline]
pub fn fallocate(fd: BorrowedFd<'_>, mode: FallocateFlags, offset: u64, len: u64) -> Result<()> {
    // SAFETY: fallocate takes no pointer; the effect on mappings is described above.
    check_unit(unsafe {
        arch::fallocate(fd.as_raw_fd() as usize, mode.bits() as usize, offset, len)
    })
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

/// Opens `path` relative to the working directory (`openat(AT_FDCWD, ...)`), with
/// `O_LARGEFILE` always: 64-bit kernels imply it, and on 32-bit ABIs a descriptor without it
/// cannot open, read or write a file past 2 GiB (`EOVERFLOW`, `EFBIG`), as glibc's `open`
/// always asks there too.
pub(crate) fn open(path: &CStr, flags: OFlags, mode: Mode) -> Result<OwnedFd> {
    let (path, flags, mode) = (
        path.as_ptr() as usize,
        flags.union(OFlags::LARGEFILE).bits() as usize,
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

/// The size in bytes of the file `fd` refers to (`statx(fd, "", AT_EMPTY_PATH,
/// STATX_SIZE)`, Linux 4.11; `statx`'s layout is the same on every architecture, unlike
/// `struct stat`'s). For a memfd or a file: its length; [`MapOptions::map_file`] maps that
/// much by default. See also [`file_len`](crate::file_len) for any `AsFd`.
///
/// [`MapOptions::map_file`]: crate::MapOptions::map_file
///
/// ```
/// let memfd = mman::Memfd::new(c"sized")?;
/// memfd.set_len(12345)?;
/// assert_eq!(mman::sys::file_size(mman::fd::AsFd::as_fd(&memfd)), Ok(12345));
/// # Ok::<(), mman::Errno>(())
/// ```
#[inline]
pub fn file_size(fd: BorrowedFd<'_>) -> Result<u64> {
    statx(fd, STATX_SIZE).map(|statx| statx[STX_SIZE_WORD])
}

/// `struct statx` for `fd`, the fields in `mask` filled: 256 bytes as native words.
/// (`statx`'s layout is the same on every architecture, unlike `struct stat`'s.)
fn statx(fd: BorrowedFd<'_>, mask: usize) -> Result<[u64; 32]> {
    let mut statx = [0u64; 32];
    let (fd, empty) = (fd.as_raw_fd() as usize, c"".as_ptr() as usize);
    let buf = statx.as_mut_ptr() as usize;
    // SAFETY: the kernel writes at most 256 bytes into `statx` and reads the empty path.
    check(unsafe { arch::syscall5(nr::STATX, fd, empty, AT_EMPTY_PATH, mask, buf) })?;
    Ok(statx)
}

/// `stx_size`: the u64 at byte offset 40 of `struct statx`.
const STX_SIZE_WORD: usize = 5;
/// `stx_mode`: the u16 at byte offset 28, in the word at byte 24.
const STX_MODE_WORD: usize = 3;
/// `stx_nlink`: the u32 at byte offset 16, the first half of the word there.
const STX_NLINK_WORD: usize = 2;
/// `STATX_NLINK`: ask statx for `stx_nlink`.
const STATX_NLINK: usize = 0x4;
/// `stx_attributes` and `stx_attributes_mask` (which of them the filesystem reports): the
/// u64s at byte offsets 8 and 56.
const STX_ATTRIBUTES_WORD: usize = 1;
const STX_ATTRIBUTES_MASK_WORD: usize = 7;
/// `STATX_ATTR_MOUNT_ROOT` (Linux 5.8): the file is the root of a mount (a bind mount of a
/// file, for one).
const STATX_ATTR_MOUNT_ROOT: u64 = 0x2000;

/// The `f_type`s statfs reports for filesystems whose regular files are mapped from the
/// page cache, plainly (`include/uapi/linux/magic.h`): their mappings are ordinary, copied
/// into a forked child like anonymous memory. A driver's or a special filesystem's `mmap`
/// may set `VM_DONTCOPY`, `VM_IO` and other flags the safe layer cannot account for (a
/// forked child's copy of the `Mapping` would name a range the child does not have).
pub(crate) const PLAIN_FILESYSTEMS: [u32; 23] = [
    TMPFS_MAGIC, // tmpfs, shmem (memfds, /dev/shm)
    HUGETLBFS_MAGIC,
    0x8584_58f6, // RAMFS_MAGIC
    0xef53,      // EXT4_SUPER_MAGIC (ext2, ext3, ext4)
    0x5846_5342, // XFS_SUPER_MAGIC
    0x9123_683e, // BTRFS_SUPER_MAGIC
    0xf2f5_2010, // F2FS_SUPER_MAGIC
    0xca45_1a4e, // BCACHEFS_SUPER_MAGIC
    0x3434,      // NILFS_SUPER_MAGIC
    0x5265_4973, // REISERFS_SUPER_MAGIC
    0x7461_636f, // OCFS2_SUPER_MAGIC
    0x794c_7630, // OVERLAYFS_SUPER_MAGIC
    0x6573_5546, // FUSE_SUPER_MAGIC
    0x6969,      // NFS_SUPER_MAGIC
    0xff53_4d42, // CIFS_SUPER_MAGIC
    0xfe53_4d42, // SMB2_SUPER_MAGIC
    0x00c3_6400, // CEPH_SUPER_MAGIC
    0x0102_1997, // V9FS_MAGIC
    0x7371_7368, // SQUASHFS_MAGIC
    0xe0f5_e1e2, // EROFS_SUPER_MAGIC_V1
    0x9660,      // ISOFS_SUPER_MAGIC
    0x4d44,      // MSDOS_SUPER_MAGIC (vfat)
    0x2011_bab0, // EXFAT_SUPER_MAGIC
];

/// The plain filesystems that stack on others: `OVERLAYFS_SUPER_MAGIC` and
/// `FUSE_SUPER_MAGIC` (FUSE's passthrough, Linux 6.9, maps the backing file).
const STACKING_FILESYSTEMS: [u32; 2] = [0x794c_7630, 0x6573_5546];

/// `TMPFS_MAGIC`, the `f_type` statfs reports for tmpfs and shmem (memfds).
const TMPFS_MAGIC: u32 = 0x0102_1994;

/// `HUGETLBFS_MAGIC`, the `f_type` statfs reports for hugetlbfs.
pub(crate) const HUGETLBFS_MAGIC: u32 = 0x9584_58f6;

/// `PROC_SUPER_MAGIC`, the `f_type` statfs reports for procfs.
const PROC_SUPER_MAGIC: u32 = 0x9fa0;

/// `STATX_TYPE`: ask statx for the file type bits of `stx_mode`.
const STATX_TYPE: usize = 0x1;
/// `S_IFMT` and `S_IFREG`: the file type bits, and those of a regular file.
const S_IFMT: u16 = 0o170_000;
const S_IFREG: u16 = 0o100_000;

/// What a descriptor's file is, as far as mapping it goes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FileBacking {
    /// The filesystem's `f_type` (its low 32 bits: a long holding an unsigned magic).
    fs_type: u32,
    /// The filesystem's `f_bsize`: the huge page size on hugetlbfs.
    block_size: usize,
    /// Whether it is a regular file (not a device, pipe, socket or directory).
    regular: bool,
    /// Its size in bytes.
    pub(crate) size: u64,
    /// Whether any path names it (`stx_nlink` is not 0).
    linked: bool,
    /// Whether it is known not to be the root of a mount (`STATX_ATTR_MOUNT_ROOT` reported,
    /// and clear).
    not_a_mount_root: bool,
}

impl FileBacking {
    /// The huge page size if the file lives on hugetlbfs (a `MFD_HUGETLB` memfd, a file
    /// under `/dev/hugepages`), whose mappings the kernel rounds up to whole huge pages.
    pub(crate) fn huge_page_size(&self) -> Option<usize> {
        (self.fs_type == HUGETLBFS_MAGIC).then_some(self.block_size)
    }

    /// Whether what was opened at a path of `/proc` is what the kernel (or an emulator
    /// standing in for it) serves there, not a file anyone made: a procfs file, or a tmpfs
    /// file that no path names and that is not mounted there (qemu-user serves
    /// `/proc/self/auxv` from a memfd of its own), whereas a file made at that path has a
    /// link there, and one unlinked after it was bind-mounted there is a mount's root.
    pub(crate) fn is_served_by_the_kernel(&self) -> bool {
        self.fs_type == PROC_SUPER_MAGIC
            || (self.fs_type == TMPFS_MAGIC && !self.linked && self.not_a_mount_root)
    }

    /// Whether its pages are memory (tmpfs: memfds, `/dev/shm`), not a disk's cache.
    pub(crate) fn is_tmpfs(&self) -> bool {
        self.fs_type == TMPFS_MAGIC
    }

    /// Whether mapping it gives an ordinary mapping: a regular file on one of
    /// [`PLAIN_FILESYSTEMS`]. For a stacking one's (see [`is_stacked`](Self::is_stacked))
    /// only if the mapping made says so too (`crate::stacked`).
    pub(crate) fn is_plain(&self) -> bool {
        self.regular && PLAIN_FILESYSTEMS.contains(&self.fs_type)
    }

    /// Whether its filesystem stacks on others (overlayfs, FUSE), whose `mmap` hands the
    /// mapping to another filesystem's file, which `fstatfs` does not name.
    pub(crate) fn is_stacked(&self) -> bool {
        STACKING_FILESYSTEMS.contains(&self.fs_type)
    }

    /// Whether it is plain and not on a stacking filesystem: a file whose mapping is known
    /// to be ordinary before it is made.
    pub(crate) fn is_plain_unstacked(&self) -> bool {
        self.is_plain() && !self.is_stacked()
    }
}

/// The filesystem, type and size of the file `fd` refers to (`fstatfs`, `statx`).
pub(crate) fn file_backing(fd: BorrowedFd<'_>) -> Result<FileBacking> {
    let mut statfs = arch::Statfs::default();
    // SAFETY: the kernel writes one `struct statfs`, which `statfs` is sized for.
    check(unsafe { arch::fstatfs(fd.as_raw_fd() as usize, &mut statfs) })?;
    let statx = statx(fd, STATX_TYPE | STATX_SIZE | STATX_NLINK)?;
    let word = statx[STX_MODE_WORD].to_ne_bytes();
    let mode = u16::from_ne_bytes([word[4], word[5]]);
    let word = statx[STX_NLINK_WORD].to_ne_bytes();
    let links = u32::from_ne_bytes([word[0], word[1], word[2], word[3]]);
    Ok(FileBacking {
        fs_type: arch::statfs_type(&statfs),
        block_size: arch::statfs_block_size(&statfs),
        regular: mode & S_IFMT == S_IFREG,
        size: statx[STX_SIZE_WORD],
        linked: links != 0,
        not_a_mount_root: statx[STX_ATTRIBUTES_MASK_WORD] & STATX_ATTR_MOUNT_ROOT != 0
            && statx[STX_ATTRIBUTES_WORD] & STATX_ATTR_MOUNT_ROOT == 0,
    })
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

#[cfg(test)]
mod tests {
    use super::{file_backing, open, unlink, PLAIN_FILESYSTEMS};
    use crate::fd::AsFd;
    use crate::{Errno, MemfdFlags, Mode, OFlags};
    use linux_raw_sys::general as uapi;

    #[test]
    fn relative_paths_start_at_the_working_directory() {
        // `open` and `unlink` resolve relative paths from the working directory (AT_FDCWD,
        // -100); the crate's own callers pass absolute paths only, for which the kernel
        // ignores the directory descriptor. Kills AT_FDCWD's `-` deleted (descriptor 100,
        // not open: EBADF).
        let flags = OFlags::RDONLY | OFlags::CLOEXEC;
        let dir = open(c".", flags, Mode::empty());
        assert!(dir.is_ok(), "{dir:?}");
        // EROFS where the working directory is on a read-only mount: unlinkat asks for
        // write access to the mount before it looks the name up.
        let missing = unlink(c"mman-no-such-name");
        assert!(
            matches!(missing, Err(Errno::ENOENT | Errno::EROFS)),
            "{missing:?}"
        );
    }

    #[test]
    fn only_the_kernels_own_files_are_served_by_it() {
        // procfs's files are the kernel's; so is a tmpfs file no path names that is not a
        // mount's root, as the memfd qemu-user serves /proc/self/auxv from (a memfd here).
        // A file with a name is anyone's. Kills is_served_by_the_kernel's tmpfs `==` made
        // `!=`, and file_backing's `attributes_mask & MOUNT_ROOT != 0` made `== 0` and
        // `attributes & MOUNT_ROOT == 0` made `|` (a memfd then taken for a mount root).
        let served = |fd: &crate::fd::OwnedFd| {
            let backing = file_backing(fd.as_fd());
            backing.map(|b| b.is_served_by_the_kernel())
        };
        let flags = OFlags::RDONLY | OFlags::CLOEXEC;
        let auxv = open(c"/proc/self/auxv", flags, Mode::empty()).unwrap();
        assert_eq!(served(&auxv), Ok(true), "procfs");
        let memfd = crate::sys::memfd_create(c"served", MemfdFlags::CLOEXEC).unwrap();
        assert_eq!(served(&memfd), Ok(true), "a memfd");
        // The test program itself, wherever it was started from.
        let named = open(c"/proc/self/exe", flags, Mode::empty()).unwrap();
        assert_eq!(served(&named), Ok(false), "a file with a name");
    }

    /// `statx`'s words as `file_size` and `file_backing` read them.
    #[test]
    fn statx_fields_lie_where_the_uapi_headers_say() {
        use core::mem::{offset_of, size_of};
        assert_eq!(size_of::<uapi::statx>(), 32 * 8);
        assert_eq!(offset_of!(uapi::statx, stx_size), super::STX_SIZE_WORD * 8);
        assert_eq!(
            offset_of!(uapi::statx, stx_mode),
            super::STX_MODE_WORD * 8 + 4
        );
        assert_eq!(
            offset_of!(uapi::statx, stx_nlink),
            super::STX_NLINK_WORD * 8
        );
    }

    #[test]
    fn plain_filesystems_are_the_kernels_magic_numbers() {
        let headers = [
            uapi::TMPFS_MAGIC,
            uapi::HUGETLBFS_MAGIC,
            uapi::RAMFS_MAGIC,
            uapi::EXT4_SUPER_MAGIC,
            uapi::XFS_SUPER_MAGIC,
            uapi::BTRFS_SUPER_MAGIC,
            uapi::F2FS_SUPER_MAGIC,
            uapi::BCACHEFS_SUPER_MAGIC,
            uapi::NILFS_SUPER_MAGIC,
            uapi::REISERFS_SUPER_MAGIC,
            uapi::OCFS2_SUPER_MAGIC,
            uapi::OVERLAYFS_SUPER_MAGIC,
            uapi::FUSE_SUPER_MAGIC,
            uapi::NFS_SUPER_MAGIC,
            uapi::CIFS_SUPER_MAGIC,
            uapi::SMB2_SUPER_MAGIC,
            uapi::CEPH_SUPER_MAGIC,
            uapi::V9FS_MAGIC,
            uapi::SQUASHFS_MAGIC,
            uapi::EROFS_SUPER_MAGIC_V1,
            uapi::ISOFS_SUPER_MAGIC,
            uapi::MSDOS_SUPER_MAGIC,
            uapi::EXFAT_SUPER_MAGIC,
        ];
        assert_eq!(PLAIN_FILESYSTEMS, headers);
    }
}
