//! Flags of mmap, mprotect, msync, mremap and the mlock family.

use super::{huge_size_bits, HUGE_MASK, HUGE_SHIFT};
use crate::arch;

bitflags::bitflags! {
    /// Memory protection (`PROT_*`). `Prot::empty()` is `PROT_NONE`.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct Prot: u32 {
        /// Pages may be read.
        const READ = 0x1;
        /// Pages may be written.
        const WRITE = 0x2;
        /// Pages may be executed.
        const EXEC = 0x4;
        /// Pages may be used for atomic operations (no effect on Linux; accepted for POSIX).
        const SEM = arch::PROT_SEM;
        /// `mprotect` only: extend the change down to the start of a grows-down mapping.
        const GROWSDOWN = 0x0100_0000;
        /// `mprotect` only: extend the change up to the end of a grows-up mapping.
        const GROWSUP = 0x0200_0000;
        /// arm64: Branch Target Identification is enforced on these pages.
        #[cfg(target_arch = "aarch64")]
        const BTI = arch::PROT_BTI;
        /// arm64: Memory Tagging Extension tags are checked on these pages.
        #[cfg(target_arch = "aarch64")]
        const MTE = arch::PROT_MTE;
    }

    /// Mapping type and options (`MAP_*`).
    ///
    /// The type is one of `SHARED`, `PRIVATE`, `SHARED_VALIDATE` or `DROPPABLE`; the huge
    /// page size lives in bits 26..32 (see [`MapFlags::huge_page_size_log2`]).
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct MapFlags: u32 {
        /// Changes are visible to other mappings of the same object and carried to the file.
        const SHARED = 0x01;
        /// Copy-on-write: changes stay in this mapping.
        const PRIVATE = 0x02;
        /// `SHARED`, but unknown flags fail with `EOPNOTSUPP` instead of being ignored.
        const SHARED_VALIDATE = 0x03;
        /// Anonymous memory the kernel may drop under memory pressure (Linux 6.11).
        const DROPPABLE = 0x08;
        /// Place the mapping exactly at `addr`, replacing whatever was there.
        const FIXED = 0x10;
        /// Not backed by a file; zero-filled.
        const ANONYMOUS = arch::MAP_ANONYMOUS;
        /// First 2 GiB of the address space (x86 only).
        #[cfg(target_arch = "x86_64")]
        const _32BIT = arch::MAP_32BIT;
        /// Used for stacks: the mapping grows down when the page below is touched.
        const GROWSDOWN = arch::MAP_GROWSDOWN;
        /// Lock the pages, as `mlock` would (failures are not reported).
        const LOCKED = arch::MAP_LOCKED;
        /// Do not reserve swap space.
        const NORESERVE = arch::MAP_NORESERVE;
        /// Prefault the pages.
        const POPULATE = arch::MAP_POPULATE;
        /// With `POPULATE`: do not block on I/O (ignored since Linux 2.6.23).
        const NONBLOCK = arch::MAP_NONBLOCK;
        /// The mapping is a thread stack.
        const STACK = arch::MAP_STACK;
        /// Back with huge pages (`hugetlbfs`).
        const HUGETLB = arch::MAP_HUGETLB;
        /// Synchronous page faults for DAX files (needs `SHARED_VALIDATE`). mips has none
        /// (its `MAP_HUGETLB` takes the bit).
        #[cfg(not(target_arch = "mips64"))]
        const SYNC = 0x8_0000;
        /// Like `FIXED`, but fail with `EEXIST` instead of replacing (Linux 4.17; older
        /// kernels treat `addr` as a hint, so check the returned address).
        const FIXED_NOREPLACE = 0x10_0000;
        /// Do not clear anonymous pages (only honoured on NOMMU kernels built for it; mips
        /// has none).
        #[cfg(not(target_arch = "mips64"))]
        const UNINITIALIZED = 0x400_0000;
        // The huge-page-size field: bits the kernel accepts, kept by `from_bits`.
        const _ = HUGE_MASK << HUGE_SHIFT;
    }

    /// `msync` flags (`MS_*`).
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct MsyncFlags: u32 {
        /// Schedule the write-back and return.
        const ASYNC = 1;
        /// Invalidate other mappings of the same file so they see the new contents.
        const INVALIDATE = 2;
        /// Write back and wait for it to finish.
        const SYNC = 4;
    }

    /// `mremap` flags (`MREMAP_*`).
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct MremapFlags: u32 {
        /// The kernel may move the mapping if it cannot grow in place.
        const MAYMOVE = 1;
        /// Move to `new_addr`, replacing whatever is there (needs `MAYMOVE`).
        const FIXED = 2;
        /// Leave the old range mapped (empty) after moving (Linux 5.7; needs `MAYMOVE`).
        const DONTUNMAP = 4;
    }

    /// `mlock2` flags (`MLOCK_*`).
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct MlockFlags: u32 {
        /// Lock pages as they are faulted in rather than all at once (Linux 4.4).
        const ONFAULT = 1;
    }

    /// `mlockall` flags (`MCL_*`).
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct MlockAllFlags: u32 {
        /// Lock every page mapped now.
        const CURRENT = arch::MCL_CURRENT;
        /// Lock every page mapped from now on.
        const FUTURE = arch::MCL_FUTURE;
        /// With `CURRENT` or `FUTURE`: lock pages as they are faulted in (Linux 4.4).
        const ONFAULT = arch::MCL_ONFAULT;
    }
}

