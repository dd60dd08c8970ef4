//! Flags of memfd_create, file seals, fallocate, open (for shm_open) and permission modes.

use super::{huge_size_bits, HUGE_MASK, HUGE_SHIFT};
use crate::arch;

bitflags::bitflags! {
    /// `memfd_create` flags (`MFD_*`).
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct MemfdFlags: u32 {
        /// Close the descriptor on `execve`.
        const CLOEXEC = 0x1;
        /// Allow seals to be added (without it the file starts sealed with `Seals::SEAL`).
        const ALLOW_SEALING = 0x2;
        /// Back with huge pages.
        const HUGETLB = 0x4;
        /// Not executable, and sealed so (Linux 6.3; implies `ALLOW_SEALING`).
        const NOEXEC_SEAL = 0x8;
        /// Executable (Linux 6.3).
        const EXEC = 0x10;
        // The huge page size field.
        const _ = HUGE_MASK << HUGE_SHIFT;
    }

    /// File seals (`F_SEAL_*`), added with `fcntl(F_ADD_SEALS)`.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct Seals: u32 {
        /// No more seals may be added.
        const SEAL = 0x1;
        /// The file may not shrink.
        const SHRINK = 0x2;
        /// The file may not grow.
        const GROW = 0x4;
        /// The contents may not change (fails with `EBUSY` while writable shared mappings exist).
        const WRITE = 0x8;
        /// No new writable mappings or writes; existing writable mappings keep working (Linux 5.1).
        const FUTURE_WRITE = 0x10;
        /// The execute bits may not change (Linux 6.3).
        const EXEC = 0x20;
    }

    /// `fallocate` modes (`FALLOC_FL_*`); empty allocates blocks and may grow the file.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct FallocateFlags: u32 {
        /// Do not change the file's size (allocate past its end, or punch within it).
        const KEEP_SIZE = 0x1;
        /// Free the range's blocks (reads then give zeros); needs `KEEP_SIZE`.
        const PUNCH_HOLE = 0x2;
        /// Remove the range, moving what follows down (filesystem-block aligned).
        const COLLAPSE_RANGE = 0x8;
        /// Make the range read as zeros, its blocks allocated.
        const ZERO_RANGE = 0x10;
        /// Insert a hole at the offset, moving what follows up.
        const INSERT_RANGE = 0x20;
        /// Unshare blocks shared with other files (copy-on-write filesystems).
        const UNSHARE_RANGE = 0x40;
    }

    /// `open` flags (`O_*`), for `shm_open`. Several values differ between architectures.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct OFlags: u32 {
        /// Read only: the absence of `WRONLY` and `RDWR`.
        const RDONLY = 0;
        /// Write only.
        const WRONLY = 0o1;
        /// Read and write.
        const RDWR = 0o2;
        /// Create if missing.
        const CREAT = arch::O_CREAT;
        /// With `CREAT`: fail with `EEXIST` if it exists.
        const EXCL = arch::O_EXCL;
        /// Do not make a terminal the controlling one.
        const NOCTTY = arch::O_NOCTTY;
        /// Truncate to length 0.
        const TRUNC = arch::O_TRUNC;
        /// Writes append.
        const APPEND = arch::O_APPEND;
        /// Non-blocking I/O.
        const NONBLOCK = arch::O_NONBLOCK;
        /// Writes complete with data integrity (`O_DSYNC`).
        const DSYNC = arch::O_DSYNC;
        /// Writes complete with file integrity (`__O_SYNC | O_DSYNC`).
        const SYNC = arch::O_SYNC;
        /// Bypass the page cache.
        const DIRECT = arch::O_DIRECT;
        /// Allow files over 2 GiB (implied for 64-bit processes).
        const LARGEFILE = arch::O_LARGEFILE;
        /// Fail unless the path is a directory.
        const DIRECTORY = arch::O_DIRECTORY;
        /// Fail with `ELOOP` if the last component is a symbolic link.
        const NOFOLLOW = arch::O_NOFOLLOW;
        /// Close the descriptor on `execve`.
        const CLOEXEC = 0o2000000;
    }

    /// File permission bits (`S_I*`), as `chmod` takes them.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct Mode: u32 {
        /// Set user id on execution.
        const SUID = 0o4000;
        /// Set group id on execution.
        const SGID = 0o2000;
        /// Sticky bit.
        const SVTX = 0o1000;
        /// Owner may read.
        const RUSR = 0o400;
        /// Owner may write.
        const WUSR = 0o200;
        /// Owner may execute.
        const XUSR = 0o100;
        /// Group may read.
        const RGRP = 0o040;
        /// Group may write.
        const WGRP = 0o020;
        /// Group may execute.
        const XGRP = 0o010;
        /// Others may read.
        const ROTH = 0o004;
        /// Others may write.
        const WOTH = 0o002;
        /// Others may execute.
        const XOTH = 0o001;
    }
}

impl MemfdFlags {
    /// `MFD_HUGETLB` with an explicit page size of `2^log2` bytes (`MFD_HUGE_*`).
    pub const fn huge_page_size_log2(log2: u32) -> MemfdFlags {
        MemfdFlags::from_bits_retain(MemfdFlags::HUGETLB.bits() | huge_size_bits(log2))
    }
}
