//! Flags of the System V shared memory calls (`include/uapi/linux/ipc.h`, `shm.h`).

use super::{huge_size_bits, HUGE_MASK, HUGE_SHIFT};
use crate::Mode;

bitflags::bitflags! {
    /// `shmget` flags, with the segment's permission bits in the low nine bits.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct ShmGetFlags: u32 {
        /// Create the segment if the key has none (`IPC_CREAT`).
        const CREAT = 0o1000;
        /// With `CREAT`: fail with `EEXIST` if it exists (`IPC_EXCL`).
        const EXCL = 0o2000;
        /// Back with huge pages (`SHM_HUGETLB`).
        const HUGETLB = 0o4000;
        /// Do not reserve swap space (`SHM_NORESERVE`).
        const NORESERVE = 0o10000;
        /// Owner may read.
        const RUSR = 0o400;
        /// Owner may write.
        const WUSR = 0o200;
        /// Group may read.
        const RGRP = 0o040;
        /// Group may write.
        const WGRP = 0o020;
        /// Others may read.
        const ROTH = 0o004;
        /// Others may write.
        const WOTH = 0o002;
        // Execute bits are accepted and ignored by the kernel; the huge page size field.
        const _ = 0o111 | (HUGE_MASK << HUGE_SHIFT);
    }

    /// `shmat` flags.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct ShmAtFlags: u32 {
        /// Attach read-only (`SHM_RDONLY`).
        const RDONLY = 0o10000;
        /// Round a non-null address down to `SHMLBA` (`SHM_RND`).
        const RND = 0o20000;
        /// Replace any mapping at the address (`SHM_REMAP`).
        const REMAP = 0o40000;
        /// Allow execution (`SHM_EXEC`).
        const EXEC = 0o100000;
    }
}

impl ShmGetFlags {
    /// The permission bits of `mode` (the low nine bits) as `shmget` flags.
    pub const fn from_mode(mode: Mode) -> ShmGetFlags {
        ShmGetFlags::from_bits_retain(mode.bits() & 0o777)
    }

    /// `SHM_HUGETLB` with an explicit page size of `2^log2` bytes (`SHM_HUGE_*`).
    pub const fn huge_page_size_log2(log2: u32) -> ShmGetFlags {
        ShmGetFlags::from_bits_retain(ShmGetFlags::HUGETLB.bits() | huge_size_bits(log2))
    }
}