impl MapFlags {
    /// The flags that limit where the kernel places a mapping (x86's `MAP_32BIT`): a region
    /// that a mapping moves into must be placed under the same limits.
    #[cfg(target_arch = "x86_64")]
    pub(crate) const PLACEMENT_LIMITS: MapFlags = MapFlags::_32BIT;
    /// The flags that limit where the kernel places a mapping (none on this architecture).
    #[cfg(not(target_arch = "x86_64"))]
    pub(crate) const PLACEMENT_LIMITS: MapFlags = MapFlags::empty();

    /// `MAP_HUGETLB` with an explicit page size of `2^log2` bytes (`MAP_HUGE_*`).
    ///
    /// `MapFlags::huge_page_size_log2(21)` is `MAP_HUGETLB | MAP_HUGE_2MB`.
    pub const fn huge_page_size_log2(log2: u32) -> MapFlags {
        MapFlags::from_bits_retain(MapFlags::HUGETLB.bits() | huge_size_bits(log2))
    }

    /// The huge-page-size field: log2 of the size asked for, 0 for the default size.
    pub(crate) const fn huge_size_log2(self) -> u32 {
        (self.bits() >> HUGE_SHIFT) & HUGE_MASK
    }

    /// `MAP_HUGE_64KB` (the size field only; combine with `HUGETLB`).
    pub const HUGE_64KB: MapFlags = MapFlags::from_bits_retain(huge_size_bits(16));
    /// `MAP_HUGE_512KB`.
    pub const HUGE_512KB: MapFlags = MapFlags::from_bits_retain(huge_size_bits(19));
    /// `MAP_HUGE_1MB`.
    pub const HUGE_1MB: MapFlags = MapFlags::from_bits_retain(huge_size_bits(20));
    /// `MAP_HUGE_2MB`.
    pub const HUGE_2MB: MapFlags = MapFlags::from_bits_retain(huge_size_bits(21));
    /// `MAP_HUGE_8MB`.
    pub const HUGE_8MB: MapFlags = MapFlags::from_bits_retain(huge_size_bits(23));
    /// `MAP_HUGE_16MB`.
    pub const HUGE_16MB: MapFlags = MapFlags::from_bits_retain(huge_size_bits(24));
    /// `MAP_HUGE_32MB`.
    pub const HUGE_32MB: MapFlags = MapFlags::from_bits_retain(huge_size_bits(25));
    /// `MAP_HUGE_256MB`.
    pub const HUGE_256MB: MapFlags = MapFlags::from_bits_retain(huge_size_bits(28));
    /// `MAP_HUGE_512MB`.
    pub const HUGE_512MB: MapFlags = MapFlags::from_bits_retain(huge_size_bits(29));
    /// `MAP_HUGE_1GB`.
    pub const HUGE_1GB: MapFlags = MapFlags::from_bits_retain(huge_size_bits(30));
    /// `MAP_HUGE_2GB`.
    pub const HUGE_2GB: MapFlags = MapFlags::from_bits_retain(huge_size_bits(31));
    /// `MAP_HUGE_16GB` (bit 31 set: zero-extended to the register, never sign-extended).
    pub const HUGE_16GB: MapFlags = MapFlags::from_bits_retain(huge_size_bits(34));
}
